"""Linli's one clock: every "now" and "today" in the product comes from here.

Production reads the system clock. Tests and the demo may move it:

* ``LINLI_AS_OF=2028-02-29`` (or a full ISO datetime) in the environment starts the process as if
  it were that day (the clock keeps running from there). The date-sensitive tests run at several
  such dates in CI (`make test-dates`), and ``manage.py load_demo_events --as-of`` builds the demo
  year up to any day.
* ``clock.travel(to)`` moves a running process; ``with clock.frozen(at):`` stops the clock at one
  instant for the block (tests).

``install()`` (called once from ``CoreConfig.ready``) also routes Django's own
``django.utils.timezone.now`` through this clock, so ``auto_now`` fields, sessions and every
library that asks Django for the time agree with the product's pages. With no offset set, the
clock *is* the system clock: the cost is one function call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

_real_now = timezone.now
_offset = timedelta(0)
_frozen_at: datetime | None = None


def now() -> datetime:
    """The current instant (aware, UTC), as the product sees it."""
    if _frozen_at is not None:
        return _frozen_at
    return _real_now() + _offset


def today() -> date:
    """Today's date in the site's time zone (``TIME_ZONE``)."""
    return timezone.localdate(now())


def _instant(at: datetime | date | str) -> datetime:
    """An aware datetime from a datetime, a date (noon local time: no midnight or DST edge), or ISO text."""
    if isinstance(at, str):
        text = at.strip()
        try:
            at = date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"LINLI_AS_OF must be an ISO date or datetime, not {text!r}") from exc
    if not isinstance(at, datetime):
        at = datetime.combine(at, time(12, 0))
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.get_default_timezone())
    return at.astimezone(UTC)


def travel(to: datetime | date | str) -> None:
    """Move the clock so that it reads ``to`` now and keeps running from there."""
    global _offset, _frozen_at
    _frozen_at = None
    _offset = _instant(to) - _real_now()


def reset() -> None:
    """Back to the system clock."""
    global _offset, _frozen_at
    _offset, _frozen_at = timedelta(0), None


@contextmanager
def frozen(at: datetime | date | str) -> Iterator[datetime]:
    """Stop the clock at ``at`` for the block; the previous clock comes back afterwards."""
    global _frozen_at
    before = _frozen_at
    _frozen_at = _instant(at)
    try:
        yield _frozen_at
    finally:
        _frozen_at = before


def shifted() -> bool:
    """True when the clock does not read the system time (an "as of" date or a frozen instant)."""
    return _frozen_at is not None or _offset != timedelta(0)


def _django_now() -> datetime:
    return now()


def install() -> None:
    """Route Django's ``timezone.now`` through this clock and apply ``LINLI_AS_OF`` if set."""
    timezone.now = _django_now
    as_of = os.environ.get("LINLI_AS_OF", "").strip()
    if as_of:
        travel(as_of)


__all__ = ["frozen", "install", "now", "reset", "shifted", "today", "travel"]
