"""Work queues: a department's own queue ("部门报到") and the command centre's queues.

- ``queue_department`` shows only the events dispatched to one department the user works for
  (``permissions.scoped`` with HANDLE); someone who holds no department role gets a bilingual 404.
- ``queue_command`` shows the COMMAND holder's place: cases to register, dispatch, approve, verify,
  the overdue and escalated ones ("吹哨"), the backlog (挂账) and deferred (缓办) ones.
- ``queue_act`` (register, dispatch, accept) and ``queue_decide`` (approve or refuse a department's
  request) post, call ``services.events`` and come back to the queue (POST-redirect-GET) with a
  flash message. A refusal of the service (a double submit: 409) re-renders the queue with the
  message in both languages and the service's status; nothing is done twice.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.models import Department
from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.core import clock, confirm, lang
from linli.core.errors import LinliError
from linli.core.ids import as_int
from linli.core.middleware import error_response
from linli.governance import loop, permissions
from linli.governance.loop import Move, Step
from linli.governance.models import EventRequest
from linli.governance.queries import queues as q
from linli.governance.services import events as svc

QUEUE_NAMES = ("queue_department", "queue_department_for", "queue_command")
# Moves a queue row offers directly, and the step each must find the case in (a stale page → 409).
QUICK_MOVES = {Move.REGISTER: Step.COLLECTED, Move.DISPATCH: Step.REGISTERED, Move.ACCEPT: Step.DISPATCHED}


def _titles() -> dict[str, tuple[str, str]]:
    return {
        # department
        "accept": (_("Waiting to accept"), _("Nothing is waiting to be accepted.")),
        "handling": (_("Being handled"), _("Nothing is being handled.")),
        "reported": (_("Reported back, waiting for verification"), _("Nothing is waiting for verification.")),
        "requests": (_("Our requests waiting for approval"), _("No request is waiting for approval.")),
        "decided": (_("Decisions on our requests"), _("No request has been decided yet.")),
        # command centre
        "register": (_("Waiting to be registered"), _("Nothing is waiting to be registered.")),
        "dispatch": (_("Waiting to be dispatched"), _("Nothing is waiting to be dispatched.")),
        "approve": (_("Requests waiting for approval"), _("No request is waiting for approval.")),
        "verify": (_("Waiting for verification"), _("Nothing is waiting for verification.")),
        "late": (_("Overdue or escalated"), _("Nothing is overdue or escalated.")),
        "backlog": (_("On the backlog"), _("Nothing is on the backlog.")),
        "deferred": (_("Deferred"), _("Nothing is deferred.")),
    }


def _titled(sections: list[q.Section]) -> list[q.Section]:
    titles = _titles()
    for s in sections:
        s.title, s.empty = titles[s.key]
    return sections


def _dept_name(dept: Department) -> str:
    return lang.pick(dept.name, dept.name_en)


def _pages_asked(request: HttpRequest) -> str:
    """The sections' page numbers of this visit (``?p-accept=2``), so a card's form brings the
    person back to the same pages."""
    asked = {k: str(v) for k, v in request.GET.items() if k.startswith("p-") and as_int(v, lo=1, hi=10**9)}
    return "?" + urlencode(asked) if asked else ""


# --- pages -----------------------------------------------------------------------------------------


def _department_page(
    request: HttpRequest, dept: Department, depts: list[Department], error: LinliError | None = None
) -> HttpResponse:
    now = clock.now()
    sections = q.mark_people(request.user, _titled(q.department_sections(request.user, dept, now, request.GET)))
    here = reverse("governance:queue_department_for", args=[dept.pk]) + _pages_asked(request)
    ctx: dict[str, Any] = {
        "dept": dept,
        "dept_name": _dept_name(dept),
        "depts": [(d, _dept_name(d), reverse("governance:queue_department_for", args=[d.pk])) for d in depts],
        "sections": sections,
        "here": here,
        "now": now,
        "error": error,
        "hot": ["accept", "handling"],
        "request_keys": ["requests", "decided"],
        "crumbs": [
            {"name": _("Home"), "url": reverse("workbench:home")},
            {"name": _("Department queue"), "url": None},
        ],
    }
    return render(request, "governance/queues/department.html", ctx, status=error.status if error else 200)


def _command_page(request: HttpRequest, error: LinliError | None = None) -> HttpResponse:
    if not permissions.holds_command(request.user):
        return error_response(
            request,
            LinliError.one(
                "no_command",
                "只有指挥中心(或区级管理员)可以查看指挥中心待办。",
                "Only the command centre (or a district administrator) may open the command centre's queue.",
                403,
            ),
        )
    now = clock.now()
    sections = q.mark_people(request.user, _titled(q.command_sections(request.user, now, request.GET)))
    ctx: dict[str, Any] = {
        "sections": sections,
        "here": reverse("governance:queue_command") + _pages_asked(request),
        "now": now,
        "error": error,
        "hot": ["register", "dispatch", "approve", "late"],
        "request_keys": ["approve"],
        "crumbs": [
            {"name": _("Home"), "url": reverse("workbench:home")},
            {"name": _("Command centre queue"), "url": None},
        ],
    }
    return render(request, "governance/queues/command.html", ctx, status=error.status if error else 200)


@never_cache
@login_required
@require_GET
def queue_department(request: HttpRequest, dept_pk: int | None = None) -> HttpResponse:
    try:
        dept, depts = q.department_of(request.user, dept_pk)
    except LinliError as exc:
        return error_response(request, exc)
    return _department_page(request, dept, depts)


@never_cache
@login_required
@require_GET
def queue_command(request: HttpRequest) -> HttpResponse:
    return _command_page(request)


# --- actions ---------------------------------------------------------------------------------------


def _back(request: HttpRequest) -> str | None:
    """The queue the form was posted from (only our own queue pages), or None."""
    nxt = request.POST.get("next", "")
    if not nxt or not url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
        return None
    try:
        match = resolve(nxt.split("?", 1)[0])
    except Resolver404:
        return None
    if match.namespace != "governance" or match.url_name not in QUEUE_NAMES:
        return None
    return nxt


def _fallback(request: HttpRequest) -> str:
    if permissions.holds_command(request.user):
        return reverse("governance:queue_command")
    return reverse("governance:queue_department")


def _refused(request: HttpRequest, back: str | None, error: LinliError) -> HttpResponse:
    """Show the queue the person came from again, with the service's message and status."""
    try:
        match = resolve((back or _fallback(request)).split("?", 1)[0])
    except Resolver404:  # pragma: no cover - _back and _fallback only give queue URLs
        return error_response(request, error)
    if match.url_name == "queue_command":
        return _command_page(request, error)
    depts = q.my_departments(request.user)
    if not depts:
        return error_response(request, error)
    pk = match.kwargs.get("dept_pk")
    dept = next((d for d in depts if d.pk == pk), depts[0])
    return _department_page(request, dept, depts, error)


@never_cache
@login_required
@require_POST
def queue_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Register, dispatch or accept one case from a queue row (``services.events.act``)."""
    back = _back(request)
    try:
        # outside the user's scope: 404 before any form check, so a bad form reveals nothing
        event = q.event_to_act(request.user, pk)
    except LinliError as exc:
        return error_response(request, exc)
    try:
        move = Move(request.POST.get("move", ""))
    except ValueError:
        move = None
    if move not in QUICK_MOVES:
        return _refused(
            request,
            back,
            LinliError.one(
                "unknown_move", "队列中只能立案、派遣或签收,其他操作请打开案件。", "Open the case for that action."
            ),
        )
    department: Department | None = None
    if move == Move.DISPATCH:
        authorize(request.user, Action.COMMAND, event)  # a 403 before a form problem
        raw = request.POST.get("department", "")
        department = q.dispatch_department(raw)
        if department is None:
            return _refused(request, back, LinliError.one("bad_department", "请选择派遣部门。", "Choose a department."))
    expected = request.POST.get("expected_step") or QUICK_MOVES[move].value
    try:
        event = svc.act(request.user, event, move, department=department, expected_step=expected)
    except LinliError as exc:
        return _refused(request, back, exc)
    if move == Move.ACCEPT:
        messages.success(request, _("Case #%(id)d accepted: it is now being handled.") % {"id": event.pk})
    elif move == Move.REGISTER:
        messages.success(request, _("Case #%(id)d registered.") % {"id": event.pk})
    else:
        name = _dept_name(event.department) if event.department else ""
        messages.success(request, _("Case #%(id)d dispatched to %(dept)s.") % {"id": event.pk, "dept": name})
    return HttpResponseRedirect(back or _fallback(request))


@never_cache
@login_required
@require_POST
def queue_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or refuse a department's request (``services.events.decide``): 404 outside the
    user's scope, 403 without COMMAND, 409 when it was already decided."""
    back = _back(request)
    try:
        req = q.request_to_decide(pk)
    except LinliError as exc:
        return error_response(request, exc)
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "").strip()
    error: LinliError | None = None
    if decision not in ("approve", "refuse"):  # the reason and its length: services.events.decide
        error = LinliError.one("bad_decision", "请选择同意或不同意。", "Choose approve or refuse.")
    if error is not None:
        # check the right first, so a bad form never tells someone outside the chain anything
        authorize(request.user, Action.COMMAND, req.event)
        return _refused(request, back, error)
    if (
        decision == "approve"
        and req.kind == Move.VOID
        and req.decision == EventRequest.Decision.PENDING
        and not confirm.confirmed(request)
    ):
        # approving a void ends the case for good: ask first (linli.core.confirm)
        authorize(request.user, Action.COMMAND, req.event)
        name = q.pick(loop.MOVE_NAMES[Move.VOID])
        return confirm.ask(
            request,
            title=_("Approve voiding case #%(pk)d?") % {"pk": req.event_id},
            consequences=[
                _("Voiding ends the case: it is no longer handled, leaves every queue and cannot be reopened."),
                _("The department's reason is kept in the case's history and shown to the reporter."),
            ],
            button=_("Yes: %(move)s") % {"move": name},
            cancel_url=back or _fallback(request),
            details=[(_("Reason"), req.reason)],
        )
    try:
        req = svc.decide(request.user, req, decision == "approve", note)
    except LinliError as exc:
        return _refused(request, back, exc)
    kind = q.pick(loop.MOVE_NAMES[q.REQUEST_MOVE[req.kind]])
    if req.decision == EventRequest.Decision.APPROVED:
        msg = _("Approved: %(kind)s of case #%(id)d.")
    else:
        msg = _("Refused: %(kind)s of case #%(id)d.")
    messages.success(request, msg % {"kind": kind, "id": req.event_id})
    return HttpResponseRedirect(back or reverse("governance:queue_command"))
