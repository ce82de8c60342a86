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

Those predicates live in ``linli.governance.permissions``; what a move does to the case (the next step,
deadlines, counters, flags) is ``loop.take``, which the demo's year of events uses too. Input a
reporter gives is checked by ``linli.governance.inputs`` (shared with the pages and Open311).
Departments and the reporter's contact are accounts' rows: written and read through
``linli.accounts.services`` (``ensure_department``, ``ensure_locality_office``, ``reveal_contact``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, signals
from django.urls import reverse

from linli.accounts import audit
from linli.accounts import services as accounts_services
from linli.accounts.models import AccessLog, Department, RoleGrant
from linli.accounts.permissions import authorize, can
from linli.accounts.roles import Action
from linli.core import clock, crypto, generations, masking, prepared
from linli.core.errors import LinliError
from linli.core.geo import box, metres
from linli.core.photos import check_photo
from linli.core.types import User
from linli.governance import inputs, loop, permissions
from linli.governance.categories import CATEGORIES, DEPARTMENTS, Kind
from linli.governance.inputs import MAX_PHOTOS as MAX_PHOTOS  # read here by the pages
from linli.governance.inputs import MAX_TEXT as MAX_TEXT  # read here by Open311
from linli.governance.loop import Move, Step, StepError
from linli.governance.models import Category, Channel, Event, EventLog, EventPhoto, EventRequest, RoutingRule
from linli.governance.services import public
from linli.notify import services as notify_services
from linli.places.models import Building, Community, District, Street
from linli.places.queries import spots

# --- catalogue and departments ----------------------------------------------------------------------


def ensure_catalogue(district: District) -> int:
    """Write the default departments (of ``district``), a locality office per street, and the default
    categories, where missing. Never overwrites what a district changed. Returns rows created."""
    created = 0
    with transaction.atomic():
        by_code: dict[str, Department] = {}
        for spec in DEPARTMENTS:
            code = f"{district.code}-{spec.code}"
            dept, made = accounts_services.ensure_department(
                code, district, name=spec.zh, name_en=spec.en, kind=spec.kind, phone=spec.phone
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
    """The street's locality office (属地): the department of last resort (属地兜底); accounts
    creates it when the street has none yet (``ensure_locality_office``). (office, created)."""
    return accounts_services.ensure_locality_office(street)


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


def _spot(row: Sequence[Any]) -> Spot:
    pk, lat, lon, grid_id, community_id, street_id, path, name, community_name = row
    return Spot(pk, lat, lon, grid_id, community_id, street_id, path, f"{community_name} {name}")


#: How many of the nearest buildings (by a flat approximation, in SQL) ``locate_spot`` measures
#: exactly: within the snapping radius the approximation ranks points to ~1 cm, so the nearest by
#: ``metres()`` is always among them; the rest of the box is never sent to Python.
_NEAREST = 16


def _buildings_in_box(
    s: float, n: float, w: float, e: float, within: str, near: tuple[float, float] | None = None
) -> list[tuple[Any, ...]]:
    """Buildings with a position inside the box, as ``_SPOT_FIELDS`` rows: the ``_NEAREST`` nearest
    to ``near`` (flat distance, the longitude scaled by cos(latitude)), else at most 500. Plain SQL:
    this runs on every report, and building the ORM query cost more than running it."""
    b, c = Building._meta.db_table, Community._meta.db_table
    # The box's buildings are picked (and cut to the nearest) first, and only those few are joined
    # to their community: joining the whole box cost a third of the statement.
    params: list[Any] = []
    flat = "NULL"
    if near is not None:
        la, lo = near
        k = math.cos(math.radians(la))
        flat = "(lat - %s) * (lat - %s) + (lon - %s) * (lon - %s) * %s"
        params += [la, la, lo, lo, k * k]
    inner = (
        f"SELECT {flat} AS flat, id, lat, lon, grid_id, community_id, path, name FROM {b} "  # noqa: S608
        "WHERE lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s"
    )
    params += [s, n, w, e]
    if within:
        inner += " AND path LIKE %s"
        params.append(within.replace("%", "").replace("_", "") + "%")
    if near is None:
        inner += " LIMIT 500"
    else:
        inner += " ORDER BY flat, id LIMIT %s"
        params.append(_NEAREST)
    sql = (
        f"SELECT b.id, b.lat, b.lon, b.grid_id, b.community_id, c.street_id, b.path, b.name, c.name "  # noqa: S608
        f"FROM ({inner}) b JOIN {c} c ON c.id = b.community_id ORDER BY b.flat, b.id"
    )
    return prepared.execute(sql, params)


def locate_spot(lat: Any, lon: Any, *, within: str = "") -> Spot:
    """The building nearest to (lat, lon) within ``LINLI_EVENT_SNAP_METRES`` (under ``within``, a
    place path), or a 400 saying the place is outside the jurisdiction."""
    la, lo = inputs.position(lat, lon)
    radius = float(settings.LINLI_EVENT_SNAP_METRES)
    best: tuple[float, Sequence[Any]] | None = None
    grid = spots.index()  # the buildings in this process's memory (None: ask the database)
    if grid is not None:
        best = spots.nearest(grid, la, lo, radius, within)
    else:
        s, n, w, e = box(la, lo, radius)
        for row in _buildings_in_box(s, n, w, e, within, near=(la, lo)):
            d = metres(la, lo, row[1], row[2])
            if d <= radius and (best is None or d < best[0]):
                best = (d, row)
    if best is None:
        raise LinliError.one(
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
    s, n, w, e = box(lat, lon, radius)
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
    #: one ``photo_stamp`` field per photo (``inputs.photo_stamps``): the phone's time and position
    photo_stamps: Sequence[str] = ()
    #: the reporter's own data says someone is in danger now (a lift controller's "passengers trapped",
    #: issue 13): urgent as if ``danger_now`` were answered yes. Set by services only (sensing), never
    #: read from a form or Open311.
    danger: bool = False


_CATEGORY_TTL_S = 30.0
_categories: dict[str, tuple[float, str, Category]] = {}


def category_by_code(code: str | Category) -> Category:
    """An active category by its code. Kept in memory for 30 s per process, and only while the
    generation "categories" is unchanged (linli.core.generations, one cache GET; bumped by every
    save or delete of a category, apps.py): one switched off is refused at once on every server."""
    if isinstance(code, Category):
        if not code.active:
            raise LinliError.one(
                "unknown_category", f"未知的事件类别:{code.code}", f"Unknown event category: {code.code}"
            )
        return code
    code = (code or "").strip()
    now = time.monotonic()
    (token,) = generations.tokens("categories")
    hit = _categories.get(code)
    if hit is not None and now - hit[0] < _CATEGORY_TTL_S and hit[1] == token:
        return hit[2]
    cat = Category.objects.filter(code=code, active=True).first()
    if cat is None:
        _categories.pop(code, None)
        raise LinliError.one("unknown_category", f"未知的事件类别:{code}", f"Unknown event category: {code}")
    if len(_categories) > 1000:
        _categories.clear()
    _categories[code] = (now, token, cat)
    return cat


def forget_categories() -> None:
    """Drop the in-memory categories (tests; after editing categories in a shell)."""
    _categories.clear()


def check_attributes(category: Category, given: dict[str, Any]) -> dict[str, Any]:
    """Validate attribute values against the category's definition (Open311 service definition;
    ``inputs.attributes``)."""
    return inputs.attributes(category.attributes or [], given)


def _replay(source: str, client_key: str) -> Event | None:
    """The event already taken in under (source, client key): what a retry is answered with. One
    prepared statement (a tenth of the Open311 load is retries: compiling the ORM query for each was
    a tenth of the intake's CPU)."""
    if not client_key:
        return None
    return prepared.first(Event, "source = %s AND client_key = %s", [source, client_key])


#: ``Channel.values`` builds its list anew on every read (2 % of an Open311 worker's time, py-spy)
_CHANNELS = frozenset(Channel.values)


class _Taken(Exception):
    """The insert found the (source, client key) already taken: roll back, answer with the first."""


def report(
    actor: User | None,
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
    if channel not in _CHANNELS:
        raise LinliError.one("bad_channel", "未知的上报渠道。", "Unknown reporting channel.")
    user = actor if actor is not None and actor.is_authenticated else None
    source = source or (f"u:{user.pk}" if user else "")
    if not source:
        raise LinliError.one("not_signed_in", "请先登录。", "Sign in first.", 403)
    client_key = inputs.client_key(data.client_key)
    # The unique (source, client_key) makes a retry's insert fail, and then the first event is
    # returned, so a report without photos needs no look-up first (one query fewer on the Open311
    # path). With photos, look first: re-checking six photos costs more than the query.
    if client_key and data.photos:
        found = _replay(source, client_key)
        if found is not None:
            return found, False
    category = category_by_code(data.category)
    description = inputs.description(data.description)
    lat: float | None
    lon: float | None
    if data.building:
        qs = Building.objects.filter(pk=data.building)
        if jurisdiction:
            qs = qs.filter(path__startswith=jurisdiction)
        row = qs.values_list(*_SPOT_FIELDS).first()
        if row is None:
            raise LinliError.one("unknown_building", "所选楼栋不存在。", "The chosen building does not exist.")
        spot = _spot(row)
        lat, lon = inputs.number(data.lat, spot.lat), inputs.number(data.lon, spot.lon)
        if lat is None or lon is None:
            raise LinliError.one(
                "bad_location", "该楼栋没有坐标,请在地图上选点。", "This building has no position: pick one."
            )
    else:
        if data.lat in (None, "") or data.lon in (None, ""):
            raise LinliError.one(
                "location_required", "请提供位置(定位或在地图上选点)。", "Give a location (device or map)."
            )
        spot = locate_spot(data.lat, data.lon, within=jurisdiction)
        lat, lon = float(data.lat), float(data.lon)
    attributes = check_attributes(category, data.attributes)
    phone = inputs.phone(data.reporter_phone)
    inputs.photo_count(data.photos)
    stamps = inputs.photo_stamps(data.photo_stamps, len(data.photos), clock.now())

    command = False
    if user is not None:
        # the permission check needs only the building's key (and no other column)
        building = Building.objects.only("pk").get(pk=spot.building_id)
        if channel == Channel.GRID:
            authorize(user, Action.REPORT, building)
        elif channel in (Channel.HOTLINE, Channel.TASK):
            authorize(user, Action.COMMAND, building)
        command = can(user, Action.COMMAND, building)
    checked = [check_photo(p, i + 1) for i, p in enumerate(data.photos)]

    now = clock.now()
    step = Step.REGISTERED if command else Step.COLLECTED
    urgent = data.danger or loop.is_danger(attributes)
    case = loop.opened(step, now, category.limits, urgent=urgent)
    event = prepared.build(
        Event,
        dict(
            category_id=category.pk,
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
            reporter_id=user.pk if user else None,
            reporter_name=(data.reporter_name or (user.get_full_name() if user else "") or "").strip()[:100],
            reporter_phone_enc=crypto.encrypt(phone),
            reporter_phone_masked=masking.mask_phone(phone) if phone else "",
            reporter_phone_hash=crypto.lookup_hash(phone),
            reporter_email_enc=crypto.encrypt((data.reporter_email or "").strip()),
            account_id=(data.account_id or "")[:64],
            device_id=(data.device_id or "")[:64],
            media_url=(data.media_url or "")[:500],
            source=source,
            client_key=client_key,
            step=case.step,
            created_at=now,
            updated_at=case.updated_at,
            step_started_at=case.step_started_at,
            step_due_at=case.step_due_at,
            urgent=case.urgent,
        ),
        related={"category": category},
    )
    # the history entries: who and when are the same for each
    who = {
        "at": now,
        "actor_id": user.pk if user else None,
        "actor_label": actor_label or (str(user) if user else source),
    }
    logs = [
        prepared.build(EventLog, {**who, "move": "create", "step_to": Step.COLLECTED, "data": {"channel": channel}})
    ]
    if step == Step.REGISTERED:
        logs.append(
            prepared.build(
                EventLog, {**who, "move": Move.REGISTER, "step_from": Step.COLLECTED, "step_to": Step.REGISTERED}
            )
        )
    try:
        if connection.vendor == "postgresql" and not (checked or event.urgent or connection.in_atomic_block):
            # One statement writes the event and its history, atomic on its own: no BEGIN and
            # COMMIT round trips (the Open311 intake: docs/open311.md "Where the time goes").
            if not _insert_with_log(event, logs):
                raise _Taken
        else:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    if not _insert_with_log(event, logs):
                        raise _Taken  # rolls back the transaction: nothing of this report is kept
                else:
                    event.save()
                    for entry in logs:
                        entry.event = event
                        entry.save()
                _save_photos(event, checked, EventPhoto.Stage.REPORT, user, stamps)
                if event.urgent:
                    _alarm(event)
    except (IntegrityError, _Taken) as exc:
        found = _replay(source, client_key)
        if found is None:
            if isinstance(exc, _Taken):  # the first was deleted in between: the key is free again
                raise LinliError.one(
                    "retry", "同一请求正在处理,请稍后重试。", "The same request was just being handled: retry.", 409
                ) from None
            raise
        return found, False
    return event, True


_INSERT_SQL: list[str] = []


def _columns(model: type[Any], skip: tuple[str, ...]) -> list[Any]:
    return [f for f in model._meta.local_concrete_fields if not f.primary_key and f.name not in skip]


# Per column of Event: the Python types whose value goes to psycopg as it is (what
# ``get_db_prep_save`` would return unchanged for them on PostgreSQL), or () for the full preparation.
_PLAIN: list[tuple[type, ...]] = []


def _plain_types(f: Any) -> tuple[type, ...]:
    """The value types of field ``f`` that need no preparation: the intake path builds its 40-odd
    parameters without Django's per-field conversion chain (a tenth of the request's CPU, measured
    with ``python -m bench.bench_open311 --phases``). Anything else — a str in a number column, a
    naive datetime, JSON, UUIDs, fields that set themselves on save — takes the full path."""
    from django.db import models

    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return ()
    if isinstance(f, models.ForeignKey):
        return (int, type(None)) if isinstance(f.target_field, models.AutoField | models.BigAutoField) else ()
    if isinstance(f, models.BooleanField):
        return (bool, type(None))
    if isinstance(f, models.CharField | models.TextField):
        return (str, type(None))
    if isinstance(f, models.FloatField):
        return (float, type(None))
    if isinstance(f, models.IntegerField | models.SmallIntegerField | models.BigIntegerField) and not isinstance(
        f, models.AutoField | models.BigAutoField
    ):
        return (int, type(None))
    if isinstance(f, models.DateTimeField):
        return (datetime, type(None))
    return ()


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()  # every microsecond (DjangoJSONEncoder would cut to milliseconds)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _insert_with_log(event: Event, logs: list[EventLog]) -> bool:
    """PostgreSQL: the new event and its history entries in one statement (``WITH e AS (INSERT …
    RETURNING id) INSERT INTO eventlog … SELECT … FROM e, jsonb_populate_recordset(…)``): one round
    trip and one statement to parse instead of two ORM inserts, and few enough parameters (the
    history rows are one JSON parameter) that psycopg keeps the parsed query. The event's values are
    prepared by each field exactly as ``Model.save()`` prepares them, and Event's ``pre_save`` and
    ``post_save`` are sent as ``save()`` sends them (the command centre's roll-up listens to them).
    Inside the caller's transaction.

    False, with nothing written and no ``post_save``, when (source, client key) is already taken:
    ``ON CONFLICT … DO NOTHING`` on the idempotency constraint, so a retry costs no error on the
    server and no exception here (PostgreSQL waits for a concurrent insert of the same key to
    commit or roll back first)."""
    qn = connection.ops.quote_name
    ev_fields = _columns(Event, ())
    log_fields = _columns(EventLog, ("event",))
    if not _INSERT_SQL:
        cols = ", ".join(qn(f.column) for f in ev_fields)
        marks = ", ".join(["%s"] * len(ev_fields))
        log_cols = ", ".join(qn(f.column) for f in log_fields)
        picked = ", ".join(f"r.{qn(f.column)}" for f in log_fields)
        log_table = qn(EventLog._meta.db_table)
        _INSERT_SQL.append(
            f"WITH e AS (INSERT INTO {qn(Event._meta.db_table)} ({cols}) VALUES ({marks}) "  # noqa: S608
            # the partial unique constraint event_client_key_unique (models.py), named by its columns
            # and condition: an empty client key never conflicts
            f"ON CONFLICT ({qn('source')}, {qn('client_key')}) WHERE NOT ({qn('client_key')} = '') DO NOTHING "
            "RETURNING id) "
            f"INSERT INTO {log_table} ({qn('event_id')}, {log_cols}) "
            f"SELECT e.id, {picked} FROM e, jsonb_populate_recordset(NULL::{log_table}, %s::jsonb) AS r "
            "RETURNING event_id"
        )
    signals.pre_save.send(sender=Event, instance=event, raw=False, using=connection.alias, update_fields=None)
    if not _PLAIN:
        _PLAIN.extend(_plain_types(f) for f in ev_fields)
    values = event.__dict__
    params = [
        value
        if plain
        and type(value := values[f.attname]) in plain
        and (value is None or not isinstance(value, datetime) or value.tzinfo)
        else f.get_db_prep_save(f.pre_save(event, True), connection)
        for f, plain in zip(ev_fields, _PLAIN, strict=True)
    ]
    rows = [{f.column: f.pre_save(entry, True) for f in log_fields} for entry in logs]
    params.append(json.dumps(rows, default=_json_value))
    written = prepared.execute(_INSERT_SQL[0], params)
    if not written:
        return False
    event.pk = written[0][0]
    event._state.adding = False
    event._state.db = connection.alias
    for entry in logs:
        entry.event = event
        entry._state.adding = False
        entry._state.db = connection.alias
    signals.post_save.send(
        sender=Event, instance=event, created=True, update_fields=None, raw=False, using=connection.alias
    )
    return True


def _alarm(event: Event) -> None:
    """Tell the command centre on duty for the case's place at once that someone is in danger
    (``permissions.command_centre_of``). Called inside the transaction that makes the case urgent:
    ``notify`` sends only once it commits (nothing is sent for a case that was never saved)."""
    pk = event.pk
    recipients = permissions.command_centre_of(event)
    where = Building.objects.select_related("compound").filter(pk=event.building_id or 0).first()
    place = f"{where.compound.name} {where.name}" if where else ""
    title_zh = f"紧急案件 #{pk}:{event.category.name},{place}"
    title_en = f"Urgent case #{pk}: {event.category.name_en or event.category.name}, {place}"
    url = reverse("governance:event_detail", args=[pk])
    if recipients:
        notify_services.urgent_case(pk, recipients, title_zh, title_en, url)


def _tell(ev: Event, mv: Move, actor_id: int | None) -> None:
    """Notifications of a move (docs/notifications.md), sent after the commit: the department a case is
    dispatched to, the command centre it is returned to, the handler sent back to rework, everyone on
    an overdue case, and the signed-in reporter of a case whose step changed (not the mover)."""
    grants = RoleGrant.objects.filter(place_kind="department", place_id=ev.department_id or 0, revoked_at__isnull=True)
    staff = list(grants.filter(user__is_active=True).values_list("user_id", flat=True)) if ev.department_id else []
    n, zh, en = ev.pk, ev.category.name, ev.category.name_en or ev.category.name
    said: list[tuple[str, list[int], str, str]] = []
    if mv == Move.DISPATCH:
        said.append(("dispatched", staff, f"案件 #{n} 派给你部门:{zh}", f"Case #{n} dispatched to you: {en}"))
    elif mv == Move.RETURN:
        back = permissions.command_centre_of(ev)
        said.append(("returned", back, f"案件 #{n} 被回退:{zh}", f"Case #{n} returned: {en}"))
    elif mv == Move.VERIFY_FAIL:
        hands = [*staff, *([ev.handler_id] if ev.handler_id else [])]
        said.append(("returned", hands, f"案件 #{n} 核查未通过,请返工:{zh}", f"Case #{n} failed its check: {en}"))
    elif mv == Move.ESCALATE:
        everyone = [*staff, *permissions.command_centre_of(ev)]
        said.append(("overdue", everyone, f"案件 #{n} 已超时:{zh}", f"Case #{n} is overdue: {en}"))
    if mv in _STEP_MOVES and ev.reporter_id and ev.reporter_id != actor_id:
        step_zh, step_en = loop.STEP_NAMES[Step(ev.step)]
        said.append(("report_status", [ev.reporter_id], f"你反映的问题 #{n}:{step_zh}", f"Your report #{n}: {step_en}"))
    url = reverse("governance:event_detail", args=[n])
    for kind, to, title_zh, title_en in said:
        ids = [u for u in to if u != actor_id]
        notify_services.notify(kind, ids, title_zh=title_zh, title_en=title_en, url=url, ref=f"event:{n}")
    if mv in _STEP_MOVES:
        # the followers ("me too" people follow too: services.public), at the public page when the map
        # shows the case (a resident cannot open the staff page), the same step changes as the reporter
        followers = [u for u in public.followers_of(ev) if u != actor_id]
        if followers:
            step_zh, step_en = loop.STEP_NAMES[Step(ev.step)]
            seen = reverse("governance:public_event", args=[n]) if permissions.is_public(ev) else url
            notify_services.notify(
                "followed_status",
                followers,
                title_zh=f"你关注的问题 #{n}:{step_zh}",
                title_en=f"A report you follow #{n}: {step_en}",
                url=seen,
                ref=f"event:{n}",
            )


#: Moves that change a case's step, which its reporter is told about.
_STEP_MOVES = frozenset(
    {Move.REGISTER, Move.DISPATCH, Move.ACCEPT, Move.REPORT, Move.VERIFY_PASS, Move.VERIFY_FAIL, Move.RETURN, Move.VOID}
)


def _save_photos(
    event: Event,
    checked: Sequence[Any],
    stage: str,
    user: User | None,
    stamps: Sequence[inputs.PhotoStamp] = (),
) -> None:
    for i, photo in enumerate(checked, start=1):
        stamp = stamps[i - 1] if i <= len(stamps) else inputs.PhotoStamp()
        ph = EventPhoto(
            event=event,
            stage=stage,
            width=photo.width,
            height=photo.height,
            uploaded_by_id=user.pk if user else None,
            taken_at=stamp.taken_at,
            taken_lat=stamp.lat,
            taken_lon=stamp.lon,
            taken_accuracy=stamp.accuracy,
        )
        ph.image.save(f"{stage}-{clock.now():%H%M%S}-{i}.{photo.ext}", ContentFile(photo.content), save=False)
        ph.save()


# --- the loop --------------------------------------------------------------------------------------


def _locked(event: Event, expected_step: str | None) -> Event:
    # of=("self",): lock the event row only; PostgreSQL refuses FOR UPDATE on the nullable side of
    # the outer join to the department.
    current = Event.objects.select_for_update(of=("self",)).select_related("category", "department").get(pk=event.pk)
    if expected_step and current.step != expected_step:
        raise LinliError.one(
            "step_changed",
            f"案件已变为“{current.step_names[0]}”,请刷新后再操作。",
            f"The case has moved on to “{current.step_names[1]}”; reload and try again.",
            409,
        )
    return current


#: The columns of an event that ``loop.Case`` holds (the department and handler as ids).
_CASE_FIELDS = tuple(f.name for f in fields(loop.Case) if f.name not in ("department", "handler"))


def _case(ev: Event) -> loop.Case:
    """The event's state as the loop sees it."""
    return loop.Case(
        **{name: getattr(ev, name) for name in _CASE_FIELDS},
        department=ev.department_id,
        handler=ev.handler_id,
    )


def _move(
    ev: Event,
    user: User,
    mv: Move,
    now: datetime,
    note: str,
    data: dict[str, Any],
    *,
    department: Department | None = None,
    **args: Any,
) -> None:
    """Take ``mv`` on the locked event through ``loop.take`` (the step, deadlines, counters and flags),
    save it and append the history row (``data``: what the caller records beside the loop's own).
    ``department``: the one a DISPATCH sends the case to. A move not allowed at the event's step is a
    409."""
    before = Step(ev.step)
    try:
        case, recorded = loop.take(
            _case(ev),
            mv,
            now,
            ev.category.limits,
            actor=user.pk,
            department=department.pk if department is not None else None,
            **args,
        )
    except StepError as exc:
        raise LinliError.one("wrong_step", exc.zh, exc.en, 409) from exc
    if mv == Move.RETURN:  # 回退: the history says which department it came back from
        data["from_department"] = ev.department.name if ev.department else ""
    for name in _CASE_FIELDS:
        setattr(ev, name, getattr(case, name))
    ev.department_id, ev.handler_id = case.department, case.handler
    if department is not None and case.department == department.pk:
        ev.department = department
    ev.save()
    EventLog.objects.create(
        event=ev,
        at=now,
        actor_id=user.pk,
        actor_label=str(user),
        move=mv,
        step_from=before,
        step_to=case.step,
        department=ev.department,
        note=note,
        data={**data, **recorded},
    )
    _tell(ev, mv, user.pk)


def act(
    user: User,
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
        raise LinliError.one("unknown_move", "未知的操作。", "Unknown action.") from exc
    if mv in (Move.BACKLOG, Move.EXTEND, Move.DEFER):
        raise LinliError.one(
            "needs_request", "该操作须由部门申请、指挥中心审批。", "This needs a request and approval."
        )
    note = inputs.note(note)
    inputs.photo_count(photos)
    permissions.check_who(user, event, mv)
    checked = [check_photo(p, i + 1) for i, p in enumerate(photos)]
    with transaction.atomic():
        ev = _locked(event, expected_step)
        try:
            loop.apply(Step(ev.step), mv)
        except StepError as exc:
            raise LinliError.one("wrong_step", exc.zh, exc.en, 409) from exc
        now = clock.now()
        data: dict[str, Any] = {}
        target: Department | None = None
        value: int | None = None
        if mv == Move.DISPATCH:
            candidates = route(ev.category, ev.path, ev.street)
            target = department or candidates[0]
            if not target.active:
                raise LinliError.one("inactive_department", "该部门已停用。", "That department is inactive.")
            if not (target.path and ev.path.startswith(target.path)):
                raise LinliError.one(
                    "department_out_of_area", "该部门不管辖此地。", "That department does not serve this place."
                )
            data["department"] = target.name
            data["routed"] = [d.pk for d in candidates]
        elif mv == Move.REPORT:
            if not note and not checked:
                raise LinliError.one(
                    "report_needs_detail", "请说明处置情况或上传照片。", "Say what was done or add a photo."
                )
        elif mv in (Move.VERIFY_PASS, Move.VERIFY_FAIL):
            if not permissions.may_verify(user, ev):
                raise LinliError.one(
                    "verifier_is_handler",
                    "核查人不能是处置人,请由网格员或指挥中心核查。",
                    "The verifier must not be the person who handled the case.",
                    403,
                )
            if mv == Move.VERIFY_FAIL and not note:
                raise LinliError.one("reason_required", "请说明核查未通过的原因。", "Say why the check failed.")
        elif mv == Move.EVALUATE:
            try:
                value = int(score)
            except (TypeError, ValueError) as exc:
                raise LinliError.one(
                    "bad_score", "评价须为 1–5 分。", "The evaluation is a score from 1 to 5."
                ) from exc
            if not 1 <= value <= 5:
                raise LinliError.one("bad_score", "评价须为 1–5 分。", "The evaluation is a score from 1 to 5.")
        elif mv == Move.VOID:
            if not note:
                raise LinliError.one("reason_required", "请说明作废原因。", "Say why the case is voided.")
            if duplicate_of is not None:
                if duplicate_of.pk == ev.pk:
                    raise LinliError.one("bad_duplicate", "不能标记为自身的重复。", "A case cannot duplicate itself.")
                ev.duplicate_of = duplicate_of
                data["duplicate_of"] = duplicate_of.pk
        elif mv == Move.RETURN and not note:
            raise LinliError.one("reason_required", "请说明回退原因。", "Say why the case is returned.")
        elif mv in (Move.URGENT, Move.NOT_URGENT):
            if not note:
                raise LinliError.one(
                    "reason_required", "请说明标为紧急或取消紧急的原因。", "Say why the case is or is no longer urgent."
                )
            if ev.urgent == (mv == Move.URGENT):
                raise LinliError.one(
                    "already_so",
                    "案件已是紧急案件。" if ev.urgent else "案件本来就不是紧急案件。",
                    "The case is already urgent." if ev.urgent else "The case is not urgent.",
                    409,
                )
        _move(ev, user, mv, now, note, data, department=target, score=value)
        stage = {Move.REPORT: EventPhoto.Stage.HANDLE, Move.VERIFY_PASS: EventPhoto.Stage.VERIFY}.get(
            mv, EventPhoto.Stage.VERIFY if mv == Move.VERIFY_FAIL else EventPhoto.Stage.REPORT
        )
        _save_photos(ev, checked, stage, user)
        if mv == Move.URGENT:
            _alarm(ev)
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
    user: User, event: Event, kind: str, reason: str, *, hours: Any = None, until: datetime | None = None
) -> EventRequest:
    """A department asks to return, void, extend, defer or backlog a case dispatched to it."""
    if kind not in EventRequest.Kind.values:
        raise LinliError.one("unknown_request", "未知的申请类型。", "Unknown kind of request.")
    authorize(user, Action.HANDLE, event)
    assert user.is_authenticated  # authorize() let only a signed-in user through
    reason = (reason or "").strip()
    if not reason:
        raise LinliError.one("reason_required", "请说明申请理由。", "Give a reason.")
    if len(reason) > 1000:
        raise LinliError.one("too_long", "理由不超过 1000 字。", "The reason is at most 1000 characters.")
    h: int | None = None
    if kind == EventRequest.Kind.EXTEND:
        try:
            h = int(hours)
        except (TypeError, ValueError) as exc:
            raise LinliError.one("bad_hours", "延期时长须为 1–720 小时。", "An extension is 1 to 720 hours.") from exc
        if not 1 <= h <= 720:
            raise LinliError.one("bad_hours", "延期时长须为 1–720 小时。", "An extension is 1 to 720 hours.")
    if kind == EventRequest.Kind.DEFER and (
        until is None or until <= clock.now() or until > clock.now() + timedelta(days=366)
    ):
        raise LinliError.one("bad_until", "缓办须至今后一年内的某日。", "Defer to a date within the coming year.")
    with transaction.atomic():
        ev = _locked(event, None)
        try:
            loop.apply(Step(ev.step), _REQUEST_MOVE[EventRequest.Kind(kind)])
        except StepError as exc:
            raise LinliError.one("wrong_step", exc.zh, exc.en, 409) from exc
        if EventRequest.objects.filter(event=ev, decision=EventRequest.Decision.PENDING).exists():
            raise LinliError.one(
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
                    requested_by_id=user.pk,
                    requested_at=clock.now(),
                )
        except IntegrityError as exc:
            raise LinliError.one(
                "request_pending", "该案件已有待审批的申请。", "This case already has a request pending.", 409
            ) from exc
    return req


def decide(user: User, req: EventRequest, approve: bool, note: str = "") -> EventRequest:
    """The command centre approves or refuses a request; approval applies it, both are logged. A
    refusal says why (the department must know what to do instead)."""
    authorize(user, Action.COMMAND, req.event)
    note = (note or "").strip()
    if not approve and not note:
        raise LinliError.one("reason_required", "不同意时请说明理由。", "Give a reason when refusing.")
    if len(note) > 500:
        raise LinliError.one("too_long", "审批意见不超过 500 字。", "The note is at most 500 characters.")
    with transaction.atomic():
        r = EventRequest.objects.select_for_update().get(pk=req.pk)
        if r.decision != EventRequest.Decision.PENDING:
            raise LinliError.one("already_decided", "该申请已审批。", "This request was already decided.", 409)
        ev = _locked(r.event, None)
        now = clock.now()
        mv = _REQUEST_MOVE[EventRequest.Kind(r.kind)]
        if approve:
            note_ = f"{r.reason}" + (f" / {note}" if note else "")
            _move(ev, user, mv, now, note_, {"request": r.pk}, hours=r.hours, until=r.until)
        r.decision = EventRequest.Decision.APPROVED if approve else EventRequest.Decision.REFUSED
        r.decided_by_id = user.pk
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
        hours = loop.limits_for(ev.category.limits, ev.urgent)[key] if key else 24.0
        level = loop.escalation_level(now, ev.step_due_at, hours)
        if level <= ev.escalation:
            continue
        with transaction.atomic():
            locked = Event.objects.select_for_update().get(pk=ev.pk)
            if locked.escalation >= level or locked.step != ev.step:
                continue
            case, data = loop.take(_case(locked), Move.ESCALATE, now, ev.category.limits, level=level)
            Event.objects.filter(pk=ev.pk).update(escalation=case.escalation, updated_at=case.updated_at)
            EventLog.objects.create(
                event=locked,
                at=now,
                actor=None,
                actor_label="system",
                move=Move.ESCALATE,
                step_from=locked.step,
                step_to=case.step,
                department_id=locked.department_id,
                data=data,
            )
            _tell(locked, Move.ESCALATE, None)
            done += 1
    return done


def is_overdue(event: Event, now: datetime | None = None) -> bool:
    now = now or clock.now()
    if not event.is_open or event.backlog or (event.deferred_until and event.deferred_until > now):
        return False
    return event.step_due_at is not None and event.step_due_at < now


#: Why a phone search is logged: staff finding a caller's cases read which cases one person reported.
PHONE_SEARCH_REASON = "按上报人电话查找案件 / cases found by the reporter's phone"


def log_phone_search(user: User, phone: str, found: int) -> None:
    """Log a search of cases by a reporter's phone (``accounts.services.log_access``): who, the
    masked phone, how many cases it found, under the place scope they search in (``audit.scope_path``).
    Matching itself never decrypts: it compares the keyed hash (``Event.reporter_phone_hash``)."""
    if not user.is_authenticated:
        return
    with transaction.atomic():
        accounts_services.log_access(
            user,
            AccessLog.What.VIEW_PEOPLE,
            None,
            path=audit.scope_path(user, Action.EVENTS.value),
            reason=f"{PHONE_SEARCH_REASON}: {masking.mask_phone(phone)} → {found}",
        )


def reporter_contact(user: User, event: Event) -> dict[str, str]:
    """The reporter's name, phone and e-mail for the handling chain (EVENTS in scope), to call them
    back: read through ``accounts.services.reveal_contact``, which logs a phone read with its
    purpose; masked for anyone else (who should not be seeing the case at all)."""
    full = accounts_services.reveal_contact(
        user,
        Action.EVENTS,
        event,
        phone_enc=event.reporter_phone_enc,
        email_enc=event.reporter_email_enc,
        object_type="event",
        path=event.path,
    )
    if full is not None:
        return {"name": event.reporter_name, **full}
    return {"name": masking.mask_name(event.reporter_name), "phone": event.reporter_phone_masked, "email": ""}
