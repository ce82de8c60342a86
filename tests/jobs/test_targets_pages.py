"""The employment targets pages × every kind of account (issue 14 §7): staff with ``jobs`` at a
district or street see and change their places' figures; another street's (or the district's)
figures are a 404; accounts that keep no district's or street's figures get a 403; visitors sign in."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.jobs.models import Metric
from linli.jobs.services import targets as svc
from tests import exports as bg
from tests import factories as f

NEW = Metric.NEW_JOBS.value


def accounts(world: Any, jobs: Any) -> dict[str, Any]:
    district_officer = f.UserFactory(username="district_officer")
    grant_role(world.admin, district_officer, Role.EMPLOYMENT_OFFICER.value, world.district)
    street2_officer = f.UserFactory(username="street2_officer")
    grant_role(world.admin, street2_officer, Role.EMPLOYMENT_OFFICER.value, world.street2)
    return {
        "anonymous": None,
        "seeker": jobs.seeker_user,
        "employer member": jobs.employer_user,
        "outsider (community B worker)": world.outsider,
        "community worker": world.users["community_worker"],
        "department staff (sees street 1)": world.users["department_staff"],
        "grid leader": world.users["grid_leader"],
        "officer (street 1)": jobs.officer,
        "street command (street 1)": world.users["street_command"],
        "officer (street 2)": street2_officer,
        "district officer": district_officer,
        "district admin": world.users["district_admin"],
        "superuser": world.admin,
    }


# where each account keeps the figures: "street1", "street2", "district" (all)
KEEPS = {
    "officer (street 1)": {"street1"},
    "street command (street 1)": {"street1"},
    "officer (street 2)": {"street2"},
    "district officer": {"street1", "street2", "district"},
    "district admin": {"street1", "street2", "district"},
    "superuser": {"street1", "street2", "district"},
}
# who may withdraw the street 1 officer's entry (the author, the district's staff)
WITHDRAWS = {"officer (street 1)", "district officer", "district admin", "superuser"}


def test_targets_pages_matrix(world: Any, jobs: Any) -> None:
    places = {"street1": world.street1, "street2": world.street2, "district": world.district}
    keys = {name: f"{p.kind}-{p.pk}" for name, p in places.items()}
    today = clock.today().isoformat()
    failures: list[str] = []

    def check(who: str, what: str, got: int, want: int) -> None:
        if got != want:
            failures.append(f"{who}: {what} → {got}, expected {want}")

    for who, user in accounts(world, jobs).items():
        c = Client()
        if user is not None:
            c.force_login(user)
        keeps = KEEPS.get(who, set())
        none = 302 if user is None else 403  # a visitor signs in; an account keeping nothing: 403
        check(who, "page", c.get(reverse("jobs:targets")).status_code, 200 if keeps else none)
        # entries to withdraw: one by the street 1 officer, one by the superuser in street 2
        mine = svc.add_entry(jobs.officer, world.street1, NEW, 1, clock.today(), f"台账 {who}")
        theirs = svc.add_entry(world.admin, world.street2, NEW, 1, clock.today(), f"台账 {who}")
        for name, key in keys.items():
            want = (200 if name in keeps else 404) if keeps else none
            check(who, f"page {name}", c.get(reverse("jobs:targets"), {"place": key}).status_code, want)
            check(who, f"export page {name}", c.get(reverse("jobs:targets_export"), {"place": key}).status_code, want)
            want = (303 if name in keeps else 404) if keeps else none
            r = c.post(
                reverse("jobs:targets_set"), {"place": key, "year": clock.today().year, "metric": NEW, "target": 10}
            )
            check(who, f"set {name}", r.status_code, want)
            data = {"place": key, "metric": NEW, "count": 2, "on": today, "source": f"月报 {who}"}
            check(who, f"entry {name}", c.post(reverse("jobs:targets_entry_add"), data).status_code, want)
            if user is not None:
                r = bg.start(c, reverse("jobs:targets_export") + f"?place={key}")
                check(who, f"export {name}", r.status_code, want)
        want_mine = (303 if who in WITHDRAWS else 403 if "street1" in keeps else 404) if keeps else none
        r = c.post(reverse("jobs:targets_entry_withdraw", args=[mine.pk]), {"reason": "录错"})
        check(who, "withdraw street 1's entry", r.status_code, want_mine)
        want_theirs = (303 if keeps & {"district"} else 403 if "street2" in keeps else 404) if keeps else none
        r = c.post(reverse("jobs:targets_entry_withdraw", args=[theirs.pk]), {"reason": "录错"})
        check(who, "withdraw street 2's entry", r.status_code, want_theirs)
        check(
            who,
            "withdraw a missing entry",
            c.post(reverse("jobs:targets_entry_withdraw", args=[10**9]), {"reason": "x"}).status_code,
            404 if keeps else none,
        )
        check(who, "GET on a form", c.get(reverse("jobs:targets_set")).status_code, 405 if user is not None else 302)
    assert not failures, "\n".join(failures)
