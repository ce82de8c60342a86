"""The permission matrix of ballot pages and API routes: every role, inside and outside its
scope, against an oracle written here in plain terms (not from linli.accounts.permissions):

* a ballot is seen by staff whose place holds its building (district, street, community; a grid
  whose buildings hold dwellings on its roll; an operator of the compound), and by a resident
  whose own dwelling is on its roll; a draft only by those who run ballots there;
* who voted how, the export, paper/proxy entry, open and close: community staff who run ballots
  (district administrator, street command centre, community worker) of that place;
* an online vote: the owner on the roll, through their verified voting account (here the resident
  of dwelling_a, verified as 张三's); anyone else who sees the ballot is refused (403), anyone who
  does not see it gets 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from linli.consult.models import Ballot
from linli.consult.services import ballots as svc
from tests import exports as bg
from tests import factories as f
from tests.consult.test_ballots_helpers import make_ballot, open_ballot, own_building

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _resident_is_verified_owner(world):
    """The resident of dwelling_a is the verified voting account of its owner 张三 (issue 8: a
    resident grant alone gives no vote; tests/consult/test_ballots_owner.py covers that)."""
    f.owner_account(world.users["resident"], world.owner_a, by=world.users["community_worker"])


RUNS_BALLOTS = {"district_admin", "street_command", "community_worker", "outsider"}


def sees(role: str, where: str, draft: bool = False) -> bool:
    """``where`` is "a" (building A, community A, street 1, grid A) or "b" (community B, street 1,
    grid B; the resident's dwelling is not on its roll)."""
    if draft and role not in RUNS_BALLOTS:
        return False
    return {
        "district_admin": True,
        "street_command": True,
        "department_staff": True,
        "community_worker": where == "a",
        "outsider": where == "b",
        "grid_leader": where == "a",
        "grid_fulltime": where == "a",
        "grid_parttime": where == "a",
        "grid_instructor": where == "a",
        "grid_force": where == "a",
        "resident": where == "a" and not draft,
        "operator": where == "a",
    }[role]


def runs(role: str, where: str) -> bool:
    return role in RUNS_BALLOTS and sees(role, where)


@pytest.fixture
def ballots(world) -> dict[str, Ballot]:
    own_building(world)
    own_building(world, world.building_b)
    a = open_ballot(world, title="A 楼外墙")
    b = make_ballot(world, title="B 楼外墙", scope_id=world.building_b.pk, user=world.outsider)
    b = svc.open_ballot(world.outsider, b)
    draft = make_ballot(world, title="A 草稿")
    return {"a": a, "b": b, "draft_a": draft}


def everyone(world) -> dict[str, Any]:
    return {**world.users, "outsider": world.outsider}


def expect(ok: bool, seen: bool) -> int:
    return 200 if ok else 403 if seen else 404


def test_ballot_page_matrix(world, ballots, client_for):
    failures = []
    for role, user in everyone(world).items():
        c = client_for(user)
        for name, ballot in ballots.items():
            where = name[-1]
            draft = name.startswith("draft")
            seen = sees(role, where, draft)
            r = c.get(reverse("consult:ballot_detail", args=[ballot.pk]))
            if r.status_code != (200 if seen else 404):
                failures.append(f"{role} detail {name} → {r.status_code}")
                continue
            shows_roll = r.status_code == 200 and b'data-testid="roll"' in r.content
            if shows_roll != (runs(role, where) and not draft):
                failures.append(f"{role} detail {name}: roll {'shown' if shows_roll else 'hidden'}")
            r = c.get(reverse("consult:ballot_export", args=[ballot.pk]))  # the button
            if r.status_code != expect(runs(role, where), seen):
                failures.append(f"{role} export {name} → {r.status_code}")
            r = bg.start(c, reverse("consult:ballot_export", args=[ballot.pk]))  # started: 303 to the run
            if r.status_code != {200: 303}.get(want := expect(runs(role, where), seen), want):
                failures.append(f"{role} export started {name} → {r.status_code}")
            for action in ("ballot_enter", "ballot_lift"):
                if runs(role, where):
                    continue  # writes by staff are exercised in test_ballots_pages.py
                r = c.post(reverse(f"consult:{action}", args=[ballot.pk]), {"choice": "yes"})
                if r.status_code != (403 if seen else 404):
                    failures.append(f"{role} {action} {name} → {r.status_code}")
            for action in ("ballot_open", "ballot_close", "ballot_withdraw"):
                if runs(role, where):
                    continue
                r = c.post(reverse(f"consult:{action}", args=[ballot.pk]))
                if r.status_code != (403 if seen else 404):
                    failures.append(f"{role} {action} {name} → {r.status_code}")
            if role != "resident" and not draft:
                r = c.post(reverse("consult:ballot_vote", args=[ballot.pk]), {"choice": "yes"})
                if r.status_code != (403 if seen else 404):
                    failures.append(f"{role} vote {name} → {r.status_code}")
        for comp, where in ((world.compound_a, "a"), (world.compound_b, "b"), (world.compound_c, "c")):
            in_place = (where != "c" and role != "resident" and sees(role, where)) or role == "district_admin"
            in_place = in_place or (role in {"street_command", "department_staff"} and where != "c")
            if role.startswith("grid_"):
                in_place = False  # a grid is a set of buildings: it does not hold the compound
            r = c.get(reverse("consult:ballot_list", args=[comp.pk]))
            if r.status_code != (200 if in_place else 404):
                failures.append(f"{role} list {where} → {r.status_code}")
            r = c.get(reverse("consult:ballot_new", args=[comp.pk]))
            if r.status_code != expect(in_place and role in RUNS_BALLOTS, in_place):
                failures.append(f"{role} new {where} → {r.status_code}")
        if c.get(reverse("consult:ballot_mine")).status_code != 200:
            failures.append(f"{role} mine")
    assert not failures, "\n".join(failures)


def test_resident_votes_online_on_own_ballot_only(world, ballots, client_for):
    c = client_for(world.users["resident"])
    r = c.post(reverse("consult:ballot_vote", args=[ballots["a"].pk]), {"choice": "yes"})
    assert r.status_code == 302
    assert c.post(reverse("consult:ballot_vote", args=[ballots["b"].pk]), {"choice": "yes"}).status_code == 404


def test_ballot_api_matrix(world, ballots, client_for):
    failures = []
    for role, user in everyone(world).items():
        c = client_for(user)
        listed = {row["id"] for row in c.get("/api/v1/ballots/?limit=500").json()["results"]}
        for name, ballot in ballots.items():
            where, draft = name[-1], name.startswith("draft")
            seen = sees(role, where, draft)
            if (ballot.pk in listed) != seen:
                failures.append(f"{role} list {name}: {'shown' if ballot.pk in listed else 'hidden'}")
            r = c.get(f"/api/v1/ballots/{ballot.pk}/")
            if r.status_code != (200 if seen else 404):
                failures.append(f"{role} GET {name} → {r.status_code}")
            r = c.get(f"/api/v1/ballots/{ballot.pk}/votes/")
            if r.status_code != expect(runs(role, where), seen):
                failures.append(f"{role} votes {name} → {r.status_code}")
            r = bg.start(c, f"/api/v1/ballots/{ballot.pk}/export/")  # a background run: 202 Accepted
            if r.status_code != {200: 202}.get(want := expect(runs(role, where), seen), want):
                failures.append(f"{role} export {name} → {r.status_code}")
            if not runs(role, where):
                for sub in ("open", "close", "withdraw"):
                    r = c.post(f"/api/v1/ballots/{ballot.pk}/{sub}/")
                    if r.status_code != (403 if seen else 404):
                        failures.append(f"{role} {sub} {name} → {r.status_code}")
                r = c.post(
                    f"/api/v1/ballots/{ballot.pk}/vote/",
                    {"choice": "no", "channel": "paper", "owner_key": "p:1"},
                    content_type="application/json",
                )
                if r.status_code != (403 if seen else 404):
                    failures.append(f"{role} paper vote {name} → {r.status_code}")
    assert not failures, "\n".join(failures)
