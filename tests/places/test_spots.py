"""``places.queries.spots``: snapping from the buildings held in memory gives what the database
gives, sees every change at once, and steps aside inside a transaction."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection, transaction

from linli.core import generations
from linli.core.errors import LinliError
from linli.governance.services import events
from linli.places import models as m
from linli.places.queries import spots
from linli.places.services import write_grids
from tests import factories as f
from tests.places.test_services_grids import _plans


@pytest.fixture(autouse=True)
def _as_in_production(monkeypatch: Any) -> None:
    """The index is used where the generations are shared (Redis in production); the tests' local
    memory cache is one process, as good as shared here."""
    monkeypatch.setattr(spots, "shared", lambda: True)


def _snap(lat: float, lon: float, within: str = "") -> int | None:
    try:
        return events.locate_spot(lat, lon, within=within).building_id
    except LinliError as exc:
        assert exc.problems[0].code == "outside_jurisdiction"
        return None


def _by_database(lat: float, lon: float, within: str = "") -> int | None:
    with transaction.atomic():  # inside a transaction the index steps aside
        assert spots.index() is None
        return _snap(lat, lon, within)


@pytest.mark.django_db(transaction=True)
def test_the_index_answers_as_the_database_does(settings: Any) -> None:
    rng = random.Random(7)
    settings.LINLI_EVENT_SNAP_METRES = 120
    one, two = f.CompoundFactory(), f.CompoundFactory()
    for n in range(80):
        f.BuildingFactory(
            compound=rng.choice([one, two]),
            code=f"{n + 1:02d}",
            lat=29.5 + rng.uniform(-0.004, 0.004),
            lon=106.5 + rng.uniform(-0.004, 0.004),
        )
    f.BuildingFactory(compound=one, code="99", lat=None, lon=None)  # no position: never snapped to
    grid = spots.index()
    assert grid is not None and len(grid) == 80
    for _ in range(150):
        la, lo = 29.5 + rng.uniform(-0.006, 0.006), 106.5 + rng.uniform(-0.006, 0.006)
        within = rng.choice(["", one.community.path, one.path, two.path])
        assert _snap(la, lo, within) == _by_database(la, lo, within), (la, lo, within)


@pytest.mark.django_db(transaction=True)
def test_a_change_is_seen_at_once() -> None:
    b = f.BuildingFactory(lat=29.5, lon=106.5)
    assert _snap(29.5, 106.5) == b.pk
    nearer = f.BuildingFactory(compound=b.compound, lat=29.5001, lon=106.5001)
    assert _snap(29.5001, 106.5001) == nearer.pk  # a new building
    nearer.lat = 29.6
    nearer.save()
    assert _snap(29.5001, 106.5001) == b.pk  # moved away
    b.delete()
    assert _snap(29.5, 106.5) is None  # gone
    nearer.compound.community.name = "新名字"
    nearer.compound.community.save()
    assert events.locate_spot(29.6, 106.5001).label.startswith("新名字")  # the community's name


@pytest.mark.django_db(transaction=True)
def test_edits_outside_the_app_show_within_the_maximum_age(monkeypatch: Any) -> None:
    b = f.BuildingFactory(lat=29.5, lon=106.5)
    assert _snap(29.5, 106.5) == b.pk
    with connection.cursor() as cur:  # SQL by hand: no signal, no bump
        cur.execute("UPDATE places_building SET lat = 29.7 WHERE id = %s", [b.pk])
    assert _snap(29.5, 106.5) == b.pk  # still held …
    monkeypatch.setattr(spots, "MAX_AGE_SECONDS", 0.0)
    assert _snap(29.5, 106.5) is None  # … until the index is old enough


def test_bulk_writes_bump_the_generation(world: Any) -> None:
    """The grid assignment writes the buildings in bulk (no signals): it bumps itself."""
    before = generations.token(spots.GENERATION)
    f.BuildingFactory(compound=world.compound_a, code="07")
    after_save = generations.token(spots.GENERATION)
    assert after_save != before
    write_grids(world.users["community_worker"], world.comm_a, _plans(world, world.grid_a.seq, world.grid_a.seq + 1))
    assert generations.token(spots.GENERATION) != after_save
    assert m.Building.objects.filter(grid__isnull=True, community=world.comm_a).count() == 0


def test_held_tokens_answer_within_the_request() -> None:
    with generations.held("a-gen", spots.GENERATION) as got:
        assert generations.token(spots.GENERATION) == got[1]
        with generations.held("b-gen") as inner:
            assert generations.token("b-gen") == inner[0] and generations.token("a-gen") == got[0]
        generations.bump(spots.GENERATION)
        assert generations.token(spots.GENERATION) == got[1]  # what this request read at its start
    assert generations.token(spots.GENERATION) != got[1]


@pytest.mark.django_db(transaction=True)
def test_without_a_shared_cache_the_database_answers(monkeypatch: Any) -> None:
    """The embedded default: a bump in the task worker (a roster import) would not reach the web
    process's memory, so snapping asks the database."""
    monkeypatch.undo()
    assert not spots.shared() and spots.index() is None
    b = f.BuildingFactory(lat=29.5, lon=106.5)
    assert _snap(29.5, 106.5) == b.pk
