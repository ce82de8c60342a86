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

import argparse
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


@contextmanager
def as_of(day: datetime | date | str | None) -> Iterator[datetime]:
    """Run the block as if it were ``day`` (a date: noon local time), the clock running from there;
    the previous clock comes back afterwards. ``None``, or today's date, leaves the clock as it is
    (``manage.py load_demo_events --as-of`` and ``load_demo_consent --as-of``)."""
    global _offset, _frozen_at
    before = _offset, _frozen_at
    if day is not None and not (type(day) is date and day == today()):
        travel(day)
    try:
        yield now()
    finally:
        _offset, _frozen_at = before


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` date: the ``type`` of a command's ``--as-of`` option (a bilingual
    ``argparse.ArgumentTypeError`` otherwise, which the command prints as its error)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"日期应为 YYYY-MM-DD,而不是 {text[:30]!r} / a date must be YYYY-MM-DD, not {text[:30]!r}"
        ) from exc


def shifted() -> bool:
    """True when the clock does not read the system time (an "as of" date or a frozen instant)."""
    return _frozen_at is not None or _offset != timedelta(0)


def _django_now() -> datetime:
    return now()


# It stands in for ``django.utils.timezone.now`` everywhere, migrations included: a field default
# ``timezone.now`` serialises to the same path, so no migration ever sees a change.
_django_now.__module__ = "django.utils.timezone"
_django_now.__qualname__ = _django_now.__name__ = "now"


def patch_django() -> None:
    """Route Django's ``timezone.now`` through this clock. ``linli/settings.py`` calls it before
    any model class exists, so the defaults of Django's own models (``User.date_joined``,
    ``LogEntry.action_time``) and their migrations hold this same function."""
    timezone.now = _django_now


def install() -> None:
    """Route Django's ``timezone.now`` through this clock and apply ``LINLI_AS_OF`` if set."""
    patch_django()
    as_of = os.environ.get("LINLI_AS_OF", "").strip()
    if as_of:
        travel(as_of)


__all__ = ["as_of", "frozen", "install", "now", "parse_day", "reset", "shifted", "today", "travel"]
