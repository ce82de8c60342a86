"""Pages of applications (issue 14 §4): the apply form and its slip, a seeker's own applications,
a posting's applicants for its employer, one application with its history, and the one POST view
for every step (``application_act``), each guarded by ``services.applications``.

Outside the scope a 404, inside it without the right a 403 (``accounts.permissions``); a step the
application's state does not allow shows the application again with the reason (409). The
employer's "show phone" posts here too (it writes an access-log row), in place with htmx.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.core import lang
from linli.core.errors import LinliError
from linli.core.types import User
from linli.jobs import permissions
from linli.jobs.models import Application, Posting, Seeker
from linli.jobs.queries import applications as q
from linli.jobs.services import applications as svc

Status = Application.Status

#: Where a step's form may send the person back to (never a URL from the request).
NEXT = ("detail", "mine", "applicants")


def _url(name: str, *args: Any) -> str | None:
    """A link to another helper's page, or None while it does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _crumbs(*tail: tuple[str, str | None]) -> list[dict[str, str | None]]:
    return [
        {"name": _("Home"), "url": reverse("workbench:home")},
        {"name": _("Jobs near home"), "url": _url("jobs:home")},
        *({"name": name, "url": url} for name, url in tail),
    ]


def _texts(exc: LinliError) -> list[str]:
    return [p.text(lang.code()) for p in exc.problems]


# --- apply ------------------------------------------------------------------------------------------


def _apply_page(
    request: HttpRequest,
    posting: Posting,
    seeker: Seeker | None,
    *,
    errors: list[str] | None = None,
    status: int = 200,
    data: dict[str, str] | None = None,
) -> HttpResponse:
    existing = Application.objects.filter(posting=posting, seeker=seeker).first() if seeker else None
    cv = svc.build_cv(seeker) if seeker is not None else None
    ctx: dict[str, Any] = {
        "posting": posting,
        "seeker": seeker,
        "existing": existing if existing is not None and existing.status != Status.INVITED else None,
        "invited": existing if existing is not None and existing.status == Status.INVITED else None,
        "live": q.is_live(posting),
        "cv": cv,
        "cv_skills": [q.lang_name(s) for s in (cv or {}).get("skills", [])],
        "education": dict(Seeker.Education.choices).get((cv or {}).get("education", ""), ""),
        "data": data
        or {"text": (cv or {}).get("text", ""), "experience_years": str((cv or {}).get("experience_years", 0))},
        "errors": errors or [],
        "see_people": True,  # the seeker's own CV
        "posting_url": _url("jobs:posting_detail", posting.pk),
        "profile_url": _url("jobs:seeker_me"),
        "max_text": svc.MAX_CV_TEXT,
        "max_message": svc.MAX_MESSAGE,
        "crumbs": _crumbs((posting.title, _url("jobs:posting_detail", posting.pk)), (_("Apply"), None)),
    }
    return render(request, "jobs/applications/apply.html", ctx, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    """The apply form (GET, or the posting page's Apply button posting here without ``send``) and
    the application itself (POST with ``send``): then the slip, on the application's page."""
    user: User = request.user
    posting = q.posting_to_apply(user, pk)
    seeker = q.seeker_of(user)
    if request.method == "GET" or "send" not in request.POST or seeker is None:
        return _apply_page(request, posting, seeker)
    data = {
        "text": request.POST.get("text", "")[: svc.MAX_CV_TEXT * 2],
        "experience_years": request.POST.get("experience_years", "").strip()[:6],
        "message": request.POST.get("message", "")[: svc.MAX_MESSAGE * 2],
    }
    cv = {"text": data["text"], "experience_years": data["experience_years"] or None}
    try:
        app = svc.apply(user, seeker, posting, cv=cv, message=data["message"])
    except LinliError as exc:
        return _apply_page(request, posting, seeker, errors=_texts(exc), status=exc.status, data=data)
    messages.success(request, _("Your application is sent. Its number is %(number)s.") % {"number": app.number})
    return HttpResponseRedirect(reverse("jobs:application_detail", args=[app.pk]) + "?slip=1", status=303)


# --- my applications ----------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The seeker's own applications: invitations to answer first, then where each one stands."""
    m = q.mine(request.user, request.GET, label=_("My applications"))
    labels = dict(Status.choices)
    tabs = [("", _("All"), m.counts.get("total", 0))] + [
        (s, labels[s], m.counts.get(s, 0)) for s in q.MINE_ORDER if m.counts.get(s, 0)
    ]
    ctx = {
        "m": m,
        "tabs": tabs,
        "profile_url": _url("jobs:seeker_me"),
        "nearby_url": _url("jobs:nearby"),
        "crumbs": _crumbs((_("My applications"), None)),
    }
    return render(request, "jobs/applications/mine.html", ctx)


# --- a posting's applicants --------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def applicants(request: HttpRequest, pk: int) -> HttpResponse:
    """A posting's applicants for its employer's members (who take the steps here) and, read-only,
    the employment service of its place."""
    posting = q.posting_for_applicants(request.user, pk)
    a = q.applicants(request.user, posting, request.GET, label=_("Applicants"))
    labels = dict(Status.choices)
    tabs = [("", _("All"), a.counts["total"])] + [
        (s, labels[s], a.counts[s]) for s in q.STATUS_ORDER if a.counts.get(s, 0)
    ]
    ctx = {
        "a": a,
        "posting": posting,
        "tabs": tabs,
        "today": timezone.localdate(),
        "see_people": a.acts,
        "posting_url": _url("jobs:posting_detail", posting.pk),
        "talent_url": _url("jobs:talent", posting.pk) if a.acts else None,
        "crumbs": _crumbs((posting.title, _url("jobs:posting_detail", posting.pk)), (_("Applicants"), None)),
    }
    return render(request, "jobs/applications/applicants.html", ctx)


# --- one application -------------------------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    app: Application,
    *,
    errors: list[str] | None = None,
    status: int = 200,
    phone: dict[str, str] | None = None,
    chosen: str = "",
) -> HttpResponse:
    user: User = request.user
    side = permissions.side_of(user, app)
    employer = side == "employer" and permissions.may_hire_for(user, app.posting)
    seeker_side = side == "seeker"
    st = app.status
    cv = app.cv or {}
    ctx: dict[str, Any] = {
        "app": app,
        "side": side if (employer or seeker_side or side == "staff") else None,
        "history": q.history(app),
        "cv": cv,
        "cv_skills": [q.lang_name(s) for s in cv.get("skills", [])],
        "education": dict(Seeker.Education.choices).get(cv.get("education", ""), ""),
        "can_accept": seeker_side and st in svc.ACCEPTS,
        "can_withdraw": seeker_side and st in svc.WITHDRAWS,
        "can_interview": employer and st in svc.INTERVIEWS,
        "can_hire": employer and st in svc.HIRES,
        "can_decline": side is not None and st in svc.DECLINES and (side != "employer" or employer),
        "can_contact": employer and app.contact_released_at is not None and st in svc.CONTACTABLE,
        "phone": phone,
        # free text (messages, notes, the CV's lines) unmasked for the two sides and for staff who see people
        "see_people": side in ("seeker", "employer") or can(user, Action.VIEW_PEOPLE, app.seeker),
        "slip": request.GET.get("slip") == "1" and seeker_side,
        "errors": errors or [],
        "chosen": chosen,
        "today": timezone.localdate(),
        "posting_url": _url("jobs:posting_detail", app.posting_id),
        "applicants_url": (
            reverse("jobs:posting_applicants", args=[app.posting_id])
            if employer or can(user, permissions.SERVE, app.posting)
            else None
        ),
        "placement": getattr(app, "placement", None) if st == Status.HIRED else None,
    }
    crumb = (
        (_("My applications"), reverse("jobs:application_mine"))
        if seeker_side
        else (_("Applicants"), ctx["applicants_url"])
    )
    ctx["crumbs"] = _crumbs(crumb, (app.number, None))
    return render(request, "jobs/applications/detail.html", ctx, status=status)


@never_cache
@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One application: the job, the CV, the history and the steps the viewer may take; for the
    seeker just after applying, the slip with its number (printable)."""
    return _detail(request, q.application(request.user, pk))


def _interview_at(text: str) -> datetime | None:
    text = (text or "").strip()[:20]
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return timezone.make_aware(at, timezone.get_current_timezone()) if timezone.is_naive(at) else at


def _day(text: str) -> date | None:
    text = (text or "").strip()[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _back(request: HttpRequest, app: Application) -> str:
    where = request.POST.get("next", "detail")
    if where == "mine":
        return reverse("jobs:application_mine")
    if where == "applicants":
        return reverse("jobs:posting_applicants", args=[app.posting_id]) + f"#app-{app.pk}"
    return reverse("jobs:application_detail", args=[app.pk])


@never_cache
@login_required
@require_POST
def act(request: HttpRequest, pk: int) -> HttpResponse:
    """One step on an application (``do``: accept, decline, withdraw, interview, hire) or the
    employer's read of the phone (``do=contact``). A step refused shows the application with the
    reason and its status (409 for a step its state does not allow, a double submit included)."""
    user: User = request.user
    app = q.application(user, pk)
    do = request.POST.get("do", "")
    note = request.POST.get("note", "")[: svc.MAX_NOTE * 2]
    htmx = bool(getattr(request, "htmx", False))
    try:
        if do == "contact":
            phone = svc.contact(user, app)
            if phone is None:
                raise LinliError.one(
                    "contact_not_released",
                    "求职者尚未向你公开联系方式。",
                    "The seeker has not released their contact to you.",
                    status=403,
                )
            if htmx:
                return render(request, "jobs/applications/_phone.html", {"phone": phone, "app": app})
            return _detail(request, app, phone=phone)
        if do == "accept":
            svc.accept(user, app, message=request.POST.get("message", "")[: svc.MAX_MESSAGE * 2])
            done = _("You accepted the invitation: the employer can now see your phone number.")
        elif do == "withdraw":
            svc.withdraw(user, app, note)
            done = _("Application withdrawn.")
        elif do == "decline":
            svc.decline(user, app, note)
            done = _("Declined.")
        elif do == "interview":
            at = _interview_at(request.POST.get("at", ""))
            if at is None:
                raise LinliError.one("bad_time", "请填写面试时间。", "Give the interview's date and time.")
            svc.interview(user, app, at, note)
            done = _("Interview arranged.")
        elif do == "hire":
            raw = request.POST.get("started_on", "")
            started = _day(raw)
            if raw.strip() and started is None:
                raise LinliError.one("bad_date", "到岗日期格式应为 YYYY-MM-DD。", "The start date must be YYYY-MM-DD.")
            svc.hire(user, app, started, note)
            done = _("Hired: the placement is recorded.")
        else:
            raise LinliError.one("bad_action", "未知的操作。", "Unknown action.")
    except LinliError as exc:
        if htmx and do == "contact":
            return render(
                request, "jobs/applications/_phone.html", {"errors": _texts(exc), "app": app}, status=exc.status
            )
        app.refresh_from_db()
        return _detail(request, app, errors=_texts(exc), status=exc.status, chosen=do)
    messages.success(request, done)
    return HttpResponseRedirect(_back(request, app), status=303)
