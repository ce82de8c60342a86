"""Reads of the command centre: GROUP BY queries over the denormalised columns of ``Event``.

Every figure is counted by the database (one scan per figure, over covering indexes declared in
``governance.models.Event.Meta.indexes``); Python only rolls up the few hundred grouped rows
(departments × grids) and names them. Nothing here loops over events, except the capped map points
and the export's events sheet, which stream.

The queryset passed in is already scoped (``permissions.scoped(user, Action.EVENTS, …)``): a street
command centre sees its street, a grid worker their grid, a department's staff what was dispatched
to it (``dashboard.permissions.events_of``). The definitions of due / closed / on time / rework are
in ``metrics.py`` (after docs/rules.md §7, "Metrics") and ``docs/dashboard.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django.db.models import BooleanField, Case, CharField, Count, F, Func, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate

from linli.accounts.models import Department
from linli.core.lang import pick
from linli.core.types import User
from linli.dashboard import permissions
from linli.dashboard.metrics import Counts, Period, cover
from linli.dashboard.models import Rollup
from linli.governance import loop
from linli.governance.categories import SECTOR_NAMES, Sector
from linli.governance.models import Category, Event
from linli.places.models import Community, District, Grid, Street

OPEN = sorted(s.value for s in loop.OPEN_STEPS)  # sorted: the same SQL in every process
CLOSED = [loop.Step.CLOSED.value, loop.Step.EVALUATED.value]
MAP_CAP = 3000
OVERDUE_LIST = 100
OVERDUE_SHOWN = 20  # listed on the page itself; all OVERDUE_LIST on demand
EXPORT_EVENT_ROWS = 100_000  # the events sheet stops here (a year of a whole district is more)


def overdue_q(now: datetime) -> Q:
    """``services.events.is_overdue`` as a filter: open, its step's deadline passed, not on the
    backlog (挂账), not deferred (缓办) beyond now."""
    return Q(step__in=OPEN, step_due_at__lt=now, backlog=False) & (
        Q(deferred_until__isnull=True) | Q(deferred_until__lte=now)
    )


def due_q(start: datetime, end: datetime, now: datetime) -> Q:
    """Events due in [start, end): due_at in the period, not voided, not deferred at the end of the
    period (or now, if the period is not over) — docs/rules.md §7: "deferred cases excluded from due"."""
    cut = min(end, now)
    return (
        Q(due_at__gte=start, due_at__lt=end)
        & ~Q(step=loop.Step.VOIDED.value)
        & (Q(deferred_until__isnull=True) | Q(deferred_until__lte=cut))
    )


# --- names -----------------------------------------------------------------------------------------


def sector_name(code: str, lang: str) -> str:
    try:
        zh, en = SECTOR_NAMES[Sector(code)]
    except ValueError:
        return code
    return pick(zh, en, lang)


def scope_label(user: User, lang: str) -> str:
    """Where the figures come from: the places and departments of the user's EVENTS grants."""
    if getattr(user, "is_superuser", False):
        return pick("全部", "Everything", lang)
    models = {"district": District, "street": Street, "community": Community, "grid": Grid, "department": Department}
    out = []
    for g in permissions.event_grants(user):
        model = models.get(g.place_kind)
        if model is None:
            continue
        obj = model._default_manager.filter(pk=g.place_id).first()
        if obj is not None:
            out.append(pick(getattr(obj, "name", str(obj)), getattr(obj, "name_en", ""), lang))
    return "、".join(dict.fromkeys(out))


@dataclass
class Names:
    """id → display name of the categories, departments and grids that appear in a result."""

    lang: str
    categories: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # id → (code, name, sector)
    departments: dict[int, str] = field(default_factory=dict)
    grids: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (code, name)

    @classmethod
    def load(cls, lang: str, categories: set[Any], departments: set[Any], grids: set[Any]) -> Names:
        n = cls(lang)
        for c in Category.objects.filter(pk__in=[i for i in categories if i]).only("code", "name", "name_en", "sector"):
            n.categories[c.pk] = (c.code, pick(c.name, c.name_en, lang), c.sector)
        for d in Department.objects.filter(pk__in=[i for i in departments if i]).only("name", "name_en"):
            n.departments[d.pk] = pick(d.name, d.name_en, lang)
        for g in Grid.objects.filter(pk__in=[i for i in grids if i]).only("code", "name"):
            n.grids[g.pk] = (g.code, g.name)
        return n

    def category(self, pk: int | None) -> str:
        return self.categories.get(pk or 0, ("", "—", ""))[1]

    def department(self, pk: int | None) -> str:
        return self.departments.get(pk or 0, "—") if pk else "—"

    def grid(self, pk: int | None) -> str:
        if not pk:
            return "—"
        code, name = self.grids.get(pk, ("", "—"))
        return f"{name} ({code})" if code else name


# --- open events now -------------------------------------------------------------------------------


@dataclass
class Row:
    key: Any
    label: str
    open: int = 0
    overdue: int = 0


@dataclass
class OpenSummary:
    total: int
    overdue: int
    by_sector: list[Row]
    by_category: list[Row]
    by_department: list[Row]
    names: Names


def _rows(counts: dict[Any, list[int]], label: Any) -> list[Row]:
    rows = [Row(k, label(k), v[0], v[1]) for k, v in counts.items()]
    rows.sort(key=lambda r: (-r.open, r.label))
    return rows


def _open_groups(qs: QuerySet[Event], now: datetime, *cols: str) -> list[Any]:
    # grouped by step too, so that SQLite walks the covering index event_dash_open in order
    # (without it the planner scans the whole table through the category index: seconds)
    return list(
        qs.filter(step__in=OPEN)
        .order_by()
        .values_list("step", *cols)
        .annotate(n=Count("id"), late=Count("id", filter=overdue_q(now)))
    )


def open_summary(qs: QuerySet[Event], now: datetime, lang: str) -> OpenSummary:
    """Open events by sector, category and department, with how many are overdue: one GROUP BY
    (step, category, department) over open events, rolled up here (per grid: ``open_by_grid``)."""
    groups = _open_groups(qs, now, "category_id", "department_id")
    names = Names.load(lang, {g[1] for g in groups}, {g[2] for g in groups}, set())
    by: dict[str, dict[Any, list[int]]] = {k: defaultdict(lambda: [0, 0]) for k in ("s", "c", "d")}
    total = late_total = 0
    for _step, cat, dept, n, late in groups:
        sector = names.categories.get(cat, ("", "", ""))[2]
        for key, value in (("s", sector), ("c", cat), ("d", dept)):
            by[key][value][0] += n
            by[key][value][1] += late
        total += n
        late_total += late
    return OpenSummary(
        total,
        late_total,
        _rows(by["s"], lambda k: sector_name(k, lang)),
        _rows(by["c"], names.category),
        _rows(by["d"], names.department),
        names,
    )


def open_by_grid(qs: QuerySet[Event], now: datetime, lang: str) -> list[Row]:
    """Open and overdue events per grid (the page's lazy part): one GROUP BY (step, grid)."""
    counts: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for _step, grid, n, late in _open_groups(qs, now, "grid_id"):
        counts[grid][0] += n
        counts[grid][1] += late
    names = Names.load(lang, set(), set(), set(counts))
    return _rows(counts, names.grid)


def overdue_list(qs: QuerySet[Event], now: datetime, limit: int = OVERDUE_LIST) -> list[Event]:
    """The longest-overdue open events first, at most ``limit`` (the total is in ``open_summary``)."""
    return list(
        qs.filter(overdue_q(now))
        .order_by("step_due_at", "pk")
        .select_related("category", "department", "grid", "community")
        .only(
            "pk",
            "step",
            "step_due_at",
            "due_at",
            "created_at",
            "escalation",
            "sector",
            "category__name",
            "category__name_en",
            "category__code",
            "department__name",
            "department__name_en",
            "grid__name",
            "grid__code",
            "community__name",
        )[:limit]
    )


# --- rates over a period ---------------------------------------------------------------------------

GROUPS = {"department": "department_id", "grid": "grid_id", "category": "category_id"}


def period_counts(qs: QuerySet[Event], start: datetime, end: datetime, now: datetime, by: tuple[str, ...]) -> dict:
    """Counts (due, closed, on time, reworked) per combination of ``by`` (keys of ``GROUPS``) of the
    events due in [start, end): one GROUP BY query."""
    cols = [GROUPS[b] for b in by]
    closed = Q(step__in=CLOSED, closed_at__isnull=False)
    rows = (
        qs.filter(due_q(start, end, now))
        .order_by()
        .values_list(*cols)
        .annotate(
            due=Count("id"),
            closed=Count("id", filter=closed),
            on_time=Count("id", filter=closed & Q(closed_at__lte=F("due_at"))),
            reworked=Count("id", filter=closed & Q(rework_count__gt=0)),
        )
    )
    out: dict[tuple[Any, ...], Counts] = {}
    for row in rows:
        out[tuple(row[: len(cols)])] = Counts(*row[len(cols) :])
    return out


@dataclass
class RateRow:
    key: Any
    label: str
    counts: Counts


@dataclass
class Rates:
    total: Counts
    by_department: list[RateRow]
    by_grid: list[RateRow]
    names: Names


def _rate_rows(groups: dict[Any, Counts], label: Any) -> list[RateRow]:
    rows = [RateRow(k, label(k), c) for k, c in groups.items()]
    rows.sort(key=lambda r: (-r.counts.due, r.label))
    return rows


def rates(qs: QuerySet[Event], start: datetime, end: datetime, now: datetime, lang: str) -> Rates:
    """结案率 / 按期结案率 / 返工率 per department and per grid: one GROUP BY (department, grid)."""
    groups = period_counts(qs, start, end, now, ("department", "grid"))
    total = Counts()
    by_dept: dict[Any, Counts] = defaultdict(Counts)
    by_grid: dict[Any, Counts] = defaultdict(Counts)
    for (dept, grid), c in groups.items():
        total.add(c)
        by_dept[dept].add(c)
        by_grid[grid].add(c)
    names = Names.load(lang, set(), set(by_dept), set(by_grid))
    return Rates(total, _rate_rows(by_dept, names.department), _rate_rows(by_grid, names.grid), names)


# --- trend -----------------------------------------------------------------------------------------


class LocalDay(Func):
    """The local calendar day of a datetime column as 'YYYY-MM-DD', computed by the database's own
    date functions (Django's TruncDate on SQLite calls back into Python for every row)."""

    output_field = CharField()

    def __init__(self, column: str, tz: tzinfo, at: datetime) -> None:
        self.tz = tz
        self.at = at
        super().__init__(F(column))

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # SQLite stores UTC text; shift by the zone's offset in the period (exact for zones without
        # daylight saving, such as Asia/Shanghai; elsewhere one hour around a change may slip a day).
        offset = self.at.astimezone(self.tz).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"strftime('%%Y-%%m-%%d', {sql}, '{minutes:+d} minutes')", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char(({sql}) AT TIME ZONE %s, 'YYYY-MM-DD')", [*params, str(self.tz)]

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:  # type: ignore[override]
        return compiler.compile(TruncDate(self.source_expressions[0], tzinfo=self.tz))


def _by_day(qs: QuerySet[Event], column: str, tz: tzinfo, at: datetime) -> dict[date, int]:
    rows = (
        qs.order_by()
        .annotate(day=LocalDay(column, tz, at))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    out: dict[date, int] = {}
    for day, n in rows:
        if day is None:
            continue
        d = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        out[d] = out.get(d, 0) + n
    return out


@dataclass
class TrendRow:
    first: date
    last: date
    reported: int
    closed: int

    @property
    def label(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first:%m-%d}–{self.last:%m-%d}"


def trend(qs: QuerySet[Event], period: Period, tz: tzinfo) -> list[TrendRow]:
    """Reported vs closed per day (periods up to 62 days) or per week: two GROUP BY day queries."""
    start, end = period.bounds(tz)
    mid = start + (end - start) / 2
    reported = _by_day(qs.filter(created_at__gte=start, created_at__lt=end), "created_at", tz, mid)
    closed = _by_day(qs.filter(closed_at__gte=start, closed_at__lt=end, step__in=CLOSED), "closed_at", tz, mid)
    buckets = period.buckets()
    rows = []
    for i, first in enumerate(buckets):
        last = (buckets[i + 1] - timedelta(days=1)) if i + 1 < len(buckets) else period.last
        rows.append(TrendRow(first, last, 0, 0))
    index = {r.first: r for r in rows}
    for day, n in reported.items():
        if period.first <= day <= period.last:
            index[period.bucket_of(day)].reported += n
    for day, n in closed.items():
        if period.first <= day <= period.last:
            index[period.bucket_of(day)].closed += n
    return rows


# --- the live map ----------------------------------------------------------------------------------

SECTOR_COLOURS = {
    Sector.PARTY.value: "#c62828",
    Sector.ECONOMY.value: "#1565c0",
    Sector.LIVELIHOOD.value: "#2e7d32",
    Sector.SAFETY.value: "#6a1b9a",
}


def map_points(qs: QuerySet[Event], now: datetime, lang: str, cap: int = MAP_CAP) -> dict[str, Any]:
    """Open events as GeoJSON points, overdue first then newest, at most ``cap``; says how many are
    not drawn. No personal data: no reporter, no description, no address."""
    open_qs = qs.filter(step__in=OPEN)
    total = open_qs.count()
    rows = list(
        open_qs.annotate(
            late=Case(When(overdue_q(now), then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        .order_by("-late", "-created_at", "-pk")
        .values_list("pk", "lat", "lon", "sector", "category_id", "step", "escalation", "late", "created_at")[:cap]
    )
    names = Names.load(lang, {r[4] for r in rows}, set(), set())
    features = []
    for pk, lat, lon, sector, cat, step, escalation, late, created in rows:
        zh, en = loop.STEP_NAMES[loop.Step(step)]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "id": pk,
                    "sector": sector,
                    "color": SECTOR_COLOURS.get(sector, "#555"),
                    "category": names.category(cat),
                    "step": pick(zh, en, lang),
                    "overdue": bool(late),
                    "escalation": escalation,
                    "reported": created.isoformat() if created else None,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "total_open": total,
        "drawn": len(features),
        "not_drawn": max(0, total - len(features)),
        "cap": cap,
        "at": now.isoformat(),
    }


# --- export ----------------------------------------------------------------------------------------


def export_events(qs: QuerySet[Event], start: datetime, end: datetime, limit: int = EXPORT_EVENT_ROWS) -> Iterator[Any]:
    """The events of the period (reported in it, or due in it) for the export, without the reporter's
    personal data, streamed in id order."""
    yield from (
        qs.filter(Q(created_at__gte=start, created_at__lt=end) | Q(due_at__gte=start, due_at__lt=end))
        .order_by("pk")
        .values(
            "pk",
            "created_at",
            "category_id",
            "sector",
            "kind",
            "channel",
            "step",
            "department_id",
            "street_id",
            "community_id",
            "grid_id",
            "due_at",
            "closed_at",
            "deferred_until",
            "backlog",
            "rework_count",
            "escalation",
        )[:limit]
        .iterator(chunk_size=5000)
    )


def place_names(kind: str, ids: set[int]) -> dict[int, str]:
    model = {"street": Street, "community": Community}[kind]
    return dict(model._default_manager.filter(pk__in=ids).values_list("pk", "name"))


# --- the same figures from the roll-up (issue 11 §2; docs/dashboard.md "The roll-up") -------------
#
# ``rows`` is the scoped roll-up (``permissions.rollup_of(user)``): the same scope filter as the
# events', on the same column names; ``level`` the narrow aggregate that answers (``models.Rollup``,
# ``permissions.rollup_levels``). Each figure is one query over whole months + whole weeks + single
# days (``metrics.cover``) plus the deferred events' days; the definitions are those above, to the
# event (tests/dashboard/test_rollup.py compares both over random events, periods and scopes).


def _cover_q(first: date, last: date, months: bool = True) -> Q:
    q = Q()
    for grain, lo, hi in cover(first, last, months):
        q |= Q(grain=grain, day__gte=lo, day__lte=hi)
    return q


def rollup_period_counts(
    rows: QuerySet[Rollup],
    period: Period,
    tz: tzinfo,
    now: datetime,
    by: tuple[str, ...],
    level: str = Rollup.Level.ALL,
) -> dict[tuple[Any, ...], Counts]:
    """``period_counts`` from the roll-up: due, closed, on time, reworked per combination of ``by``
    at ``level`` (which must key every column of ``by``). With "category" level F's day × category
    rows are read; else months, weeks and days, plus the deferred events not deferred at the cut."""
    cut = min(period.bounds(tz)[1], now)
    cols = [GROUPS[b] for b in by]
    if "category" in by:
        found = rows.filter(
            Q(deferred_until__isnull=True) | Q(deferred_until__lte=cut),
            level=Rollup.Level.FINE,
            grain=Rollup.Grain.CATEGORY_DAY,
            day__gte=period.first,
            day__lte=period.last,
        )
    else:
        deferred = Q(grain=Rollup.Grain.DEFERRED, day__gte=period.first, day__lte=period.last, deferred_until__lte=cut)
        found = rows.filter(_cover_q(period.first, period.last) | deferred, level=level)
    grouped = (
        found.filter(kind=Rollup.Kind.DUE)
        .order_by()
        .values_list(*cols)
        .annotate(due=Sum("n"), closed=Sum("closed"), on_time=Sum("on_time"), reworked=Sum("reworked"))
    )
    return {tuple(r[: len(cols)]): Counts(*(int(x or 0) for x in r[len(cols) :])) for r in grouped}


def rollup_rates(
    rows: QuerySet[Rollup],
    levels: permissions.Levels,
    period: Period,
    tz: tzinfo,
    now: datetime,
    lang: str,
    grids: bool = True,
    departments: bool = True,
) -> Rates:
    """``rates`` from the roll-up: 结案率 / 按期结案率 / 返工率 per department and per grid, from one
    level keyed on both, or from the two narrow levels D and G (the total from D; without ``grids``
    level G is not read and ``by_grid`` is empty, without ``departments`` level D is not read and
    the total and ``by_department`` are empty)."""
    total = Counts()
    by_dept: dict[Any, Counts] = defaultdict(Counts)
    by_grid: dict[Any, Counts] = defaultdict(Counts)
    if levels.departments == levels.grids:
        both = rollup_period_counts(rows, period, tz, now, ("department", "grid"), levels.grids)
        for (dept, grid), c in both.items():
            total.add(c)
            by_dept[dept].add(c)
            by_grid[grid].add(c)
    else:
        if departments:
            for (dept,), c in rollup_period_counts(rows, period, tz, now, ("department",), levels.departments).items():
                total.add(c)
                by_dept[dept].add(c)
        if grids:
            for (grid,), c in rollup_period_counts(rows, period, tz, now, ("grid",), levels.grids).items():
                by_grid[grid].add(c)
    if not grids:
        by_grid.clear()
    names = Names.load(lang, set(), set(by_dept), set(by_grid))
    return Rates(total, _rate_rows(by_dept, names.department), _rate_rows(by_grid, names.grid), names)


def rollup_trend(rows: QuerySet[Rollup], period: Period, level: str = Rollup.Level.ALL) -> list[TrendRow]:
    """``trend`` from the roll-up at ``level``: reported and closed per day, or per (clipped) week."""
    if period.daily:
        span = Q(grain=Rollup.Grain.DAY, day__gte=period.first, day__lte=period.last)
    else:  # whole weeks are buckets; the clipped first and last weeks come from days
        span = _cover_q(period.first, period.last, months=False)
    found = (
        rows.filter(span, level=level, kind__in=[Rollup.Kind.REPORTED, Rollup.Kind.CLOSED])
        .order_by()
        .values_list("kind", "day")
        .annotate(n=Sum("n"))
    )
    buckets = period.buckets()
    out = []
    for i, first in enumerate(buckets):
        last = (buckets[i + 1] - timedelta(days=1)) if i + 1 < len(buckets) else period.last
        out.append(TrendRow(first, last, 0, 0))
    index = {r.first: r for r in out}
    for kind, day, n in found:
        d = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        row = index[period.bucket_of(d)]
        if kind == Rollup.Kind.REPORTED:
            row.reported += int(n or 0)
        else:
            row.closed += int(n or 0)
    return out


def period_figures(
    user: User, events: QuerySet[Event], period: Period, tz: tzinfo, now: datetime, lang: str, grids: bool = True
) -> tuple[Rates, list[TrendRow]]:
    """The rates and the trend of ``period`` for ``user``: from the coarsest roll-up levels that
    answer exactly for their scope, or from the raw ``events`` (scoped) for a scope finer than a
    community (``permissions.rollup_levels``). Without ``grids`` the rates per grid are left out
    (the page loads them on demand: ``period_rates``)."""
    levels = permissions.rollup_levels(user)
    if levels is None:
        start, end = period.bounds(tz)
        found = rates(events, start, end, now, lang)
        if not grids:
            found.by_grid = []
        return found, trend(events, period, tz)
    rows = permissions.rollup_of(user)
    return rollup_rates(rows, levels, period, tz, now, lang, grids), rollup_trend(rows, period, levels.trend)


def period_grid_rates(
    user: User, events: QuerySet[Event], period: Period, tz: tzinfo, now: datetime, lang: str
) -> Rates:
    """The rates of ``period`` per grid (the page's lazy part), as ``period_figures`` counts them; the
    rates per department and the total may be left out (the narrow level D is not read)."""
    levels = permissions.rollup_levels(user)
    if levels is None:
        start, end = period.bounds(tz)
        return rates(events, start, end, now, lang)
    return rollup_rates(permissions.rollup_of(user), levels, period, tz, now, lang, departments=False)
