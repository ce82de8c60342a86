"""linli/core/ratelimit.py: one limiter on a store shared by every process, keyed on the client
address a trusted proxy reports (linli.core.net.client_ip) — the public objection limit, the owner
ID-number checks and the API throttles all count there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from linli.consult.services import notices as consult_notices
from linli.core import clock, ratelimit
from tests import redisd

ROOT = Path(__file__).resolve().parents[2]
redis_url = redisd.redis_url  # fixtures: a Redis for the module, the default cache on it
on_redis = redisd.on_redis


@pytest.fixture(autouse=True)
def _clock() -> Any:
    yield
    clock.reset()


@pytest.mark.django_db
def test_counts_refuses_and_names_the_wait() -> None:
    with clock.frozen("2026-03-02T10:00:00+08:00"):
        results = [ratelimit.hit("t", "198.51.100.7", 3, 3600) for _ in range(5)]
        assert [r.ok for r in results] == [True, True, True, False, False]
        assert [r.count for r in results] == [1, 2, 3, 4, 5]
        assert results[-1].retry_after == 3600  # the window is the clock hour
        # another key and another scope have their own buckets
        assert ratelimit.hit("t", "198.51.100.8", 3, 3600).ok
        assert ratelimit.hit("u", "198.51.100.7", 3, 3600).ok
    with clock.frozen("2026-03-02T11:00:01+08:00"):  # the next window
        assert ratelimit.hit("t", "198.51.100.7", 3, 3600).count == 1


@pytest.fixture
def notice(world: Any, project: Any) -> Any:
    return consult_notices.publish_notice(
        world.users["community_worker"], project, kind="plan", title="公示", body="正文"
    )


def _object(notice: Any, **meta: str) -> int:
    url = reverse("consult:notice_object", args=[notice.pk])
    r = Client().post(url, {"name": "王五", "contact": "13912345678", "text": "反对"}, **meta)  # type: ignore[arg-type]
    return int(r.status_code)


@pytest.mark.django_db
def test_objections_behind_a_trusted_proxy_count_per_citizen(notice: Any, settings: Any) -> None:
    settings.LINLI_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LINLI_OBJECTION_RATE_PER_HOUR = 2
    via_proxy = {"REMOTE_ADDR": "10.0.0.2"}
    one = [_object(notice, HTTP_X_FORWARDED_FOR="198.51.100.7", **via_proxy) for _ in range(3)]
    assert one == [302, 302, 429]
    # a second citizen through the same proxy has a bucket of her own
    assert _object(notice, HTTP_X_FORWARDED_FOR="198.51.100.8", **via_proxy) == 302
    # a client cannot pick a fresh bucket by writing the header itself (the proxy appends)
    assert _object(notice, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7", **via_proxy) == 429


@pytest.mark.django_db
def test_an_untrusted_forwarded_for_is_ignored(notice: Any, settings: Any) -> None:
    settings.LINLI_TRUSTED_PROXIES = []
    settings.LINLI_OBJECTION_RATE_PER_HOUR = 2
    codes = [_object(notice, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}") for i in range(3)]
    assert codes == [302, 302, 429]


@pytest.mark.django_db
def test_api_throttle_counts_in_the_shared_store_per_client(settings: Any) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from rest_framework.request import Request

    from linli.core.models import RateCounter
    from linli.core.ratelimit import AnonThrottle

    settings.LINLI_TRUSTED_PROXIES = ["10.0.0.0/8"]

    def allowed(xff: str) -> bool:
        request = Request(RequestFactory().get("/api/v1/x/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=xff))
        request.user = AnonymousUser()
        throttle = AnonThrottle()
        throttle.rate = "2/minute"
        throttle.num_requests, throttle.duration = throttle.parse_rate(throttle.rate)
        ok = throttle.allow_request(request, None)
        assert ok or (throttle.wait() or 0) > 0
        return ok

    with clock.frozen("2026-03-02T10:00:00+08:00"):
        assert [allowed("198.51.100.7") for _ in range(3)] == [True, True, False]
        assert allowed("198.51.100.8")  # another citizen behind the same proxy
    assert RateCounter.objects.exists()  # counted in the shared store, not in process memory


@pytest.mark.django_db
def test_owner_id_checks_count_even_when_the_check_fails(world: Any, settings: Any) -> None:
    from linli.accounts import verification
    from linli.core.errors import LinliError

    settings.LINLI_OWNER_ID_TRIES_PER_HOUR = 2
    user = world.users["community_worker"]
    codes = []
    for _ in range(3):
        try:
            verification.start_sms(user, world.dwelling_a, "110101199003077777")
        except LinliError as exc:
            codes.append(exc.problems[0].code)
    assert codes[-1] == "id_tries" and codes.count("id_tries") == 1


_CHILD = """
import json, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()
from django.db import connections
connections["default"].settings_dict["NAME"] = sys.argv[1]
from linli.core import ratelimit
print(json.dumps([ratelimit.hit(sys.argv[2], "198.51.100.7", 5, 3600).count for _ in range(2)]))
"""


@pytest.mark.django_db(transaction=True)
def test_the_count_is_shared_across_processes() -> None:
    scope = f"cross-{uuid.uuid4().hex[:8]}"
    assert [ratelimit.hit(scope, "198.51.100.7", 5, 3600).count for _ in range(3)] == [1, 2, 3]
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(connection.settings_dict["NAME"]), scope],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    # the other process saw this one's three hits, and this one sees its two
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [4, 5]
    r = ratelimit.hit(scope, "198.51.100.7", 5, 3600)
    assert r.count == 6 and not r.ok


@pytest.mark.django_db
def test_redis_store_when_configured(on_redis: str) -> None:
    """LINLI_CACHE_URL makes the default cache Redis; the counters then live there (one store)."""
    from linli.core.models import RateCounter

    scope = f"redis-{uuid.uuid4().hex[:8]}"
    counts = [ratelimit.hit(scope, "198.51.100.7", 2, 60).count for _ in range(3)]
    assert counts == [1, 2, 3]
    assert not RateCounter.objects.exists()  # counted in Redis, not in the database
    later = clock.now() + timedelta(seconds=61)
    with clock.frozen(later):
        assert ratelimit.hit(scope, "198.51.100.7", 2, 60).count == 1
