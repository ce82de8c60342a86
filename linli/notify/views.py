"""Pages of notifications: my inbox (paged; mark one or all read) and my preferences (channels per
kind of event, quiet hours, where to reach me). Only ever the signed-in person's own rows; writes
through ``services``."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.errors import LinliError
from linli.core.middleware import error_response
from linli.core.paging import paginate
from linli.notify import queries as q
from linli.notify import rules
from linli.notify import services as svc
from linli.notify.models import Channel, Kind

PER_PAGE = 20


def _crumbs(here: str) -> list[dict[str, Any]]:
    return [{"name": _("Home"), "url": reverse("workbench:home")}, {"name": here, "url": None}]


@login_required
@never_cache
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    lang = get_language() or "zh-hans"
    page = paginate(request.GET, q.inbox(request.user), PER_PAGE, label=_("Notifications"))
    rows = [(n, n.title(lang), n.body(lang)) for n in page.rows]
    return render(
        request,
        "notify/inbox.html",
        {"page": page, "rows": rows, "unread": q.unread_count(request.user), "crumbs": _crumbs(_("Notifications"))},
    )


@login_required
@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read, then open what it is about (a path on this site) or come back to the inbox."""
    try:
        n = svc.mark_read(request.user, pk)
    except LinliError as error:
        return error_response(request, error)
    if request.POST.get("open") and n.url and url_has_allowed_host_and_scheme(n.url, allowed_hosts=None):
        return HttpResponseRedirect(n.url)
    return redirect(_back(request))


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = svc.mark_all_read(request.user)
    messages.success(request, _("%(count)s notification(s) marked read.") % {"count": count})
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    page = request.POST.get("page", "")
    url = reverse("notify:inbox")
    return f"{url}?page={page}" if page.isdigit() else url


def _time(value: str) -> time | None:
    value = value.strip()
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise LinliError.one("notify_time", "时间格式不对,请写成 22:00。", "Write the time as 22:00.", 400) from None


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    pref = q.preference(request.user)
    error: LinliError | None = None
    if request.method == "POST":
        try:
            channels = {kind: request.POST.getlist(f"ch-{kind}") for kind in rules.KINDS}
            svc.save_preferences(
                request.user,
                channels=channels,
                quiet_start=_time(request.POST.get("quiet_start", "")),
                quiet_end=_time(request.POST.get("quiet_end", "")),
                wechat_openid=request.POST.get("wechat_openid"),
            )
        except LinliError as exc:
            error = exc
        else:
            messages.success(request, _("Your notification settings were saved."))
            return redirect("notify:preferences")
    table = q.channel_table(pref)
    labels = dict(Kind.choices)
    topics = {"cases": _("Cases and reports"), "consult": _("Ballots and notices"), "jobs": _("Jobs near home")}
    groups = [
        (
            topic,
            topics[topic],
            [
                (
                    kind,
                    labels[kind],
                    [(c, c_label, c in table[kind], c in rules.FORCED.get(kind, ())) for c, c_label in Channel.choices],
                )
                for kind in members
            ],
        )
        for topic, members in rules.GROUPS
    ]
    response = render(
        request,
        "notify/preferences.html",
        {
            "pref": pref,
            "groups": groups,
            "error": error,
            "error_texts": [p.text(get_language() or "zh-hans") for p in error.problems] if error else [],
            "quiet_start": pref.quiet_start.strftime("%H:%M") if pref and pref.quiet_start else "",
            "quiet_end": pref.quiet_end.strftime("%H:%M") if pref and pref.quiet_end else "",
            "crumbs": [
                {"name": _("Home"), "url": reverse("workbench:home")},
                {"name": _("Notifications"), "url": reverse("notify:inbox")},
                {"name": _("Notification settings"), "url": None},
            ],
        },
        status=error.status if error else 200,
    )
    return response
