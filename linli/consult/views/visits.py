"""Pages of home visits: the phone page grid workers log a visit from (in under 30 seconds, with
or without JavaScript), a building's consensus (the support curve, the floor stack by attitude,
who has not been visited for N days, recent visits) and a project's summary by building.

Objects come through the scoped lookups of ``linli.consult.queries.visits`` (outside the scope →
404, seen but not allowed → 403; predicates in ``linli.consult.permissions``). Attitudes per
dwelling and visit notes are shown only to those who may VISIT there; owners' names only to
VIEW_PEOPLE roles, masked, and the read is logged. The one write is ``services.visits.log_visit``;
its form is read by the API's own ``VisitCreateSerializer`` (``linli.core.forms.read_form``), so a
page and the API parse attitudes, reasons, dates and text the same way.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.models import AccessLog
from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.accounts.services import log_access
from linli.consult import consensus, permissions, vocab
from linli.consult.api.visits import VisitCreateSerializer
from linli.consult.models import Attitude
from linli.consult.queries import visits as q
from linli.consult.services import visits as svc
from linli.core import clock, lang
from linli.core.errors import LinliError, Problem
from linli.core.forms import read_form
from linli.core.ids import as_id
from linli.core.net import client_ip
from linli.core.types import User
from linli.places.models import Building, Dwelling
from linli.renewal.models import Project

ATTITUDE_BUTTONS = (
    (Attitude.SUPPORT, "支持", "support", "✓"),
    (Attitude.UNDECIDED, "观望", "undecided", "?"),
    (Attitude.OPPOSE, "反对", "oppose", "✗"),
)
SYMBOL = {Attitude.SUPPORT: "✓", Attitude.UNDECIDED: "?", Attitude.OPPOSE: "✗", consensus.NOT_VISITED: "·"}


def attitude_label(code: str | None) -> str:
    labels: dict[str, str] = {
        Attitude.SUPPORT.value: _("support"),
        Attitude.UNDECIDED.value: _("undecided"),
        Attitude.OPPOSE.value: _("oppose"),
    }
    return labels.get(code or "", _("not visited"))


def _int(raw: str | None) -> int | None:
    """An id from the query string (``linli.core.ids.as_id``); None when absent or not an id."""
    return as_id(raw) if raw else None


def _crumbs(user: User, project: Project, here: str, building: Building | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("workbench:home")}]
    c = project.compound
    out.append({"name": c.name, "url": reverse("places:compound", args=[c.pk]) if can(user, Action.VIEW, c) else None})
    out.append({"name": project.name, "url": reverse("consult:visit_project", args=[project.pk])})
    if building is not None:
        out.append({"name": building.name, "url": reverse("consult:visit_building", args=[project.pk, building.pk])})
    out.append({"name": here, "url": None})
    return out


def _reason_chips(checked: list[str]) -> list[dict[str, Any]]:
    language = lang.code()
    return [
        {"code": r.code, "label": r.label(language), "kind": r.kind, "checked": r.code in checked}
        for r in vocab.active_reasons()
    ]


def _parse_form(post: QueryDict) -> tuple[dict[str, Any], list[Problem]]:
    """The visit form read by the API's ``VisitCreateSerializer``: the values the service takes, and
    the page's own problems for a date or a time the API refuses (everything else the service
    checks, with its own messages)."""
    form = read_form(VisitCreateSerializer, post)
    problems: list[Problem] = []
    data: dict[str, Any] = {
        "attitude": form.get("attitude", ""),
        "reasons": form.get("reasons", []),
        "note": form.get("note", ""),
        "next_step": form.get("next_step", ""),
        "client_key": form.get("client_key", "")[:64],
        "next_visit_on": None,
        "visited_at": None,
    }
    day = form.get("next_visit_on")
    if isinstance(day, str):
        problems.append(Problem("bad_date", "下次走访日期格式不对。", "The next-visit date is not a date."))
    else:
        data["next_visit_on"] = day
    when = form.get("visited_at")
    if isinstance(when, str):
        problems.append(Problem("bad_time", "走访时间格式不对。", "The visit time is not a date and time."))
    else:
        data["visited_at"] = when  # aware: a time without a zone is in the current one, as the API reads it
    return data, problems


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest, pk: int) -> HttpResponse:
    """The phone page: building → unit → dwelling, then attitude, reasons, note, next step."""
    user = request.user
    project = q.project_for(user, pk)
    visitable = q.visitable(user, project)
    if not visitable.exists():
        raise PermissionDenied("no dwelling of this project to visit")
    data = request.POST if request.method == "POST" else request.GET
    ctx: dict[str, Any] = {"project": project, "buttons": ATTITUDE_BUTTONS}
    base = reverse("consult:visit_new", args=[project.pk])

    done_id = _int(request.GET.get("done"))
    if done_id:
        done = q.my_visit(user, project, done_id)
        if done is not None:
            nxt = q.next_dwelling(user, project, done.dwelling)
            ctx["done"] = {
                "visit": done,
                "attitude": attitude_label(done.attitude),
                "where": f"{done.dwelling.building.name} {done.dwelling.unit.number}单元 {done.dwelling.number}",
                "next": nxt,
                "next_url": f"{base}?{urlencode({'dwelling': nxt.pk})}" if nxt else None,
                "again_url": f"{base}?{urlencode({'dwelling': done.dwelling_id})}",
            }

    dwelling: Dwelling | None = None
    dwelling_id = _int(data.get("dwelling"))
    if dwelling_id:
        # outside the user's scope (or not the project's): not revealed
        dwelling = q.dwelling_to_visit(user, project, dwelling_id)

    status = 200
    if request.method == "POST":
        if dwelling is None:
            raise Http404("no dwelling chosen")
        form, problems = _parse_form(request.POST)
        try:
            if problems:
                raise LinliError(problems)
            visit = svc.log_visit(
                user,
                project,
                dwelling,
                attitude=form["attitude"],
                reasons=form["reasons"],
                note=form["note"],
                next_step=form["next_step"],
                next_visit_on=form["next_visit_on"],
                visited_at=form["visited_at"],
                client_key=form["client_key"],
            )
        except LinliError as exc:
            ctx["errors"] = [p.en if lang.is_english() else p.zh for p in exc.problems]
            ctx["form"] = form
            status = exc.status
        else:
            # Post/redirect/get: a reload never posts twice; the same key would return this visit anyway.
            target = f"{base}?{urlencode({'unit': dwelling.unit_id, 'done': visit.pk})}"
            return HttpResponseRedirect(target, status=303)

    if dwelling is not None:
        form = ctx.get("form") or {"reasons": [], "client_key": ""}
        current = q.latest_visit(project, dwelling)
        ctx.update(
            step="form",
            dwelling=dwelling,
            current=current,
            current_label=attitude_label(current["attitude"]) if current else None,
            visits=q.visit_count(project, dwelling),
            chips=_reason_chips(form.get("reasons", [])),
            client_key=form.get("client_key") or uuid.uuid4().hex,
            form=form,
            today=clock.today().isoformat(),
            back_url=f"{base}?{urlencode({'unit': dwelling.unit_id})}",
        )
    else:
        _picker(ctx, project, visitable, request.GET, base)
    response = render(request, "consult/visits/new.html", ctx, status=status)
    htmx = getattr(request, "htmx", None)
    if htmx and request.method == "GET":
        response["HX-Push-Url"] = request.get_full_path()
    return response


def _picker(ctx: dict[str, Any], project: Project, visitable: QuerySet[Dwelling], get: Any, base: str) -> None:
    """Building → unit → dwelling: plain links (big buttons); a level with one choice is skipped."""
    unit_id = _int(get.get("unit"))
    building_id = _int(get.get("building"))
    unit = None
    if unit_id:
        unit = q.picker_unit(visitable, unit_id)
    if unit is None:
        buildings = q.picker_buildings(visitable)
        if building_id is None and len(buildings) == 1:
            building_id = buildings[0]["id"]
        if building_id is None:
            ctx.update(
                step="building",
                choices=[{"label": b["name"], "url": f"{base}?{urlencode({'building': b['id']})}"} for b in buildings],
            )
            return
        if building_id not in {b["id"] for b in buildings}:
            raise Http404("building not found")
        units = q.picker_units(visitable, building_id)
        if len(units) != 1:
            ctx.update(
                step="unit",
                building=q.building(building_id),
                choices=[
                    {"label": f"{u['number']}单元", "url": f"{base}?{urlencode({'unit': u['id']})}"} for u in units
                ],
            )
            return
        unit = q.picker_unit(visitable, units[0]["id"])
    attitudes = q.attitudes(project, unit=unit)
    floors: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for d in q.unit_dwellings(visitable, unit):
        key = attitudes.get(d["id"], consensus.NOT_VISITED)
        floors[d["floor"]].append(
            {
                **d,
                "key": key,
                "symbol": SYMBOL[key],
                "label": attitude_label(attitudes.get(d["id"])),
                "url": f"{base}?{urlencode({'dwelling': d['id']})}",
            }
        )
    ctx.update(
        step="dwelling",
        unit=unit,
        building=unit.building,
        floors=[{"floor": f, "cells": floors[f]} for f in sorted(floors, reverse=True)],
        cols=max((len(v) for v in floors.values()), default=1),
        up_url=f"{base}?{urlencode({'building': unit.building_id})}",
    )


def _chart(series: list[consensus.Point]) -> dict[str, Any]:
    return {
        "days": [p.day.isoformat() for p in series],
        "support": [float(p.support_pct) for p in series],
        "label": _("Support (% of dwellings)"),
    }


@login_required
@require_GET
def building(request: HttpRequest, pk: int, building_pk: int) -> HttpResponse:
    user = request.user
    project = q.project_for(user, pk)
    obj = q.project_building(project, building_pk)
    if not permissions.may_visit(user, obj):
        # The project is visible and lists its buildings: refuse without hiding the building.
        raise PermissionDenied("VISIT needed on this building")
    data = q.building_consensus(project, obj)
    days = q.stale_days(request.GET.get("days"))
    stale = data.stale(days)
    watch = data.with_attitude(Attitude.OPPOSE, Attitude.UNDECIDED)
    watch.sort(key=lambda s: (s.attitude != Attitude.OPPOSE, s.unit, -s.floor, s.number))
    with_people = permissions.sees_people(user, obj)
    owners: dict[int, list[str]] = {}
    if with_people:
        owners = q.owner_names(user, obj, {s.id for s in watch} | {s.id for s in stale})
        log_access(user, AccessLog.What.VIEW_PEOPLE, obj, obj.path, reason="consensus page", ip=client_ip(request))
    language = lang.code()

    def row(s: consensus.DwellingState) -> dict[str, Any]:
        return {
            "s": s,
            "label": attitude_label(s.attitude),
            "symbol": SYMBOL[s.key],
            "reasons": vocab.labels(s.reasons, language),
            "owners": owners.get(s.id, []),
            "log_url": reverse("consult:visit_new", args=[project.pk]) + "?" + urlencode({"dwelling": s.id}),
        }

    recent = q.recent_visits(project, obj)
    units = [
        {
            **u,
            "floors": [
                {
                    "floor": f["floor"],
                    "cells": [
                        {"s": c, "symbol": SYMBOL[c.key], "label": attitude_label(c.attitude)} for c in f["cells"]
                    ],
                }
                for f in u["floors"]
            ],
        }
        for u in data.units
    ]
    con = data.consensus
    return render(
        request,
        "consult/visits/building.html",
        {
            "project": project,
            "place": obj,
            "c": con,
            "units": units,
            "watch": [row(s) for s in watch],
            "stale": [row(s) for s in stale],
            "days": days,
            "with_people": with_people,
            "recent": [
                {
                    "v": v,
                    "label": attitude_label(v.attitude),
                    "reasons": vocab.labels(v.reasons, language),
                    "where": f"{v.dwelling.unit.number}-{v.dwelling.number}",
                }
                for v in recent
            ],
            "chart": _chart(con.series),
            "series": consensus.series_rows(con.series),
            "log_url": reverse("consult:visit_new", args=[project.pk]) + "?" + urlencode({"building": obj.pk}),
            "crumbs": _crumbs(user, project, _("Consensus"), obj),
        },
    )


@login_required
@require_GET
def project_summary(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    project = q.project_for(user, pk)
    data = q.project_consensus(project)
    visit_ids = q.visit_building_ids(user, [b["id"] for b in data.buildings])
    rows = [
        {
            **b,
            "url": reverse("consult:visit_building", args=[project.pk, b["id"]]) if b["id"] in visit_ids else None,
        }
        for b in data.buildings
    ]
    return render(
        request,
        "consult/visits/project.html",
        {
            "project": project,
            "c": data.total,
            "rows": rows,
            "blocked": data.blocked_buildings,
            "chart": _chart(data.total.series),
            "series": consensus.series_rows(data.total.series),
            "may_visit": bool(visit_ids),
            "log_url": reverse("consult:visit_new", args=[project.pk]),
            "crumbs": _crumbs(user, project, _("Residents' consent")),
        },
    )
