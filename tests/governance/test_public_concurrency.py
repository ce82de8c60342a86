""" "Me too" and follow under real concurrency, on PostgreSQL: the same person's double click sent twice
at once (and ten times at once) leaves one row, and nobody gets an error; ten neighbours at once are
ten rows. Threads with their own connections; run with
``DATABASE_URL=postgres://… pytest tests/governance/test_public_concurrency.py``."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from linli.governance.models import Follow, Support
from linli.governance.services import events as svc
from linli.governance.services import public
from tests import factories as f
from tests.governance.conftest import POS
from tests.governance.test_events_concurrency import run_at_once

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (unique rows under real concurrency); set DATABASE_URL=postgres://…",
    ),
    pytest.mark.django_db(transaction=True),
]


def person(username: str | None = None) -> Any:
    """A signed-in person with no role anywhere (a resident of somewhere else, say)."""
    return f.UserFactory(username=username) if username else f.UserFactory()


def test_a_double_click_at_once_is_one_me_too(world: Any, gov: Any) -> None:
    event, _ = svc.report(world.users["resident"], svc.Report("C0102", *POS["a"]), channel="resident")
    for n in (2, 10):
        neighbour = person()
        results, errors = run_at_once([lambda u=neighbour: public.support(u, event)] * n)
        assert not errors, errors
        assert sorted(results) == [False] * (n - 1) + [True]  # one added it, the others found it there
        assert Support.objects.filter(event=event, user=neighbour).count() == 1
        assert Follow.objects.filter(event=event, user=neighbour).count() == 1
    followers = [person() for _ in range(10)]
    results, errors = run_at_once([lambda u=u: public.follow(u, event) for u in followers])
    assert not errors and results == [True] * 10
    assert Follow.objects.filter(event=event).count() == 12


def test_many_neighbours_at_once_are_all_counted(world: Any, gov: Any) -> None:
    event, _ = svc.report(world.users["resident"], svc.Report("C0102", *POS["a"]), channel="resident")
    people = [person() for _ in range(10)]
    results, errors = run_at_once([lambda u=u: public.support(u, event) for u in people])
    assert not errors and results == [True] * 10
    assert Support.objects.filter(event=event).count() == 10
