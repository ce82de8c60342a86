"""The workbench's lists of grid cases: a grid worker's, the command centre's, a department's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from linli.core import clock
from linli.governance.models import Event
from linli.governance.services import events as svc
from linli.workbench.queries import command, department, grid
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db


def report(user: Any, pos: str = "a", category: str = "C0102", channel: str = "grid", **attrs: Any) -> Event:
    lat, lon = POS[pos]
    event, created = svc.report(
        user, svc.Report(category, lat, lon, description="问题", attributes=attrs), channel=channel
    )
    assert created
    return event


def reported_back(world: Any, gov: Any, pos: str = "a") -> Event:
    """A case of building ``pos`` handled by 城管 and reported back: it waits for verification."""
    cmd = world.users["street_command"]
    event = svc.act(cmd, report(world.users["resident"], pos, channel="resident"), "register")
    event = svc.act(cmd, event, "dispatch", department=gov.cg)
    event = svc.act(gov.cg_staff, event, "accept")
    return svc.act(gov.cg_staff, event, "report", note="修好了")


def pks(wl: Any) -> list[int]:
    return [int(i.url.rstrip("/").split("/")[-1]) for i in wl.items]


# --- grid worker -------------------------------------------------------------------------------------


def test_grid_cases_to_verify_are_his_grid_only(world: Any, gov: Any) -> None:
    worker = world.users["grid_fulltime"]  # grid A
    mine = reported_back(world, gov, "a")
    reported_back(world, gov, "b")  # grid B: not his
    wl = grid.to_verify(worker, clock.now())
    assert wl.count == 1 and pks(wl) == [mine.pk]
    assert wl.all_url == reverse("governance:event_list") + "?step=reported"
    # once verified it no longer waits
    svc.act(worker, mine, "verify_pass")
    assert grid.to_verify(worker, clock.now()).count == 0
    # another grid's worker (the volunteer of grid A reports but does not verify) sees none
    assert grid.to_verify(world.users["grid_force"], clock.now()).count == 0


def test_grid_returned_and_open_reports(world: Any, gov: Any) -> None:
    worker = world.users["grid_fulltime"]
    kept = report(worker)
    voided = report(worker)
    svc.act(world.users["street_command"], voided, "void", note="重复上报")
    other = report(world.users["grid_leader"])  # someone else's report in his grid
    now = clock.now()
    back = grid.returned(worker, now)
    assert back.count == 1 and pks(back) == [voided.pk]
    opened = grid.my_open_reports(worker, now)
    assert opened.count == 1 and pks(opened) == [kept.pk] and other.pk not in pks(opened)
    assert opened.all_url == reverse("governance:event_list") + "?mine=1"
    # a month later the voided report is no longer news
    assert grid.returned(worker, now + timedelta(days=grid.RETURNED_DAYS + 1)).count == 0


# --- command centre ----------------------------------------------------------------------------------


def test_command_lists_follow_the_loop(world: Any, gov: Any) -> None:
    cmd = world.users["street_command"]
    now = clock.now()
    collected = report(world.users["resident"], "a", channel="resident")
    report(world.users["resident"], "c", channel="resident")  # street 2: not this centre's
    assert pks(command.to_register(cmd, now)) == [collected.pk]
    registered = svc.act(cmd, collected, "register")
    assert command.to_register(cmd, now).count == 0
    assert pks(command.to_dispatch(cmd, now)) == [registered.pk]
    dispatched = svc.act(cmd, registered, "dispatch", department=gov.cg)
    assert command.to_dispatch(cmd, now).count == 0
    svc.ask(gov.cg_staff, dispatched, "extend", "需要更多时间", hours=24)
    approve = command.to_approve(cmd, now)
    assert approve.count == 1 and pks(approve) == [dispatched.pk]
    assert approve.all_url == reverse("governance:queue_command") + "#q-approve"
    # nothing is late now; two days later the acceptance deadline has passed
    assert command.late(cmd, now).count == 0
    later = now + timedelta(days=2)
    late = command.late(cmd, later)
    assert late.count == 1 and late.items[0].late
    # the district sees the centre's lists of every street
    assert command.to_register(world.users["district_admin"], now).count == 1  # elsewhere, street 2


def test_command_urgent_first(world: Any, gov: Any) -> None:
    cmd = world.users["street_command"]
    plain = report(world.users["resident"], "a", channel="resident")
    danger = report(world.users["resident"], "a", channel="resident")
    Event.objects.filter(pk=danger.pk).update(urgent=True)  # how a case becomes urgent is governance's
    now = clock.now()
    reg = command.to_register(cmd, now)
    assert pks(reg) == [danger.pk, plain.pk] and reg.items[0].urgent and not reg.items[1].urgent
    urgent = command.urgent(cmd, now)
    assert urgent.count == 1 and pks(urgent) == [danger.pk]
    assert command.urgent(world.users["grid_fulltime"], now).count == 0  # no COMMAND: nothing


# --- department ----------------------------------------------------------------------------------------


def test_department_lists(world: Any, gov: Any) -> None:
    cmd, staff = world.users["street_command"], gov.cg_staff
    assert [d.pk for d in department.departments(staff)] == [gov.cg.pk]
    first = svc.act(
        cmd,
        svc.act(cmd, report(world.users["resident"], channel="resident"), "register"),
        "dispatch",
        department=gov.cg,
    )
    second = svc.act(
        cmd,
        svc.act(cmd, report(world.users["resident"], channel="resident"), "register"),
        "dispatch",
        department=gov.cg,
    )
    svc.act(
        cmd,
        svc.act(cmd, report(world.users["resident"], channel="resident"), "register"),
        "dispatch",
        department=gov.gs,
    )
    now = clock.now()
    accept = department.to_accept(staff, gov.cg, now)
    assert accept.count == 2 and set(pks(accept)) == {first.pk, second.pk} and accept.group == gov.cg.name
    queue = reverse("governance:queue_department_for", args=[gov.cg.pk])
    assert accept.all_url == queue + "#q-accept" and accept.group_url == queue
    svc.act(staff, first, "accept")
    assert department.to_accept(staff, gov.cg, now).count == 1
    assert pks(department.to_handle(staff, gov.cg, now)) == [first.pk]
    # the acceptance limit of the second is hours away: due soon now, overdue two days later
    assert second.pk in pks(department.due_soon(staff, gov.cg, now))
    later = now + timedelta(days=2)
    assert second.pk in pks(department.late(staff, gov.cg, later))
    assert second.pk not in pks(department.due_soon(staff, gov.cg, later))
    # another department's staff see none of 城管's
    assert department.to_accept(gov.gs_staff, gov.cg, now).count == 0
