"""The pure alert rules (linli/sensing/rules.py): worked examples of every sentence of the contract,
then properties against a naive implementation that replays the whole accepted history."""

from __future__ import annotations

import copy
import itertools
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.sensing import rules
from linli.sensing.rules import offline, rate, rule_from_dict, rule_to_dict, run, threshold, tick

NAN = float("nan")
INF = float("inf")


def feed(rule: rules.Rule, *batches: Sequence[Any]) -> list[list[rules.Change]]:
    """Each batch in its own call, the state going through JSON in between."""
    state = None
    out = []
    for batch in batches:
        state, changes = run(rule, state, batch)
        state = json.loads(json.dumps(state))
        out.append(changes)
    return out


# --- threshold -------------------------------------------------------------------------------------


def test_for_s_zero_raises_at_the_first_reading_past_the_limit() -> None:
    _, changes = run(threshold(above=10), None, [(1, 5), (2, 10), (3, 10.5), (4, 12)])
    assert changes == [(3, "raise")]  # 10 is not past 10: "past" is value > above


def test_for_s_counts_from_the_first_reading_of_the_run_across_calls() -> None:
    rule = threshold(above=10, for_s=30)
    assert feed(rule, [(0, 11), (10, 12)], [(29, 13)], [(30, 11)], [(31, 20)]) == [[], [], [(30, "raise")], []]


def test_a_reading_back_inside_ends_the_run() -> None:
    rule = threshold(above=10, for_s=30)
    _, changes = run(rule, None, [(0, 11), (10, 9), (20, 11), (45, 11), (49, 12), (50, 12)])
    assert changes == [(50, "raise")]  # the run restarted at 20


def test_a_run_shorter_than_for_s_raises_nothing() -> None:
    _, changes = run(threshold(above=10, for_s=60), None, [(t, 11) for t in range(0, 60, 5)])
    assert changes == []


def test_clears_at_the_limit_itself_by_default() -> None:
    _, changes = run(threshold(above=10), None, [(0, 11), (1, 10.5), (2, 10)])
    assert changes == [(0, "raise"), (2, "clear")]


def test_hysteresis_clears_only_at_or_below_clear_at() -> None:
    rule = threshold(above=10, clear_at=8)
    _, changes = run(rule, None, [(0, 11), (1, 9), (2, 10), (3, 12), (4, 8.0), (5, 9), (6, 11)])
    assert changes == [(0, "raise"), (4, "clear"), (6, "raise")]


def test_after_a_clear_a_new_run_starts_at_the_next_past_reading() -> None:
    rule = threshold(above=10, for_s=10, clear_at=5)
    readings = [(0, 11), (10, 11), (11, 4), (12, 11), (21, 11), (22, 11)]
    assert run(rule, None, readings)[1] == [(10, "raise"), (11, "clear"), (22, "raise")]


def test_below_mirrors_above() -> None:
    rule = threshold(below=20, clear_at=30)
    _, changes = run(rule, None, [(0, 20), (1, 19.9), (2, 25), (3, 29.99), (4, 30), (5, 10)])
    assert changes == [(1, "raise"), (4, "clear"), (5, "raise")]
    assert run(threshold(below=20), None, [(0, 19), (1, 20)])[1] == [(0, "raise"), (1, "clear")]


def test_a_band_is_past_on_either_side_and_clears_inside() -> None:
    rule = threshold(above=10, below=0)
    readings = [(0, 5), (1, 11), (2, 12), (3, -1), (4, 5), (5, -1), (6, 0), (7, 10)]
    assert run(rule, None, readings)[1] == [(1, "raise"), (4, "clear"), (5, "raise"), (6, "clear")]
    # one run across both sides
    assert run(threshold(above=10, below=0, for_s=5), None, [(0, 11), (3, -1), (5, -2)])[1] == [(5, "raise")]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"above": 1, "below": 0, "clear_at": 0.5},
        {"above": 0, "below": 1},
        {"above": 10, "clear_at": 11},
        {"below": 10, "clear_at": 9},
        {"above": 1, "for_s": -1},
        {"above": NAN},
        {"above": INF},
        {"above": "1"},
        {"above": True},
        {"above": 1, "for_s": None},
    ],
)
def test_a_threshold_that_makes_no_sense_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        threshold(**kwargs)


# --- rate ------------------------------------------------------------------------------------------


def test_rate_raises_when_the_change_per_second_exceeds_and_clears_at_the_first_pair_that_does_not() -> None:
    _, changes = run(rate(2), None, [(0, 0), (1, 1), (2, 4), (3, 7), (4, 5), (6, 8)])
    assert changes == [(2, "raise"), (4, "clear")]  # 3/s, 3/s, then 2/s (not more than 2), 1.5/s


def test_rate_is_per_second_and_in_both_directions() -> None:
    assert run(rate(1), None, [(0, 10), (10, 0)])[1] == []  # -1/s is not more than 1
    assert run(rate(1), None, [(0, 10), (4, 0)])[1] == [(4, "raise")]


def test_rate_pairs_across_calls_and_the_first_reading_makes_no_pair() -> None:
    assert feed(rate(0.5), [(0, 100)], [(1, 101)], [(2, 101)]) == [[], [(1, "raise")], [(2, "clear")]]


def test_rate_skips_ignored_readings_when_pairing() -> None:
    _, changes = run(rate(1), None, [(0, 0), (1, NAN), (1, None), (10, 5)])
    assert changes == []  # the pair is (0, 0)-(10, 5): 0.5/s


def test_rate_with_huge_integers_does_not_overflow() -> None:
    assert run(rate(1), None, [(0, 0), (1, 10**400)])[1] == [(1, "raise")]


@pytest.mark.parametrize("m", [-1, NAN, None, "2"])
def test_a_rate_that_makes_no_sense_is_refused(m: Any) -> None:
    with pytest.raises(ValueError):
        rate(m)


# --- offline ---------------------------------------------------------------------------------------


def test_offline_raises_at_last_plus_after_when_a_tick_reaches_it_once_and_clears_at_the_next_reading() -> None:
    rule = offline(300)
    state, changes = run(rule, None, [(1000, 1), (900, 1)])
    assert changes == []
    state, changes = tick(rule, state, 1299)
    assert changes == []
    state, changes = tick(rule, json.loads(json.dumps(state)), 99_999)
    assert changes == [(1300, "raise")]  # the instant it went offline, not the tick's time
    state, changes = tick(rule, state, 100_000)
    assert changes == []  # no repeat
    state, changes = run(rule, state, [(1000, 1)])
    assert changes == []  # not newer: ignored
    state, changes = run(rule, state, [(2000, 1), (2100, 1)])
    assert changes == [(2000, "clear")]
    assert tick(rule, state, 2399)[1] == []
    assert tick(rule, state, 2400)[1] == [(2400, "raise")]


def test_offline_run_never_raises_for_gaps_inside_a_call() -> None:
    assert run(offline(60), None, [(0, 1), (10_000, 1), (50_000, 0)])[1] == []


def test_offline_without_any_reading_never_raises() -> None:
    state, changes = tick(offline(60), None, 10**9)
    assert changes == []
    assert tick(offline(60), state, 10**10)[1] == []


def test_offline_keeps_float_instants() -> None:
    state, _ = run(offline(0.5), None, [(1.25, 1)])
    assert tick(offline(0.5), state, 2)[1] == [(1.75, "raise")]


@pytest.mark.parametrize("after", [0, -1, NAN, None])
def test_an_offline_rule_that_makes_no_sense_is_refused(after: Any) -> None:
    with pytest.raises(ValueError):
        offline(after)


def test_tick_on_threshold_and_rate_changes_nothing() -> None:
    for rule in (threshold(above=1, for_s=10), rate(1)):
        state, _ = run(rule, None, [(0, 5), (1, 9)])
        assert tick(rule, state, 10**6) == (state, [])
        fresh, changes = tick(rule, None, 5)
        assert changes == []
        assert run(rule, fresh, [(0, 5)]) == run(rule, None, [(0, 5)])


def test_a_bad_now_is_refused() -> None:
    for now in (NAN, None, "5", INF):
        with pytest.raises(ValueError):
            tick(offline(5), None, now)  # type: ignore[arg-type]


# --- readings: order, duplicates, bad values ---------------------------------------------------------


def test_readings_out_of_order_within_a_call_are_sorted() -> None:
    _, changes = run(threshold(above=10), None, [(3, 5), (1, 11), (2, 12)])
    assert changes == [(1, "raise"), (3, "clear")]


def test_a_reading_not_newer_than_the_newest_seen_is_ignored_across_calls() -> None:
    rule = threshold(above=10)
    state, _ = run(rule, None, [(10, 5)])
    state2, changes = run(rule, state, [(5, 11), (10, 11)])
    assert changes == []
    assert state2 == state


def test_of_equal_timestamps_only_the_first_counts() -> None:
    rule = threshold(above=10)
    state, changes = run(rule, None, [(2, 0), (1, 11), (1, 5)])
    assert changes == [(1, "raise"), (2, "clear")]
    assert run(rule, None, [(1, 5), (1, 11)])[1] == []
    assert run(rule, state, [(2, 11)])[1] == []


def test_nan_and_non_numbers_are_ignored_and_do_not_advance_the_newest() -> None:
    rule = threshold(above=10)
    bad: list[Any] = [(1, NAN), (1, None), (1, "12"), (1, INF), (NAN, 12), (None, 12), ("1", 12), (INF, 12)]
    state, changes = run(rule, None, bad)
    assert changes == []
    assert state == run(rule, None, [])[0]
    assert run(rule, None, [*bad, (1, 11)])[1] == [(1, "raise")]


def test_bools_count_as_one_and_zero() -> None:
    assert run(threshold(above=0.5), None, [(1, True), (2, False)])[1] == [(1, "raise"), (2, "clear")]


def test_other_real_numbers_are_numbers() -> None:
    readings = [(Decimal(1), Decimal("10.5")), (Fraction(3, 2), Fraction(9, 1))]
    assert run(threshold(above=10), None, readings)[1] == [(1, "raise"), (1.5, "clear")]
    assert run(threshold(above=10), None, [(1, Decimal("NaN"))])[1] == []


def test_a_transition_keeps_the_timestamp_as_given() -> None:
    _, changes = run(threshold(above=10), None, [(1, 11), (2.5, 9)])
    assert changes == [(1, "raise"), (2.5, "clear")]
    assert type(changes[0][0]) is int
    assert type(changes[1][0]) is float


def test_readings_may_be_lists_tuples_or_any_iterable() -> None:
    expected = [(1, "raise"), (2, "clear")]
    assert run(threshold(above=10), None, [[1, 11], [2, 9]])[1] == expected
    assert run(threshold(above=10), None, ((1, 11), (2, 9)))[1] == expected
    assert run(threshold(above=10), None, iter([(2, 9), (1, 11)]))[1] == expected


def test_a_reading_that_is_not_a_pair_is_an_error() -> None:
    with pytest.raises(ValueError):
        run(threshold(above=10), None, [(1, 2, 3)])


# --- state -----------------------------------------------------------------------------------------


def test_the_state_is_strict_json_and_the_input_state_is_not_changed() -> None:
    rule = threshold(above=0.8, for_s=60, clear_at=0.7)
    state, _ = run(rule, None, [(0.5, 0.9)])
    before = copy.deepcopy(state)
    state2, changes = run(rule, state, [(61, 0.9)])
    assert changes == [(61, "raise")]
    assert state == before
    assert json.loads(json.dumps(state2, allow_nan=False)) == state2


def test_a_state_of_another_kind_or_garbage_is_refused() -> None:
    state, _ = run(threshold(above=1), None, [(0, 1)])
    for rule, bad in [
        (rate(1), state),
        (offline(5), state),
        (threshold(above=1), {"kind": "threshold"}),
        (threshold(above=1), {"kind": "threshold", "newest": "x", "run": None, "raised": False}),
        (rate(1), {"kind": "rate", "newest": 1, "value": "x", "raised": False}),
        (threshold(above=1), [1, 2]),
    ]:
        with pytest.raises(ValueError):
            run(rule, bad, [(5, 1)])  # type: ignore[arg-type]


def test_a_state_survives_a_change_of_the_rules_limits() -> None:
    state, changes = run(threshold(above=10), None, [(0, 11)])
    assert changes == [(0, "raise")]
    assert run(threshold(above=20, clear_at=15), state, [(1, 12)])[1] == [(1, "clear")]


# --- rules as values -------------------------------------------------------------------------------


def test_rules_are_values_with_a_readable_repr_and_plain_data() -> None:
    rule = threshold(above=0.8, for_s=60, clear_at=0.7)
    assert rule == threshold(above=0.8, for_s=60, clear_at=0.7)
    assert hash(rule) == hash(threshold(above=0.8, for_s=60, clear_at=0.7))
    assert len({rule, threshold(above=0.8, for_s=60, clear_at=0.7), rate(1), rate(1), offline(5)}) == 3
    assert repr(rule) == "threshold(above=0.8, for_s=60, clear_at=0.7)"
    assert repr(threshold(below=20)) == "threshold(below=20)"
    assert repr(rate(0.01)) == "rate(max_per_s=0.01)"
    assert repr(offline(300)) == "offline(after_s=300)"
    with pytest.raises(AttributeError):
        rule.above = 1  # type: ignore[misc]
    for r in (rule, threshold(below=0.15, for_s=120, clear_at=0.2), threshold(above=1, below=0), rate(0), offline(9)):
        d = rule_to_dict(r)
        assert json.loads(json.dumps(d)) == d
        assert rule_from_dict(json.loads(json.dumps(d))) == r
    assert rule_to_dict(rate(2)) == {"kind": "rate", "max_per_s": 2}
    assert rule_from_dict({"kind": "threshold", "above": 3}) == threshold(above=3)


@pytest.mark.parametrize(
    "d",
    [
        {"kind": "nope"},
        {"above": 1},
        {"kind": "rate", "max_per_s": 1, "above": 2},
        {"kind": "rate"},
        {"kind": "offline", "after_s": -1},
        {"kind": ["rate"]},
        [("kind", "rate")],
    ],
)
def test_rule_from_dict_refuses_what_is_not_a_rule(d: Any) -> None:
    with pytest.raises(ValueError):
        rule_from_dict(d)


def test_run_refuses_what_is_not_a_rule() -> None:
    with pytest.raises(ValueError):
        run("threshold", None, [])  # type: ignore[arg-type]


# --- properties against a naive implementation -------------------------------------------------------


def naive_number(x: Any) -> float | None:
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, int | float) and math.isfinite(x):
        return x
    return None


class Naive:
    """Keeps every accepted reading and decides each transition from the definitions, replaying the
    whole history from scratch after every call."""

    def __init__(self, rule: rules.Rule) -> None:
        self.rule = rule
        self.history: list[tuple[Any, float]] = []
        self.events: list[tuple[str, Any]] = []  # ("reading", index) or ("tick", now), in call order

    def run(self, batch: Sequence[Any]) -> list[tuple[Any, str]]:
        valid = []
        for t, v in batch:
            nv = naive_number(v)
            if naive_number(t) is not None and nv is not None:
                valid.append((t, nv))
        valid.sort(key=lambda r: r[0])
        for t, v in valid:
            if not self.history or t > self.history[-1][0]:
                self.history.append((t, v))
                self.events.append(("reading", len(self.history) - 1))
        return self._new()

    def tick(self, now: Any) -> list[tuple[Any, str]]:
        self.events.append(("tick", now))
        return self._new()

    _seen = 0

    def _new(self) -> list[tuple[Any, str]]:
        everything = self._replay()
        new = everything[self._seen :]
        self._seen = len(everything)
        return new

    def _replay(self) -> list[tuple[Any, str]]:
        rule = self.rule
        h = self.history
        out: list[tuple[Any, str]] = []
        raised = False
        if isinstance(rule, rules.Offline):
            last = None
            for what, x in self.events:
                if what == "reading":
                    if raised:
                        out.append((h[x][0], "clear"))
                        raised = False
                    last = h[x][0]
                elif last is not None and not raised and x >= last + rule.after_s:
                    out.append((last + rule.after_s, "raise"))
                    raised = True
            return out
        events = [x for what, x in self.events if what == "reading"]
        for i in events:
            t, v = h[i]
            if isinstance(rule, rules.Rate):
                if i == 0:
                    continue
                (t0, v0) = h[i - 1]
                exceeds = abs(v - v0) / (t - t0) > rule.max_per_s
                if exceeds and not raised:
                    out.append((t, "raise"))
                    raised = True
                elif not exceeds and raised:
                    out.append((t, "clear"))
                    raised = False
                continue
            assert isinstance(rule, rules.Threshold)
            if not raised:
                # past in every reading since a reading at least for_s seconds earlier
                if any(
                    t - h[j][0] >= rule.for_s and all(self.past(h[k][1]) for k in range(j, i + 1)) for j in range(i + 1)
                ):
                    out.append((t, "raise"))
                    raised = True
            elif self.back(v):
                out.append((t, "clear"))
                raised = False
        return out

    def past(self, v: float) -> bool:
        rule = self.rule
        assert isinstance(rule, rules.Threshold)
        return (rule.above is not None and v > rule.above) or (rule.below is not None and v < rule.below)

    def back(self, v: float) -> bool:
        rule = self.rule
        assert isinstance(rule, rules.Threshold)
        if rule.above is not None and rule.below is not None:
            return not self.past(v)
        if rule.above is not None:
            return v <= (rule.above if rule.clear_at is None else rule.clear_at)
        assert rule.below is not None
        return v >= (rule.below if rule.clear_at is None else rule.clear_at)


LEVELS = [-2, 0, 0.5, 1, 2, 2.5, 3, 5]
limits = st.sampled_from(LEVELS)


@st.composite
def thresholds(draw: st.DrawFn) -> rules.Threshold:
    for_s = draw(st.sampled_from([0, 0, 1, 2.5, 5, 12]))
    side = draw(st.sampled_from(["above", "below", "band"]))
    if side == "band":
        lo, hi = sorted([draw(limits), draw(limits)])
        return threshold(above=hi, below=lo, for_s=for_s)
    limit = draw(limits)
    gap = draw(st.sampled_from([None, 0, 0.5, 2]))
    clear_at = None if gap is None else (limit - gap if side == "above" else limit + gap)
    return threshold(**{side: limit}, for_s=for_s, clear_at=clear_at)


any_rule = st.one_of(
    thresholds(),
    st.sampled_from([0, 0.5, 1, 3]).map(rate),
    st.sampled_from([1, 2.5, 10]).map(offline),
)
timestamps = st.one_of(st.integers(0, 40), st.integers(0, 80).map(lambda n: n / 2))
bad_numbers = st.sampled_from([NAN, INF, None, "1"])
values = st.one_of(st.sampled_from([*LEVELS, -1, 1.5, 4, 2.25]), st.booleans(), st.floats(-5, 8), bad_numbers)
readings = st.tuples(st.one_of(timestamps, timestamps, timestamps, bad_numbers), values).map(
    lambda r: r if r[1] != 4 else list(r)  # some readings as lists
)
steps = st.lists(
    st.one_of(st.lists(readings, max_size=8).map(lambda b: ("run", b)), timestamps.map(lambda n: ("tick", n))),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(rule=any_rule, steps=steps)
def test_batches_with_json_round_trips_and_ticks_give_the_naive_transitions(rule: rules.Rule, steps: list) -> None:
    naive = Naive(rule)
    state: Any = None
    for what, arg in steps:
        before = copy.deepcopy(state)
        if what == "run":
            state_out, changes = run(rule, state, arg)
            expected = naive.run(arg)
        else:
            state_out, changes = tick(rule, state, arg)
            expected = naive.tick(arg)
        assert state == before, "the input state was changed"
        assert changes == expected
        assert [type(t) for t, _ in changes] == [type(t) for t, _ in expected]
        text = json.dumps(state_out, allow_nan=False)
        state = json.loads(text)
        assert state == state_out


valid_readings = st.lists(st.tuples(timestamps, st.one_of(st.sampled_from(LEVELS), st.floats(-5, 8))), max_size=30)


@settings(max_examples=300, deadline=None)
@given(rule=any_rule, rs=valid_readings, cuts=st.lists(st.integers(0, 30), max_size=4))
def test_splitting_a_batch_anywhere_gives_the_same_transitions(rule: rules.Rule, rs: list, cuts: list[int]) -> None:
    rs = sorted(rs, key=lambda r: r[0])  # in order: every split accepts the same readings
    state_one, whole = run(rule, None, rs)
    state: Any = None
    parts: list[rules.Change] = []
    bounds = [0, *sorted(c for c in cuts if c <= len(rs)), len(rs)]
    for a, b in itertools.pairwise(bounds):
        state, changes = run(rule, state, rs[a:b])
        parts.extend(changes)
    assert parts == whole
    assert state == state_one


@settings(max_examples=200, deadline=None)
@given(rule=any_rule, rs=st.lists(readings, max_size=20), seed=st.randoms())
def test_the_order_within_a_call_does_not_matter_but_for_equal_timestamps(
    rule: rules.Rule, rs: list, seed: Any
) -> None:
    shuffled = rs[:]
    seed.shuffle(shuffled)
    # the same order among equal timestamps (and the ignored readings anywhere) gives the same result
    key = {id(r): i for i, r in enumerate(shuffled)}
    same = sorted(rs, key=lambda r: (naive_number(r[0]) if naive_number(r[0]) is not None else -1, key[id(r)]))
    assert run(rule, None, shuffled) == run(rule, None, same)
