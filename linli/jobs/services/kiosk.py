"""The kiosk's writes (issue 14 §5, docs/jobs.md "The kiosk"): sign-in with an ID-card number and an
SMS code, registration of a new seeker at the kiosk, and an application with a CV from a few taps.

There is no account at the kiosk: the person proves who they are with the ID number on record and a
one-time code sent to the phone on record, and the kiosk's session then acts for that ``Seeker``
(``actor=None`` in the seekers' and applications' services, ``channel="kiosk"``). So the rules are
here, not in ``authorize()``:

* a code is 6 random digits, stored as a keyed hash with its salt (``SeekerCode``), valid
  ``LINLI_KIOSK_CODE_SECONDS`` (300), used once; a new one at most every
  ``LINLI_KIOSK_RESEND_SECONDS`` (60) and ``LINLI_KIOSK_CODES_PER_HOUR`` (5) an hour per seeker;
* wrong codes are counted per seeker across codes (``SeekerCode.failures``); the
  ``LINLI_KIOSK_MAX_FAILURES``-th (5th) kills every open code and locks the ID's kiosk sign-in for
  ``LINLI_KIOSK_LOCK_MINUTES`` (15) from that moment; a right code, or the end of a lock, starts
  the count again; failures older than a day are forgiven;
* a new seeker's phone is proven the same way before the row is written (the pending registration
  lives in the kiosk's server-side session, encrypted); those codes are limited per phone and per
  ID number in the shared rate-limit store;
* no face, photo or camera anywhere (rules.md §6).
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from linli.core import clock, crypto, ratelimit, sms
from linli.core.errors import LinliError
from linli.core.masking import is_valid_id_number, is_valid_phone, mask_phone, normalise_id_number
from linli.jobs import queries as q
from linli.jobs.models import Application, Seeker, SeekerCode, Skill
from linli.jobs.services import applications, seekers
from linli.places.models import Street

CODE_RE = re.compile(r"^\d{6}$")
ID_CHARS = re.compile(r"^[0-9X]*$")
FORGIVE = timedelta(days=1)  # wrong codes older than this no longer count

# the CV's choices: years of experience (a button each) and hours a week wanted
YEARS: dict[str, int] = {"0": 0, "1-3": 1, "3-10": 3, "10+": 10}
HOURS: tuple[int, ...] = (40, 20, 10)
MAX_SKILLS = 8


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def code_seconds() -> int:
    return _setting("LINLI_KIOSK_CODE_SECONDS", 300)


def resend_seconds() -> int:
    return _setting("LINLI_KIOSK_RESEND_SECONDS", 60)


def codes_per_hour() -> int:
    return _setting("LINLI_KIOSK_CODES_PER_HOUR", 5)


def max_failures() -> int:
    return _setting("LINLI_KIOSK_MAX_FAILURES", 5)


def lock_minutes() -> int:
    return _setting("LINLI_KIOSK_LOCK_MINUTES", 15)


def idle_seconds() -> int:
    return _setting("LINLI_KIOSK_IDLE_SECONDS", 60)


# --- the ID number --------------------------------------------------------------------------------------


def check_id(text: str) -> str:
    """The normalised 18-character ID-card number, or a plain error (length, characters, check digit)."""
    value = normalise_id_number(text or "")
    if not value:
        raise LinliError.one("id_required", "请输入身份证号。", "Enter your ID card number.")
    if len(value) != 18 or not ID_CHARS.match(value) or "X" in value[:17]:
        raise LinliError.one(
            "id_length",
            f"身份证号应为 18 位,您输入了 {len(value)} 位。请核对后重新输入。",
            f"An ID card number has 18 characters; you entered {len(value)}. Please check it and try again.",
        )
    if not is_valid_id_number(value):
        raise LinliError.one(
            "id_checksum",
            "这个身份证号不对(最后一位校验码不符),请核对后重新输入。",
            "This ID card number is not right (its last character does not match). Please check it and try again.",
        )
    return value


# --- the lock -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRow:
    """What the lock rule reads of a code: when it was sent and died, its wrong entries, its use."""

    sent_at: datetime
    expires_at: datetime
    failures: int
    used_at: datetime | None


def lock_end(rows: list[CodeRow], *, limit: int, lock: timedelta) -> datetime | None:
    """When the last lock among ``rows`` (ordered by ``sent_at``) ends, or None if none was taken.

    Wrong entries add up across codes; a used code (a right entry) sets the count to zero, and so
    does a lock: the code that took the ``limit``-th wrong entry was killed then (its ``expires_at``
    is that moment), and the lock runs ``lock`` from there."""
    count, end = 0, None
    for row in rows:
        if row.used_at is not None:
            count = 0
            continue
        count += row.failures
        if count >= limit:
            end = row.expires_at + lock
            count = 0
    return end


def _rows(seeker_id: int, now: datetime) -> list[CodeRow]:
    return [
        CodeRow(*values)
        for values in SeekerCode.objects.filter(seeker_id=seeker_id, sent_at__gte=now - FORGIVE)
        .order_by("sent_at", "pk")
        .values_list("sent_at", "expires_at", "failures", "used_at")
    ]


def locked_until(seeker: Seeker | int, now: datetime | None = None) -> datetime | None:
    """The end of the seeker's kiosk sign-in lock, if it is locked now."""
    now = now or clock.now()
    seeker_id = seeker if isinstance(seeker, int) else seeker.pk
    end = lock_end(_rows(seeker_id, now), limit=max_failures(), lock=timedelta(minutes=lock_minutes()))
    return end if end is not None and end > now else None


def _local(at: datetime) -> str:
    from django.utils import timezone

    return timezone.localtime(at).strftime("%H:%M")


def _locked_error(until: datetime) -> LinliError:
    wait = max(1, -(-int((until - clock.now()).total_seconds()) // 60))
    return LinliError.one(
        "kiosk_locked",
        f"验证码错误次数太多,用这个身份证号在本机登录已暂停,请 {_local(until)} 以后再试(约 {wait} 分钟),"
        "或到社区就业服务窗口办理。",
        f"Too many wrong codes: signing in here with this ID number is paused until {_local(until)} "
        f"(about {wait} min). Try again then, or ask at the community employment desk.",
        423,
    )


# --- sign-in: send a code, check it ----------------------------------------------------------------------


def _code_hash(salt: str, code: str) -> str:
    return crypto.lookup_hash(f"kiosk-otp|{salt}|{code}")


def _new_code() -> tuple[str, str, str]:
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    return code, salt, _code_hash(salt, code)


def _sms(phone: str, code: str) -> None:
    minutes = max(1, code_seconds() // 60)
    try:
        sms.send(
            phone,
            f"【邻里·就近帮】您的登录验证码 {code},{minutes} 分钟内有效。请勿告诉他人。"
            f" / Linli jobs kiosk code {code}, valid {minutes} min. Do not share it.",
        )
    except sms.SmsError as exc:
        raise LinliError.one(
            "sms_failed",
            "短信发送失败,请稍后再试。",
            "The text message could not be sent. Please try again later.",
            503,
        ) from exc


def _wait_error(wait: int) -> LinliError:
    return LinliError.one(
        "code_wait",
        f"验证码刚刚发过,请 {wait} 秒后再重新获取。",
        f"A code was sent a moment ago. You can ask for a new one in {wait} seconds.",
        429,
    )


def _hourly_error() -> LinliError:
    return LinliError.one(
        "code_hourly",
        "一小时内获取验证码的次数太多,请稍后再试,或到社区就业服务窗口办理。",
        "Too many codes in the last hour. Please try later, or ask at the community employment desk.",
        429,
    )


@transaction.atomic
def send_code(seeker: Seeker) -> SeekerCode:
    """A new code to the seeker's phone on record (the earlier open ones die). Refused while the
    sign-in is locked, within ``resend_seconds()`` of the last code, past the hourly cap, or
    without a phone on record."""
    seeker = Seeker.objects.select_for_update().get(pk=seeker.pk)  # one sender at a time per seeker
    now = clock.now()
    until = locked_until(seeker.pk, now)
    if until is not None:
        raise _locked_error(until)
    codes = SeekerCode.objects.filter(seeker=seeker)
    # a code still waiting to be typed holds the next one back (a used or dead one does not)
    last = (
        codes.filter(used_at__isnull=True, expires_at__gt=now).order_by("-sent_at").values_list("sent_at", flat=True)
    ).first()
    if last is not None and now - last < timedelta(seconds=resend_seconds()):
        raise _wait_error(max(1, resend_seconds() - int((now - last).total_seconds())))
    if codes.filter(sent_at__gt=now - timedelta(hours=1)).count() >= codes_per_hour():
        raise _hourly_error()
    phone = seeker._phone()  # to the SMS gateway only: never shown, never logged in clear
    if not phone:
        raise LinliError.one(
            "no_phone",
            "您登记的信息里没有手机号,无法发送验证码。请到社区就业服务窗口办理。",
            "There is no phone number on record for you, so no code can be sent. Please ask at the "
            "community employment desk.",
            409,
        )
    codes.filter(used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    code, salt, digest = _new_code()
    row = SeekerCode.objects.create(
        seeker=seeker,
        salt=salt,
        code_hash=digest,
        sent_at=now,
        expires_at=now + timedelta(seconds=code_seconds()),
    )
    _sms(phone, code)
    return row


def _code_format() -> LinliError:
    return LinliError.one(
        "code_format", "请输入短信里的 6 位数字验证码。", "Enter the 6-digit code from the text message."
    )


def confirm(seeker_id: int, code: str) -> Seeker:
    """The code from the text message against the seeker's latest code. A wrong code is counted
    (kept, though the request is refused); the ``max_failures()``-th locks the ID's kiosk sign-in."""
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise _code_format()
    outcome: Seeker | LinliError
    with transaction.atomic():
        seeker = Seeker.objects.select_for_update().filter(pk=seeker_id).first()
        if seeker is None:
            raise LinliError.one("no_seeker", "请重新开始。", "Please start again.", 404)
        now = clock.now()
        until = locked_until(seeker.pk, now)
        if until is not None:
            raise _locked_error(until)
        row = SeekerCode.objects.filter(seeker=seeker).order_by("-sent_at", "-pk").first()
        if row is None:
            raise LinliError.one("no_code", "请先获取验证码。", "Ask for a code first.", 409)
        if row.used_at is not None:
            raise LinliError.one(
                "code_used", "这个验证码已经用过,请重新获取。", "This code was used already. Ask for a new one.", 409
            )
        if now >= row.expires_at:
            raise LinliError.one(
                "code_expired",
                "验证码已过期,请点「重新发送」获取新的验证码。",
                "The code has expired. Tap “Send again” for a new one.",
                410,
            )
        if hmac.compare_digest(_code_hash(row.salt, code), row.code_hash):
            row.used_at = now
            row.save(update_fields=["used_at"])
            outcome = seeker
        else:
            before = _open_failures(seeker.pk, now)
            row.failures += 1
            row.save(update_fields=["failures"])
            left = max_failures() - before - 1
            if left > 0:
                outcome = LinliError.one(
                    "code_wrong",
                    f"验证码不对,还可以再试 {left} 次。",
                    f"The code is not right. {left} {'try' if left == 1 else 'tries'} left.",
                )
            else:
                # the limit is reached: every open code (this one too) dies now, the lock runs from now
                SeekerCode.objects.filter(seeker=seeker, used_at__isnull=True, expires_at__gt=now).update(
                    expires_at=now
                )
                outcome = _locked_error(now + timedelta(minutes=lock_minutes()))
    if isinstance(outcome, LinliError):
        raise outcome
    return outcome


def _open_failures(seeker_id: int, now: datetime) -> int:
    """Wrong entries counted towards the next lock (since the last right code or lock)."""
    count = 0
    for row in _rows(seeker_id, now):
        count = 0 if row.used_at is not None else count + row.failures
        if count >= max_failures():
            count = 0
    return count


# --- registration at the kiosk ------------------------------------------------------------------------


def check_name(text: str) -> str:
    name = " ".join((text or "").split())
    if not 2 <= len(name) <= 30 or any(ch.isdigit() for ch in name):
        raise LinliError.one(
            "name_invalid",
            "请输入您的姓名(2 到 30 个字,不含数字)。",
            "Enter your name (2 to 30 characters, no digits).",
        )
    return name


def check_phone(text: str) -> str:
    phone = "".join(ch for ch in (text or "") if ch.isdigit())
    if not is_valid_phone(phone):
        raise LinliError.one(
            "phone_invalid",
            "请输入 11 位手机号(1 开头)。",
            "Enter an 11-digit mobile number (starting with 1).",
        )
    return phone


def seal(data: dict[str, Any]) -> str:
    """Personal data kept in the kiosk's session between screens, encrypted at rest."""
    return crypto.encrypt(json.dumps(data, ensure_ascii=False))


def unseal(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        data = json.loads(crypto.decrypt(token))
    except Exception:  # a key rotated away or a damaged session: start again
        return {}
    return data if isinstance(data, dict) else {}


def send_registration_code(id_number: str, phone: str) -> dict[str, Any]:
    """A code to the phone a new seeker typed; returns the pending check to keep (sealed) in the
    session: ``{"salt", "hash", "expires", "sent", "failures"}``. Limited per phone and per ID."""
    if q.kiosk.find(id_number) is not None:
        raise LinliError.one(
            "id_registered",
            "这个身份证号已经登记过,请用它直接登录。",
            "This ID number is registered already: sign in with it.",
            409,
        )
    for scope, key in (("phone", crypto.lookup_hash(phone)), ("id", crypto.lookup_hash(id_number))):
        first = ratelimit.hit(f"kiosk-reg-{scope}", key, 1, resend_seconds())
        if not first.ok:
            raise _wait_error(first.retry_after)
        if not ratelimit.hit(f"kiosk-reg-{scope}-hour", key, codes_per_hour(), 3600).ok:
            raise _hourly_error()
    code, salt, digest = _new_code()
    now = clock.now()
    _sms(phone, code)
    return {
        "salt": salt,
        "hash": digest,
        "sent": now.timestamp(),
        "expires": (now + timedelta(seconds=code_seconds())).timestamp(),
        "failures": 0,
    }


def check_registration_code(pending: dict[str, Any], code: str) -> dict[str, Any]:
    """Check the code of a pending registration; returns the pending check updated (``verified``,
    or one more failure — the caller keeps it either way). The ``max_failures()``-th wrong code
    ends the registration (a new code is needed, within the hourly limits)."""
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise _code_format()
    if not pending.get("hash"):
        raise LinliError.one("no_code", "请先获取验证码。", "Ask for a code first.", 409)
    if int(pending.get("failures", 0)) >= max_failures():
        raise LinliError.one(
            "reg_code_dead",
            "验证码错误次数太多,请重新获取验证码。",
            "Too many wrong codes. Ask for a new code.",
            423,
        )
    if clock.now().timestamp() >= float(pending.get("expires", 0)):
        raise LinliError.one(
            "code_expired",
            "验证码已过期,请点「重新发送」获取新的验证码。",
            "The code has expired. Tap “Send again” for a new one.",
            410,
        )
    if hmac.compare_digest(_code_hash(str(pending.get("salt", "")), code), str(pending["hash"])):
        return {**pending, "verified": True, "hash": "", "salt": ""}
    failures = int(pending.get("failures", 0)) + 1
    updated = {**pending, "failures": failures}
    left = max_failures() - failures
    if left <= 0:
        raise WrongCode(
            updated,
            LinliError.one(
                "reg_code_dead",
                "验证码错误次数太多,这个验证码已作废。请过一会儿重新获取验证码。",
                "Too many wrong codes: this code no longer works. Ask for a new code in a while.",
                423,
            ),
        )
    raise WrongCode(
        updated,
        LinliError.one(
            "code_wrong",
            f"验证码不对,还可以再试 {left} 次。",
            f"The code is not right. {left} {'try' if left == 1 else 'tries'} left.",
        ),
    )


class WrongCode(LinliError):
    """A wrong registration code: the refusal, with the pending check to keep (one more failure)."""

    def __init__(self, pending: dict[str, Any], error: LinliError) -> None:
        super().__init__(error.problems, error.status)
        self.pending = pending


def location_of(street: Street) -> tuple[float, float]:
    """Where a kiosk-registered seeker is placed for distances: the kiosk's street (its point, or
    its district's)."""
    if street.lat is not None and street.lon is not None:
        return float(street.lat), float(street.lon)
    district = street.district
    if district.lat is not None and district.lon is not None:
        return float(district.lat), float(district.lon)
    raise LinliError.one(
        "kiosk_street",
        "本机还没有设置所在街道的位置,请联系工作人员。",
        "This kiosk's street has no location yet. Please ask a member of staff.",
        409,
    )


def check_skills(codes: list[str], *, required: bool = True) -> list[Skill]:
    skills = list(Skill.objects.filter(code__in=[c for c in codes if c][:MAX_SKILLS], active=True).order_by("code"))
    if required and not skills:
        raise LinliError.one(
            "skills_required",
            "请至少点选一项您会做的工作。",
            "Tap at least one kind of work you can do.",
        )
    return skills


def register(
    pending: dict[str, Any], *, id_number: str, name: str, phone: str, street: Street, skills: list[str]
) -> Seeker:
    """Register a new seeker whose phone the pending check proved (``source="kiosk"``)."""
    if not pending.get("verified"):
        raise LinliError.one("phone_unverified", "请先验证手机号。", "Please verify your phone number first.", 409)
    id_number = check_id(id_number)
    name = check_name(name)
    phone = check_phone(phone)
    rows = check_skills(skills)
    lat, lon = location_of(street)
    with transaction.atomic():
        if q.kiosk.find(id_number) is not None:
            raise LinliError.one(
                "id_registered",
                "这个身份证号已经登记过,请用它直接登录。",
                "This ID number is registered already: sign in with it.",
                409,
            )
        seeker: Seeker = seekers.register(
            None,
            name=name,
            street=street,
            lat=lat,
            lon=lon,
            skills=rows,
            id_number=id_number,
            phone=phone,
            source=Seeker.Source.KIOSK,
        )
    return seeker


def phone_masked(phone: str) -> str:
    return mask_phone(phone)


# --- applying with a CV from a few taps ------------------------------------------------------------------


def cv_taps(*, skills: list[str], years: str, hours: int) -> dict[str, Any]:
    """What the taps say for the CV (``services.applications.build_cv``'s ``given``): the skills
    tapped, years of experience (the lower end of the button's range) and hours a week."""
    rows = check_skills(skills)
    if years not in YEARS:
        raise LinliError.one("years_invalid", "请选择工作年限。", "Choose your years of experience.")
    if hours not in HOURS:
        raise LinliError.one("hours_invalid", "请选择想做的时长。", "Choose how many hours you want to work.")
    return {"skills": [s.code for s in rows], "experience_years": YEARS[years], "hours": hours}


def preview(seeker: Seeker, taps: dict[str, Any]) -> dict[str, Any]:
    """The CV exactly as the employer will receive it."""
    return applications.build_cv(seeker, taps)


def posting_closed() -> LinliError:
    """The kind 410 of a posting that no longer takes applications (a screen, or ``apply``)."""
    return LinliError.one(
        "posting_closed",
        "这个岗位已经截止或暂停招聘,请看看别的岗位。",
        "This job is closed or no longer taking applications. Please look at other jobs.",
        410,
    )


def apply(seeker: Seeker, posting_id: int, taps: dict[str, Any]) -> Application:
    """Send the application from the kiosk (the seeker proved by ID number + SMS code)."""
    posting = q.kiosk.live(posting_id)
    if posting is None:
        raise posting_closed()
    earlier = q.kiosk.existing(seeker, posting)
    if earlier is not None:
        raise AlreadyApplied(earlier)
    try:
        return applications.apply(None, seeker, posting, cv=taps, channel=Application.Channel.KIOSK)
    except LinliError as exc:
        earlier = (
            q.kiosk.existing(seeker, posting) if exc.problems and exc.problems[0].code == "already_applied" else None
        )
        if earlier is not None:  # a double submit racing this one
            raise AlreadyApplied(earlier) from None
        raise


class AlreadyApplied(LinliError):
    """The seeker has an application for this posting already (its slip can be shown again)."""

    def __init__(self, application: Application) -> None:
        error = LinliError.one(
            "already_applied",
            f"您已经投递过这个岗位了(申请单号 {application.number}),不用再投。",
            f"You have applied for this job already (application {application.number}); no need to apply again.",
            409,
        )
        super().__init__(error.problems, error.status)
        self.application = application
