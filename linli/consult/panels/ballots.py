"""The ballots section of a renovation project's pages (registered by ConsultConfig.ready()).

On the public page (``user`` None) only ballots that have opened are listed, and only the
results of counted ones: aggregate shares, no names, no dwellings. A withdrawn ballot shows its
published reason and that it decides nothing. Counted and withdrawn ballots render from the
snapshot they kept (the scope's name as it was)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.consult import permissions
from linli.consult.models import Ballot
from linli.consult.queries import ballots as q
from linli.core.types import User
from linli.renewal.models import Project
from linli.renewal.panels import Panel


def _row(b: Ballot, url: str | None) -> dict[str, Any]:
    published = q.published_of(b) or {}
    return {
        "title": b.title,
        "matter": b.get_matter_display(),
        "status": b.get_status_display(),
        "scope": published.get("scope_label", ""),
        "url": url,
        "result": b.result if b.status == Ballot.Status.CLOSED else None,
        "withdrawal": q.withdrawal_of(b),
    }


def panel(project: Project, user: User | None) -> Panel | None:
    ballots = q.project_ballots(project, user)
    if user is None or not permissions.signed_in(user):
        rows = [_row(b, None) for b in ballots]
        list_url = None
    else:
        rows = [_row(b, reverse("consult:ballot_detail", args=[b.pk])) for b in ballots]
        list_url = (
            reverse("consult:ballot_list", args=[project.compound_id]) + f"?project={project.pk}"
            if permissions.may_view(user, project.compound)
            else None
        )
    if not rows and list_url is None:
        return None
    see_people = permissions.sees_people(user, project)
    return Panel(
        title=_("Ballots"),
        template="consult/ballots/panel.html",
        # a withdrawal's reason is free text: masked unless the reader may see people's data here
        context={"ballots": rows, "list_url": list_url, "see_people": see_people},
        order=40,
    )
