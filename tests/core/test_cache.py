"""The default cache (Redis with LINLI_CACHE_URL, local memory without) and the generations that
tell every app process to drop its in-memory copies (linli/core/generations.py). Open311's use of
them: tests/open311/test_shared_caches.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from linli.core import generations
from tests import redisd

ROOT = Path(__file__).resolve().parents[2]
redis_url = redisd.redis_url  # fixtures: a Redis for the module, the default cache on it
on_redis = redisd.on_redis


def _settings_caches(**env: str) -> dict[str, Any]:
    code = "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.CACHES))"
    keep = {k: v for k, v in os.environ.items() if k != "LINLI_CACHE_URL"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**keep, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_default_cache_is_redis_with_a_cache_url_and_local_memory_without() -> None:
    embedded = _settings_caches()
    assert embedded["default"]["BACKEND"].endswith("LocMemCache")
    shared = _settings_caches(LINLI_CACHE_URL="redis://127.0.0.1:6379/4")
    assert shared["default"]["BACKEND"] == "linli.core.cache.RedisCache"  # Django's, one client per pool
    assert shared["default"]["LOCATION"] == "redis://127.0.0.1:6379/4"
    assert "shared" not in shared  # one store: rate limits count in "default" too


# --- generations -------------------------------------------------------------------------------------


def test_a_token_holds_until_bumped(settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    a = generations.tokens("x", "y")
    assert generations.tokens("x", "y") == a
    generations.bump("x")
    b = generations.tokens("x", "y")
    assert b[0] != a[0] and b[1] == a[1]
    cache.clear()  # Redis restarted or the key was evicted: a new token, so every copy is reloaded
    assert generations.tokens("x", "y")[0] not in (a[0], b[0])


@pytest.mark.parametrize("backend", ["django.core.cache.backends.redis.RedisCache", "linli.core.cache.RedisCache"])
def test_a_cache_that_does_not_answer_trusts_nothing(settings: Any, backend: str) -> None:
    import redis
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with pytest.raises(redis.exceptions.ConnectionError):  # reads raise redis-py's error, as Django's do
        cache.get_many(["k"])
    assert generations.tokens("x") != generations.tokens("x")  # every reader reloads from the database
    generations.bump("x")  # logged, not raised


def test_tokens_are_shared_through_redis(on_redis: str) -> None:
    import redis

    before = generations.tokens("open311")
    generations.bump("open311")
    after = generations.tokens("open311")
    assert after != before
    # the token is a key of the Redis server itself, which every app server reads
    keys = redis.Redis.from_url(on_redis).keys("*gen:open311*")
    assert keys


# --- reads over each thread's own connection (linli/core/cache.py) ----------------------------------


def _read_conn() -> Any:
    from django.core.cache import cache

    return getattr(cache._cache._mine, "conn", None)  # type: ignore[attr-defined]


def test_reads_answer_as_django_and_keep_one_connection_per_thread(on_redis: str) -> None:
    import threading

    from django.core.cache import cache

    cache.set_many({"a": "甲", "b": 2, "c": {"x": [1, 2.5]}, "d": None})
    assert cache.get("a") == "甲" and cache.get("b") == 2 and cache.get("c") == {"x": [1, 2.5]}
    assert cache.get("missing") is None and cache.get("missing", "dflt") == "dflt"
    assert cache.get("d", "dflt") is None  # a stored None is a value, not a miss
    assert cache.get_many(["a", "missing", "c"]) == {"a": "甲", "c": {"x": [1, 2.5]}}
    assert cache.get_many([]) == {}
    mine = _read_conn()
    assert mine is not None
    cache.get("a")
    assert _read_conn() is mine  # kept, not made per call
    seen: list[Any] = []

    def other() -> None:
        seen.append((cache.get("a"), _read_conn()))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen[0][0] == "甲" and seen[0][1] is not None and seen[0][1] is not mine


def test_a_read_after_the_server_dropped_the_connection_reconnects(on_redis: str) -> None:
    import redis
    from django.core.cache import cache

    cache.set("k", "v")
    assert cache.get("k") == "v"
    conn = _read_conn()
    admin = redis.Redis.from_url(on_redis)
    conn.send_command("CLIENT", "ID")
    assert admin.client_kill_filter(_id=conn.read_response()) == 1  # as a restart or an idle timeout would
    assert cache.get("k") == "v"  # the send failed, and it was sent again on a new connection
    assert _read_conn() is not conn
    assert cache.get_many(["k"]) == {"k": "v"}
    conn = _read_conn()
    conn.pid = -1  # as after a fork: the child makes its own connection and never uses the parent's
    assert cache.get("k") == "v" and _read_conn() is not conn
