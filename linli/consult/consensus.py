"""Where residents stand, computed from their visits (pure Python, no Django, no database).

A home visit records a household's attitude; a dwelling's current attitude on a project is its
latest visit's. ``walk()`` replays visits in time order once and gives both every dwelling's latest
attitude and the support-rate-over-time series (the 23 % → 100 % curve): one point per day, days
without visits repeating the day before. ``Consensus`` holds the figures of a set of dwellings (a
building or a project), ``stack()`` lays a building's dwellings out as floor stacks per unit.

``linli.consult.queries.visits`` reads the visits (one query per building or project) and hands
them here; the pages, the API and the project panel show the result.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# The attitudes a visit records (the values of ``consult.models.Attitude``) and "never visited".
SUPPORT = "support"
UNDECIDED = "undecided"
OPPOSE = "oppose"
NOT_VISITED = "none"


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
    """One day of the series: the dwellings of each attitude at the end of that day."""

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


def of_counts(dwellings: int, counts: Counter[str], visits: int, series: list[Point] | None = None) -> Consensus:
    """The consensus of ``dwellings`` dwellings whose latest attitudes are counted in ``counts``."""
    return Consensus(dwellings, counts[SUPPORT], counts[UNDECIDED], counts[OPPOSE], visits, series or [])


def series_rows(series: list[Point]) -> list[dict[str, Any]]:
    """The series as JSON rows (pages' tables and the API)."""
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
    latest attitude as of the end of that day."""
    current: dict[int, str] = {}
    counts: Counter[str] = Counter()
    series: list[Point] = []

    def close(day: dt.date) -> None:
        series.append(
            Point(day, counts[SUPPORT], counts[UNDECIDED], counts[OPPOSE], len(current), pct(counts[SUPPORT], total))
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


# --- a building's floor stacks ------------------------------------------------------------------------


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
