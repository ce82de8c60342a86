"""Reads of home visits: a dwelling's current attitude (its latest visit on the project), support
rates per building and project, the support-rate-over-time series (the 23 % → 100 % curve) and
who has not been visited for N days.

Every figure of a building or a project comes from one query of its visits ordered by time,
walked once in Python: the walk keeps each dwelling's latest attitude, and at the end of each
day writes the day's point of the series. No query per dwelling, per day or per building.

Callers check permissions first (pages and API use ``linli.accounts.permissions``); these
functions take objects the caller may already see, and return no personal data: dwelling ids,
numbers and attitudes only (names of visitors and owners are read by the pages that may show them).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from linli.consult.models import Attitude, Visit
from linli.core import clock
from linli.places.models import Building, Dwelling
from linli.renewal.models import Project

NOT_VISITED = "none"
DEFAULT_STALE_DAYS = 14
MAX_STALE_DAYS = 3650


def pct(part: int, whole: int) -> Decimal:
    """``part`` of ``whole`` in percent, one decimal, half up (0 when there is no whole)."""
    if whole <= 0:
        return Decimal("0.0")
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class DwellingState:
    """Where one dwelling stands: its latest visit's attitude (None = never visited)."""

    id: int
    unit_id: int
    unit: str
    number: str
    floor: int
    attitude: str | None = None
    last_visit: dt.datetime | None = None
    visits: int = 0
    reasons: list[str] = field(default_factory=list)
    next_visit_on: dt.date | None = None

    @property
    def key(self) -> str:
        return self.attitude or NOT_VISITED


@dataclass
class Point:
    day: dt.date
    support: int
    undecided: int
    oppose: int
    visited: int
    support_pct: Decimal


@dataclass
class Consensus:
    """The consensus of a set of dwellings (a building, or a whole project)."""

    dwellings: int
    support: int = 0
    undecided: int = 0
    oppose: int = 0
    visits: int = 0
    series: list[Point] = field(default_factory=list)

    @property
    def visited(self) -> int:
        return self.support + self.undecided + self.oppose

    @property
    def not_visited(self) -> int:
        return self.dwellings - self.visited

    @property
    def support_pct(self) -> Decimal:
        """Supporting dwellings of all dwellings (the figure that decides)."""
        return pct(self.support, self.dwellings)

    @property
    def support_pct_visited(self) -> Decimal:
        """Supporting dwellings of those visited at least once."""
        return pct(self.support, self.visited)

    @property
    def blocked(self) -> bool:
        """ "If one household in a building disagrees, the project can't go ahead."""
        return self.oppose > 0

    @property
    def unanimous(self) -> bool:
        return self.dwellings > 0 and self.support == self.dwellings

    def as_dict(self) -> dict[str, Any]:
        return {
            "dwellings": self.dwellings,
            "visited": self.visited,
            "support": self.support,
            "undecided": self.undecided,
            "oppose": self.oppose,
            "not_visited": self.not_visited,
            "visits": self.visits,
            "support_pct": float(self.support_pct),
            "support_pct_visited": float(self.support_pct_visited),
            "blocked": self.blocked,
            "unanimous": self.unanimous,
        }


def series_rows(series: list[Point]) -> list[dict[str, Any]]:
    return [
        {
            "day": p.day.isoformat(),
            "support_pct": float(p.support_pct),
            "support": p.support,
            "undecided": p.undecided,
            "oppose": p.oppose,
            "visited": p.visited,
        }
        for p in series
    ]


# --- the one pass ------------------------------------------------------------------------------------


def walk(
    events: Iterable[tuple[dt.date, int, str]], total: int, until: dt.date | None = None
) -> tuple[dict[int, str], list[Point]]:
    """Replay visits (local day, dwelling id, attitude), in time order, over ``total`` dwellings.

    Returns each dwelling's latest attitude and the series: one point per day from the first
    visit's day to ``until`` (default: the last visit's day), each day counting every dwelling's
    latest attitude as of the end of that day. Pure: no database."""
    current: dict[int, str] = {}
    counts: Counter[str] = Counter()
    series: list[Point] = []

    def close(day: dt.date) -> None:
        series.append(
            Point(
                day,
                counts[Attitude.SUPPORT],
                counts[Attitude.UNDECIDED],
                counts[Attitude.OPPOSE],
                len(current),
                pct(counts[Attitude.SUPPORT], total),
            )
        )

    day: dt.date | None = None
    for when, dwelling_id, attitude in events:
        if day is None:
            day = when
        while when > day:  # close every day up to this event's (days without visits repeat)
            close(day)
            day += dt.timedelta(days=1)
        old = current.get(dwelling_id)
        if old is not None:
            counts[old] -= 1
        current[dwelling_id] = attitude
        counts[attitude] += 1
    if day is not None:
        end = max(day, until) if until else day
        while day <= end:
            close(day)
            day += dt.timedelta(days=1)
    return current, series


# --- buildings of a project ---------------------------------------------------------------------------


def project_buildings(project: Project) -> QuerySet[Building]:
    """The buildings a project covers: those it lists, else every building of its compound."""
    listed = Building.objects.filter(projects=project)
    if listed.exists():
        return listed.order_by("path")
    return Building.objects.filter(compound_id=project.compound_id).order_by("path")


def _today() -> dt.date:
    return clock.today()


def _local_day(when: dt.datetime) -> dt.date:
    return timezone.localtime(when).date()


@dataclass
class BuildingConsensus:
    building: Building
    consensus: Consensus
    states: list[DwellingState]
    units: list[dict[str, Any]]

    def stale(self, days: int, now: dt.datetime | None = None) -> list[DwellingState]:
        """Dwellings not visited for ``days`` days (never visited first, then the longest ago)."""
        cutoff = (now or clock.now()) - dt.timedelta(days=days)
        out = [s for s in self.states if s.last_visit is None or s.last_visit < cutoff]
        far_past = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(out, key=lambda s: (s.last_visit is not None, s.last_visit or far_past, s.unit, s.floor))

    def with_attitude(self, *attitudes: str) -> list[DwellingState]:
        return [s for s in self.states if s.attitude in attitudes]


def building_consensus(project: Project, building: Building, *, today: dt.date | None = None) -> BuildingConsensus:
    """The consensus of one building of a project: two queries (its dwellings, its visits)."""
    dwellings = list(
        Dwelling.objects.filter(building=building)
        .values_list("id", "unit_id", "unit__number", "number", "floor")
        .order_by("unit__number", "floor", "number")
    )
    states = {d[0]: DwellingState(d[0], d[1], d[2], d[3], d[4]) for d in dwellings}
    rows = (
        Visit.objects.filter(project=project, dwelling__building=building)
        .order_by("visited_at", "id")
        .values_list("dwelling_id", "visited_at", "attitude", "reasons", "next_visit_on")
    )
    events: list[tuple[dt.date, int, str]] = []
    for dwelling_id, visited_at, attitude, reasons, next_on in rows.iterator(chunk_size=2000):
        s = states.get(dwelling_id)
        if s is None:  # moved to another building since: not this building's any more
            continue
        s.attitude, s.last_visit, s.reasons, s.next_visit_on = attitude, visited_at, list(reasons or []), next_on
        s.visits += 1
        events.append((_local_day(visited_at), dwelling_id, attitude))
    current, series = walk(events, len(states), until=today or _today())
    counts = Counter(current.values())
    consensus = Consensus(
        len(states),
        counts[Attitude.SUPPORT],
        counts[Attitude.UNDECIDED],
        counts[Attitude.OPPOSE],
        len(events),
        series,
    )
    ordered = list(states.values())
    return BuildingConsensus(building, consensus, ordered, stack(ordered))


def _unit_sort(number: str) -> tuple[int, str]:
    return (len(number), number)


def stack(states: list[DwellingState]) -> list[dict[str, Any]]:
    """Units and their floor stacks, top floor first (the shape of places.queries.building_stack)."""
    by_unit: dict[tuple[int, str], list[DwellingState]] = defaultdict(list)
    for s in states:
        by_unit[(s.unit_id, s.unit)].append(s)
    units = []
    for (_uid, number), cells in sorted(by_unit.items(), key=lambda kv: _unit_sort(kv[0][1])):
        floors: dict[int, list[DwellingState]] = defaultdict(list)
        for c in cells:
            floors[c.floor].append(c)
        units.append(
            {
                "number": number,
                "cols": max((len(v) for v in floors.values()), default=1),
                "dwellings": cells,
                "floors": [{"floor": fl, "cells": floors[fl]} for fl in sorted(floors, reverse=True)],
            }
        )
    return units


# --- a project ------------------------------------------------------------------------------------------


@dataclass
class ProjectConsensus:
    project: Project
    total: Consensus
    buildings: list[dict[str, Any]]

    @property
    def blocked_buildings(self) -> list[dict[str, Any]]:
        return [b for b in self.buildings if b["consensus"].blocked]


def project_consensus(project: Project, *, today: dt.date | None = None) -> ProjectConsensus:
    """Every building of a project summarised, and the project's own series: three queries."""
    buildings = list(project_buildings(project).values("id", "name", "code"))
    ids = [b["id"] for b in buildings]
    n_dwellings = {
        r["building_id"]: r["n"]
        for r in Dwelling.objects.filter(building_id__in=ids).values("building_id").annotate(n=Count("id")).order_by()
    }
    rows = (
        Visit.objects.filter(project=project, dwelling__building_id__in=ids)
        .order_by("visited_at", "id")
        .values_list("dwelling_id", "dwelling__building_id", "visited_at", "attitude")
    )
    latest: dict[int, tuple[int, str]] = {}
    visits_of: Counter[int] = Counter()
    events: list[tuple[dt.date, int, str]] = []
    for dwelling_id, building_id, visited_at, attitude in rows.iterator(chunk_size=2000):
        latest[dwelling_id] = (building_id, attitude)
        visits_of[building_id] += 1
        events.append((_local_day(visited_at), dwelling_id, attitude))
    per: dict[int, Counter[str]] = defaultdict(Counter)
    for building_id, attitude in latest.values():
        per[building_id][attitude] += 1
    out = []
    for b in buildings:
        c = per[b["id"]]
        con = Consensus(
            n_dwellings.get(b["id"], 0),
            c[Attitude.SUPPORT],
            c[Attitude.UNDECIDED],
            c[Attitude.OPPOSE],
            visits_of[b["id"]],
        )
        out.append({**b, "consensus": con})
    total_dwellings = sum(n_dwellings.values())
    _current, series = walk(events, total_dwellings, until=today or _today())
    totals = Counter(a for _b, a in latest.values())
    total = Consensus(
        total_dwellings,
        totals[Attitude.SUPPORT],
        totals[Attitude.UNDECIDED],
        totals[Attitude.OPPOSE],
        len(events),
        series,
    )
    return ProjectConsensus(project, total, out)


def stale_days(raw: str | None) -> int:
    """N of "not visited for N days" from a query string: default 14, bounded 1–3650."""
    try:
        n = int(raw) if raw else DEFAULT_STALE_DAYS
    except (TypeError, ValueError):
        return DEFAULT_STALE_DAYS
    return max(1, min(MAX_STALE_DAYS, n))
