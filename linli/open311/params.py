"""What an Open311 client sent, read once and checked before anything uses it (docs/open311.md,
"Parameters").

Every parameter of a query string or form body passes through here, so that no input reaches the
database or a conversion it cannot survive (issue 9: a NUL byte is refused by PostgreSQL, a
multipart body without a boundary cannot be parsed, a charset Python does not know cannot be
decoded):

* **Control characters** (U+0000–U+001F except tab, line feed and carriage return, U+007F–U+009F)
  are *removed* from free text — ``description``, ``address_string``, ``first_name``,
  ``last_name``, ``device_id``, ``account_id`` and attribute values — where they carry no meaning
  (a kiosk's badly terminated string must not lose a report), and *refused* (400, naming the
  parameter) in every other parameter and in parameter names: codes, keys, ids, dates, numbers,
  e-mail, URLs, where silently changing the value would make it mean something else.
* **Repeated parameters**: a parameter that takes one value, sent twice with different values, is a
  400 ("send it once"); the list filters of GET requests (``service_request_id``, ``service_code``,
  ``status``) and multi-value attributes (``attribute[code][]``) may repeat.
* **Bodies**: a POST is ``application/x-www-form-urlencoded`` or ``multipart/form-data`` (with its
  boundary); a form-encoded body is UTF-8 (Django reads no other), a multipart one in a charset
  Python knows; anything else is a 400 saying so.
* **Values**: the filters of a GET requests (ids, service codes, status, the dates and their
  90-day span, page and page size) are read into one ``Query`` by ``parse_query``; the attributes of
  a POST (``attribute[code]=v``, ``attribute[code][]=v``) by ``attributes_of``; the language of the
  answer by ``language`` (``locale`` or Accept-Language). Each bad value is a 400 naming it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone

from linli.core import clock, lang
from linli.core.ids import as_id, as_int
from linli.governance.inputs import MAX_TEXT
from linli.open311.errors import Open311Error

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FREE_TEXT = frozenset({"description", "address_string", "first_name", "last_name", "device_id", "account_id"})
QUERY_LISTS = frozenset({"service_request_id", "service_code", "status"})  # GET requests' list filters
MAX_NAME = 100  # characters of a parameter name


def _shown(name: str) -> str:
    return CONTROL.sub("?", name)[:40]


def _free(name: str) -> bool:
    return name in FREE_TEXT or name.startswith("attribute[")


class Params:
    """The parameters of one part of a request (query string or body): a mapping of name → values
    with the QueryDict methods the views use (``get``, ``getlist``, ``lists``)."""

    def __init__(self, data: dict[str, list[str]], lists: frozenset[str] = frozenset()) -> None:
        self._data = data
        self._lists = lists

    @classmethod
    def of(cls, query: Any, lists: frozenset[str] = frozenset()) -> Params:
        data: dict[str, list[str]] = {}
        for name, values in query.lists():
            if CONTROL.search(name) or len(name) > MAX_NAME:
                raise Open311Error(
                    400,
                    (
                        f"参数名 {_shown(name)} 含控制字符或过长。",
                        f"The parameter name {_shown(name)} contains a control character or is too long.",
                    ),
                )
            if _free(name):
                values = [CONTROL.sub("", v) for v in values]
            elif any(CONTROL.search(v) for v in values):
                raise Open311Error(
                    400,
                    (
                        f"参数 {name} 含控制字符(如 NUL),请去掉后重试。",
                        f"The parameter {name} contains a control character (e.g. NUL); remove it.",
                    ),
                )
            data[name] = list(values)
        return cls(data, lists)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._data.get(name)
        if not values:
            return default
        if name not in self._lists and not name.endswith("[]") and len(set(values)) > 1:
            raise Open311Error(
                400,
                (f"参数 {name} 只能提供一次。", f"The parameter {name} takes one value: send it once."),
            )
        return values[-1]

    def getlist(self, name: str) -> list[str]:
        return list(self._data.get(name, []))

    def lists(self) -> Iterator[tuple[str, list[str]]]:
        yield from ((k, list(v)) for k, v in self._data.items())

    def __contains__(self, name: object) -> bool:
        return name in self._data


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def query(request: HttpRequest) -> Params:
    return Params.of(request.GET, QUERY_LISTS)


def body(request: HttpRequest) -> Params:
    """The form body of a POST, or a 400 that says what is wrong with it."""
    content_type = (request.content_type or "").lower()
    if content_type and content_type not in FORM_TYPES:
        raise Open311Error(
            400,
            (
                f"请求内容类型 {content_type[:60]} 不受支持:"
                "请用 application/x-www-form-urlencoded 或 multipart/form-data。",
                f"Content type {content_type[:60]} is not supported: send application/x-www-form-urlencoded "
                "or multipart/form-data.",
            ),
        )
    charset = (request.content_params or {}).get("charset", "")
    if charset:
        try:
            known = codecs.lookup(charset).name
        except LookupError:
            known = ""
        if not known or (content_type == FORM_TYPES[0] and known != "utf-8"):
            raise Open311Error(
                400,
                (
                    f"不支持的字符集 charset={charset[:40]}:请用 UTF-8。",
                    f"The charset {charset[:40]} is not supported: send UTF-8.",
                ),
            )
    if content_type == "multipart/form-data" and not (request.content_params or {}).get("boundary"):
        raise Open311Error(
            400,
            (
                "multipart/form-data 请求缺少 boundary 参数。",
                "The multipart/form-data body has no boundary parameter in its Content-Type.",
            ),
        )
    try:
        post = request.POST
    except MultiPartParserError as exc:
        raise Open311Error(
            400, ("multipart 请求体无法解析。", f"The multipart body could not be parsed: {str(exc)[:100]}")
        ) from exc
    except (TooManyFieldsSent, TooManyFilesSent) as exc:
        raise Open311Error(400, ("请求参数过多。", "The body has too many parameters.")) from exc
    except RequestDataTooBig as exc:
        raise Open311Error(400, ("请求体过大。", "The body is too large.")) from exc
    except (BadRequest, UnicodeDecodeError, UnreadablePostError) as exc:
        raise Open311Error(
            400, ("请求体无法按所给字符集解码。", "The body could not be decoded in its charset (send UTF-8).")
        ) from exc
    return Params.of(post)


def language(request: HttpRequest) -> str:
    """``"en"`` when the client asks for English names — ``locale=en`` (or en_US …), else an
    Accept-Language whose most preferred Chinese or English entry is English — ``"zh"`` otherwise."""
    form = body(request) if request.method == "POST" else None
    locale = (query(request).get("locale") or (form.get("locale") if form else "") or "").strip().lower()
    if locale:
        return "en" if lang.english(locale) else "zh"
    best: tuple[float, bool] | None = None
    for part in request.headers.get("Accept-Language", "").split(","):
        tag, _, rest = part.strip().partition(";")
        tag = tag.strip().lower()
        if not (lang.english(tag) or tag.startswith("zh")):
            continue
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        if best is None or q > best[0]:
            best = (q, lang.english(tag))
    return "en" if best and best[1] else "zh"


def extensions(params: Any) -> bool:
    """``extensions=true`` (or 1, yes): add our seven steps and the notes to each request."""
    return (params.get("extensions") or "").strip().lower() in ("true", "1", "yes")


# --- GET requests: the filters -----------------------------------------------------------------------

MAX_SPAN = timedelta(days=90)
# The dates a read may name (start_date, end_date), after conversion to UTC: wide enough for any
# real question, narrow enough that ± MAX_SPAN and every database can represent them (issue 9:
# 0001-01-01T00:00:00+08:00 and 9999-12-31T23:59:59-14:00 fell off the ends of datetime).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
MAX_PAGE = 1_000_000  # pages of page_size requests; (page - 1) × page_size stays a small offset
MAX_CODES = 100  # service codes in one filter


def max_requests() -> int:
    """Requests in one answer at most (``LINLI_OPEN311_MAX_REQUESTS``, 1000): the page size cap."""
    return int(getattr(settings, "LINLI_OPEN311_MAX_REQUESTS", 1000))


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
    """What a GET requests asks for, checked: ids (which override every other filter), service
    codes, the time span [start, end], statuses (open, closed), the page and whether to add the
    extensions."""

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
    """The filters of a GET requests; without dates the last 90 days up to ``now``, with one date
    the 90 days from (or up to) it. A 400 for each bad value."""
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
    return Query(
        [i for i in ids if i is not None][:limit],
        codes,
        start,
        end,
        statuses,
        page,
        page_size,
        extensions(params),
    )


# --- POST requests: the attributes -------------------------------------------------------------------

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


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
        if len(code) > 50 or any(len(v) > MAX_TEXT for v in values):
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
