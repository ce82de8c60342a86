"""Pages of renovation projects: the staff pages (signed in, scoped) and the public project page.

Every object comes through a scoped lookup in ``queries`` (``get_or_404``: outside the user's scope →
404); the forms the API also takes are read by the API's input serializers (``api.form``); writes
go through ``services`` (one permission check each) and a refusal is shown on the page with its
4xx status.
The public page (``public_project``) needs no sign-in, shows only projects with is_public=True and
carries no personal data: no owner or resident names, no dwelling numbers except sample flats, no
supervision reports (their authors are residents).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.roles import Action
from linli.core import photos
from linli.core.errors import LinliError
from linli.core.forms import read_form
from linli.core.lang import is_english
from linli.core.paging import paginate
from linli.renewal import api, permissions
from linli.renewal import queries as q
from linli.renewal import services as svc
from linli.renewal.models import PHASES, ItemClass, Phase, Project, ProjectItem, SampleFlat, SupervisionReport
from linli.renewal.panels import panels_for


def _texts(exc: LinliError) -> list[str]:
    en = is_english()
    return [p.en if en else p.zh for p in exc.problems]


def _flash(request: HttpRequest, exc: LinliError) -> None:
    for t in _texts(exc):
        messages.error(request, t)


def _crumbs(project: Project | None = None, here: str = "") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"name": _("Home"), "url": reverse("workbench:home")},
        {"name": _("Renovation projects"), "url": reverse("renewal:project_list")},
    ]
    if project is not None:
        out.append({"name": project.name, "url": reverse("renewal:project_detail", args=[project.pk])})
    if here:
        out.append({"name": here, "url": None})
    return out


def _local_dt(raw: str) -> datetime | None:
    value = parse_datetime((raw or "").strip())
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    projects = paginate(request.GET, q.projects_for(request.user).order_by("-created_at", "-pk"), label=_("Projects"))
    can_create = permissions.may_start_projects(request.user)
    return render(
        request,
        "renewal/project_list.html",
        {
            "projects": projects,
            "can_create": can_create,
            "crumbs": [*_crumbs()[:-1], {"name": _("Renovation projects"), "url": None}],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    compounds = q.compounds_to_run(request.user)
    if not compounds.exists():
        raise PermissionDenied("no compound to run a project on")
    ctx: dict[str, Any] = {
        "compounds": compounds,
        "kinds": Project.Kind.choices,
        "built_before": settings.LINLI_RENOVATION_BUILT_BEFORE_YEAR,
        "crumbs": _crumbs(None, _("New project")),
        "form": request.POST if request.method == "POST" else {},
    }
    status = 200
    if request.method == "POST":
        v = read_form(api.ProjectCreateSerializer, request.POST)
        compound = q.compound_to_run(request.user, v.get("compound"))
        try:
            buildings = q.chosen_buildings(compound, v["buildings"])
            project = svc.create_project(
                request.user,
                compound,
                v.get("name") or "",
                buildings=buildings,
                kind=v["kind"],
                summary=v.get("summary") or "",
                eligibility_override=v["eligibility_override"] is True,
                eligibility_reason=v.get("eligibility_reason") or "",
                is_public=v["is_public"] is True,
            )
        except LinliError as exc:
            ctx["errors"] = _texts(exc)
            status = exc.status
        else:
            messages.success(request, _("Project created."))
            return HttpResponseRedirect(reverse("renewal:project_detail", args=[project.pk]))
    ctx["buildings"] = q.buildings_of(compounds)
    return render(request, "renewal/project_form.html", ctx, status=status)


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    project = q.project(user, Action.VIEW, pk, Project.objects.select_related("compound__community__street"))
    run = permissions.may_run(user, project)
    data = q.summary(project)
    here = PHASES.index(project.phase)
    ctx = {
        "project": project,
        "s": data,
        "can_run": run,
        "next_phase": Phase(PHASES[here + 1]) if here + 1 < len(PHASES) else None,
        "earlier_phases": [Phase(p) for p in PHASES[:here]],
        "phase_changes": q.phase_changes(project) if run else [],
        "catalogue": svc.effective_catalogue(project.compound.community.street.district) if run else [],
        "dwellings": q.dwellings_of(data["buildings"]) if run else [],
        "reports": q.reports(project),
        # free text (reports, answers, summaries) masked for a viewer without people's data here
        "see_people": permissions.sees_people_at(user, project),
        "can_report": project.phase in svc.SUPERVISION_PHASES,
        "max_photos": svc.MAX_PHOTOS,
        "panels": panels_for(project, user),
        "public_url": reverse("renewal:public_project", args=[project.pk]) if project.is_public else None,
        "crumbs": _crumbs(None, project.name),
    }
    return render(request, "renewal/project_detail.html", ctx)


def _back(project: Project, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("renewal:project_detail", args=[project.pk]) + anchor)


def _do(request: HttpRequest, project: Project, anchor: str, fn: Any, ok: str) -> HttpResponse:
    """Run a service; on refusal show the project page with the message and the refusal's status."""
    try:
        fn()
    except LinliError as exc:
        _flash(request, exc)
        response = project_detail(_as_get(request), project.pk)
        response.status_code = exc.status
        return response
    messages.success(request, ok)
    return _back(project, anchor)


def _as_get(request: HttpRequest) -> HttpRequest:
    request.method = "GET"
    return request


@login_required
@require_POST
def project_phase(request: HttpRequest, pk: int) -> HttpResponse:
    project = q.project(request.user, Action.CONSULT, pk)
    v = read_form(api.PhaseSerializer, request.POST)
    return _do(
        request,
        project,
        "#phase-h",
        lambda: svc.change_phase(request.user, project, v.get("to_phase") or "", v.get("note") or ""),
        _("Phase changed."),
    )


@login_required
@require_POST
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = q.project(request.user, Action.CONSULT, pk, Project.objects.select_related("compound"))
    v = read_form(api.ItemCreateSerializer, request.POST)
    return _do(
        request,
        project,
        "#items-h",
        lambda: svc.add_item(
            request.user,
            project,
            code=v.get("code") or "",
            name=v.get("name") or "",
            item_class=v.get("item_class") or "",
            quantity=v["quantity"],
            unit=v.get("unit") or "",
            unit_cost=v["unit_cost"],
            weight=v["weight"],
        ),
        _("Item added."),
    )


@login_required
@require_POST
def item_progress(request: HttpRequest, pk: int) -> HttpResponse:
    item, project = q.part(request.user, Action.CONSULT, ProjectItem.objects.select_related("project"), pk)
    v = read_form(api.ProgressSerializer, request.POST)
    return _do(
        request,
        project,
        "#items-h",
        lambda: svc.report_progress(request.user, item, v.get("progress", ""), v.get("note") or ""),
        _("Progress recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff (CONSULT on the project) change an item's quantity, unit cost and weight.
    Refused from acceptance on (the estimates are what the works are accepted against)."""
    item, project = q.part(
        request.user, Action.CONSULT, ProjectItem.objects.all(), pk, Project.objects.select_related("compound")
    )
    item.project = project
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        v = read_form(api.ItemUpdateSerializer, request.POST)
        try:
            svc.update_item(
                request.user,
                item,
                quantity=v.get("quantity", ""),
                unit_cost=v.get("unit_cost", ""),
                weight=(v.get("weight") or "").strip() or None,
            )
        except LinliError as exc:
            errors = _texts(exc)
            status = exc.status
        else:
            messages.success(request, _("Item updated."))
            return _back(project, "#items-h")
    form = (
        request.POST
        if request.method == "POST"
        else {
            "quantity": item.quantity,
            "unit_cost": item.unit_cost,
            "weight": "" if item.weight is None else item.weight,
        }
    )
    return render(
        request,
        "renewal/item_form.html",
        {
            "item": item,
            "project": project,
            "form": form,
            "errors": errors,
            "locked": project.phase in svc.ESTIMATE_LOCKED_PHASES,
            "crumbs": [*_crumbs(project), {"name": _("Edit item"), "url": None}],
        },
        status=status,
    )


@login_required
@require_POST
def sample_flat_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = q.project(request.user, Action.CONSULT, pk)
    dwelling = q.dwelling(request.user, request.POST.get("dwelling"))
    ready = parse_date(request.POST.get("ready_on", "") or "") if request.POST.get("ready_on") else None
    return _do(
        request,
        project,
        "#flats-h",
        lambda: svc.add_sample_flat(request.user, project, dwelling, request.POST.get("description", ""), ready),
        _("Sample flat added."),
    )


@login_required
@require_POST
def open_day_add(request: HttpRequest, pk: int) -> HttpResponse:
    flat, project = q.part(request.user, Action.CONSULT, SampleFlat.objects.select_related("project"), pk)
    starts = _local_dt(request.POST.get("starts_at", ""))
    ends = _local_dt(request.POST.get("ends_at", ""))
    return _do(
        request,
        project,
        "#flats-h",
        lambda: svc.add_open_day(request.user, flat, starts, ends),  # type: ignore[arg-type]
        _("Open day added."),
    )


@login_required
@require_POST
def report_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = q.project(request.user, Action.VIEW, pk)
    v = read_form(api.ReportCreateSerializer, request.POST)
    # an item of another project (or a bad id) is no item, as the form has always read it
    item = q.item_of(project, v.get("item"))
    return _do(
        request,
        project,
        "#reports-h",
        lambda: svc.submit_report(
            request.user,
            project,
            v.get("text") or "",
            photos=request.FILES.getlist("photos"),
            item=item,
            client_key=v.get("client_key") or "",
        ),
        _("Report sent. Thank you for supervising the works."),
    )


@login_required
@require_POST
def report_answer(request: HttpRequest, pk: int) -> HttpResponse:
    report, project = q.part(request.user, Action.CONSULT, SupervisionReport.objects.select_related("project"), pk)
    v = read_form(api.AnswerSerializer, request.POST)
    return _do(
        request,
        project,
        "#reports-h",
        lambda: svc.answer_report(request.user, report, v.get("answer") or "", resolve=v["resolve"] is True),
        _("Answer saved."),
    )


@login_required
@require_GET
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """A supervision photo, to those who may see its project (photos are not public files)."""
    return photos.serve(q.photo(request.user, pk).image)


@login_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """The effective catalogue of a district: for anyone who may view it or run projects in it."""
    user = request.user
    districts = q.catalogue_districts(user)
    if not districts:
        raise Http404("no district")
    wanted = request.GET.get("district", "")
    district = next((d for d in districts if str(d.pk) == wanted), districts[0])
    items = svc.effective_catalogue(district)
    classes = []
    for cls in ItemClass:
        sub = [i for i in items if i.item_class == cls.value]
        classes.append({"cls": cls, "items": sub})
    return render(
        request,
        "renewal/catalogue.html",
        {
            "district": district,
            "districts": districts,
            "classes": classes,
            "can_edit": permissions.may_edit_catalogue(user, district),
            "crumbs": _crumbs(None, _("Item catalogue")),
        },
    )


PUBLIC_PAGE_SIZE = 30


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    """Every public project (is_public=True), newest first, optionally narrowed to a district,
    street or community (``?district=&street=&community=``, ids; an unknown id is ignored).
    No sign-in and no personal data: project, compound, place names, phase and progress."""
    found = q.public_projects(
        request.GET.get("district", ""), request.GET.get("street", ""), request.GET.get("community", "")
    )
    district, street, community = found["district"], found["street"], found["community"]
    page = paginate(request.GET, found["projects"], PUBLIC_PAGE_SIZE, label=_("Projects"))
    rows = [{"project": p, "progress": q.overall_progress(list(p.items.all()))} for p in page.rows]
    query = {k: v.pk for k, v in (("district", district), ("street", street), ("community", community)) if v}
    return render(
        request,
        "renewal/public_index.html",
        {
            "public": True,
            "rows": rows,
            "page": page,
            "districts": found["districts"],
            "streets": found["streets"],
            "communities": found["communities"],
            "district": district,
            "street": street,
            "community": community,
            "place": found["place"],
            "query": urlencode(query),
        },
    )


@require_GET
def public_project(request: HttpRequest, pk: int) -> HttpResponse:
    """The page residents read without signing in: no personal data at all."""
    project = q.public_project(pk)
    return render(
        request,
        "renewal/public_project.html",
        {
            "project": project,
            "public": True,
            "see_people": False,  # free text shown masked (core.templatetags.masking_tags)
            "s": q.summary(project),
            "open_days": q.upcoming_open_days(project),
            "panels": panels_for(project, None),
        },
    )
