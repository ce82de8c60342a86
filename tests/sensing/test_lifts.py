"""The lift page (issue 13 §5): maintenance due under TSG T5002 (every 15 days), recording a visit,
trapped incidents and their response times, the list of lifts with the overdue first."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from linli.core import clock
from linli.core.errors import LinliError
from linli.places import models as places_models
from linli.sensing.models import Alarm, Channel, Device, Lift, LiftMaintenance
from linli.sensing.queries import devices as q
from linli.sensing.services import devices as svc

UTC_NOON = "2026-06-20T04:00:00+00:00"  # noon in Chongqing


def _lift(device: Device, register_no: str, last: date | None, **kw: Any) -> Lift:
    return Lift.objects.create(
        device=device, register_no=register_no, maintenance_company="某电梯公司", last_maintained_on=last, **kw
    )


def _trapped(device: Device, started: datetime, **kw: Any) -> Alarm:
    return Alarm.objects.create(
        device=device,
        alarm_type="trapped",
        severity="critical",
        priority=0,
        started_at=started,
        last_at=started,
        community_id=device.community_id,
        grid_id=device.grid_id,
        path=device.path,
        **kw,
    )


# --- maintenance due (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "today", "next_due", "overdue_days", "left"),
    [
        (date(2026, 6, 1), date(2026, 6, 10), date(2026, 6, 16), 0, 6),
        (date(2026, 6, 1), date(2026, 6, 16), date(2026, 6, 16), 0, 0),  # due today: not yet overdue
        (date(2026, 6, 1), date(2026, 6, 17), date(2026, 6, 16), 1, -1),
        (date(2026, 5, 1), date(2026, 6, 20), date(2026, 5, 16), 35, -35),
        (date(2026, 2, 20), date(2026, 3, 7), date(2026, 3, 7), 0, 0),  # across the end of February
    ],
)
def test_maintenance_due_every_15_days(last, today, next_due, overdue_days, left):
    due = q.maintenance_due(last, 15, None, today)
    assert (due.next_due, due.overdue_days, due.days_left, due.overdue) == (
        next_due,
        overdue_days,
        left,
        overdue_days > 0,
    )


def test_never_maintained_counts_from_service_start_or_is_overdue():
    assert q.maintenance_due(None, 15, date(2026, 6, 1), date(2026, 6, 10)).overdue is False
    assert q.maintenance_due(None, 15, date(2026, 6, 1), date(2026, 6, 20)).overdue_days == 4
    unknown = q.maintenance_due(None, 15, None, date(2026, 6, 20))
    assert unknown.overdue and unknown.never and unknown.next_due is None
    assert q.maintenance_due(date(2026, 6, 1), 0, None, date(2026, 6, 10)).next_due == date(2026, 6, 16)  # 0 → 15


# --- the lift page and its list -----------------------------------------------------------------


@pytest.mark.dates
def test_lift_page_flags_overdue_in_text_and_the_list_puts_it_first(world, sensors, client_for):
    with clock.frozen(UTC_NOON):
        on_time = _lift(sensors.lift, "梯11渝BA0001", date(2026, 6, 15))
        unit2, _ = places_models.Unit.objects.get_or_create(building=world.building_a, number="2")
        late_dev = svc.create_device(None, code="LIFT-A2", profile="lift", unit=unit2)
        late = _lift(late_dev, "梯11渝BA0002", date(2026, 5, 20))
        c = client_for(world.users["community_worker"])
        html = c.get(reverse("sensing:lift_detail", args=[late.pk])).content.decode()
        assert "is-overdue" in html and "逾期 16 天" in html  # text, not colour only
        html = c.get(reverse("sensing:lift_detail", args=[on_time.pk])).content.decode()
        assert "is-overdue" not in html and "2026-06-30" in html
        rows = q.lifts(world.users["community_worker"])
        assert [r["lift"].pk for r in rows] == [late.pk, on_time.pk]
        page = c.get(reverse("sensing:lift_list")).content.decode()
        assert page.index("梯11渝BA0002") < page.index("梯11渝BA0001")
        assert 'data-testid="overdue-count">1<' in page


@pytest.mark.dates
def test_record_maintenance_moves_the_due_date_only_forward(world, sensors):
    worker = world.users["community_worker"]
    with clock.frozen(UTC_NOON):
        lift = _lift(sensors.lift, "梯11渝BA0001", date(2026, 6, 1))
        svc.record_maintenance(worker, lift, date(2026, 6, 16), "某电梯公司", "半月维保")
        lift.refresh_from_db()
        assert lift.last_maintained_on == date(2026, 6, 16)
        assert q.due_of(lift).next_due == date(2026, 7, 1)
        svc.record_maintenance(worker, lift, date(2026, 6, 10), "", "补录")  # older: appended, due unchanged
        lift.refresh_from_db()
        assert lift.last_maintained_on == date(2026, 6, 16)
        assert LiftMaintenance.objects.filter(lift=lift).count() == 2
        assert LiftMaintenance.objects.get(note="补录").company == "某电梯公司"  # the lift's company by default
        # the same visit twice (a double submit) is recorded once
        first = svc.record_maintenance(worker, lift, date(2026, 6, 18), "某电梯公司", "x")
        again = svc.record_maintenance(worker, lift, date(2026, 6, 18), "某电梯公司", "x")
        assert first.pk == again.pk and LiftMaintenance.objects.filter(lift=lift).count() == 3


@pytest.mark.dates
@pytest.mark.parametrize(
    ("done_on", "company", "note", "code"),
    [
        (None, "x", "", "bad_date"),
        (date(2026, 6, 21), "x", "", "future_date"),
        (date(1999, 12, 31), "x", "", "old_date"),
        (date(2026, 6, 1), "x" * 121, "", "bad_company"),
        (date(2026, 6, 1), "x", "n" * 2001, "long_note"),
    ],
)
def test_record_maintenance_refuses_bad_input(world, sensors, done_on, company, note, code):
    with clock.frozen(UTC_NOON):
        lift = _lift(sensors.lift, "梯11渝BA0001", date(2026, 6, 1))
        with pytest.raises(LinliError) as e:
            svc.record_maintenance(world.users["community_worker"], lift, done_on, company, note)
        assert e.value.problems[0].code == code
    assert not LiftMaintenance.objects.exists()
    assert Lift.objects.get(pk=lift.pk).last_maintained_on == date(2026, 6, 1)


def test_record_maintenance_needs_edit(world, sensors):
    lift = _lift(sensors.lift, "梯11渝BA0001", None)
    with pytest.raises(PermissionDenied):
        svc.record_maintenance(world.users["street_command"], lift, clock.today(), "x")
    assert not LiftMaintenance.objects.exists()


@pytest.mark.dates
def test_maintenance_form_on_the_page(world, sensors, client_for):
    with clock.frozen(UTC_NOON):
        lift = _lift(sensors.lift, "梯11渝BA0001", date(2026, 5, 1))
        c = client_for(world.users["community_worker"])
        url = reverse("sensing:lift_maintenance", args=[lift.pk])
        bad = c.post(url, {"done_on": "2026-13-01", "company": "某电梯公司"})
        assert bad.status_code == 400 and "请填写维保日期" in bad.content.decode()
        future = c.post(url, {"done_on": "2026-07-01", "company": "某电梯公司"})
        assert future.status_code == 400 and "不能晚于今天" in future.content.decode()
        ok = c.post(url, {"done_on": "2026-06-19", "company": "某电梯公司", "note": "半月维保"})
        assert ok.status_code == 303
        c.post(url, {"done_on": "2026-06-19", "company": "某电梯公司", "note": "半月维保"})  # double submit
        assert LiftMaintenance.objects.filter(lift=lift).count() == 1
        html = c.get(reverse("sensing:lift_detail", args=[lift.pk])).content.decode()
        assert "2026-07-04" in html and "is-overdue" not in html and "半月维保" in html


# --- trapped incidents and response times --------------------------------------------------------


def test_response_times_and_medians(world, sensors):
    from linli.governance.models import Event

    now = clock.now()
    a1 = _trapped(
        sensors.lift,
        now - timedelta(days=10),
        acknowledged=True,
        acknowledged_at=now - timedelta(days=10) + timedelta(seconds=60),
        cleared=True,
        cleared_at=now - timedelta(days=10) + timedelta(minutes=20),
    )
    a2 = _trapped(
        sensors.lift,
        now - timedelta(days=5),
        acknowledged=True,
        acknowledged_at=now - timedelta(days=5) + timedelta(seconds=180),
        cleared=True,
        cleared_at=now - timedelta(days=5) + timedelta(minutes=40),
    )
    a3 = _trapped(sensors.lift, now - timedelta(hours=1))  # still open, not acknowledged
    old = _trapped(  # more than 12 months ago: listed, not in the medians
        sensors.lift,
        now - timedelta(days=400),
        acknowledged=True,
        acknowledged_at=now - timedelta(days=400) + timedelta(hours=5),
        cleared=True,
        cleared_at=now - timedelta(days=400) + timedelta(hours=6),
    )
    alarms = list(Alarm.objects.filter(alarm_type="trapped").select_related("event").order_by("-started_at"))
    r = q.response_times(alarms, now - timedelta(days=365))
    assert r.count_12m == 3 and len(r.incidents) == 4
    assert r.median_ack_s == 120.0  # median of 60 s and 180 s; the open one has none yet
    assert r.median_clear_s == 1800.0  # 20 and 40 min
    assert r.median_dispatch_s is None and r.median_closed_s is None
    by_pk = {i.alarm.pk: i for i in r.incidents}
    assert (by_pk[a1.pk].ack_s, by_pk[a1.pk].clear_s) == (60, 1200)
    assert by_pk[a3.pk].ack_s is None and by_pk[a3.pk].clear_s is None
    assert by_pk[old.pk].ack_s == 5 * 3600
    # with a grid event: dispatched and closed times count from the raise
    a2.event = Event(dispatched_at=a2.started_at + timedelta(minutes=2), closed_at=a2.started_at + timedelta(hours=2))
    r = q.response_times([a2], now - timedelta(days=365))
    assert (r.incidents[0].dispatch_s, r.incidents[0].closed_s) == (120, 7200)
    assert r.median_dispatch_s == 120.0 and r.median_closed_s == 7200.0
    assert q.duration_text(125) in {"2 分 5 秒", "2 min 5 s"} and q.duration_text(None) == "—"


def test_lift_page_shows_papers_status_incidents(world, sensors, client_for):
    lift = _lift(
        sensors.lift,
        "梯11渝BA0001",
        clock.today(),
        maintenance_phone="023-68001234",
        insurer="某保险",
        policy_no="PL-9",
        operator="某运营",
        contract_no="HT-7",
    )
    now = clock.now()
    Channel.objects.filter(device=sensors.lift, key="floor").update(last_value=5, last_at=now)
    Channel.objects.filter(device=sensors.lift, key="fault").update(last_value=3, last_at=now)
    a = _trapped(
        sensors.lift, now - timedelta(minutes=30), acknowledged=True, acknowledged_at=now - timedelta(minutes=29)
    )
    html = client_for(world.users["grid_leader"]).get(reverse("sensing:lift_detail", args=[lift.pk])).content.decode()
    for text in (
        "梯11渝BA0001",
        "023-68001234",
        "某保险",
        "PL-9",
        "某运营",
        "HT-7",
        f"/sensing/alarms/{a.pk}/",
        "1 分 0 秒",
    ):
        assert text in html, text
    assert 'data-testid="maintenance-form"' not in html  # a grid leader only looks
    status = q.lift_status(sensors.lift)
    assert status["floor"] == 5 and status["fault"] == 3
