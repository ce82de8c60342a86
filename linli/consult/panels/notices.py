"""The public notices section of a renovation project's pages (registered by ConsultConfig.ready()
as this module's ``panel``). On the public page (user None): every notice with its period, PDF and,
while the period runs, the objection form; no objection is ever listed there. Each notice renders
from its snapshot (as published) with its dated corrections."""

from __future__ import annotations

from django.utils.translation import gettext as _

from linli.consult import permissions
from linli.consult.queries import notices as q
from linli.core.types import User
from linli.renewal.models import Project
from linli.renewal.panels import Panel


def panel(project: Project, user: User | None) -> Panel | None:
    public = not permissions.signed_in(user)
    run = user is not None and not public and permissions.may_run(user, project)
    rows = q.panel_rows(project, with_objections=run)
    if public and not rows:
        return None
    return Panel(
        title=_("Public notices"),
        template="consult/notices/panel.html",
        context={"rows": rows, "can_publish": run, "is_public_page": public},
        order=60,
    )
