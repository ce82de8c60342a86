"""Every write of grid events: intake, routing, the seven-step loop, approvals, escalation.

One permission check per call (``linli.accounts.permissions``), each inside ``transaction.atomic``
with the event row locked (``select_for_update``), so two people acting on one case at once get one
success and one clear 409, never a half-applied move. Every move appends an ``EventLog`` row.

Who may do what (roles.py actions; the loop itself is ``loop.py``):

- report (信息收集): a grid worker or volunteer of the place (REPORT), the hotline desk or the
  command centre (COMMAND), any signed-in resident, an Open311 client with an api_key, a sensor;
- register, dispatch, approve requests, void, escalate: the command centre (COMMAND);
- accept, handle, report back, ask to return/extend/defer/backlog: staff of the department the case
  is dispatched to (HANDLE, held at that department);
- verify on site: a grid worker of the place (REPORT) or the command centre — never someone who
  accepted or handled the case;
- evaluate: the reporter or the command centre.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.http import Http404

from linli.accounts.models import Department
from linli.accounts.permissions import authorize, can
from linli.accounts.roles import Action
from linli.core import clock, crypto, masking
from linli.core.errors import LinliError, Problem
from linli.core.photos import check_photo
from linli.governance import loop
from linli.governance.categories import CATEGORIES, DEPARTMENTS, Kind
from linli.governance.loop import Move, Step, StepError
from linli.governance.models import Category, Channel, Event, EventLog, EventPhoto, EventRequest, RoutingRule
from linli.places.models import Building, Community, District, Street

MAX_TEXT = 4000
MAX_PHOTOS = 6
EARTH_M = 6_371_000.0


def _refuse(code: str, zh: str, en: str, status: int = 400) -> LinliError:
    return LinliError.one(code, zh, en, status)


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(min(1.0, a)))


def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(radius_m / EARTH_M)
    dlon = dlat / max(0.01, math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


# --- catalogue and departments ----------------------------------------------------------------------


def ensure_catalogue(district: District) -> int:
    """Write the default departments (of ``district``), a locality office per street, and the default
    categories, where missing. Never overwrites what a district changed. Returns rows created."""
    created = 0
    with transaction.atomic():
        by_code: dict[str, Department] = {}
        for spec in DEPARTMENTS:
            code = f"{district.code}-{spec.code}"
            dept, made = Department.objects.get_or_create(
                code=code,
                defaults={
                    "name": spec.zh,
                    "name_en": spec.en,
                    "kind": spec.kind,
                    "district": district,
                    "phone": spec.phone,
                },
            )
            by_code[spec.code] = dept
            created += made
        for street in Street.objects.filter(district=district):
            created += locality_for(street, create_only=True)[1]
        for order, cat in enumerate(CATEGORIES):
            if Category.objects.filter(code=cat.code).exists():
                continue
            Category.objects.create(
                code=cat.code,
                name=cat.zh,
                name_en=cat.en,
                kind=cat.kind.value,
                sector=cat.sector.value,
                keywords=cat.keywords,
                owner=by_code.get(cat.owner),
                limits=dict(cat.limits),
                attributes=[
                    {
                        "code": a.code,
                        "zh": a.zh,
                        "en": a.en,
                        "datatype": a.datatype,
                        "required": a.required,
                        "values": [list(v) for v in a.values],
                    }
                    for a in cat.attributes
                ],
                order=order,
            )
            created += 1
    return created


def locality_for(street: Street, create_only: bool = False) -> tuple[Department, bool]:
    """The street's locality office (属地): the department of last resort (属地兜底)."""
    dept = Department.objects.filter(street=street).first()
    if dept is not None:
        return dept, False
    dept, made = Department.objects.get_or_create(
        street=street,
        defaults={
            "code": f"{street.path.replace('/', '')}-L"[:20],
            "name": f"{street.name}(属地)",
            "name_en": f"{street.name} street office (locality)",
            "kind": Department.Kind.LOCALITY,
            "district": street.district,
        },
    )
    return dept, made


def route(category: Category, path: str, street: Street) -> list[Department]:
    """Departments in the order they are responsible for ``category`` at ``path`` (open311.md):
    an explicit routing rule (most specific path first); then for a component its owner and then
    the locality; for an incident the locality and then the owner. The locality always comes last
    or first, so every event has someone (属地兜底)."""
    out: list[Department] = []
    rules = sorted(
        (
            r
            for r in RoutingRule.objects.filter(category=category).select_related("department")
            if path.startswith(r.path)
        ),
        key=lambda r: -len(r.path),
    )
    out.extend(r.department for r in rules if r.department.active)
    locality = locality_for(street)[0]
    owner = category.owner if category.owner_id and category.owner and category.owner.active else None
    chain = [owner, locality] if category.kind == Kind.COMPONENT else [locality, owner]
    for dept in chain:
        if dept is not None and dept not in out:
            out.append(dept)
    return out


# --- where: snapping a position to the jurisdiction ------------------------------------------------


@dataclass(frozen=True)
class Spot:
    """Where an event is: its building and the places above it (one query, for the intake path)."""

    building_id: int
    lat: float | None
    lon: float | None
    grid_id: int | None
    community_id: int
    street_id: int
    path: str
    label: str  # "<community> <building>"


_SPOT_FIELDS = (
    "pk",
    "lat",
    "lon",
    "grid_id",
    "community_id",
    "community__street_id",
    "path",
    "name",
    "community__name",
)


def _spot(row: tuple[Any, ...]) -> Spot:
    pk, lat, lon, grid_id, community_id, street_id, path, name, community_name = row
    return Spot(pk, lat, lon, grid_id, community_id, street_id, path, f"{community_name} {name}")


def _buildings_in_box(s: float, n: float, w: float, e: float, within: str) -> list[tuple[Any, ...]]:
    """Buildings with a position inside the box (at most 500), as ``_SPOT_FIELDS`` rows. Plain SQL:
    this runs on every report, and building the ORM query cost more than running it."""
    b, c = Building._meta.db_table, Community._meta.db_table
    sql = (
        f"SELECT b.id, b.lat, b.lon, b.grid_id, b.community_id, c.street_id, b.path, b.name, c.name "  # noqa: S608
        f"FROM {b} b JOIN {c} c ON c.id = b.community_id "
        "WHERE b.lat BETWEEN %s AND %s AND b.lon BETWEEN %s AND %s"
    )
    params: list[Any] = [s, n, w, e]
    if within:
        sql += " AND b.path LIKE %s"
        params.append(within.replace("%", "").replace("_", "") + "%")
    with connection.cursor() as cur:
        cur.execute(sql + " LIMIT 500", params)
        return [tuple(r) for r in cur.fetchall()]


def locate_spot(lat: Any, lon: Any, *, within: str = "") -> Spot:
    """The building nearest to (lat, lon) within ``LINLI_EVENT_SNAP_METRES`` (under ``within``, a
    place path), or a 400 saying the place is outside the jurisdiction."""
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise _refuse("bad_location", "位置须为经纬度数字。", "The location must be a latitude and longitude.") from exc
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise _refuse("bad_location", "经纬度超出范围。", "Latitude or longitude out of range.")
    radius = float(settings.LINLI_EVENT_SNAP_METRES)
    s, n, w, e = _box(la, lo, radius)
    best: tuple[float, tuple[Any, ...]] | None = None
    for row in _buildings_in_box(s, n, w, e, within):
        d = metres(la, lo, row[1], row[2])
        if d <= radius and (best is None or d < best[0]):
            best = (d, row)
    if best is None:
        raise _refuse(
            "outside_jurisdiction",
            f"该位置不在辖区内(附近 {int(radius)} 米内没有登记的楼栋)。",
            f"This location is outside the jurisdiction (no registered building within {int(radius)} m).",
        )
    return _spot(best[1])


def locate(lat: Any, lon: Any, *, within: str = "") -> Building:
    """``locate_spot`` as a Building (with community and street loaded)."""
    spot = locate_spot(lat, lon, within=within)
    return Building.objects.select_related("community__street").get(pk=spot.building_id)


def nearby_open(
    category: Category, lat: float, lon: float, *, exclude: int | None = None, limit: int = 5
) -> list[Event]:
    """Open events of the same category within ``LINLI_EVENT_DUPLICATE_METRES``: possible duplicates,
    nearest first."""
    radius = float(settings.LINLI_EVENT_DUPLICATE_METRES)
    s, n, w, e = _box(lat, lon, radius)
    qs = Event.objects.filter(category=category, lat__gte=s, lat__lte=n, lon__gte=w, lon__lte=e).filter(
        step__in=[x.value for x in loop.OPEN_STEPS]
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    found = [(metres(lat, lon, ev.lat, ev.lon), ev) for ev in qs.select_related("category")[:200]]
    found = [(d, ev) for d, ev in found if d <= radius]
    found.sort(key=lambda x: x[0])
    for d, ev in found:
        ev.distance_m = round(d)  # type: ignore[attr-defined]
    return [ev for _d, ev in found[:limit]]


# --- intake ----------------------------------------------------------------------------------------


@dataclass
class Report:
    """What a reporter says. ``building`` may be picked instead of a position; ``category`` is a
    code, or a Category already loaded (the Open311 intake caches them)."""

    category: str | Category
    lat: Any = None
    lon: Any = None
    building: int | None = None
    description: str = ""
    address: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_email: str = ""
    account_id: str = ""
    device_id: str = ""
    media_url: str = ""
    client_key: str = ""
    photos: Sequence[Any] = ()


_CATEGORY_TTL_S = 30.0
_categories: dict[str, tuple[float, Category]] = {}


def category_by_code(code: str | Category) -> Category:
    """An active category by its code. Kept in memory for 30 s per process: intake reads it on every
    report (a category switched off in the admin is still accepted for up to 30 s)."""
    if isinstance(code, Category):
        if not code.active:
            raise _refuse("unknown_category", f"未知的事件类别:{code.code}", f"Unknown event category: {code.code}")
        return code
    code = (code or "").strip()
    now = time.monotonic()
    hit = _categories.get(code)
    if hit is not None and now - hit[0] < _CATEGORY_TTL_S:
        return hit[1]
    cat = Category.objects.filter(code=code, active=True).first()
    if cat is None:
        _categories.pop(code, None)
        raise _refuse("unknown_category", f"未知的事件类别:{code}", f"Unknown event category: {code}")
    if len(_categories) > 1000:
        _categories.clear()
    _categories[code] = (now, cat)
    return cat


def forget_categories() -> None:
    """Drop the in-memory categories (tests; after editing categories in a shell)."""
    _categories.clear()


def check_attributes(category: Category, given: dict[str, Any]) -> dict[str, Any]:
    """Validate attribute values against the category's definition (Open311 service definition)."""
    defs = {a["code"]: a for a in category.attributes or []}
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    bad: set[str] = set()  # given with a wrong value: said once, not also "required"
    if not isinstance(given or {}, dict):
        raise _refuse("bad_attributes", "属性须为键值对。", "Attributes must be an object of code: value.")
    for code, value in (given or {}).items():
        spec = defs.get(code)
        if spec is None:
            problems.append(Problem("unknown_attribute", f"未知的属性:{code}", f"Unknown attribute: {code}"))
            continue
        keys = {str(v[0]) for v in spec.get("values", [])}
        values = value if isinstance(value, list) else [value]
        values = [str(v).strip() for v in values if str(v).strip()]
        if spec["datatype"] in ("singlevaluelist", "multivaluelist") and any(v not in keys for v in values):
            bad.add(code)
            problems.append(
                Problem("bad_attribute", f"属性“{spec['zh']}”的取值无效。", f"Invalid value for “{spec['en']}”.")
            )
            continue
        if spec["datatype"] == "number":
            try:
                [float(v) for v in values]
            except ValueError:
                bad.add(code)
                problems.append(
                    Problem("bad_attribute", f"属性“{spec['zh']}”须为数字。", f"“{spec['en']}” must be a number.")
                )
                continue
        if values:
            out[code] = values if spec["datatype"] == "multivaluelist" else values[0]
    for code, spec in defs.items():
        if spec.get("required") and code not in out and code not in bad:
            problems.append(Problem("attribute_required", f"请填写“{spec['zh']}”。", f"“{spec['en']}” is required."))
    if problems:
        raise LinliError(problems)
    return out


def _replay(source: str, client_key: str) -> Event | None:
    return Event.objects.filter(source=source, client_key=client_key).first() if client_key else None


def report(
    actor: Any,
    data: Report,
    *,
    channel: str,
    source: str = "",
    actor_label: str = "",
    jurisdiction: str = "",
) -> tuple[Event, bool]:
    """Take in a problem (信息收集). Returns (event, created); a retry with the same client key from
    the same source returns the first event (created=False) and writes nothing.

    ``actor`` is the signed-in user (None for Open311 clients and sensors, which pass ``source``).
    Reported by the command centre itself (hotline desk, task from above) the case is registered at
    once; from anyone else it waits for the centre to register it."""
    if channel not in Channel.values:
        raise _refuse("bad_channel", "未知的上报渠道。", "Unknown reporting channel.")
    user = actor if getattr(actor, "is_authenticated", False) else None
    source = source or (f"u:{user.pk}" if user else "")
    if not source:
        raise _refuse("not_signed_in", "请先登录。", "Sign in first.", 403)
    client_key = (data.client_key or "").strip()
    if len(client_key) > 64:
        raise _refuse("bad_client_key", "client_key 不超过 64 个字符。", "client_key is at most 64 characters.")
    # The unique (source, client_key) makes a retry's insert fail, and then the first event is
    # returned, so a report without photos needs no look-up first (one query fewer on the Open311
    # path). With photos, look first: re-checking six photos costs more than the query.
    if client_key and data.photos:
        found = _replay(source, client_key)
        if found is not None:
            return found, False
    category = category_by_code(data.category)
    description = (data.description or "").strip()
    if len(description) > MAX_TEXT:
        raise _refuse("too_long", "描述不超过 4000 字。", "The description is at most 4000 characters.")
    if data.building:
        qs = Building.objects.filter(pk=data.building)
        if jurisdiction:
            qs = qs.filter(path__startswith=jurisdiction)
        row = qs.values_list(*_SPOT_FIELDS).first()
        if row is None:
            raise _refuse("unknown_building", "所选楼栋不存在。", "The chosen building does not exist.")
        spot = _spot(row)
        try:
            lat = float(data.lat) if data.lat not in (None, "") else spot.lat
            lon = float(data.lon) if data.lon not in (None, "") else spot.lon
        except (TypeError, ValueError) as exc:
            raise _refuse(
                "bad_location", "位置须为经纬度数字。", "The location must be a latitude and longitude."
            ) from exc
        if lat is None or lon is None:
            raise _refuse("bad_location", "该楼栋没有坐标,请在地图上选点。", "This building has no position: pick one.")
    else:
        if data.lat in (None, "") or data.lon in (None, ""):
            raise _refuse("location_required", "请提供位置(定位或在地图上选点)。", "Give a location (device or map).")
        spot = locate_spot(data.lat, data.lon, within=jurisdiction)
        lat, lon = float(data.lat), float(data.lon)
    attributes = check_attributes(category, data.attributes)
    phone = (data.reporter_phone or "").strip()
    if phone and not masking.is_valid_phone(phone):
        raise _refuse("bad_phone", "电话号码格式不正确。", "The phone number is not valid.")
    if len(data.photos) > MAX_PHOTOS:
        raise _refuse("too_many_photos", f"最多 {MAX_PHOTOS} 张照片。", f"At most {MAX_PHOTOS} photos.")

    command = False
    if user is not None:
        building = Building(pk=spot.building_id)  # the permission check needs only its key
        if channel == Channel.GRID:
            authorize(user, Action.REPORT, building)
        elif channel in (Channel.HOTLINE, Channel.TASK):
            authorize(user, Action.COMMAND, building)
        command = can(user, Action.COMMAND, building)
    checked = [check_photo(p, i + 1) for i, p in enumerate(data.photos)]

    now = clock.now()
    step = Step.REGISTERED if command else Step.COLLECTED
    event = Event(
        category=category,
        kind=category.kind,
        sector=category.sector,
        channel=channel,
        description=description,
        attributes=attributes,
        address=(data.address or "").strip()[:300] or spot.label,
        lat=lat,
        lon=lon,
        building_id=spot.building_id,
        grid_id=spot.grid_id,
        community_id=spot.community_id,
        street_id=spot.street_id,
        path=spot.path,
        reporter=user,
        reporter_name=(data.reporter_name or (user.get_full_name() if user else "") or "").strip()[:100],
        reporter_phone_enc=crypto.encrypt(phone),
        reporter_phone_masked=masking.mask_phone(phone) if phone else "",
        reporter_email_enc=crypto.encrypt((data.reporter_email or "").strip()),
        account_id=(data.account_id or "")[:64],
        device_id=(data.device_id or "")[:64],
        media_url=(data.media_url or "")[:500],
        source=source,
        client_key=client_key,
        step=step,
        created_at=now,
        updated_at=now,
        step_started_at=now,
        step_due_at=loop.step_deadline(step, now, category.limits),
    )
    label = actor_label or (str(user) if user else source)
    try:
        with transaction.atomic():
            event.save()
            EventLog.objects.create(
                event=event,
                at=now,
                actor=user,
                actor_label=label,
                move="create",
                step_to=Step.COLLECTED,
                data={"channel": channel},
            )
            if step == Step.REGISTERED:
                EventLog.objects.create(
                    event=event,
                    at=now,
                    actor=user,
                    actor_label=label,
                    move=Move.REGISTER,
                    step_from=Step.COLLECTED,
                    step_to=Step.REGISTERED,
                )
            _save_photos(event, checked, EventPhoto.Stage.REPORT, user)
    except IntegrityError:
        found = _replay(source, client_key)
        if found is None:
            raise
        return found, False
    return event, True


def _save_photos(event: Event, checked: Sequence[Any], stage: str, user: Any) -> None:
    for i, photo in enumerate(checked, start=1):
        ph = EventPhoto(event=event, stage=stage, width=photo.width, height=photo.height, uploaded_by=user)
        ph.image.save(f"{stage}-{clock.now():%H%M%S}-{i}.{photo.ext}", ContentFile(photo.content), save=False)
        ph.save()


# --- the loop --------------------------------------------------------------------------------------


def _locked(event: Event, expected_step: str | None) -> Event:
    # of=("self",): lock the event row only; PostgreSQL refuses FOR UPDATE on the nullable side of
    # the outer join to the department.
    current = Event.objects.select_for_update(of=("self",)).select_related("category", "department").get(pk=event.pk)
    if expected_step and current.step != expected_step:
        raise _refuse(
            "step_changed",
            f"案件已变为“{current.step_names[0]}”,请刷新后再操作。",
            f"The case has moved on to “{current.step_names[1]}”; reload and try again.",
            409,
        )
    return current


def _hands(event: Event) -> set[int]:
    """Users who accepted, handled or reported back on the case: they may not verify it."""
    ids = EventLog.objects.filter(event=event, move__in=[Move.ACCEPT, Move.REPORT]).values_list("actor_id", flat=True)
    out = {i for i in ids if i is not None}
    if event.handler_id:
        out.add(event.handler_id)
    return out


def _on_the_ground(user: Any, event: Event) -> bool:
    """A grid worker of the place: reports (REPORT) and is in the handling chain (EVENTS). Volunteers
    (N forces) report problems but neither verify, whistle nor annotate cases."""
    return can(user, Action.REPORT, event) and can(user, Action.EVENTS, event)


def _check_who(user: Any, event: Event, move: Move) -> None:
    who = loop.RULES[move].who
    if who == loop.Who.COMMAND:
        authorize(user, Action.COMMAND, event)
    elif who == loop.Who.DEPARTMENT:
        authorize(user, Action.HANDLE, event)
    elif who == loop.Who.CHAIN:
        if not (_on_the_ground(user, event) or can(user, Action.COMMAND, event) or can(user, Action.HANDLE, event)):
            authorize(user, Action.EVENTS, event)  # 404 outside the scope
            raise PermissionDenied("not in the handling chain")
    elif who == loop.Who.FIELD:
        if not (_on_the_ground(user, event) or can(user, Action.COMMAND, event)):
            authorize(user, Action.EVENTS, event)
            raise PermissionDenied("verification and whistles are for grid workers and the command centre")
    elif who == loop.Who.REPORTER_OR_COMMAND and not (
        event.reporter_id and event.reporter_id == getattr(user, "pk", None)
    ):
        authorize(user, Action.COMMAND, event)


def may_take(user: Any, event: Event, move: Move) -> bool:
    """Whether ``user``'s role lets them take ``move`` on ``event`` (pages use it to show forms;
    ``act`` enforces the same rule through ``_check_who``). The step is not checked here."""
    try:
        _check_who(user, event, move)
    except (PermissionDenied, Http404):
        return False
    return True


def handlers(event: Event) -> set[int]:
    """Users who accepted or handled the case (they may not verify it)."""
    return _hands(event)


def _enter(event: Event, step: Step, now: datetime) -> None:
    event.step = step
    event.step_started_at = now
    due = loop.step_deadline(step, now, event.category.limits)
    if step == Step.HANDLING and event.due_at is not None:
        due = min(due, event.due_at) if due else event.due_at
    event.step_due_at = due
    event.escalation = 0


def _return(ev: Event, data: dict[str, Any]) -> None:
    """回退: the case leaves its department (counted) and waits to be dispatched again."""
    ev.return_count += 1
    data["from_department"] = ev.department.name if ev.department else ""
    ev.department = None
    ev.handler = None


def _commit_move(
    ev: Event, user: Any, mv: Move, before: Step, after: Step, now: datetime, note: str, data: dict[str, Any]
) -> None:
    """Enter the new step (if it changed), save the event and append the history row."""
    if after != before:
        _enter(ev, after, now)
    ev.updated_at = now
    ev.save()
    EventLog.objects.create(
        event=ev,
        at=now,
        actor=user,
        actor_label=str(user),
        move=mv,
        step_from=before,
        step_to=after,
        department=ev.department,
        note=note,
        data=data,
    )


def act(
    user: Any,
    event: Event,
    move: str,
    *,
    note: str = "",
    department: Department | None = None,
    photos: Sequence[Any] = (),
    score: Any = None,
    expected_step: str | None = None,
    duplicate_of: Event | None = None,
) -> Event:
    """Take one move of the loop on ``event``. Refusals: 404 outside scope, 403 wrong role, 409 a
    step that is not the event's (skipped, or already taken by someone else), 400 bad input."""
    try:
        mv = Move(move)
    except ValueError as exc:
        raise _refuse("unknown_move", "未知的操作。", "Unknown action.") from exc
    if mv in (Move.BACKLOG, Move.EXTEND, Move.DEFER):
        raise _refuse("needs_request", "该操作须由部门申请、指挥中心审批。", "This needs a request and approval.")
    note = (note or "").strip()
    if len(note) > MAX_TEXT:
        raise _refuse("too_long", "说明不超过 4000 字。", "The note is at most 4000 characters.")
    if len(photos) > MAX_PHOTOS:
        raise _refuse("too_many_photos", f"最多 {MAX_PHOTOS} 张照片。", f"At most {MAX_PHOTOS} photos.")
    _check_who(user, event, mv)
    checked = [check_photo(p, i + 1) for i, p in enumerate(photos)]
    with transaction.atomic():
        ev = _locked(event, expected_step)
        before = Step(ev.step)
        try:
            after = loop.apply(before, mv)
        except StepError as exc:
            raise _refuse("wrong_step", exc.zh, exc.en, 409) from exc
        now = clock.now()
        data: dict[str, Any] = {}
        if mv == Move.DISPATCH:
            candidates = route(ev.category, ev.path, ev.street)
            target = department or candidates[0]
            if not target.active:
                raise _refuse("inactive_department", "该部门已停用。", "That department is inactive.")
            if not (target.path and ev.path.startswith(target.path)):
                raise _refuse(
                    "department_out_of_area", "该部门不管辖此地。", "That department does not serve this place."
                )
            ev.department = target
            if ev.dispatched_at is None:
                ev.dispatched_at = now
                ev.due_at = loop.handle_deadline(now, ev.category.limits)
            data["department"] = target.name
            data["routed"] = [d.pk for d in candidates]
        elif mv == Move.ACCEPT:
            ev.handler = user
        elif mv == Move.REPORT:
            if not note and not checked:
                raise _refuse("report_needs_detail", "请说明处置情况或上传照片。", "Say what was done or add a photo.")
        elif mv in (Move.VERIFY_PASS, Move.VERIFY_FAIL):
            if getattr(user, "pk", None) in _hands(ev):
                raise _refuse(
                    "verifier_is_handler",
                    "核查人不能是处置人,请由网格员或指挥中心核查。",
                    "The verifier must not be the person who handled the case.",
                    403,
                )
            if mv == Move.VERIFY_FAIL:
                if not note:
                    raise _refuse("reason_required", "请说明核查未通过的原因。", "Say why the check failed.")
                ev.rework_count += 1
            else:
                ev.closed_at = now
        elif mv == Move.EVALUATE:
            try:
                ev.score = int(score)
            except (TypeError, ValueError) as exc:
                raise _refuse("bad_score", "评价须为 1–5 分。", "The evaluation is a score from 1 to 5.") from exc
            if not 1 <= ev.score <= 5:
                raise _refuse("bad_score", "评价须为 1–5 分。", "The evaluation is a score from 1 to 5.")
            data["score"] = ev.score
        elif mv == Move.VOID:
            if not note:
                raise _refuse("reason_required", "请说明作废原因。", "Say why the case is voided.")
            if duplicate_of is not None:
                if duplicate_of.pk == ev.pk:
                    raise _refuse("bad_duplicate", "不能标记为自身的重复。", "A case cannot duplicate itself.")
                ev.duplicate_of = duplicate_of
                data["duplicate_of"] = duplicate_of.pk
            ev.closed_at = now
        elif mv == Move.RETURN:
            if not note:
                raise _refuse("reason_required", "请说明回退原因。", "Say why the case is returned.")
            _return(ev, data)
        elif mv == Move.WHISTLE:
            ev.escalation = max(ev.escalation, loop.STREET)
            data["level"] = ev.escalation
        elif mv == Move.UNBACKLOG:
            ev.backlog = False
        _commit_move(ev, user, mv, before, after, now, note, data)
        stage = {Move.REPORT: EventPhoto.Stage.HANDLE, Move.VERIFY_PASS: EventPhoto.Stage.VERIFY}.get(
            mv, EventPhoto.Stage.VERIFY if mv == Move.VERIFY_FAIL else EventPhoto.Stage.REPORT
        )
        _save_photos(ev, checked, stage, user)
    return ev


# --- requests that need approval -------------------------------------------------------------------

_REQUEST_MOVE = {
    EventRequest.Kind.RETURN: Move.RETURN,
    EventRequest.Kind.VOID: Move.VOID,
    EventRequest.Kind.EXTEND: Move.EXTEND,
    EventRequest.Kind.DEFER: Move.DEFER,
    EventRequest.Kind.BACKLOG: Move.BACKLOG,
}


def ask(
    user: Any, event: Event, kind: str, reason: str, *, hours: Any = None, until: datetime | None = None
) -> EventRequest:
    """A department asks to return, void, extend, defer or backlog a case dispatched to it."""
    if kind not in EventRequest.Kind.values:
        raise _refuse("unknown_request", "未知的申请类型。", "Unknown kind of request.")
    authorize(user, Action.HANDLE, event)
    reason = (reason or "").strip()
    if not reason:
        raise _refuse("reason_required", "请说明申请理由。", "Give a reason.")
    if len(reason) > 1000:
        raise _refuse("too_long", "理由不超过 1000 字。", "The reason is at most 1000 characters.")
    h: int | None = None
    if kind == EventRequest.Kind.EXTEND:
        try:
            h = int(hours)
        except (TypeError, ValueError) as exc:
            raise _refuse("bad_hours", "延期时长须为 1–720 小时。", "An extension is 1 to 720 hours.") from exc
        if not 1 <= h <= 720:
            raise _refuse("bad_hours", "延期时长须为 1–720 小时。", "An extension is 1 to 720 hours.")
    if kind == EventRequest.Kind.DEFER and (
        until is None or until <= clock.now() or until > clock.now() + timedelta(days=366)
    ):
        raise _refuse("bad_until", "缓办须至今后一年内的某日。", "Defer to a date within the coming year.")
    with transaction.atomic():
        ev = _locked(event, None)
        try:
            loop.apply(Step(ev.step), _REQUEST_MOVE[EventRequest.Kind(kind)])
        except StepError as exc:
            raise _refuse("wrong_step", exc.zh, exc.en, 409) from exc
        if EventRequest.objects.filter(event=ev, decision=EventRequest.Decision.PENDING).exists():
            raise _refuse(
                "request_pending", "该案件已有待审批的申请。", "This case already has a request pending.", 409
            )
        try:
            with transaction.atomic():
                req = EventRequest.objects.create(
                    event=ev,
                    kind=kind,
                    reason=reason,
                    hours=h,
                    until=until,
                    department=ev.department,
                    requested_by=user,
                    requested_at=clock.now(),
                )
        except IntegrityError as exc:
            raise _refuse(
                "request_pending", "该案件已有待审批的申请。", "This case already has a request pending.", 409
            ) from exc
    return req


def decide(user: Any, req: EventRequest, approve: bool, note: str = "") -> EventRequest:
    """The command centre approves or refuses a request; approval applies it, both are logged. A
    refusal says why (the department must know what to do instead)."""
    authorize(user, Action.COMMAND, req.event)
    note = (note or "").strip()
    if not approve and not note:
        raise _refuse("reason_required", "不同意时请说明理由。", "Give a reason when refusing.")
    if len(note) > 500:
        raise _refuse("too_long", "审批意见不超过 500 字。", "The note is at most 500 characters.")
    with transaction.atomic():
        r = EventRequest.objects.select_for_update().get(pk=req.pk)
        if r.decision != EventRequest.Decision.PENDING:
            raise _refuse("already_decided", "该申请已审批。", "This request was already decided.", 409)
        ev = _locked(r.event, None)
        now = clock.now()
        mv = _REQUEST_MOVE[EventRequest.Kind(r.kind)]
        if approve:
            try:
                after = loop.apply(Step(ev.step), mv)
            except StepError as exc:
                raise _refuse("wrong_step", exc.zh, exc.en, 409) from exc
            before = Step(ev.step)
            data: dict[str, Any] = {"request": r.pk}
            if mv == Move.RETURN:
                _return(ev, data)
            elif mv == Move.VOID:
                ev.closed_at = now
            elif mv == Move.EXTEND:
                extra = timedelta(hours=r.hours or 0)
                ev.due_at = (ev.due_at or now) + extra
                ev.step_due_at = (ev.step_due_at or now) + extra
                ev.extension_count += 1
                ev.escalation = 0
                data["hours"] = r.hours
            elif mv == Move.DEFER:
                ev.deferred_until = r.until
                data["until"] = r.until.isoformat() if r.until else None
            elif mv == Move.BACKLOG:
                ev.backlog = True
            _commit_move(ev, user, mv, before, after, now, f"{r.reason}" + (f" / {note}" if note else ""), data)
        r.decision = EventRequest.Decision.APPROVED if approve else EventRequest.Decision.REFUSED
        r.decided_by = user
        r.decided_at = now
        r.decision_note = note
        r.save()
    return r


# --- escalation ------------------------------------------------------------------------------------


def escalate_overdue(now: datetime | None = None, batch: int = 5000) -> int:
    """Raise the escalation level of every open, overdue event ("吹哨": street, then district),
    skipping cases on the backlog or deferred. Run every few minutes (``manage.py escalate_events``).
    Returns the number of events escalated."""
    now = now or clock.now()
    done = 0
    qs = (
        Event.objects.filter(
            step__in=[s.value for s in loop.OPEN_STEPS], step_due_at__lt=now, escalation__lt=loop.DISTRICT
        )
        .filter(backlog=False)
        .filter(Q(deferred_until__isnull=True) | Q(deferred_until__lt=now))
        .select_related("category")
        .order_by("step_due_at")[:batch]
    )
    for ev in qs:
        key = loop.LIMIT_OF_STEP.get(Step(ev.step))
        hours = loop.limits_with_defaults(ev.category.limits)[key] if key else 24.0
        level = loop.escalation_level(now, ev.step_due_at, hours)
        if level <= ev.escalation:
            continue
        with transaction.atomic():
            locked = Event.objects.select_for_update().get(pk=ev.pk)
            if locked.escalation >= level or locked.step != ev.step:
                continue
            Event.objects.filter(pk=ev.pk).update(escalation=level, updated_at=now)
            EventLog.objects.create(
                event=locked,
                at=now,
                actor=None,
                actor_label="system",
                move=Move.ESCALATE,
                step_from=locked.step,
                step_to=locked.step,
                department=locked.department,
                data={"level": level, "overdue_since": locked.step_due_at.isoformat() if locked.step_due_at else None},
            )
            done += 1
    return done


def is_overdue(event: Event, now: datetime | None = None) -> bool:
    now = now or clock.now()
    if not event.is_open or event.backlog or (event.deferred_until and event.deferred_until > now):
        return False
    return event.step_due_at is not None and event.step_due_at < now


def reporter_contact(user: Any, event: Event) -> dict[str, str]:
    """The reporter's name and phone for the handling chain (EVENTS in scope), logged as a read of
    personal data; masked for anyone else (who should not be seeing the case at all)."""
    from linli.accounts.models import AccessLog

    if can(user, Action.EVENTS, event):
        if event.reporter_phone_enc:
            AccessLog.objects.create(
                user=user,
                what=AccessLog.What.REVEAL_PHONE,
                object_type="event",
                object_id=str(event.pk),
                path=event.path,
            )
        return {
            "name": event.reporter_name,
            "phone": crypto.decrypt(event.reporter_phone_enc),
            "email": crypto.decrypt(event.reporter_email_enc),
        }
    return {"name": masking.mask_name(event.reporter_name), "phone": event.reporter_phone_masked, "email": ""}
