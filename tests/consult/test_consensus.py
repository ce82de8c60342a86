"""The pure consensus of home visits (linli/consult/consensus.py): the one walk over visits in
time order, the figures of a set of dwellings and a building's floor stacks — no database."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from linli.consult import consensus
from linli.consult.models import Attitude


def test_walk_is_pure_and_fills_days_without_visits():
    d0 = dt.date(2024, 1, 1)
    events = [(d0, 1, "oppose"), (d0 + dt.timedelta(days=3), 1, "support")]
    current, series = consensus.walk(events, 4, until=d0 + dt.timedelta(days=4))
    assert current == {1: "support"}
    assert [float(p.support_pct) for p in series] == [0, 0, 0, 25, 25]
    assert consensus.walk([], 4) == ({}, [])


def test_walk_counts_each_dwellings_latest_attitude_only():
    d0 = dt.date(2024, 3, 1)
    events = [(d0, 1, "oppose"), (d0, 2, "undecided"), (d0, 1, "support"), (d0 + dt.timedelta(days=1), 2, "support")]
    current, series = consensus.walk(events, 2)
    assert current == {1: "support", 2: "support"}
    first, last = series
    assert (first.support, first.undecided, first.oppose, first.visited) == (1, 1, 0, 2)
    assert (last.support, last.support_pct) == (2, Decimal("100.0"))


def test_the_attitudes_are_the_models():
    """The pure module names the attitudes itself (no Django): they must be the model's values."""
    assert {consensus.SUPPORT, consensus.UNDECIDED, consensus.OPPOSE} == set(Attitude.values)
    assert consensus.NOT_VISITED not in Attitude.values


def test_pct_rounds_half_up_and_survives_no_whole():
    assert consensus.pct(1, 3) == Decimal("33.3")
    assert consensus.pct(1, 8) == Decimal("12.5")
    assert consensus.pct(5, 0) == Decimal("0.0")


def test_consensus_figures_and_blocking():
    c = consensus.of_counts(4, Counter({"support": 2, "oppose": 1}), visits=5)
    assert (c.visited, c.not_visited, c.support_pct, c.support_pct_visited) == (3, 1, Decimal("50.0"), Decimal("66.7"))
    assert c.blocked and not c.unanimous
    assert consensus.of_counts(2, Counter({"support": 2}), visits=2).unanimous


def test_stack_orders_units_naturally_and_floors_top_down():
    states = [
        consensus.DwellingState(1, 10, "10", "101", 1),
        consensus.DwellingState(2, 2, "2", "101", 1),
        consensus.DwellingState(3, 2, "2", "201", 2),
    ]
    units = consensus.stack(states)
    assert [u["number"] for u in units] == ["2", "10"]
    assert [f["floor"] for f in units[0]["floors"]] == [2, 1]
