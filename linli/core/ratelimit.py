"""The one rate limiter: ``hit(scope, key, limit, window_s) -> Allowed(ok, count, retry_after)``.

Every limit in Linli counts here — public objections per address, owner ID-number checks per
account, the API's throttles — in a store every app process and server shares:

* **Redis** when the ``default`` cache is Django's ``RedisCache`` (``LINLI_CACHE_URL`` set;
  ``INCR`` is atomic);
* otherwise **the database** (``core.RateCounter``) — the embedded default's cache is local
  memory, which a second process would not see: one row per window, incremented with
  ``UPDATE … SET count = count + 1`` in a transaction. Django's ``DatabaseCache`` is not used
  because its ``incr`` reads and then writes, which loses hits under concurrent writers.

Windows are fixed (``scope``, ``key``, the ``window_s``-long slice of ``clock.now()``). A hit is
counted even when refused, so hammering does not shorten the wait. The client key of a per-address
limit must come from ``linli.core.net.client_ip`` (a trusted proxy's X-Forwarded-For only).

In the database store a hit made inside a transaction that is later rolled back is undone with
it: count *before* opening the transaction of the work being limited (the services do).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from linli.core import clock
from linli.core.net import client_ip


@dataclass(frozen=True)
class Allowed:
    ok: bool
    count: int  # hits in this window, this one included
    retry_after: int  # seconds until the window ends (0 when ok)


def _bucket(scope: str, key: str, index: int) -> str:
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:40]
    return f"rl:{scope[:60]}:{digest}:{index}"


def _redis_hit(bucket: str, ttl: int) -> int:
    cache = caches["default"]
    cache.add(bucket, 0, timeout=ttl)
    try:
        return int(cache.incr(bucket))
    except ValueError:  # expired between add and incr
        cache.add(bucket, 0, timeout=ttl)
        return int(cache.incr(bucket))


def _db_hit(bucket: str, expires_at: datetime) -> int:
    from linli.core.models import RateCounter

    with transaction.atomic():
        # The UPDATE takes the row's lock until commit, so the count read back is ours.
        if not RateCounter.objects.filter(key=bucket).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=bucket, count=1, expires_at=expires_at)
            except IntegrityError:  # another process created it first
                RateCounter.objects.filter(key=bucket).update(count=F("count") + 1)
            else:
                RateCounter.objects.filter(expires_at__lt=clock.now()).delete()
                return 1
        return int(RateCounter.objects.filter(key=bucket).values_list("count", flat=True).get())


def uses_redis() -> bool:
    """Whether the counters are kept in the ``default`` cache (Redis), not in database rows."""
    return str(settings.CACHES.get("default", {}).get("BACKEND", "")).endswith(".RedisCache")


def hit(scope: str, key: object, limit: int, window_s: int) -> Allowed:
    """Count one hit of ``key`` against ``limit`` per ``window_s`` seconds in ``scope``."""
    window_s = max(1, int(window_s))
    now = clock.now().timestamp()
    index = int(now // window_s)
    ends = (index + 1) * window_s
    bucket = _bucket(scope, str(key), index)
    if uses_redis():
        count = _redis_hit(bucket, ttl=window_s + 60)
    else:
        count = _db_hit(bucket, datetime.fromtimestamp(ends, UTC) + timedelta(seconds=60))
    ok = count <= limit
    return Allowed(ok=ok, count=count, retry_after=0 if ok else max(1, math.ceil(ends - now)))


# --- DRF throttles on the same store ----------------------------------------------------------------


class _SharedThrottle(SimpleRateThrottle):
    """DRF's throttle counted by ``hit`` (shared across processes), the client from ``client_ip``."""

    _wait: float | None = None

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        num_requests, duration = self.parse_rate(self.rate)
        assert num_requests is not None and duration is not None
        result = hit(f"api-{self.scope}", self.key, num_requests, duration)
        self._wait = result.retry_after
        return result.ok

    def wait(self) -> float | None:
        return self._wait


class AnonThrottle(_SharedThrottle, AnonRateThrottle):
    """``LINLI_API_ANON_RATE`` per client address for requests without a signed-in user."""


class UserThrottle(_SharedThrottle, UserRateThrottle):
    """``LINLI_API_USER_RATE`` per signed-in user."""
