"""Grant rules for every role (issue 8): every granter role × every role × every place kind ×
granting to oneself or to another account, against an oracle written here in plain terms (not
from linli.accounts.roles), through ``services.grant_role`` (and the API for the reproduction).

The rules, in plain terms:

* nobody grants anything to themselves (a superuser neither);
* a role is held only where it makes sense (a grid role at a grid, a resident at a dwelling …);
* only the district administration, a street command centre and a community worker hand out roles,
  and only at places inside their own: the district everywhere; a street at and below the street
  (its departments too); a community worker in the community (compounds, buildings, grids,
  dwellings);
* the district hands out every role but its own; a street command centre and a community worker
  hand out the front-line roles (grid leader, full-time, part-time, instructor, volunteer), the
  resident role and the operator role — not a community worker (the street cannot edit the
  registry itself), not department staff (neither handles departments' events), never their own;
* a ``resident`` grant carries no power to vote: after any allowed grant, the grantee cannot vote
  online on a ballot whose roll holds that dwelling (only owner verification gives a vote).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from linli.accounts.models import Department, RoleGrant
from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.consult.models import Vote, VoteRecord
from linli.consult.services import ballots as consult_ballots
from linli.core.errors import LinliError
from tests import factories as f
from tests.consult.test_ballots_helpers import open_ballot, own_building

pytestmark = pytest.mark.django_db

KINDS = ["district", "street", "community", "compound", "building", "grid", "dwelling", "department"]
GRID_ROLES = {"grid_leader", "grid_fulltime", "grid_parttime", "grid_instructor", "grid_force"}
HELD_AT = {
    "district_admin": {"district"},
    "street_command": {"street"},
    "community_worker": {"community", "compound"},
    **{r: {"grid"} for r in GRID_ROLES},
    "department_staff": {"district", "street", "department"},
    "resident": {"dwelling"},
    "operator": {"district", "street", "community", "compound", "building"},
    "employment_officer": {"district", "street", "community"},
}
# Roles below the granter's rank whose actions the granter holds too (the employment officer's
# "view" and "jobs" are both held by the street command and community workers).
FRONT_LINE = GRID_ROLES | {"resident", "operator", "employment_officer"}
HANDS_OUT = {
    "district_admin": set(HELD_AT) - {"district_admin"},
    "street_command": FRONT_LINE,
    "community_worker": FRONT_LINE,
}
# The places each granter (held where the world puts it) may act at.
REACHES = {
    "district_admin": set(KINDS),
    "street_command": set(KINDS) - {"district"},
    "community_worker": {"community", "compound", "building", "grid", "dwelling"},
}


def oracle(granter: str, role: str, kind: str, to_self: bool) -> bool:
    if to_self:
        return False
    if kind not in HELD_AT[role]:
        return False
    if granter == "superuser":
        return True
    return role in HANDS_OUT.get(granter, set()) and kind in REACHES.get(granter, set())


def places(w: Any) -> dict[str, Any]:
    dept, _ = Department.objects.get_or_create(
        code="500107-001-SD",
        defaults={"name": "谢家湾街道属地", "kind": "locality", "district": w.district, "street": w.street1},
    )
    return {
        "district": w.district,
        "street": w.street1,
        "community": w.comm_a,
        "compound": w.compound_a,
        "building": w.building_a,
        "grid": w.grid_a,
        "dwelling": w.dwelling_a,
        "department": dept,
    }


def test_grant_matrix_every_granter_role_place_kind_and_self(world):
    own_building(world)
    ballot = open_ballot(world)
    at = places(world)
    granters = {**world.users, "superuser": world.admin}
    failures: list[str] = []
    n = 0
    for granter_name, granter in granters.items():
        for role in Role:
            for kind in KINDS:
                for to_self in (False, True):
                    n += 1
                    target = granter if to_self else f.UserFactory(username=f"t-{granter_name}-{role}-{kind}")
                    expected = oracle(granter_name, role.value, kind, to_self)
                    before = RoleGrant.objects.count()
                    outcome = "granted"
                    with transaction.atomic():
                        try:
                            grant_role(granter, target, role.value, at[kind])
                        except LinliError as exc:
                            outcome = exc.problems[0].code
                            assert 400 <= exc.status < 500
                        except (PermissionDenied, Http404) as exc:
                            outcome = type(exc).__name__
                        if (outcome == "granted") != expected:
                            failures.append(
                                f"{granter_name} → {role.value} at {kind} ({'self' if to_self else 'other'}): "
                                f"{outcome}, expected {'granted' if expected else 'refused'}"
                            )
                        if outcome != "granted" and RoleGrant.objects.count() != before:
                            failures.append(f"{granter_name} → {role.value} at {kind}: refused but written")
                        if to_self and outcome not in {"self_grant"}:
                            failures.append(f"{granter_name} → self {role.value} at {kind}: {outcome}, not self_grant")
                        if outcome == "granted" and role == Role.RESIDENT:
                            # the grant gives sight of the dwelling, never a vote
                            with pytest.raises(LinliError) as exc:
                                consult_ballots.cast_vote(target, ballot, choice="yes", channel="online")
                            if exc.value.problems[0].code != "not_owner" or exc.value.status != 403:
                                failures.append(f"{granter_name} → resident: {exc.value.problems[0].code}")
                        transaction.set_rollback(True)
    assert n == len(granters) * len(Role) * len(KINDS) * 2
    assert not Vote.objects.filter(ballot=ballot).exists() and not VoteRecord.objects.filter(ballot=ballot).exists()
    assert not failures, f"{len(failures)} disagreements:\n" + "\n".join(failures[:60])


def test_only_the_roles_held_at_the_place_count(world):
    """A street command centre of street 2 who is also a community worker of A cannot use the
    street's rank to make a community worker in A (its roles are not added together)."""
    u = f.UserFactory(username="two-hats")
    grant_role(world.admin, u, "street_command", world.street2)
    grant_role(world.admin, u, "community_worker", world.comm_a)
    target = f.UserFactory(username="someone")
    before = RoleGrant.objects.count()
    with pytest.raises(LinliError) as exc:
        grant_role(u, target, "community_worker", world.comm_a)
    assert exc.value.problems[0].code == "role_too_strong" and RoleGrant.objects.count() == before
    assert grant_role(u, target, "grid_leader", world.grid_a).role == "grid_leader"


def test_the_reproduction_of_issue_8_is_refused_through_the_api(world, client_for):
    """As a community worker: grant oneself ``resident`` at a dwelling → 403, nothing written."""
    worker = world.users["community_worker"]
    c = client_for(worker)
    before = RoleGrant.objects.count()
    r = c.post(
        "/api/v1/grants/",
        {"username": worker.username, "role": "resident", "place_kind": "dwelling", "place_id": world.dwelling_a.pk},
        content_type="application/json",
    )
    assert r.status_code == 403
    err = r.json()["errors"][0]
    assert err["code"] == "self_grant" and "yourself" in err["en"] and "自己" in err["zh"]
    assert RoleGrant.objects.count() == before
    # the street command centre neither
    street = client_for(world.users["street_command"])
    r = street.post(
        "/api/v1/grants/",
        {"username": "street_command", "role": "resident", "place_kind": "dwelling", "place_id": world.dwelling_a.pk},
        content_type="application/json",
    )
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "self_grant"
    assert RoleGrant.objects.count() == before
