"""One open alarm per (device, alarm type) under real concurrency, on PostgreSQL: batches racing to
raise the same alarm (each in its own transaction and connection, as two intake processes) make one
alarm whose repeats count the others; a critical one opens one grid event.

Run with ``DATABASE_URL=postgres://… pytest tests/sensing/test_alarms_race.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from linli.governance.models import Event
from linli.sensing.models import Alarm, AlarmLog
from linli.sensing.services import alarms as svc
from linli.sensing.transitions import Transition
from tests.governance.conftest import make_gov
from tests.governance.test_events_concurrency import run_at_once

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (row locks and the partial unique index under real concurrency)",
    ),
    pytest.mark.django_db(transaction=True),  # the `sensors` fixture puts the default profiles back after a flush
]

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)


def batch(transitions: list[Transition]) -> int:
    with transaction.atomic():  # as the intake: one transaction per batch
        return svc.apply(transitions)


def test_racing_batches_make_one_open_alarm(world: Any, sensors: Any) -> None:
    device = sensors.smoke_a
    for round_ in range(4):  # a few times over, so the race is really run
        t = T0 + timedelta(minutes=round_)
        raises = [
            Transition(device.pk, None, "battery_low", "warning", t + timedelta(seconds=i), "raise") for i in range(6)
        ]
        calls = [lambda one=one: batch([one]) for one in raises]
        results, errors = run_at_once(calls)
        assert not errors, errors
        open_ = Alarm.objects.filter(device=device, alarm_type="battery_low", cleared=False)
        assert open_.count() == 1
        a = open_.get()
        assert a.repeats == 5 and sum(results) == 6
        assert AlarmLog.objects.filter(alarm=a, kind="raised").count() == 1
        assert AlarmLog.objects.filter(alarm=a, kind="repeated").count() == 5
        batch([Transition(device.pk, None, "battery_low", "warning", t + timedelta(seconds=30), "clear")])
    assert Alarm.objects.filter(device=device).count() == 4


def test_racing_critical_raises_open_one_event(world: Any, sensors: Any) -> None:
    make_gov(world)
    device = sensors.smoke_b
    calls = [
        lambda i=i: batch([Transition(device.pk, None, "smoke", "critical", T0 + timedelta(seconds=i), "raise", 1.0)])
        for i in range(5)
    ]
    _, errors = run_at_once(calls)
    assert not errors, errors
    a = Alarm.objects.get(device=device)
    assert a.repeats == 4 and a.event_id is not None
    assert Event.objects.filter(source="sensing").count() == 1
    assert Event.objects.get().client_key == f"alarm-{a.pk}"
