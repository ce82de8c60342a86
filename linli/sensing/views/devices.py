"""Pages of devices and lifts (issue 13 §5): the device list and map of a place, the per-community
counts, a device's page with its charts, the lift page with maintenance due, the list of lifts.

Seeing is ``view`` (``SEE_DEVICES``) through ``get_or_404``/``scoped``: outside the scope 404.
Issuing a device token and recording a maintenance visit need ``edit`` (the services check it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.permissions import can
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.paging import paginate
from linli.sensing.permissions import EDIT_DEVICES
from linli.sensing.queries import devices as q
from linli.sensing.services import devices as svc

PER_PAGE = 50


def _crumbs(*items: tuple[str, str | None]) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("workbench:home")}]
    crumbs += [{"name": name, "url": url} for name, url in items]
    return crumbs


def _list(request: HttpRequest, *, place: Any = None, kind: str = "") -> HttpResponse:
    f = q.Filters.read(request.GET)
    path = place.path if place is not None else ""
    qs = q.devices(request.user, path=path, filters=f)
    page = paginate(request.GET, qs, PER_PAGE, anchor="#devices-h")
    page = replace(page, rows=q.rows(page.rows))
    counts = q.community_counts(request.user, path=path)
    title = _("Devices") if place is None else _("Devices of %(place)s") % {"place": place.name}
    ctx = {
        "place": place,
        "place_kind": kind,
        "title": title,
        "page": page,
        "filters": f,
        "kinds": q.kind_labels(),
        "features": q.map_features(qs),
        "legend": [("online", _("online")), ("offline", _("offline")), ("alarm", _("open alarm"))],
        "map_limit": q.MAP_LIMIT,
        "counts": counts,
        "chart": q.counts_chart(counts),
        "can_import": place is not None and kind == "community" and can(request.user, EDIT_DEVICES, place),
        "import_url": reverse("sensing:device_import", args=[kind, place.pk]) if place is not None else "",
        "crumbs": _crumbs(
            (_("Devices"), reverse("sensing:device_list") if place is not None else None),
            *([(place.name, None)] if place is not None else []),
        ),
    }
    return render(request, "sensing/devices/list.html", ctx)


@login_required
@require_GET
def device_list(request: HttpRequest) -> HttpResponse:
    """Every device the user may see, with the per-community counts and the map."""
    return _list(request)


@login_required
@require_GET
def place_devices(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The devices of one community, compound or building."""
    place = q.place_or_404(request.user, kind, pk)
    return _list(request, place=place, kind=kind)


@login_required
@require_GET
def device_counts(request: HttpRequest) -> HttpResponse:
    """Per community in scope: devices by kind online / offline, lifts with open faults."""
    counts = q.community_counts(request.user)
    ctx = {
        "counts": counts,
        "chart": q.counts_chart(counts),
        "kinds": q.kind_labels(),
        "crumbs": _crumbs((_("Devices"), reverse("sensing:device_list")), (_("Counts by community"), None)),
    }
    return render(request, "sensing/devices/counts.html", ctx)


def _device_ctx(request: HttpRequest, device: Any) -> dict[str, Any]:
    range_key, charts = q.series(device, str(request.GET.get("range", "24h")))
    open_, recent = q.alarms_of(device)
    return {
        "device": device,
        "place": q.place_label(device),
        "profile": q.profile_name(device.profile),
        "state": "alarm" if open_ else ("online" if device.online else "offline"),
        "channels": q.channels_of(device),
        "charts": charts,
        "range": range_key,
        "ranges": [("24h", _("24 hours")), ("7d", _("7 days")), ("30d", _("30 days"))],
        "open_alarms": [(a, q.alarm_url(a)) for a in open_],
        "recent_alarms": [(a, q.alarm_url(a)) for a in recent],
        "is_lift": hasattr(device, "lift"),
        "can_edit": can(request.user, EDIT_DEVICES, device),
        "new_token": None,
        "crumbs": _crumbs(
            (_("Devices"), reverse("sensing:device_list")),
            (device.community.name, reverse("sensing:place_devices", args=["community", device.community_id])),
            (device.name or device.code, None),
        ),
    }


@login_required
@never_cache
@require_GET
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A device: place, profile, channels with their last values, charts, alarms, token prefix."""
    device = q.device_or_404(request.user, pk)
    return render(request, "sensing/devices/detail.html", _device_ctx(request, device))


@login_required
@never_cache
@require_POST
def device_token(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a new token of the device's own (EDIT): shown once, on this answer only."""
    device = q.device_or_404(request.user, pk)
    raw = svc.issue_device_token(request.user, device)
    ctx = _device_ctx(request, device)
    ctx["new_token"] = raw
    return render(request, "sensing/devices/detail.html", ctx)


# --- lifts -------------------------------------------------------------------------------------


@login_required
@require_GET
def lift_list(request: HttpRequest) -> HttpResponse:
    """The lifts in scope, maintenance overdue first."""
    rows = q.lifts(request.user)
    page = paginate(request.GET, rows, PER_PAGE)
    ctx = {
        "page": page,
        "overdue": sum(1 for r in rows if r["due"].overdue),
        "total": len(rows),
        "today": clock.today(),
        "crumbs": _crumbs((_("Devices"), reverse("sensing:device_list")), (_("Lifts"), None)),
    }
    return render(request, "sensing/devices/lifts.html", ctx)


def _lift_ctx(request: HttpRequest, lift: Any) -> dict[str, Any]:
    device = lift.device
    trapped = q.trapped_of(device)
    today = clock.today()
    return {
        "lift": lift,
        "device": device,
        "place": q.place_label(device),
        "status": q.lift_status(device),
        "due": q.due_of(lift, today),
        "today": today,
        "faults": [(a, q.alarm_url(a)) for a in q.faults_of(device)],
        "trapped": trapped,
        "durations": {
            "ack": q.duration_text(trapped.median_ack_s),
            "clear": q.duration_text(trapped.median_clear_s),
            "dispatch": q.duration_text(trapped.median_dispatch_s),
            "closed": q.duration_text(trapped.median_closed_s),
        },
        "incidents": [
            {
                "i": i,
                "ack": q.duration_text(i.ack_s),
                "clear": q.duration_text(i.clear_s),
                "dispatch": q.duration_text(i.dispatch_s),
                "closed": q.duration_text(i.closed_s),
            }
            for i in trapped.incidents
        ],
        "visits": q.maintenance_of(lift),
        "can_record": can(request.user, EDIT_DEVICES, lift),
        "form": {"done_on": today.isoformat(), "company": lift.maintenance_company, "note": ""},
        "errors": [],
        "crumbs": _crumbs(
            (_("Devices"), reverse("sensing:device_list")),
            (_("Lifts"), reverse("sensing:lift_list")),
            (lift.register_no, None),
        ),
    }


@login_required
@never_cache
@require_GET
def lift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A lift: its papers, live status, faults, trapped incidents and response times, maintenance."""
    lift = q.lift_or_404(request.user, pk)
    return render(request, "sensing/devices/lift.html", _lift_ctx(request, lift))


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and len(text) <= 10 else None
    except ValueError:
        return None


@login_required
@never_cache
@require_http_methods(["POST"])
def lift_maintenance(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a maintenance visit (EDIT at the lift's place)."""
    lift = q.lift_or_404(request.user, pk)
    done_on = _day(str(request.POST.get("done_on", "")))
    company = str(request.POST.get("company", ""))[:500]
    note = str(request.POST.get("note", ""))[:5000]
    try:
        svc.record_maintenance(request.user, lift, done_on, company, note)
    except LinliError as exc:
        ctx = _lift_ctx(request, lift)
        ctx["errors"] = exc.problems
        ctx["form"] = {"done_on": str(request.POST.get("done_on", ""))[:10], "company": company, "note": note}
        return render(request, "sensing/devices/lift.html", ctx, status=exc.status)
    messages.success(request, _("The maintenance visit was recorded."))
    return HttpResponseRedirect(reverse("sensing:lift_detail", args=[lift.pk]) + "#maintenance-h", status=303)
