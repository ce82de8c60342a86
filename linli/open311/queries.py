"""Reads of Open311: api keys, jurisdictions, services (event categories), addresses, and the
public record of a request (docs/open311.md).

The *public* view of an event carries no personal data at all (no reporter, no phone, no e-mail;
phone and ID numbers typed into any text are masked by core.masking), and shows the events of
private categories only to whoever asks for them by id, without place or description
(``permissions.is_private``).

The POST path is benchmarked (bench/bench_open311.py, ≥ 500 requests/s on two processes): the
key lookup (by hash), the categories, the districts and the compound names are held in-process for
``LINLI_OPEN311_CACHE_SECONDS`` (30 s) and checked on every request against the generations of
``linli.core.generations`` (one cache GET): a deactivated key or a changed category is refused at
once on every app server; only districts and compound names may take the TTL to show.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from linli.core import generations
from linli.core.ids import as_id
from linli.core.lang import english, pick
from linli.core.masking import mask_text
from linli.governance import loop
from linli.governance.categories import KIND_NAMES, SECTOR_NAMES, Kind, Sector
from linli.governance.loop import MOVE_NAMES, SEVEN, STEP_NAMES, Move, Step
from linli.governance.models import Category, Event, EventLog
from linli.open311 import permissions
from linli.open311.errors import Open311Error
from linli.open311.models import ApiKey
from linli.open311.params import Query
from linli.places.models import Building, Compound, District
from linli.places.queries import spots

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Moves whose note is written for the public (what was done, why it was voided); other notes
# (returns between departments, internal remarks) stay inside.
PUBLIC_NOTE_MOVES = (Move.REPORT, Move.VERIFY_PASS, Move.VERIFY_FAIL, Move.VOID)


# --- in-process caches ------------------------------------------------------------------------------
# Each entry remembers the generation tokens (linli.core.generations) it was built under: a change
# to an api key ("open311") or a category ("categories") on any server gives new tokens, and every
# process reloads on its next request. The TTL only bounds what no change signal covers (districts,
# compound names). A request reads the tokens once (``fresh()``, one cache round trip).

GENERATIONS = ("open311", "categories")
T = TypeVar("T")
_cache: dict[Any, tuple[float, tuple[str, ...], Any]] = {}
_lock = threading.Lock()


def _ttl() -> float:
    return float(getattr(settings, "LINLI_OPEN311_CACHE_SECONDS", 30))


def _tokens() -> tuple[str, ...]:
    return generations.current(*GENERATIONS)


@contextmanager
def fresh() -> Iterator[None]:
    """Inside: every cached lookup is checked against the generations read once, on entry (the
    views wrap each request in it) — this module's and the buildings' that snapping holds in memory
    (``places.queries.spots``), in the same round trip."""
    with generations.held(*GENERATIONS, spots.GENERATION):
        yield


def _held(key: Any, tokens: tuple[str, ...]) -> Any:
    hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic() and hit[1] == tokens:
        return hit[2]
    return None


def _keep(key: Any, tokens: tuple[str, ...], value: Any) -> None:
    with _lock:
        if len(_cache) > 10_000:  # keys are bounded by the number of valid api keys; stay safe anyway
            _cache.clear()
        _cache[key] = (time.monotonic() + _ttl(), tokens, value)


def _cached(key: Any, make: Callable[[], T]) -> T:
    tokens = _tokens()
    value = _held(key, tokens)
    if value is None:
        value = make()
        _keep(key, tokens, value)
    return value


def forget() -> None:
    """Forget every cached key, category, district and compound name in this process
    (``services.clear_caches``; other processes are told by ``generations.bump``)."""
    with _lock:
        _cache.clear()


# --- api keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyInfo:
    """An active api key as a POST needs it: its id, client name and jurisdiction (a district)."""

    pk: int
    name: str
    district_id: int
    district_code: str
    district_path: str


def hash_key(raw: str) -> str:
    """What is stored of a key: its SHA-256 (the key itself is shown once, when issued)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def key_info(raw: str) -> KeyInfo:
    """The active key ``raw``, or a 403 (missing, unknown or inactive). Known keys are cached."""
    raw = (raw or "").strip()
    if not raw:
        raise Open311Error(403, ("缺少 api_key。", "The api_key is missing."))
    digest = hash_key(raw)

    def load() -> KeyInfo | None:
        row = (
            ApiKey.objects.filter(key_hash=digest, active=True)
            .values_list("pk", "name", "district_id", "district__code", "district__path")
            .first()
        )
        return KeyInfo(*row) if row else None

    # Unknown keys are not cached (a guesser must not fill the cache); each costs one indexed query.
    tokens = _tokens()
    info: KeyInfo | None = _held(("key", digest), tokens)
    if info is None:
        info = load()
        if info is None:
            raise Open311Error(403, ("api_key 无效或已停用。", "The api_key is not valid or has been deactivated."))
        _keep(("key", digest), tokens, info)
    return info


# --- jurisdictions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Jurisdiction:
    pk: int
    code: str
    path: str
    name: str


def jurisdictions() -> list[Jurisdiction]:
    """Every district, by code (cached)."""
    return _cached(
        ("districts",),
        lambda: [
            Jurisdiction(*row) for row in District.objects.order_by("code").values_list("pk", "code", "path", "name")
        ],
    )


def jurisdiction(jurisdiction_id: str) -> Jurisdiction:
    """The district a read asks for: by code; optional while the site serves one district."""
    all_ = jurisdictions()
    jid = (jurisdiction_id or "").strip()
    if jid:
        for j in all_:
            if j.code == jid:
                return j
        jid = jid[:40]
        raise Open311Error(404, (f"未找到辖区 jurisdiction_id={jid}。", f"jurisdiction_id {jid} was not found."))
    if len(all_) == 1:
        return all_[0]
    if not all_:
        raise Open311Error(404, ("尚未设置任何辖区。", "No jurisdiction is set up yet."))
    codes = ", ".join(j.code for j in all_)
    raise Open311Error(
        400, (f"本接口服务多个辖区,请提供 jurisdiction_id({codes})。", f"Give a jurisdiction_id (one of {codes}).")
    )


# --- services (event categories) -------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    pk: int
    code: str
    name: str
    name_en: str
    kind: str
    sector: str
    description: str
    keywords: str
    attributes: list[dict[str, Any]]
    limits: dict[str, float]
    # the row itself, handed to the report service so that it need not look the category up again
    category: Category | None = field(default=None, compare=False, repr=False)


def services() -> dict[str, Service]:
    """Active categories by code, in their order."""

    def load() -> dict[str, Service]:
        rows = Category.objects.filter(active=True).order_by("order", "code")
        return {
            c.code: Service(
                c.pk,
                c.code,
                c.name,
                c.name_en,
                c.kind,
                c.sector,
                c.description,
                c.keywords,
                list(c.attributes or []),
                dict(c.limits or {}),
                c,
            )
            for c in rows
        }

    return _cached(("services",), load)


def service(code: str) -> Service:
    """The active category ``code``: a 400 when missing, a 404 when unknown."""
    code = (code or "").strip()
    if not code:
        raise Open311Error(400, ("缺少 service_code。", "The service_code is missing."))
    found = services().get(code)
    if found is None:
        code = code[:40]
        raise Open311Error(404, (f"未找到服务类别 service_code={code}。", f"service_code {code} was not found."))
    return found


def service_item(s: Service, language: str) -> dict[str, Any]:
    """One entry of GET services: names in ``language`` ("en" or "zh")."""
    kind = KIND_NAMES.get(Kind(s.kind), ("", "")) if s.kind in Kind._value2member_map_ else ("", "")
    sector = SECTOR_NAMES.get(Sector(s.sector), ("", "")) if s.sector in Sector._value2member_map_ else ("", "")
    default_description = f"{kind[1]}: {s.name_en or s.name}" if english(language) else f"{kind[0]}:{s.name}"
    return {
        "service_code": s.code,
        "service_name": pick(s.name, s.name_en, language),
        "description": s.description or default_description,
        "metadata": bool(s.attributes),
        "type": "realtime",
        "keywords": s.keywords,
        "group": pick(sector[0], sector[1], language),
    }


_DATATYPE_HELP = {
    "string": ("一行文字", "One line of text"),
    "text": ("文字,可换行", "Text, may have line breaks"),
    "number": ("数字", "A number"),
    "datetime": ("日期时间(ISO 8601)", "A date and time (ISO 8601)"),
    "singlevaluelist": ("从列表中选一项", "Choose one of the values"),
    "multivaluelist": ("从列表中选一项或多项", "Choose one or more of the values"),
}


def service_definition(s: Service, language: str) -> dict[str, Any]:
    """GET services/<code>: the attributes a POST of the service takes, described in ``language``."""
    attributes = []
    for order, a in enumerate(s.attributes, start=1):
        datatype = a.get("datatype", "string")
        help_ = _DATATYPE_HELP.get(datatype, ("", ""))
        attributes.append(
            {
                "variable": True,
                "code": a["code"],
                "datatype": datatype,
                "required": bool(a.get("required")),
                "datatype_description": pick(help_[0], help_[1], language),
                "order": order,
                "description": pick(a.get("zh", ""), a.get("en", ""), language),
                "values": [
                    {"key": v[0], "name": pick(v[1], v[2] if len(v) > 2 else "", language)} for v in a.get("values", [])
                ],
            }
        )
    return {"service_code": s.code, "attributes": attributes}


def service_notice(s: Service) -> str:
    """What a client is told when its report is taken: who registers it and within how long."""
    hours = loop.limits_with_defaults(s.limits)["register"]
    h = f"{hours:g}"
    return (
        f"已受理,街道指挥中心将在 {h} 小时内立案派遣。 / "
        f"Received: the street command centre registers and dispatches it within {h} h."
    )


# --- addresses --------------------------------------------------------------------------------------


def _compound_names(path: str) -> list[tuple[str, int]]:
    def load() -> list[tuple[str, int]]:
        rows = Compound.objects.filter(path__startswith=path).values_list("name", "pk")
        names: list[tuple[str, int]] = []
        for name, pk in rows:
            clean = _squash(name)
            if clean:
                names.append((clean, pk))
            for suffix in ("小区", "社区", "院"):
                if clean.endswith(suffix) and len(clean) - len(suffix) >= 2:
                    names.append((clean[: -len(suffix)], pk))
        names.sort(key=lambda x: -len(x[0]))
        return names

    return _cached(("compounds", path), load)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def building_for_address(address: str, path: str) -> int:
    """The building an address in words names: a compound of the jurisdiction whose name the text
    contains (the longest), then one of its buildings named in the rest (else its first)."""
    text = _squash(address)
    for name, compound_pk in _compound_names(path):
        if name and name in text:
            rest = text.replace(name, "", 1)
            buildings = list(
                Building.objects.filter(compound_id=compound_pk, lat__isnull=False, lon__isnull=False).values_list(
                    "name", "pk"
                )
            )
            named = sorted(
                ((_squash(n), pk) for n, pk in buildings if _squash(n) and _squash(n) in rest), key=lambda x: -len(x[0])
            )
            if named:
                return named[0][1]
            if buildings:
                return min(pk for _n, pk in buildings)
    raise Open311Error(
        400,
        (
            "address_string 未能匹配到本辖区的小区或楼栋,请改用经纬度(lat/long)或 address_id。",
            "The address_string matches no compound or building of this jurisdiction; send lat/long or address_id.",
        ),
    )


def building_for_id(address_id: str, path: str) -> int:
    """address_id: a building's id, or its place path (e.g. 500107/001/001/0001/01/)."""
    value = address_id.strip()
    qs = Building.objects.filter(path__startswith=path)
    if value.isdigit():
        pk = qs.filter(pk=as_id(value) or 0).values_list("pk", flat=True).first()
    else:
        full = value if value.endswith("/") else value + "/"
        pk = qs.filter(path=full).values_list("pk", flat=True).first()
    if pk is None:
        raise Open311Error(
            400,
            (
                f"address_id={value} 不是本辖区登记的楼栋。",
                f"address_id {value} is not a building of this jurisdiction.",
            ),
        )
    return pk


# --- reading requests (public) -----------------------------------------------------------------------


def w3(dt: datetime | None) -> str | None:
    """ISO 8601 with the site's offset, e.g. 2025-05-01T09:30:00+08:00."""
    return timezone.localtime(dt).isoformat(timespec="seconds") if dt else None


def _base(j: Jurisdiction) -> QuerySet[Event]:
    return Event.objects.filter(path__startswith=j.path).select_related(
        "category", "department", "building__compound", "community", "street"
    )


def find(j: Jurisdiction, q: Query) -> list[Event]:
    """GET requests: ids override every other filter; otherwise code, time span and status, newest
    first, at most LINLI_OPEN311_MAX_REQUESTS (1000) per page; private categories only by id."""
    qs = _base(j)
    if q.ids:
        return list(qs.filter(pk__in=q.ids).order_by("-created_at", "-pk"))
    qs = qs.filter(created_at__gte=q.start, created_at__lte=q.end).exclude(
        category__code__in=permissions.private_codes()
    )
    if q.codes:
        known = services()
        qs = qs.filter(category__code__in=[c for c in q.codes if c in known])
    closed = [s.value for s in loop.CLOSED_STEPS]
    if q.statuses == {"open"}:
        qs = qs.exclude(step__in=closed)
    elif q.statuses == {"closed"}:
        qs = qs.filter(step__in=closed)
    offset = (q.page - 1) * q.page_size
    return list(qs.order_by("-created_at", "-pk")[offset : offset + q.page_size])


def one(j: Jurisdiction, request_id: str) -> Event:
    """GET requests/<id>: the event ``request_id`` of ``j``, or a 404 naming the id as sent."""
    pk = as_id(request_id)
    event = _base(j).filter(pk=pk).first() if pk is not None else None
    if event is None:
        shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", request_id[:40])
        raise Open311Error(404, (f"未找到服务请求 {shown}。", f"Service request {shown} was not found."))
    return event


def by_token(j: Jurisdiction, token: str) -> list[dict[str, Any]]:
    """GET tokens/<token>: the request id a token (an event's uuid) stands for, in ``j``."""
    try:
        value = uuid.UUID(token)
    except ValueError:
        value = None
    pk = (
        Event.objects.filter(path__startswith=j.path, token=value).values_list("pk", flat=True).first()
        if value
        else None
    )
    if pk is None:
        shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", token[:40])
        raise Open311Error(404, (f"未找到令牌 {shown}。", f"Token {shown} was not found."))
    return [{"service_request_id": str(pk), "token": str(value)}]


def _step_name(step: str) -> str:
    zh, en = STEP_NAMES.get(Step(step), ("", "")) if step in Step._value2member_map_ else (step, step)
    return f"{zh} {en}"


def _logs(events_: list[Event], full: bool) -> dict[int, list[tuple[datetime, str, str, str]]]:
    qs = EventLog.objects.filter(event_id__in=[e.pk for e in events_]).order_by("at", "pk")
    if not full:
        qs = qs.filter(move__in=[m.value for m in PUBLIC_NOTE_MOVES]).exclude(note="")
    out: dict[int, list[tuple[datetime, str, str, str]]] = {}
    for event_id, at, move, step_to, note in qs.values_list("event_id", "at", "move", "step_to", "note"):
        out.setdefault(event_id, []).append((at, move, step_to, note))
    return out


def _address(ev: Event, language: str) -> str:
    """The place at building level, most specific first (never the reporter's own words, which may
    name a flat or a person)."""
    parts = []
    if ev.building is not None:
        compound = ev.building.compound
        parts += [
            f"{pick(compound.name, compound.name_en, language)} {pick(ev.building.name, ev.building.name_en, language)}"
        ]
    parts += [
        pick(ev.community.name, ev.community.name_en, language),
        pick(ev.street.name, ev.street.name_en, language),
    ]
    return ", ".join(p for p in parts if p)


def records(events_: list[Event], language: str, extensions: bool) -> list[dict[str, Any]]:
    """The public record of each event (GET requests): no personal data."""
    logs = _logs(events_, full=extensions)
    private = permissions.private_codes()
    out = []
    for ev in events_:
        rows = logs.get(ev.pk, [])
        public_notes = [(at, note) for at, move, _s, note in rows if note and move in PUBLIC_NOTE_MOVES]
        notes = _step_name(ev.step)
        if ev.backlog and ev.is_open:
            notes += " · 挂账 on the backlog"
        if public_notes:
            notes += ": " + mask_text(public_notes[-1][1])[:1000]
        closed = not ev.is_open
        is_private = permissions.is_private(ev.category.code, private)
        item: dict[str, Any] = {
            "service_request_id": str(ev.pk),
            "status": "closed" if closed else "open",
            "status_notes": notes,
            "service_name": pick(ev.category.name, ev.category.name_en, language),
            "service_code": ev.category.code,
            "description": None if is_private else mask_text(ev.description) or None,
            "agency_responsible": pick(ev.department.name, ev.department.name_en, language) if ev.department else None,
            "service_notice": None,
            "requested_datetime": w3(ev.created_at),
            "updated_datetime": w3((ev.closed_at or ev.updated_at) if closed else ev.updated_at),
            "expected_datetime": w3(ev.due_at),
            "address": None if is_private else _address(ev, language),
            "address_id": None if is_private or ev.building_id is None else str(ev.building_id),
            "zipcode": None,
            "lat": None if is_private else round(ev.lat, 6),
            "long": None if is_private else round(ev.lon, 6),
            "media_url": None if is_private else mask_text(ev.media_url) or None,
        }
        if extensions:
            item["extended_attributes"] = _extended(ev, rows, is_private)
            item["notes"] = [
                {
                    "datetime": w3(at),
                    "description": _move_text(move)
                    + (f": {mask_text(note)[:1000]}" if note and move in PUBLIC_NOTE_MOVES else ""),
                    "type": move,
                }
                for at, move, _s, note in rows
            ]
        out.append(item)
    return out


def _move_text(move: str) -> str:
    if move == "create":
        return "上报 Reported"
    zh, en = MOVE_NAMES.get(Move(move), (move, move)) if move in Move._value2member_map_ else (move, move)
    return f"{zh} {en}"


def _extended(ev: Event, rows: list[tuple[datetime, str, str, str]], is_private: bool) -> dict[str, Any]:
    """Our seven steps: where the case is and when it reached each step on its current path (a
    return or a failed check goes back, and the later steps are cleared)."""
    reached: dict[str, datetime] = {}
    order = [s.value for s in SEVEN]
    for at, _move, step_to, _note in rows:
        if step_to in order:
            for later in order[order.index(step_to) + 1 :]:
                reached.pop(later, None)
            if step_to != Step.COLLECTED or step_to not in reached:
                reached[step_to] = at
    zh, en_name = STEP_NAMES[Step(ev.step)] if ev.step in Step._value2member_map_ else (ev.step, ev.step)
    return {
        "step": ev.step,
        "step_name": f"{zh} {en_name}",
        "backlog": ev.backlog,
        "escalation": ev.escalation,
        "channel": ev.channel,
        "attributes": []
        if is_private
        else [
            {"code": code, "value": mask_text(",".join(map(str, v)) if isinstance(v, list) else str(v))}
            for code, v in (ev.attributes or {}).items()
        ],
        "steps": [
            {
                "code": s.value,
                "name": f"{STEP_NAMES[s][0]} {STEP_NAMES[s][1]}",
                "order": i,
                "datetime": w3(reached.get(s.value)),
            }
            for i, s in enumerate(SEVEN, start=1)
        ],
    }
