"""The roll-up's save hook stays cheap (issue 11 §2): a new event queues nothing (the refresh finds
it above the id watermark), an update queues one row, and a process asks the shared cache for a
refresh about once per refresh, not once per save (linli/dashboard/apps.py, tasks.py)."""

from __future__ import annotations

import random
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache.backends.locmem import LocMemCache

from linli.dashboard import tasks
from linli.dashboard.models import RollupPending
from tests.dashboard.conftest import put_event

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def test_a_new_event_queues_nothing_an_update_one_row(world: Any, gov: Any) -> None:
    event = put_event(world, created_at=datetime(2024, 3, 1, 9, tzinfo=SH), due_at=datetime(2024, 3, 4, tzinfo=SH))
    assert not RollupPending.objects.exists()
    event.closed_at = datetime(2024, 3, 3, tzinfo=SH)
    event.save()
    row = RollupPending.objects.get()
    assert (row.event_id, str(row.old_created), str(row.old_due), row.old_closed) == (
        event.pk,
        "2024-03-01",
        "2024-03-04",
        None,
    )


class _Task:
    def __init__(self, defer: bool) -> None:
        self.backend = SimpleNamespace(supports_defer=defer)
        self.enqueued: list[Any] = []

    def get_backend(self) -> Any:
        return self.backend

    def using(self, run_after: Any = None) -> Any:
        return SimpleNamespace(enqueue=lambda: self.enqueued.append(run_after))

    def enqueue(self) -> None:
        self.enqueued.append(None)


class _Cache(LocMemCache):
    calls = 0

    def add(self, *args: Any, **kwargs: Any) -> bool:
        type(self).calls += 1
        return super().add(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        type(self).calls += 1
        return super().get(*args, **kwargs)


def test_schedule_refresh_asks_the_cache_once_per_waiting_refresh(monkeypatch: Any) -> None:
    cache = _Cache(f"dash-{random.random()}", {})
    clock = [1000.0]
    task = _Task(defer=True)
    monkeypatch.setattr(tasks, "_flag_cache", lambda: cache)
    monkeypatch.setattr(tasks, "refresh_rollup", task)
    monkeypatch.setattr(tasks.time, "time", lambda: clock[0])
    monkeypatch.setattr(tasks, "_quiet_until", 0.0)
    for _ in range(50):  # a burst of saves in one process: one enqueue, two cache calls (get, add)
        tasks.schedule_refresh()
    assert len(task.enqueued) == 1 and _Cache.calls == 2
    assert task.enqueued[0].timestamp() == pytest.approx(1000.0 + tasks.ROLLUP_DELAY_SECONDS)
    # another process (its own quiet time) finds the flag: it learns when that refresh starts
    monkeypatch.setattr(tasks, "_quiet_until", 0.0)
    clock[0] += 0.5
    for _ in range(20):
        tasks.schedule_refresh()
    assert len(task.enqueued) == 1 and _Cache.calls == 3  # one get, then quiet
    # the worker is late: the flag is still there after its start time; each save asks once (a get)
    # and enqueues nothing, since the waiting refresh has not started and will see the write
    clock[0] += tasks.ROLLUP_DELAY_SECONDS
    for _ in range(3):
        tasks.schedule_refresh()
    assert len(task.enqueued) == 1 and _Cache.calls == 6
    # the refresh started (flag cleared): the next save after the quiet time asks for another
    cache.delete(tasks.ROLLUP_FLAG)
    clock[0] += tasks.ROLLUP_DELAY_SECONDS
    tasks.schedule_refresh()
    assert len(task.enqueued) == 2


def test_schedule_refresh_without_deferring_enqueues_at_once(monkeypatch: Any) -> None:
    cache = LocMemCache(f"dash-{random.random()}", {})
    task = _Task(defer=False)
    monkeypatch.setattr(tasks, "_flag_cache", lambda: cache)
    monkeypatch.setattr(tasks, "refresh_rollup", task)
    monkeypatch.setattr(tasks, "_quiet_until", 0.0)
    tasks.schedule_refresh()
    tasks.schedule_refresh()  # the flag is set: no second task
    assert task.enqueued == [None]
    cache.delete(tasks.ROLLUP_FLAG)
    tasks.schedule_refresh()  # no quiet time without a known start
    assert task.enqueued == [None, None]
