"""A Redis for tests: db ``LINLI_TEST_REDIS_DB`` (default 4) of the server at 127.0.0.1:6379 when
one answers, else a ``redis-server`` of our own on a free port (nothing saved to disk), stopped
again at the end. ``None`` when neither is possible (tests skip with a reason)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ports import free_port


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def own_server() -> Iterator[str | None]:
    """A ``redis-server`` of our own on a free port (nothing saved to disk), stopped at the end;
    ``None`` when none is installed. Also what ``tests/stack.py`` gives each production stack."""
    binary = shutil.which("redis-server") or next((p for p in ("/usr/bin/redis-server",) if os.path.exists(p)), None)
    if binary is None:
        yield None
        return
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not answers("127.0.0.1", port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def server_url() -> Iterator[str | None]:
    db = int(os.environ.get("LINLI_TEST_REDIS_DB", "4"))
    if answers("127.0.0.1", 6379):
        yield f"redis://127.0.0.1:6379/{db}"
        return
    with own_server() as url:
        yield url


def redis_cache(url: str) -> dict[str, object]:
    """A ``CACHES`` entry for ``url``, as settings.py makes it from ``LINLI_CACHE_URL``."""
    return {
        "BACKEND": "linli.core.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": f"linli-test-{os.getpid()}",
    }


# --- pytest fixtures (import them by name into a test module) -------------------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with server_url() as url:
        if url is None:
            pytest.skip("no Redis at 127.0.0.1:6379 and no redis-server to start")
        yield url


@pytest.fixture
def on_redis(settings: Any, redis_url: str) -> str:
    """The default cache on Redis, as LINLI_CACHE_URL makes it (emptied for each test)."""
    settings.CACHES = {"default": redis_cache(redis_url)}
    from django.core.cache import cache

    cache.clear()
    return redis_url
