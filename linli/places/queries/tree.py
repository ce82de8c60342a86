"""Reads of the place tree used by the pages: counts by aggregate queries, never per row.

Every object comes through ``get_or_404`` (outside the user's scope → 404) and every list through
``linli.accounts.permissions.scoped``, so a page shows only what the user may see; nothing here
decrypts personal data (rosters use the masked copies). The map shapes come from the pure
``linli.places.geometry``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext

from linli.accounts.permissions import get_or_404, scoped
from linli.accounts.roles import Action
from linli.core.types import User
from linli.places import models as m
from linli.places.codes import decade
from linli.places.geometry import bbox_polygon, feature, is_area_geometry, outline, polygon_area_m2
from linli.places.permissions import sees_a_dwelling_of

SEARCH_LIMIT = 50
# Half the side of the square drawn where only a point is known, in metres.
HALF_SIDE_M = {"street": 600.0, "community": 250.0, "compound": 60.0, "grid": 120.0}


# --- Lookups: one place, or a 404 ----------------------------------------------------------------


def _tree_qs(kind: str) -> QuerySet[Any]:
    """The place model of ``kind`` with the ancestors its page names (breadcrumbs)."""
    return {
        "district": lambda: m.District.objects.all(),
        "street": lambda: m.Street.objects.select_related("district"),
        "community": lambda: m.Community.objects.select_related("street__district"),
        "compound": lambda: m.Compound.objects.select_related("community__street__district"),
        "building": lambda: m.Building.objects.select_related("compound__community__street__district", "grid"),
        "grid": lambda: m.Grid.objects.select_related("community__street__district"),
    }[kind]()


def place_or_404(user: User, kind: str, pk: int, action: str = Action.VIEW) -> Any:
    """The place of ``kind`` (district … grid) the user may ``action``: 404 outside their scope,
    403 inside it when the role does not allow the action."""
    return get_or_404(user, action, _tree_qs(kind), pk=pk)


def building_or_404(user: User, pk: int) -> m.Building:
    """A building the user may view, or one of whose dwellings they may view (a resident's role is
    held at a dwelling: they see their own dwellings of this building); else 404."""
    qs = _tree_qs("building")
    try:
        return get_or_404(user, Action.VIEW, qs, pk=pk)
    except Http404:
        found = qs.filter(pk=pk).first()
        if found is None or not sees_a_dwelling_of(user, found):
            raise
        return found


def person(pk: int) -> m.Person | None:
    """The person of a reveal request (the reveal service checks REVEAL on them), or None."""
    return m.Person.objects.filter(pk=pk).first()


# --- Counting -------------------------------------------------------------------------------------


def _counts(qs: QuerySet[Any], key: str) -> dict[Any, int]:
    return {row[key]: row["n"] for row in qs.values(key).annotate(n=Count("id")).order_by()}


def households_by(user: User, key: str, **filters: Any) -> dict[Any, int]:
    return _counts(scoped(user, Action.VIEW, m.Household.objects.filter(**filters)), key)


def dwellings_by(user: User, key: str, **filters: Any) -> dict[Any, int]:
    return _counts(scoped(user, Action.VIEW, m.Dwelling.objects.filter(**filters)), key)


def eligible(build_year: int | None) -> bool | None:
    if build_year is None:
        return None
    return build_year < settings.LINLI_RENOVATION_BUILT_BEFORE_YEAR


def bar_chart(labels: list[str], values: list[int], series: str) -> dict[str, Any]:
    return {
        "labels": labels,
        "values": values,
        "series": series,
        "rows": [{"label": a, "value": b} for a, b in zip(labels, values, strict=True)],
    }


# --- Home -----------------------------------------------------------------------------------------


def grant_counts(user: User, grant: Any) -> dict[str, int]:
    """Buildings and households a grant covers (within what the user may see)."""
    if grant.place_kind == "grid":
        b = Q(grid_id=grant.place_id)
        h = Q(dwelling__building__grid_id=grant.place_id)
    elif grant.place_kind == "dwelling":
        b = Q(dwellings__id=grant.place_id)
        h = Q(dwelling_id=grant.place_id)
    else:
        b = Q(path__startswith=grant.path)
        h = Q(dwelling__building__path__startswith=grant.path)
    return {
        "buildings": scoped(user, Action.VIEW, m.Building.objects.filter(b)).count(),
        "households": scoped(user, Action.VIEW, m.Household.objects.filter(h)).count(),
    }


def districts_with_counts(user: User) -> list[dict[str, Any]]:
    districts = list(scoped(user, Action.VIEW, m.District.objects.all()))
    streets = _counts(m.Street.objects.filter(district__in=districts), "district_id")
    comms = _counts(m.Community.objects.filter(street__district__in=districts), "street__district_id")
    hh = households_by(
        user,
        "dwelling__building__community__street__district_id",
        dwelling__building__community__street__district__in=districts,
    )
    return [
        {
            "place": d,
            "url": reverse("places:district", args=[d.pk]),
            "streets": streets.get(d.pk, 0),
            "communities": comms.get(d.pk, 0),
            "households": hh.get(d.pk, 0),
        }
        for d in districts
    ]


# --- Search ---------------------------------------------------------------------------------------


@dataclass
class SearchGroup:
    kind: str
    label: str
    items: list[dict[str, str]] = field(default_factory=list)


def search(user: User, q: str, labels: dict[str, str], limit: int = SEARCH_LIMIT) -> tuple[list[SearchGroup], int]:
    """Streets, communities, compounds, buildings and grids whose name or code contains ``q``,
    each model scoped separately; at most ``limit`` results in all, grouped by kind."""
    q = q.strip()[:50]
    groups: list[SearchGroup] = []
    if not q:
        return groups, 0
    match = Q(name__icontains=q) | Q(code__icontains=q)
    specs: list[tuple[str, QuerySet[Any], str]] = [
        ("street", m.Street.objects.select_related("district"), "district"),
        ("community", m.Community.objects.select_related("street"), "street"),
        ("compound", m.Compound.objects.select_related("community"), "community"),
        ("building", m.Building.objects.select_related("compound"), "compound"),
        ("grid", m.Grid.objects.select_related("community"), "community"),
    ]
    left = limit
    total = 0
    for kind, qs, parent in specs:
        if left <= 0:
            break
        rows = list(scoped(user, Action.VIEW, qs.filter(match)).order_by("name", "pk")[:left])
        if not rows:
            continue
        group = SearchGroup(kind, labels[kind])
        for obj in rows:
            group.items.append(
                {
                    "name": obj.name,
                    "code": obj.code,
                    "context": str(getattr(obj, parent)),
                    "url": reverse(f"places:{kind}", args=[obj.pk]),
                }
            )
        groups.append(group)
        left -= len(rows)
        total += len(rows)
    return groups, total


# --- District and street --------------------------------------------------------------------------


def children_of(user: User, parent: m.District | m.Street) -> dict[str, Any]:
    """Children (streets of a district, communities of a street) with counts, chart and map."""
    if isinstance(parent, m.District):
        kind = "street"
        children: list[m.Street] | list[m.Community] = list(
            scoped(user, Action.VIEW, m.Street.objects.filter(district=parent))
        )
        key = "dwelling__building__community__street_id"
        hh = households_by(user, key, dwelling__building__community__street__district=parent)
        sub = _counts(scoped(user, Action.VIEW, m.Community.objects.filter(street__district=parent)), "street_id")
        cpd = m.Compound.objects.filter(community__street__district=parent, lat__isnull=False, lon__isnull=False)
        box_key = "community__street_id"
    else:
        kind = "community"
        children = list(scoped(user, Action.VIEW, m.Community.objects.filter(street=parent)))
        hh = households_by(user, "dwelling__building__community_id", dwelling__building__community__street=parent)
        sub = _counts(scoped(user, Action.VIEW, m.Compound.objects.filter(community__street=parent)), "community_id")
        cpd = m.Compound.objects.filter(community__street=parent, lat__isnull=False, lon__isnull=False)
        box_key = "community_id"
    boxes = {
        r[box_key]: r
        for r in scoped(user, Action.VIEW, cpd)
        .values(box_key)
        .annotate(a=Min("lat"), b=Min("lon"), c=Max("lat"), d=Max("lon"))
        .order_by()
    }
    rows: list[dict[str, Any]] = []
    features = []
    for c in children:
        url = reverse(f"places:{kind}", args=[c.pk])
        rows.append({"place": c, "url": url, "households": hh.get(c.pk, 0), "children": sub.get(c.pk, 0)})
        geom = outline(c.boundary, c.lat, c.lon, HALF_SIDE_M[kind])
        if geom is None and c.pk in boxes:
            box = boxes[c.pk]
            geom = bbox_polygon(box["a"], box["b"], box["c"], box["d"], 80.0)
        if geom is not None:
            features.append(feature(geom, name=c.name, kind=kind, url=url, households=hh.get(c.pk, 0)))
    chart = bar_chart([r["place"].name for r in rows], [r["households"] for r in rows], "households")
    return {
        "rows": rows,
        "chart": chart,
        "geojson": {"type": "FeatureCollection", "features": features},
        "total_households": sum(r["households"] for r in rows),
    }


# --- Community ------------------------------------------------------------------------------------


def community_summary(user: User, community: m.Community) -> dict[str, Any]:
    """Key figures, the compound and grid tables and the two charts, in a fixed number of queries."""
    compounds = list(
        scoped(user, Action.VIEW, m.Compound.objects.filter(community=community)).values(
            "id", "name", "code", "build_year", "is_historic"
        )
    )
    buildings = list(
        scoped(user, Action.VIEW, m.Building.objects.filter(community=community)).values(
            "id", "compound_id", "grid_id", "build_year"
        )
    )
    grids = list(scoped(user, Action.VIEW, m.Grid.objects.filter(community=community)).values("id", "code", "name"))
    hh_b = households_by(user, "dwelling__building_id", dwelling__building__community=community)
    dw_b = dwellings_by(user, "building_id", building__community=community)
    residents = scoped(
        user, Action.VIEW, m.Resident.objects.filter(household__dwelling__building__community=community)
    ).count()
    leaders: dict[int, list[str]] = defaultdict(list)
    for row in scoped(
        user, Action.VIEW, m.GridMember.objects.filter(grid__community=community, role=m.GridMember.Role.LEADER)
    ).values("grid_id", "name"):
        leaders[row["grid_id"]].append(row["name"])

    year_of = {c["id"]: c["build_year"] for c in compounds}
    per_compound: dict[int, dict[str, int]] = defaultdict(lambda: {"buildings": 0, "dwellings": 0, "households": 0})
    per_grid: dict[int | None, dict[str, int]] = defaultdict(lambda: {"buildings": 0, "households": 0})
    per_decade: dict[str, int] = defaultdict(int)
    eligible_dwellings = 0
    for b in buildings:
        h, d = hh_b.get(b["id"], 0), dw_b.get(b["id"], 0)
        pc = per_compound[b["compound_id"]]
        pc["buildings"] += 1
        pc["dwellings"] += d
        pc["households"] += h
        pg = per_grid[b["grid_id"]]
        pg["buildings"] += 1
        pg["households"] += h
        per_decade[decade(b["build_year"] or year_of.get(b["compound_id"]))] += h
        if eligible(year_of.get(b["compound_id"])):
            eligible_dwellings += d

    compound_rows = []
    for c in compounds:
        compound_rows.append(
            {
                **c,
                **per_compound[c["id"]],
                "eligible": eligible(c["build_year"]),
                "url": reverse("places:compound", args=[c["id"]]),
            }
        )
    grid_rows: list[dict[str, Any]] = [
        {
            **g,
            **per_grid[g["id"]],
            "leader": "、".join(leaders.get(g["id"], [])),
            "url": reverse("places:grid", args=[g["id"]]),
        }
        for g in grids
    ]

    decades = sorted(per_decade, key=lambda k: (k == "unknown", k))
    decade_labels = [gettext("build year unknown") if k == "unknown" else k for k in decades]
    total_dwellings = sum(dw_b.values())
    grid_labels: list[str] = [g["name"] for g in grid_rows]
    grid_values: list[int] = [g["households"] for g in grid_rows]
    if per_grid.get(None, {}).get("households"):
        grid_labels.append("—")
        grid_values.append(per_grid[None]["households"])
    return {
        "figures": {
            "compounds": len(compounds),
            "buildings": len(buildings),
            "dwellings": total_dwellings,
            "households": sum(hh_b.values()),
            "residents": residents,
            "grids": len(grids),
            "eligible_share": (Decimal(eligible_dwellings * 100) / total_dwellings).quantize(Decimal("0.1"))
            if total_dwellings
            else None,
        },
        "compounds": compound_rows,
        "grids": grid_rows,
        "unassigned_households": per_grid.get(None, {}).get("households", 0),
        "chart_decade": bar_chart(decade_labels, [per_decade[k] for k in decades], "households"),
        "chart_grid": bar_chart(grid_labels, grid_values, "households"),
    }


def community_features(user: User, community: m.Community) -> dict[str, Any]:
    """A FeatureCollection: compound polygons, grid polygons, building points (scoped)."""
    hh_b = households_by(user, "dwelling__building_id", dwelling__building__community=community)
    buildings: list[dict[str, Any]] = [
        dict(r)
        for r in scoped(user, Action.VIEW, m.Building.objects.filter(community=community)).values(
            "id", "name", "lat", "lon", "compound_id", "grid_id", "boundary"
        )
    ]
    features: list[dict[str, Any]] = []
    hh_compound: dict[int, int] = defaultdict(int)
    hh_grid: dict[int, int] = defaultdict(int)
    points_of_grid: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for b in buildings:
        h = hh_b.get(b["id"], 0)
        hh_compound[b["compound_id"]] += h
        if b["grid_id"]:
            hh_grid[b["grid_id"]] += h
            if b["lat"] is not None and b["lon"] is not None:
                points_of_grid[b["grid_id"]].append((b["lat"], b["lon"]))
    for c in scoped(user, Action.VIEW, m.Compound.objects.filter(community=community)).values(
        "id", "name", "lat", "lon", "boundary"
    ):
        geom = outline(c["boundary"], c["lat"], c["lon"], HALF_SIDE_M["compound"])
        if geom is not None:
            features.append(
                feature(
                    geom,
                    name=c["name"],
                    kind="compound",
                    households=hh_compound[c["id"]],
                    url=reverse("places:compound", args=[c["id"]]),
                )
            )
    for g in scoped(user, Action.VIEW, m.Grid.objects.filter(community=community)).values("id", "name", "boundary"):
        area: dict[str, Any] | None = g["boundary"] if is_area_geometry(g["boundary"]) else None
        pts = points_of_grid.get(g["id"])
        if area is None and pts:
            area = bbox_polygon(
                min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts), 40.0
            )
        if area is not None:
            features.append(
                feature(
                    area,
                    name=g["name"],
                    kind="grid",
                    households=hh_grid[g["id"]],
                    url=reverse("places:grid", args=[g["id"]]),
                )
            )
    features.extend(building_points(buildings, hh_b))
    return {"type": "FeatureCollection", "features": features}


def building_points(buildings: Iterable[dict[str, Any]], hh_b: dict[int, int]) -> list[dict[str, Any]]:
    out = []
    for b in buildings:
        if b["lat"] is None or b["lon"] is None:
            continue
        out.append(
            feature(
                {"type": "Point", "coordinates": [b["lon"], b["lat"]]},
                name=b["name"],
                kind="building",
                households=hh_b.get(b["id"], 0),
                url=reverse("places:building", args=[b["id"]]),
            )
        )
    return out


# --- Compound and grid ----------------------------------------------------------------------------


def building_rows(user: User, buildings: QuerySet[m.Building]) -> tuple[list[dict[str, Any]], dict[int, int]]:
    ids_qs = scoped(user, Action.VIEW, buildings)
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in ids_qs.values(
            "id",
            "name",
            "code",
            "storeys",
            "has_lift",
            "building_kind",
            "build_year",
            "lat",
            "lon",
            "boundary",
            "compound__name",
        )
    ]
    ids = [r["id"] for r in rows]
    units = _counts(m.Unit.objects.filter(building_id__in=ids), "building_id")
    dw = dwellings_by(user, "building_id", building_id__in=ids)
    hh = households_by(user, "dwelling__building_id", dwelling__building_id__in=ids)
    kinds = dict(m.Building.Kind.choices)
    for r in rows:
        r.update(
            units=units.get(r["id"], 0),
            dwellings=dw.get(r["id"], 0),
            households=hh.get(r["id"], 0),
            kind_label=kinds.get(r["building_kind"], r["building_kind"]),
            url=reverse("places:building", args=[r["id"]]),
        )
    return rows, hh


def compound_page(user: User, compound: m.Compound) -> dict[str, Any]:
    """A compound's building table, key figures and map (its outline and the buildings')."""
    rows, hh = building_rows(user, m.Building.objects.filter(compound=compound))
    features = []
    geom = outline(compound.boundary, compound.lat, compound.lon, HALF_SIDE_M["compound"])
    if geom is not None:
        features.append(
            feature(
                geom,
                name=compound.name,
                kind="compound",
                households=sum(hh.values()),
                url=reverse("places:compound", args=[compound.pk]),
            )
        )
    features += [
        feature(r["boundary"], name=r["name"], kind="footprint", households=r["households"], url=r["url"])
        for r in rows
        if is_area_geometry(r["boundary"])
    ]
    features += building_points(rows, hh)
    return {
        "rows": rows,
        "figures": {
            "buildings": len(rows),
            "dwellings": sum(r["dwellings"] for r in rows),
            "households": sum(hh.values()),
            "lifts": sum(1 for r in rows if r["has_lift"]),
        },
        "geojson": {"type": "FeatureCollection", "features": features},
    }


def grid_page(user: User, grid: m.Grid) -> dict[str, Any]:
    """A grid's buildings, its 1+3+N roster (leader first), area, key figures and map: the
    published boundary, else the padded box around its buildings."""
    rows, hh = building_rows(user, m.Building.objects.filter(grid=grid).select_related("compound"))
    members = list(scoped(user, Action.VIEW, m.GridMember.objects.filter(grid=grid)))
    order = [r.value for r in m.GridMember.Role]
    members.sort(key=lambda g: (order.index(g.role) if g.role in order else 99, g.name))
    m2 = polygon_area_m2(grid.boundary)
    area = {"m2": round(m2), "ha": f"{m2 / 10_000:.2f}"} if m2 else None
    geom = grid.boundary if is_area_geometry(grid.boundary) else None
    pts = [(r["lat"], r["lon"]) for r in rows if r["lat"] is not None and r["lon"] is not None]
    if geom is None and pts:
        geom = bbox_polygon(
            min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts), 40.0
        )
    features = (
        [
            feature(
                geom,
                name=grid.name,
                kind="grid",
                households=sum(hh.values()),
                url=reverse("places:grid", args=[grid.pk]),
            )
        ]
        if geom
        else []
    )
    features += building_points(rows, hh)
    return {
        "rows": rows,
        "members": members,
        "area": area,
        "figures": {
            "buildings": len(rows),
            "households": sum(hh.values()),
            "dwellings": sum(r["dwellings"] for r in rows),
        },
        "geojson": {"type": "FeatureCollection", "features": features},
    }


# --- Building -------------------------------------------------------------------------------------


@dataclass
class Cell:
    id: int
    number: str
    floor: int
    area: Decimal
    households: int
    developer: bool
    multi: bool = False
    owners: list[dict[str, Any]] = field(default_factory=list)

    @property
    def vacant(self) -> bool:
        return self.households == 0


def building_stack(user: User, building: m.Building, with_people: bool) -> dict[str, Any]:
    """Units and their floor stacks (top floor first), with owners (masked) when allowed."""
    dev = m.Ownership.objects.filter(dwelling=OuterRef("pk"), person__kind=m.Person.Kind.DEVELOPER)
    dwellings = (
        scoped(user, Action.VIEW, m.Dwelling.objects.filter(building=building))
        .annotate(n_households=Count("households"), developer=Exists(dev))
        .values("id", "unit_id", "number", "floor", "area", "n_households", "developer")
        .order_by("floor", "number")
    )
    cells: dict[int, Cell] = {}
    by_unit: dict[int, list[Cell]] = defaultdict(list)
    for d in dwellings:
        cell = Cell(d["id"], d["number"], d["floor"], d["area"], d["n_households"], d["developer"])
        cells[d["id"]] = cell
        by_unit[d["unit_id"]].append(cell)
    owners_shown = False
    if with_people:
        ownerships = list(
            scoped(user, Action.VIEW_PEOPLE, m.Ownership.objects.filter(dwelling__building=building)).values(
                "dwelling_id",
                "share",
                "person_id",
                "person__name",
                "person__kind",
                "person__id_number_masked",
                "person__phone_masked",
            )
        )
        person_ids = {o["person_id"] for o in ownerships}
        held = _counts(m.Ownership.objects.filter(person_id__in=person_ids), "person_id") if person_ids else {}
        for o in ownerships:
            owned = cells.get(o["dwelling_id"])
            if owned is None:
                continue
            owners_shown = True
            n = held.get(o["person_id"], 1)
            if n > 1 and o["person__kind"] == m.Person.Kind.PERSON:
                owned.multi = True
            owned.owners.append(
                {
                    "id": o["person_id"],
                    "name": o["person__name"],
                    "share": o["share"],
                    "id_number": o["person__id_number_masked"],
                    "phone": o["person__phone_masked"],
                    "dwellings": n,
                }
            )
    units: list[dict[str, Any]] = []
    for u in m.Unit.objects.filter(building=building, id__in=list(by_unit)).values("id", "number"):
        floors: dict[int, list[Cell]] = defaultdict(list)
        for c in by_unit[u["id"]]:
            floors[c.floor].append(c)
        cols = max((len(v) for v in floors.values()), default=1)
        units.append(
            {
                "number": u["number"],
                "cols": cols,
                "dwellings": by_unit[u["id"]],
                "floors": [{"floor": fl, "cells": floors[fl]} for fl in sorted(floors, reverse=True)],
            }
        )
    units.sort(key=lambda x: (len(x["number"]), x["number"]))
    all_cells = list(cells.values())
    return {
        "units": units,
        "owners_shown": owners_shown,
        "figures": {
            "units": len(units),
            "dwellings": len(all_cells),
            "households": sum(c.households for c in all_cells),
            "vacant": sum(1 for c in all_cells if c.vacant),
            "developer": sum(1 for c in all_cells if c.developer),
            "area": sum((c.area for c in all_cells), Decimal(0)),
        },
    }
