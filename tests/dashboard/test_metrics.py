"""The pure figures of the command centre: periods and rates (linli/dashboard/metrics.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from linli.core.errors import LinliError
from linli.dashboard import metrics
from linli.dashboard.metrics import Counts, Period

TODAY = date(2024, 5, 15)  # a Wednesday


def test_rate_zero_due_is_none_not_zero() -> None:
    assert metrics.rate(0, 0) is None
    c = Counts()
    assert c.closure_rate is None and c.on_time_rate is None and c.rework_rate is None
    # closed but nothing due cannot happen, but reworked/closed with closed = 0 must stay None
    assert Counts(due=3).rework_rate is None
    assert Counts(due=3).closure_rate == Decimal("0.0")


def test_rates_round_half_up_to_one_decimal() -> None:
    c = Counts(due=3, closed=2, on_time=1, reworked=1)
    assert c.closure_rate == Decimal("66.7")
    assert c.on_time_rate == Decimal("33.3")
    assert c.rework_rate == Decimal("50.0")
    assert metrics.rate(1, 8) == Decimal("12.5")
    assert metrics.rate(1, 16) == Decimal("6.3")  # 6.25 → half up


def test_counts_add() -> None:
    a = Counts(2, 1, 1, 0)
    a.add(Counts(3, 2, 0, 1))
    assert (a.due, a.closed, a.on_time, a.reworked) == (5, 3, 1, 1)


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("week", date(2024, 5, 13), TODAY),
        ("month", date(2024, 5, 1), TODAY),
        ("30d", date(2024, 4, 16), TODAY),
        ("year", date(2024, 1, 1), TODAY),
    ],
)
def test_presets(preset: str, first: date, last: date) -> None:
    p = metrics.parse_period(None, None, preset, TODAY)
    assert (p.first, p.last, p.preset) == (first, last, preset)


def test_default_is_last_30_days_and_dates_win_over_preset() -> None:
    assert metrics.parse_period("", "", "", TODAY).days == 30
    p = metrics.parse_period("2024-01-01", "2024-01-31", "week", TODAY)
    assert (p.first, p.last, p.preset) == (date(2024, 1, 1), date(2024, 1, 31), "")


@pytest.mark.parametrize(
    ("start", "end", "preset", "code"),
    [
        ("2024-13-01", "2024-12-31", "", "bad_date"),
        ("yesterday", "2024-01-02", "", "bad_date"),
        ("2024-02-01", "2024-01-01", "", "period_reversed"),
        ("2021-01-01", "2024-01-02", "", "period_too_long"),
        ("2024-01-01", "", "", "period_incomplete"),
        ("", "", "decade", "bad_preset"),
    ],
)
def test_bad_periods_are_bilingual_400(start: str, end: str, preset: str, code: str) -> None:
    with pytest.raises(LinliError) as exc:
        metrics.parse_period(start, end, preset, TODAY)
    assert exc.value.status == 400
    p = exc.value.problems[0]
    assert p.code == code and p.zh and p.en and p.zh != p.en


def test_three_years_allowed_one_day_more_not() -> None:
    assert metrics.parse_period("2021-01-01", "2024-01-01", "", TODAY).days == metrics.MAX_DAYS == 1096
    with pytest.raises(LinliError):
        metrics.parse_period("2021-01-01", "2024-01-02", "", TODAY)


def test_cover_takes_every_day_exactly_once() -> None:
    """The roll-up's months + weeks + days cover each day of any period once (seeded random)."""
    import random

    rng = random.Random(11)
    for _ in range(3000):
        first = date(2022, 1, 1) + timedelta(days=rng.randrange(900))
        last = first + timedelta(days=rng.randrange(metrics.MAX_DAYS))
        for months in (True, False):
            days: list[date] = []
            for grain, lo, hi in metrics.cover(first, last, months):
                assert lo <= hi
                d = lo
                while d <= hi:
                    if grain == "m":
                        assert d.day == 1
                        nxt = metrics._next_month(d)
                        days += [d + timedelta(days=i) for i in range((nxt - d).days)]
                        d = nxt
                    elif grain == "w":
                        assert d.weekday() == 0
                        days += [d + timedelta(days=i) for i in range(7)]
                        d += timedelta(days=7)
                    else:
                        days.append(d)
                        d += timedelta(days=1)
            assert sorted(days) == [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_bounds_are_local_midnights() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    start, end = Period(date(2024, 3, 1), date(2024, 3, 31)).bounds(tz)
    assert start.isoformat() == "2024-03-01T00:00:00+08:00"
    assert end.isoformat() == "2024-04-01T00:00:00+08:00"


def test_buckets_daily_then_weekly() -> None:
    p = Period(date(2024, 3, 1), date(2024, 3, 31))
    assert p.daily and len(p.buckets()) == 31
    y = Period(date(2024, 1, 3), date(2024, 12, 31))  # Wednesday to Tuesday
    b = y.buckets()
    assert not y.daily and b[0] == date(2024, 1, 3) and b[1] == date(2024, 1, 8)
    assert all(d.weekday() == 0 for d in b[1:])
    assert y.bucket_of(date(2024, 1, 5)) == date(2024, 1, 3)  # clipped to the first day
    assert y.bucket_of(date(2024, 6, 13)) == date(2024, 6, 10)
