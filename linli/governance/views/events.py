"""Pages where grid events are reported and worked (issue 4 §2).

- ``event_new``: the report page for a grid worker's phone (or a resident): category, position from
  the device or the map, or a building of the user's scope; photos; a client key so a retry never
  duplicates; nearby open events of the same category as possible duplicates.
- ``event_hotline``: the hotline desk of the command centre (channel hotline or task from above).
- ``event_list``: events in the user's EVENTS scope with filters, and "my reports" for anyone.
- ``event_detail``: the case, its seven-step progress, history and the moves the user may take now;
  a reporter without EVENTS sees a reduced view of their own case.
- ``event_act`` / ``event_ask``: one move of the loop / a department's request, with
  ``expected_step`` so a double submit gets the 409 message, never a second move.

All writes go through ``linli.governance.services.events``; objects come through the scoped
look-ups of ``linli.governance.queries.events`` (outside the scope → 404, inside without the right →
403) and the predicates of ``linli.governance.permissions``. The report form is read and checked by
``linli.governance.inputs``, the same code the services and Open311 check a report with. A refusal
(``LinliError``) re-renders the page with its messages and its status.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import Department
from linli.accounts.roles import Action
from linli.core import clock, confirm, lang, photos
from linli.core.errors import LinliError
from linli.core.paging import paginate
from linli.governance import inputs, loop, permissions
from linli.governance.categories import SECTOR_NAMES, Sector
from linli.governance.models import Channel, Event
from linli.governance.queries import events as q
from linli.governance.queries import public as governance_public
from linli.governance.services import events as svc
from linli.places import models as places_models


def _texts(exc: LinliError) -> list[dict[str, str]]:
    """Each problem as ``zh``/``en`` for ``|pick`` (the page shows the active language only)."""
    return [{"zh": p.zh, "en": p.en} for p in exc.problems]


def _crumbs(here: str, event: Event | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"name": _("Home"), "url": reverse("workbench:home")},
        {"name": _("Grid events"), "url": reverse("governance:event_list")},
    ]
    if event is not None:
        out.append({"name": f"#{event.pk}", "url": reverse("governance:event_detail", args=[event.pk])})
    out.append({"name": here, "url": None})
    return out


# --- reporting ---------------------------------------------------------------------------------------


def _render_report(
    request: HttpRequest, *, hotline: bool, form: dict[str, Any], errors: list[dict[str, str]], status: int = 200
) -> HttpResponse:
    user = request.user
    buildings = q.report_buildings(user, Action.COMMAND if hotline else Action.VIEW)
    sectors = q.categories_by_sector()
    fields = {c.code: q.attribute_fields(c) for g in sectors for c in g.categories}
    for fs in fields.values():
        for spec in fs:
            spec["chosen"] = form["attrs"].get(spec["name"], [])
    place_q = " ".join((form.get("place_q") or "").split())[:60]
    if hotline:
        # the desk finds a building by typing (``q.find_buildings``), not in a list of a thousand
        found = q.find_buildings(buildings, place_q)
        chosen = q.building_label(buildings, form["building"]) if form["building"] else ""
        if chosen and not any(str(b["pk"]) == form["building"] for b in found):
            found.insert(0, {"pk": int(form["building"]), "label": chosen, "address": "", "community": ""})
        places: list[dict[str, Any]] = [{"name": _("Buildings found"), "buildings": found}] if found else []
    else:
        places = q.place_choices(buildings)
    ctx = {
        "hotline": hotline,
        "form": form,
        "errors": errors,
        "sectors": sectors,
        "attribute_sets": [{"code": code, "fields": fs} for code, fs in fields.items() if fs],
        "places": places,
        "place_q": place_q,
        "places_url": reverse("governance:event_places"),
        "geojson": q.place_map(user, buildings),
        "max_photos": inputs.MAX_PHOTOS,
        "max_photo_bytes": photos.MAX_PHOTO_BYTES,  # the phone shrinks each photo below it
        "crumbs": _crumbs(_("Hotline desk") if hotline else _("Report a problem")),
        "action": reverse("governance:event_hotline" if hotline else "governance:event_new"),
        "nearby_url": reverse("governance:event_nearby"),
    }
    return render(request, "governance/events/new.html", ctx, status=status)


def _where(request: HttpRequest, form: dict[str, Any], action: Action) -> places_models.Building:
    """The building the report is about: the one picked (``queries.events.building_in``: one the
    page offered), or the nearest to the position given (``services.events.locate``: 400 outside
    the jurisdiction)."""
    if form["building"]:
        return q.building_in(request.user, form["building"], action)
    if not form["lat"] or not form["lon"]:
        raise LinliError.one(
            "location_required",
            "请提供位置(定位、在地图上选点或选择楼栋)。",
            "Give a location (from the device, picked on the map, or a building).",
        )
    return svc.locate(form["lat"], form["lon"])


def _submit(request: HttpRequest, *, hotline: bool) -> HttpResponse:
    form = inputs.report_form(request.POST)
    form["place_q"] = request.POST.get("place_q", "")
    user = request.user
    if hotline and request.POST.get("find"):
        # "Find" without JavaScript: the same form again, with the buildings found (nothing sent)
        return _render_report(request, hotline=True, form=form, errors=[])
    try:
        action = Action.COMMAND if hotline else Action.VIEW
        building = _where(request, form, action)
        if hotline:
            channel = form["channel"] if form["channel"] in (Channel.HOTLINE, Channel.TASK) else Channel.HOTLINE
            if not permissions.commands_at(user, building):
                raise LinliError.one(
                    "outside_jurisdiction",
                    "该位置不在您指挥中心的辖区内。",
                    "This place is outside your command centre's jurisdiction.",
                )
        else:
            # a grid worker (or anyone with REPORT there) reports as the grid; anyone else as a resident
            channel = Channel.GRID if permissions.reports_at(user, building) else Channel.RESIDENT
        data = svc.Report(
            category=form["category"],
            lat=form["lat"] or None,
            lon=form["lon"] or None,
            building=building.pk,
            description=form["description"],
            address=form["address"],
            attributes=q.attributes_from_post(request.POST, form["category"]),
            reporter_name=form["caller_name"] if hotline else "",
            reporter_phone=form["caller_phone"] if hotline else "",
            client_key=form["client_key"],
            photos=request.FILES.getlist("photos"),
            photo_stamps=request.POST.getlist("photo_stamp"),
        )
        event, created = svc.report(user, data, channel=channel)
    except LinliError as exc:
        if _wants_json(request):
            # the page's script (a draft sent when back online): the refusal in the page's language
            texts = [lang.pick(t["zh"], t["en"]) for t in _texts(exc)]
            return JsonResponse({"ok": False, "errors": texts}, status=exc.status)
        return _render_report(request, hotline=hotline, form=form, errors=_texts(exc), status=exc.status)
    if created:
        messages.success(request, _("Reported. The case number is #%(pk)d.") % {"pk": event.pk})
    else:
        messages.info(request, _("This report was already received as #%(pk)d.") % {"pk": event.pk})
    url = reverse("governance:event_detail", args=[event.pk]) + "?reported=1"
    if _wants_json(request):
        return JsonResponse({"ok": True, "pk": event.pk, "url": url, "created": created})
    return HttpResponseRedirect(url)


def _wants_json(request: HttpRequest) -> bool:
    """The report page's script sends the form with fetch and asks for JSON (docs/governance.md
    "Photos and bad signal"); the form without JavaScript gets the page and the redirect."""
    return "application/json" in request.headers.get("Accept", "")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest) -> HttpResponse:
    """Anyone signed in may report; the channel follows from the place (grid worker or resident)."""
    if request.method == "POST":
        return _submit(request, hotline=False)
    form = inputs.report_form(request.GET)
    form["client_key"] = str(uuid.uuid4())
    return _render_report(request, hotline=False, form=form, errors=[])


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def event_hotline(request: HttpRequest) -> HttpResponse:
    """The hotline desk: for the command centre (COMMAND) only."""
    if not permissions.holds(request.user, Action.COMMAND):
        raise PermissionDenied("the hotline desk is the command centre's")
    if request.method == "POST":
        return _submit(request, hotline=True)
    form = inputs.report_form(request.GET)
    form["client_key"] = str(uuid.uuid4())
    form["channel"] = Channel.HOTLINE.value
    form["place_q"] = request.GET.get("place_q", "")
    return _render_report(request, hotline=True, form=form, errors=[])


@login_required
@require_GET
def event_places(request: HttpRequest) -> JsonResponse:
    """The hotline desk's typeahead: buildings of the user's command centre whose compound, name or
    address holds the words typed (``?q=``), at most ``q.MAX_FOUND``. Only for the command centre
    (the desk is theirs); a building outside its scope is never found."""
    if not permissions.holds(request.user, Action.COMMAND):
        raise PermissionDenied("the hotline desk is the command centre's")
    buildings = q.report_buildings(request.user, Action.COMMAND)
    found = q.find_buildings(buildings, request.GET.get("q", ""))
    return JsonResponse({"results": found})


@login_required
@require_GET
def event_nearby(request: HttpRequest) -> HttpResponse:
    """Possible duplicates for the report page: open events of the same category nearby."""
    category = q.active_category(request.GET.get("category", ""))
    lat, lon = request.GET.get("lat", ""), request.GET.get("lon", "")
    building = request.GET.get("building", "")
    ctx: dict[str, Any] = {"result": None}
    try:
        if category is not None:
            if building.isdigit() and not (lat and lon):
                b = q.building_in(request.user, building, Action.VIEW)
                lat, lon = str(b.lat or ""), str(b.lon or "")
            if lat and lon:
                la, lo = float(lat), float(lon)
                ctx["result"] = q.nearby(request.user, category, la, lo)
                # public ones the user does not see in full: "me too" instead of a duplicate (queries.public)
                ctx["public"] = governance_public.nearby_public(category, la, lo, ctx["result"]["shown"])
    except (LinliError, ValueError):
        ctx["result"] = None
    return render(request, "governance/events/_nearby.html", ctx)


# --- list --------------------------------------------------------------------------------------------


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    f = q.parse_filters(request.GET)
    staff = permissions.holds(user, Action.EVENTS)
    if not staff:
        f.mine = True
    page = paginate(request.GET, q.events_for(user, f), q.PER_PAGE, label=_("Events"))
    search = q.parse_search(f.q) if f.q else None
    phone_search = bool(search and search.phone and staff and not f.mine)
    if phone_search and search is not None:
        svc.log_phone_search(user, search.phone, page.count)
    now = clock.now()
    rows = []
    for e in page.rows:
        rows.append({"e": e, "overdue": svc.is_overdue(e, now)})
    ctx = {
        "rows": rows,
        "page": page,
        "filters": f,
        "phone_search": phone_search,
        "query": f.query(),
        "staff": staff,
        "steps": [(s.value, lang.pick(*loop.STEP_NAMES[s])) for s in loop.Step],
        "sectors": [(s.value, lang.pick(*SECTOR_NAMES[s])) for s in Sector],
        "categories": q.active_categories(),
        "grids": q.grid_choices(user),
        "can_hotline": permissions.holds(user, Action.COMMAND),
        "crumbs": [{"name": _("Home"), "url": reverse("workbench:home")}, {"name": _("Grid events"), "url": None}],
    }
    return render(request, "governance/events/list.html", ctx)


# --- detail and moves --------------------------------------------------------------------------------


def _render_detail(
    request: HttpRequest, event: Event, full: bool, errors: list[dict[str, str]] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    now = clock.now()
    moves = q.allowed_moves(user, event)
    asks = q.allowed_asks(user, event) if full else []
    ctx: dict[str, Any] = {
        "event": event,
        "full": full,
        "errors": errors or [],
        "step": event.step_label,
        "progress": q.progress(event),
        "attributes": q.attribute_display(event),
        "history": q.history(event, full),
        "photos": q.photos_of(event),
        "max_photo_bytes": photos.MAX_PHOTO_BYTES,  # the phone shrinks each photo below it
        "overdue": svc.is_overdue(event, now),
        "level": lang.pick(*loop.LEVEL_NAMES.get(event.escalation, ("", ""))),
        "moves": moves,
        "actions": [
            {"move": m, "zh": q.move_label(m)[0], "en": q.move_label(m)[1], "label": lang.pick(*q.move_label(m))}
            for m in moves
        ],
        "asks": asks,
        # one form at a time (a phone shows the list of moves, then the chosen one's form):
        # ``?move=`` without JavaScript, the posted move after a refusal, or the only one there is
        "chosen": _chosen(request, moves, asks),
        "pending": q.pending_request(event) if full else None,
        "can_decide": full and permissions.may_decide(user, event),
        "geojson": q.event_map(event),
        "reported": request.GET.get("reported") == "1" and permissions.is_reporter(user, event),
        "crumbs": _crumbs(f"#{event.pk} {event.category.label}"),
        "channel": Channel(event.channel).label if event.channel in Channel.values else event.channel,
        # free text (description, address, notes, reasons) masked without people's data here
        "see_people": permissions.sees_people(user, event),
        "step_limit": lang.pick(*loop.LIMIT_NAMES.get(loop.LIMIT_OF_STEP.get(loop.Step(event.step), ""), ("", ""))),
    }
    ctx["part"] = governance_public.part(user, event)  # "me too" count and follow buttons (queries.public)
    ctx["public_url"] = reverse("governance:public_event", args=[event.pk]) if permissions.is_public(event) else ""
    if full:
        ctx["contact"] = svc.reporter_contact(user, event)
    else:
        ctx["contact"] = None
    if "dispatch" in moves:
        ctx["departments"], ctx["default_department"] = q.dispatch_choices(event)
    if "void" in moves:
        ctx["duplicates"] = q.nearby(user, event.category, event.lat, event.lon, exclude=event.pk)["shown"]
    if "evaluate" in moves:
        ctx["scores"] = range(1, 6)
    return render(request, "governance/events/detail.html", ctx, status=status)


def _chosen(request: HttpRequest, moves: list[str], asks: list[dict[str, str]]) -> str:
    """The move whose form the case page shows: ``move`` (a move, or ``ask-<kind>`` for a request)
    from the query or the refused form, if the user may take it now; else the only one, else none."""
    names = [*moves, *(f"ask-{k['kind']}" for k in asks)]
    raw = request.GET.get("move", "")
    if request.method == "POST":
        raw = request.POST.get("move", "") or (f"ask-{request.POST.get('kind', '')}" if "kind" in request.POST else "")
    if raw in names:
        return raw
    return names[0] if len(names) == 1 else ""


@never_cache
@login_required
@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event, full = q.event_for(request.user, pk)
    return _render_detail(request, event, full)


def _refused(request: HttpRequest, event: Event, full: bool, exc: LinliError) -> HttpResponse:
    event.refresh_from_db()
    return _render_detail(request, event, full, _texts(exc), exc.status)


# Moves that end a case for good ask first (linli.core.confirm): what they do, then confirm=1.
CONFIRM_MOVES = {loop.Move.VOID.value, loop.Move.VERIFY_PASS.value}


def _ask_end(request: HttpRequest, event: Event, move: str) -> HttpResponse:
    """The confirmation page of voiding or closing a case."""
    name = q.move_label(move)
    if move == loop.Move.VOID:
        consequences = [
            _("Voiding ends the case: it is no longer handled, leaves every queue and cannot be reopened."),
            _("The reason is kept in the case's history and shown to the reporter."),
        ]
    else:
        consequences = [
            _("Closing the case ends it: it leaves every queue and cannot be reopened."),
            _("The reporter is asked to evaluate how it was handled."),
        ]
    note = request.POST.get("note", "").strip()
    return confirm.ask(
        request,
        title=_("%(move)s: case #%(pk)d?") % {"move": lang.pick(*name), "pk": event.pk},
        consequences=consequences,
        button=_("Yes: %(move)s") % {"move": lang.pick(*name)},
        cancel_url=reverse("governance:event_detail", args=[event.pk]),
        details=[(_("Case"), f"#{event.pk} {event.category.label}"), *([(_("Note"), note)] if note else [])],
        file_field="photos" if move == loop.Move.VERIFY_PASS else "",
        file_label=_("Photos (attach them again)"),
        crumbs=_crumbs(lang.pick(*name), event),
    )


@never_cache
@login_required
@require_POST
def event_act(request: HttpRequest, pk: int) -> HttpResponse:
    """One move of the loop; the service checks the role and the step again. Voiding and closing
    ask first (``confirm=1``); a move the user may not take goes straight to the service's refusal."""
    event, full = q.event_for(request.user, pk)
    post = request.POST
    move = post.get("move", "")
    if not full and move != loop.Move.EVALUATE:
        # a reporter without EVENTS may only evaluate their own case
        raise PermissionDenied("the reporter may only evaluate")
    if (
        move in CONFIRM_MOVES
        and not confirm.confirmed(request)
        and move in q.allowed_moves(request.user, event)
        and str(post.get("expected_step") or event.step) == event.step
        and (move != loop.Move.VOID or post.get("note", "").strip())
    ):
        return _ask_end(request, event, move)
    try:
        department: Department | None = None
        raw = post.get("department", "")
        if move == loop.Move.DISPATCH and raw:
            department = q.department(raw)
        duplicate: Event | None = None
        raw = post.get("duplicate_of", "")
        if move == loop.Move.VOID and raw:
            duplicate = q.duplicate_in_scope(request.user, raw)
        svc.act(
            request.user,
            event,
            move,
            note=post.get("note", ""),
            department=department,
            photos=request.FILES.getlist("photos"),
            score=post.get("score"),
            expected_step=post.get("expected_step") or None,
            duplicate_of=duplicate,
        )
    except LinliError as exc:
        return _refused(request, event, full, exc)
    name = q.move_label(move)
    messages.success(request, _("Done: %(move)s.") % {"move": lang.pick(*name)})
    return HttpResponseRedirect(reverse("governance:event_detail", args=[event.pk]))


@never_cache
@login_required
@require_POST
def event_ask(request: HttpRequest, pk: int) -> HttpResponse:
    """A department asks to return, extend, defer, put on the backlog or void; the centre decides."""
    event, full = q.event_for(request.user, pk)
    post = request.POST
    until = None
    if not full:
        raise PermissionDenied("only the department the case is dispatched to may ask")
    raw = (post.get("until") or "").strip()
    try:
        day = parse_date(raw) if len(raw) == 10 else None
        moment = parse_datetime(raw) if raw and day is None else None
    except ValueError:
        day = moment = None
    if day is not None:
        until = timezone.make_aware(datetime(day.year, day.month, day.day, 9))
    elif moment is not None:
        until = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
    try:
        svc.ask(request.user, event, post.get("kind", ""), post.get("reason", ""), hours=post.get("hours"), until=until)
    except LinliError as exc:
        return _refused(request, event, full, exc)
    messages.success(request, _("Request sent to the command centre for approval."))
    return HttpResponseRedirect(reverse("governance:event_detail", args=[event.pk]))


@never_cache
@login_required
@require_POST
def event_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The command centre approves or refuses the case's pending request."""
    event, full = q.event_for(request.user, pk)
    if not full:
        raise PermissionDenied("the command centre decides")
    req = q.pending_request(event)
    approve = request.POST.get("approve") == "1"
    if (
        req is not None
        and approve
        and req.kind == loop.Move.VOID
        and str(req.pk) == request.POST.get("request", "")
        and not confirm.confirmed(request)
        and permissions.may_decide(request.user, event)
    ):
        name = q.move_label(loop.Move.VOID)
        return confirm.ask(
            request,
            title=_("Approve voiding case #%(pk)d?") % {"pk": event.pk},
            consequences=[
                _("Voiding ends the case: it is no longer handled, leaves every queue and cannot be reopened."),
                _("The department's reason is kept in the case's history and shown to the reporter."),
            ],
            button=_("Yes: %(move)s") % {"move": lang.pick(*name)},
            cancel_url=reverse("governance:event_detail", args=[event.pk]),
            details=[(_("Case"), f"#{event.pk} {event.category.label}"), (_("Reason"), req.reason)],
            crumbs=_crumbs(lang.pick(*name), event),
        )
    try:
        if req is None or str(req.pk) != request.POST.get("request", ""):
            raise LinliError.one("already_decided", "该申请已审批。", "This request was already decided.", 409)
        svc.decide(request.user, req, request.POST.get("approve") == "1", request.POST.get("note", ""))
    except LinliError as exc:
        return _refused(request, event, full, exc)
    messages.success(request, _("Decision saved."))
    return HttpResponseRedirect(reverse("governance:event_detail", args=[event.pk]))


@login_required
@require_GET
def event_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A photo of an event, to those who may see the event (EVENTS) or its reporter."""
    return photos.serve(q.photo_for(request.user, pk).image)
