"""Grid division pages: preview a proposed division on the map, move buildings, publish.

The community comes through ``queries.division.community`` (``get_or_404`` with EDIT: outside the
user's scope → 404, a role without EDIT → 403). The draft is a signed payload in a hidden field;
nothing is stored until publish (``services.division.publish``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from linli.core import confirm, lang
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.governance.queries import division as q
from linli.governance.services import division as svc
from linli.places import models as places_models


def _geojson(summary: q.Summary) -> dict[str, Any]:
    features = []
    for pg in summary.grids:
        for b in pg.buildings:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [b["lon"], b["lat"]]},
                    "properties": {
                        "kind": "building",
                        "name": f"{b['compound']} {b['name']} · {pg.seq}",
                        "households": b["households"],
                        "grid": pg.seq,
                        "color": pg.colour,
                        "url": reverse("places:building", args=[b["id"]]),
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _render(
    request: HttpRequest,
    community: places_models.Community,
    draft: dict[str, Any] | None,
    errors: list[str],
    status: int = 200,
) -> HttpResponse:
    ctx: dict[str, Any] = {"place": community, "errors": errors, "draft": None}
    if draft is not None:
        rows = q.buildings_of(community)
        summary = q.summarise(community, draft, rows)
        lo, hi = q.band()
        ctx.update(
            {
                "draft": svc.sign(draft),
                "summary": summary,
                "geojson": _geojson(summary),
                "lo": lo,
                "hi": hi,
                "seqs": [pg.seq for pg in summary.grids],
            }
        )
    ctx["community_url"] = reverse("places:community", args=[community.pk])
    return render(request, "governance/division.html", ctx, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def division(request: HttpRequest, pk: int) -> HttpResponse:
    community = q.community(request.user, pk)
    try:
        if request.method == "GET":
            return _render(request, community, q.propose(community), [])
        draft, summary = svc.checked(community, request.POST.get("draft", ""))
        moves: dict[int, int] = {}
        for key in request.POST:
            value = request.POST.get(key, "")
            building, grid = as_id(key[2:]), as_id(value)
            if key.startswith("b-") and building is not None and grid is not None:
                moves[building] = grid
        return _render(request, community, svc.move(draft, summary, moves), [])
    except LinliError as exc:
        return _render(request, community, None, svc.problems_text(exc.problems, lang.code()), exc.status)


@never_cache
@login_required
@require_POST
def division_publish(request: HttpRequest, pk: int) -> HttpResponse:
    community = q.community(request.user, pk)
    accept_split = request.POST.get("accept_split") == "1"
    if not confirm.confirmed(request):
        # ask first, saying what publishing writes; a draft the service would refuse is refused now
        try:
            _draft, summary = svc.checked(community, request.POST.get("draft", ""))
        except LinliError as exc:
            return _render(request, community, None, svc.problems_text(exc.problems, lang.code()), exc.status)
        if not summary.warnings or accept_split:
            existing = q.grid_seqs(community)
            seqs = {pg.seq for pg in summary.grids}
            return confirm.ask(
                request,
                title=_("Publish the grid division of %(name)s?") % {"name": community.name},
                consequences=[
                    _(
                        "%(grids)d grids are written (%(new)d new, %(kept)d updated) and every one of the "
                        "community's %(buildings)d buildings is moved to its grid."
                    )
                    % {
                        "grids": len(seqs),
                        "new": len(seqs - existing),
                        "kept": len(seqs & existing),
                        "buildings": len(summary.rows),
                    },
                    _(
                        "%(gone)d existing grids get no building: they are removed, unless they still have a grid "
                        "team or role holders."
                    )
                    % {"gone": len(existing - seqs)},
                    _("Grid codes (rules.md §4) are used on signs, rosters and events; they cannot be taken back."),
                ],
                button=_("Yes, publish the division"),
                cancel_url=reverse("governance:division", args=[community.pk]),
                crumbs=[{"name": community.name, "url": reverse("places:community", args=[community.pk])}],
            )
    try:
        result = svc.publish(request.user, community, request.POST.get("draft", ""), accept_split=accept_split)
    except LinliError as exc:
        return _render(request, community, None, svc.problems_text(exc.problems, lang.code()), exc.status)
    messages.success(
        request,
        _("Division published: %(created)d grids created, %(updated)d updated, %(deleted)d removed.")
        % {"created": result.created, "updated": result.updated, "deleted": result.deleted},
    )
    if result.kept:
        messages.warning(
            request,
            _("Kept, unpublished, because they still have a grid team or role holders: %(names)s")
            % {"names": "、".join(result.kept)},
        )
    return redirect("places:community", pk=community.pk)
