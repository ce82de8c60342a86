"""Pages of the place tree: home, search, district … building, grid, and the logged reveal.

Every object comes through ``get_or_404`` (outside the user's scope → 404), every list through
``scoped``; personal data is shown masked and only to users with VIEW_PEOPLE, and each page view
that shows a roster is logged (AccessLog ``view_people``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.models import AccessLog
from linli.accounts.permissions import can
from linli.accounts.queries import grants_with_places
from linli.accounts.roles import Action
from linli.accounts.services import log_access
from linli.accounts.services import reveal as reveal_value
from linli.core import lang
from linli.core.errors import LinliError, Problem
from linli.core.forms import check_form
from linli.core.net import client_ip
from linli.core.paging import paginate
from linli.core.types import User
from linli.places import permissions
from linli.places.api import RevealSerializer
from linli.places.queries import tree as q

#: The reveal form's own message for a field the API's serializer refuses (the reveal service's
#: words; a short reason passes the serializer and the service answers ``reason_required``).
#: Buildings listed per page on a compound's and a grid's page (the map and figures show them all).
BUILDINGS_PER_PAGE = 30

_REVEAL_TEXTS = {
    "field": Problem("unknown_field", "只能查看证件号或电话。", "Only id_number or phone can be revealed."),
}


def _kind_labels() -> dict[str, str]:
    return {
        "district": _("Districts"),
        "street": _("Streets"),
        "community": _("Communities"),
        "compound": _("Compounds"),
        "building": _("Buildings"),
        "grid": _("Grids"),
    }


def _crumbs(user: User, ancestors: list[tuple[Model, str]], here: str) -> list[dict[str, Any]]:
    """Breadcrumbs: an ancestor is a link only if the user may view it."""
    out: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("workbench:home")}]
    for obj, kind in ancestors:
        url = reverse(f"places:{kind}", args=[obj.pk]) if can(user, Action.VIEW, obj) else None
        out.append({"name": str(obj), "url": url})
    out.append({"name": here, "url": None})
    return out


def _legend(*kinds: str) -> list[tuple[str, str]]:
    labels = {
        "street": _("Street"),
        "community": _("Community"),
        "compound": _("Compound"),
        "grid": _("Grid"),
        "building": _("Building"),
    }
    return [(k, labels[k]) for k in kinds]


def _io(user: User, obj: Model, kind: str) -> dict[str, Any]:
    """Import and export links the user's role allows here (one permission check each)."""
    labels = {
        "compounds": _("Export compounds"),
        "buildings": _("Export buildings"),
        "dwellings": _("Export dwellings"),
        "residents": _("Export residents"),
        "grids": _("Export grids"),
    }
    exports: list[tuple[str, str]] = []
    if permissions.may_export(user, obj):
        whats = ["compounds", "buildings", "dwellings", "grids"]
        if permissions.may_export_people(user, obj):
            whats.insert(2, "residents")
        exports = [(labels[w], reverse("places:io_export", args=[kind, obj.pk, w])) for w in whats]
    edit = permissions.may_import(user, obj, kind)
    import_url = reverse("places:io_import", args=[obj.pk]) if edit else None
    division_url = reverse("governance:division", args=[obj.pk]) if edit else None
    return {"exports": exports, "import_url": import_url, "division_url": division_url}


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    cards = []
    for item in grants_with_places(user):
        grant = item["grant"]
        cards.append({**item, "counts": q.grant_counts(user, grant)})
    districts = q.districts_with_counts(user) if user.is_superuser else []
    return render(
        request,
        "places/home.html",
        {
            "cards": cards,
            "districts": districts,
            "lang_en": lang.is_english(),
        },
    )


@login_required
@require_GET
def browse(request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "").strip()
    groups, total = q.search(request.user, term, _kind_labels())
    ctx = {
        "q": term,
        "groups": groups,
        "total": total,
        "limit": q.SEARCH_LIMIT,
        "crumbs": [{"name": _("Home"), "url": reverse("workbench:home")}, {"name": _("Places"), "url": None}],
    }
    hx = getattr(request, "htmx", None)
    if hx and not hx.boosted and not hx.history_restore_request:  # the live results only
        return render(request, "places/_results.html", ctx)
    return render(request, "places/browse.html", ctx)


@login_required
@require_GET
def district(request: HttpRequest, pk: int) -> HttpResponse:
    obj = q.place_or_404(request.user, "district", pk)
    data = q.children_of(request.user, obj)
    return render(
        request,
        "places/parent.html",
        {
            "place": obj,
            "kind_label": _("District"),
            "child_label": _("Streets"),
            "children_label": _("Communities"),
            "data": data,
            "legend": _legend("street"),
            "crumbs": _crumbs(request.user, [], obj.name),
            "io": _io(request.user, obj, "district"),
        },
    )


@login_required
@require_GET
def street(request: HttpRequest, pk: int) -> HttpResponse:
    obj = q.place_or_404(request.user, "street", pk)
    data = q.children_of(request.user, obj)
    return render(
        request,
        "places/parent.html",
        {
            "place": obj,
            "kind_label": _("Street"),
            "child_label": _("Communities"),
            "children_label": _("Compounds"),
            "data": data,
            "legend": _legend("community"),
            "io": _io(request.user, obj, "street"),
            "crumbs": _crumbs(request.user, [(obj.district, "district")], obj.name),
        },
    )


@login_required
@require_GET
def community(request: HttpRequest, pk: int) -> HttpResponse:
    obj = q.place_or_404(request.user, "community", pk)
    summary = q.community_summary(request.user, obj)
    return render(
        request,
        "places/community.html",
        {
            "place": obj,
            "s": summary,
            "legend": _legend("compound", "grid", "building"),
            "io": _io(request.user, obj, "community"),
            "built_before": settings.LINLI_RENOVATION_BUILT_BEFORE_YEAR,
            "crumbs": _crumbs(request.user, [(obj.street.district, "district"), (obj.street, "street")], obj.name),
        },
    )


@login_required
@require_GET
def community_geojson(request: HttpRequest, pk: int) -> HttpResponse:
    obj = q.place_or_404(request.user, "community", pk)
    response = JsonResponse(q.community_features(request.user, obj), json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/geo+json; charset=utf-8"
    return response


@login_required
@require_GET
def compound(request: HttpRequest, pk: int) -> HttpResponse:
    obj = q.place_or_404(request.user, "compound", pk)
    page = q.compound_page(request.user, obj)
    c = obj.community
    return render(
        request,
        "places/compound.html",
        {
            "place": obj,
            "rows": paginate(
                request.GET, page["rows"], BUILDINGS_PER_PAGE, label=_("Buildings"), anchor="#buildings-h"
            ),
            "eligible": obj.renovation_eligible_by_age(),
            "io": _io(request.user, obj, "compound"),
            "legend": _legend("compound", "building"),
            "built_before": settings.LINLI_RENOVATION_BUILT_BEFORE_YEAR,
            "figures": page["figures"],
            "geojson": page["geojson"],
            "crumbs": _crumbs(
                request.user, [(c.street.district, "district"), (c.street, "street"), (c, "community")], obj.name
            ),
        },
    )


@login_required
@require_GET
def building(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    obj = q.building_or_404(user, pk)
    with_people = permissions.sees_people_of(user, obj)
    stack = q.building_stack(user, obj, with_people)
    if with_people:
        log_access(user, AccessLog.What.VIEW_PEOPLE, obj, obj.path, ip=client_ip(request))
    c = obj.compound.community
    ancestors: list[tuple[Model, str]] = [
        (c.street.district, "district"),
        (c.street, "street"),
        (c, "community"),
        (obj.compound, "compound"),
    ]
    return render(
        request,
        "places/building.html",
        {
            "place": obj,
            "stack": stack,
            "with_people": with_people,
            "io": _io(user, obj, "building"),
            "can_reveal": permissions.may_reveal(user, obj, with_people),
            "grid_url": reverse("places:grid", args=[obj.grid_id])
            if obj.grid and can(user, Action.VIEW, obj.grid)
            else None,
            "crumbs": _crumbs(user, ancestors, f"{obj.compound.name} {obj.name}"),
        },
    )


@login_required
@require_GET
def grid(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    obj = q.place_or_404(user, "grid", pk)
    page = q.grid_page(user, obj)
    c = obj.community
    return render(
        request,
        "places/grid.html",
        {
            "place": obj,
            "rows": paginate(
                request.GET, page["rows"], BUILDINGS_PER_PAGE, label=_("Buildings"), anchor="#buildings-h"
            ),
            "members": page["members"],
            "area": page["area"],
            "legend": _legend("grid", "building"),
            "io": _io(user, obj, "grid"),
            "figures": page["figures"],
            "community_url": reverse("places:community", args=[c.pk]) if can(user, Action.VIEW, c) else None,
            "geojson": page["geojson"],
            "crumbs": _crumbs(
                user, [(c.street.district, "district"), (c.street, "street"), (c, "community")], obj.name
            ),
        },
    )


@never_cache
@login_required
@require_POST
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one full ID number or phone once, after the REVEAL check, logged with the reason."""
    person = q.person(pk)
    field = request.POST.get("field", "")
    template = "places/_reveal.html" if getattr(request, "htmx", False) else "places/reveal.html"
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else reverse("places:home")
    ctx: dict[str, Any] = {"person_id": pk, "field": field, "back": back}
    try:
        if person is None:
            raise Http404("no such person")
        v = check_form(RevealSerializer, {"field": field, "reason": request.POST.get("reason", "")}, _REVEAL_TEXTS)
        ctx["value"] = reveal_value(request.user, person, v["field"], v["reason"], ip=client_ip(request))
        ctx["name"] = person.name
        status = 200
    except LinliError as exc:
        ctx["errors"] = [lang.pick(p.zh, p.en) for p in exc.problems]
        status = exc.status
    except Http404:
        ctx["errors"] = [_("Not found, or not within your scope.")]
        status = 404
    except PermissionDenied:
        ctx["errors"] = [_("Your role does not allow seeing full personal data here.")]
        status = 403
    return render(request, template, ctx, status=status)
