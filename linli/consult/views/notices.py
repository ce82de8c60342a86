"""Public notice pages (namespace ``consult``, names ``notice_…``).

Staff (CONSULT on the project) publish notices, append dated corrections and move objections;
anyone who may view the project reads a notice. Publishing and correcting ask first
(``linli.core.confirm``): what is published cannot be changed. Every page and the PDF render the
notice from its snapshot (``Notice.snapshot``), never from the live project and place rows. The
public side needs no sign-in and serves only notices of projects shown on the public page: the
notice page with the objection form, the objection POST (CSRF-protected, size- and rate-limited,
refused outside the period) and the PDF.

The staff forms are read by the API's own input serializers (``linli.core.forms.read_form``), so
a page and the API parse kinds, dates, numbers and text the same way; the public objection form has
no API counterpart (residents object on the public page only).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.consult import permissions
from linli.consult.api.notices import CorrectInSerializer, MoveSerializer, NoticeCreateSerializer
from linli.consult.models import Notice, Objection
from linli.consult.queries import notices as q
from linli.consult.services import notices as svc
from linli.core import confirm, lang
from linli.core.errors import LinliError
from linli.core.forms import read_form
from linli.core.ids import as_int
from linli.core.net import client_ip
from linli.renewal.models import Project


def _texts(exc: LinliError) -> list[str]:
    en = lang.is_english()
    return [p.en if en else p.zh for p in exc.problems]


def _crumbs(project: Project, here: str) -> list[dict[str, Any]]:
    return [
        {"name": _("Home"), "url": reverse("workbench:home")},
        {"name": _("Renovation projects"), "url": reverse("renewal:project_list")},
        {"name": project.name, "url": reverse("renewal:project_detail", args=[project.pk])},
        {"name": here, "url": None},
    ]


@login_required
@require_http_methods(["GET", "POST"])
def notice_new(request: HttpRequest, pk: int) -> HttpResponse:
    project = q.project_to_run(request.user, pk)
    ctx: dict[str, Any] = {
        "project": project,
        "kinds": [(k.value, k.label) for k in svc.STAFF_KINDS],
        "default_days": svc.default_days(),
        "today": svc.today(),
        "form": request.POST if request.method == "POST" else {},
        "crumbs": _crumbs(project, _("Publish a notice")),
    }
    if request.method == "POST":
        form = read_form(NoticeCreateSerializer, request.POST)
        kind = form.get("kind", "")
        try:
            days = form.get("days")
            if isinstance(days, str):
                # refused by the API: a whole number out of 1…MAX_DAYS goes on to the service, which
                # says so; anything else is not a number of days
                days = as_int(days, lo=0)
                if days is None:
                    raise LinliError.one("bad_days", "公示期须为天数。", "The period must be a number of days.")
            starts = form.get("starts_on")
            if isinstance(starts, str):
                raise LinliError.one("bad_date", "开始日期不是有效的日期。", "The start date is not a valid date.")
            if kind not in svc.STAFF_KINDS:
                raise LinliError.one(
                    "bad_kind", "公示类型须为方案公示或结果公示。", "Kind must be a plan or a result notice."
                )
            fields: dict[str, Any] = {
                "kind": kind,
                "title": form.get("title", ""),
                "body": form.get("body", ""),
                "starts_on": starts,
                "days": days,
            }
            if not confirm.confirmed(request):
                problems = svc.check_notice(project, **fields)
                if problems:
                    raise LinliError(problems)
                return _ask_publish(request, project, fields)
            notice = svc.publish_notice(request.user, project, **fields)
        except LinliError as exc:
            ctx["errors"] = _texts(exc)
            return render(request, "consult/notices/new.html", ctx, status=exc.status)
        messages.success(request, _("Notice published."))
        return HttpResponseRedirect(reverse("consult:notice_detail", args=[notice.pk]))
    return render(request, "consult/notices/new.html", ctx)


def _ask_publish(request: HttpRequest, project: Project, fields: dict[str, Any]) -> HttpResponse:
    start = fields["starts_on"] or svc.today()
    days = fields["days"] or svc.default_days()
    end = start + timedelta(days=days - 1)
    return confirm.ask(
        request,
        title=_("Publish this notice?"),
        consequences=[
            _(
                "Once published, the notice cannot be changed or withdrawn: a mistake can only be corrected "
                "by a dated correction shown under it."
            ),
            _(
                "It is posted from %(start)s to %(end)s (%(days)d days) and, for a public project, shown on "
                "the public page and in its PDF."
            )
            % {"start": start.isoformat(), "end": end.isoformat(), "days": days},
            _("The names of the project, the compound, the community and the street are kept as they are now."),
        ],
        button=_("Yes, publish"),
        cancel_url=reverse("renewal:project_detail", args=[project.pk]),
        details=[
            (_("Kind"), str(Notice.Kind(fields["kind"]).label)),
            (_("Title"), fields["title"].strip()),
            (_("Text"), fields["body"].strip()),
        ],
        crumbs=_crumbs(project, _("Publish a notice")),
    )


def _notice_ctx(notice: Notice) -> dict[str, Any]:
    return {
        "notice": notice,
        "shown": q.shown(notice),
        "corrections": q.corrections(notice),
        "ends_on": q.ends_on(notice),
        "state": q.state(notice),
        "running": q.is_running(notice),
        # free text masked (core.templatetags.masking_tags) unless the reader may see people's data
        "see_people": False,
    }


@login_required
@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = q.notice_for(request.user, pk)
    run = permissions.may_run(request.user, notice.project)
    flow = [s for s in svc.FLOW if s != Objection.Status.RECEIVED]
    return render(
        request,
        "consult/notices/detail.html",
        {
            **_notice_ctx(notice),
            "project": notice.project,
            "can_run": run,
            "see_people": permissions.sees_people(request.user, notice.project),
            "show_publisher": True,  # signed-in pages name the staff member; the public page does not
            "min_reason": svc.MIN_CORRECTION_REASON,
            "objections": q.objections(notice) if run else [],
            "flow": flow,
            "crumbs": _crumbs(notice.project, notice.title),
        },
    )


@login_required
@require_POST
def notice_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Append a dated correction (CONSULT on the project); asks first: it is published for good."""
    notice = q.notice_to_correct(request.user, pk)
    form = read_form(CorrectInSerializer, request.POST)
    text, reason = form.get("text", ""), form.get("reason", "")
    try:
        if not confirm.confirmed(request):
            problems = svc.check_correction(text, reason)
            if problems:
                raise LinliError(problems)
            return confirm.ask(
                request,
                title=_("Publish this correction?"),
                consequences=[
                    _(
                        "The correction is shown under the notice and in its PDF with today's date, for good; "
                        "it cannot be edited or removed."
                    ),
                    _("The notice itself stays as it was published."),
                ],
                button=_("Yes, publish the correction"),
                cancel_url=reverse("consult:notice_detail", args=[notice.pk]),
                details=[(_("Notice"), notice.title), (_("Correction"), text.strip()), (_("Reason"), reason.strip())],
                crumbs=_crumbs(notice.project, notice.title),
            )
        svc.correct_notice(request.user, notice, text=text, reason=reason)
    except LinliError as exc:
        for t in _texts(exc):
            messages.error(request, t)
        response = notice_detail(_as_get(request), notice.pk)
        response.status_code = exc.status
        return response
    messages.success(request, _("Correction published."))
    return HttpResponseRedirect(reverse("consult:notice_detail", args=[notice.pk]) + "#corrections-h")


@login_required
@require_POST
def notice_objection_move(request: HttpRequest, pk: int) -> HttpResponse:
    # an objection's permission is its project's: a viewer of the project is told 403, others 404
    objection = q.objection_to_move(request.user, pk)
    form = read_form(MoveSerializer, request.POST)
    try:
        svc.move_objection(request.user, objection, form.get("status", ""), form.get("response", ""))
    except LinliError as exc:
        for t in _texts(exc):
            messages.error(request, t)
        response = notice_detail(_as_get(request), objection.notice_id)
        response.status_code = exc.status
        return response
    messages.success(request, _("Objection updated."))
    return HttpResponseRedirect(reverse("consult:notice_detail", args=[objection.notice_id]) + f"#obj-{objection.pk}")


def _as_get(request: HttpRequest) -> HttpRequest:
    request.method = "GET"
    return request


# --- public (no sign-in) ---------------------------------------------------------------------------


@require_GET
def notice_public(request: HttpRequest, pk: int) -> HttpResponse:
    notice = q.public_notice(pk)
    return render(request, "consult/notices/public.html", {**_notice_ctx(notice), "project": notice.project})


@require_POST
def notice_object(request: HttpRequest, pk: int) -> HttpResponse:
    """The public objection form's target (CSRF-protected like every form). The API has no such
    input (residents object here only), so the service alone checks it."""
    notice = q.public_notice(pk)
    p = request.POST
    data = svc.ObjectionInput(
        name=p.get("name", ""),
        contact=p.get("contact", ""),
        dwelling_text=p.get("dwelling_text", ""),
        text=p.get("text", ""),
    )
    try:
        svc.raise_objection(notice, data, client_ip=client_ip(request))
    except LinliError as exc:
        ctx = {**_notice_ctx(notice), "project": notice.project, "errors": _texts(exc), "form": p}
        return render(request, "consult/notices/public.html", ctx, status=exc.status)
    messages.success(request, _("Your objection was received. The community will contact you."))
    return HttpResponseRedirect(reverse("consult:notice_public", args=[notice.pk]))


@require_GET
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable notice, from its snapshot and corrections: public for public projects, else to
    those who may view the project. The file of this version was usually rendered by the task queued
    at publication; when it is not there yet (or was lost), the service renders it now and keeps it
    — a cache file written by a service, not a write of this view."""
    notice = q.notice_for_pdf(request.user, pk)
    origin = svc.site_origin() or request.build_absolute_uri("/").rstrip("/")
    response = HttpResponse(svc.stored_pdf(notice, origin), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"公示-{notice.pk}.pdf") or ""
    return response
