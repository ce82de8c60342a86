"""Reads of home visits: a dwelling's current attitude (its latest visit on the project), support
rates per building and project, the support-rate-over-time series (the 23 % → 100 % curve), who
has not been visited for N days, and the scoped lookups the visit pages and the API need.

Every figure of a building or a project comes from one query of its visits ordered by time,
walked once by the pure ``linli.consult.consensus.walk()``: the walk keeps each dwelling's latest
attitude, and at the end of each day writes the day's point of the series. No query per dwelling,
per day or per building.

The consensus functions take objects the caller may already see (``project_for``,
``project_building`` and the page's checks come first), and return no personal data: dwelling
ids, numbers and attitudes only. ``owner_names`` reads owners' names, masked, within the
reader's VIEW_PEOPLE scope.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from linli.accounts.permissions import get_or_404, scoped, scoped_any
from linli.accounts.roles import Action
from linli.consult.consensus import Consensus, DwellingState, stack, walk
from linli.consult.models import Attitude, Visit
from linli.core import clock
from linli.core.masking import mask_name
from linli.core.types import User
from linli.places.models import Building, Dwelling, Ownership, Person, Unit
from linli.renewal.models import Project

DEFAULT_STALE_DAYS = 14
MAX_STALE_DAYS = 3650


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


# --- lookups for the pages and the API (one permission check each) ----------------------------------


def project_for(user: User, pk: object) -> Project:
    """A project the user may view (404 outside every scope)."""
    return get_or_404(user, Action.VIEW, Project.objects.select_related("compound__community"), pk=pk)


def project_building(project: Project, pk: int | None) -> Building:
    """One building the project covers (404 for any other: the caller checks VISIT on it)."""
    building = project_buildings(project).select_related("grid").filter(pk=pk or 0).first()
    if building is None:
        raise Http404("building not in this project")
    return building


def visitable(user: User, project: Project) -> QuerySet[Dwelling]:
    """Dwellings of the project the user may log visits at."""
    return scoped(user, Action.VISIT, Dwelling.objects.filter(building__in=project_buildings(project)))


def dwelling_to_visit(user: User, project: Project, pk: int) -> Dwelling:
    """A dwelling of the project the user may visit; outside the user's scope a 404 (not revealed),
    in the scope but not the project's a 404 too."""
    dwelling = visitable(user, project).select_related("unit", "building").filter(pk=pk).first()
    if dwelling is None:
        get_or_404(user, Action.VISIT, Dwelling, pk=pk)
        raise Http404("dwelling not in this project")
    return dwelling


def visit_building_ids(user: User, ids: list[int]) -> set[int]:
    """Of these buildings, the ids where the user may log visits (VISIT)."""
    return set(scoped(user, Action.VISIT, Building.objects.filter(id__in=ids)).values_list("id", flat=True))


def may_visit_any(user: User, building_ids: list[int]) -> bool:
    """Whether the user may visit a dwelling in one of these buildings (grid roles scope by building,
    resident-like ones by dwelling)."""
    return scoped(user, Action.VISIT, Dwelling.objects.filter(building_id__in=building_ids)).exists()


def visible_visits(user: User) -> QuerySet[Visit]:
    """Visits the user may read: where they may VISIT, or see people (VIEW_PEOPLE)."""
    return scoped_any(user, (Action.VISIT, Action.VIEW_PEOPLE), Visit.objects.all())


def attitudes(project: Project, **dwelling_filter: Any) -> dict[int, str]:
    """Current attitude of each dwelling (latest visit wins), one query."""
    out: dict[int, str] = {}
    rows = (
        Visit.objects.filter(project=project, **{f"dwelling__{k}": v for k, v in dwelling_filter.items()})
        .order_by("visited_at", "id")
        .values_list("dwelling_id", "attitude")
    )
    for dwelling_id, attitude in rows:
        out[dwelling_id] = attitude
    return out


def my_visit(user: User, project: Project, pk: int) -> Visit | None:
    """A visit the user logged on this project (the "done" banner of the phone page)."""
    return (
        Visit.objects.select_related("dwelling__unit", "dwelling__building")
        .filter(pk=pk, visitor_id=user.pk, project=project)
        .first()
    )


def next_dwelling(user: User, project: Project, dwelling: Dwelling) -> Dwelling | None:
    """The dwelling after this one in the building's order (unit, floor, number) the user may visit."""
    ids = list(
        visitable(user, project)
        .filter(building_id=dwelling.building_id)
        .order_by("unit__number", "floor", "number")
        .values_list("id", flat=True)
    )
    if dwelling.pk in ids:
        i = ids.index(dwelling.pk)
        if i + 1 < len(ids):
            return Dwelling.objects.select_related("unit").filter(pk=ids[i + 1]).first()
    return None


def latest_visit(project: Project, dwelling: Dwelling) -> dict[str, Any] | None:
    """The dwelling's latest visit on the project (attitude, when, next step), or None."""
    row = (
        Visit.objects.filter(project=project, dwelling=dwelling)
        .order_by("-visited_at", "-id")
        .values("attitude", "visited_at", "next_step")
        .first()
    )
    return dict(row) if row is not None else None


def visit_count(project: Project, dwelling: Dwelling) -> int:
    return Visit.objects.filter(project=project, dwelling=dwelling).count()


def recent_visits(project: Project, building: Building, n: int = 20) -> list[Visit]:
    """The building's latest ``n`` visits on the project, with visitor and unit."""
    return list(
        Visit.objects.filter(project=project, dwelling__building=building)
        .select_related("visitor", "dwelling__unit")
        .order_by("-visited_at", "-id")[:n]
    )


def picker_unit(visitable: QuerySet[Dwelling], pk: int) -> Unit:
    """A unit holding a dwelling the user may visit (404 otherwise)."""
    unit = Unit.objects.select_related("building").filter(pk=pk, dwellings__in=visitable).distinct().first()
    if unit is None:
        raise Http404("unit not found")
    return unit


def picker_buildings(visitable: QuerySet[Dwelling]) -> list[dict[str, Any]]:
    """Buildings holding a dwelling the user may visit: id and name, in path order."""
    rows = Building.objects.filter(id__in=visitable.values("building_id")).order_by("path").values("id", "name")
    return [dict(r) for r in rows]


def picker_units(visitable: QuerySet[Dwelling], building_id: int) -> list[dict[str, Any]]:
    """Units of a building holding a dwelling the user may visit, in natural order (2 before 10)."""
    units: list[dict[str, Any]] = [
        dict(r)
        for r in Unit.objects.filter(building_id=building_id, dwellings__in=visitable)
        .distinct()
        .order_by("number")
        .values("id", "number")
    ]
    units.sort(key=lambda u: (len(u["number"]), u["number"]))
    return units


def owner_names(user: User, building: Building, ids: set[int]) -> dict[int, list[str]]:
    """Masked owner names of these dwellings (within the user's VIEW_PEOPLE scope), one query."""
    out: dict[int, list[str]] = defaultdict(list)
    rows = scoped(
        user, Action.VIEW_PEOPLE, Ownership.objects.filter(dwelling__building=building, dwelling_id__in=ids)
    ).values_list("dwelling_id", "person__name", "person__kind")
    for dwelling_id, name, kind in rows:
        out[dwelling_id].append(name if kind != Person.Kind.PERSON else mask_name(name))
    return out


def unit_dwellings(visitable: QuerySet[Dwelling], unit: Unit) -> list[dict[str, Any]]:
    """The dwellings of a unit the user may visit: id, number, floor, by floor and number."""
    return [dict(r) for r in visitable.filter(unit=unit).order_by("floor", "number").values("id", "number", "floor")]


def building(pk: int) -> Building:
    """A building by id (the caller found it among the buildings the user may visit)."""
    return Building.objects.get(pk=pk)


def dwelling(pk: int) -> Dwelling:
    """A dwelling by id (404 when missing); the service checks VISIT on it (404 outside the scope)."""
    found = Dwelling.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("no such dwelling")
    return found
