"""Urgent cases in the pure loop (loop.py, rules.md §4 "Urgent cases"): the shorter limits, a case
opened urgent, marking and unmarking, and what ``danger_now`` counts as."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.governance import loop
from linli.governance.loop import Move, Step

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_urgent_limits_of_the_defaults_written_out() -> None:
    # defaults 2 / 1 / 2 / 72 / 24 / 72 h → register and dispatch 15 min, accept 30 min, handle 12 h
    assert loop.limits_for({}, True) == {
        "register": 0.25,
        "dispatch": 0.25,
        "accept": 0.5,
        "handle": 12,
        "verify": 24,
        "evaluate": 72,
    }
    assert loop.limits_for({}, False) == loop.DEFAULT_LIMITS


def test_a_short_category_is_quartered_below_the_caps() -> None:
    # the gas hazard category: 0.5 / 0.5 / 0.5 / 12 h
    gas = {"register": 0.5, "dispatch": 0.5, "accept": 0.5, "handle": 12}
    got = loop.limits_for(gas, True)
    assert got["register"] == 0.125 and got["dispatch"] == 0.125 and got["accept"] == 0.125
    assert got["handle"] == 3


limits_st = st.dictionaries(
    st.sampled_from(sorted(loop.DEFAULT_LIMITS)), st.floats(min_value=0.01, max_value=8760), max_size=6
)


@given(limits_st)
def test_urgent_is_never_longer_and_shortens_every_step_to_the_report(limits: dict[str, float]) -> None:
    normal, urgent = loop.limits_for(limits, False), loop.limits_for(limits, True)
    for key, hours in normal.items():
        assert 0 < urgent[key] <= hours
        if key in loop.URGENT_SHORTENED:
            assert urgent[key] <= hours * loop.URGENT_FACTOR
            assert urgent[key] <= loop.URGENT_CAPS[key]
        else:
            assert urgent[key] == hours


def test_a_case_opened_urgent_has_the_short_deadline() -> None:
    case = loop.opened(Step.COLLECTED, T0, {}, urgent=True)
    assert case.urgent
    assert case.step_due_at == T0 + timedelta(minutes=15)
    assert loop.opened(Step.COLLECTED, T0, {}).step_due_at == T0 + 2 * H


def test_an_urgent_case_runs_on_the_short_limits_through_the_loop() -> None:
    case = loop.opened(Step.COLLECTED, T0, {}, urgent=True)
    case, _ = loop.take(case, Move.REGISTER, T0 + 0.1 * H, {})
    assert case.step_due_at == T0 + 0.1 * H + 0.25 * H
    case, _ = loop.take(case, Move.DISPATCH, T0 + 0.2 * H, {}, department=7)
    assert case.step_due_at == T0 + 0.2 * H + 0.5 * H
    # the case deadline: accept + handle + verify of the urgent limits
    assert case.due_at == T0 + 0.2 * H + (0.5 + 12 + 24) * H
    case, _ = loop.take(case, Move.ACCEPT, T0 + 0.3 * H, {}, actor=1)
    assert case.step_due_at == T0 + 0.3 * H + 12 * H
    assert case.urgent


def test_marking_urgent_brings_the_running_deadlines_forward() -> None:
    case = loop.opened(Step.REGISTERED, T0, {})
    case, _ = loop.take(case, Move.DISPATCH, T0, {}, department=3)
    case, _ = loop.take(case, Move.ACCEPT, T0 + H, {}, actor=1)
    assert case.step_due_at == T0 + H + 72 * H
    marked, data = loop.take(case, Move.URGENT, T0 + 2 * H, {})
    assert marked.urgent and marked.step == Step.HANDLING
    assert marked.step_due_at == T0 + H + 12 * H  # from the step's start, with the urgent limit
    assert marked.due_at == T0 + (0.5 + 12 + 24) * H
    assert data == {}


def test_marking_urgent_never_puts_a_deadline_back() -> None:
    # a 2 h handling limit is already shorter than the urgent cap of 12 h: a quarter of it applies
    case = loop.opened(Step.REGISTERED, T0, {"handle": 2})
    case, _ = loop.take(case, Move.DISPATCH, T0, {"handle": 2}, department=3)
    case, _ = loop.take(case, Move.ACCEPT, T0, {"handle": 2}, actor=1)
    marked, _ = loop.take(case, Move.URGENT, T0 + 0.1 * H, {"handle": 2})
    assert marked.step_due_at is not None and case.step_due_at is not None
    assert marked.step_due_at <= case.step_due_at
    assert marked.step_due_at == T0 + 0.5 * H


def test_unmarking_keeps_the_running_deadline_and_the_next_step_is_normal() -> None:
    case = loop.opened(Step.COLLECTED, T0, {}, urgent=True)
    running = case.step_due_at
    case, _ = loop.take(case, Move.NOT_URGENT, T0 + 0.1 * H, {})
    assert not case.urgent and case.step_due_at == running
    case, _ = loop.take(case, Move.REGISTER, T0 + 0.2 * H, {})
    assert case.step_due_at == T0 + 0.2 * H + 1 * H  # the normal dispatch limit


def test_urgent_moves_only_on_open_cases() -> None:
    closed = loop.Case(step=Step.CLOSED, step_started_at=T0, step_due_at=None, updated_at=T0)
    with pytest.raises(loop.StepError):
        loop.take(closed, Move.URGENT, T0, {})
    assert loop.RULES[Move.URGENT].who == loop.Who.FIELD
    assert loop.RULES[Move.NOT_URGENT].who == loop.Who.COMMAND


@pytest.mark.parametrize(
    ("attributes", "danger"),
    [
        ({"danger_now": "yes"}, True),
        ({"danger_now": "YES "}, True),
        ({"danger_now": ["yes"]}, True),
        ({"danger_now": "no"}, False),
        ({"cover": "yes"}, False),
        ({}, False),
        (None, False),
    ],
)
def test_what_counts_as_danger(attributes: dict[str, object] | None, danger: bool) -> None:
    assert loop.is_danger(attributes) is danger
