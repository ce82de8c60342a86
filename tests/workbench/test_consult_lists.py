"""The workbench's lists of consultation work: a community worker's (ballots with turnout, visits
due, notices with objections), a resident's (ballots waiting for my vote, my reports, notices for my
building) and the district's portfolio."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.consult.services import ballots as consult_ballots
from linli.consult.services import notices as consult_notices
from linli.consult.services import visits as consult_visits
from linli.core import clock
from linli.places import models as m
from linli.renewal.models import Phase, Project
from linli.workbench.lists import Figure
from linli.workbench.queries import community, district, grid, resident
from tests import factories as f
from tests.consult.test_ballots_helpers import open_ballot, own_building

pytestmark = pytest.mark.django_db


def verified_resident(world: Any) -> Any:
    user = world.users["resident"]
    f.owner_account(user, world.owner_a, by=world.users["community_worker"])
    return user


def test_open_ballots_with_turnout(world: Any) -> None:
    own_building(world)
    ballot = open_ballot(world)
    cw = world.users["community_worker"]
    now = clock.now()
    wl = community.open_ballots(cw, now)
    owners = wl.items[0].figure.total
    assert wl.count == 1 and owners > 2 and wl.items[0].figure == Figure(0, owners, "owners")
    consult_ballots.cast_vote(verified_resident(world), ballot, choice="yes", channel="online")
    wl = community.open_ballots(cw, now)
    assert wl.items[0].figure == Figure(1, owners, "owners") and wl.figure is None  # one ballot: no sum
    assert wl.all_url == reverse("consult:ballot_list", args=[world.compound_a.pk])
    # community B's worker runs none of A's ballots; a grid worker does not run ballots
    assert community.open_ballots(world.outsider, now).count == 0
    assert community.open_ballots(world.users["grid_fulltime"], now).count == 0
    # a second ballot: each its own turnout, and the turnout over both
    open_ballot(world, title="加装电梯")
    wl = community.open_ballots(cw, now)
    assert wl.count == 2 and wl.figure == Figure(1, 2 * owners, "owners")
    assert sorted(i.figure.done for i in wl.items) == [0, 1]
    # the district's portfolio sees the same turnout
    assert district.turnout(world.users["district_admin"], now).figure == Figure(1, 2 * owners, "owners")


def test_ballots_waiting_for_my_vote(world: Any) -> None:
    own_building(world)
    ballot = open_ballot(world)
    user = world.users["resident"]
    now = clock.now()
    # a resident grant alone: the ballot waits, but for verification first
    wl = resident.ballots_to_vote(user, now)
    assert wl.count == 1 and wl.items[0].state == "verify"
    verified_resident(world)
    user = type(user).objects.get(pk=user.pk)  # grants are cached per user object
    wl = resident.ballots_to_vote(user, now)
    assert wl.count == 1 and wl.items[0].state == "vote"
    assert wl.items[0].url == reverse("consult:ballot_detail", args=[ballot.pk])
    consult_ballots.cast_vote(user, ballot, choice="yes", channel="online")
    assert resident.ballots_to_vote(user, now).count == 0
    # someone with no dwelling there has nothing to vote on
    assert resident.ballots_to_vote(world.users["grid_fulltime"], now).count == 0


def test_visits_due_and_households_not_visited(world: Any, project: Project) -> None:
    cw, worker = world.users["community_worker"], world.users["grid_fulltime"]
    now = clock.now()
    today = timezone.localdate(now)
    dwellings = list(m.Dwelling.objects.filter(building=world.building_a).order_by("pk"))
    first = consult_visits.log_visit(
        cw, project, dwellings[0], attitude="undecided", next_visit_on=today + timedelta(days=30)
    )
    consult_visits.log_visit(cw, project, dwellings[1], attitude="undecided", next_visit_on=today + timedelta(days=40))
    third = consult_visits.log_visit(
        cw, project, dwellings[2], attitude="oppose", next_visit_on=today + timedelta(days=31)
    )
    assert community.visits_due(cw, now).count == 0
    # a month on: two visits are due, the one of yesterday first (and late)
    later = now + timedelta(days=31)
    clock.travel(later)
    due = community.visits_due(cw, later)
    assert due.count == 2
    assert [i.url.split("dwelling=")[1] for i in due.items] == [str(first.dwelling_id), str(third.dwelling_id)]
    assert due.items[0].late and not due.items[1].late
    assert community.visits_due(world.outsider, later).count == 0  # community B
    # households of grid A not visited for 14 days: every one of building A
    stale = grid.not_visited(worker, later)
    assert stale.count == len(dwellings) and stale.count_unit == "households"
    assert stale.items[0].figure == Figure(len(dwellings), len(dwellings), "households")
    assert stale.items[0].url.startswith(reverse("consult:visit_building", args=[project.pk, world.building_a.pk]))
    # a new visit settles the due one and is a recent visit
    consult_visits.log_visit(worker, project, dwellings[0], attitude="support")
    assert community.visits_due(cw, later).count == 1
    assert grid.not_visited(worker, later).count == len(dwellings) - 1
    assert grid.not_visited(world.users["grid_force"], later).count == 0  # volunteers do not visit
    # a project in works is not being visited any more
    Project.objects.filter(pk=project.pk).update(phase=Phase.WORKS)
    assert grid.not_visited(worker, later).count == 0
    assert community.visits_due(cw, later).count == 0


def test_notices_with_objections_and_for_my_building(world: Any, project: Project) -> None:
    cw = world.users["community_worker"]
    now = clock.now()
    notice = consult_notices.publish_notice(cw, project, kind="plan", title="外墙改造方案公示", body="方案")
    wl = resident.notices_for_me(world.users["resident"], now)
    assert wl.count == 1 and wl.items[0].title == "外墙改造方案公示" and wl.items[0].when is not None
    assert resident.notices_for_me(world.users["grid_fulltime"], now).count == 0  # no home there
    assert community.notices_with_objections(cw, now).count == 0
    consult_notices.raise_objection(
        notice, consult_notices.ObjectionInput(name="王五", contact="13800000001", text="不同意")
    )
    consult_notices.raise_objection(
        notice, consult_notices.ObjectionInput(name="赵六", contact="13800000002", text="再议")
    )
    wl = community.notices_with_objections(cw, now)
    assert wl.count == 1 and wl.items[0].amount == 2
    assert community.notices_with_objections(world.outsider, now).count == 0
    # after its period the notice is no longer "for my building"
    later = now + timedelta(days=notice.days + 1)
    assert resident.notices_for_me(world.users["resident"], later).count == 0


def test_district_portfolio(world: Any, project: Project) -> None:
    admin = world.users["district_admin"]
    Project.objects.create(compound=world.compound_c, name="西郊小区加装电梯", phase=Phase.WORKS, created_by=admin)
    now = clock.now()
    wl = district.projects_by_phase(admin, now)
    assert wl.count == 2 and [i.amount for i in wl.items] == [1, 1]  # survey, works
    # the street of community B sees only its own street's project
    assert district.projects_by_phase(world.users["street_command"], now).count == 1
    cases = district.open_cases(admin, now)
    assert cases.count == 0 and [i.amount for i in cases.items] == [0, 0]
