"""Reads of needs surveys: the scoped lookups pages and the API need (a survey is visible with its
project; the dwellings a user may answer for), and the results by building and unit — for each
item, how many dwellings want it and what share of the answering dwellings that is. The results
take four aggregate queries whatever the size and hold no personal data (counts of dwellings
only)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from linli.accounts.permissions import authorize, get_or_404, scoped, scoped_any
from linli.accounts.roles import Action
from linli.consult.consensus import pct
from linli.consult.models import Survey, SurveyAnswer
from linli.consult.queries.visits import project_buildings
from linli.core import clock
from linli.core.types import User
from linli.places.models import Dwelling
from linli.renewal.models import Project, ProjectItem


@dataclass
class ResultRow:
    level: str  # "building", "unit" or "total"
    label: str
    building_id: int | None
    unit_id: int | None
    dwellings: int = 0
    answered: int = 0
    wanted: dict[int, int] = field(default_factory=dict)  # item id → dwellings wanting it

    @property
    def answered_pct(self) -> Decimal:
        return pct(self.answered, self.dwellings)

    def cells(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"count": self.wanted.get(i["id"], 0), "pct": pct(self.wanted.get(i["id"], 0), self.answered)}
            for i in items
        ]


@dataclass
class Results:
    survey: Survey
    items: list[dict[str, Any]]
    rows: list[ResultRow]
    total: ResultRow

    def table(self) -> list[dict[str, Any]]:
        return [{"row": r, "cells": r.cells(self.items)} for r in [*self.rows, self.total]]

    def chart(self) -> dict[str, Any]:
        labels = [i["name"] for i in self.items]
        values = [self.total.wanted.get(i["id"], 0) for i in self.items]
        return {
            "labels": labels,
            "values": values,
            "rows": [{"label": a, "value": b} for a, b in zip(labels, values, strict=True)],
        }

    def as_dict(self) -> dict[str, Any]:
        def one(r: ResultRow) -> dict[str, Any]:
            return {
                "level": r.level,
                "label": r.label,
                "building": r.building_id,
                "unit": r.unit_id,
                "dwellings": r.dwellings,
                "answered": r.answered,
                "answered_pct": float(r.answered_pct),
                "items": [
                    {"item": i["id"], "count": c["count"], "pct": float(c["pct"])}
                    for i, c in zip(self.items, r.cells(self.items), strict=True)
                ],
            }

        return {
            "survey": self.survey.pk,
            "items": self.items,
            "rows": [one(r) for r in self.rows],
            "total": one(self.total),
        }


def survey_results(survey: Survey) -> Results:
    items: list[dict[str, Any]] = [
        dict(r)
        for r in ProjectItem.objects.filter(project_id=survey.project_id)
        .order_by("item_class", "id")
        .values("id", "name", "item_class")
    ]
    buildings = list(project_buildings(survey.project).values("id", "name"))
    ids = [b["id"] for b in buildings]
    units: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for r in (
        Dwelling.objects.filter(building_id__in=ids)
        .values("building_id", "unit_id", "unit__number")
        .annotate(n=Count("id"))
        .order_by()
    ):
        units[r["building_id"]].append((r["unit_id"], r["unit__number"], r["n"]))
    answered = {
        r["dwelling__unit_id"]: r["n"]
        for r in SurveyAnswer.objects.filter(survey=survey, dwelling__building_id__in=ids)
        .values("dwelling__unit_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    through = SurveyAnswer.wanted.through
    wanted: dict[int, dict[int, int]] = defaultdict(dict)
    for r in (
        through.objects.filter(surveyanswer__survey=survey, surveyanswer__dwelling__building_id__in=ids)
        .values("surveyanswer__dwelling__unit_id", "projectitem_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        wanted[r["surveyanswer__dwelling__unit_id"]][r["projectitem_id"]] = r["n"]
    rows: list[ResultRow] = []
    total = ResultRow("total", "", None, None)
    for b in buildings:
        brow = ResultRow("building", b["name"], b["id"], None)
        urows = []
        for unit_id, number, n in sorted(units[b["id"]], key=lambda u: (len(u[1]), u[1])):
            urow = ResultRow(
                "unit", number, b["id"], unit_id, n, answered.get(unit_id, 0), dict(wanted.get(unit_id, {}))
            )
            urows.append(urow)
            for agg in (brow, total):
                agg.dwellings += urow.dwellings
                agg.answered += urow.answered
                for item, k in urow.wanted.items():
                    agg.wanted[item] = agg.wanted.get(item, 0) + k
        rows.append(brow)
        rows.extend(urows)
    return Results(survey, items, rows, total)


# --- lookups for the pages and the API -----------------------------------------------------------


def period(survey: Survey, today: dt.date | None = None) -> str:
    """Where today falls in the survey's period: ``"upcoming"``, ``"open"`` or ``"ended"``."""
    today = today or clock.today()
    if today < survey.opens_on:
        return "upcoming"
    return "open" if today <= survey.closes_on else "ended"


def survey_for(user: User, pk: int) -> Survey:
    """A survey is visible to whoever may see its project (residents included): 404 for a missing
    survey, the project's 404/403 otherwise."""
    survey = Survey.objects.select_related("project__compound").filter(pk=pk).first()
    if survey is None:
        raise Http404("no such survey")
    authorize(user, Action.VIEW, survey.project)
    return survey


def project_for(user: User, pk: object) -> Project:
    """A project the user may view (404 outside every scope)."""
    return get_or_404(user, Action.VIEW, Project, pk=pk)


def visible_surveys(user: User) -> QuerySet[Survey]:
    """Surveys of the projects the user may view."""
    return Survey.objects.filter(project__in=scoped(user, Action.VIEW, Project.objects.all()).values("pk"))


def project_surveys(project: Project) -> list[Survey]:
    """A project's surveys, the latest opening first."""
    return list(Survey.objects.filter(project=project).order_by("-opens_on", "-id"))


def latest_survey(project: Project) -> Survey | None:
    """The survey a project's page shows: the latest to open."""
    return Survey.objects.filter(project=project).order_by("-opens_on", "-id").first()


def answerable(user: User, project: Project) -> QuerySet[Dwelling]:
    """Dwellings of the project the user may answer for: VISIT there, or VOTE (their own)
    (``permissions.may_answer`` for one dwelling)."""
    dwellings = Dwelling.objects.filter(building__in=project_buildings(project))
    return scoped_any(user, (Action.VISIT, Action.VOTE), dwellings)


def visible_answers(user: User) -> QuerySet[SurveyAnswer]:
    """Answers where the user may VISIT or see people (a resident: their own)."""
    return scoped_any(user, (Action.VISIT, Action.VIEW_PEOPLE), SurveyAnswer.objects.all())


def answer_of(survey: Survey, dwelling: Dwelling) -> SurveyAnswer | None:
    """The dwelling's answer to the survey, if it answered."""
    return SurveyAnswer.objects.filter(survey=survey, dwelling=dwelling).first()


def wanted_ids(answer: SurveyAnswer) -> list[int]:
    """The ids of the items an answer wants."""
    return list(answer.wanted.values_list("id", flat=True))


def project_items(project: Project) -> list[ProjectItem]:
    """A project's items by class, as the answer form lists them."""
    return list(ProjectItem.objects.filter(project=project).order_by("item_class", "id"))


def dwelling_groups(dwellings: QuerySet[Dwelling], limit: int = 2000) -> dict[str, list[dict[str, Any]]]:
    """Dwellings to choose from, grouped by building name: ``{"1栋": [{"id", "label": "1-101"}]}``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in dwellings.order_by("building__path", "unit__number", "floor", "number").values(
        "id", "number", "building__name", "unit__number"
    )[:limit]:
        groups.setdefault(d["building__name"], []).append(
            {"id": d["id"], "label": f"{d['unit__number']}-{d['number']}"}
        )
    return groups


def dwelling(pk: int) -> Dwelling:
    """A dwelling by id (404 when missing); the service decides whether the user may answer for it."""
    found = Dwelling.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("no such dwelling")
    return found
