"""``places.services.write_grids``: the grids of a published division (governance's division calls it;
grids and the buildings' grid are places' rows): created, updated, moved to, removed or kept, all or
nothing, and only by someone who may edit the community."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.core.errors import LinliError
from linli.places import models as m
from linli.places import services as svc
from tests import factories as f

pytestmark = pytest.mark.django_db


def _plans(world: Any, *seqs: int) -> list[svc.GridPlan]:
    """The community's buildings dealt round-robin into grids numbered ``seqs``."""
    ids = list(m.Building.objects.filter(community=world.comm_a).order_by("pk").values_list("pk", flat=True))
    street = world.comm_a.street
    return [
        svc.GridPlan(
            seq=seq,
            code=f"{street.district.code}{street.code}{world.comm_a.code}{seq:03d}",
            name=f"{world.comm_a.name}第{seq}网格",
            boundary=None,
            buildings=tuple(ids[k :: len(seqs)]),
        )
        for k, seq in enumerate(seqs)
    ]


def _more_buildings(world: Any) -> None:
    for code in ("07", "08", "09"):
        f.BuildingFactory(compound=world.compound_a, code=code, name=f"{int(code)}栋")


def test_writes_the_grids_and_moves_every_building(world: Any) -> None:
    _more_buildings(world)
    worker = world.users["community_worker"]
    old_seq = world.grid_a.seq
    plans = _plans(world, old_seq, old_seq + 1)
    written = svc.write_grids(worker, world.comm_a, plans)
    assert (written.created, written.updated, written.deleted, written.kept) == (1, 1, 0, [])
    grids = {g.seq: g for g in m.Grid.objects.filter(community=world.comm_a)}
    assert set(grids) == {old_seq, old_seq + 1} and grids[old_seq].pk == world.grid_a.pk
    for plan in plans:
        grid = grids[plan.seq]
        assert (grid.code, grid.name, grid.published) == (plan.code, plan.name, True)
        assert set(m.Building.objects.filter(grid=grid).values_list("pk", flat=True)) == set(plan.buildings)


def test_a_grid_no_plan_names_is_removed_or_kept_unpublished(world: Any) -> None:
    _more_buildings(world)
    worker = world.users["community_worker"]
    spare = m.Grid.objects.create(community=world.comm_a, seq=50, code="500107001001050", name="空网格")
    # grid_a has role holders (the world's grid roles): kept, unpublished; the spare one goes
    written = svc.write_grids(worker, world.comm_a, _plans(world, 60))
    assert (written.created, written.updated, written.deleted) == (1, 0, 1)
    assert written.kept == [world.grid_a.name]
    world.grid_a.refresh_from_db()
    assert not world.grid_a.published and not m.Grid.objects.filter(pk=spare.pk).exists()


def test_refusals_write_nothing(world: Any) -> None:
    _more_buildings(world)
    worker = world.users["community_worker"]
    grids_of = dict(m.Building.objects.values_list("pk", "grid_id"))
    # a code of another community's grid: 409
    taken = m.Grid.objects.exclude(community=world.comm_a).first() or m.Grid.objects.create(
        community=world.comm_b, seq=1, code="500107001002001", name="B1"
    )
    before = list(m.Grid.objects.order_by("pk").values_list("pk", "code", "published"))
    plans = _plans(world, 70, 71)
    clash = [plans[0], svc.GridPlan(71, taken.code, "x", None, plans[1].buildings)]
    with pytest.raises(LinliError) as exc:
        svc.write_grids(worker, world.comm_a, clash)
    assert (exc.value.status, exc.value.problems[0].code) == (409, "code_clash")
    # a building left out (the roster changed meanwhile): 409
    with pytest.raises(LinliError) as exc:
        svc.write_grids(worker, world.comm_a, plans[:1])
    assert (exc.value.status, exc.value.problems[0].code) == (409, "roster_changed")
    assert list(m.Grid.objects.order_by("pk").values_list("pk", "code", "published")) == before
    assert dict(m.Building.objects.values_list("pk", "grid_id")) == grids_of


def test_only_who_may_edit_the_community(world: Any) -> None:
    plans = _plans(world, 80)
    with pytest.raises(Http404):
        svc.write_grids(world.outsider, world.comm_a, plans)
    looker = next(
        u for u in world.users.values() if can(u, Action.VIEW, world.comm_a) and not can(u, Action.EDIT, world.comm_a)
    )
    with pytest.raises(PermissionDenied):
        svc.write_grids(looker, world.comm_a, plans)
    assert not m.Grid.objects.filter(seq=80).exists()
