"""Pages of alarms (issue 13 §5): the live alarm board, one alarm's page with its history and the
staff's acknowledge / clear forms, and the open alarms as GeoJSON for the command centre's map.

Scoped by ``queries.alarms`` (EVENTS): outside the scope a 404, without EVENTS anywhere a 403. The
board refreshes its list every 10 s with htmx (``_board.html`` alone for an htmx request); the
filters are in the URL, so a refresh keeps them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.permissions import can
from linli.core import clock, lang
from linli.core.errors import LinliError
from linli.sensing.models import Alarm, AlarmType, Severity
from linli.sensing.permissions import HANDLE_ALARMS
from linli.sensing.queries import alarms as q
from linli.sensing.services import alarms as svc


def _status_labels() -> dict[str, str]:
    return {
        "open": pgettext("alarm status", "Open (not cleared)"),
        "active_unack": pgettext("alarm status", "Active, not acknowledged"),
        "active_ack": pgettext("alarm status", "Active, acknowledged"),
        "cleared_unack": pgettext("alarm status", "Cleared, not acknowledged"),
        "cleared_ack": pgettext("alarm status", "Cleared and acknowledged"),
        "all": pgettext("alarm status", "All"),
    }


def _crumbs(*tail: tuple[str, str | None]) -> list[dict[str, str | None]]:
    return [
        {"name": _("Home"), "url": reverse("workbench:home")},
        *({"name": name, "url": url} for name, url in tail),
    ]


@never_cache
@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The alarm board: trapped passengers on top, counts per severity, the filtered list (paged)."""
    b = q.board(request.user, request.GET, label=_("Alarms"))
    labels = _status_labels()
    ctx: dict[str, Any] = {
        "b": b,
        "rows": [{"a": a, "status": labels[a.status]} for a in b.page],
        "trapped": [{"a": a, "status": labels[a.status]} for a in b.trapped],
        "severities": [(v, str(label)) for v, label in Severity.choices],
        "types": [(v, str(label)) for v, label in AlarmType.choices],
        "statuses": list(labels.items()),
        "live_url": request.get_full_path(),
        "now": clock.now(),
        "crumbs": _crumbs((_("Alarms"), None)),
    }
    if getattr(request, "htmx", False):
        return render(request, "sensing/alarms/_board.html", ctx)
    return render(request, "sensing/alarms/board.html", ctx)


def _render_detail(
    request: HttpRequest, alarm: Alarm, errors: list[str] | None = None, status: int = 200, note: str = ""
) -> HttpResponse:
    user = request.user
    d = alarm.device
    profile = d.profile
    can_handle = can(user, HANDLE_ALARMS, alarm)
    chosen = request.GET.get("do", "") if not errors else request.POST.get("do", "")
    ctx: dict[str, Any] = {
        "a": alarm,
        "d": d,
        "profile_name": lang.pick(profile.name, profile.name_en or profile.name),
        "unit": alarm.channel.spec.unit if alarm.channel is not None else "",
        # the channel by its name in the page's language (its key is a code for gateways, not people)
        "channel_name": (
            lang.pick(alarm.channel.spec.name, alarm.channel.spec.name_en or alarm.channel.spec.name)
            if alarm.channel is not None
            else ""
        ),
        "status_label": _status_labels()[alarm.status],
        "place": q.place_label(alarm),
        "history": q.history(alarm, request.GET, label=_("History")),
        "can_ack": can_handle and not alarm.acknowledged,
        "can_clear": can_handle and not alarm.cleared,
        "chosen": chosen if chosen in ("ack", "clear") else "",
        "errors": errors or [],
        "note": note,
        "crumbs": _crumbs((_("Alarms"), reverse("sensing:alarm_board")), (f"#{alarm.pk}", None)),
    }
    return render(request, "sensing/alarms/detail.html", ctx, status=status)


@never_cache
@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, q.alarm(request.user, pk))


@never_cache
@login_required
@require_POST
def act(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge (``do=ack``) or clear (``do=clear``, a note required) one alarm. A second submit
    of the same form changes nothing and says so; a refusal shows the page again with the reason."""
    alarm = q.alarm(request.user, pk)
    do = request.POST.get("do", "")
    note = request.POST.get("note", "")
    try:
        if do == "ack":
            changed = svc.acknowledge(request.user, alarm, note)[1]
            done, already = _("Alarm acknowledged."), _("The alarm was acknowledged already.")
        elif do == "clear":
            changed = svc.clear(request.user, alarm, note)[1]
            done, already = _("Alarm cleared."), _("The alarm was cleared already.")
        else:
            raise LinliError.one("bad_action", "未知的操作。", "Unknown action.")
    except LinliError as exc:
        texts = [p.text(lang.code()) for p in exc.problems]
        return _render_detail(request, alarm, texts, exc.status, note=note[: svc.MAX_NOTE])
    if changed:
        messages.success(request, done)
    else:
        messages.info(request, already)
    return HttpResponseRedirect(reverse("sensing:alarm_detail", args=[alarm.pk]))


@never_cache
@login_required
@require_GET
def map_json(request: HttpRequest) -> HttpResponse:
    """Open alarms in scope for the command centre's map (its alarm layer, polled with the map)."""
    return JsonResponse(q.map_points(request.user))
