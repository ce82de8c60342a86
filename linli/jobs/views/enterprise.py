"""Pages of the key-enterprise services (issue 14 §6; docs/jobs.md "Key-enterprise services").

- ``service_list`` — the staff's queue (filters kind / status / overdue / officer, the figures) and,
  for an enterprise's members, their own requests with a "file a request" link per key enterprise.
- ``service_new`` — a member of a key enterprise files a request (kind with what each covers, title,
  detail). Others get a 403 page that says why.
- ``service_detail`` — the timeline the enterprise sees (every step, its date and officer), the
  deadline and whether it is overdue; the staff's actions; the rating form once closed.
- ``service_act`` (POST, staff: accept / reject / progress / close / reassign) and ``service_rate``
  (POST, the enterprise).
- ``enterprise_list`` — the staff's list of key enterprises with their officer and open requests,
  where an officer is assigned and an employer marked or unmarked (``enterprise_set``, POST).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.permissions import authorize, can, get_or_404
from linli.accounts.roles import Action
from linli.core import clock, lang
from linli.core.errors import LinliError
from linli.jobs.models import Employer, ServiceRequest
from linli.jobs.permissions import HIRE, SERVE, is_member
from linli.jobs.queries import enterprise as q
from linli.jobs.services import enterprise as svc

Kind = ServiceRequest.Kind
Status = ServiceRequest.Status
ACTS = ("accept", "reject", "progress", "close", "reassign")


def kind_help() -> dict[str, str]:
    """What each kind of request covers, as the form explains it."""
    return {
        Kind.RECRUITMENT.value: _(
            "Finding staff: a recruitment fair, postings on the platform, a search for skilled workers near the plant."
        ),
        Kind.SOCIAL_SECURITY.value: _(
            "Social insurance for employees: registration, adding or removing people, contribution questions."
        ),
        Kind.SUBSIDY.value: _(
            "Employment subsidies: for hiring registered unemployed or hard-to-employ people, job stabilisation "
            "refunds, social insurance subsidies."
        ),
        Kind.TRAINING.value: _("Vocational skills training for employees, apprenticeships, skills assessment."),
        Kind.OTHER.value: _("Anything else the employment service can help with."),
    }


def _crumbs(*tail: tuple[str, str | None]) -> list[dict[str, str | None]]:
    try:
        home = reverse("jobs:home")
    except NoReverseMatch:  # the jobs hub lands with another part of issue 14
        home = reverse("workbench:home")
    return [
        {"name": _("Jobs"), "url": home},
        *({"name": name, "url": url} for name, url in tail),
    ]


def _texts(exc: LinliError) -> list[str]:
    return [p.text(lang.code()) for p in exc.problems]


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _deadline_days() -> list[dict[str, Any]]:
    help_texts = kind_help()
    return [
        {"value": value, "label": str(label), "help": help_texts[value], "days": svc.DEADLINE_DAYS[value]}
        for value, label in Kind.choices
    ]


# --- the list -------------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    """The staff's queue with its figures, and/or an enterprise member's own requests."""
    user = request.user
    staff = q.serves(user)
    employers = q.own_key_enterprises(user)
    if not staff and not employers:
        raise PermissionDenied("neither staff nor an employer's member")
    ctx: dict[str, Any] = {
        "staff": staff,
        "employers": [{"e": e, "may_file": svc.may_file(user, e)} for e in employers],
        "kinds": [(v, str(label)) for v, label in Kind.choices],
        "statuses": [
            ("open", _("Open (not finished)")),
            *((v, str(label)) for v, label in Status.choices),
            ("all", _("All")),
        ],
        "crumbs": _crumbs((_("Key-enterprise services"), None)),
    }
    if staff:
        ctx["queue"] = q.queue(user, request.GET, label=_("Requests"))
    if employers:
        ctx["mine"] = q.own(user, request.GET, label=_("Our requests"))
    ctx["now"] = clock.now()
    return render(request, "jobs/enterprise/list.html", ctx)


# --- filing -------------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def service_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A key enterprise's member files a request."""
    employer = get_or_404(request.user, HIRE, Employer.objects.all(), pk=pk)
    crumbs = _crumbs((_("Key-enterprise services"), reverse("jobs:service_list")), (_("New request"), None))
    if not svc.may_file(request.user, employer):
        ctx = {"employer": employer, "member": is_member(request.user, employer), "crumbs": crumbs}
        return render(request, "jobs/enterprise/not_key.html", ctx, status=403)
    values = {"kind": "", "title": "", "detail": ""}
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        values = {k: str(request.POST.get(k, "") or "") for k in values}
        try:
            req = svc.file(request.user, employer, kind=values["kind"], title=values["title"], detail=values["detail"])
        except LinliError as exc:
            errors, status = _texts(exc), exc.status
        else:
            messages.success(
                request,
                _("Request %(number)s filed. It is due by %(due)s.")
                % {"number": req.number, "due": clock_text(req.due_at)},
            )
            return _see_other(reverse("jobs:service_detail", args=[req.pk]))
    ctx = {
        "employer": employer,
        "kinds": _deadline_days(),
        "values": values,
        "errors": errors,
        "max_title": svc.MAX_TITLE,
        "max_detail": svc.MAX_DETAIL,
        "crumbs": crumbs,
    }
    return render(request, "jobs/enterprise/new.html", ctx, status=status)


def clock_text(at: Any) -> str:
    """A deadline as people read it: the day and the time, in the site's time zone."""
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


# --- one request ---------------------------------------------------------------------------------------------


def _render_detail(
    request: HttpRequest,
    req: ServiceRequest,
    *,
    errors: list[str] | None = None,
    status: int = 200,
    chosen: str = "",
    values: dict[str, str] | None = None,
) -> HttpResponse:
    user = request.user
    now = clock.now()
    serving = can(user, SERVE, req)
    member = is_member(user, req.employer_id)
    is_open = req.status in svc.OPEN
    if not chosen:
        chosen = request.GET.get("do", "")
    ctx: dict[str, Any] = {
        "r": req,
        "steps": q.steps(req),
        "overdue": svc.is_overdue(req, now),
        "on_time": svc.closed_on_time(req),
        "deadline_days": svc.DEADLINE_DAYS.get(req.kind),
        "serving": serving,
        "member": member,
        "see_people": member or can(user, Action.VIEW_PEOPLE, req),
        "can": {
            "accept": serving and req.status == Status.FILED,
            "reject": serving and req.status == Status.FILED,
            "progress": serving and req.status in (Status.ACCEPTED, Status.WORKING),
            "close": serving and req.status in (Status.ACCEPTED, Status.WORKING),
            "reassign": serving and is_open,
        },
        "can_rate": member and req.status == Status.CLOSED and req.satisfaction is None,
        "officers": q.serving_users(req.path) if serving and is_open else [],
        "chosen": chosen if chosen in (*ACTS, "rate") else "",
        "values": values or {},
        "errors": errors or [],
        "scores": [
            (5, _("Very satisfied")),
            (4, _("Satisfied")),
            (3, _("Neutral")),
            (2, _("Unsatisfied")),
            (1, _("Very unsatisfied")),
        ],
        "crumbs": _crumbs((_("Key-enterprise services"), reverse("jobs:service_list")), (req.number, None)),
    }
    return render(request, "jobs/enterprise/detail.html", ctx, status=status)


@never_cache
@login_required
@require_GET
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, q.request(request.user, pk))


@never_cache
@login_required
@require_POST
def service_act(request: HttpRequest, pk: int) -> HttpResponse:
    """A staff step on one request (``do`` = accept / reject / progress / close / reassign). A refusal
    shows the page again with the reason and the status (409 for a step in the wrong state)."""
    req = q.request(request.user, pk)
    authorize(request.user, SERVE, req)  # the enterprise's own members see the page, but do not act here
    do = str(request.POST.get("do", "") or "")
    note = str(request.POST.get("note", "") or "")
    try:
        if do == "accept":
            svc.accept(request.user, req, note)
            done = _("Request accepted: the enterprise sees it is being worked on.")
        elif do == "reject":
            svc.reject(request.user, req, note)
            done = _("Request not accepted; the enterprise reads your reason.")
        elif do == "progress":
            svc.progress(request.user, req, note)
            done = _("Progress recorded; the enterprise sees it.")
        elif do == "close":
            svc.close(request.user, req, note)
            done = _("Request closed; the enterprise is asked to rate the service.")
        elif do == "reassign":
            officer = q.officer_for(req.path, request.POST.get("officer", ""))
            svc.reassign(request.user, req, officer)
            done = _("Request handed over.")
        else:
            raise LinliError.one("bad_action", "未知的操作。", "Unknown action.")
    except LinliError as exc:
        return _render_detail(
            request,
            req,
            errors=_texts(exc),
            status=exc.status,
            chosen=do,
            values={"note": note[: svc.MAX_DETAIL], "officer": str(request.POST.get("officer", ""))},
        )
    messages.success(request, done)
    return _see_other(reverse("jobs:service_detail", args=[req.pk]))


@never_cache
@login_required
@require_POST
def service_rate(request: HttpRequest, pk: int) -> HttpResponse:
    """The enterprise rates a closed request (once)."""
    req = q.request(request.user, pk)
    score = str(request.POST.get("satisfaction", "") or "")
    note = str(request.POST.get("note", "") or "")
    try:
        svc.rate(request.user, req, score, note)
    except LinliError as exc:
        return _render_detail(
            request,
            req,
            errors=_texts(exc),
            status=exc.status,
            chosen="rate",
            values={"satisfaction": score, "rating_note": note[: svc.MAX_RATING_NOTE]},
        )
    messages.success(request, _("Thank you: your rating has been recorded."))
    return _see_other(reverse("jobs:service_detail", args=[req.pk]))


# --- key enterprises -------------------------------------------------------------------------------------------


def _render_enterprises(request: HttpRequest, *, errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    e = q.enterprises(request.user, request.GET, label=_("Key enterprises"))
    ctx = {
        "e": e,
        "rows": [{"emp": emp, "officers": e.officers.get(emp.path, [])} for emp in e.page],
        "candidates": [{"emp": emp, "officers": e.officers.get(emp.path, [])} for emp in e.candidates],
        "errors": errors or [],
        "crumbs": _crumbs((_("Key-enterprise services"), reverse("jobs:service_list")), (_("Key enterprises"), None)),
    }
    return render(request, "jobs/enterprise/enterprises.html", ctx, status=status)


@never_cache
@login_required
@require_GET
def enterprise_list(request: HttpRequest) -> HttpResponse:
    """The key enterprises the staff member serves, their officers and open requests; look up a
    verified employer to mark it as a key enterprise."""
    return _render_enterprises(request)


@never_cache
@login_required
@require_POST
def enterprise_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark or unmark a key enterprise (``key`` = 1 / 0) and assign its officer (``officer``, a user
    id; empty for none). A refusal shows the list again with the reason."""
    employer = q.employer_for_staff(request.user, pk)
    key = request.POST.get("key", "1") == "1"
    raw = str(request.POST.get("officer", "") or "")
    officer = q.officer_for(employer.path, raw) if raw else None
    back = str(request.POST.get("next", "") or "")
    if not back.startswith(reverse("jobs:enterprise_list")):
        back = reverse("jobs:enterprise_list")
    try:
        if raw and officer is None:
            raise LinliError.one(
                "bad_officer",
                "请选择在该企业所在地负责就业服务的工作人员。",
                "Choose a member of the employment service where the enterprise is.",
            )
        svc.set_enterprise(request.user, employer, key=key, officer=officer)
    except LinliError as exc:
        return _render_enterprises(request, errors=[f"{employer.name}: {t}" for t in _texts(exc)], status=exc.status)
    if not key:
        messages.success(request, _("%(name)s is no longer a key enterprise.") % {"name": employer.name})
    elif officer is None:
        messages.success(request, _("%(name)s is a key enterprise, without an officer.") % {"name": employer.name})
    else:
        messages.success(
            request,
            _("%(name)s is a key enterprise, served by %(officer)s.") % {"name": employer.name, "officer": officer},
        )
    return _see_other(back)
