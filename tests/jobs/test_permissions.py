"""The jobs app's per-object predicates (``linli/jobs/permissions.py``): who serves a place and whom
to tell about it, who may be an officer, and the withdrawal of employment-target entries — one entry
(``may_withdraw``) and a page of them (``withdrawable``) by the same rule."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.jobs import permissions
from linli.jobs.models import Metric
from linli.jobs.services import targets as svc
from tests import factories as f

NEW = Metric.NEW_JOBS.value


@pytest.fixture
def district_officer(world: Any) -> Any:
    user = f.UserFactory(username="district_officer")
    grant_role(world.admin, user, Role.EMPLOYMENT_OFFICER.value, world.district)
    return user


def test_serving_staff_is_the_nearest_level_that_has_anyone(world: Any, jobs: Any, district_officer: Any) -> None:
    street1 = {jobs.officer.pk, world.users["street_command"].pk}
    district = {district_officer.pk, world.users["district_admin"].pk}
    grants = permissions.serving_grants(jobs.employer.path)
    assert {uid for uid, _role, _at in grants} == street1 | district  # not department staff, not below
    assert {at for _uid, _role, at in grants} == {world.street1.path, world.district.path}
    assert permissions.serving_staff(jobs.employer.path) == sorted(street1)
    assert permissions.serving_staff(world.street2.path) == sorted(district)  # nobody at street 2
    jobs.officer.is_active = False
    jobs.officer.save(update_fields=["is_active"])
    assert permissions.serving_staff(jobs.employer.path) == [world.users["street_command"].pk]


def test_who_may_be_an_officer(world: Any, jobs: Any, district_officer: Any) -> None:
    elsewhere = f.UserFactory(username="street2_officer")
    grant_role(world.admin, elsewhere, Role.EMPLOYMENT_OFFICER.value, world.street2)
    employer = jobs.employer
    assert permissions.serves(jobs.officer, employer) and permissions.serves(district_officer, employer)
    assert not permissions.serves(elsewhere, employer)
    assert not permissions.serves(world.users["department_staff"], employer)
    assert not permissions.serves(jobs.employer_user, employer)  # a member hires; it does not serve
    assert not permissions.serves(None, employer)
    jobs.officer.is_active = False
    assert not permissions.serves(jobs.officer, jobs.employer)


def test_a_page_of_entries_follows_the_one_entry_rule(world: Any, jobs: Any, district_officer: Any) -> None:
    colleague = f.UserFactory(username="colleague")
    grant_role(world.admin, colleague, Role.EMPLOYMENT_OFFICER.value, world.street1)
    with clock.frozen("2026-04-20T10:00:00+08:00"):
        last_month = svc.add_entry(jobs.officer, world.street1, NEW, 3, date(2026, 4, 20), "四月台账")
    with clock.frozen("2026-05-10T10:00:00+08:00"):
        today = clock.today()
        mine = svc.add_entry(jobs.officer, world.street1, NEW, 40, date(2026, 5, 9), "社区台账")
        theirs = svc.add_entry(colleague, world.street1, NEW, 7, date(2026, 5, 9), "社区台账 2")
        gone = svc.add_entry(jobs.officer, world.street1, NEW, 2, date(2026, 5, 9), "录错")
        svc.remove_entry(jobs.officer, gone, "录错了")
        gone.refresh_from_db()
    rows = [last_month, mine, theirs, gone]
    keepers = {
        world.street1: [jobs.officer, colleague, district_officer, world.users["street_command"], world.admin],
        world.district: [district_officer, world.users["district_admin"], world.admin],
    }
    expected = {
        jobs.officer.pk: {mine.pk},
        colleague.pk: {theirs.pk},
        world.users["street_command"].pk: set(),  # keeps the street, not the district, wrote neither
        district_officer.pk: {mine.pk, theirs.pk},
        world.users["district_admin"].pk: {mine.pk, theirs.pk},
        world.admin.pk: {mine.pk, theirs.pk},
    }
    for place, users in keepers.items():
        for user in users:
            page = permissions.withdrawable(user, place, rows, today)
            one_by_one = {e.pk for e in rows if permissions.may_withdraw(user, e, today)}
            assert page == one_by_one == expected[user.pk], (place, user)
