from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from linli.accounts.permissions import authorize, can, scoped, scoped_any
from linli.accounts.roles import ROLES, Action, Role, allows, grantable_by, may_be_held_at
from linli.places import models as m

pytestmark = pytest.mark.django_db


def test_every_role_can_view_its_own_place(world):
    for role, user in world.users.items():
        place = {
            "district_admin": world.district,
            "street_command": world.street1,
            "community_worker": world.comm_a,
            "department_staff": world.street1,
            "resident": world.dwelling_a,
            "operator": world.compound_a,
        }.get(role, world.grid_a)
        assert can(user, Action.VIEW, place), role


def test_community_worker_sees_only_own_community(world):
    cw = world.users["community_worker"]
    assert can(cw, Action.VIEW, world.building_a)
    assert not can(cw, Action.VIEW, world.building_b)
    assert set(scoped(cw, Action.VIEW, m.Community.objects.all())) == {world.comm_a}
    with pytest.raises(Http404):
        authorize(cw, Action.VIEW, world.comm_b)
    with pytest.raises(Http404):
        authorize(world.outsider, Action.VIEW_PEOPLE, world.owner_a)


def test_grid_worker_scope_is_the_grid_buildings(world):
    gw = world.users["grid_fulltime"]
    assert can(gw, Action.VIEW, world.building_a)
    assert can(gw, Action.VIEW_PEOPLE, world.owner_a)
    assert not can(gw, Action.VIEW, world.comm_a), "the community as a whole is above the grid"
    assert not can(gw, Action.VIEW, world.building_b)
    assert scoped(gw, Action.VIEW, m.Dwelling.objects.all()).count() == world.building_a.dwellings.count()


def test_n_force_sees_the_grid_but_not_people(world):
    force = world.users["grid_force"]
    assert can(force, Action.VIEW, world.grid_a)
    with pytest.raises(PermissionDenied):
        authorize(force, Action.VIEW_PEOPLE, world.owner_a)


def test_resident_sees_own_dwelling_only(world):
    resident = world.users["resident"]
    assert can(resident, Action.VIEW, world.dwelling_a)
    assert scoped(resident, Action.VIEW, m.Dwelling.objects.all()).count() == 1
    assert not can(resident, Action.VIEW, world.building_a)
    assert list(scoped(resident, Action.VIEW_PEOPLE, m.Person.objects.all())) == [world.owner_a]


def test_street_role_covers_both_communities_of_its_street_only(world):
    sc = world.users["street_command"]
    assert can(sc, Action.VIEW, world.comm_a) and can(sc, Action.VIEW, world.comm_b)
    assert not can(sc, Action.VIEW, world.comm_c)


def test_anonymous_and_revoked_see_nothing(world, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    from linli.accounts.models import RoleGrant
    from linli.accounts.permissions import forget_grants

    assert not can(AnonymousUser(), Action.VIEW, world.district)
    cw = world.users["community_worker"]
    RoleGrant.objects.filter(user=cw).update(revoked_at="2026-01-01T00:00:00Z")
    forget_grants(cw)
    assert not can(cw, Action.VIEW, world.comm_a)


def test_role_table_is_consistent():
    for role, spec in ROLES.items():
        assert Action.VIEW in spec.actions, f"{role} must at least view its place"
        assert spec.at, role
    assert allows("district_admin", "reveal")
    assert not allows("grid_force", "view_people")
    assert not allows("no_such_role", "view")
    assert may_be_held_at("grid_leader", "grid") and not may_be_held_at("grid_leader", "street")
    assert Role.DISTRICT_ADMIN not in grantable_by({"community_worker"})
    assert Role.GRID_LEADER in grantable_by({"community_worker"})
    assert grantable_by({"grid_leader"}) == set()


def test_scoped_any_is_the_union_of_each_actions_scope(world, django_user_model):
    """Rows a user may take any of several actions on: exactly the union of ``scoped`` per action."""
    dwellings = m.Dwelling.objects.all()
    pairs = ((Action.VISIT, Action.VOTE), (Action.VISIT, Action.VIEW_PEOPLE), (Action.VIEW, Action.EDIT))
    for user in world.users.values():
        for actions in pairs:
            union = set().union(*(set(scoped(user, a, dwellings).values_list("pk", flat=True)) for a in actions))
            assert set(scoped_any(user, actions, dwellings).values_list("pk", flat=True)) == union
    nobody = django_user_model.objects.create(username="nobody-anywhere")
    assert not scoped_any(nobody, (Action.VISIT, Action.VOTE), dwellings).exists()
    root = django_user_model.objects.create(username="root-all", is_superuser=True)
    assert scoped_any(root, (Action.VISIT,), dwellings).count() == dwellings.count()
