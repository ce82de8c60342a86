"""Every write of Open311: api keys (issue, deactivate, the record of their use) and intake.

Intake goes through ``linli.governance.services.events.report`` (channel ``open311``, source
``k:<key id>``), never around it; the event and its log are governance's rows. What Open311 adds
is what the standard needs: api keys, locations given as an address (``queries``), and the checks
of a client's parameters (``params``). Reads — keys, jurisdictions, services, the public record
of a request — are ``queries``; who may post and who sees what, ``permissions``.

The POST path is benchmarked (bench/bench_open311.py, ≥ 500 requests/s on two processes):
``last_used_at`` is written at most once a minute per key and process, and the key, categories
and districts are read from ``queries``' in-process cache, checked per request against the
generations in the shared cache (a change anywhere is seen at once everywhere).
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction

from linli.core import clock, generations
from linli.core.errors import LinliError
from linli.governance import inputs
from linli.governance.services import events
from linli.open311 import params, permissions
from linli.open311 import queries as q
from linli.open311.errors import Open311Error
from linli.open311.models import ApiKey
from linli.open311.queries import KeyInfo
from linli.places.models import District

TOUCH_EVERY = 60.0  # seconds between writes of a key's last_used_at (per process)

_touched: dict[int, float] = {}
_lock = threading.Lock()
_url = URLValidator(schemes=["http", "https"])


def clear_caches() -> None:
    """Forget, in this process, every cached key, category and district and when keys were last
    recorded as used (tests). Other processes need no telling: every change of a key or category
    bumps its generation (``linli.core.generations``, wired in ``apps.py``)."""
    q.forget()
    with _lock:
        _touched.clear()


# --- api keys ---------------------------------------------------------------------------------------


def issue_key(name: str, district: District, *, active: bool = True) -> tuple[ApiKey, str]:
    """A new api key for client ``name`` in ``district``; the key itself is returned only here."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise LinliError.one("bad_name", "请填写客户端名称(不超过 100 字)。", "Give the client a name (≤ 100).")
    raw = secrets.token_urlsafe(32)
    while not raw[0].isalnum():  # a prefix starting with "-" reads as an option on the command line
        raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name, prefix=raw[:8], key_hash=q.hash_key(raw), district=district, active=active
        )
    return key, raw


def deactivate_key(prefix: str) -> int:
    """Deactivate the active key(s) whose prefix is ``prefix``; returns how many there were (the
    caller refuses anything but one). Takes effect at once on every app server: ``update()`` sends
    no signal, so the generation is bumped here (again when the transaction commits)."""
    with transaction.atomic():
        count = ApiKey.objects.filter(prefix=prefix, active=True).update(active=False)
        generations.bump("open311")
    return count


def touch(pk: int) -> None:
    """Record that key ``pk`` was used (``last_used_at``), at most once a minute per process."""
    now = time.monotonic()
    if now - _touched.get(pk, -TOUCH_EVERY) < TOUCH_EVERY:
        return
    _touched[pk] = now
    ApiKey.objects.filter(pk=pk).update(last_used_at=clock.now())


# --- intake -----------------------------------------------------------------------------------------


def _reporter_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if (first + last).isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"  # Chinese order: family name first


def submit(key: KeyInfo, post: Any, idempotency_header: str = "") -> list[dict[str, Any]]:
    """POST requests: take a report from an Open311 client (holding ``key``, checked by
    ``queries.key_info``) into the event loop, through ``governance.services.events.report``.

    The key's use is recorded first (``touch``); then every parameter is checked, each bad one a
    400 (404 for an unknown service or jurisdiction, 403 for another jurisdiction than the key's)."""
    touch(key.pk)
    if params.CONTROL.search(idempotency_header):
        raise Open311Error(
            400, ("Idempotency-Key 含控制字符。", "The Idempotency-Key header contains a control character.")
        )

    def get(name: str) -> str:
        return (post.get(name) or "").strip()

    jid = get("jurisdiction_id")
    if not permissions.may_report_in(key, jid):
        q.jurisdiction(jid)  # 404 when unknown
        raise Open311Error(403, ("该 api_key 不属于此辖区。", "This api_key is not for that jurisdiction."))
    s = q.service(get("service_code"))
    lat, lon = get("lat"), get("long")
    building: int | None = None
    if lat or lon:
        if not (lat and lon):
            raise Open311Error(400, ("lat 与 long 须同时提供。", "Send both lat and long."))
    elif get("address_id"):
        building = q.building_for_id(get("address_id"), key.district_path)
    elif get("address_string"):
        building = q.building_for_address(get("address_string"), key.district_path)
    else:
        raise Open311Error(
            400,
            (
                "请提供位置:lat 和 long,或 address_string,或 address_id。",
                "A location is required: lat and long, or address_string, or address_id.",
            ),
        )
    description = post.get("description") or ""
    if len(description.strip()) > inputs.MAX_TEXT:
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
        category=s.category or s.code,
        lat=lat or None,
        lon=lon or None,
        building=building,
        description=description,
        address=get("address_string"),
        attributes=params.attributes_of(post),
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
            "service_notice": q.service_notice(s),
            "account_id": event.account_id or None,
        }
    ]
