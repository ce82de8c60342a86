"""The needs-survey section of a renovation project's pages: which items residents asked for, by
share of the dwellings that answered, so the survey feeds the plan (domain.md, system 1).
Aggregates only, so the public page (``user`` is None) may show it too."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.consult import permissions
from linli.consult.queries import surveys as q
from linli.core.types import User
from linli.renewal.models import Project
from linli.renewal.panels import Panel


def panel(project: Project, user: User | None) -> Panel | None:
    survey = q.latest_survey(project)
    if survey is None:
        return None
    public = not permissions.signed_in(user)
    if user is not None and not public and not permissions.may_view(user, project):
        return None
    results = q.survey_results(survey)
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
