"""Ballot pages: list per compound, the resident's own ballots, create, the ballot page (staff see
the roll with who voted how and enter paper/proxy votes; owners vote online and see totals),
open/close, lift occupation and consents, and the .xlsx export.

Every object comes through the one permission check (the scoped lookups of
``linli.consult.queries.ballots``: ``get_ballot``, ``compound_to_run`` …): outside the scope a 404,
inside without the right a 403. Writes go through
``linli.consult.services.ballots``; their bilingual refusals are shown on the page. The forms are
read by the API's own input serializers (``linli.core.forms.read_form``), so a page and the API
parse ids, choices, dates, checkboxes and text the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import AccessLog
from linli.accounts.roles import Action
from linli.accounts.services import log_access
from linli.consult import permissions, tasks
from linli.consult.api.ballots import BallotCreateSerializer, LiftSerializer, VoteInSerializer, WithdrawSerializer
from linli.consult.models import Ballot, Channel, Choice
from linli.consult.queries import ballots as q
from linli.consult.services import ballots as svc
from linli.core import clock, confirm, lang
from linli.core.errors import LinliError, Problem
from linli.core.exports import start_page
from linli.core.forms import read_form
from linli.core.ids import as_id
from linli.core.net import client_ip
from linli.core.paging import paginate
from linli.core.types import User
from linli.places.models import Compound
from linli.runs import services as runs_services


def _crumbs(user: User, ballot: Ballot | None = None, compound: Compound | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("workbench:home")}]
    if compound is not None and permissions.may_view(user, compound):
        out.append({"name": compound.name, "url": reverse("places:compound", args=[compound.pk])})
        out.append({"name": _("Ballots"), "url": reverse("consult:ballot_list", args=[compound.pk])})
    else:
        out.append({"name": _("My ballots"), "url": reverse("consult:ballot_mine")})
    if ballot is not None:
        out.append({"name": ballot.title, "url": None})
    return out


@login_required
@require_GET
def ballot_list(request: HttpRequest, pk: int) -> HttpResponse:
    compound = q.compound_to_view(request.user, pk)
    in_compound = q.in_compound(compound, as_id(request.GET.get("project")))
    ballots = q.visible_ballots(request.user, in_compound).select_related("project").order_by("-created_at", "-pk")
    return render(
        request,
        "consult/ballots/list.html",
        {
            "compound": compound,
            "ballots": paginate(request.GET, ballots, label=_("Ballots")),
            "can_create": permissions.may_run(request.user, compound),
            "crumbs": [
                {"name": _("Home"), "url": reverse("workbench:home")},
                {"name": compound.name, "url": reverse("places:compound", args=[compound.pk])},
                {"name": _("Ballots"), "url": None},
            ],
        },
    )


@login_required
@require_GET
def ballot_mine(request: HttpRequest) -> HttpResponse:
    """The ballots whose roll holds one of the user's own dwellings."""
    ballots = q.mine(request.user)
    return render(
        request,
        "consult/ballots/mine.html",
        {
            "ballots": paginate(request.GET, ballots, label=_("My ballots")),
            "crumbs": [{"name": _("Home"), "url": reverse("workbench:home")}, {"name": _("My ballots"), "url": None}],
        },
    )


def _closes_at(form: dict[str, Any]) -> datetime | None:
    """The closing time as the API reads it (``BallotCreateSerializer``: ISO 8601, a time without
    a zone in the current one), None when left empty; a value it refuses is the page's ``bad_date``."""
    closes_at = form.get("closes_at")
    if isinstance(closes_at, str):
        raise LinliError.one("bad_date", "截止时间格式不正确。", "The closing time is not a valid date and time.")
    return closes_at


@login_required
@require_http_methods(["GET", "POST"])
def ballot_new(request: HttpRequest, pk: int) -> HttpResponse:
    compound = q.compound_to_run(request.user, pk)
    projects = q.projects_to_run(request.user, compound)
    buildings = q.buildings_with_units(compound)
    errors: list[Any] = []
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        form = read_form(BallotCreateSerializer, request.POST)
        kind = form.get("scope_kind", "compound")
        try:
            # the page picks a building or a unit (no API field: the API takes scope_id itself)
            scope_id = {
                "compound": compound.pk,
                "building": as_id(data.get("building")) or 0,
                "unit": as_id(data.get("unit")) or 0,
            }.get(kind, 0)
            project = next((p for p in projects if p.pk == form.get("project")), None)
            try:
                scope: Any = svc.scope_object(kind, scope_id)
            except Http404:
                scope = None  # a missing building or unit answers exactly like one elsewhere
            if scope is None or q.compound_id_of_scope(scope) != compound.pk:
                raise LinliError.one("scope_elsewhere", "表决范围不在本小区。", "The scope is not in this compound.")
            ballot = svc.create_ballot(
                request.user,
                project=project,
                title=form.get("title", ""),
                question=form.get("question", ""),
                matter=form.get("matter", ""),
                scope_kind=kind,
                scope_id=scope_id,
                closes_at=_closes_at(form),
                hide_results=form.get("hide_results") is True,
            )
        except (LinliError, ValueError) as exc:
            errors = exc.problems if isinstance(exc, LinliError) else [_problem_bad_input()]
        else:
            messages.success(request, _("Ballot created as a draft. Check the roll, then open it."))
            return redirect("consult:ballot_detail", ballot.pk)
    return render(
        request,
        "consult/ballots/new.html",
        {
            "compound": compound,
            "projects": projects,
            "buildings": buildings,
            "matters": Ballot.Matter.choices,
            "errors": errors,
            "data": data,
            "crumbs": _crumbs(request.user, compound=compound),
        },
        status=400 if errors else 200,
    )


def _problem_bad_input() -> Problem:
    return Problem("bad_input", "输入有误。", "The input is not valid.")


def _detail_context(request: HttpRequest, ballot: Ballot) -> dict[str, Any]:
    user = request.user
    staff = permissions.may_run(user, ballot)
    show = permissions.results_visible(user, ballot)
    result = q.result_of(ballot) if show else None
    compound = q.compound_of(ballot)
    ctx: dict[str, Any] = {
        "ballot": ballot,
        "staff": staff,
        "show_results": show,
        "result": result,
        "bars": q.bars(result),
        "compound": compound,
        "choices": Choice.choices,
        "crumbs": _crumbs(user, ballot, compound),
        "now": clock.now(),
        # one fresh key per rendered form: a double tap or a retried POST of this form is one
        # submission, but two forms sent within the same second are two (a timestamp was not)
        "client_key": uuid.uuid4().hex,
    }
    ctx["published"] = q.published_of(ballot)
    ctx["withdrawal"] = q.withdrawal_of(ballot)
    if staff:
        if ballot.status == Ballot.Status.OPEN:
            ctx["voted"], ctx["owners"] = svc.participation(ballot)
            ctx["count_refusal"] = svc.count_refusal(ballot)
        ctx["min_reason"] = svc.MIN_WITHDRAW_REASON
        ctx["roll"] = q.roll_with_votes(ballot) if ballot.status != Ballot.Status.DRAFT else []
        if ballot.status == Ballot.Status.DRAFT:
            rows, left_out = svc.build_roll(ballot)
            occupied = q.occupied_ids(ballot)
            ctx["preview"] = [{**r, "occupied": r["dwelling"].pk in occupied} for r in rows]
            ctx["preview_owners"] = len({r["owner_key"] for r in rows})
            ctx["left_out"] = left_out
        ctx["history"] = q.recent_records(ballot)
        ctx["channels"] = [(Channel.PAPER, Channel.PAPER.label), (Channel.PROXY, Channel.PROXY.label)]
        log_access(user, AccessLog.What.VIEW_PEOPLE, ballot, ballot.path, ip=client_ip(request))
    ctx.update(_owner_context(user, ballot))
    return ctx


def _owner_context(user: User, ballot: Ballot) -> dict[str, Any]:
    """The signed-in person's own part as an owner (also for staff who are owners): the entries
    their verified voting account votes for, their votes, paper/proxy votes that replaced their
    online vote, and "verify that you are the owner" for their dwellings on the roll it does not
    vote for yet."""
    entries = q.my_entries(user, ballot)
    keys = sorted({e.owner_key for e in entries})
    back = reverse("consult:ballot_detail", args=[ballot.pk])
    links, seen = [], set()
    if ballot.status == Ballot.Status.OPEN:
        for e in q.unverified_entries(user, ballot):
            if e.dwelling_id in seen:
                continue
            seen.add(e.dwelling_id)
            d = e.dwelling
            links.append(
                {
                    "label": f"{d.building.name} {d.unit.number}-{d.number}",
                    "url": reverse("accounts:owner_verify") + "?" + urlencode({"dwelling": str(d.pk), "next": back}),
                }
            )
    return {
        "mine": entries,
        "my_votes": q.my_votes(user, ballot),
        "owner_keys": keys,
        "can_vote": bool(entries) and ballot.status == Ballot.Status.OPEN,
        "replaced": q.replacements(keys, ballot) if keys else [],
        "verify_links": links,
    }


@never_cache
@login_required
@require_GET
def ballot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = q.get_ballot(request.user, Action.VIEW, pk)
    return _render_detail(request, ballot)


def _render_detail(
    request: HttpRequest, ballot: Ballot, errors: list[Any] | None = None, status: int = 200
) -> HttpResponse:
    ctx = _detail_context(request, ballot)
    ctx["errors"] = errors or []
    template = "consult/ballots/staff.html" if ctx["staff"] else "consult/ballots/owner.html"
    return render(request, template, ctx, status=status)


def _act(request: HttpRequest, ballot: Ballot, fn: Any, ok: str) -> HttpResponse:
    try:
        fn()
    except LinliError as exc:
        ballot.refresh_from_db()
        return _render_detail(request, ballot, exc.problems, exc.status)
    messages.success(request, ok)
    return redirect("consult:ballot_detail", ballot.pk)


@login_required
@require_POST
def ballot_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """An owner votes online (or changes their vote before close)."""
    ballot = q.get_ballot(request.user, Action.VOTE, pk)
    form = read_form(VoteInSerializer, request.POST)
    return _act(
        request,
        ballot,
        lambda: svc.cast_vote(
            request.user,
            ballot,
            choice=form.get("choice", ""),
            owner_key=form.get("owner_key") or None,
            channel=Channel.ONLINE,
            client_key=form.get("client_key", ""),
        ),
        _("Your vote is recorded. You may change it until the ballot closes."),
    )


@login_required
@require_POST
def ballot_enter(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff enter a paper ballot or cast a vote on an owner's request (with the reason)."""
    ballot = q.get_ballot(request.user, Action.CONSULT, pk)
    form = read_form(VoteInSerializer, request.POST)
    channel = form.get("channel", "")
    if channel not in (Channel.PAPER, Channel.PROXY):
        channel = "bad"  # staff enter paper and proxy votes here; online is the owner's own (the service refuses it)
    return _act(
        request,
        ballot,
        lambda: svc.cast_vote(
            request.user,
            ballot,
            choice=form.get("choice", ""),
            owner_key=form.get("owner_key", ""),
            channel=channel,
            reason=form.get("reason", ""),
            client_key=form.get("client_key", ""),
        ),
        _("The vote is recorded."),
    )


def _when(dt: datetime | None) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else "—"


def _ask(request: HttpRequest, ballot: Ballot, title: str, consequences: list[str], button: str) -> HttpResponse:
    """The confirmation page of an irreversible ballot action (``linli.core.confirm``)."""
    return confirm.ask(
        request,
        title=title,
        consequences=consequences,
        button=button,
        cancel_url=reverse("consult:ballot_detail", args=[ballot.pk]),
        details=[(_("Ballot"), ballot.title), (_("Closes"), _when(ballot.closes_at))],
        crumbs=_crumbs(request.user, ballot, q.compound_of(ballot)),
    )


@login_required
@require_POST
def ballot_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Freeze the roll and open: asks first (the roll cannot be changed afterwards)."""
    ballot = q.get_ballot(request.user, Action.CONSULT, pk)
    rows, left_out = svc.build_roll(ballot) if ballot.status == Ballot.Status.DRAFT else ([], [])
    due = ballot.closes_at is not None and ballot.closes_at <= clock.now()
    # a ballot the service would refuse (not a draft, empty roll, closing time passed) is not asked about
    if not confirm.confirmed(request) and rows and not due:
        owners = len({r["owner_key"] for r in rows})
        consequences = [
            _(
                "The roll is frozen now: %(dwellings)d dwellings, %(owners)d owners "
                "(%(left)d dwellings left out). It cannot be changed afterwards."
            )
            % {"dwellings": len(rows), "owners": owners, "left": len(left_out)},
            _("Owners can vote from now on; staff can enter paper and proxy votes."),
        ]
        if ballot.closes_at is not None:
            consequences.append(
                _(
                    "Votes are counted after the announced closing time, %(when)s, or earlier only if every "
                    "owner has voted."
                )
                % {"when": _when(ballot.closes_at)}
            )
        else:
            consequences.append(
                _("No closing time is set: the ballot can be counted only once every owner has voted, or withdrawn.")
            )
        return _ask(request, ballot, _("Freeze the roll and open the ballot?"), consequences, _("Yes, freeze and open"))
    return _act(
        request, ballot, lambda: svc.open_ballot(request.user, ballot), _("The roll is frozen; voting is open.")
    )


@login_required
@require_POST
def ballot_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close and count: refused before the announced end unless every owner voted; asks first."""
    ballot = q.get_ballot(request.user, Action.CONSULT, pk)
    if not confirm.confirmed(request):
        refusal = svc.count_refusal(ballot)
        if refusal is not None:
            return _render_detail(request, ballot, refusal.problems, refusal.status)
        voted, owners = svc.participation(ballot)
        consequences = [
            _("Counting ends the ballot: the result is final and cannot be changed; no vote can be cast or changed.")
            + " "
            + _("Votes so far: %(voted)d/%(owners)d owners.") % {"voted": voted, "owners": owners},
            _("The result, the names of the places and the roll size are kept as they are now and published."),
        ]
        return _ask(
            request, ballot, _("Close the ballot and count the votes?"), consequences, _("Yes, close and count")
        )
    return _act(
        request, ballot, lambda: svc.close_ballot(request.user, ballot), _("The ballot is closed; the result is kept.")
    )


@login_required
@require_POST
def ballot_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager withdraws a draft or open ballot with a written reason; asks first."""
    ballot = q.get_ballot(request.user, Action.CONSULT, pk)
    reason = read_form(WithdrawSerializer, request.POST).get("reason", "")
    if not confirm.confirmed(request):
        refusal = svc.withdraw_refusal(ballot, reason)
        if refusal is not None:
            return _render_detail(request, ballot, refusal.problems, refusal.status)
        consequences = [
            _(
                "The ballot ends now and decides nothing: no result is counted, it is never approved, "
                "no vote is accepted."
            ),
            _("Your reason is published on the ballot page and the project's public page, and kept in the record."),
        ]
        if ballot.status == Ballot.Status.OPEN:
            voted, owners = svc.participation(ballot)
            consequences.insert(
                1,
                _("Votes so far: %(voted)d/%(owners)d owners.") % {"voted": voted, "owners": owners}
                + " "
                + _("They are kept but not counted."),
            )
            if ballot.project_id:
                consequences.append(_("A withdrawal notice is published on the project's pages."))
        return confirm.ask(
            request,
            title=_("Withdraw the ballot?"),
            consequences=consequences,
            button=_("Yes, withdraw the ballot"),
            cancel_url=reverse("consult:ballot_detail", args=[ballot.pk]),
            details=[(_("Ballot"), ballot.title), (_("Reason"), reason.strip())],
            crumbs=_crumbs(request.user, ballot, q.compound_of(ballot)),
        )
    return _act(
        request,
        ballot,
        lambda: svc.withdraw_ballot(request.user, ballot, reason),
        _("The ballot is withdrawn; it decides nothing. The reason is published."),
    )


@login_required
@require_POST
def ballot_lift(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the dwellings the lift would occupy (draft), or record one owner's consent."""
    ballot = q.get_ballot(request.user, Action.CONSULT, pk)
    form = read_form(LiftSerializer, request.POST)
    if "dwelling" in request.POST:
        dwelling_id = form.get("dwelling")
        dwelling = q.dwelling(dwelling_id if isinstance(dwelling_id, int) else None)

        def consent() -> None:
            if dwelling is None:
                raise LinliError.one("no_dwelling", "房屋不存在。", "No such dwelling.")
            # the form's "yes"/"no" read as the API reads them; anything else it refuses is no consent
            consents = form.get("consents") is True
            svc.record_lift_consent(request.user, ballot, dwelling, consents, form.get("note", ""))

        return _act(request, ballot, consent, _("The owner's consent is recorded."))
    # ids as the API reads them; a list it refuses (one value is not an id) keeps its ids, as before
    ids = [i for i in (as_id(raw) for raw in form.get("occupied", [])) if i is not None]
    return _act(
        request, ballot, lambda: svc.set_lift_occupied(request.user, ballot, ids), _("Occupied dwellings saved.")
    )


@login_required
@require_http_methods(["GET", "POST"])
def ballot_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Roll, votes, history and tally as .xlsx, made in the background (``consult.tasks.
    export_ballot``, logged): ``GET`` shows the button, ``POST`` starts the run and redirects to it."""
    ballot = q.get_ballot(request.user, Action.CONSULT, pk)
    title_zh, title_en = f"导出表决名册和票:{ballot.title}", f"Export the roll and votes: {ballot.title}"
    if request.method == "GET":
        return start_page(request, lang.pick(title_zh, title_en), reverse("consult:ballot_detail", args=[ballot.pk]))
    run = runs_services.start(
        request.user,
        "consult.ballot_export",
        tasks.export_ballot,
        action=Action.CONSULT,
        target=ballot,
        title_zh=title_zh,
        title_en=title_en,
        ballot_id=ballot.pk,
        ip=client_ip(request),
    )
    return HttpResponseRedirect(reverse("runs:detail", args=[run.pk]), status=303)
