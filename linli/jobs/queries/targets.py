"""Employment targets (issue 14 §7, docs/jobs.md "Employment targets"): the figures of a district or
a street for a year — targets, actuals, completion, the cumulative trend, the table per street and
the entries with their sources. The page and the .xlsx export read them here, so both show the same
numbers.

Actuals of a place (its path prefix) in a year are the platform's placements plus the staff's
entries that were not withdrawn:

* ``new_jobs``: every placement whose ``started_on`` falls in the year, plus entries of that metric;
* ``reemployed``: the placements of people who were registered unemployed, plus entries;
* ``hard_placed``: the placements of people who were hard to employ, plus entries.

Everything is counted in SQL, grouped by day (and by path for the table per street) and folded into
months: a year of tens of thousands of placements is at most 366 grouped rows a path, never a loop
over placements in Python.

Completion is ``actual / target`` in percent with two decimals, rounded half up (31,300 of 36,963
→ 84.68 %, as the district reports it); "expected by now" is the share of the year elapsed up to
and including today (``core.clock``), so a figure is ahead when its completion reaches it.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from linli.accounts.permissions import get_or_404, scoped
from linli.core import clock
from linli.core.types import User
from linli.jobs.models import EmploymentTarget, Metric, Placement, TargetEntry
from linli.jobs.permissions import SERVE
from linli.places.models import District, Street

Place = District | Street
METRICS: tuple[str, ...] = tuple(Metric.values)
MONTHS = 12
#: the years a target or the page may be about
FIRST_YEAR = 2000
CENT = Decimal("0.01")
#: How long after an entry the same entry again counts as a double submit (seconds).
DOUBLE_SUBMIT_SECONDS = 60


def last_year(today: date | None = None) -> int:
    """The last year targets may be set for: next year (plans are made in the autumn)."""
    return (today or clock.today()).year + 1


# --- pure arithmetic -----------------------------------------------------------------------------


def percent(part: int, whole: int | None) -> Decimal | None:
    """``part / whole`` in percent, two decimals, half up (31,300 / 36,963 → 84.68); None without a
    target (or a zero one)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP)


def days_in(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def elapsed_share(year: int, today: date) -> Decimal:
    """The share of ``year`` elapsed by the end of ``today``, in percent (two decimals): 100 for a
    past year, 0 for a future one."""
    if year < today.year:
        return Decimal(100).quantize(CENT)
    if year > today.year:
        return Decimal(0).quantize(CENT)
    day = today.timetuple().tm_yday
    return (Decimal(day) * 100 / Decimal(days_in(year))).quantize(CENT, rounding=ROUND_HALF_UP)


def month_end_day(year: int, month: int) -> int:
    """The day of the year on which ``month`` ends (31 for January)."""
    return date(year, month, calendar.monthrange(year, month)[1]).timetuple().tm_yday


def straight_line(target: int | None, year: int) -> list[int | None]:
    """The straight line from 0 on 1 January to ``target`` on 31 December, read at each month's end
    (whole people, half up): what the cumulative actual would be on an even pace."""
    if not target:
        return [None] * MONTHS
    whole = days_in(year)
    return [
        int((Decimal(target) * month_end_day(year, m) / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        for m in range(1, MONTHS + 1)
    ]


def cumulative(monthly: Sequence[int], year: int, today: date) -> list[int | None]:
    """Running totals of ``monthly``; None for the months not begun yet (the line stops at today)."""
    out: list[int | None] = []
    running = 0
    for m, n in enumerate(monthly, 1):
        running += n
        started = (year, m) <= (today.year, today.month)
        out.append(running if started else None)
    return out


# --- the figures ---------------------------------------------------------------------------------


@dataclass
class Figure:
    """One metric of a place in a year."""

    metric: str
    label: str
    target: int | None
    placed: int  # from the platform's placements
    entered: int  # from staff entries (not withdrawn)
    monthly: list[int]  # the actual of each month
    expected: Decimal  # percent of the year elapsed
    year: int
    today: date
    target_row: EmploymentTarget | None = None

    @property
    def actual(self) -> int:
        return self.placed + self.entered

    @property
    def completion(self) -> Decimal | None:
        return percent(self.actual, self.target)

    @property
    def ahead(self) -> bool | None:
        """True when the completion reaches the share of the year elapsed; None without a target."""
        c = self.completion
        return None if c is None else c >= self.expected

    @property
    def gap(self) -> Decimal | None:
        """Completion minus the share of the year elapsed, in percentage points."""
        c = self.completion
        return None if c is None else c - self.expected

    @property
    def earlier(self) -> list[dict[str, Any]]:
        """The target's earlier values, newest first: ``{"target", "who", "at"}`` (``at`` aware)."""
        out = []
        for h in reversed((self.target_row.history or []) if self.target_row else []):
            try:
                at: datetime | None = datetime.fromisoformat(str(h.get("set_at", "")))
            except ValueError:
                at = None
            out.append({"target": h.get("target"), "who": h.get("set_by_name", ""), "at": at})
        return out

    @property
    def gap_points(self) -> Decimal | None:
        """How far ahead or behind, in percentage points (never negative: ``ahead`` says which)."""
        g = self.gap
        return None if g is None else abs(g)

    @property
    def bar(self) -> str:
        """The width of the completion bar, in percent of its box (0–100, plain digits for CSS)."""
        c = self.completion
        return "0" if c is None else f"{min(Decimal(100), max(Decimal(0), c)):.2f}"

    @property
    def pace_mark(self) -> str:
        """Where the share of the year elapsed sits on the bar (plain digits for CSS)."""
        return f"{min(Decimal(100), self.expected):.2f}"

    @property
    def cumulative(self) -> list[int | None]:
        return cumulative(self.monthly, self.year, self.today)

    @property
    def line(self) -> list[int | None]:
        return straight_line(self.target, self.year)

    def months(self) -> list[dict[str, Any]]:
        """One row a month: the month's actual, the running total and the even-pace line."""
        cum, line = self.cumulative, self.line
        return [
            {"month": m, "actual": self.monthly[m - 1], "cumulative": cum[m - 1], "line": line[m - 1]}
            for m in range(1, MONTHS + 1)
        ]


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def placement_counts(prefix: str, year: int, *, by_path: bool = False) -> dict[tuple[str, int], dict[str, int]]:
    """Placements under ``prefix`` started in ``year``: ``{(path or "", month): {metric: n}}``.

    One query grouped by day (and path), on the index ``started_on, path``: at most 366 rows a path,
    folded into months here. Grouping by the day itself, not by a month computed per row, keeps
    every placement row inside the database engine (SQLite computes ``EXTRACT`` in Python)."""
    first, last = _year_bounds(year)
    keys = ["started_on", "path"] if by_path else ["started_on"]
    rows = (
        Placement.objects.filter(path__startswith=prefix, started_on__gte=first, started_on__lte=last)
        .values(*keys)
        .annotate(
            n=Count("id"),
            r=Count("id", filter=Q(registered_unemployed=True)),
            h=Count("id", filter=Q(hard_to_employ=True)),
        )
        .order_by()
    )
    out: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(METRICS, 0))
    for row in rows:
        counts = out[(row["path"] if by_path else "", row["started_on"].month)]
        counts[Metric.NEW_JOBS] += row["n"]
        counts[Metric.REEMPLOYED] += row["r"]
        counts[Metric.HARD_PLACED] += row["h"]
    return dict(out)


def entry_counts(prefix: str, year: int, *, by_path: bool = False) -> dict[tuple[str, int], dict[str, int]]:
    """Entries under ``prefix`` dated in ``year`` and not withdrawn, summed like ``placement_counts``
    (grouped by metric and day, and path)."""
    first, last = _year_bounds(year)
    keys = ["metric", "on", "path"] if by_path else ["metric", "on"]
    rows = (
        TargetEntry.objects.filter(path__startswith=prefix, on__gte=first, on__lte=last, withdrawn_at__isnull=True)
        .values(*keys)
        .annotate(n=Sum("count"))
        .order_by()
    )
    out: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts = out[(row["path"] if by_path else "", row["on"].month)]
        counts[row["metric"]] = counts.get(row["metric"], 0) + int(row["n"] or 0)
    return dict(out)


def _monthly(
    groups: dict[tuple[str, int], dict[str, int]], metric: str, paths: Iterable[str] | None = None
) -> list[int]:
    """The 12 monthly counts of ``metric`` over the groups of ``paths`` (None: every group)."""
    wanted = None if paths is None else set(paths)
    out = [0] * MONTHS
    for (path, month), counts in groups.items():
        if (wanted is None or path in wanted) and 1 <= month <= MONTHS:
            out[month - 1] += counts.get(metric, 0)
    return out


@dataclass(frozen=True)
class Tally:
    """The grouped counts of a place's year, read once and shared by the figures and the table per
    street (``by_path``: grouped by path too)."""

    placed: dict[tuple[str, int], dict[str, int]]
    entered: dict[tuple[str, int], dict[str, int]]

    @classmethod
    def load(cls, prefix: str, year: int, *, by_path: bool = False) -> Tally:
        return cls(placement_counts(prefix, year, by_path=by_path), entry_counts(prefix, year, by_path=by_path))


def targets_of(paths: Iterable[str], year: int) -> dict[tuple[str, str], EmploymentTarget]:
    """The targets set for ``paths`` in ``year``: ``{(path, metric): row}``."""
    rows = EmploymentTarget.objects.filter(year=year, path__in=list(paths)).select_related("set_by")
    return {(t.path, t.metric): t for t in rows}


def figures(place: Place, year: int, today: date | None = None, tally: Tally | None = None) -> list[Figure]:
    """The three figures of ``place`` in ``year``, in the order of ``Metric`` (from ``tally`` when
    the caller already read it for the place)."""
    today = today or clock.today()
    tally = tally or Tally.load(place.path, year)
    targets = targets_of([place.path], year)
    expected = elapsed_share(year, today)
    out = []
    for metric, label in Metric.choices:
        p = _monthly(tally.placed, metric)
        e = _monthly(tally.entered, metric)
        row = targets.get((place.path, metric))
        out.append(
            Figure(
                metric=metric,
                label=str(label),
                target=row.target if row else None,
                placed=sum(p),
                entered=sum(e),
                monthly=[a + b for a, b in zip(p, e, strict=True)],
                expected=expected,
                year=year,
                today=today,
                target_row=row,
            )
        )
    return out


@dataclass
class StreetRow:
    """A row of the table per street of a district: the street (None: counted at the district, under
    no street) and its three figures."""

    street: Street | None
    figures: list[Figure] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.street.name if self.street is not None else ""


def _street_of(path: str, streets: Sequence[Street]) -> Street | None:
    for s in streets:
        if path.startswith(s.path):
            return s
    return None


def by_street(district: District, year: int, today: date | None = None, tally: Tally | None = None) -> list[StreetRow]:
    """The figures of each street of ``district`` in ``year`` (two grouped queries for all of them,
    or ``tally`` read ``by_path``), and a last row for what is counted at the district under no street
    (entries made for the whole district), present only when it is not zero: the rows add up to the
    district's actuals."""
    today = today or clock.today()
    streets = list(Street.objects.filter(district=district).order_by("path"))
    tally = tally or Tally.load(district.path, year, by_path=True)
    placed, entered = tally.placed, tally.entered
    targets = targets_of([s.path for s in streets], year)
    expected = elapsed_share(year, today)
    # which street each path that occurs belongs to (a handful of distinct paths, not rows)
    paths: dict[Street | None, list[str]] = defaultdict(list)
    for path in {p for p, _ in placed} | {p for p, _ in entered}:
        paths[_street_of(path, streets)].append(path)
    rows = []
    for street in [*streets, None]:
        mine = paths.get(street, [])
        if street is None and not mine:
            continue
        row = StreetRow(street)
        for metric, label in Metric.choices:
            p = _monthly(placed, metric, mine)
            e = _monthly(entered, metric, mine)
            t = targets.get((street.path, metric)) if street is not None else None
            row.figures.append(
                Figure(
                    metric=metric,
                    label=str(label),
                    target=t.target if t else None,
                    placed=sum(p),
                    entered=sum(e),
                    monthly=[a + b for a, b in zip(p, e, strict=True)],
                    expected=expected,
                    year=year,
                    today=today,
                    target_row=t,
                )
            )
        if street is None and not any(f.actual for f in row.figures):
            continue
        rows.append(row)
    return rows


# --- places and entries --------------------------------------------------------------------------


def places_for(user: User) -> list[Place]:
    """The districts and streets whose employment figures ``user`` keeps (``jobs`` there), districts
    first, each followed by its streets."""
    districts = list(scoped(user, SERVE, District.objects.all()).order_by("path"))
    streets = list(scoped(user, SERVE, Street.objects.all()).select_related("district").order_by("path"))
    return sorted([*districts, *streets], key=lambda p: p.path)


def place_key(place: Place) -> str:
    """How the page names a place in its address: ``district-3``, ``street-12``."""
    return f"{place.kind}-{place.pk}"


def place_or_404(user: User, key: str) -> Place:
    """The place a ``place_key`` names, if ``user`` keeps its figures: 404 outside the user's scope
    (or for a malformed key), 403 where they only see it."""
    kind, _, raw = (key or "").partition("-")
    model = {"district": District, "street": Street}.get(kind)
    if model is None or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Http404("no such place")
    return cast(Place, get_or_404(user, SERVE, model, pk=int(raw)))


def page_figures(place: Place, year: int, today: date) -> tuple[list[Figure], list[StreetRow] | None]:
    """The figures of ``place`` and, for a district, its table per street — from one reading of the
    counts (the page and the export)."""
    if isinstance(place, District):
        tally = Tally.load(place.path, year, by_path=True)
        return figures(place, year, today, tally), by_street(place, year, today, tally)
    return figures(place, year, today), None


def place_names(paths: Iterable[str]) -> dict[str, str]:
    """The district or street name of each path (entries are made for one of them)."""
    wanted = set(paths)
    out: dict[str, str] = {}
    for model in (District, Street):
        for p, name in model.objects.filter(path__in=wanted).values_list("path", "name"):
            out[p] = name
    return out


def entries(place: Place, year: int) -> QuerySet[TargetEntry]:
    """The entries under ``place`` dated in ``year``, withdrawn ones included, newest first."""
    first, last = _year_bounds(year)
    return (
        TargetEntry.objects.filter(path__startswith=place.path, on__gte=first, on__lte=last)
        .select_related("entered_by", "withdrawn_by")
        .order_by("-on", "-entered_at", "-id")
    )


def entry_or_404(user: User, pk: int) -> TargetEntry:
    return get_or_404(user, SERVE, TargetEntry, pk=pk)


def recent_duplicate(
    path: str, metric: str, count: int, on: date, source: str, user: User, now: datetime
) -> TargetEntry | None:
    """The same entry by the same person in the last ``DOUBLE_SUBMIT_SECONDS`` (a double submit)."""
    return (
        TargetEntry.objects.filter(
            path=path,
            metric=metric,
            count=count,
            on=on,
            source=source,
            entered_by_id=getattr(user, "pk", None),
            entered_at__gte=now - timedelta(seconds=DOUBLE_SUBMIT_SECONDS),
            withdrawn_at__isnull=True,
        )
        .order_by("-entered_at")
        .first()
    )
