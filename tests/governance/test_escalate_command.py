"""``manage.py escalate_events``: one run escalates what is overdue and says how many; a second
run writes nothing; ``--every`` repeats (sleep replaced here, so the test does not wait)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from linli.governance.models import Event, EventLog
from linli.governance.services import events as svc
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db


def _overdue(world: Any, pos: str = "a") -> Event:
    event, _ = svc.report(world.users["street_command"], svc.Report("E0201", *POS[pos]), channel="hotline")
    Event.objects.filter(pk=event.pk).update(step_due_at=event.created_at - timedelta(hours=1))
    return event


def test_once(world: Any, gov: Any) -> None:
    a, b = _overdue(world, "a"), _overdue(world, "b")
    out = StringIO()
    call_command("escalate_events", stdout=out)
    assert "escalated 2 event(s)" in out.getvalue()
    assert sorted(Event.objects.filter(pk__in=[a.pk, b.pk]).values_list("escalation", flat=True)) == [1, 1]
    logs = EventLog.objects.filter(move="escalate").count()
    out = StringIO()
    call_command("escalate_events", stdout=out)
    assert "escalated 0 event(s)" in out.getvalue()
    assert EventLog.objects.filter(move="escalate").count() == logs == 2


def test_nothing_overdue(world: Any, gov: Any) -> None:
    svc.report(world.users["street_command"], svc.Report("E0201", *POS["a"]), channel="hotline")
    out = StringIO()
    call_command("escalate_events", stdout=out)
    assert "escalated 0 event(s)" in out.getvalue()
    assert not EventLog.objects.filter(move="escalate").exists()


@pytest.mark.django_db(transaction=True)  # the loop closes stale connections between runs
def test_every(world: Any, gov: Any, monkeypatch: Any) -> None:
    from linli.governance.management.commands import escalate_events

    _overdue(world)
    sleeps: list[float] = []

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            _overdue(world, "b")  # a second case falls overdue between two runs

    # Only the command's own ``time``: patching ``time.sleep`` itself would hand the fake to every
    # thread of the process (a worker's or a driver's polling loop then spins and creates case b at
    # a moment of its own — seen as runs escalating 1, 0, 1, and as a hung run).
    monkeypatch.setattr(escalate_events, "time", SimpleNamespace(sleep=fake_sleep))
    out = StringIO()
    call_command("escalate_events", "--every", "60", "--runs", "3", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(" escalated ")[1].split(" ")[0] for line in lines] == ["1", "1", "0"]
    assert sleeps == [60, 60]


@pytest.mark.parametrize("args", [["--every", "1"], ["--runs", "-1"]])
def test_bad_arguments(world: Any, args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("escalate_events", *args, stdout=StringIO())
