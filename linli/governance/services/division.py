"""Grid division of a community: propose (``queries.division.propose``), adjust by hand, publish
(rules.md §4).

Nothing is stored until publish: the draft — the community, the set of buildings it was made for
and the proposed grids — travels as a signed payload (``django.core.signing``) in a hidden form
field. ``publish()`` checks the signature, checks that the community's buildings are still the
same, and then has places write the grids and building assignments in one transaction
(``linli.places.services.write_grids``: grids and buildings are places' rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import transaction

from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.core.errors import LinliError, Problem
from linli.core.types import User
from linli.governance.queries import division as q
from linli.places import models as places_models
from linli.places import services as places_services
from linli.places.geometry import hull_polygon

SALT = "linli.governance.division"
GRID_OUTLINE_PAD_M = 18  # metres around the outermost buildings (the demo's grids use the same)


def sign(draft: dict[str, Any]) -> str:
    return signing.dumps(draft, salt=SALT, compress=True)


def unsign(token: str, community: places_models.Community) -> dict[str, Any]:
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


def checked(community: places_models.Community, token: str) -> tuple[dict[str, Any], q.Summary]:
    """The signed draft ``token`` (``unsign``), checked against the community's buildings now
    (``check_roster``), and its summary."""
    draft = unsign(token, community)
    rows = q.buildings_of(community)
    check_roster(draft, rows)
    return draft, q.summarise(community, draft, rows)


def move(draft: dict[str, Any], summary: q.Summary, moves: dict[int, int]) -> dict[str, Any]:
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


def publish(user: User, community: places_models.Community, token: str, *, accept_split: bool = False) -> Published:
    """Write the draft: grids (code per rules.md §4), their outlines (the padded hull of their
    buildings) and every building's grid, all or nothing (places' ``write_grids``). A grid that a
    manual move left in pieces is refused unless ``accept_split`` (the person confirmed it: e.g. two
    blocks across a road that one worker serves anyway)."""
    authorize(user, Action.EDIT, community)
    draft = unsign(token, community)
    with transaction.atomic():
        places_models.Community.objects.select_for_update().filter(pk=community.pk).first()
        rows = q.buildings_of(community)
        check_roster(draft, rows)
        summary = q.summarise(community, draft, rows)
        split = summary.warnings
        if split and not accept_split:
            names = "、".join(g.name for g in split[:5])
            raise LinliError.one(
                "grid_not_contiguous",
                f"以下网格不连片:{names}。请调整楼栋,或勾选确认后再发布。",
                f"These grids are not contiguous: {names}. Move buildings, or confirm to publish anyway.",
            )
        if len(summary.grids) > q.MAX_GRIDS:
            raise LinliError.one(
                "too_many_grids", "一个社区最多 999 个网格。", "A community can have at most 999 grids."
            )
        plans = [
            places_services.GridPlan(
                seq=pg.seq,
                code=pg.code,
                name=pg.name,
                boundary=hull_polygon([(b["lat"], b["lon"]) for b in pg.buildings], GRID_OUTLINE_PAD_M),
                buildings=tuple(b["id"] for b in pg.buildings),
            )
            for pg in summary.grids
        ]
        written = places_services.write_grids(user, community, plans)
    return Published(written.created, written.updated, written.deleted, written.kept)


def problems_text(problems: list[Problem], language: str) -> list[str]:
    return [p.text(language) for p in problems]
