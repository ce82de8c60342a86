"""Jobs services: seekers (issue 14 §1; docs/jobs.md "Seekers").

Three ways in, one ``register``:

* **online** — a signed-in person without a seeker profile creates their own (``actor`` is that
  account; it becomes ``seeker.user``); one profile per account;
* **desk** — the employment service (``jobs`` at the street) registers a person at the service desk,
  optionally a resident of the place tree (``person``: the resident's ID number is taken from the
  roster, and shown masked);
* **kiosk** — ``services.kiosk`` registers a person who proved their ID number and phone by SMS code
  (``actor`` None, ``source="kiosk"``: the only write without an account).

One seeker per ID number (the unique constraint on its keyed hash; a second registration is a
409 naming the way to the existing profile), one per account. Every value is checked here and a
bad one is a bilingual 400 with nothing written. The flags the street counts for its targets
(registered unemployed, hard-to-employ) are official statuses: only the employment service sets
them. Whether employers may find a seeker (``discoverable``) is the seeker's own choice: off until
they switch it on; staff record it only for a seeker without an account, who told them at the desk.

Full ID numbers and phones are read only through ``reveal`` (the employment service, a reason, an
access-log entry), like ``accounts.services.reveal`` for the place tree's people.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from linli.accounts.permissions import authorize, can
from linli.accounts.services import log_access
from linli.core import clock, crypto
from linli.core.errors import LinliError
from linli.core.masking import is_valid_id_number, is_valid_phone, normalise_id_number
from linli.core.types import User
from linli.jobs.models import Seeker, Skill
from linli.jobs.permissions import SERVE, is_seeker
from linli.jobs.queries.employers import in_district
from linli.places.geometry import contains_point
from linli.places.models import Community, Person, Street

#: Bounds of the profile's numbers (pages show them next to the fields).
WAGE_MIN, WAGE_MAX = 500, 200_000  # yuan a month
HOURS_MIN, HOURS_MAX = 1, 84  # a week (7 × 12)
TRAVEL_MIN_M, TRAVEL_MAX_M = 100, 50_000
EXPERIENCE_MAX_YEARS = 70
MAX_SKILLS = 20
#: The youngest a person may be to look for work: 16 (劳动法 §15: 禁止用人单位招用未满十六周岁的未成年人).
MIN_AGE = 16

#: The fields ``update`` accepts; the flags and ``discoverable`` have their own rules.
PROFILE_FIELDS = frozenset(
    {
        "name",
        "street",
        "community",
        "lat",
        "lon",
        "skills",
        "id_number",
        "phone",
        "birth_year",
        "education",
        "experience_years",
        "experience",
        "wage_min",
        "wage_max",
        "hours",
        "travel_m",
        "status",
        "registered_unemployed",
        "hard_to_employ",
        "discoverable",
    }
)
STAFF_ONLY = frozenset({"registered_unemployed", "hard_to_employ"})


# --- checks of single values (pure; the pages show the same words) -----------------------------------


def _name(value: Any) -> str:
    text = " ".join(str(value or "").split())
    if not text or len(text) > 60:
        raise LinliError.one("bad_name", "请填写姓名(不超过 60 字)。", "Give a name (at most 60 characters).")
    return text


def _id_number(value: Any) -> str:
    text = normalise_id_number(str(value or ""))
    if text and not is_valid_id_number(text):
        raise LinliError.one(
            "bad_id_number",
            "身份证号码不正确(18 位,最后一位是校验码)。",
            "The ID number is not valid (18 characters, the last one a check character).",
        )
    return text


def _phone(value: Any) -> str:
    text = "".join(ch for ch in str(value or "") if not ch.isspace() and ch != "-")
    if text and not is_valid_phone(text):
        raise LinliError.one(
            "bad_phone",
            "手机号码不正确(11 位,以 1 开头)。",
            "The mobile number is not valid (11 digits, starting with 1).",
        )
    return text


def _whole(value: Any, lo: int, hi: int, code: str, zh: str, en: str, *, optional: bool = True) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        raise LinliError.one(code, zh, en)
    if isinstance(value, bool):
        raise LinliError.one(code, zh, en)
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise LinliError.one(code, zh, en) from None
    if not lo <= number <= hi:
        raise LinliError.one(code, zh, en)
    return number


def _coordinate(value: Any, lo: float, hi: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or not lo <= number <= hi:
        raise LinliError.one(
            "bad_position", "请在地图上选择住处附近的位置。", "Pick a point near your home on the map."
        )
    return number


def _choice(value: Any, choices: Any, code: str, zh: str, en: str, *, blank: bool = True) -> str:
    text = str(value or "").strip()
    if (blank and text == "") or text in choices.values:
        return text
    raise LinliError.one(code, zh, en)


def _skills(values: Any) -> list[Skill]:
    if values is None:
        values = []
    if isinstance(values, str | bytes):
        values = [values]
    codes: set[str] = set()
    ids: set[int] = set()
    objs: list[Skill] = []
    for v in values:
        if isinstance(v, Skill):
            objs.append(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            ids.add(v)
        else:
            codes.add(str(v).strip())
    wanted = len(codes) + len(ids) + len({o.pk for o in objs})
    if wanted == 0:
        raise LinliError.one("no_skills", "请至少选择一项技能或工种。", "Pick at least one skill or trade.")
    if wanted > MAX_SKILLS:
        raise LinliError.one("too_many_skills", f"最多选择 {MAX_SKILLS} 项技能。", f"Pick at most {MAX_SKILLS} skills.")
    found = list(
        Skill.objects.filter(active=True, category__active=True).filter(pk__in=ids | {o.pk for o in objs})
    ) + list(Skill.objects.filter(active=True, category__active=True, code__in=codes))
    unique = {s.pk: s for s in found}
    if len(unique) != wanted:
        raise LinliError.one(
            "unknown_skill", "所选技能不存在或已停用。", "A skill picked does not exist or is no longer used."
        )
    return list(unique.values())


def _birth_year(value: Any) -> int | None:
    latest = clock.today().year - MIN_AGE
    return _whole(
        value,
        1900,
        latest,
        "bad_birth_year",
        f"出生年份须在 1900–{latest} 之间(未满 {MIN_AGE} 周岁不能登记求职)。",
        f"The birth year must be 1900–{latest} (nobody under {MIN_AGE} may register to look for work).",
    )


def _wages(lo: int | None, hi: int | None) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise LinliError.one(
            "wage_upside_down",
            "期望工资的下限高于上限:请把较小的数填在“从”里。",
            "The wanted wage range is upside down: the “from” figure is above the “up to” figure.",
        )


# --- where a seeker lives -----------------------------------------------------------------------------


def check_home(street: Street, lat: Any, lon: Any) -> tuple[float, float]:
    """The home point, checked: inside the street's boundary when it has one, else inside the
    district (its boundary, or near its centre: ``queries.employers.in_district``)."""
    la, lo = _coordinate(lat, -90, 90), _coordinate(lon, -180, 180)
    in_street = contains_point(street.boundary, la, lo)
    if in_street is False:
        raise LinliError.one(
            "outside_street",
            f"所选位置不在{street.name}辖区内:请选择住处附近的位置,或选择您居住的街道。",
            f"The point is outside {street.name}: pick a point near your home, or the street you live in.",
        )
    if in_street is None and not in_district(street.district, la, lo):
        name = street.district.name
        raise LinliError.one("outside_district", f"所选位置不在{name}内。", f"The point is outside {name}.")
    return la, lo


def _place(street: Any, community: Any) -> tuple[Street, Community | None]:
    if not isinstance(street, Street):
        raise LinliError.one("no_street", "请选择所在街道。", "Choose your street.")
    if community is not None and (not isinstance(community, Community) or community.street_id != street.pk):
        raise LinliError.one(
            "community_not_in_street", "所选社区不属于该街道。", "The community is not in that street."
        )
    return street, community


# --- writes -------------------------------------------------------------------------------------------


def _duplicate_id() -> LinliError:
    return LinliError.one(
        "seeker_exists",
        "这个身份证号码已经登记过求职信息。请用原来的账号登录,或带身份证到街道就业服务窗口办理。",
        "A job seeker with this ID number is already registered. Sign in with that account, or bring "
        "the ID card to the street's employment service desk.",
        409,
    )


def _check_id_free(id_number: str, *, but: int | None = None) -> None:
    if not id_number:
        return
    qs = Seeker.objects.filter(id_number_hash=crypto.lookup_hash(id_number))
    if but is not None:
        qs = qs.exclude(pk=but)
    if qs.exists():
        raise _duplicate_id()


def register(
    actor: User | None,
    *,
    name: str,
    street: Street,
    lat: Any,
    lon: Any,
    skills: Iterable[Any],
    id_number: str = "",
    phone: str = "",
    source: str = "online",
    **profile: Any,
) -> Seeker:
    """A new seeker (see the module's docstring for who may register whom). ``profile``: community,
    person (desk only), birth_year, education, experience_years, experience, wage_min, wage_max,
    hours, travel_m, status, discoverable, registered_unemployed and hard_to_employ (staff only)."""
    unknown = set(profile) - (PROFILE_FIELDS | {"person"})
    if unknown:
        raise TypeError(f"unknown seeker fields: {sorted(unknown)}")
    source = _choice(
        source, Seeker.Source, "bad_source", "登记渠道不正确。", "Unknown registration channel.", blank=False
    )
    street, community = _place(street, profile.pop("community", None))
    person = profile.pop("person", None)
    staff = False
    if source == Seeker.Source.KIOSK:
        if actor is not None:
            raise LinliError.one("kiosk_only", "自助机登记不使用账号。", "A kiosk registration has no account.", 403)
    elif actor is None or not actor.is_authenticated:
        raise LinliError.one("signin_required", "请先登录。", "Sign in first.", 403)
    elif source == Seeker.Source.ONLINE:
        if Seeker.objects.filter(user_id=actor.pk).exists():
            raise LinliError.one(
                "already_seeker",
                "您已经登记过求职信息,请在“我的求职”里修改。",
                "You are already registered: edit your profile.",
                409,
            )
    else:  # desk or import: the employment service of the street
        authorize(actor, SERVE, community or street)
        staff = True
    if person is not None and (not staff or not isinstance(person, Person) or not can(actor, SERVE, person)):  # type: ignore[arg-type]
        raise LinliError.one("person_not_found", "未找到该居民,或不在您的辖区。", "No such resident in your area.", 404)
    if not staff and (profile.get("registered_unemployed") or profile.get("hard_to_employ")):
        raise LinliError.one(
            "flags_staff_only",
            "“登记失业”和“就业困难人员”由街道就业服务窗口认定登记。",
            "Registered unemployment and hard-to-employ status are recorded by the employment service.",
            403,
        )

    seeker = Seeker(street=street, source=source)
    seeker.name = _name(name)
    seeker.lat, seeker.lon = check_home(street, lat, lon)
    skill_rows = _skills(skills)
    number = _id_number(id_number)
    if person is not None and person.id_number_hash and number and crypto.lookup_hash(number) != person.id_number_hash:
        raise LinliError.one(
            "id_mismatch", "身份证号码与居民档案不一致。", "The ID number differs from the resident's record."
        )
    _apply_profile(seeker, profile, staff=staff, new=True)
    seeker.path = (community or street).path
    if number:
        seeker.set_id_number(number)
    elif person is not None and person.id_number_hash:
        seeker.id_number_enc = person.id_number_enc
        seeker.id_number_hash = person.id_number_hash
        seeker.id_number_masked = person.id_number_masked
    else:
        seeker.set_id_number("")
    seeker.set_phone(_phone(phone))
    seeker.person = person
    if source == Seeker.Source.ONLINE and actor is not None:
        seeker.user_id = actor.pk
    try:
        with transaction.atomic():
            if seeker.id_number_hash and Seeker.objects.filter(id_number_hash=seeker.id_number_hash).exists():
                raise _duplicate_id()
            if seeker.user_id and Seeker.objects.select_for_update().filter(user_id=seeker.user_id).exists():
                raise LinliError.one("already_seeker", "您已经登记过求职信息。", "You are already registered.", 409)
            seeker.save()
            seeker.skills.set(skill_rows)
    except IntegrityError:  # a second registration racing this one
        if seeker.user_id and Seeker.objects.filter(user_id=seeker.user_id).exists():
            raise LinliError.one(
                "already_seeker", "您已经登记过求职信息。", "You are already registered.", 409
            ) from None
        raise _duplicate_id() from None
    return seeker


def _apply_profile(seeker: Seeker, fields: dict[str, Any], *, staff: bool, new: bool) -> None:
    """Check and set the optional profile fields present in ``fields`` (all of them when ``new``)."""
    if "birth_year" in fields:
        seeker.birth_year = _birth_year(fields["birth_year"])
    if "education" in fields:
        seeker.education = _choice(
            fields["education"], Seeker.Education, "bad_education", "学历选项不正确。", "Unknown education level."
        )
    if "experience_years" in fields:
        seeker.experience_years = (
            _whole(
                fields["experience_years"],
                0,
                EXPERIENCE_MAX_YEARS,
                "bad_experience_years",
                f"工作年限须为 0–{EXPERIENCE_MAX_YEARS} 年。",
                f"Years of experience must be 0–{EXPERIENCE_MAX_YEARS}.",
            )
            or 0
        )
    if "experience" in fields:
        text = str(fields["experience"] or "").strip()
        if len(text) > 2000:
            raise LinliError.one(
                "experience_too_long", "工作经历不超过 2000 字。", "Experience: at most 2,000 characters."
            )
        seeker.experience = text
    wage_text = (
        f"期望工资须在 {WAGE_MIN}–{WAGE_MAX} 元/月之间。",
        f"Wanted wages must be {WAGE_MIN}–{WAGE_MAX} yuan a month.",
    )
    if "wage_min" in fields:
        seeker.wage_min = _whole(fields["wage_min"], WAGE_MIN, WAGE_MAX, "bad_wage", *wage_text)
    if "wage_max" in fields:
        seeker.wage_max = _whole(fields["wage_max"], WAGE_MIN, WAGE_MAX, "bad_wage", *wage_text)
    _wages(seeker.wage_min, seeker.wage_max)
    if "hours" in fields:
        seeker.hours = _whole(
            fields["hours"],
            HOURS_MIN,
            HOURS_MAX,
            "bad_hours",
            f"每周工作时间须为 {HOURS_MIN}–{HOURS_MAX} 小时。",
            f"Hours a week must be {HOURS_MIN}–{HOURS_MAX}.",
        )
    if "travel_m" in fields or new:
        travel = _whole(
            fields.get("travel_m", seeker.travel_m),
            TRAVEL_MIN_M,
            TRAVEL_MAX_M,
            "bad_travel",
            "愿意通勤的距离须在 100 米到 50 公里之间。",
            "The distance you will travel must be between 100 m and 50 km.",
            optional=False,
        )
        seeker.travel_m = int(travel or 0)
    if "status" in fields:
        seeker.status = _choice(
            fields["status"], Seeker.Status, "bad_status", "求职状态不正确。", "Unknown status.", blank=False
        )
    if "discoverable" in fields:
        seeker.discoverable = bool(fields["discoverable"])
    for flag in STAFF_ONLY:
        if flag in fields:
            if not staff and bool(fields[flag]) != bool(getattr(seeker, flag)):
                raise LinliError.one(
                    "flags_staff_only",
                    "“登记失业”和“就业困难人员”由街道就业服务窗口认定登记。",
                    "Registered unemployment and hard-to-employ status are recorded by the employment service.",
                    403,
                )
            setattr(seeker, flag, bool(fields[flag]))


def _side(actor: User, seeker: Seeker) -> str:
    """ "seeker" (their own profile) or "staff" (the employment service); 404/403 for anyone else."""
    if is_seeker(actor, seeker):
        return "seeker"
    authorize(actor, SERVE, seeker)
    return "staff"


def update(actor: User, seeker: Seeker, **fields: Any) -> Seeker:
    """Change a seeker's profile: the seeker themselves or the employment service. Only the fields
    given change; each is checked as in ``register``; ``discoverable`` as in ``set_discoverable``."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"unknown seeker fields: {sorted(unknown)}")
    side = _side(actor, seeker)
    with transaction.atomic():
        row = Seeker.objects.select_for_update().get(pk=seeker.pk)
        if "discoverable" in fields:
            _may_set_discoverable(actor, row, side)
        if "name" in fields:
            row.name = _name(fields["name"])
        street = fields.get("street", row.street)
        community = fields.get("community") if "community" in fields or "street" in fields else _community_of(row)
        if "street" in fields or "community" in fields:
            street, community = _place(street, community)
            if side == "staff":
                authorize(actor, SERVE, community or street)
            row.street = street
            row.path = (community or street).path
        if {"lat", "lon", "street"} & set(fields):
            row.lat, row.lon = check_home(street, fields.get("lat", row.lat), fields.get("lon", row.lon))
        skill_rows = _skills(fields["skills"]) if "skills" in fields else None
        if "id_number" in fields:
            number = _id_number(fields["id_number"])
            if side != "staff" and row.id_number_hash and crypto.lookup_hash(number) != row.id_number_hash:
                raise LinliError.one(
                    "id_staff_only",
                    "身份证号码登记后只能由街道就业服务窗口更正。",
                    "Once recorded, the ID number is corrected by the employment service only.",
                    403,
                )
            _check_id_free(number, but=row.pk)
            if not number or crypto.lookup_hash(number) != row.id_number_hash:
                row.set_id_number(number)
        if "phone" in fields:
            row.set_phone(_phone(fields["phone"]))
        _apply_profile(row, fields, staff=side == "staff", new=False)
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise _duplicate_id() from None
        if skill_rows is not None:
            row.skills.set(skill_rows)
    return row


def _community_of(seeker: Seeker) -> Community | None:
    return Community.objects.filter(path=seeker.path).first() if seeker.path != seeker.street.path else None


def _may_set_discoverable(actor: User, seeker: Seeker, side: str) -> None:
    if side == "staff" and seeker.user_id is not None:
        raise LinliError.one(
            "discoverable_own_choice",
            "是否允许企业查找由求职者本人在“我的求职”中决定。",
            "Whether employers may find a seeker is the seeker's own choice, made on their page.",
            403,
        )


def set_discoverable(actor: User, seeker: Seeker, on: bool) -> Seeker:
    """Switch "employers may find me" on or off: the seeker's own choice (staff only record it for a
    seeker without an account, who asked at the desk)."""
    side = _side(actor, seeker)
    with transaction.atomic():
        row = Seeker.objects.select_for_update().get(pk=seeker.pk)
        _may_set_discoverable(actor, row, side)
        row.discoverable = bool(on)
        row.save(update_fields=["discoverable", "updated_at"])
    seeker.discoverable = row.discoverable
    return row


def set_status(actor: User, seeker: Seeker, status: str) -> Seeker:
    """Looking for work / employed / not looking now: the seeker or the employment service."""
    _side(actor, seeker)
    value = _choice(status, Seeker.Status, "bad_status", "求职状态不正确。", "Unknown status.", blank=False)
    with transaction.atomic():
        Seeker.objects.filter(pk=seeker.pk).update(status=value, updated_at=clock.now())
    seeker.status = value
    return seeker


#: Which full value ``reveal`` may read, and how the access log names the read.
REVEALABLE = {"id_number": "reveal_id", "phone": "reveal_phone"}


def reveal(actor: User, seeker: Seeker, field: str, reason: str, ip: str | None = None) -> str:
    """A seeker's full ID number or phone for the employment service (``jobs`` on the seeker), with
    a reason (PIPL Art. 6: purpose), written to the access log with the reason — like
    ``accounts.services.reveal`` for the people of the place tree."""
    if field not in REVEALABLE:
        raise LinliError.one("unknown_field", "只能查看证件号或电话。", "Only id_number or phone can be revealed.")
    reason = " ".join(str(reason or "").split())
    if len(reason) < 2:
        raise LinliError.one(
            "reason_required", "查看完整信息须填写事由。", "A reason is required to see the full value."
        )
    if not getattr(actor, "is_authenticated", False):
        raise LinliError.one("signin_required", "请先登录。", "Sign in first.", 403)
    authorize(actor, SERVE, seeker)
    value = seeker._id_number() if field == "id_number" else seeker._phone()
    with transaction.atomic():
        log_access(actor, REVEALABLE[field], seeker, seeker.path, reason, ip)
    return value
