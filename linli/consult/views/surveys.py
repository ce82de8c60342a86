"""Pages of needs surveys: a project's surveys (and a form to open one, CONSULT), a survey's
results by building and unit (bar chart + table), the answer form (staff at the door with VISIT,
or a resident for their own dwelling) and the .xlsx export of the results (EXPORT).

Both forms are read by the API's own input serializers (``linli.core.forms.read_form``), so a page
and the API parse dates, item ids and text the same way."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.consult import permissions, tasks
from linli.consult.api.surveys import AnswerInSerializer, SurveyCreateSerializer
from linli.consult.models import Survey
from linli.consult.queries import surveys as q
from linli.consult.services import surveys as svc
from linli.core import clock, lang
from linli.core.errors import LinliError
from linli.core.exports import start_page
from linli.core.forms import read_form
from linli.core.ids import as_id
from linli.core.paging import paginate
from linli.core.types import User
from linli.renewal.models import Project
from linli.runs import services as runs_services


def _errors(exc: LinliError) -> list[str]:
    return [p.en if lang.is_english() else p.zh for p in exc.problems]


def _crumbs(user: User, project: Project, here: str, survey: Survey | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("workbench:home")}]
    out.append({"name": project.name, "url": reverse("consult:survey_list", args=[project.pk])})
    if survey is not None:
        out.append({"name": survey.title, "url": reverse("consult:survey_detail", args=[survey.pk])})
    out.append({"name": here, "url": None})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def survey_list(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    project = q.project_for(user, pk)
    may_create = permissions.may_run(user, project)
    ctx: dict[str, Any] = {"project": project, "may_create": may_create, "form": {}}
    status = 200
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied("CONSULT needed")
        ctx["form"] = {k: request.POST.get(k, "") for k in ("title", "opens_on", "closes_on")}
        form = read_form(SurveyCreateSerializer, request.POST)
        opens, closes = form.get("opens_on"), form.get("closes_on")
        try:
            if not opens or not closes:  # left empty
                raise LinliError.one("dates_required", "请填写开始和截止日期。", "Give the opening and closing dates.")
            if isinstance(opens, str) or isinstance(closes, str):
                raise ValueError("a date the API refuses")
            survey = svc.create_survey(user, project, form.get("title", ""), opens, closes)
        except (LinliError, ValueError) as exc:
            ctx["errors"] = _errors(exc) if isinstance(exc, LinliError) else [_("A date is not valid.")]
            status = 400
        else:
            messages.success(request, _("Survey opened."))
            return HttpResponseRedirect(reverse("consult:survey_detail", args=[survey.pk]), status=303)
    today = clock.today()
    surveys = paginate(request.GET, q.project_surveys(project), label=_("Needs surveys"))
    ctx.update(
        surveys=[{"s": s, "open": svc.is_open(s, today), "period": q.period(s, today)} for s in surveys],
        surveys_page=surveys,
        crumbs=_crumbs(user, project, _("Needs surveys")),
    )
    return render(request, "consult/surveys/list.html", ctx, status=status)


@login_required
@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    survey = q.survey_for(user, pk)
    results = q.survey_results(survey)
    chart = results.chart()
    return render(
        request,
        "consult/surveys/detail.html",
        {
            "survey": survey,
            "project": survey.project,
            "open": svc.is_open(survey),
            "period": q.period(survey),
            "items": results.items,
            "table": results.table(),
            "total": results.total,
            "chart": chart,
            "may_answer": q.answerable(user, survey.project).exists(),
            "may_export": permissions.may_export(user, survey.project),
            "crumbs": _crumbs(user, survey.project, survey.title),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    survey = q.survey_for(user, pk)
    mine = q.answerable(user, survey.project)
    if not mine.exists():
        raise PermissionDenied("no dwelling to answer for")
    data = request.POST if request.method == "POST" else request.GET
    ctx: dict[str, Any] = {
        "survey": survey,
        "project": survey.project,
        "open": svc.is_open(survey),
        "period": q.period(survey),
    }
    dwelling = None
    raw = data.get("dwelling", "")
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
        # the API's AnswerInSerializer calls the chosen items "wanted" (the dwelling is chosen above)
        post = request.POST.copy()
        post.setlist("wanted", chosen)
        form = read_form(AnswerInSerializer, post)
        try:
            svc.answer_survey(user, survey, dwelling, form.get("wanted", []), form.get("comment", ""))
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
        existing = q.answer_of(survey, dwelling)
        if existing is not None and request.method == "GET":
            chosen = [str(i) for i in q.wanted_ids(existing)]
            comment = existing.comment
        ctx.update(existing=existing, dwelling=dwelling)
    ctx.update(
        items=[{"i": i, "checked": str(i.pk) in chosen} for i in q.project_items(survey.project)],
        comment=comment,
        groups=q.dwelling_groups(mine),
        crumbs=_crumbs(user, survey.project, _("Answer"), survey),
    )
    return render(request, "consult/surveys/answer.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def survey_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The results as .xlsx, made in the background (``consult.tasks.export_survey``): ``GET``
    shows the button, ``POST`` starts the run and redirects to its progress page."""
    user = request.user
    survey = q.survey_for(user, pk)
    authorize(user, Action.EXPORT, survey.project)
    title_zh, title_en = f"导出需求调查结果:{survey.title}", f"Export the survey results: {survey.title}"
    if request.method == "GET":
        return start_page(request, lang.pick(title_zh, title_en), reverse("consult:survey_detail", args=[survey.pk]))
    run = runs_services.start(
        user,
        "consult.survey_export",
        tasks.export_survey,
        action=Action.EXPORT,
        target=survey.project,
        title_zh=title_zh,
        title_en=title_en,
        survey_id=survey.pk,
    )
    return HttpResponseRedirect(reverse("runs:detail", args=[run.pk]), status=303)


def answer_url(survey: Survey, dwelling_id: int) -> str:
    return reverse("consult:survey_answer", args=[survey.pk]) + "?" + urlencode({"dwelling": dwelling_id})
