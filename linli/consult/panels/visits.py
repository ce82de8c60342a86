"""The consensus section of a renovation project's pages (registered by ConsultConfig.ready()
through ``linli.renewal.panels``): support % per building, and the buildings one household
still blocks. Aggregates only — no dwelling, no name, no note — so the public page (``user`` is
None) may show it; signed-in staff also get links to the consensus pages."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.consult import permissions
from linli.consult.queries import visits as q
from linli.core.types import User
from linli.renewal.models import Project
from linli.renewal.panels import Panel

TEMPLATE = "consult/visits/_panel.html"


def panel(project: Project, user: User | None) -> Panel | None:
    data = q.project_consensus(project)
    public = not permissions.signed_in(user)
    if public and data.total.visits == 0:
        return None
    rows = [{**b, "url": None} for b in data.buildings]
    links: dict[str, str | None] = {"summary": None, "log": None}
    if user is not None and not public:
        if not permissions.may_view(user, project):
            return None
        links["summary"] = reverse("consult:visit_project", args=[project.pk])
        ids = [b["id"] for b in data.buildings]
        visit_ids = q.visit_building_ids(user, ids)
        for r in rows:
            if r["id"] in visit_ids:
                r["url"] = reverse("consult:visit_building", args=[project.pk, r["id"]])
        if visit_ids or q.may_visit_any(user, ids):
            links["log"] = reverse("consult:visit_new", args=[project.pk])
    return Panel(
        title=_("Residents' consent"),
        template=TEMPLATE,
        context={"c": data.total, "rows": rows, "public": public, "links": links},
        order=30,
    )
