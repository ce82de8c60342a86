"""Reads of the renewal app for pages and the API (scoping is done by the caller's lookups)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.renewal import progress as pure
from linli.renewal.models import (
    ItemClass,
    OpenDay,
    Phase,
    Project,
    ProjectItem,
    SampleFlat,
    SupervisionReport,
)
from linli.renewal.services import PHASES, historic_buildings, project_buildings


def projects_for(user: Any, action: str = Action.VIEW) -> QuerySet[Project]:
    return scoped(user, action, Project.objects.select_related("compound__community").order_by("-created_at"))


def chosen_buildings(compound: Any, raw_ids: Sequence[object]) -> list[Any]:
    """The buildings a project form or API call names, each read with ``as_id``. A missing id, a
    building of another compound and one outside the caller's scope all answer the same error, and
    it names no building (so an id cannot be used to learn another community's building names)."""
    from linli.places.models import Building

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


def parts(items: Sequence[ProjectItem]) -> list[pure.Part]:
    return [pure.Part(progress=i.progress, weight=i.weight, estimate=i.estimate) for i in items]


def overall_progress(items: Sequence[ProjectItem]) -> Decimal:
    return pure.as_percent(pure.project_progress(parts(items)))


def item_rows(items: Sequence[ProjectItem]) -> list[dict[str, Any]]:
    shares = pure.weight_shares(parts(items))
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
