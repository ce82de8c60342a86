"""Urgent cases (issue 12 §7): "someone is in danger now = yes" from any channel makes a case urgent —
shorter limits, top of every queue and list, a 紧急 badge, the command centre on duty told at once —
and staff mark or unmark it with a reason (a move in the history)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from linli.accounts.services import grant_role
from linli.core import clock
from linli.governance import loop, permissions
from linli.governance.loop import Step
from linli.governance.models import Event, EventLog, EventRequest
from linli.governance.queries import queues as q
from linli.governance.queries.events import allowed_moves
from linli.governance.services import events as svc
from linli.notify import services as notify_services
from tests import factories as f
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db

DANGER = {"danger_now": "yes", "cover": "missing"}
SAFE = {"danger_now": "no", "cover": "broken"}


@pytest.fixture
def alarms(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every ``notify.services.urgent_case`` call (what governance hands to the notifications)."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(notify_services, "urgent_case", lambda *args: calls.append(args))
    return calls


def manhole(world: Any, attrs: dict[str, str], *, user: Any = None, channel: str = "resident") -> Event:
    event, created = svc.report(
        user or world.users["resident"],
        svc.Report("C0101", *POS["a"], description="井盖", attributes=attrs),
        channel=channel,
    )
    assert created
    return event


def light(world: Any) -> Event:
    event, _ = svc.report(world.users["resident"], svc.Report("C0102", *POS["a"]), channel="resident")
    return event


# --- intake ----------------------------------------------------------------------------------------


def test_danger_now_yes_makes_the_case_urgent_with_the_short_limit(world: Any, gov: Any, alarms: list[Any]) -> None:
    now = clock.now()
    urgent = manhole(world, DANGER)
    calm = manhole(world, SAFE)
    assert urgent.urgent and not calm.urgent
    # C0101 keeps the default register limit (2 h): urgent, 15 minutes
    assert urgent.step_due_at is not None and calm.step_due_at is not None
    assert urgent.step_due_at - urgent.step_started_at == timedelta(minutes=15)
    assert calm.step_due_at - calm.step_started_at == timedelta(hours=2)
    assert urgent.created_at >= now
    # the command centre of the street is told, once, with the case's number and place
    assert len(alarms) == 1
    event_id, recipients, title_zh, title_en, url = alarms[0]
    assert event_id == urgent.pk and recipients == [world.users["street_command"].pk]
    assert f"#{urgent.pk}" in title_zh and "劳动三村小区 1栋" in title_zh
    assert f"#{urgent.pk}" in title_en
    assert url == reverse("governance:event_detail", args=[urgent.pk])


@pytest.mark.parametrize("channel", ["grid", "hotline", "open311", "resident"])
def test_every_channel_makes_it_urgent(world: Any, gov: Any, alarms: list[Any], channel: str) -> None:
    attrs = svc.Report("C0101", *POS["a"], attributes=dict(DANGER))
    if channel == "open311":
        event, _ = svc.report(None, attrs, channel="open311", source="k:1", actor_label="Open311: kiosk")
    else:
        user = {"grid": "grid_fulltime", "hotline": "street_command", "resident": "resident"}[channel]
        event, _ = svc.report(world.users[user], attrs, channel=channel)
    assert event.urgent and len(alarms) == 1
    event.refresh_from_db()
    assert event.urgent
    if channel == "hotline":  # registered at once: the dispatch limit is the urgent one (15 min)
        assert event.step == Step.REGISTERED
        assert event.step_due_at - event.step_started_at == timedelta(minutes=15)


def test_the_duty_centre_is_the_nearest_one_with_command(world: Any, gov: Any) -> None:
    event = manhole(world, SAFE)
    # the street's centre; not the district admin above it, nor grid workers, departments, outsiders
    assert permissions.command_centre_of(event) == [world.users["street_command"].pk]
    second = f.UserFactory(username="command2")
    grant_role(world.admin, second, "street_command", world.street1)
    assert permissions.command_centre_of(event) == sorted([world.users["street_command"].pk, second.pk])
    # a street without a centre of its own: the district's
    event_c, _ = svc.report(
        world.users["district_admin"], svc.Report("C0102", building=world.building_c.pk), channel="hotline"
    )
    assert permissions.command_centre_of(event_c) == [world.users["district_admin"].pk]


def test_urgent_cases_escalate_on_the_short_limit(world: Any, gov: Any, alarms: list[Any]) -> None:
    urgent, calm = manhole(world, DANGER), manhole(world, SAFE)
    assert svc.escalate_overdue(clock.now() + timedelta(minutes=20)) == 1
    urgent.refresh_from_db()
    calm.refresh_from_db()
    assert urgent.escalation == loop.STREET and calm.escalation == loop.NONE


# --- marking and unmarking ----------------------------------------------------------------------------


def test_staff_mark_and_unmark_with_a_reason(world: Any, gov: Any, alarms: list[Any]) -> None:
    command, grid = world.users["street_command"], world.users["grid_fulltime"]
    event = svc.act(command, light(world), "register")
    before = event.step_due_at
    with pytest.raises(Exception) as exc:
        svc.act(grid, event, "urgent")
    assert getattr(exc.value, "status", None) == 400  # a reason is required
    event = svc.act(grid, event, "urgent", note="电线垂到人行道上")
    assert event.urgent and event.step_due_at is not None and before is not None and event.step_due_at < before
    assert len(alarms) == 1 and alarms[0][0] == event.pk
    row = EventLog.objects.filter(event=event, move="urgent").get()
    assert row.note == "电线垂到人行道上" and row.actor == grid
    # twice is a 409, and a grid worker may not stand it down
    with pytest.raises(Exception) as exc:
        svc.act(grid, event, "urgent", note="again")
    assert getattr(exc.value, "status", None) == 409
    with pytest.raises(Exception) as exc:
        svc.act(grid, event, "not_urgent", note="不危险了")
    assert type(exc.value).__name__ == "PermissionDenied"
    event = svc.act(command, event, "not_urgent", note="已设置围挡")
    assert not event.urgent and len(alarms) == 1
    assert EventLog.objects.filter(event=event, move="not_urgent").get().note == "已设置围挡"


def test_the_resident_and_the_department_may_not_mark_urgent(world: Any, gov: Any, alarms: list[Any]) -> None:
    event = light(world)
    assert "urgent" not in allowed_moves(world.users["resident"], event)
    with pytest.raises(Exception):  # noqa: B017 (404 or 403, whichever the scope says)
        svc.act(world.users["resident"], event, "urgent", note="x")
    assert not Event.objects.get(pk=event.pk).urgent and alarms == []


def test_mark_and_unmark_on_the_case_page(world: Any, gov: Any, client_for: Any, alarms: list[Any]) -> None:
    command = world.users["street_command"]
    event = svc.act(command, light(world), "register")
    c = client_for(command)
    url = reverse("governance:event_detail", args=[event.pk])
    page = c.get(url).content.decode()
    assert 'data-testid="choose-urgent"' in page and 'data-testid="choose-not_urgent"' not in page
    r = c.post(
        reverse("governance:event_act", args=[event.pk]),
        {"move": "urgent", "note": "有人被困", "expected_step": event.step},
    )
    assert r.status_code == 302
    page = c.get(url).content.decode()
    assert 'data-testid="urgent"' in page and "紧急" in page
    assert 'data-testid="choose-not_urgent"' in page and 'data-testid="choose-urgent"' not in page


# --- top of every queue ----------------------------------------------------------------------------


def _order(html: bytes, section: str) -> list[int]:
    """Event numbers of one queue section, in page order."""
    text = html.decode()
    start = text.index(f'data-testid="section-{section}"')
    nxt = text.find('data-testid="section-', start + 10)
    body = text[start : nxt if nxt > 0 else len(text)]
    return [int(x) for x in re.findall(r'data-event="(\d+)"', body)]


def test_urgent_first_in_every_command_queue(world: Any, gov: Any, client_for: Any, alarms: list[Any]) -> None:
    command = world.users["street_command"]
    now = clock.now()
    # collected: an older calm case and a newer urgent one
    calm_c, urgent_c = manhole(world, SAFE), manhole(world, DANGER)
    # registered
    calm_r = svc.act(command, manhole(world, SAFE), "register")
    urgent_r = svc.act(command, manhole(world, DANGER), "register")
    # reported back (to verify)
    done = []
    for attrs in (SAFE, DANGER):
        ev = svc.act(command, svc.act(command, manhole(world, attrs), "register"), "dispatch")
        ev = svc.act(gov.cg_staff, ev, "accept")
        done.append(svc.act(gov.cg_staff, ev, "report", note="已处理"))
    sections = {s.key: [r.event.pk for r in s.rows] for s in q.command_sections(command, now)}
    assert sections["register"][:2] == [urgent_c.pk, calm_c.pk]
    assert sections["dispatch"][:2] == [urgent_r.pk, calm_r.pk]
    assert sections["verify"][:2] == [done[1].pk, done[0].pk]
    # late: everything is overdue a day later; the urgent ones come first
    later = q.command_sections(command, now + timedelta(days=5))
    late = [r.event for r in next(s for s in later if s.key == "late").rows]
    flags = [e.urgent for e in late]
    assert flags == sorted(flags, reverse=True) and flags[0]
    # the badge on the page
    html = client_for(command).get(reverse("governance:queue_command")).content.decode()
    assert html.count('data-testid="urgent"') >= 3


def test_urgent_first_in_the_department_queue_and_requests(world: Any, gov: Any, alarms: list[Any]) -> None:
    command, staff = world.users["street_command"], gov.cg_staff
    calm = svc.act(command, svc.act(command, manhole(world, SAFE), "register"), "dispatch")
    urgent = svc.act(command, svc.act(command, manhole(world, DANGER), "register"), "dispatch")
    now = clock.now()
    sections = {s.key: [r.event.pk for r in s.rows] for s in q.department_sections(staff, gov.cg, now)}
    assert sections["accept"] == [urgent.pk, calm.pk]
    calm, urgent = svc.act(staff, calm, "accept"), svc.act(staff, urgent, "accept")
    sections = {s.key: [r.event.pk for r in s.rows] for s in q.department_sections(staff, gov.cg, now)}
    assert sections["handling"] == [urgent.pk, calm.pk]
    svc.ask(staff, calm, "extend", "需要更多时间", hours=24)
    svc.ask(staff, urgent, "extend", "需要更多时间", hours=24)
    pending = next(s for s in q.command_sections(command, now) if s.key == "approve").rows
    assert [r.req.event_id for r in pending] == [urgent.pk, calm.pk]
    dept = next(s for s in q.department_sections(staff, gov.cg, now) if s.key == "requests").rows
    assert [r.req.event_id for r in dept] == [urgent.pk, calm.pk]
    assert EventRequest.objects.count() == 2


def test_urgent_open_cases_first_in_the_list(world: Any, gov: Any, client_for: Any, alarms: list[Any]) -> None:
    command = world.users["street_command"]
    urgent = manhole(world, DANGER)
    closed = svc.act(command, manhole(world, DANGER), "void", note="重复")
    calm = manhole(world, SAFE)
    html = client_for(command).get(reverse("governance:event_list")).content.decode()
    order = [int(x) for x in re.findall(r'<tr data-pk="(\d+)"', html)]
    # the open urgent case first; a closed urgent one falls back in date order
    assert order[0] == urgent.pk
    assert order.index(calm.pk) < order.index(closed.pk)
    assert 'class="badge urgent"' in html
