"""Reads of the renewal app for pages and the API, including the scoped lookups they start from.

Every object a signed-in page or API call acts on comes through ``permissions.get_or_404`` here
(outside the user's scope → 404, inside it without the action → 403); a part of a project (an
item, a sample flat, a supervision report, a photo) takes its project's permission. The public
reads (``public_project``, ``public_projects``) see only projects with ``is_public=True``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.http import Http404

from linli.accounts.permissions import get_or_404, scoped
from linli.accounts.roles import Action
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.core.types import User
from linli.places.models import Building, Community, Compound, District, Dwelling, Street
from linli.renewal import permissions, progress
from linli.renewal.models import (
    PHASES,
    ItemClass,
    OpenDay,
    Phase,
    PhaseChange,
    Project,
    ProjectItem,
    ReportPhoto,
    SampleFlat,
    SupervisionReport,
)

M = TypeVar("M", bound=Model)


def projects_for(user: User, action: str = Action.VIEW) -> QuerySet[Project]:
    return scoped(user, action, Project.objects.select_related("compound__community").order_by("-created_at"))


def items_for(user: User) -> QuerySet[ProjectItem]:
    """The items of every project ``user`` may see, by id."""
    projects = projects_for(user).values("pk")
    return ProjectItem.objects.filter(project__in=projects).select_related("catalogue_item").order_by("id")


def reports_for(user: User, project_id: int | None = None) -> QuerySet[SupervisionReport]:
    """The supervision reports of every project ``user`` may see (or of one), newest first."""
    projects = projects_for(user).values("pk")
    qs = SupervisionReport.objects.filter(project__in=projects).prefetch_related("photos").order_by("-created_at")
    return qs if project_id is None else qs.filter(project_id=project_id)


# --- scoped lookups ----------------------------------------------------------------------------------


def project(user: User, action: str, pk: object, qs: QuerySet[Project] | None = None) -> Project:
    """The project ``pk`` for ``action``: 404 outside the user's scope, 403 inside it without the action."""
    return get_or_404(user, action, Project.objects.all() if qs is None else qs, pk=pk)


def part(
    user: User, action: str, qs: QuerySet[M], pk: int, projects: QuerySet[Project] | None = None
) -> tuple[M, Project]:
    """A part of a project (an item, a sample flat, a report) and its project, read from
    ``projects``: the part's permission is its project's, so a viewer of the project is told 403,
    anyone else 404, whatever the part's own scope says."""
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404("not found")
    return obj, project(user, action, obj.project_id, projects)  # type: ignore[attr-defined]


def photo(user: User, pk: int) -> ReportPhoto:
    """A supervision photo, to those who may see its project (photos are not public files)."""
    found = ReportPhoto.objects.select_related("report__project").filter(pk=pk).first()
    if found is None:
        raise Http404("no such photo")
    project(user, Action.VIEW, found.report.project_id)
    return found


def compound_to_run(user: User, pk: object) -> Compound:
    """The compound a new project is for (CONSULT there); a bad id is the 404 of a missing one."""
    return get_or_404(user, Action.CONSULT, Compound, pk=as_id(pk) or 0)


def compounds_to_run(user: User) -> QuerySet[Compound]:
    """The compounds where ``user`` may start a project (CONSULT), in place order."""
    return scoped(user, Action.CONSULT, Compound.objects.order_by("path"))


def buildings_of(compounds: QuerySet[Compound]) -> QuerySet[Building]:
    return Building.objects.filter(compound__in=compounds).select_related("compound").order_by("path")


def dwelling(user: User, pk: object) -> Dwelling:
    """A dwelling the user may see (a sample flat is chosen from them)."""
    return get_or_404(user, Action.VIEW, Dwelling, pk=pk or 0)


def dwellings_of(buildings: Sequence[Building]) -> QuerySet[Dwelling]:
    return Dwelling.objects.filter(building__in=buildings).select_related("building", "unit")


def item_of(project: Project, pk: object) -> ProjectItem | None:
    """The item ``pk`` of ``project``, or None (a bad id, or an item of another project)."""
    item_id = as_id(pk)
    return ProjectItem.objects.filter(pk=item_id, project=project).first() if item_id is not None else None


def phase_changes(project: Project, limit: int = 20) -> list[PhaseChange]:
    return list(project.phase_changes.select_related("by").order_by("-at", "-id")[:limit])


def catalogue_districts(user: User) -> list[District]:
    """The districts whose catalogue ``user`` may read, by code (``permissions.may_read_catalogue``)."""
    return [d for d in District.objects.order_by("code") if permissions.may_read_catalogue(user, d)]


def project_buildings(project: Project) -> list[Building]:
    """The buildings a project covers: the ones listed, or else every building of its compound."""
    chosen = list(project.buildings.all())
    return chosen or list(Building.objects.filter(compound_id=project.compound_id).order_by("code"))


def historic_buildings(project: Project) -> list[Building]:
    """Buildings of the project that are to be kept (民主村, 十八梯: keep, do not demolish)."""
    return [b for b in project_buildings(project) if b.is_historic]


def chosen_buildings(compound: Compound, raw_ids: Sequence[object]) -> list[Building]:
    """The buildings a project form or API call names, each read with ``as_id``. A missing id, a
    building of another compound and one outside the caller's scope all answer the same error, and
    it names no building (so an id cannot be used to learn another community's building names)."""
    ids = [as_id(raw) for raw in raw_ids]
    wanted = {i for i in ids if i is not None}
    found = list(Building.objects.filter(compound=compound, pk__in=wanted).order_by("path")) if wanted else []
    if None in ids or len(found) != len(wanted):
        raise LinliError.one(
            "building_not_in_compound",
            "所选楼栋不存在或不属于该小区。",
            "A chosen building does not exist or is not one of this compound.",
        )
    return found


def items_of(project: Project) -> list[ProjectItem]:
    return list(project.items.all().order_by("item_class", "id"))


def parts(items: Sequence[ProjectItem]) -> list[progress.Part]:
    return [progress.Part(progress=i.progress, weight=i.weight, estimate=i.estimate) for i in items]


def overall_progress(items: Sequence[ProjectItem]) -> Decimal:
    return progress.as_percent(progress.project_progress(parts(items)))


def item_rows(items: Sequence[ProjectItem]) -> list[dict[str, Any]]:
    shares = progress.weight_shares(parts(items))
    return [{"item": it, "estimate": it.estimate, "share": s} for it, s in zip(items, shares, strict=True)]


def by_class(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for cls in ItemClass:
        sub = [r for r in rows if r["item"].item_class == cls.value]
        if sub:
            out.append({"cls": cls, "rows": sub, "total": sum((r["estimate"] for r in sub), Decimal(0))})
    return out


def stepper(project: Project) -> list[dict[str, Any]]:
    here = PHASES.index(project.phase)
    return [
        {"value": p.value, "label": p.label, "state": "done" if i < here else "current" if i == here else "todo"}
        for i, p in enumerate(Phase)
    ]


def sample_flats(project: Project) -> list[SampleFlat]:
    return list(
        project.sample_flats.select_related("dwelling__unit", "dwelling__building").prefetch_related(
            Prefetch("open_days", queryset=OpenDay.objects.order_by("starts_at"))
        )
    )


def reports(project: Project) -> list[SupervisionReport]:
    return list(
        project.supervision_reports.select_related("item", "reporter")
        .prefetch_related("photos")
        .order_by("-created_at")
    )


def summary(project: Project) -> dict[str, Any]:
    """Everything a project page shows that carries no personal data (staff and public pages)."""
    items = items_of(project)
    rows = item_rows(items)
    total = sum((r["estimate"] for r in rows), Decimal(0))
    return {
        "items": rows,
        "classes": by_class(rows),
        "estimate_total": total,
        "progress": overall_progress(items),
        "stepper": stepper(project),
        "buildings": project_buildings(project),
        "historic": historic_buildings(project),
        "compound_historic": project.compound.is_historic,
        "flats": sample_flats(project),
        "chart": {"rows": [{"label": r["item"].name, "value": r["item"].progress} for r in rows]},
    }


def upcoming_open_days(project: Project) -> list[OpenDay]:
    return list(
        OpenDay.objects.filter(sample_flat__project=project, ends_at__gte=clock.now())
        .select_related("sample_flat__dwelling")
        .order_by("starts_at")
    )


def report_counts(project: Project) -> dict[str, int]:
    agg = project.supervision_reports.aggregate(
        total=Count("id"), open=Count("id", filter=Q(status=SupervisionReport.Status.OPEN))
    )
    return {"total": agg["total"] or 0, "open": agg["open"] or 0}


# --- the public pages --------------------------------------------------------------------------------


def public_project(pk: int) -> Project:
    """A public project (``is_public=True``), or a 404 (an unpublished one is not revealed)."""
    found = Project.objects.select_related("compound__community__street").filter(pk=pk, is_public=True).first()
    if found is None:
        raise Http404("no such public project")
    return found


def _chosen(raw: str, choices: list[Any]) -> Any:
    return next((c for c in choices if str(c.pk) == raw), None)


def public_projects(district: str = "", street: str = "", community: str = "") -> dict[str, Any]:
    """The public projects, newest first, narrowed to a district, street or community (ids as sent;
    an unknown one is ignored), with the places a visitor may narrow them to."""
    public = Project.objects.filter(is_public=True)
    districts = list(District.objects.filter(pk__in=public.values("compound__community__street__district")))
    the_district = _chosen(district, districts)
    streets_qs = Street.objects.filter(pk__in=public.values("compound__community__street")).select_related("district")
    if the_district is not None:
        streets_qs = streets_qs.filter(district=the_district)
    streets = list(streets_qs.order_by("path"))
    the_street = _chosen(street, streets)
    communities_qs = Community.objects.filter(pk__in=public.values("compound__community"))
    if the_street is not None:
        communities_qs = communities_qs.filter(street=the_street)
    elif the_district is not None:
        communities_qs = communities_qs.filter(street__district=the_district)
    communities = list(communities_qs.order_by("path"))
    the_community = _chosen(community, communities)
    place = the_community or the_street or the_district
    if place is not None:
        public = public.filter(compound__path__startswith=place.path)
    public = public.select_related("compound__community__street").prefetch_related("items").order_by("-created_at")
    return {
        "projects": public,
        "districts": districts,
        "streets": streets,
        "communities": communities,
        "district": the_district,
        "street": the_street,
        "community": the_community,
        "place": place,
    }
