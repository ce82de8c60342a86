"""Grid events under real concurrency, on PostgreSQL (row locks and the unique client key): two
department staff accepting one case at once, and a phone retrying one report twenty times at once.

Threads with their own database connections; run with
``DATABASE_URL=postgres://… pytest tests/governance/test_events_concurrency.py``."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from linli.core.errors import LinliError
from linli.governance.loop import Step
from linli.governance.models import Event, EventLog, EventPhoto
from linli.governance.services import events as svc
from tests.governance.conftest import POS
from tests.renewal.conftest import png

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (row locks under real concurrency); set DATABASE_URL=postgres://…",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_at_once(calls: list[Any]) -> tuple[list[Any], list[BaseException]]:
    """Run each call in its own thread, all released together; results and errors."""
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(len(calls))

    def worker(call: Any) -> None:
        try:
            start.wait()
            out = call()
            with lock:
                results.append(out)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results, errors


def test_two_accept_one_case_at_once(world: Any, gov: Any) -> None:
    command = world.users["street_command"]
    for _round in range(5):  # a few times over, so the race is really run
        event, _ = svc.report(command, svc.Report("C0102", *POS["a"]), channel="hotline")
        event = svc.act(command, event, "dispatch")
        assert event.department == gov.cg
        results, errors = run_at_once(
            [
                lambda e=event: svc.act(gov.cg_staff, e, "accept", expected_step="dispatched"),
                lambda e=event: svc.act(gov.cg_staff2, e, "accept", expected_step="dispatched"),
            ]
        )
        assert len(results) == 1 and len(errors) == 1, errors
        assert isinstance(errors[0], LinliError) and errors[0].status == 409, errors[0]
        assert errors[0].problems[0].code in ("step_changed", "wrong_step")
        event.refresh_from_db()
        assert event.step == Step.HANDLING and event.handler_id == results[0].handler_id
        assert EventLog.objects.filter(event=event, move="accept").count() == 1


def test_twenty_retries_of_one_report_make_one_event(world: Any, gov: Any) -> None:
    user = world.users["resident"]
    report = svc.Report("E0201", *POS["a"], description="垃圾堆了三天", client_key="phone-42")
    results, errors = run_at_once([lambda: svc.report(user, report, channel="resident") for _ in range(20)])
    assert not errors, errors
    assert Event.objects.filter(source=f"u:{user.pk}", client_key="phone-42").count() == 1
    event = Event.objects.get(client_key="phone-42")
    assert {e.pk for e, _created in results} == {event.pk}
    assert sum(created for _e, created in results) == 1
    assert EventLog.objects.filter(event=event).count() == 1


def test_retries_with_photos_at_once_make_one_event_with_its_photos(world: Any, gov: Any) -> None:
    """With photos the event is written inside a transaction: a retry that finds its key taken
    there rolls back, writes no photo, and answers the first event."""
    user = world.users["resident"]

    def send() -> tuple[Event, bool]:
        report = svc.Report("E0201", *POS["a"], client_key="phone-43", photos=[png(), png(name="q.png")])
        return svc.report(user, report, channel="resident")

    results, errors = run_at_once([send for _ in range(8)])
    assert not errors, errors
    event = Event.objects.get(source=f"u:{user.pk}", client_key="phone-43")
    assert {e.pk for e, _created in results} == {event.pk}
    assert sum(created for _e, created in results) == 1
    assert EventPhoto.objects.filter(event=event).count() == 2
    assert EventPhoto.objects.count() == 2 and EventLog.objects.filter(event=event).count() == 1
