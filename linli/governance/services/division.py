"""Grid division of a community: propose (``divide()``), adjust by hand, publish (rules.md §4).

Nothing is stored until publish: the draft — the community, the set of buildings it was made for
and the proposed grids — travels as a signed payload (``django.core.signing``) in a hidden form
field. ``publish()`` checks the signature, checks that the community's buildings are still the
same, and then writes grids and building assignments in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count

from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.core.errors import LinliError, Problem
from linli.governance.partition import divide, evaluate
from linli.places import models as m
from linli.places.codes import grid_code, number_west_to_east
from linli.places.geometry import hull_polygon

SALT = "linli.governance.division"
GRID_OUTLINE_PAD_M = 18  # metres around the outermost buildings (the demo's grids use the same)
MAX_GRIDS = 999


def band() -> tuple[int, int]:
    return settings.LINLI_GRID_MIN_HOUSEHOLDS, settings.LINLI_GRID_MAX_HOUSEHOLDS


def buildings_of(community: m.Community) -> list[dict[str, Any]]:
    """The community's buildings with position and household count, in id order."""
    rows = (
        m.Building.objects.filter(community=community)
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


def propose(community: m.Community) -> dict[str, Any]:
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


def sign(draft: dict[str, Any]) -> str:
    return signing.dumps(draft, salt=SALT, compress=True)


def unsign(token: str, community: m.Community) -> dict[str, Any]:
    """The draft from its signed form; a tampered or foreign draft is a 400."""
    try:
        draft = signing.loads(token or "", salt=SALT)
    except signing.BadSignature as exc:
        raise LinliError.one(
            "bad_draft",
            "网格划分草案无效或已被篡改,请重新划分。",
            "The division draft is invalid or was tampered with; run the division again.",
        ) from exc
    if not isinstance(draft, dict) or draft.get("community") != community.pk:
        raise LinliError.one(
            "bad_draft",
            "该草案不属于本社区,请重新划分。",
            "This draft belongs to another community; run the division again.",
        )
    grids = draft.get("grids")
    ids = draft.get("buildings")
    if not isinstance(grids, list) or not isinstance(ids, list):
        raise LinliError.one(
            "bad_draft", "网格划分草案无效,请重新划分。", "The division draft is invalid; run it again."
        )
    return draft


def check_roster(draft: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """The draft must have been made for exactly the community's current buildings (else 409)."""
    current = sorted(r["id"] for r in rows)
    assigned = sorted(b for g in draft["grids"] for b in g)
    if sorted(draft["buildings"]) != current or assigned != current:
        raise LinliError.one(
            "roster_changed",
            "社区的楼栋已发生变化,请重新划分网格。",
            "The community's buildings have changed since this division was made; run the division again.",
            status=409,
        )
    if draft.get("households") != {str(r["id"]): r["households"] for r in rows}:
        raise LinliError.one(
            "households_changed",
            "划分后各楼栋的户数已发生变化(如导入了新名册),请重新划分网格。",
            "Household counts have changed since this division was made (a roster import?); run the division again.",
            status=409,
        )


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


def sequence(community: m.Community, grids: list[list[int]], rows: list[dict[str, Any]]) -> list[int]:
    """Sequence numbers (1-based) of the grids: west→east, north→south by grid centre."""
    by_id = {r["id"]: r for r in rows}
    centres = []
    for g in grids:
        pts = [by_id[b] for b in g]
        centres.append((sum(p["lat"] for p in pts) / len(pts), sum(p["lon"] for p in pts) / len(pts)))
    return number_west_to_east(centres)


def code_for(community: m.Community, seq: int) -> str:
    street = community.street
    return grid_code(street.district.code, street.code, community.code, seq)


def summarise(community: m.Community, draft: dict[str, Any], rows: list[dict[str, Any]]) -> Summary:
    lo, hi = band()
    by_id = {r["id"]: r for r in rows}
    grids = [[b for b in g if b in by_id] for g in draft["grids"]]
    keep = [i for i, g in enumerate(grids) if g]
    seqs = sequence(community, [grids[i] for i in keep], rows)
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


def move(draft: dict[str, Any], summary: Summary, moves: dict[int, int]) -> dict[str, Any]:
    """Move buildings to other proposed grids: ``moves`` maps building id → target sequence."""
    index_of_seq = {g.seq: g.index for g in summary.grids}
    grids = [list(g) for g in draft["grids"]]
    for building, seq in moves.items():
        if building not in summary.grid_of or seq not in index_of_seq or summary.grid_of[building] == seq:
            continue
        src = index_of_seq[summary.grid_of[building]]
        grids[src].remove(building)
        grids[index_of_seq[seq]].append(building)
    return {**draft, "grids": [g for g in grids if g]}


@dataclass
class Published:
    created: int
    updated: int
    deleted: int
    kept: list[str]  # names of grids left without buildings but kept (they have a team or roles)


def publish(user: Any, community: m.Community, token: str, *, accept_split: bool = False) -> Published:
    """Write the draft: grids (code per rules.md §4), their outlines (the padded hull of their
    buildings) and every building's grid, all or nothing. A grid that a manual move left in pieces
    is refused unless ``accept_split`` (the person confirmed it: e.g. two blocks across a road that
    one worker serves anyway)."""
    from linli.accounts.models import RoleGrant

    authorize(user, Action.EDIT, community)
    draft = unsign(token, community)
    with transaction.atomic():
        m.Community.objects.select_for_update().filter(pk=community.pk).first()
        rows = buildings_of(community)
        check_roster(draft, rows)
        summary = summarise(community, draft, rows)
        split = summary.warnings
        if split and not accept_split:
            names = "、".join(g.name for g in split[:5])
            raise LinliError.one(
                "grid_not_contiguous",
                f"以下网格不连片:{names}。请调整楼栋,或勾选确认后再发布。",
                f"These grids are not contiguous: {names}. Move buildings, or confirm to publish anyway.",
            )
        if len(summary.grids) > MAX_GRIDS:
            raise LinliError.one(
                "too_many_grids", "一个社区最多 999 个网格。", "A community can have at most 999 grids."
            )
        existing = {g.seq: g for g in m.Grid.objects.filter(community=community)}
        codes = {pg.code for pg in summary.grids}
        clash = m.Grid.objects.filter(code__in=codes).exclude(community=community)
        clash = clash | m.Grid.objects.filter(community=community, code__in=codes).exclude(
            seq__in=[pg.seq for pg in summary.grids]
        )
        if clash.exists():
            names = "、".join(g.name for g in clash[:5])
            raise LinliError.one(
                "code_clash",
                f"网格编码与已有网格冲突:{names}",
                f"The grid codes clash with existing grids: {names}",
                status=409,
            )
        created = updated = 0
        target: dict[int, m.Grid] = {}
        for pg in summary.grids:
            grid = existing.get(pg.seq)
            outline = hull_polygon([(b["lat"], b["lon"]) for b in pg.buildings], GRID_OUTLINE_PAD_M)
            if grid is None:
                grid = m.Grid.objects.create(
                    community=community, seq=pg.seq, code=pg.code, name=pg.name, boundary=outline
                )
                created += 1
            else:
                grid.code, grid.name, grid.published, grid.boundary = pg.code, pg.name, True, outline
                grid.save(update_fields=["code", "name", "published", "boundary"])
                updated += 1
            target[pg.seq] = grid
        buildings = list(m.Building.objects.filter(community=community))
        for b in buildings:
            b.grid = target[summary.grid_of[b.pk]]
        m.Building.objects.bulk_update(buildings, ["grid"], batch_size=500)
        deleted = 0
        kept: list[str] = []
        for seq, grid in existing.items():
            if seq in target:
                continue
            busy = (
                m.GridMember.objects.filter(grid=grid).exists()
                or RoleGrant.objects.filter(place_kind="grid", place_id=grid.pk, revoked_at__isnull=True).exists()
            )
            if busy:
                grid.published = False
                grid.save(update_fields=["published"])
                kept.append(grid.name)
            else:
                grid.delete()
                deleted += 1
    return Published(created, updated, deleted, kept)


def problems_text(problems: list[Problem], language: str) -> list[str]:
    return [p.text(language) for p in problems]
