"""What a report of a grid event may say, checked once (pure Python, no Django).

Three doors take reports — the report page and the hotline desk (``views/events.py``), Open311
clients (``linli/open311``) and the services themselves (``services/events.py``: ``report``, ``act``)
— and all of them check a reporter's input here: the position, the description and notes, the
client key, the phone, the number of photos and the category's attributes (Open311 "service
definition"). Each check returns the clean value or raises ``LinliError`` with the one bilingual
text of that problem, so a page, the API and the service refuse the same input the same way.

``report_form`` reads the report page's form (the same fields, and ``attr-<category>-<code>`` for
attributes); Open311 reads its own parameter names (``lat``/``long``, ``attribute[code]``) and hands
the values to the service, which checks them here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from linli.core.errors import LinliError, Problem
from linli.core.masking import is_valid_phone

MAX_TEXT = 4000  # description, note, an attribute's value
MAX_PHOTOS = 6
MAX_CLIENT_KEY = 64
MAX_ADDRESS = 300

#: The attribute types of a category (Open311 ``datatype``) that take a value from a list.
LIST_TYPES = ("singlevaluelist", "multivaluelist")


class Form(Protocol):
    """A submitted form: Django's ``QueryDict`` (``request.POST``, ``request.GET``) or anything with
    the same two readers."""

    def get(self, key: str, default: Any = ..., /) -> Any: ...

    def getlist(self, key: str, default: Any = ..., /) -> list[Any]: ...

    def __iter__(self) -> Any: ...


def position(lat: Any, lon: Any) -> tuple[float, float]:
    """A latitude and longitude in degrees, as numbers, on the earth; else a 400 ``bad_location``."""
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise LinliError.one(
            "bad_location", "位置须为经纬度数字。", "The location must be a latitude and longitude."
        ) from exc
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise LinliError.one("bad_location", "经纬度超出范围。", "Latitude or longitude out of range.")
    return la, lo


def number(value: Any, fallback: float | None) -> float | None:
    """An optional coordinate given beside a chosen building: ``fallback`` (the building's) when
    absent, else a number (a 400 ``bad_location`` otherwise)."""
    if value in (None, ""):
        return fallback
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise LinliError.one(
            "bad_location", "位置须为经纬度数字。", "The location must be a latitude and longitude."
        ) from exc


def description(text: str | None) -> str:
    """The reporter's description, trimmed; at most ``MAX_TEXT`` characters."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise LinliError.one("too_long", "描述不超过 4000 字。", "The description is at most 4000 characters.")
    return text


def note(text: str | None) -> str:
    """The note of a move (what was done, why it was voided or returned), trimmed; at most ``MAX_TEXT``."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise LinliError.one("too_long", "说明不超过 4000 字。", "The note is at most 4000 characters.")
    return text


def client_key(text: str | None) -> str:
    """The key a client sends so that a retry never makes a second case; at most 64 characters."""
    text = (text or "").strip()
    if len(text) > MAX_CLIENT_KEY:
        raise LinliError.one("bad_client_key", "client_key 不超过 64 个字符。", "client_key is at most 64 characters.")
    return text


def phone(text: str | None) -> str:
    """The reporter's phone, trimmed: empty, or a valid mainland number."""
    text = (text or "").strip()
    if text and not is_valid_phone(text):
        raise LinliError.one("bad_phone", "电话号码格式不正确。", "The phone number is not valid.")
    return text


def photo_count(photos: Sequence[Any]) -> None:
    """At most ``MAX_PHOTOS`` photos with one report or one move."""
    if len(photos) > MAX_PHOTOS:
        raise LinliError.one("too_many_photos", f"最多 {MAX_PHOTOS} 张照片。", f"At most {MAX_PHOTOS} photos.")


#: A photo's stamp as posted (one JSON object per photo, in the photos' order) is at most this long.
MAX_STAMP = 400
#: A device clock ahead of the server by more than this is refused (behind is fine: a draft kept
#: offline is sent hours later).
STAMP_AHEAD = timedelta(days=1)
MAX_ACCURACY_M = 100_000.0


@dataclass(frozen=True)
class PhotoStamp:
    """When and where the reporter's phone took a photo (the stamp drawn on it): the device's
    clock, and its position with the accuracy in metres when it had one."""

    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy: float | None = None


def photo_stamps(raw: Sequence[str], photos: int, now: datetime) -> list[PhotoStamp]:
    """The ``photo_stamp`` fields of a report, one per photo in order (an empty one: no stamp):
    ``{"taken_at": ISO 8601 with offset, "lat": …, "lon": …, "accuracy": metres}``, each part
    optional. More stamps than photos, text that is not such an object, a time without offset or
    more than a day ahead of ``now``, a position off the earth or a negative accuracy is a 400
    ``bad_photo_stamp``. Returns one stamp per photo (empty ones for photos without)."""
    if len(raw) > photos:
        raise LinliError.one("bad_photo_stamp", "照片的时间地点标记多于照片。", "More photo stamps than photos.")
    out: list[PhotoStamp] = []
    for i, text in enumerate(raw, start=1):
        out.append(_photo_stamp(text or "", i, now))
    out.extend(PhotoStamp() for _ in range(photos - len(out)))
    return out


def _photo_stamp(text: str, index: int, now: datetime) -> PhotoStamp:
    def bad(zh: str, en: str) -> LinliError:
        return LinliError.one("bad_photo_stamp", f"第 {index} 张照片的标记{zh}", f"The stamp of photo {index} {en}")

    text = text.strip()
    if not text:
        return PhotoStamp()
    if len(text) > MAX_STAMP:
        raise bad("过长。", "is too long.")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise bad("无法识别。", "cannot be read.") from exc
    if not isinstance(data, dict):
        raise bad("无法识别。", "cannot be read.")
    taken_at = None
    if data.get("taken_at") not in (None, ""):
        try:
            taken_at = datetime.fromisoformat(str(data["taken_at"]))
        except ValueError as exc:
            raise bad("中的时间无法识别。", "has a time that cannot be read.") from exc
        if taken_at.tzinfo is None or taken_at.utcoffset() is None:
            raise bad("中的时间缺少时区。", "has a time without a time zone.")
        if taken_at.year < 2000 or taken_at > now + STAMP_AHEAD:
            raise bad(
                "中的时间不合理,请检查手机的日期和时间。",
                "has an impossible time: check the phone's date and time.",
            )
    lat = lon = accuracy = None
    has_lat, has_lon = data.get("lat") not in (None, ""), data.get("lon") not in (None, "")
    if has_lat != has_lon:
        raise bad("须同时有纬度和经度。", "needs both latitude and longitude.")
    if has_lat:
        if isinstance(data["lat"], bool) or isinstance(data["lon"], bool):
            raise bad("中的位置无法识别。", "has a position that cannot be read.")
        try:
            lat, lon = position(data["lat"], data["lon"])
        except LinliError as exc:
            raise bad("中的位置无效。", "has an invalid position.") from exc
    if data.get("accuracy") not in (None, ""):
        if isinstance(data["accuracy"], bool):
            raise bad("中的精度无法识别。", "has an accuracy that cannot be read.")
        try:
            accuracy = float(data["accuracy"])
        except (TypeError, ValueError) as exc:
            raise bad("中的精度无法识别。", "has an accuracy that cannot be read.") from exc
        if not (math.isfinite(accuracy) and 0 <= accuracy <= MAX_ACCURACY_M):
            raise bad("中的精度无效。", "has an invalid accuracy.")
    return PhotoStamp(taken_at, lat, lon, accuracy)


def attributes(definitions: Sequence[Mapping[str, Any]], given: Any) -> dict[str, Any]:
    """Attribute values checked against a category's definitions (``Category.attributes``: code,
    zh, en, datatype, required, values): unknown codes, values outside a list, numbers that are not
    and missing required ones are each one problem; a wrong value is not also "required". Returns
    the clean values (a list for ``multivaluelist``)."""
    defs = {a["code"]: a for a in definitions or []}
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    bad: set[str] = set()  # given with a wrong value: said once, not also "required"
    if not isinstance(given or {}, dict):
        raise LinliError.one("bad_attributes", "属性须为键值对。", "Attributes must be an object of code: value.")
    for code, value in (given or {}).items():
        spec = defs.get(code)
        if spec is None:
            problems.append(Problem("unknown_attribute", f"未知的属性:{code}", f"Unknown attribute: {code}"))
            continue
        keys = {str(v[0]) for v in spec.get("values", [])}
        values = value if isinstance(value, list) else [value]
        values = [str(v).strip() for v in values if str(v).strip()]
        if spec["datatype"] in LIST_TYPES and any(v not in keys for v in values):
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


# --- the report page's form ---------------------------------------------------------------------------


def attribute_field(category_code: str, attribute_code: str) -> str:
    """The form field of one attribute on the report page: ``attr-<category>-<attribute>``."""
    return f"attr-{category_code}-{attribute_code}"


def report_form(post: Form) -> dict[str, Any]:
    """The report page's fields as posted (kept as given, to fill the form again after a refusal):
    category, lat, lon, building, description, address, client_key (cut to 64), caller_name,
    caller_phone, channel and every ``attr-…`` field's values."""
    return {
        "category": post.get("category", ""),
        "lat": post.get("lat", ""),
        "lon": post.get("lon", ""),
        "building": post.get("building", ""),
        "description": post.get("description", ""),
        "address": post.get("address", ""),
        "client_key": (post.get("client_key", "") or "")[:MAX_CLIENT_KEY],
        "caller_name": post.get("caller_name", ""),
        "caller_phone": post.get("caller_phone", ""),
        "channel": post.get("channel", ""),
        "attrs": {k: post.getlist(k) for k in post if k.startswith("attr-")},
    }


def form_attributes(category_code: str, definitions: Sequence[Mapping[str, Any]], post: Form) -> dict[str, Any]:
    """The posted attribute values of the chosen category only (other categories' fields are
    ignored), as ``attributes()`` takes them: a list for ``multivaluelist``, else one value; empty
    fields left out."""
    out: dict[str, Any] = {}
    for spec in definitions or []:
        name = attribute_field(category_code, spec["code"])
        if spec.get("datatype", "string") == "multivaluelist":
            values = [v for v in post.getlist(name) if v.strip()]
            if values:
                out[spec["code"]] = values
        else:
            value = (post.get(name) or "").strip()
            if value:
                out[spec["code"]] = value
    return out
