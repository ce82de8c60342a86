"""Alarms (issue 13 §4): ThingsBoard's lifecycle from the intake's transitions, the grid event of a
critical alarm (once, by its client key; trapped passengers urgent), the command centre told, and
the staff's acknowledge / clear with their permissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from linli.core.errors import LinliError
from linli.governance.models import Category, Event
from linli.governance.services import events as governance_events
from linli.notify.models import Notification
from linli.sensing.models import Alarm, AlarmLog, priority
from linli.sensing.services import alarms as svc
from linli.sensing.transitions import Transition
from tests.governance.conftest import make_gov

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tr(
    device: Any,
    kind: str,
    t: float,
    *,
    alarm_type: str = "battery_low",
    severity: str = "warning",
    value: float | None = None,
) -> Transition:
    channel = device.channels.order_by("pk").first()
    return Transition(device.pk, channel.pk if channel else None, alarm_type, severity, at(t), kind, value)  # type: ignore[arg-type]


@pytest.fixture
def env(world: Any) -> Any:
    """Buildings placed apart and the governance catalogue first (make_gov), then the devices."""
    return make_gov(world)


@pytest.fixture
def s(env: Any, sensors: Any) -> Any:
    governance_events.forget_categories()
    return sensors


def log_kinds(alarm: Alarm) -> list[str]:
    return list(AlarmLog.objects.filter(alarm=alarm).order_by("at", "pk").values_list("kind", flat=True))


# --- the lifecycle --------------------------------------------------------------------------------


def test_nothing_to_apply_costs_nothing(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert svc.apply([]) == 0


def test_raise_repeat_clear_and_a_new_alarm_after(world: Any, s: Any) -> None:
    assert svc.apply([tr(s.smoke_a, "raise", 0, value=15)]) == 1
    a = Alarm.objects.get()
    assert (a.cleared, a.acknowledged, a.status) == (False, False, "active_unack")
    assert a.priority == priority("battery_low", "warning") == 4
    assert (a.started_at, a.last_at, a.value, a.repeats) == (at(0), at(0), 15, 0)
    assert (a.community_id, a.grid_id, a.path) == (world.comm_a.pk, world.grid_a.pk, s.smoke_a.path)
    assert a.event_id is None  # a warning opens no grid event

    assert svc.apply([tr(s.smoke_a, "raise", 60, value=12), tr(s.smoke_a, "raise", 120, value=10)]) == 1
    a.refresh_from_db()
    assert (a.repeats, a.last_at, a.value, a.started_at) == (2, at(120), 10, at(0))

    assert svc.apply([tr(s.smoke_a, "clear", 180, value=35)]) == 1
    a.refresh_from_db()
    assert (a.cleared, a.cleared_at, a.status) == (True, at(180), "cleared_unack")
    assert log_kinds(a) == ["raised", "repeated", "repeated", "auto_cleared"]

    # a clear with nothing open changes nothing; the next raise opens a new alarm
    assert svc.apply([tr(s.smoke_a, "clear", 200)]) == 0
    assert svc.apply([tr(s.smoke_a, "raise", 240, value=9)]) == 1
    assert Alarm.objects.count() == 2
    new = Alarm.objects.get(cleared=False)
    assert new.pk != a.pk and new.started_at == at(240) and new.repeats == 0


def test_one_open_alarm_per_device_and_type(s: Any) -> None:
    svc.apply(
        [
            tr(s.smoke_a, "raise", 0),
            tr(s.smoke_a, "raise", 0, alarm_type="offline", severity="minor"),
            tr(s.smoke_b, "raise", 0),
            tr(s.smoke_a, "raise", 5),
        ]
    )
    assert Alarm.objects.count() == 3
    assert Alarm.objects.get(device=s.smoke_a, alarm_type="battery_low").repeats == 1
    assert Alarm.objects.get(device=s.smoke_a, alarm_type="offline").priority == 3


def test_raise_clear_raise_in_one_batch_makes_two_alarms(s: Any) -> None:
    assert svc.apply([tr(s.smoke_a, "raise", 0), tr(s.smoke_a, "clear", 10), tr(s.smoke_a, "raise", 20)]) == 2
    first, second = Alarm.objects.order_by("started_at")
    assert first.cleared and first.cleared_at == at(10) and not second.cleared
    assert log_kinds(first) == ["raised", "auto_cleared"] and log_kinds(second) == ["raised"]


def test_acknowledged_and_cleared_is_done_the_next_raise_opens_a_new_one(world: Any, s: Any) -> None:
    command = world.users["street_command"]
    svc.apply([tr(s.smoke_a, "raise", 0)])
    a = Alarm.objects.get()
    svc.acknowledge(command, a, "已通知物业")
    svc.apply([tr(s.smoke_a, "raise", 30)])  # still open: a repeat, acknowledged stays
    a.refresh_from_db()
    assert a.repeats == 1 and a.acknowledged and a.status == "active_ack"
    svc.apply([tr(s.smoke_a, "clear", 60)])
    a.refresh_from_db()
    assert a.status == "cleared_ack"
    svc.apply([tr(s.smoke_a, "raise", 90)])
    assert Alarm.objects.filter(cleared=False).exclude(pk=a.pk).count() == 1


def test_a_raise_moves_the_open_alarm_to_its_severity(s: Any) -> None:
    svc.apply([tr(s.pipe, "raise", 0, alarm_type="pressure_low", severity="minor")])
    svc.apply([tr(s.pipe, "raise", 10, alarm_type="pressure_low", severity="major")])
    a = Alarm.objects.get()
    assert (a.severity, a.priority, a.repeats) == ("major", 2, 1)


def test_unknown_device_is_skipped_not_an_error(s: Any) -> None:
    bad = Transition(999_999, None, "offline", "minor", at(0), "raise")
    assert svc.apply([bad, tr(s.smoke_a, "raise", 0)]) == 1


def test_a_batch_of_transitions_costs_few_queries(s: Any, django_assert_max_num_queries: Any) -> None:
    svc.apply([tr(d, "raise", 0) for d in (s.smoke_a, s.smoke_b, s.smoke_c)])
    again = [tr(s.smoke_a, "raise", 10), tr(s.smoke_b, "clear", 10), tr(s.smoke_c, "raise", 10)]
    fresh = [tr(d, "raise", 20, alarm_type="offline", severity="minor") for d in (s.smoke_a, s.smoke_b, s.smoke_c)]
    # repeats and clears of open alarms: lock, one update, one insert of history (in the caller's transaction)
    with django_assert_max_num_queries(3):
        svc.apply(again)
    # new alarms: lock, devices, savepoint + insert + release, history
    with django_assert_max_num_queries(6):
        svc.apply(fresh)


# --- grid events ------------------------------------------------------------------------------------


def test_a_critical_alarm_opens_one_grid_event(world: Any, s: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        svc.apply([tr(s.smoke_a, "raise", 0, alarm_type="smoke", severity="critical", value=1)])
    a = Alarm.objects.get()
    ev = Event.objects.get()
    assert a.event_id == ev.pk and a.priority == 1
    assert (ev.channel, ev.source, ev.client_key) == ("sensor", "sensing", f"alarm-{a.pk}")
    assert ev.category.code == "C0107" and ev.building_id == world.building_a.pk and ev.device_id == "SMOKE-A"
    assert not ev.urgent
    assert f"#{a.pk}" in ev.description and "SMOKE-A" in ev.description
    assert "Sensor alarm" in ev.description and "物联感知报警" in ev.description
    assert log_kinds(a) == ["raised", "event"]
    # the command centre on duty for building A is told at once, with a link to the alarm
    told = Notification.objects.filter(kind="urgent")
    assert set(told.values_list("user__username", flat=True)) == {"street_command"}
    assert told.get().url == f"/sensing/alarms/{a.pk}/"

    # a replay (the same alarm once more) finds the same event; repeats open nothing new
    assert svc.open_event(a) == ev
    svc.apply([tr(s.smoke_a, "raise", 5, alarm_type="smoke", severity="critical", value=1)])
    assert Event.objects.count() == 1


def test_trapped_passengers_make_the_event_urgent(world: Any, s: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from linli.notify import services as notify_services

    calls: list[Any] = []
    monkeypatch.setattr(notify_services, "urgent_case", lambda *args: calls.append(args))
    svc.apply([tr(s.lift, "raise", 0, alarm_type="trapped", severity="critical", value=1)])
    a = Alarm.objects.get()
    assert a.priority == 0
    ev = Event.objects.get(pk=a.event_id or 0)
    assert ev.urgent and ev.category.code == "C0110"
    assert "困人" in ev.description and "Passengers trapped" in ev.description  # Chinese, then English
    # governance told the command centre (urgent case), once
    assert len(calls) == 1 and calls[0][0] == ev.pk and calls[0][1] == [world.users["street_command"].pk]


def test_categories_by_type_and_by_device_kind() -> None:
    assert svc.category_for("trapped", "lift") == "C0110"
    assert svc.category_for("pressure_low", "pipe") == "C0103"
    assert svc.category_for("threshold", "camera") == "E0204"
    assert svc.category_for("offline", "lift") == "C0110"
    assert svc.category_for("threshold", "other") == "E0216"


def test_a_device_at_a_point_opens_its_event_at_the_nearest_building(s: Any, world: Any) -> None:
    svc.apply([tr(s.camera, "raise", 0, alarm_type="threshold", severity="critical", value=1)])
    ev = Event.objects.get()
    assert ev.category.code == "E0204" and ev.building_id == world.building_a.pk


def test_an_event_that_cannot_be_opened_is_tried_again_at_the_next_repeat(
    s: Any, django_capture_on_commit_callbacks: Any
) -> None:
    Category.objects.filter(code="C0107").update(active=False)
    governance_events.forget_categories()
    with django_capture_on_commit_callbacks(execute=True):
        svc.apply([tr(s.smoke_a, "raise", 0, alarm_type="smoke", severity="critical")])
    a = Alarm.objects.get()
    assert a.event_id is None and not Event.objects.exists()
    assert Notification.objects.filter(kind="urgent").count() == 1  # the centre is told anyway
    Category.objects.filter(code="C0107").update(active=True)
    governance_events.forget_categories()
    with django_capture_on_commit_callbacks(execute=True):
        svc.apply([tr(s.smoke_a, "raise", 30, alarm_type="smoke", severity="critical")])
    a.refresh_from_db()
    assert a.event_id is not None and Event.objects.count() == 1


def test_the_event_s_end_shows_on_the_alarm(world: Any, s: Any, client_for: Any) -> None:
    svc.apply([tr(s.smoke_a, "raise", 0, alarm_type="smoke", severity="critical")])
    a = Alarm.objects.get()
    Event.objects.filter(pk=a.event_id or 0).update(step="closed")
    page = client_for(world.users["street_command"]).get(f"/sensing/alarms/{a.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="event-closed"' in html and f"/governance/events/{a.event_id}/" in html


# --- staff -------------------------------------------------------------------------------------------


def test_acknowledge_and_clear_with_a_note_once(world: Any, s: Any) -> None:
    command = world.users["street_command"]
    svc.apply([tr(s.smoke_a, "raise", 0)])
    a = Alarm.objects.get()
    row, changed = svc.acknowledge(command, a, "  已派人  ")
    assert changed and row.acknowledged and row.acknowledged_by == command
    assert svc.acknowledge(command, a, "again")[1] is False  # a double submit
    with pytest.raises(LinliError) as exc:
        svc.clear(command, a, "  ")
    assert exc.value.problems[0].code == "note_required"
    with pytest.raises(LinliError):
        svc.clear(command, a, "x" * 2001)
    row, changed = svc.clear(command, a, "误报,已更换电池")
    assert changed and row.cleared and row.cleared_by == command and row.status == "cleared_ack"
    assert svc.clear(command, a, "again")[1] is False
    logs = list(AlarmLog.objects.filter(alarm=a).order_by("pk").values_list("kind", "user_id", "note"))
    assert logs == [("raised", None, ""), ("acked", command.pk, "已派人"), ("cleared", command.pk, "误报,已更换电池")]
    # the sensor's clear after a staff clear changes nothing
    assert svc.apply([tr(s.smoke_a, "clear", 60)]) == 0


def test_staff_actions_need_command_in_scope(world: Any, s: Any) -> None:
    svc.apply([tr(s.smoke_a, "raise", 0), tr(s.smoke_c, "raise", 0)])
    a = Alarm.objects.get(device=s.smoke_a)
    c = Alarm.objects.get(device=s.smoke_c)
    with pytest.raises(PermissionDenied):  # sees it (community A), may not handle it
        svc.acknowledge(world.users["community_worker"], a)
    with pytest.raises(PermissionDenied):
        svc.clear(world.users["grid_leader"], a, "note")
    with pytest.raises(Http404):  # community B's worker does not see community A's alarm
        svc.acknowledge(world.outsider, a)
    with pytest.raises(Http404):  # street 1's command centre does not see street 2's
        svc.clear(world.users["street_command"], c, "note")
    assert svc.acknowledge(world.users["district_admin"], c)[1] is True
    a.refresh_from_db()
    assert not a.acknowledged and not a.cleared
