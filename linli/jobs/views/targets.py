"""Employment targets pages (issue 14 §7, docs/jobs.md "Employment targets"): the figures of a
district or street for a year with completion and trend charts, the table per street, the entries
with their sources, the forms to set targets and enter figures, and the .xlsx export (a run).

Staff with ``jobs`` at a district or street only: another place is a 404; a signed-in account that
keeps no district's or street's figures gets a 403 (there is no object whose existence could leak).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core import clock
from linli.core.errors import LinliError
from linli.core.exports import start_page
from linli.core.ids import as_int
from linli.core.lang import pick
from linli.core.middleware import error_response
from linli.core.paging import paginate
from linli.jobs import permissions, tasks
from linli.jobs.models import Metric, TargetEntry
from linli.jobs.permissions import SERVE
from linli.jobs.queries import targets as q
from linli.jobs.services import targets as svc
from linli.runs import services as runs_services

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ENTRIES_PER_PAGE = 20


def _month(m: int) -> str:
    return pick(f"{m}月", MONTHS_EN[m - 1])


def _home_url() -> str:
    try:
        return reverse("jobs:home")
    except NoReverseMatch:  # the app's home page is another part of issue 14
        return ""


def _places(request: HttpRequest) -> list[q.Place]:
    places = q.places_for(request.user)
    if not places:
        raise PermissionDenied("no district or street whose employment figures this account keeps")
    return places


def _year(raw: object, default: int) -> int:
    if raw is None or str(raw).strip() == "":
        return default
    year = as_int(raw, lo=q.FIRST_YEAR, hi=q.last_year())
    if year is None:
        raise LinliError.one(
            "bad_year",
            f"年份应在 {q.FIRST_YEAR} 至 {q.last_year()} 之间。",
            f"The year must be between {q.FIRST_YEAR} and {q.last_year()}.",
        )
    return year


def _day(raw: object) -> date | None:
    try:
        return date.fromisoformat(str(raw or "").strip()[:10])
    except ValueError:
        return None


def page_url(place: q.Place, year: int, anchor: str = "") -> str:
    return reverse("jobs:targets") + "?" + urlencode({"place": q.place_key(place), "year": str(year)}) + anchor


def _chart(f: q.Figure) -> dict[str, Any]:
    return {
        "labels": [_month(m) for m in range(1, q.MONTHS + 1)],
        "actual": f.cumulative,
        "line": f.line,
        "target": f.target,
    }


def _context(request: HttpRequest, place: q.Place, year: int, places: list[q.Place]) -> dict[str, Any]:
    today = clock.today()
    user = request.user
    figures, streets = q.page_figures(place, year, today)
    entries = paginate(
        request.GET,
        q.entries(place, year),
        ENTRIES_PER_PAGE,
        anchor="#entries-h",
        label=pgettext("employment targets", "Entries"),
    )
    names = q.place_names({e.path for e in entries})
    may = permissions.withdrawable(user, place, entries, today)
    rows = [{"e": e, "place": names.get(e.path, ""), "may_withdraw": e.pk in may} for e in entries]
    return {
        "place": place,
        "place_key": q.place_key(place),
        "year": year,
        "today": today,
        "places": [(q.place_key(p), p) for p in places],
        "years": list(range(q.last_year(today), max(q.FIRST_YEAR, today.year - 6) - 1, -1)),
        "figures": figures,
        "charts": [
            (f, f"trend-{f.metric}", _chart(f), [{**m, "label": _month(m["month"])} for m in f.months()])
            for f in figures
        ],
        "streets": streets,
        "entries": entries,
        "entry_rows": rows,
        "metrics": Metric.choices,
        "export_url": reverse("jobs:targets_export")
        + "?"
        + urlencode({"place": q.place_key(place), "year": str(year)}),
        "expected": q.elapsed_share(year, today),
        "target_form": {"year": str(year)},
        "entry_form": {"on": today.isoformat()},
        "errors": [],
        "target_errors": [],
        "entry_errors": [],
        "crumbs": [
            {"name": pgettext("employment targets", "Employment"), "url": _home_url()},
            {"name": _("Employment targets"), "url": ""},
        ],
    }


@never_cache
@login_required
@require_GET
def targets(request: HttpRequest) -> HttpResponse:
    """The figures of one place the user keeps (``?place=street-3&year=2026``; the first place and
    this year by default)."""
    places = _places(request)
    raw = request.GET.get("place")
    place = q.place_or_404(request.user, str(raw)) if raw else places[0]
    try:
        year = _year(request.GET.get("year"), clock.today().year)
    except LinliError as exc:
        ctx = _context(request, place, clock.today().year, places)
        ctx["errors"] = exc.problems
        return render(request, "jobs/targets/targets.html", ctx, status=exc.status)
    return render(request, "jobs/targets/targets.html", _context(request, place, year, places))


def _refused(
    request: HttpRequest, place: q.Place, year: int, exc: LinliError, key: str, form: dict[str, Any]
) -> HttpResponse:
    places = _places(request)
    ctx = _context(request, place, year, places)
    ctx[f"{key}_errors"] = exc.problems
    ctx[f"{key}_form"] = form
    return render(request, "jobs/targets/targets.html", ctx, status=exc.status)


@never_cache
@login_required
@require_POST
def set_target(request: HttpRequest) -> HttpResponse:
    """Set a year's target of one figure for the place (``services.targets.set_target``)."""
    _places(request)
    place = q.place_or_404(request.user, str(request.POST.get("place", "")))
    form = {k: str(request.POST.get(k, ""))[:20] for k in ("year", "metric", "target")}
    year = as_int(form["year"], lo=q.FIRST_YEAR, hi=q.last_year())
    target = as_int(form["target"], lo=-(10**12), hi=10**12)
    try:  # a malformed year or number is None: the service refuses it with its own message
        row = svc.set_target(request.user, place, year, form["metric"], target)  # type: ignore[arg-type]
    except LinliError as exc:
        return _refused(request, place, year or clock.today().year, exc, "target", form)
    label = dict(Metric.choices).get(row.metric, row.metric)
    messages.success(
        request,
        _("Target set: %(figure)s, %(year)s — %(n)s people.")
        % {"figure": label, "year": row.year, "n": f"{row.target:,}"},
    )
    return HttpResponseRedirect(page_url(place, row.year, "#set-h"), status=303)


@never_cache
@login_required
@require_POST
def add_entry(request: HttpRequest) -> HttpResponse:
    """Enter a figure with its source for the place (``services.targets.add_entry``)."""
    _places(request)
    place = q.place_or_404(request.user, str(request.POST.get("place", "")))
    form = {
        "metric": str(request.POST.get("metric", ""))[:20],
        "count": str(request.POST.get("count", ""))[:20],
        "on": str(request.POST.get("on", ""))[:10],
        "source": str(request.POST.get("source", ""))[:400],
    }
    page_year = as_int(request.POST.get("year"), lo=q.FIRST_YEAR, hi=q.last_year()) or clock.today().year
    count = as_int(form["count"], lo=-(10**12), hi=10**12)
    try:
        entry = svc.add_entry(request.user, place, form["metric"], count, _day(form["on"]), form["source"])  # type: ignore[arg-type]
    except LinliError as exc:
        return _refused(request, place, page_year, exc, "entry", form)
    messages.success(
        request,
        _("Entry recorded: %(n)s people on %(on)s (source: %(source)s).")
        % {"n": f"{entry.count:,}", "on": entry.on.isoformat(), "source": entry.source},
    )
    return HttpResponseRedirect(page_url(place, entry.on.year, "#entries-h"), status=303)


@never_cache
@login_required
@require_POST
def withdraw_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw an entry made in error (``services.targets.remove_entry``), back to the page it was
    withdrawn from (``place`` and ``year`` of the form, if the user keeps that place)."""
    _places(request)
    entry = q.entry_or_404(request.user, pk)
    back_place: q.Place | None = None
    raw = request.POST.get("place")
    if raw:
        back_place = q.place_or_404(request.user, str(raw))
    year = as_int(request.POST.get("year"), lo=q.FIRST_YEAR, hi=q.last_year()) or entry.on.year
    try:
        svc.remove_entry(request.user, entry, str(request.POST.get("reason", ""))[:400])
    except LinliError as exc:
        place = back_place or _entry_place(request, entry)
        return _refused(request, place, year, exc, "entry", {"on": clock.today().isoformat()})
    messages.success(request, _("The entry was withdrawn; it no longer counts."))
    return HttpResponseRedirect(page_url(back_place or _entry_place(request, entry), year, "#entries-h"), status=303)


def _entry_place(request: HttpRequest, entry: TargetEntry) -> q.Place:
    for place in _places(request):
        if place.path == entry.path:
            return place
    return _places(request)[0]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """The place's figures for the year as .xlsx, made in the background: ``GET`` shows the button,
    ``POST`` starts the run (``tasks.export_targets``) and redirects to its progress page."""
    _places(request)
    place = q.place_or_404(request.user, str(request.GET.get("place", "")))
    try:
        year = _year(request.GET.get("year"), clock.today().year)
    except LinliError as exc:
        return error_response(request, exc)
    title_zh = f"就业目标 {place.name} {year} 年(.xlsx)"
    title_en = f"Employment targets, {place.name}, {year} (.xlsx)"
    if request.method == "GET":
        return start_page(request, pick(title_zh, title_en), page_url(place, year))
    run = runs_services.start(
        request.user,
        "jobs.targets_export",
        tasks.export_targets,
        action=SERVE,
        target=place,
        title_zh=title_zh,
        title_en=title_en,
        place=q.place_key(place),
        year=year,
    )
    return HttpResponseRedirect(reverse("runs:detail", args=[run.pk]), status=303)
