"""The consensus section of a renovation project's pages (registered by ConsultConfig.ready()
through ``linli.renewal.panels``): support % per building, and the buildings one household
still blocks. Aggregates only — no dwelling, no name, no note — so the public page (``user`` is
None) may show it; signed-in staff also get links to the consensus pages."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.permissions import can, scoped
from linli.accounts.roles import Action
from linli.consult import queries_visits as qv
from linli.places.models import Building, Dwelling
from linli.renewal.panels import Panel

TEMPLATE = "consult/visits/_panel.html"


def panel(project: Any, user: Any | None) -> Panel | None:
    data = qv.project_consensus(project)
    public = user is None or not getattr(user, "is_authenticated", False)
    if public and data.total.visits == 0:
        return None
    rows = [{**b, "url": None} for b in data.buildings]
    links: dict[str, str | None] = {"summary": None, "log": None}
    if not public:
        if not can(user, Action.VIEW, project):
            return None
        links["summary"] = reverse("consult:visit_project", args=[project.pk])
        ids = [b["id"] for b in data.buildings]
        visit_ids = set(scoped(user, Action.VISIT, Building.objects.filter(id__in=ids)).values_list("id", flat=True))
        for r in rows:
            if r["id"] in visit_ids:
                r["url"] = reverse("consult:visit_building", args=[project.pk, r["id"]])
        if visit_ids or scoped(user, Action.VISIT, Dwelling.objects.filter(building_id__in=ids)).exists():
            links["log"] = reverse("consult:visit_new", args=[project.pk])
    return Panel(
        title=_("Residents' consent"),
        template=TEMPLATE,
        context={"c": data.total, "rows": rows, "public": public, "links": links},
        order=30,
    )
