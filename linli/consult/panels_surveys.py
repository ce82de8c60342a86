"""The needs-survey section of a renovation project's pages: which items residents asked for, by
share of the dwellings that answered, so the survey feeds the plan (domain.md, system 1).
Aggregates only, so the public page (``user`` is None) may show it too."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.consult.models import Survey
from linli.consult.queries_surveys import survey_results
from linli.renewal.panels import Panel


def panel(project: Any, user: Any | None) -> Panel | None:
    survey = Survey.objects.filter(project=project).order_by("-opens_on", "-id").first()
    if survey is None:
        return None
    public = user is None or not getattr(user, "is_authenticated", False)
    if not public and not can(user, Action.VIEW, project):
        return None
    results = survey_results(survey)
    total = results.total
    if public and total.answered == 0:
        return None
    demand = sorted(
        (
            {"name": item["name"], "item_class": item["item_class"], "count": cell["count"], "pct": cell["pct"]}
            for item, cell in zip(results.items, total.cells(results.items), strict=True)
        ),
        key=lambda d: (-d["count"], d["name"]),
    )
    return Panel(
        title=_("What residents asked for"),
        template="consult/surveys/_panel.html",
        context={
            "survey": survey,
            "answered": total.answered,
            "dwellings": total.dwellings,
            "answered_pct": total.answered_pct,
            "demand": demand,
            "url": None if public else reverse("consult:survey_detail", args=[survey.pk]),
        },
        order=20,
    )
