"""Generations: when an app process may go on trusting its in-memory copy of something.

Hot paths (the Open311 intake, event categories) keep rows in process memory. Every change to
such rows *bumps* a named generation — a random token in Django's ``default`` cache (Redis when
``LINLI_CACHE_URL`` is set, so every app server sees it; local memory in the embedded default,
which is one process) — and a reader compares the token its copy was built under with the current
one (one cache GET, or one ``get_many`` for several names) before using the copy. A switched-off
api key or category therefore stops working on every server with the next request.

* A token, not a counter: if Redis restarts or evicts the key, readers see a new token and reload
  (a counter would start again at a number a process may already have seen).
* ``bump`` runs at once *and* again after the surrounding transaction commits: a reader that
  reloaded between the two (still seeing the old row) is invalidated again by the second.
* If the cache does not answer, ``tokens`` returns a fresh random token: every reader reloads from
  the database — slower, never stale.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save

log = logging.getLogger(__name__)

PREFIX = "gen:"


def _cache() -> Any:
    return caches["default"]


def tokens(*names: str) -> tuple[str, ...]:
    """The current token of each generation ``names`` (one round trip to the cache)."""
    keys = [PREFIX + n for n in names]
    try:
        cache = _cache()
        found = cache.get_many(keys)
        missing = [k for k in keys if k not in found]
        for k in missing:  # first use, or lost (restart, eviction): start one; a racing add wins
            cache.add(k, uuid.uuid4().hex, timeout=None)
        if missing:
            found.update(cache.get_many(missing))
        return tuple(str(found.get(k) or uuid.uuid4().hex) for k in keys)
    except Exception:  # the cache is down: trust nothing held in memory
        log.warning("generations: the cache does not answer; reading from the database", exc_info=True)
        return tuple(uuid.uuid4().hex for _ in keys)


_held = threading.local()


@contextmanager
def held(*names: str) -> Iterator[tuple[str, ...]]:
    """Read the tokens of ``names`` once (one round trip) and, inside, let ``token()`` answer from
    them on this thread: a request checks every in-memory copy it uses against one ``MGET``."""
    got = tokens(*names)
    before: dict[str, str] | None = getattr(_held, "tokens", None)
    _held.tokens = {**(before or {}), **dict(zip(names, got, strict=True))}
    try:
        yield got
    finally:
        _held.tokens = before


def current(*names: str) -> tuple[str, ...]:
    """The current token of each of ``names``: those ``held()`` read for this request, else from the
    cache (one round trip for all of them)."""
    mine: dict[str, str] | None = getattr(_held, "tokens", None)
    if mine is not None and all(n in mine for n in names):
        return tuple(mine[n] for n in names)
    return tokens(*names)


def token(name: str) -> str:
    """``current()`` of one name."""
    return current(name)[0]


def _set(name: str) -> None:
    try:
        _cache().set(PREFIX + name, uuid.uuid4().hex, timeout=None)
    except Exception:
        log.error("generations: could not bump %s (cache down?)", name, exc_info=True)


def bump(name: str) -> None:
    """Tell every process that what generation ``name`` covers has changed (now and on commit)."""
    _set(name)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _set(name))


def bump_on_change(model: Any, name: str) -> None:
    """Bump ``name`` whenever a row of ``model`` is saved or deleted (``AppConfig.ready``). Bulk
    ``update()``/``bulk_create`` send no signals: their callers bump themselves."""

    def changed(**_kwargs: Any) -> None:
        bump(name)

    uid = f"generation:{name}:{model._meta.label}"
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid + ":save")
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid + ":delete")
