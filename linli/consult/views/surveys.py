"""Pages of needs surveys: a project's surveys (and a form to open one, CONSULT), a survey's
results by building and unit (bar chart + table), the answer form (staff at the door with VISIT,
or a resident for their own dwelling) and the .xlsx export of the results (EXPORT)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.permissions import authorize, can, get_or_404, scope_q
from linli.accounts.roles import Action
from linli.consult.models import Survey, SurveyAnswer
from linli.consult.queries_surveys import survey_results
from linli.consult.queries_visits import project_buildings
from linli.consult.services.surveys import answer_survey, create_survey, is_open
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.exports import xlsx_response
from linli.core.ids import as_id
from linli.places.models import Dwelling
from linli.renewal.models import Project, ProjectItem


def _en() -> bool:
    return (get_language() or "").startswith("en")


def _errors(exc: LinliError) -> list[str]:
    return [p.en if _en() else p.zh for p in exc.problems]


def _survey(user: Any, pk: int) -> Survey:
    """A survey is visible to whoever may see its project (residents included)."""
    survey = Survey.objects.select_related("project__compound").filter(pk=pk).first()
    if survey is None:
        raise Http404("no such survey")
    authorize(user, Action.VIEW, survey.project)
    return survey


def answerable(user: Any, project: Project) -> QuerySet[Dwelling]:
    """Dwellings of the project the user may answer for: VISIT there, or VOTE (their own)."""
    q: Q | None = None
    for act in (Action.VISIT, Action.VOTE):
        part = scope_q(user, act, Dwelling)
        if part is not None:
            q = part if q is None else q | part
    if q is None:
        return Dwelling.objects.none()
    return Dwelling.objects.filter(q, building__in=project_buildings(project))


def _crumbs(user: Any, project: Project, here: str, survey: Survey | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("places:home")}]
    out.append({"name": project.name, "url": reverse("consult:survey_list", args=[project.pk])})
    if survey is not None:
        out.append({"name": survey.title, "url": reverse("consult:survey_detail", args=[survey.pk])})
    out.append({"name": here, "url": None})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def survey_list(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    project = get_or_404(user, Action.VIEW, Project, pk=pk)
    may_create = can(user, Action.CONSULT, project)
    ctx: dict[str, Any] = {"project": project, "may_create": may_create, "form": {}}
    status = 200
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied("CONSULT needed")
        form = {k: request.POST.get(k, "") for k in ("title", "opens_on", "closes_on")}
        ctx["form"] = form
        try:
            opens, closes = parse_date(form["opens_on"] or ""), parse_date(form["closes_on"] or "")
            if opens is None or closes is None:
                raise LinliError.one("dates_required", "请填写开始和截止日期。", "Give the opening and closing dates.")
            survey = create_survey(user, project, form["title"], opens, closes)
        except (LinliError, ValueError) as exc:
            ctx["errors"] = _errors(exc) if isinstance(exc, LinliError) else [_("A date is not valid.")]
            status = 400
        else:
            messages.success(request, _("Survey opened."))
            return HttpResponseRedirect(reverse("consult:survey_detail", args=[survey.pk]), status=303)
    surveys = list(Survey.objects.filter(project=project).order_by("-opens_on", "-id"))
    today = clock.today()
    ctx.update(
        surveys=[{"s": s, "open": is_open(s, today)} for s in surveys],
        crumbs=_crumbs(user, project, _("Needs surveys")),
    )
    return render(request, "consult/surveys/list.html", ctx, status=status)


@login_required
@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    survey = _survey(user, pk)
    results = survey_results(survey)
    chart = results.chart()
    return render(
        request,
        "consult/surveys/detail.html",
        {
            "survey": survey,
            "project": survey.project,
            "open": is_open(survey),
            "items": results.items,
            "table": results.table(),
            "total": results.total,
            "chart": chart,
            "may_answer": answerable(user, survey.project).exists(),
            "may_export": can(user, Action.EXPORT, survey.project),
            "crumbs": _crumbs(user, survey.project, survey.title),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    survey = _survey(user, pk)
    mine = answerable(user, survey.project)
    if not mine.exists():
        raise PermissionDenied("no dwelling to answer for")
    q = request.POST if request.method == "POST" else request.GET
    ctx: dict[str, Any] = {"survey": survey, "project": survey.project, "open": is_open(survey)}
    dwelling = None
    raw = q.get("dwelling", "")
    if raw:
        dwelling_id = as_id(raw)
        if dwelling_id is not None:
            dwelling = mine.select_related("unit", "building").filter(pk=dwelling_id).first()
        if dwelling is None:
            raise Http404("dwelling not found")
    status = 200
    chosen: list[str] = []
    comment = ""
    if request.method == "POST":
        if dwelling is None:
            raise Http404("no dwelling chosen")
        chosen = request.POST.getlist("items")
        comment = request.POST.get("comment", "")
        try:
            answer_survey(user, survey, dwelling, chosen, comment)
        except LinliError as exc:
            ctx["errors"] = _errors(exc)
            status = exc.status
        else:
            messages.success(
                request,
                _("Answer saved for %(d)s.")
                % {"d": f"{dwelling.building.name} {dwelling.unit.number}-{dwelling.number}"},
            )
            return HttpResponseRedirect(reverse("consult:survey_answer", args=[survey.pk]), status=303)
    if dwelling is not None:
        existing = SurveyAnswer.objects.filter(survey=survey, dwelling=dwelling).first()
        if existing is not None and request.method == "GET":
            chosen = [str(i) for i in existing.wanted.values_list("id", flat=True)]
            comment = existing.comment
        ctx.update(existing=existing, dwelling=dwelling)
    items = list(ProjectItem.objects.filter(project=survey.project).order_by("item_class", "id"))
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in mine.order_by("building__path", "unit__number", "floor", "number").values(
        "id", "number", "building__name", "unit__number"
    )[:2000]:
        groups.setdefault(d["building__name"], []).append(
            {"id": d["id"], "label": f"{d['unit__number']}-{d['number']}"}
        )
    ctx.update(
        items=[{"i": i, "checked": str(i.pk) in chosen} for i in items],
        comment=comment,
        groups=groups,
        crumbs=_crumbs(user, survey.project, _("Answer"), survey),
    )
    return render(request, "consult/surveys/answer.html", ctx, status=status)


@login_required
@require_GET
def survey_export(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    survey = _survey(user, pk)
    authorize(user, Action.EXPORT, survey.project)
    results = survey_results(survey)
    level = {"building": "楼栋 building", "unit": "单元 unit", "total": "合计 total"}
    columns: list[tuple[str, Any]] = [
        ("层级 level", lambda r: level[r["row"].level]),
        ("楼栋/单元 building/unit", lambda r: r["row"].label),
        ("房屋数 dwellings", lambda r: r["row"].dwellings),
        ("已答 answered", lambda r: r["row"].answered),
        ("答复率% answered %", lambda r: r["row"].answered_pct),
    ]
    for n, item in enumerate(results.items):
        columns.append((f"{item['name']} 户数 dwellings", lambda r, n=n: r["cells"][n]["count"]))
        columns.append((f"{item['name']} %", lambda r, n=n: r["cells"][n]["pct"]))
    return xlsx_response(f"需求调查-{survey.pk}.xlsx", "需求调查 survey", columns, results.table())


def answer_url(survey: Survey, dwelling_id: int) -> str:
    return reverse("consult:survey_answer", args=[survey.pk]) + "?" + urlencode({"dwelling": dwelling_id})
