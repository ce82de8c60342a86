"""The seeker's nearby jobs (issue 14 §3, jobs:nearby): the signed-in account's own seeker profile
matched against the live postings — a map (Leaflet, ``static/jobs/nearby.js``) of the approximate
home and the postings, and the same postings as a list, best first, with what matched. Filters: a
category (the kiosk's icons) and a radius (1/3/5/10/20 km; by default how far the seeker will
travel). Works without JavaScript: the list is the map's text alternative.

Without a seeker profile the page asks the account to create one (jobs:seeker_me).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from linli.accounts.permissions import authorize
from linli.core import lang
from linli.jobs.models import JobCategory
from linli.jobs.permissions import SEEK
from linli.jobs.queries import matching as q

RADII_KM = (1, 3, 5, 10, 20)
HOME_ROUND = 200  # the home on the map: rounded to 1/200° (about 500 m), never the dwelling


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the other side of the contract has not landed yet
        return ""


def _crumbs(here: str) -> list[dict[str, Any]]:
    return [
        {"name": _("Jobs"), "url": _url("jobs:home")},
        {"name": here, "url": None},
    ]


def _filters(request: HttpRequest, travel_m: int, categories: list[JobCategory]) -> tuple[int, Any, list[str]]:
    """(radius in metres, the category or None, the problems in the query string)."""
    bad: list[str] = []
    radius_m = travel_m
    raw = str(request.GET.get("radius", "")).strip()
    if raw:
        km = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else None
        if km in RADII_KM or (km is not None and km * 1000 == travel_m):
            radius_m = km * 1000
        else:
            bad.append(_("Choose a distance from the list (1, 3, 5, 10 or 20 km)."))
    category = None
    code = str(request.GET.get("category", "")).strip()[:40]
    if code:
        category = next((c for c in categories if c.code == code), None)
        if category is None:
            bad.append(_("There is no such kind of work; all kinds are shown."))
    return radius_m, category, bad


@login_required
@never_cache
@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """The signed-in seeker's best live postings near home, on a map and in a list."""
    seeker = q.own_seeker(request.user)
    if seeker is None:
        empty: dict[str, Any] = {
            "seeker": None,
            "profile_url": _url("jobs:seeker_me"),
            "crumbs": _crumbs(_("Jobs near me")),
        }
        return render(request, "jobs/nearby/nearby.html", empty)
    authorize(request.user, SEEK, seeker)
    categories = list(JobCategory.objects.filter(active=True))
    radius_m, category, bad = _filters(request, seeker.travel_m, categories)
    for text in bad:
        messages.error(request, text)
    item = q.seeker_item(seeker)
    found = q.nearby(seeker, radius_m=radius_m, category=category.pk if category else None) if item["skills"] else []
    names = q.skill_names()
    postings_index = q.postings_index()
    rows: list[dict[str, Any]] = []
    for posting, match in found:
        indexed = postings_index.get(posting.pk) or q.posting_item(posting)
        why = q.explain(item, indexed, match)
        url = _url("jobs:posting_detail", posting.pk)
        rows.append(
            {
                "posting": posting,
                "match": match,
                "why": why,
                "url": url,
                "shared": [names[c].label for c in why["shared"] if c in names],
            }
        )
    radii = [(km, f"{km} km") for km in RADII_KM]
    if seeker.travel_m % 1000 == 0 and seeker.travel_m // 1000 not in RADII_KM and 0 < seeker.travel_m <= 50_000:
        radii = sorted([*radii, (seeker.travel_m // 1000, f"{seeker.travel_m // 1000} km")])
    map_data = {
        "home": [round(seeker.lat * HOME_ROUND) / HOME_ROUND, round(seeker.lon * HOME_ROUND) / HOME_ROUND],
        "radius_m": radius_m,
        "home_label": _("Near your home (approximate)"),
        "postings": [
            {
                "n": i,
                "id": r["posting"].pk,
                "lat": r["posting"].lat,
                "lon": r["posting"].lon,
                "title": r["posting"].title,
                "employer": r["posting"].employer.name,
                "url": r["url"],
                "km": round(r["why"]["km"], 1),
                "percent": r["why"]["percent"],
            }
            for i, r in enumerate(rows, start=1)
        ],
    }
    ctx: dict[str, Any] = {
        "seeker": seeker,
        "has_skills": bool(item["skills"]),
        "rows": rows,
        "categories": categories,
        "category": category,
        "radius_km": radius_m / 1000,
        "radius_value": radius_m // 1000 if radius_m % 1000 == 0 else None,
        "radii": radii,
        "map_data": map_data,
        "profile_url": _url("jobs:seeker_me"),
        "english": lang.is_english(),
        "crumbs": _crumbs(_("Jobs near me")),
    }
    return render(request, "jobs/nearby/nearby.html", ctx, status=400 if bad else 200)
