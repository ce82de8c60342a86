"""Reads of grid division (rules.md §4): the community a user may divide, its buildings with their
households, the grids it has, and the proposal and summary the division page shows.

Nothing here writes: the draft is signed and checked by ``services.division``, which publishes it
through places' ``write_grids``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count

from linli.accounts.permissions import get_or_404
from linli.accounts.roles import Action
from linli.core.errors import LinliError
from linli.core.types import User
from linli.governance.partition import divide, evaluate
from linli.places import models as places_models
from linli.places.codes import grid_code, number_west_to_east

MAX_GRIDS = 999

PALETTE = [
    "#1a56db",
    "#b3261e",
    "#137333",
    "#b06000",
    "#6b4fbb",
    "#00838f",
    "#c2185b",
    "#5d4037",
    "#7cb342",
    "#455a64",
    "#f4511e",
    "#3949ab",
]


def community(user: User, pk: int) -> places_models.Community:
    """The community to divide: 404 outside the user's scope, 403 inside it without EDIT."""
    return get_or_404(user, Action.EDIT, places_models.Community, pk=pk)


def band() -> tuple[int, int]:
    """The households a grid should have (LINLI_GRID_MIN_HOUSEHOLDS … LINLI_GRID_MAX_HOUSEHOLDS)."""
    return settings.LINLI_GRID_MIN_HOUSEHOLDS, settings.LINLI_GRID_MAX_HOUSEHOLDS


def buildings_of(community: places_models.Community) -> list[dict[str, Any]]:
    """The community's buildings with position and household count, in id order; a 400 naming the
    buildings without a position (they cannot be divided)."""
    rows = (
        places_models.Building.objects.filter(community=community)
        .annotate(households=Count("dwellings__households"))
        .order_by("pk")
        .values("pk", "name", "lat", "lon", "households", "compound__name")
    )
    out = [
        {
            "id": r["pk"],
            "name": r["name"],
            "compound": r["compound__name"],
            "lat": r["lat"],
            "lon": r["lon"],
            "households": int(r["households"]),
        }
        for r in rows
    ]
    missing = [r["name"] for r in out if r["lat"] is None or r["lon"] is None]
    if missing:
        names = "、".join(missing[:10])
        raise LinliError.one(
            "no_position",
            f"以下楼栋没有坐标,无法划分网格:{names}",
            f"These buildings have no position, so grids cannot be divided: {names}",
        )
    return out


def grid_seqs(community: places_models.Community) -> set[int]:
    """Sequence numbers of the grids the community has now (published or not)."""
    return set(places_models.Grid.objects.filter(community=community).values_list("seq", flat=True))


def propose(community: places_models.Community) -> dict[str, Any]:
    """A new draft: the community's buildings divided by ``partition.divide`` within the band."""
    rows = buildings_of(community)
    lo, hi = band()
    grids = divide(rows, lo, hi) if rows else []
    return {
        "community": community.pk,
        "buildings": [r["id"] for r in rows],
        # households per building when the division was made: a roster import in between changes
        # the grids' sizes, so publishing then is refused (409) and the division is run again
        "households": {str(r["id"]): r["households"] for r in rows},
        "grids": grids,
    }


@dataclass
class ProposedGrid:
    index: int  # position in draft["grids"]
    seq: int
    code: str
    name: str
    buildings: list[dict[str, Any]]
    households: int
    in_band: bool
    forced: bool  # one building above the maximum, alone by rule
    contiguous: bool
    colour: str = ""


@dataclass
class Summary:
    grids: list[ProposedGrid]
    rows: list[dict[str, Any]]
    grid_of: dict[int, int] = field(default_factory=dict)  # building id → seq

    @property
    def in_band(self) -> int:
        return sum(1 for g in self.grids if g.in_band)

    @property
    def warnings(self) -> list[ProposedGrid]:
        return [g for g in self.grids if not g.contiguous]


def sequence(grids: list[list[int]], rows: list[dict[str, Any]]) -> list[int]:
    """Sequence numbers (1-based) of the grids: west→east, north→south by grid centre."""
    by_id = {r["id"]: r for r in rows}
    centres = []
    for g in grids:
        pts = [by_id[b] for b in g]
        centres.append((sum(p["lat"] for p in pts) / len(pts), sum(p["lon"] for p in pts) / len(pts)))
    return number_west_to_east(centres)


def code_for(community: places_models.Community, seq: int) -> str:
    """The grid code of the community's ``seq``-th grid (rules.md §4)."""
    street = community.street
    return grid_code(street.district.code, street.code, community.code, seq)


def summarise(community: places_models.Community, draft: dict[str, Any], rows: list[dict[str, Any]]) -> Summary:
    """The draft's grids as the page shows them and publishing writes them: numbered, coded, named,
    sized against the band, checked for contiguity and coloured."""
    lo, hi = band()
    by_id = {r["id"]: r for r in rows}
    grids = [[b for b in g if b in by_id] for g in draft["grids"]]
    keep = [i for i, g in enumerate(grids) if g]
    seqs = sequence([grids[i] for i in keep], rows)
    out: list[ProposedGrid] = []
    grid_of: dict[int, int] = {}
    for i, seq in zip(keep, seqs, strict=True):
        g = grids[i]
        hh = sum(by_id[b]["households"] for b in g)
        forced = len(g) == 1 and hh > hi
        contiguous = len(g) < 2 or evaluate(rows, [g], lo, hi).all_contiguous
        code = code_for(community, seq) if seq <= MAX_GRIDS else ""
        out.append(
            ProposedGrid(
                index=i,
                seq=seq,
                code=code,
                name=f"{community.name}第{seq}网格",
                buildings=sorted((by_id[b] for b in g), key=lambda r: r["name"]),
                households=hh,
                in_band=lo <= hh <= hi,
                forced=forced,
                contiguous=contiguous,
            )
        )
        for b in g:
            grid_of[b] = seq
    out.sort(key=lambda pg: pg.seq)
    for pg in out:
        pg.colour = PALETTE[(pg.seq - 1) % len(PALETTE)]
    return Summary(out, rows, grid_of)
