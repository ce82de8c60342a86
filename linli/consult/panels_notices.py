"""The public notices section of a renovation project's pages (registered by ConsultConfig.ready()
as this module's ``panel``). On the public page (user None): every notice with its period, PDF and,
while the period runs, the objection form; no objection is ever listed there. Each notice renders
from its snapshot (as published) with its dated corrections."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.consult.models import Notice
from linli.consult.services import notices as svc
from linli.renewal.panels import Panel


def panel(project: Any, user: Any | None) -> Panel | None:
    notices = list(Notice.objects.filter(project=project).prefetch_related("corrections").order_by("-starts_on", "-id"))
    public = user is None or not getattr(user, "is_authenticated", False)
    run = not public and can(user, Action.CONSULT, project)
    if public and not notices:
        return None
    rows = []
    for n in notices:
        row: dict[str, Any] = {
            "notice": n,
            "shown": svc.shown(n),
            "corrections": sorted(n.corrections.all(), key=lambda c: (c.at, c.pk)),
            "ends_on": svc.ends_on(n),
            "state": svc.state(n),
            "running": svc.is_running(n),
        }
        if run:
            row["objections"] = n.objections.count()
            row["open_objections"] = n.objections.exclude(status="closed").count()
        rows.append(row)
    return Panel(
        title=_("Public notices"),
        template="consult/notices/panel.html",
        context={"rows": rows, "can_publish": run, "is_public_page": public},
        order=60,
    )
