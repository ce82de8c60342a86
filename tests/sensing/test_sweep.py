"""The offline sweep (services/intake.sweep, manage.py sensing_sweep): silent devices go offline and
raise "device offline" once; a reading clears it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command

from linli.core import clock
from linli.sensing.models import Alarm, Device, DeviceProfile, RuleState
from linli.sensing.queries import intake as q
from linli.sensing.services import alarms
from linli.sensing.services import intake as svc
from linli.sensing.transitions import Transition

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    caches["default"].clear()
    q.forget()
    yield
    q.forget()


@pytest.fixture
def moves(monkeypatch: pytest.MonkeyPatch) -> list[Transition]:
    seen: list[Transition] = []

    def apply(transitions: Any) -> int:
        seen.extend(transitions)
        return len(transitions)

    monkeypatch.setattr(alarms, "apply", apply)
    return seen


def send(code: str, at: datetime, **values: Any) -> svc.Report:
    with clock.frozen(at):
        return svc.ingest({"ts": int(at.timestamp() * 1000), "values": values}, device_code=code)


def test_a_silent_device_goes_offline_once_and_a_reading_clears_it(
    sensors: SimpleNamespace, moves: list[Transition]
) -> None:
    # the pipe's profile: offline after 900 s, severity warning
    send("PIPE-B", NOW, pressure=0.3)
    send("SMOKE-A", NOW, battery=80)  # smoke: offline after 3 h
    assert Device.objects.get(pk=sensors.pipe.pk).online
    assert svc.sweep(NOW + timedelta(seconds=899)) == 0
    assert svc.sweep(NOW + timedelta(seconds=1000)) == 1
    pipe = Device.objects.get(pk=sensors.pipe.pk)
    assert not pipe.online and Device.objects.get(pk=sensors.smoke_a.pk).online
    (raised,) = moves
    assert (raised.device_id, raised.channel_id, raised.alarm_type, raised.kind) == (pipe.pk, None, "offline", "raise")
    assert raised.severity == "warning" and raised.at == NOW + timedelta(seconds=900)
    assert svc.sweep(NOW + timedelta(seconds=2000)) == 0 and len(moves) == 1  # not repeated
    assert RuleState.objects.filter(device=pipe, rule__isnull=True).count() == 1
    back = send("PIPE-B", NOW + timedelta(seconds=2100), pressure=0.31)
    assert back.accepted == 1
    cleared = moves[-1]
    assert (cleared.alarm_type, cleared.kind, cleared.at) == ("offline", "clear", NOW + timedelta(seconds=2100))
    assert Device.objects.get(pk=sensors.pipe.pk).online
    # and it can go offline again later
    assert svc.sweep(NOW + timedelta(seconds=2100 + 901)) == 1
    assert [(m.kind, m.at) for m in moves[-1:]] == [("raise", NOW + timedelta(seconds=3000))]


def test_never_seen_inactive_and_never_offline_profiles_are_left_alone(
    sensors: SimpleNamespace, moves: list[Transition]
) -> None:
    send("SMOKE-B", NOW, battery=80)
    send("CAM-A", NOW, lane_blocked=0)
    Device.objects.filter(pk=sensors.smoke_b.pk).update(active=False)
    DeviceProfile.objects.filter(code="camera").update(offline_after_s=0)
    assert svc.sweep(NOW + timedelta(days=2)) == 0  # SMOKE-A, the lift, the pipe were never seen
    assert moves == []


def test_a_late_reading_of_an_offline_device_does_not_reraise(
    sensors: SimpleNamespace, moves: list[Transition]
) -> None:
    send("PIPE-B", NOW, pressure=0.3)
    svc.sweep(NOW + timedelta(hours=1))
    send("PIPE-B", NOW - timedelta(minutes=5), pressure=0.3)  # older than the last: changes nothing
    assert [m.kind for m in moves] == ["raise"]


def test_the_command_runs_the_sweep_against_the_real_alarm_service(sensors: SimpleNamespace) -> None:
    send("LIFT-A1", NOW, floor=1)  # the lift: offline after 300 s, major
    out = StringIO()
    with clock.frozen(NOW + timedelta(minutes=10)):
        call_command("sensing_sweep", stdout=out)
    assert out.getvalue().startswith("1 device(s) went offline")
    alarm = Alarm.objects.get(device=sensors.lift, alarm_type="offline")
    assert alarm.severity == "major" and not alarm.cleared and alarm.channel_id is None
    send("LIFT-A1", NOW + timedelta(minutes=11), floor=2)
    assert Alarm.objects.get(pk=alarm.pk).cleared
