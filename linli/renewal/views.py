"""Pages of renovation projects: the staff pages (signed in, scoped) and the public project page.

Every object comes through ``get_or_404`` (outside the user's scope → 404); writes go through
``services`` (one permission check each) and a refusal is shown on the page with its 4xx status.
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
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.permissions import can, get_or_404, scoped
from linli.accounts.roles import Action
from linli.core import photos
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.places.models import Building, Community, Compound, District, Dwelling, Street
from linli.renewal import queries as q
from linli.renewal import services
from linli.renewal.models import (
    Phase,
    Project,
    ProjectItem,
    ReportPhoto,
    SampleFlat,
    SupervisionReport,
)
from linli.renewal.panels import panels_for


def _texts(exc: LinliError) -> list[str]:
    en = (get_language() or "").startswith("en")
    return [p.en if en else p.zh for p in exc.problems]


def _flash(request: HttpRequest, exc: LinliError) -> None:
    for t in _texts(exc):
        messages.error(request, t)


def _crumbs(project: Project | None = None, here: str = "") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"name": _("Home"), "url": reverse("places:home")},
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
    projects = list(q.projects_for(request.user))
    can_create = scoped(request.user, Action.CONSULT, Compound.objects.all()).exists()
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
    compounds = scoped(request.user, Action.CONSULT, Compound.objects.order_by("path"))
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
        compound = get_or_404(request.user, Action.CONSULT, Compound, pk=as_id(request.POST.get("compound")) or 0)
        try:
            buildings = q.chosen_buildings(compound, request.POST.getlist("buildings"))
            project = services.create_project(
                request.user,
                compound,
                request.POST.get("name", ""),
                buildings=buildings,
                kind=request.POST.get("kind") or Project.Kind.RENOVATION,
                summary=request.POST.get("summary", ""),
                eligibility_override=request.POST.get("eligibility_override") == "on",
                eligibility_reason=request.POST.get("eligibility_reason", ""),
                is_public=request.POST.get("is_public") == "on",
            )
        except LinliError as exc:
            ctx["errors"] = _texts(exc)
            status = exc.status
        else:
            messages.success(request, _("Project created."))
            return HttpResponseRedirect(reverse("renewal:project_detail", args=[project.pk]))
    ctx["buildings"] = Building.objects.filter(compound__in=compounds).select_related("compound").order_by("path")
    return render(request, "renewal/project_form.html", ctx, status=status)


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    project = get_or_404(user, Action.VIEW, Project.objects.select_related("compound__community__street"), pk=pk)
    run = can(user, Action.CONSULT, project)
    data = q.summary(project)
    here = services.PHASES.index(project.phase)
    ctx = {
        "project": project,
        "s": data,
        "can_run": run,
        "next_phase": Phase(services.PHASES[here + 1]) if here + 1 < len(services.PHASES) else None,
        "earlier_phases": [Phase(p) for p in services.PHASES[:here]],
        "phase_changes": list(project.phase_changes.select_related("by").order_by("-at", "-id")[:20]) if run else [],
        "catalogue": services.effective_catalogue(project.compound.community.street.district) if run else [],
        "dwellings": Dwelling.objects.filter(building__in=data["buildings"]).select_related("building", "unit")
        if run
        else [],
        "reports": q.reports(project),
        # free text (reports, answers, summaries) masked for a viewer without people's data here
        "see_people": can(user, Action.VIEW_PEOPLE, project),
        "can_report": project.phase in services.SUPERVISION_PHASES,
        "max_photos": services.MAX_PHOTOS,
        "panels": panels_for(project, user),
        "public_url": reverse("renewal:public_project", args=[project.pk]) if project.is_public else None,
        "crumbs": _crumbs(None, project.name),
    }
    return render(request, "renewal/project_detail.html", ctx)


def _child(qs: Any, pk: int) -> Any:
    """A part of a project (item, sample flat, report): its permission is its project's, so a
    viewer of the project is told 403, anyone else 404, whatever the part's own scope says."""
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404("not found")
    return obj


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
    project = get_or_404(request.user, Action.CONSULT, Project, pk=pk)
    return _do(
        request,
        project,
        "#phase-h",
        lambda: services.change_phase(
            request.user, project, request.POST.get("to_phase", ""), request.POST.get("note", "")
        ),
        _("Phase changed."),
    )


@login_required
@require_POST
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_or_404(request.user, Action.CONSULT, Project.objects.select_related("compound"), pk=pk)
    p = request.POST
    return _do(
        request,
        project,
        "#items-h",
        lambda: services.add_item(
            request.user,
            project,
            code=p.get("code", ""),
            name=p.get("name", ""),
            item_class=p.get("item_class", ""),
            quantity=p.get("quantity") or "1",
            unit=p.get("unit", ""),
            unit_cost=p.get("unit_cost") or None,
            weight=p.get("weight") or None,
        ),
        _("Item added."),
    )


@login_required
@require_POST
def item_progress(request: HttpRequest, pk: int) -> HttpResponse:
    item = _child(ProjectItem.objects.select_related("project"), pk)
    get_or_404(request.user, Action.CONSULT, Project, pk=item.project_id)
    return _do(
        request,
        item.project,
        "#items-h",
        lambda: services.report_progress(
            request.user, item, request.POST.get("progress", ""), request.POST.get("note", "")
        ),
        _("Progress recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff (CONSULT on the project) change an item's quantity, unit cost and weight.
    Refused from acceptance on (the estimates are what the works are accepted against)."""
    item = _child(ProjectItem.objects.all(), pk)
    project = get_or_404(request.user, Action.CONSULT, Project.objects.select_related("compound"), pk=item.project_id)
    item.project = project
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        p = request.POST
        weight = (p.get("weight") or "").strip()
        try:
            services.update_item(
                request.user,
                item,
                quantity=p.get("quantity", ""),
                unit_cost=p.get("unit_cost", ""),
                weight=weight or None,
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
            "locked": project.phase in services.ESTIMATE_LOCKED_PHASES,
            "crumbs": [*_crumbs(project), {"name": _("Edit item"), "url": None}],
        },
        status=status,
    )


@login_required
@require_POST
def sample_flat_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_or_404(request.user, Action.CONSULT, Project, pk=pk)
    dwelling = get_or_404(request.user, Action.VIEW, Dwelling, pk=request.POST.get("dwelling") or 0)
    ready = parse_date(request.POST.get("ready_on", "") or "") if request.POST.get("ready_on") else None
    return _do(
        request,
        project,
        "#flats-h",
        lambda: services.add_sample_flat(request.user, project, dwelling, request.POST.get("description", ""), ready),
        _("Sample flat added."),
    )


@login_required
@require_POST
def open_day_add(request: HttpRequest, pk: int) -> HttpResponse:
    flat = _child(SampleFlat.objects.select_related("project"), pk)
    get_or_404(request.user, Action.CONSULT, Project, pk=flat.project_id)
    starts = _local_dt(request.POST.get("starts_at", ""))
    ends = _local_dt(request.POST.get("ends_at", ""))
    return _do(
        request,
        flat.project,
        "#flats-h",
        lambda: services.add_open_day(request.user, flat, starts, ends),  # type: ignore[arg-type]
        _("Open day added."),
    )


@login_required
@require_POST
def report_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_or_404(request.user, Action.VIEW, Project, pk=pk)
    item_id = as_id(request.POST.get("item"))
    item = ProjectItem.objects.filter(pk=item_id, project=project).first() if item_id is not None else None
    return _do(
        request,
        project,
        "#reports-h",
        lambda: services.submit_report(
            request.user,
            project,
            request.POST.get("text", ""),
            photos=request.FILES.getlist("photos"),
            item=item,
            client_key=request.POST.get("client_key", ""),
        ),
        _("Report sent. Thank you for supervising the works."),
    )


@login_required
@require_POST
def report_answer(request: HttpRequest, pk: int) -> HttpResponse:
    report = _child(SupervisionReport.objects.select_related("project"), pk)
    get_or_404(request.user, Action.CONSULT, Project, pk=report.project_id)
    return _do(
        request,
        report.project,
        "#reports-h",
        lambda: services.answer_report(
            request.user, report, request.POST.get("answer", ""), resolve=request.POST.get("resolve") == "on"
        ),
        _("Answer saved."),
    )


@login_required
@require_GET
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """A supervision photo, to those who may see its project (photos are not public files)."""
    rp = ReportPhoto.objects.select_related("report__project").filter(pk=pk).first()
    if rp is None:
        raise Http404("no such photo")
    get_or_404(request.user, Action.VIEW, Project, pk=rp.report.project_id)
    return photos.serve(rp.image)


@login_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """The effective catalogue of a district: for anyone who may view it or run projects in it."""
    user = request.user
    districts = [
        d
        for d in District.objects.order_by("code")
        if can(user, Action.VIEW, d)
        or scoped(user, Action.CONSULT, Compound.objects.filter(path__startswith=d.path)).exists()
    ]
    if not districts:
        raise Http404("no district")
    wanted = request.GET.get("district", "")
    district = next((d for d in districts if str(d.pk) == wanted), districts[0])
    items = services.effective_catalogue(district)
    classes = []
    from linli.renewal.models import ItemClass

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
            "can_edit": can(user, Action.EDIT, district),
            "crumbs": _crumbs(None, _("Item catalogue")),
        },
    )


PUBLIC_PAGE_SIZE = 30


def _pick(request: HttpRequest, key: str, choices: list[Any]) -> Any:
    raw = request.GET.get(key, "")
    return next((c for c in choices if str(c.pk) == raw), None)


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    """Every public project (is_public=True), newest first, optionally narrowed to a district,
    street or community (``?district=&street=&community=``, ids; an unknown id is ignored).
    No sign-in and no personal data: project, compound, place names, phase and progress."""
    public = Project.objects.filter(is_public=True)
    districts = list(District.objects.filter(pk__in=public.values("compound__community__street__district")))
    district = _pick(request, "district", districts)
    streets_qs = Street.objects.filter(pk__in=public.values("compound__community__street")).select_related("district")
    if district is not None:
        streets_qs = streets_qs.filter(district=district)
    streets = list(streets_qs.order_by("path"))
    street = _pick(request, "street", streets)
    communities_qs = Community.objects.filter(pk__in=public.values("compound__community"))
    if street is not None:
        communities_qs = communities_qs.filter(street=street)
    elif district is not None:
        communities_qs = communities_qs.filter(street__district=district)
    communities = list(communities_qs.order_by("path"))
    community = _pick(request, "community", communities)
    place = community or street or district
    if place is not None:
        public = public.filter(compound__path__startswith=place.path)
    public = public.select_related("compound__community__street").prefetch_related("items").order_by("-created_at")
    page = Paginator(public, PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"project": p, "progress": q.overall_progress(list(p.items.all()))} for p in page.object_list]
    query = {k: v.pk for k, v in (("district", district), ("street", street), ("community", community)) if v}
    return render(
        request,
        "renewal/public_index.html",
        {
            "public": True,
            "rows": rows,
            "page": page,
            "districts": districts,
            "streets": streets,
            "communities": communities,
            "district": district,
            "street": street,
            "community": community,
            "place": place,
            "query": urlencode(query),
        },
    )


@require_GET
def public_project(request: HttpRequest, pk: int) -> HttpResponse:
    """The page residents read without signing in: no personal data at all."""
    project = Project.objects.select_related("compound__community__street").filter(pk=pk, is_public=True).first()
    if project is None:
        raise Http404("no such public project")
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
