"""The command centre's figures as pure functions (no Django): periods and rates from counts.

Definitions (docs/rules.md §7, "Metrics: 结案率 = closed / due; 按期结案率 = closed on time / due
(deferred cases excluded from due); 返工率 (rework after failed verification); per department and
per grid"), made exact here and in ``docs/dashboard.md``:

- **due 应结案件** in a period [start, end): events whose ``due_at`` (the deadline set at first
  dispatch, moved by approved extensions) falls in the period, not voided (作废), and not deferred
  (缓办: ``deferred_until`` later than the end of the period, or than now for a period not yet over).
- **closed 已结案件**: due events that were verified and closed (核查结案, step closed or evaluated),
  whenever that happened up to now.
- **closed on time 按期结案**: closed events with ``closed_at <= due_at`` (the boundary itself is on
  time).
- **结案率 closure rate** = closed / due; **按期结案率 on-time rate** = closed on time / due;
  **返工率 rework rate** = closed events with ``rework_count > 0`` (sent back at least once after a
  failed check on site) / closed. A rate with a zero denominator is ``None`` (shown "—"), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from linli.core.errors import LinliError

MAX_DAYS = 1096  # three years (issue 11 §2: "any period up to 3 years"), read from the roll-up
DAILY_UP_TO = 62  # longer periods are charted per week (Monday-based)

PRESETS: dict[str, tuple[str, str]] = {
    "week": ("本周", "This week"),
    "month": ("本月", "This month"),
    "30d": ("近 30 天", "Last 30 days"),
    "year": ("今年", "This year"),
}
DEFAULT_PRESET = "30d"


@dataclass(frozen=True)
class Period:
    """Whole local days ``first`` … ``last`` (both included)."""

    first: date
    last: date
    preset: str = ""

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def daily(self) -> bool:
        return self.days <= DAILY_UP_TO

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: local midnight of ``first`` to local midnight after ``last``."""
        start = datetime.combine(self.first, time.min, tzinfo=tz)
        end = datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=tz)
        return start, end

    def buckets(self) -> list[date]:
        """The first day of every chart bucket: each day, or each Monday-based week (the first may
        start before ``first``, it is clipped to it)."""
        if self.daily:
            return [self.first + timedelta(days=i) for i in range(self.days)]
        out = [self.first]
        d = self.first + timedelta(days=7 - self.first.weekday())
        while d <= self.last:
            out.append(d)
            d += timedelta(days=7)
        return out

    def bucket_of(self, day: date) -> date:
        if self.daily or day < self.first:
            return max(day, self.first)
        monday = day - timedelta(days=day.weekday())
        return max(monday, self.first)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _weeks_and_days(a: date, b: date, out: list[tuple[str, date, date]]) -> None:
    """[a, b] as whole Monday-based weeks (grain "w", by their Mondays) and single days (grain "d")."""
    if a > b:
        return
    w0 = a + timedelta(days=(7 - a.weekday()) % 7)  # the first Monday on or after a
    end = b + timedelta(days=1)
    w_end = end - timedelta(days=end.weekday())  # the Monday on or before b + 1
    if w0 < w_end:
        if a < w0:
            out.append(("d", a, w0 - timedelta(days=1)))
        out.append(("w", w0, w_end - timedelta(days=7)))
        if w_end <= b:
            out.append(("d", w_end, b))
    else:
        out.append(("d", a, b))


def cover(first: date, last: date, months: bool = True) -> list[tuple[str, date, date]]:
    """Days ``first`` … ``last`` as the fewest roll-up buckets: whole calendar months (grain "m",
    by their first days), then whole Monday-based weeks ("w", by their Mondays) at the edges, then
    single days ("d"). Each piece is (grain, first bucket, last bucket), both included; every day of
    the period is in exactly one bucket (tests/dashboard/test_metrics.py)."""
    out: list[tuple[str, date, date]] = []
    if not months:
        _weeks_and_days(first, last, out)
        return out
    m0 = first if first.day == 1 else _next_month(first)
    after = last + timedelta(days=1)
    m_end = after.replace(day=1)  # the first of the month of last + 1: whole months end before it
    if m0 < m_end:
        _weeks_and_days(first, m0 - timedelta(days=1), out)
        prev = m_end.replace(day=1) - timedelta(days=1)
        out.append(("m", m0, prev.replace(day=1)))
        _weeks_and_days(m_end, last, out)
    else:
        _weeks_and_days(first, last, out)
    return out


def preset_period(preset: str, today: date) -> Period:
    if preset == "week":
        return Period(today - timedelta(days=today.weekday()), today, preset)
    if preset == "month":
        return Period(today.replace(day=1), today, preset)
    if preset == "30d":
        return Period(today - timedelta(days=29), today, preset)
    if preset == "year":
        return Period(today.replace(month=1, day=1), today, preset)
    raise LinliError.one("bad_preset", f"未知的时间段:{preset[:20]}", f"Unknown period: {preset[:20]}", 400)


def _day(value: str, zh: str, en: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise LinliError.one(
            "bad_date", f"{zh}日期格式不正确,应为 YYYY-MM-DD。", f"The {en} date must be YYYY-MM-DD.", 400
        ) from exc


def parse_period(start: str | None, end: str | None, preset: str | None, today: date) -> Period:
    """The period asked for: explicit ``start``/``end`` (YYYY-MM-DD, both included) win over a
    ``preset``; nothing at all means the last 30 days. Raises a 400 LinliError for a bad date, a
    reversed range, a range longer than MAX_DAYS (three years), or only one end given."""
    start, end, preset = (start or "").strip(), (end or "").strip(), (preset or "").strip()
    if start or end:
        if not (start and end):
            raise LinliError.one(
                "period_incomplete", "请同时填写开始和结束日期。", "Give both a start and an end date.", 400
            )
        first = _day(start, "开始", "start")
        last = _day(end, "结束", "end")
        if last < first:
            raise LinliError.one(
                "period_reversed", "结束日期早于开始日期。", "The end date is before the start date.", 400
            )
        if (last - first).days + 1 > MAX_DAYS:
            raise LinliError.one(
                "period_too_long",
                f"时间段最长 {MAX_DAYS} 天。",
                f"A period is at most {MAX_DAYS} days.",
                400,
            )
        return Period(first, last)
    return preset_period(preset or DEFAULT_PRESET, today)


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator as a percentage with one decimal (half up); None when nothing is due."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Counts:
    """Counts of one group (a department, a grid, a category, or everything) over a period."""

    due: int = 0
    closed: int = 0
    on_time: int = 0
    reworked: int = 0

    def add(self, other: Counts) -> None:
        self.due += other.due
        self.closed += other.closed
        self.on_time += other.on_time
        self.reworked += other.reworked

    @property
    def closure_rate(self) -> Decimal | None:  # 结案率
        return rate(self.closed, self.due)

    @property
    def on_time_rate(self) -> Decimal | None:  # 按期结案率
        return rate(self.on_time, self.due)

    @property
    def rework_rate(self) -> Decimal | None:  # 返工率
        return rate(self.reworked, self.closed)
