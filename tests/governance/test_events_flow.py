"""The whole loop once, end to end through the services (the detailed refusals live beside it)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.governance.loop import Step
from linli.governance.models import EventLog
from linli.governance.services import events as svc
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db


def test_grid_worker_report_to_evaluation(world: Any, gov: Any) -> None:
    worker = world.users["grid_fulltime"]
    command = world.users["street_command"]
    lat, lon = POS["a"]
    event, created = svc.report(
        worker,
        svc.Report(
            "C0101", lat + 0.0001, lon, description="井盖缺失", attributes={"danger_now": "yes", "cover": "missing"}
        ),
        channel="grid",
    )
    assert created and event.step == Step.COLLECTED and event.building == world.building_a
    assert event.grid == world.grid_a
    event = svc.act(command, event, "register")
    event = svc.act(command, event, "dispatch")
    assert event.department == gov.cg  # a component goes to its owner first
    event = svc.act(gov.cg_staff, event, "accept")
    event = svc.act(gov.cg_staff, event, "report", note="已更换井盖")
    event = svc.act(worker, event, "verify_pass")
    assert event.step == Step.CLOSED and event.closed_at is not None
    event = svc.act(command, event, "evaluate", score=5)
    assert event.step == Step.EVALUATED
    moves = list(EventLog.objects.filter(event=event).values_list("move", flat=True))
    assert moves == ["create", "register", "dispatch", "accept", "report", "verify_pass", "evaluate"]
