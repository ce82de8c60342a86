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
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.models import AccessLog
from linli.accounts.permissions import can, get_or_404, scoped
from linli.accounts.queries import grants_with_places
from linli.accounts.roles import Action
from linli.accounts.services import log_access
from linli.accounts.services import reveal as reveal_value
from linli.core.errors import LinliError
from linli.core.net import client_ip
from linli.places import models as m
from linli.places import queries as q


def _kind_labels() -> dict[str, str]:
    return {
        "district": _("Districts"),
        "street": _("Streets"),
        "community": _("Communities"),
        "compound": _("Compounds"),
        "building": _("Buildings"),
        "grid": _("Grids"),
    }


def _crumbs(user: Any, ancestors: list[tuple[Model, str]], here: str) -> list[dict[str, Any]]:
    """Breadcrumbs: an ancestor is a link only if the user may view it."""
    out: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("places:home")}]
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


def _io(user: Any, obj: Model, kind: str) -> dict[str, Any]:
    """Import and export links the user's role allows here (one permission check each)."""
    labels = {
        "compounds": _("Export compounds"),
        "buildings": _("Export buildings"),
        "dwellings": _("Export dwellings"),
        "residents": _("Export residents"),
        "grids": _("Export grids"),
    }
    exports: list[tuple[str, str]] = []
    if can(user, Action.EXPORT, obj):
        whats = ["compounds", "buildings", "dwellings", "grids"]
        if can(user, Action.VIEW_PEOPLE, obj):
            whats.insert(2, "residents")
        exports = [(labels[w], reverse("places:io_export", args=[kind, obj.pk, w])) for w in whats]
    edit = kind == "community" and can(user, Action.EDIT, obj)
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
            "lang_en": (get_language() or "").startswith("en"),
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
        "crumbs": [{"name": _("Home"), "url": reverse("places:home")}, {"name": _("Places"), "url": None}],
    }
    hx = getattr(request, "htmx", None)
    if hx and not hx.boosted and not hx.history_restore_request:  # the live results only
        return render(request, "places/_results.html", ctx)
    return render(request, "places/browse.html", ctx)


@login_required
@require_GET
def district(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_or_404(request.user, Action.VIEW, m.District, pk=pk)
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
    obj = get_or_404(request.user, Action.VIEW, m.Street.objects.select_related("district"), pk=pk)
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
    obj = get_or_404(request.user, Action.VIEW, m.Community.objects.select_related("street__district"), pk=pk)
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
    obj = get_or_404(request.user, Action.VIEW, m.Community, pk=pk)
    response = JsonResponse(q.community_features(request.user, obj), json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/geo+json; charset=utf-8"
    return response


@login_required
@require_GET
def compound(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_or_404(request.user, Action.VIEW, m.Compound.objects.select_related("community__street__district"), pk=pk)
    rows, hh = q.building_rows(request.user, m.Building.objects.filter(compound=obj))
    features = []
    geom = q.outline(obj.boundary, obj.lat, obj.lon, q.HALF_SIDE_M["compound"])
    if geom is not None:
        features.append(
            q.feature(
                geom,
                name=obj.name,
                kind="compound",
                households=sum(hh.values()),
                url=reverse("places:compound", args=[obj.pk]),
            )
        )
    features += [
        q.feature(r["boundary"], name=r["name"], kind="footprint", households=r["households"], url=r["url"])
        for r in rows
        if q.is_area_geometry(r["boundary"])
    ]
    features += q.building_points(rows, hh)
    c = obj.community
    return render(
        request,
        "places/compound.html",
        {
            "place": obj,
            "rows": rows,
            "eligible": obj.renovation_eligible_by_age(),
            "io": _io(request.user, obj, "compound"),
            "legend": _legend("compound", "building"),
            "built_before": settings.LINLI_RENOVATION_BUILT_BEFORE_YEAR,
            "figures": {
                "buildings": len(rows),
                "dwellings": sum(r["dwellings"] for r in rows),
                "households": sum(hh.values()),
                "lifts": sum(1 for r in rows if r["has_lift"]),
            },
            "geojson": {"type": "FeatureCollection", "features": features},
            "crumbs": _crumbs(
                request.user, [(c.street.district, "district"), (c.street, "street"), (c, "community")], obj.name
            ),
        },
    )


@login_required
@require_GET
def building(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    qs = m.Building.objects.select_related("compound__community__street__district", "grid")
    try:
        obj = get_or_404(user, Action.VIEW, qs, pk=pk)
    except Http404:
        # A resident's role is held at a dwelling: they see their own dwellings of this building.
        found = qs.filter(pk=pk).first()
        if found is None or not scoped(user, Action.VIEW, m.Dwelling.objects.filter(building=found)).exists():
            raise
        obj = found
    with_people = (
        can(user, Action.VIEW_PEOPLE, obj)
        or scoped(user, Action.VIEW_PEOPLE, m.Dwelling.objects.filter(building=obj)).exists()
    )
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
            "can_reveal": with_people and can(user, Action.REVEAL, obj),
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
    obj = get_or_404(user, Action.VIEW, m.Grid.objects.select_related("community__street__district"), pk=pk)
    rows, hh = q.building_rows(user, m.Building.objects.filter(grid=obj).select_related("compound"))
    members = list(scoped(user, Action.VIEW, m.GridMember.objects.filter(grid=obj)))
    order = [r.value for r in m.GridMember.Role]
    members.sort(key=lambda g: (order.index(g.role) if g.role in order else 99, g.name))
    m2 = q.polygon_area_m2(obj.boundary)
    area = {"m2": round(m2), "ha": f"{m2 / 10_000:.2f}"} if m2 else None
    geom = obj.boundary if q.is_area_geometry(obj.boundary) else None
    pts = [(r["lat"], r["lon"]) for r in rows if r["lat"] is not None and r["lon"] is not None]
    if geom is None and pts:
        geom = q.bbox_polygon(
            min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts), 40.0
        )
    features = (
        [
            q.feature(
                geom, name=obj.name, kind="grid", households=sum(hh.values()), url=reverse("places:grid", args=[obj.pk])
            )
        ]
        if geom
        else []
    )
    features += q.building_points(rows, hh)
    c = obj.community
    return render(
        request,
        "places/grid.html",
        {
            "place": obj,
            "rows": rows,
            "members": members,
            "area": area,
            "legend": _legend("grid", "building"),
            "io": _io(user, obj, "grid"),
            "figures": {
                "buildings": len(rows),
                "households": sum(hh.values()),
                "dwellings": sum(r["dwellings"] for r in rows),
            },
            "community_url": reverse("places:community", args=[c.pk]) if can(user, Action.VIEW, c) else None,
            "geojson": {"type": "FeatureCollection", "features": features},
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
    person = m.Person.objects.filter(pk=pk).first()
    field = request.POST.get("field", "")
    reason = request.POST.get("reason", "")
    template = "places/_reveal.html" if getattr(request, "htmx", False) else "places/reveal.html"
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else reverse("places:home")
    ctx: dict[str, Any] = {"person_id": pk, "field": field, "back": back}
    try:
        if person is None:
            raise Http404("no such person")
        ctx["value"] = reveal_value(request.user, person, field, reason, ip=client_ip(request))
        ctx["name"] = person.name
        status = 200
    except LinliError as exc:
        en = (get_language() or "").startswith("en")
        ctx["errors"] = [p.en if en else p.zh for p in exc.problems]
        status = exc.status
    except Http404:
        ctx["errors"] = [_("Not found, or not within your scope.")]
        status = 404
    except PermissionDenied:
        ctx["errors"] = [_("Your role does not allow seeing full personal data here.")]
        status = 403
    return render(request, template, ctx, status=status)
