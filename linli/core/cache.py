"""Django's Redis cache backend, with one client object per connection pool instead of one per call,
and reads (``get``, ``get_many``) over a connection of each thread's own.

* ``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis`` for
  every cache call, and redis-py fills a table of ~170 response callbacks each time: about a fifth
  of the CPU of one GET in the Open311 intake profile (docs/open311.md). A ``redis.Redis`` on a
  connection pool is safe to share between threads, so each pool gets one, made on first use.
* A read through that client still costs ~100 µs of CPU (redis-py 8: the pool's checkout with its
  "unread data" poll and metrics, the retry and deprecation wrappers) for a round trip of ~20 µs.
  Every request of the Open311 intake reads the generations (``linli.core.generations``), so
  ``get`` and ``get_many`` send their one command over a ``redis.Connection`` kept by the calling
  thread (made from the pool's own settings: address, database, password, timeouts). A broken
  connection is dropped and the command sent once more on a new one (a Redis restart, an idle
  timeout), as redis-py's default retry does; a second failure raises redis-py's error, as before.
  Writes keep redis-py's client. After a fork (gunicorn's workers) a process makes its own.

Settings: ``"BACKEND": "linli.core.cache.RedisCache"`` (settings.py does this for LINLI_CACHE_URL).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _Client(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._made = threading.Lock()
        self._mine = threading.local()  # this thread's read connection

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django_client: Any = self  # RedisCacheClient's private helpers are not in django-stubs
        index = django_client._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._made:
                client = self._clients.get(index)
                if client is None:
                    pool = django_client._get_connection_pool(write)
                    client = self._clients[index] = django_client._client(connection_pool=pool)
        return client

    def _read(self, *command: Any) -> Any:
        """Send one read ``command`` over this thread's connection; its reply (raw bytes)."""
        from redis.exceptions import ConnectionError as RedisConnectionError

        for attempt in (1, 2):
            conn = getattr(self._mine, "conn", None)
            if conn is None or conn.pid != os.getpid():
                django_client: Any = self
                pool = django_client._get_connection_pool(False)
                conn = self._mine.conn = pool.connection_class(**pool.connection_kwargs)
            try:
                conn.send_command(*command)
                return conn.read_response()
            except RedisConnectionError:
                conn.disconnect()
                self._mine.conn = None
                if attempt == 2:
                    raise
            except BaseException:  # a timeout, an error reply: never reuse a half-read connection
                conn.disconnect()
                self._mine.conn = None
                raise
        raise AssertionError("unreachable")

    def get(self, key: Any, default: Any) -> Any:
        value = self._read("GET", key)
        django_client: Any = self
        return default if value is None else django_client._serializer.loads(value)

    def get_many(self, keys: Any) -> dict[Any, Any]:
        keys = list(keys)
        if not keys:
            return {}
        values = self._read("MGET", *keys)
        django_client: Any = self
        loads = django_client._serializer.loads
        return {k: loads(v) for k, v in zip(keys, values, strict=True) if v is not None}


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _Client
