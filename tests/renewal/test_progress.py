"""The pure progress module: weighted mean of items' progress (hypothesis for the invariants)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from linli.renewal.progress import Part, as_percent, effective_weights, project_progress, weight_shares

money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
parts_st = st.lists(
    st.builds(
        Part,
        progress=st.integers(0, 100),
        weight=st.one_of(st.none(), money),
        estimate=money,
    ),
    min_size=1,
    max_size=30,
)


@given(parts_st)
def test_between_min_and_max(parts):
    value = project_progress(parts)
    assert min(p.progress for p in parts) <= value <= max(p.progress for p in parts)
    rounded = as_percent(value)
    assert min(p.progress for p in parts) <= rounded <= max(p.progress for p in parts)


@given(parts_st)
def test_all_done_is_100_and_none_started_is_0(parts):
    done = [Part(100, p.weight, p.estimate) for p in parts]
    fresh = [Part(0, p.weight, p.estimate) for p in parts]
    assert project_progress(done) == 100
    assert project_progress(fresh) == 0


@given(parts_st)
def test_shares_sum_to_about_100(parts):
    shares = weight_shares(parts)
    assert abs(sum(shares) - 100) <= Decimal("0.05") * len(parts)


@given(parts_st, st.integers(0, 29), st.integers(0, 100))
def test_monotone_in_each_item(parts, i, new):
    i %= len(parts)
    p = parts[i]
    changed = list(parts)
    changed[i] = Part(max(p.progress, new), p.weight, p.estimate)
    assert project_progress(changed) >= project_progress(parts)


def test_cost_share_weights():
    # 300 000 at 50 % and 100 000 at 100 % → (0.75·50 + 0.25·100) = 62.5
    parts = [Part(50, None, Decimal("300000")), Part(100, None, Decimal("100000"))]
    assert project_progress(parts) == Fraction(125, 2)
    assert as_percent(project_progress(parts)) == Decimal("62.5")
    assert weight_shares(parts) == [Decimal("75.0"), Decimal("25.0")]


def test_zero_total_weight_falls_back_to_equal_weights():
    parts = [Part(30, None, Decimal(0)), Part(90, Decimal(0), Decimal(0))]
    assert effective_weights(parts) == [1, 1]
    assert project_progress(parts) == 60


def test_explicit_weight_wins_and_zero_weight_counts_nothing():
    parts = [Part(100, Decimal(0), Decimal("500")), Part(40, None, Decimal("500"))]
    # the first item weighs 0 explicitly, the second 50 (its cost share in percent)
    assert project_progress(parts) == 40


def test_no_items_is_zero_and_rounding_half_up():
    assert project_progress([]) == 0
    assert as_percent(Fraction(2, 3) * 100) == Decimal("66.7")
    assert as_percent(Fraction(1, 8) * 100 / 100 + Fraction(1, 4)) == Decimal("0.4")
