"""Pages of home visits: the phone page grid workers log a visit from (in under 30 seconds, with
or without JavaScript), a building's consensus (the support curve, the floor stack by attitude,
who has not been visited for N days, recent visits) and a project's summary by building.

Objects come through ``get_or_404`` / ``authorize`` (outside the scope → 404, seen but not
allowed → 403). Attitudes per dwelling and visit notes are shown only to those who may VISIT
there; owners' names only to VIEW_PEOPLE roles, masked, and the read is logged.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.models import AccessLog
from linli.accounts.permissions import can, get_or_404, scoped
from linli.accounts.roles import Action
from linli.accounts.services import log_access
from linli.consult import queries_visits as qv
from linli.consult import vocab
from linli.consult.models import Attitude, Visit
from linli.consult.services.visits import log_visit
from linli.core import clock
from linli.core.errors import LinliError, Problem
from linli.core.ids import as_id
from linli.core.masking import mask_name
from linli.core.net import client_ip
from linli.places import models as pm
from linli.renewal.models import Project

ATTITUDE_BUTTONS = (
    (Attitude.SUPPORT, "支持", "support", "✓"),
    (Attitude.UNDECIDED, "观望", "undecided", "?"),
    (Attitude.OPPOSE, "反对", "oppose", "✗"),
)
SYMBOL = {Attitude.SUPPORT: "✓", Attitude.UNDECIDED: "?", Attitude.OPPOSE: "✗", qv.NOT_VISITED: "·"}


def _en() -> bool:
    return (get_language() or "").startswith("en")


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


def _project(user: Any, pk: int) -> Project:
    return get_or_404(user, Action.VIEW, Project.objects.select_related("compound__community"), pk=pk)


def _crumbs(user: Any, project: Project, here: str, building: pm.Building | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("places:home")}]
    c = project.compound
    out.append({"name": c.name, "url": reverse("places:compound", args=[c.pk]) if can(user, Action.VIEW, c) else None})
    out.append({"name": project.name, "url": reverse("consult:visit_project", args=[project.pk])})
    if building is not None:
        out.append({"name": building.name, "url": reverse("consult:visit_building", args=[project.pk, building.pk])})
    out.append({"name": here, "url": None})
    return out


def _visitable(user: Any, project: Project) -> Any:
    """Dwellings of the project the user may log visits at."""
    return scoped(user, Action.VISIT, pm.Dwelling.objects.filter(building__in=qv.project_buildings(project)))


def _attitudes(project: Project, **dwelling_filter: Any) -> dict[int, str]:
    """Current attitude of each dwelling (latest visit wins), one query."""
    out: dict[int, str] = {}
    rows = (
        Visit.objects.filter(project=project, **{f"dwelling__{k}": v for k, v in dwelling_filter.items()})
        .order_by("visited_at", "id")
        .values_list("dwelling_id", "attitude")
    )
    for dwelling_id, attitude in rows:
        out[dwelling_id] = attitude
    return out


def _reason_chips(checked: list[str]) -> list[dict[str, Any]]:
    lang = "en" if _en() else "zh-hans"
    return [
        {"code": r.code, "label": r.label(lang), "kind": r.kind, "checked": r.code in checked}
        for r in vocab.active_reasons()
    ]


def _parse_form(post: Any) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []
    data: dict[str, Any] = {
        "attitude": post.get("attitude", ""),
        "reasons": post.getlist("reasons"),
        "note": post.get("note", ""),
        "next_step": post.get("next_step", ""),
        "client_key": post.get("client_key", "")[:64],
        "next_visit_on": None,
        "visited_at": None,
    }
    raw = post.get("next_visit_on", "").strip()
    if raw:
        day = parse_date(raw) if len(raw) == 10 else None
        if day is None:
            problems.append(Problem("bad_date", "下次走访日期格式不对。", "The next-visit date is not a date."))
        data["next_visit_on"] = day
    raw = post.get("visited_at", "").strip()
    if raw:
        try:
            when = parse_datetime(raw)
        except ValueError:
            when = None
        if when is None:
            problems.append(Problem("bad_time", "走访时间格式不对。", "The visit time is not a date and time."))
        else:
            data["visited_at"] = timezone.make_aware(when) if timezone.is_naive(when) else when
    return data, problems


def _next_dwelling(user: Any, project: Project, dwelling: pm.Dwelling) -> pm.Dwelling | None:
    """The dwelling after this one in the building's order (unit, floor, number) the user may visit."""
    ids = list(
        _visitable(user, project)
        .filter(building_id=dwelling.building_id)
        .order_by("unit__number", "floor", "number")
        .values_list("id", flat=True)
    )
    if dwelling.pk in ids:
        i = ids.index(dwelling.pk)
        if i + 1 < len(ids):
            return pm.Dwelling.objects.select_related("unit").filter(pk=ids[i + 1]).first()
    return None


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest, pk: int) -> HttpResponse:
    """The phone page: building → unit → dwelling, then attitude, reasons, note, next step."""
    user = request.user
    project = _project(user, pk)
    visitable = _visitable(user, project)
    if not visitable.exists():
        raise PermissionDenied("no dwelling of this project to visit")
    q = request.POST if request.method == "POST" else request.GET
    ctx: dict[str, Any] = {"project": project, "buttons": ATTITUDE_BUTTONS}
    base = reverse("consult:visit_new", args=[project.pk])

    done_id = _int(request.GET.get("done"))
    if done_id:
        done = (
            Visit.objects.select_related("dwelling__unit", "dwelling__building")
            .filter(pk=done_id, visitor_id=user.pk, project=project)
            .first()
        )
        if done is not None:
            nxt = _next_dwelling(user, project, done.dwelling)
            ctx["done"] = {
                "visit": done,
                "attitude": attitude_label(done.attitude),
                "where": f"{done.dwelling.building.name} {done.dwelling.unit.number}单元 {done.dwelling.number}",
                "next": nxt,
                "next_url": f"{base}?{urlencode({'dwelling': nxt.pk})}" if nxt else None,
                "again_url": f"{base}?{urlencode({'dwelling': done.dwelling_id})}",
            }

    dwelling: pm.Dwelling | None = None
    dwelling_id = _int(q.get("dwelling"))
    if dwelling_id:
        dwelling = visitable.select_related("unit", "building").filter(pk=dwelling_id).first()
        if dwelling is None:
            # Outside the user's scope (or not the project's): not revealed.
            get_or_404(user, Action.VISIT, pm.Dwelling, pk=dwelling_id)
            raise Http404("dwelling not in this project")

    status = 200
    if request.method == "POST":
        if dwelling is None:
            raise Http404("no dwelling chosen")
        data, problems = _parse_form(request.POST)
        try:
            if problems:
                raise LinliError(problems)
            visit = log_visit(
                user,
                project,
                dwelling,
                attitude=data["attitude"],
                reasons=data["reasons"],
                note=data["note"],
                next_step=data["next_step"],
                next_visit_on=data["next_visit_on"],
                visited_at=data["visited_at"],
                client_key=data["client_key"],
            )
        except LinliError as exc:
            ctx["errors"] = [p.en if _en() else p.zh for p in exc.problems]
            ctx["form"] = data
            status = exc.status
        else:
            # Post/redirect/get: a reload never posts twice; the same key would return this visit anyway.
            target = f"{base}?{urlencode({'unit': dwelling.unit_id, 'done': visit.pk})}"
            return HttpResponseRedirect(target, status=303)

    if dwelling is not None:
        form = ctx.get("form") or {"reasons": [], "client_key": ""}
        current = (
            Visit.objects.filter(project=project, dwelling=dwelling)
            .order_by("-visited_at", "-id")
            .values("attitude", "visited_at", "next_step")
            .first()
        )
        ctx.update(
            step="form",
            dwelling=dwelling,
            current=current,
            current_label=attitude_label(current["attitude"]) if current else None,
            visits=Visit.objects.filter(project=project, dwelling=dwelling).count(),
            chips=_reason_chips(form.get("reasons", [])),
            client_key=form.get("client_key") or uuid.uuid4().hex,
            form=form,
            today=clock.today().isoformat(),
            back_url=f"{base}?{urlencode({'unit': dwelling.unit_id})}",
        )
    else:
        _picker(ctx, user, project, visitable, request.GET, base)
    response = render(request, "consult/visits/new.html", ctx, status=status)
    htmx = getattr(request, "htmx", None)
    if htmx and request.method == "GET":
        response["HX-Push-Url"] = request.get_full_path()
    return response


def _picker(ctx: dict[str, Any], user: Any, project: Project, visitable: Any, get: Any, base: str) -> None:
    """Building → unit → dwelling: plain links (big buttons); a level with one choice is skipped."""
    unit_id = _int(get.get("unit"))
    building_id = _int(get.get("building"))
    unit = None
    if unit_id:
        unit = pm.Unit.objects.select_related("building").filter(pk=unit_id, dwellings__in=visitable).distinct().first()
        if unit is None:
            raise Http404("unit not found")
    if unit is None:
        buildings = list(
            pm.Building.objects.filter(id__in=visitable.values("building_id")).order_by("path").values("id", "name")
        )
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
        units = list(
            pm.Unit.objects.filter(building_id=building_id, dwellings__in=visitable)
            .distinct()
            .order_by("number")
            .values("id", "number")
        )
        units.sort(key=lambda u: (len(u["number"]), u["number"]))
        if len(units) != 1:
            ctx.update(
                step="unit",
                building=pm.Building.objects.get(pk=building_id),
                choices=[
                    {"label": f"{u['number']}单元", "url": f"{base}?{urlencode({'unit': u['id']})}"} for u in units
                ],
            )
            return
        unit = pm.Unit.objects.select_related("building").get(pk=units[0]["id"])
    attitudes = _attitudes(project, unit=unit)
    floors: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for d in visitable.filter(unit=unit).order_by("floor", "number").values("id", "number", "floor"):
        key = attitudes.get(d["id"], qv.NOT_VISITED)
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


def _owners(user: Any, building: pm.Building, ids: set[int]) -> dict[int, list[str]]:
    """Masked owner names of these dwellings (VIEW_PEOPLE scope), one query."""
    out: dict[int, list[str]] = defaultdict(list)
    rows = scoped(
        user, Action.VIEW_PEOPLE, pm.Ownership.objects.filter(dwelling__building=building, dwelling_id__in=ids)
    ).values_list("dwelling_id", "person__name", "person__kind")
    for dwelling_id, name, kind in rows:
        out[dwelling_id].append(name if kind != pm.Person.Kind.PERSON else mask_name(name))
    return out


def _chart(series: list[qv.Point]) -> dict[str, Any]:
    return {
        "days": [p.day.isoformat() for p in series],
        "support": [float(p.support_pct) for p in series],
        "label": _("Support (% of dwellings)"),
    }


@login_required
@require_GET
def building(request: HttpRequest, pk: int, building_pk: int) -> HttpResponse:
    user = request.user
    project = _project(user, pk)
    obj = qv.project_buildings(project).select_related("grid").filter(pk=building_pk).first()
    if obj is None:
        raise Http404("building not in this project")
    if not can(user, Action.VISIT, obj):
        # The project is visible and lists its buildings: refuse without hiding the building.
        raise PermissionDenied("VISIT needed on this building")
    data = qv.building_consensus(project, obj)
    days = qv.stale_days(request.GET.get("days"))
    stale = data.stale(days)
    watch = data.with_attitude(Attitude.OPPOSE, Attitude.UNDECIDED)
    watch.sort(key=lambda s: (s.attitude != Attitude.OPPOSE, s.unit, -s.floor, s.number))
    with_people = can(user, Action.VIEW_PEOPLE, obj)
    owners: dict[int, list[str]] = {}
    if with_people:
        owners = _owners(user, obj, {s.id for s in watch} | {s.id for s in stale})
        log_access(user, AccessLog.What.VIEW_PEOPLE, obj, obj.path, reason="consensus page", ip=client_ip(request))
    lang = "en" if _en() else "zh-hans"

    def row(s: qv.DwellingState) -> dict[str, Any]:
        return {
            "s": s,
            "label": attitude_label(s.attitude),
            "symbol": SYMBOL[s.key],
            "reasons": vocab.labels(s.reasons, lang),
            "owners": owners.get(s.id, []),
            "log_url": reverse("consult:visit_new", args=[project.pk]) + "?" + urlencode({"dwelling": s.id}),
        }

    recent = list(
        Visit.objects.filter(project=project, dwelling__building=obj)
        .select_related("visitor", "dwelling__unit")
        .order_by("-visited_at", "-id")[:20]
    )
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
                    "reasons": vocab.labels(v.reasons, lang),
                    "where": f"{v.dwelling.unit.number}-{v.dwelling.number}",
                }
                for v in recent
            ],
            "chart": _chart(con.series),
            "series": qv.series_rows(con.series),
            "log_url": reverse("consult:visit_new", args=[project.pk]) + "?" + urlencode({"building": obj.pk}),
            "crumbs": _crumbs(user, project, _("Consensus"), obj),
        },
    )


@login_required
@require_GET
def project_summary(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    project = _project(user, pk)
    data = qv.project_consensus(project)
    visit_ids = set(
        scoped(user, Action.VISIT, pm.Building.objects.filter(id__in=[b["id"] for b in data.buildings])).values_list(
            "id", flat=True
        )
    )
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
            "series": qv.series_rows(data.total.series),
            "may_visit": bool(visit_ids),
            "log_url": reverse("consult:visit_new", args=[project.pk]),
            "crumbs": _crumbs(user, project, _("Residents' consent")),
        },
    )
