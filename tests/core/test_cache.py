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


def test_a_cache_that_does_not_answer_trusts_nothing(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
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
