"""The command centre (指挥中心) pages: live map, open events, overdue list, rates over a period,
trend charts and the .xlsx export.

Everything is scoped once, by ``dashboard.permissions.events_of(user)``
(``permissions.scoped(user, Action.EVENTS, Event.objects.all())``): a street command centre sees its
street, the district its district, a grid worker their grid, a department's staff what was
dispatched to it. A signed-in user without EVENTS anywhere gets a 403 (there is no object whose
existence could leak). Bad period input is a bilingual 400. Figures are ``queries``; the export's
access log entry is ``services.log_export``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.roles import Action
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.exports import start_page
from linli.core.lang import pick
from linli.core.middleware import error_response
from linli.core.net import client_ip
from linli.dashboard import metrics, permissions, tasks
from linli.dashboard import queries as q
from linli.dashboard import services as svc
from linli.dashboard.export import run_target
from linli.runs import services as runs_services
from linli.sensing.models import Severity
from linli.sensing.queries import alarms as sensing_alarms


def _lang() -> str:
    return get_language() or "zh-hans"


def _period(request: HttpRequest) -> metrics.Period:
    return metrics.parse_period(
        request.GET.get("start"), request.GET.get("end"), request.GET.get("preset"), clock.today()
    )


def _period_query(period: metrics.Period) -> str:
    if period.preset:
        return f"preset={period.preset}"
    return f"start={period.first.isoformat()}&end={period.last.isoformat()}"


@never_cache
@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    events = permissions.events_of(request.user)
    lang = _lang()
    presets = [(k, pick(zh, en, lang)) for k, (zh, en) in metrics.PRESETS.items()]
    ctx: dict[str, Any] = {
        "presets": presets,
        "scope_label": q.scope_label(request.user, lang),
        "max_days": metrics.MAX_DAYS,
        "form": {k: request.GET.get(k, "")[:20] for k in ("start", "end", "preset")},
    }
    try:
        period = _period(request)
    except LinliError as exc:
        ctx["errors"] = exc.problems
        return render(request, "dashboard/dashboard.html", ctx, status=exc.status)
    now = clock.now()
    tz = timezone.get_current_timezone()
    # the live part (open counts, overdue list, map) from the events over indexes only open events
    # hit; the period's facts from the roll-up, brought up to date first if a few changes wait
    svc.catch_up()
    summary = q.open_summary(events, now, lang)
    # the tables per grid (hundreds of rows for a district) and the full overdue list are loaded
    # when opened (``part``): the page stays small
    rates, trend = q.period_figures(request.user, events, period, tz, now, lang, grids=False)
    ctx.update(
        {
            "period": period,
            "period_query": _period_query(period),
            "summary": summary,
            "overdue": q.overdue_list(events, now, q.OVERDUE_SHOWN),
            "overdue_all": q.OVERDUE_LIST,
            "parts": {
                k.replace("-", "_"): reverse("dashboard:part", args=[k]) + "?" + _period_query(period) for k in PARTS
            },
            "rates": rates,
            "trend": trend,
            "trend_rows": [{"label": r.label, "reported": r.reported, "closed": r.closed} for r in trend],
            "map_src": reverse("dashboard:map"),
            # the alarm layer (issue 13): open alarms of sensors and lifts in the same EVENTS scope
            "alarm_src": reverse("sensing:alarm_map") if sensing_alarms.sees_alarms(request.user) else "",
            "alarm_colours": [(label, sensing_alarms.SEVERITY_COLOURS[v]) for v, label in Severity.choices],
            "export_url": reverse("dashboard:export") + "?" + _period_query(period),
            "map_cap": q.MAP_CAP,
            "sector_colours": [(q.sector_name(k, lang), c) for k, c in q.SECTOR_COLOURS.items()],
            "now": now,
        }
    )
    if not period.preset:
        ctx["form"] = {"start": period.first.isoformat(), "end": period.last.isoformat(), "preset": ""}
    else:
        ctx["form"] = {"start": "", "end": "", "preset": period.preset}
    return render(request, "dashboard/dashboard.html", ctx)


#: the parts of the page loaded when opened: part → (title zh, title en)
PARTS = {
    "grids-open": ("按网格的在办事件", "Open events by grid"),
    "grids-rates": ("按网格的结案率", "Rates by grid"),
    "overdue": ("超期事件", "Overdue events"),
}


@never_cache
@login_required
@require_GET
def part(request: HttpRequest, name: str) -> HttpResponse:
    """One part of the page loaded on demand (htmx, when its ``<details>`` is opened): the tables per
    grid, or the longest-overdue list in full. Without htmx (the link inside, no JavaScript) the
    same table as a page of its own. Scoped as the page; a bad period is a bilingual 400."""
    events = permissions.events_of(request.user)
    if name not in PARTS:
        return error_response(request, LinliError.one("part", "没有这一部分。", "There is no such part.", 404))
    try:
        period = _period(request)
    except LinliError as exc:
        return error_response(request, exc)
    lang, now = _lang(), clock.now()
    ctx: dict[str, Any] = {"name": name, "period": period, "title": pick(*PARTS[name], lang)}
    if name == "grids-open":
        ctx["rows"] = q.open_by_grid(events, now, lang)
    elif name == "grids-rates":
        svc.catch_up()
        ctx["rows"] = q.period_grid_rates(
            request.user, events, period, timezone.get_current_timezone(), now, lang
        ).by_grid
    else:
        ctx["overdue"] = q.overdue_list(events, now)
    if getattr(request, "htmx", False):
        return render(request, "dashboard/_part.html", ctx)
    ctx["back"] = reverse("dashboard:index") + "?" + _period_query(period)
    return render(request, "dashboard/part.html", ctx)


@never_cache
@login_required
@require_GET
def map_json(request: HttpRequest) -> HttpResponse:
    """Open events for the live map (polled every 30 s): points, overdue first, capped."""
    events = permissions.events_of(request.user)
    return JsonResponse(q.map_points(events, clock.now(), _lang()))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """The period as .xlsx: per department, per grid, per category, and its events (no reporter
    data), made in the background: ``GET`` shows the button, ``POST`` starts the run
    (``tasks.export_period``) and redirects to its progress page."""
    user = request.user
    permissions.events_of(user)
    try:
        period = _period(request)
    except LinliError as exc:
        return error_response(request, exc)
    a, b = period.first.isoformat(), period.last.isoformat()
    title_zh, title_en = f"指挥中心导出 {a} 至 {b}(.xlsx)", f"Command centre export, {a} to {b} (.xlsx)"
    if request.method == "GET":
        return start_page(request, pick(title_zh, title_en), reverse("dashboard:index") + "?" + _period_query(period))
    run = runs_services.start(
        user,
        "dashboard.export",
        tasks.export_period,
        action=Action.EVENTS,
        target=run_target(user),
        title_zh=title_zh,
        title_en=title_en,
        first=a,
        last=b,
        preset=period.preset,
        ip=client_ip(request),
    )
    return HttpResponseRedirect(reverse("runs:detail", args=[run.pk]), status=303)
