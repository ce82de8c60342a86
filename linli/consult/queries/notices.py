"""Reads of public notices 公示 and their objections: a notice's period and state, what a page or
the PDF shows of it (its snapshot, as published), and the scoped lookups pages and the API need.

A notice's period counts calendar days including the posting day (``ends_on``); a notice is
"upcoming", "running" or "ended" (``state``). Pages render from ``shown()``, never from the live
project and place rows (``linli.consult.snapshots``). Objections are read by staff who run the
project (CONSULT) only; the public side reads only notices of projects shown on the public page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext

from linli.accounts.permissions import get_or_404, scoped
from linli.accounts.roles import Action
from linli.consult.models import Ballot, Notice, NoticeCorrection, Objection
from linli.core import clock
from linli.core.types import User
from linli.renewal.models import Project

# --- a notice's period --------------------------------------------------------------------------------


def ends_on(notice: Notice) -> date:
    """The last day of the notice's period (the posting day counts as the first)."""
    return notice.starts_on + timedelta(days=notice.days - 1)


def is_running(notice: Notice, on: date | None = None) -> bool:
    d = on or clock.today()
    return notice.starts_on <= d <= ends_on(notice)


def state(notice: Notice, on: date | None = None) -> str:
    """``upcoming``, ``running`` or ``ended`` on ``on`` (default today)."""
    d = on or clock.today()
    if d < notice.starts_on:
        return "upcoming"
    return "running" if d <= ends_on(notice) else "ended"


def shown(notice: Notice) -> dict[str, Any]:
    """What a page or the PDF shows of a notice: its snapshot (as published), with the dates as
    dates, and its corrections in order."""
    snap = dict(notice.snapshot or {})
    snap["starts_on_date"] = date.fromisoformat(snap["starts_on"]) if snap.get("starts_on") else notice.starts_on
    snap["ends_on_date"] = date.fromisoformat(snap["ends_on"]) if snap.get("ends_on") else ends_on(notice)
    snap["kind_label"] = str(Notice.Kind(snap.get("kind", notice.kind)).label)
    # The issuer as a page names it: the community's name (a proper name, as published) and the
    # title of the body in the page's language; the snapshot keeps the Chinese text the PDF prints.
    community = (snap.get("community") or {}).get("name")
    snap["issuer_label"] = (
        gettext("%(community)s Residents' Committee") % {"community": community} if community else snap.get("issuer")
    )
    return snap


def corrections(notice: Notice) -> list[NoticeCorrection]:
    """The notice's dated corrections, oldest first."""
    return list(notice.corrections.order_by("at", "id"))


def objections(notice: Notice) -> list[Objection]:
    """The objections raised against the notice, newest first (CONSULT only: the caller checks)."""
    return list(notice.objections.order_by("-created_at"))


# --- lookups for the pages and the API --------------------------------------------------------------


def public_notice(pk: int) -> Notice:
    """A notice as the public sees it: only of a project shown on the public page."""
    notice = Notice.objects.select_related("project__compound__community__street").filter(pk=pk).first()
    if notice is None or not notice.project.is_public:
        raise Http404("no such public notice")
    return notice


def project_to_run(user: User, pk: object) -> Project:
    """A project where the user may publish notices (CONSULT): 404 outside the scope, 403 inside."""
    return get_or_404(user, Action.CONSULT, Project.objects.select_related("compound"), pk=pk)


def notice_for(user: User, pk: object) -> Notice:
    """A notice the user may view (with its project and publisher)."""
    return get_or_404(user, Action.VIEW, Notice.objects.select_related("project__compound", "published_by"), pk=pk)


def notice_to_correct(user: User, pk: int) -> Notice:
    """A notice whose project the user runs (CONSULT): 404 for a missing notice, the project's
    404/403 otherwise."""
    notice = Notice.objects.select_related("project").filter(pk=pk).first()
    if notice is None:
        raise Http404("no such notice")
    get_or_404(user, Action.CONSULT, Project, pk=notice.project_id)
    return notice


def objection_to_move(user: User, pk: int) -> Objection:
    """An objection the user may move: its permission is its project's (a viewer of the project is
    told 403, others 404)."""
    objection = Objection.objects.select_related("notice__project").filter(pk=pk).first()
    if objection is None:
        raise Http404("no such objection")
    get_or_404(user, Action.CONSULT, Project, pk=objection.notice.project_id)
    return objection


def notice_for_pdf(user: User, pk: int) -> Notice:
    """The notice of a PDF: public for public projects, else to those who may view it."""
    notice = Notice.objects.select_related("project").filter(pk=pk).first()
    if notice is None:
        raise Http404("no such notice")
    if not notice.project.is_public:
        get_or_404(user, Action.VIEW, Notice, pk=pk)
    return notice


def visible_notices(user: User) -> QuerySet[Notice]:
    """Notices the user may view, the latest posted first."""
    return scoped(user, Action.VIEW, Notice.objects.order_by("-starts_on", "-id"))


def objections_to_run(user: User) -> QuerySet[Objection]:
    """Objections where the user runs the project (CONSULT), newest first."""
    return scoped(user, Action.CONSULT, Objection.objects.order_by("-created_at"))


def project_ballot(project: Project, pk: int) -> Ballot | None:
    """A ballot of this project, or None (a notice may refer to one)."""
    return Ballot.objects.filter(pk=pk, project=project).first()


def panel_rows(project: Project, with_objections: bool) -> list[dict[str, Any]]:
    """Every notice of a project for its page's section, the latest first: as shown, its
    corrections, period and state; with the counts of objections (all, not closed) for staff."""
    notices = Notice.objects.filter(project=project).prefetch_related("corrections").order_by("-starts_on", "-id")
    rows = []
    for n in notices:
        row: dict[str, Any] = {
            "notice": n,
            "shown": shown(n),
            "corrections": sorted(n.corrections.all(), key=lambda c: (c.at, c.pk)),
            "ends_on": ends_on(n),
            "state": state(n),
            "running": is_running(n),
        }
        if with_objections:
            row["objections"] = n.objections.count()
            row["open_objections"] = n.objections.exclude(status="closed").count()
        rows.append(row)
    return rows
