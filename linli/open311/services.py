"""Open311 GeoReport v2 on top of grid events: keys, services, intake and the public request list.

Intake goes through ``linli.governance.services.events.report`` (channel ``open311``, source
``k:<key id>``), never around it. What this module adds is what the standard needs: api keys,
jurisdictions (districts), the service list from the event categories, locations given as an
address, and the *public* view of an event — which carries no personal data at all (no reporter,
no phone, no e-mail; phone and ID numbers typed into any text are masked by core.masking), and shows the
events of private categories (a household in hardship, an elderly person living alone …) only
to whoever asks for them by id, without place or description.

The POST path is benchmarked (bench/bench_open311.py, ≥ 500 requests/s on two processes): the
key lookup (by hash), the categories and the districts are held in-process for
``LINLI_OPEN311_CACHE_SECONDS`` (30 s), so a deactivated key or a changed category takes up to
that long to show; ``last_used_at`` is written at most once a minute per key and process.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import QuerySet
from django.utils import timezone

from linli.core import clock
from linli.core.errors import LinliError
from linli.core.ids import as_id, as_int
from linli.core.masking import mask_text
from linli.governance import loop
from linli.governance.categories import KIND_NAMES, SECTOR_NAMES, Kind, Sector
from linli.governance.loop import MOVE_NAMES, SEVEN, STEP_NAMES, Move, Step
from linli.governance.models import Category, Event, EventLog
from linli.governance.services import events
from linli.open311.models import ApiKey
from linli.places.models import Building, Compound, District

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_SPAN = timedelta(days=90)
# The dates a read may name (start_date, end_date), after conversion to UTC: wide enough for any
# real question, narrow enough that ± MAX_SPAN and every database can represent them (issue 9:
# 0001-01-01T00:00:00+08:00 and 9999-12-31T23:59:59-14:00 fell off the ends of datetime).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
MAX_PAGE = 1_000_000  # pages of page_size requests; (page - 1) × page_size stays a small offset
MAX_CODES = 100  # service codes in one filter
TOUCH_EVERY = 60.0  # seconds between writes of a key's last_used_at (per process)
# Moves whose note is written for the public (what was done, why it was voided); other notes
# (returns between departments, internal remarks) stay inside.
PUBLIC_NOTE_MOVES = (Move.REPORT, Move.VERIFY_PASS, Move.VERIFY_FAIL, Move.VOID)


class Open311Error(Exception):
    """A refused request: HTTP ``status`` (404 unknown resource, 403 api key, 400 anything else)
    and one or more (Chinese, English) descriptions."""

    def __init__(self, status: int, *texts: tuple[str, str]) -> None:
        super().__init__(texts[0][1] if texts else str(status))
        self.status = status
        self.texts = list(texts)

    @classmethod
    def of(cls, error: LinliError) -> Open311Error:
        status = error.status if error.status in (403, 404) else 400
        return cls(status, *[(p.zh, p.en) for p in error.problems])

    def items(self) -> list[tuple[int, str]]:
        return [(self.status, f"{zh} / {en}") for zh, en in self.texts]


# --- in-process caches ------------------------------------------------------------------------------

T = TypeVar("T")
_cache: dict[Any, tuple[float, Any]] = {}
_touched: dict[int, float] = {}
_lock = threading.Lock()


def _ttl() -> float:
    return float(getattr(settings, "LINLI_OPEN311_CACHE_SECONDS", 30))


def _cached(key: Any, make: Callable[[], T]) -> T:
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = make()
    with _lock:
        if len(_cache) > 10_000:  # keys are bounded by the number of valid api keys; stay safe anyway
            _cache.clear()
        _cache[key] = (now + _ttl(), value)
    return value


def clear_caches() -> None:
    """Forget every cached key, category and district (tests; after editing keys in a shell)."""
    with _lock:
        _cache.clear()
        _touched.clear()


# --- api keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyInfo:
    pk: int
    name: str
    district_id: int
    district_code: str
    district_path: str


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_key(name: str, district: District) -> tuple[ApiKey, str]:
    """A new api key for client ``name`` in ``district``; the key itself is returned only here."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise LinliError.one("bad_name", "请填写客户端名称(不超过 100 字)。", "Give the client a name (≤ 100).")
    raw = secrets.token_urlsafe(32)
    while not raw[0].isalnum():  # a prefix starting with "-" reads as an option on the command line
        raw = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(name=name, prefix=raw[:8], key_hash=hash_key(raw), district=district)
    return key, raw


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
    hit = _cache.get(("key", digest))
    info = hit[1] if hit is not None and hit[0] > time.monotonic() else None
    if info is None:
        info = load()
        if info is None:
            raise Open311Error(403, ("api_key 无效或已停用。", "The api_key is not valid or has been deactivated."))
        _cached(("key", digest), lambda: info)
    _touch(info.pk)
    return info


def _touch(pk: int) -> None:
    now = time.monotonic()
    if now - _touched.get(pk, -TOUCH_EVERY) < TOUCH_EVERY:
        return
    _touched[pk] = now
    ApiKey.objects.filter(pk=pk).update(last_used_at=clock.now())


# --- jurisdictions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Jurisdiction:
    pk: int
    code: str
    path: str
    name: str


def jurisdictions() -> list[Jurisdiction]:
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
            )
            for c in rows
        }

    return _cached(("services",), load)


def service(code: str) -> Service:
    code = (code or "").strip()
    if not code:
        raise Open311Error(400, ("缺少 service_code。", "The service_code is missing."))
    found = services().get(code)
    if found is None:
        code = code[:40]
        raise Open311Error(404, (f"未找到服务类别 service_code={code}。", f"service_code {code} was not found."))
    return found


def _pick(en: bool, zh_text: str, en_text: str) -> str:
    return (en_text or zh_text) if en else zh_text


def service_item(s: Service, en: bool) -> dict[str, Any]:
    kind = KIND_NAMES.get(Kind(s.kind), ("", "")) if s.kind in Kind._value2member_map_ else ("", "")
    sector = SECTOR_NAMES.get(Sector(s.sector), ("", "")) if s.sector in Sector._value2member_map_ else ("", "")
    default_description = f"{kind[1]}: {s.name_en or s.name}" if en else f"{kind[0]}:{s.name}"
    return {
        "service_code": s.code,
        "service_name": _pick(en, s.name, s.name_en),
        "description": s.description or default_description,
        "metadata": bool(s.attributes),
        "type": "realtime",
        "keywords": s.keywords,
        "group": _pick(en, sector[0], sector[1]),
    }


_DATATYPE_HELP = {
    "string": ("一行文字", "One line of text"),
    "text": ("文字,可换行", "Text, may have line breaks"),
    "number": ("数字", "A number"),
    "datetime": ("日期时间(ISO 8601)", "A date and time (ISO 8601)"),
    "singlevaluelist": ("从列表中选一项", "Choose one of the values"),
    "multivaluelist": ("从列表中选一项或多项", "Choose one or more of the values"),
}


def service_definition(s: Service, en: bool) -> dict[str, Any]:
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
                "datatype_description": _pick(en, help_[0], help_[1]),
                "order": order,
                "description": _pick(en, a.get("zh", ""), a.get("en", "")),
                "values": [
                    {"key": v[0], "name": _pick(en, v[1], v[2] if len(v) > 2 else "")} for v in a.get("values", [])
                ],
            }
        )
    return {"service_code": s.code, "attributes": attributes}


def service_notice(s: Service) -> str:
    hours = loop.limits_with_defaults(s.limits)["register"]
    h = f"{hours:g}"
    return (
        f"已受理,街道指挥中心将在 {h} 小时内立案派遣。 / "
        f"Received: the street command centre registers and dispatches it within {h} h."
    )


# --- intake -----------------------------------------------------------------------------------------

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_url = URLValidator(schemes=["http", "https"])


def attributes_of(post: Any) -> dict[str, Any]:
    """attribute[code]=v and attribute[code][]=v (several) from a form body."""
    out: dict[str, Any] = {}
    for name, values in post.lists():
        m = _ATTRIBUTE.match(name)
        if not m:
            continue
        values = [v for v in values if v.strip()]
        if not values:
            continue  # an empty optional parameter is an absent one
        code = m.group(1)
        if len(code) > 50 or any(len(v) > events.MAX_TEXT for v in values):
            raise Open311Error(
                400,
                (
                    "attribute 的代码不超过 50 个字符,取值不超过 4000 个字符。",
                    "An attribute code is at most 50 characters and its value at most 4,000.",
                ),
            )
        if m.group(2) or len(values) > 1:
            prior = out.get(code, [])
            out[code] = (prior if isinstance(prior, list) else [prior]) + values
        else:
            out[code] = values[0]
    return out


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


def _reporter_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if (first + last).isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"  # Chinese order: family name first


def submit(key: KeyInfo, post: Any, idempotency_header: str = "") -> list[dict[str, Any]]:
    """POST requests: take a report from an Open311 client into the event loop."""

    def get(name: str) -> str:
        return (post.get(name) or "").strip()

    jid = get("jurisdiction_id")
    if jid and jid != key.district_code:
        jurisdiction(jid)  # 404 when unknown
        raise Open311Error(403, ("该 api_key 不属于此辖区。", "This api_key is not for that jurisdiction."))
    s = service(get("service_code"))
    lat, lon = get("lat"), get("long")
    building: int | None = None
    if lat or lon:
        if not (lat and lon):
            raise Open311Error(400, ("lat 与 long 须同时提供。", "Send both lat and long."))
    elif get("address_id"):
        building = building_for_id(get("address_id"), key.district_path)
    elif get("address_string"):
        building = building_for_address(get("address_string"), key.district_path)
    else:
        raise Open311Error(
            400,
            (
                "请提供位置:lat 和 long,或 address_string,或 address_id。",
                "A location is required: lat and long, or address_string, or address_id.",
            ),
        )
    description = post.get("description") or ""
    if len(description.strip()) > events.MAX_TEXT:
        raise Open311Error(400, ("description 不超过 4000 个字符。", "The description is at most 4,000 characters."))
    email, media_url = get("email"), get("media_url")
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise Open311Error(400, ("email 格式不正确。", "The email address is not valid.")) from exc
    if media_url:
        try:
            _url(media_url)
        except ValidationError as exc:
            raise Open311Error(400, ("media_url 须为 http(s) 网址。", "The media_url must be an http(s) URL.")) from exc
        if len(media_url) > 500:
            raise Open311Error(400, ("media_url 过长(上限 500)。", "The media_url is too long (500 at most)."))
    for name, limit in (("device_id", 64), ("account_id", 64), ("first_name", 50), ("last_name", 50)):
        if len(get(name)) > limit:
            raise Open311Error(400, (f"{name} 过长(上限 {limit})。", f"{name} is too long ({limit} at most)."))
    client_key = get("idempotency_key") or (idempotency_header or "").strip()
    report = events.Report(
        category=s.code,
        lat=lat or None,
        lon=lon or None,
        building=building,
        description=description,
        address=get("address_string"),
        attributes=attributes_of(post),
        reporter_name=_reporter_name(get("first_name"), get("last_name")),
        reporter_phone=get("phone"),
        reporter_email=email,
        account_id=get("account_id"),
        device_id=get("device_id"),
        media_url=media_url,
        client_key=client_key,
    )
    try:
        event, _created = events.report(
            None,
            report,
            channel="open311",
            source=f"k:{key.pk}",
            actor_label=f"Open311: {key.name}"[:100],
            jurisdiction=key.district_path,
        )
    except LinliError as exc:
        raise Open311Error.of(exc) from exc
    return [
        {
            "service_request_id": str(event.pk),
            "service_notice": service_notice(s),
            "account_id": event.account_id or None,
        }
    ]


# --- reading requests (public) -----------------------------------------------------------------------


def private_codes() -> frozenset[str]:
    return frozenset(getattr(settings, "LINLI_OPEN311_PRIVATE_CATEGORIES", ()))


def max_requests() -> int:
    return int(getattr(settings, "LINLI_OPEN311_MAX_REQUESTS", 1000))


def w3(dt: datetime | None) -> str | None:
    """ISO 8601 with the site's offset, e.g. 2025-05-01T09:30:00+08:00."""
    return timezone.localtime(dt).isoformat(timespec="seconds") if dt else None


def parse_when(value: str, name: str) -> datetime:
    """An ISO 8601 datetime between EARLIEST and LATEST (UTC); naive means Asia/Shanghai."""
    text = value.strip()[:64]
    # an unencoded "+08:00" in a query string arrives as " 08:00"
    text = re.sub(r"(T[\d:.]+) (\d\d:?\d\d)$", r"\1+\2", text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Open311Error(
            400,
            (
                f"{name} 须为 ISO 8601 日期时间,如 2025-01-01T00:00:00+08:00。",
                f"{name} must be an ISO 8601 datetime, e.g. 2025-01-01T00:00:00Z.",
            ),
        ) from exc
    try:
        if timezone.is_naive(dt):
            dt = timezone.make_aware(dt)
        in_range = EARLIEST <= dt.astimezone(UTC) <= LATEST
    except (OverflowError, ValueError):  # the offset takes it past year 1 or 9999
        in_range = False
    if not in_range:
        raise Open311Error(
            400,
            (
                f"{name} 须在 1970-01-01 至 2999-12-31(UTC)之间。",
                f"{name} must lie between 1970-01-01T00:00:00Z and 2999-12-31T23:59:59Z.",
            ),
        )
    return dt


@dataclass
class Query:
    ids: list[int]
    codes: list[str]
    start: datetime
    end: datetime
    statuses: set[str]
    page: int
    page_size: int
    extensions: bool


def _joined(params: Any, name: str) -> list[str]:
    values: Iterable[str] = params.getlist(name) if hasattr(params, "getlist") else [params.get(name, "")]
    return [part.strip() for v in values for part in (v or "").split(",") if part.strip()]


def parse_query(params: Any, now: datetime | None = None) -> Query:
    now = now or clock.now()
    raw_ids = _joined(params, "service_request_id")
    ids = [as_id(i) for i in raw_ids]
    if any(i is None for i in ids):
        raise Open311Error(
            400, ("service_request_id 须为数字(逗号分隔)。", "service_request_id must be numbers, comma separated.")
        )
    start_s, end_s = (params.get("start_date") or "").strip(), (params.get("end_date") or "").strip()
    start = parse_when(start_s, "start_date") if start_s else None
    end = parse_when(end_s, "end_date") if end_s else None
    if start is None and end is None:
        end, start = now, now - MAX_SPAN
    elif start is None:
        assert end is not None
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if start > end:
        raise Open311Error(400, ("start_date 不能晚于 end_date。", "start_date is after end_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(400, ("查询时段不能超过 90 天。", "start_date and end_date may not span more than 90 days."))
    statuses = {s.lower() for s in _joined(params, "status")}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, ("status 只能是 open 或 closed。", "status must be open or closed (comma separated)."))
    limit = max_requests()
    page = as_int(params.get("page") or 1, lo=1, hi=MAX_PAGE)
    page_size = as_int(params.get("page_size") or limit, lo=1, hi=limit)
    if page is None or page_size is None:
        raise Open311Error(
            400,
            (
                f"page 须为 1–{MAX_PAGE} 的整数,page_size 为 1–{limit} 的整数。",
                f"page must be a whole number from 1 to {MAX_PAGE} and page_size from 1 to {limit}.",
            ),
        )
    codes = _joined(params, "service_code")
    if len(codes) > MAX_CODES:
        raise Open311Error(
            400, (f"service_code 最多 {MAX_CODES} 个。", f"At most {MAX_CODES} service codes in one filter.")
        )
    extensions = (params.get("extensions") or "").strip().lower() in ("true", "1", "yes")
    return Query(
        [i for i in ids if i is not None][:limit],
        codes,
        start,
        end,
        statuses,
        page,
        page_size,
        extensions,
    )


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
    qs = qs.filter(created_at__gte=q.start, created_at__lte=q.end).exclude(category__code__in=private_codes())
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
    pk = as_id(request_id)
    event = _base(j).filter(pk=pk).first() if pk is not None else None
    if event is None:
        shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", request_id[:40])
        raise Open311Error(404, (f"未找到服务请求 {shown}。", f"Service request {shown} was not found."))
    return event


def by_token(j: Jurisdiction, token: str) -> list[dict[str, Any]]:
    import uuid

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


def _address(ev: Event, en: bool) -> str:
    """The place at building level, most specific first (never the reporter's own words, which may
    name a flat or a person)."""
    parts = []
    if ev.building is not None:
        compound = ev.building.compound
        parts += [f"{_pick(en, compound.name, compound.name_en)} {_pick(en, ev.building.name, ev.building.name_en)}"]
    parts += [_pick(en, ev.community.name, ev.community.name_en), _pick(en, ev.street.name, ev.street.name_en)]
    return ", ".join(p for p in parts if p)


def records(events_: list[Event], en: bool, extensions: bool) -> list[dict[str, Any]]:
    """The public record of each event (GET requests): no personal data."""
    logs = _logs(events_, full=extensions)
    private = private_codes()
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
        is_private = ev.category.code in private
        item: dict[str, Any] = {
            "service_request_id": str(ev.pk),
            "status": "closed" if closed else "open",
            "status_notes": notes,
            "service_name": _pick(en, ev.category.name, ev.category.name_en),
            "service_code": ev.category.code,
            "description": None if is_private else mask_text(ev.description) or None,
            "agency_responsible": _pick(en, ev.department.name, ev.department.name_en) if ev.department else None,
            "service_notice": None,
            "requested_datetime": w3(ev.created_at),
            "updated_datetime": w3((ev.closed_at or ev.updated_at) if closed else ev.updated_at),
            "expected_datetime": w3(ev.due_at),
            "address": None if is_private else _address(ev, en),
            "address_id": None if is_private or ev.building_id is None else str(ev.building_id),
            "zipcode": None,
            "lat": None if is_private else round(ev.lat, 6),
            "long": None if is_private else round(ev.lon, 6),
            "media_url": None if is_private else mask_text(ev.media_url) or None,
        }
        if extensions:
            item["extended_attributes"] = _extended(ev, rows, en, is_private)
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


def _extended(ev: Event, rows: list[tuple[datetime, str, str, str]], en: bool, is_private: bool) -> dict[str, Any]:
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
