"""Background tasks of the command centre (docs/runs_services.md, docs/dashboard.md).

The "rollup" refresh may live here too (each part in its own section; append, never rewrite).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from linli.core import clock
from linli.core.exports import XLSX, rechecked, temporary_file, write_workbook
from linli.dashboard import metrics, permissions
from linli.dashboard import services as svc
from linli.dashboard.export import sheets, total_rows
from linli.runs import services as runs_services

# --- the period export (the "exports" helper's part) ---------------------------------------------


@task()
def export_period(run_id: int, first: str, last: str, preset: str = "", ip: str | None = None) -> None:
    """The period as .xlsx (per department, grid, category, and its events without reporter data),
    with the rows counted on the run's progress bar; the access-log entry is written with "done"."""
    with runs_services.working(run_id) as work:
        user = work.run.user
        with rechecked():
            events = permissions.events_of(user)
        period = metrics.Period(date.fromisoformat(first), date.fromisoformat(last), preset)
        tz = timezone.get_current_timezone()
        built = sheets(events, period, tz, clock.now(), work.language)
        total = total_rows(events, period, tz, built)
        work.progress(0, total)
        with temporary_file() as path:
            counts = write_workbook(path, built, progress=lambda done: work.progress(done, total))
            work.save_file(path, f"指挥中心-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx", XLSX)
        n = sum(counts)
        with transaction.atomic():
            svc.log_export(user, period, ip)
            work.progress(n, n)
            events_n = counts[-1]
            work.finish(
                result={
                    "rows": n,
                    "events": events_n,
                    "zh": f"{period.first} 至 {period.last}:共 {events_n} 件事件。",
                    "en": f"{period.first} to {period.last}: {events_n} events.",
                }
            )


# --- the roll-up refresh (the "rollup" helper's part; docs/dashboard.md "The roll-up") ------------

#: One refresh pending at a time: the flag lives in the cache every web and worker process shares
#: (the "progress" cache: a file cache in the embedded default, Redis with LINLI_CACHE_URL). It
#: expires on its own, so a refresh lost with a killed worker is asked for again by a later save.
ROLLUP_FLAG = "dashboard:rollup:pending"
ROLLUP_FLAG_SECONDS = 300
#: With a backend that can defer (the database backend): the refresh runs this long after it was
#: asked for, and the flag holds that time, so each process knows until when a waiting refresh
#: will still see what it writes and skips the cache until then (less CLOCK_MARGIN, for the clocks
#: of several machines): a process asks the cache about once per refresh, not once per save.
ROLLUP_DELAY_SECONDS = 2.0
CLOCK_MARGIN_SECONDS = 0.5
_quiet_until = 0.0  # this process: a refresh that starts after this time is waiting


def _flag_cache() -> Any:
    from django.core.cache import caches
    from django.core.cache.backends.base import InvalidCacheBackendError

    try:
        return caches["progress"]
    except InvalidCacheBackendError:
        return caches["default"]


@task()
def refresh_rollup(full: bool = False) -> dict[str, Any]:
    """Bring the command centre's roll-up up to date (``services.refresh``): what changed since the
    last refresh, or everything with ``full``."""
    _flag_cache().delete(ROLLUP_FLAG)  # saves from now on ask for the next refresh
    done = svc.refresh(full=full)
    return {
        "full": done.full,
        "events": done.events,
        "days": done.days,
        "added": done.added,
        "seconds": round(done.seconds, 3),
    }


def schedule_refresh() -> None:
    """After a committed event write (the save hook in ``apps.py``): enqueue one refresh unless one
    is already waiting that will start late enough to see this write."""
    global _quiet_until
    now = time.time()
    if now < _quiet_until:
        return
    cache = _flag_cache()
    if not refresh_rollup.get_backend().supports_defer:  # the immediate backend (tests): no waiting
        if cache.add(ROLLUP_FLAG, now, ROLLUP_FLAG_SECONDS):
            refresh_rollup.enqueue()
        return
    # A refresh whose flag is still there has not started (it removes the flag first), so it will
    # see this committed write: one GET, the common case under load. Only without one, ask to add.
    waiting = cache.get(ROLLUP_FLAG)
    if waiting is None:
        run_at = now + ROLLUP_DELAY_SECONDS
        if cache.add(ROLLUP_FLAG, run_at, ROLLUP_FLAG_SECONDS):
            refresh_rollup.using(run_after=datetime.fromtimestamp(run_at, tz=UTC)).enqueue()
            _quiet_until = run_at - CLOCK_MARGIN_SECONDS
            return
        waiting = cache.get(ROLLUP_FLAG)  # another process added it just now
    if isinstance(waiting, float):
        _quiet_until = waiting - CLOCK_MARGIN_SECONDS
