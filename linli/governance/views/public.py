"""Pages where residents take part (issue 12 §9; docs/governance.md "Residents take part").

- ``public_map``: the public map of reported problems (no sign-in): a Leaflet map fed by
  ``public_geojson``, filters (category, status, community) and the same problems as a paged list
  for people who do not use maps.
- ``public_geojson``: the map's feed, bounded (``limit``, ``bbox``) and cached briefly.
- ``public_event``: the public page of one problem: category, status and its dates, compound and
  building, the "me too" count, the steps with their dates; "me too" and follow buttons.
- ``public_support`` / ``public_follow``: add or take back a "me too" / a follow (signed in; not
  signed in, the page's button leads to sign-in and back).
- ``public_following``: 我关注的问题, the reports the person follows.

Reads come from ``linli.governance.queries.public``, writes go through
``linli.governance.services.public``; nothing here shows personal data (the queries decide what is
public). A refusal (``LinliError``) comes back as the page with its message and its 4xx status.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import LinliError
from linli.core.paging import paginate
from linli.governance import permissions
from linli.governance.models import Event
from linli.governance.queries import public as q
from linli.governance.services import public as svc


def _crumbs(last: str | None = None) -> list[dict[str, Any]]:
    """首页 › 群众反映的问题 (› the page's own name)."""
    out: list[dict[str, Any]] = [
        {"name": _("Home"), "url": reverse("workbench:home")},
        {"name": _("Reported problems"), "url": reverse("governance:public_map") if last else None},
    ]
    return [*out, {"name": last, "url": None}] if last else out


@require_GET
def public_map(request: HttpRequest) -> HttpResponse:
    """The map and the list, narrowed by ``?category=&status=&community=`` (unknown values ignored)."""
    f = q.parse_filters(request.GET)
    page = paginate(request.GET, q.public_events(f), q.PER_PAGE, label=_("Reported problems"))
    query = f.query()
    ctx = {
        "filters": f,
        "rows": [q.row(e) for e in page.rows],
        "page": page,
        "statuses": q.statuses(),
        "categories": q.categories(),
        "communities": q.communities(),
        "geojson_url": reverse("governance:public_geojson") + (f"?{query}" if query else ""),
        "crumbs": _crumbs(),
        "filtered": bool(query),
        "map_limit": q.parse_limit(""),  # the feed's most (LINLI_PUBLIC_MAP_LIMIT)
    }
    return render(request, "governance/public/map.html", ctx)


@require_GET
def public_geojson(request: HttpRequest) -> JsonResponse:
    """The map's problems as GeoJSON: ``?bbox=west,south,east,north&limit=n`` plus the page's filters.
    A malformed bbox or limit is a 400 with a message in both languages."""
    try:
        bbox = q.parse_bbox(request.GET.get("bbox", ""))
        limit = q.parse_limit(request.GET.get("limit", ""))
    except LinliError as exc:
        return JsonResponse({"errors": [p.as_dict() for p in exc.problems]}, status=exc.status)
    data = q.geojson(q.parse_filters(request.GET), bbox, limit)
    resp = JsonResponse(data, content_type="application/geo+json")
    patch_cache_control(resp, public=True, max_age=q.cache_seconds())
    patch_vary_headers(resp, ["Accept-Language", "Cookie"])
    return resp


def _render_event(
    request: HttpRequest, event: Event, errors: list[dict[str, str]] | None = None, status: int = 200
) -> HttpResponse:
    r = q.row(event)
    ctx = {
        "event": event,
        "r": r,
        "steps": q.steps(event),
        "part": q.part(request.user, event),
        "errors": errors or [],
        "crumbs": _crumbs(f"#{event.pk} {r['category']}"),
        "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
        "highlight": request.GET.get("support") == "1",
    }
    return render(request, "governance/public/event.html", ctx, status=status)


@never_cache
@require_GET
def public_event(request: HttpRequest, pk: int) -> HttpResponse:
    """One problem as the public sees it; a voided one, or one of a category about a person, is a 404."""
    return _render_event(request, q.public_event(pk))


def _back(request: HttpRequest, event: Event) -> str:
    """Where to go after the form: ``next`` if it is a path on this site, else the public page (or the
    case page when the map does not show the case)."""
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    if permissions.is_public(event):
        return reverse("governance:public_event", args=[event.pk])
    return reverse("governance:event_detail", args=[event.pk])


def _refused(request: HttpRequest, event: Event, exc: LinliError) -> HttpResponse:
    texts = [{"zh": p.zh, "en": p.en} for p in exc.problems]
    if permissions.is_public(event):
        return _render_event(request, q.public_event(event.pk), texts, exc.status)
    ctx = {"errors": texts, "back": _back(request, event), "crumbs": _crumbs(f"#{event.pk}")}
    return render(request, "governance/public/refused.html", ctx, status=exc.status)


def _take_part(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    if not request.user.is_authenticated:
        # signing in comes back to the problem's page, where the button is
        return redirect_to_login(reverse("governance:public_event", args=[pk]))
    event = q.event_to_take_part(request.user, pk)
    do = request.POST.get("do", "")
    try:
        if do not in ("add", "remove"):
            raise LinliError.one("bad_choice", "未知的操作。", "Unknown action.")
        if what == "support":
            changed = svc.support(request.user, event) if do == "add" else svc.unsupport(request.user, event)
        else:
            changed = svc.follow(request.user, event) if do == "add" else svc.unfollow(request.user, event)
    except LinliError as exc:
        return _refused(request, event, exc)
    said = {
        ("support", "add", True): _("Thank you: your “me too” is counted, and you follow this problem now."),
        ("support", "add", False): _("Your “me too” was counted already."),
        ("support", "remove", True): _("Your “me too” is taken back."),
        ("support", "remove", False): _("You had not said “me too” on this problem."),
        ("follow", "add", True): _("You follow this problem: you are told when its status changes."),
        ("follow", "add", False): _("You follow this problem already."),
        ("follow", "remove", True): _("You no longer follow this problem."),
        ("follow", "remove", False): _("You were not following this problem."),
    }[(what, do, changed)]
    if changed:
        messages.success(request, said)
    else:
        messages.info(request, said)
    return HttpResponseRedirect(_back(request, event))


@never_cache
@require_POST
def public_support(request: HttpRequest, pk: int) -> HttpResponse:
    """Add (``do=add``) or take back (``do=remove``) the signed-in person's "me too"."""
    return _take_part(request, pk, "support")


@never_cache
@require_POST
def public_follow(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow (``do=add``) or stop following (``do=remove``) a problem."""
    return _take_part(request, pk, "follow")


@never_cache
@login_required
@require_GET
def public_following(request: HttpRequest) -> HttpResponse:
    """我关注的问题: the problems the person follows (those they said "me too" on, too), paged."""
    page = paginate(request.GET, q.my_follows(request.user), q.PER_PAGE, label=_("Problems I follow"))
    ctx = {
        "rows": q.follow_rows(request.user, list(page.rows)),
        "page": page,
        "crumbs": [
            {"name": _("Home"), "url": reverse("workbench:home")},
            {"name": _("Problems I follow"), "url": None},
        ],
    }
    return render(request, "governance/public/following.html", ctx)
