"""The ballots section of a renovation project's pages (registered by ConsultConfig.ready()).

On the public page (``user`` None) only ballots that have opened are listed, and only the
results of closed ones: aggregate shares, no names, no dwellings."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.consult import queries_ballots as q
from linli.consult.models import Ballot
from linli.renewal.panels import Panel


def panel(project: Any, user: Any | None) -> Panel | None:
    qs = Ballot.objects.filter(project=project).order_by("-created_at")
    if user is None or not getattr(user, "is_authenticated", False):
        ballots = qs.exclude(status=Ballot.Status.DRAFT)
        rows = [
            {
                "title": b.title,
                "matter": b.get_matter_display(),
                "status": b.get_status_display(),
                "url": None,
                "result": b.result if b.status == Ballot.Status.CLOSED else None,
            }
            for b in ballots
        ]
        list_url = None
    else:
        ballots = q.visible_ballots(user, qs)
        rows = [
            {
                "title": b.title,
                "matter": b.get_matter_display(),
                "status": b.get_status_display(),
                "url": reverse("consult:ballot_detail", args=[b.pk]),
                "result": b.result if b.status == Ballot.Status.CLOSED else None,
            }
            for b in ballots
        ]
        list_url = (
            reverse("consult:ballot_list", args=[project.compound_id]) + f"?project={project.pk}"
            if can(user, Action.VIEW, project.compound)
            else None
        )
    if not rows and list_url is None:
        return None
    return Panel(
        title=_("Ballots"),
        template="consult/ballots/panel.html",
        context={"ballots": rows, "list_url": list_url},
        order=40,
    )
