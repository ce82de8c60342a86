"""The district's portfolio: renovation projects by phase, open grid cases (and how many are
overdue), and the turnout of the ballots open now — counts over everything the user may VIEW
(projects, ballots) or work as a case (EVENTS)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django.urls import reverse

from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.core.types import User
from linli.governance.models import Event
from linli.renewal.models import PHASES, Phase, Project
from linli.workbench.lists import Item, WorkList
from linli.workbench.queries.common import OPEN_STEPS, event_list_url, overdue
from linli.workbench.queries.community import open_ballots

PHASE_LABELS = dict(Phase.choices)


def _phase_name(phase: str) -> str:
    """The phase's name as renewal's pages show it (its translated label)."""
    return str(PHASE_LABELS[phase])


def projects_by_phase(user: User, now: dt.datetime) -> WorkList:
    """Every phase with its number of projects (phases without any left out), in the loop's order."""
    counts = dict(
        scoped(user, Action.VIEW, Project.objects.all())
        .values("phase")
        .annotate(n=Count("id", distinct=True))
        .values_list("phase", "n")
        .order_by()
    )
    items = [
        Item(_phase_name(p), reverse("renewal:project_list"), amount=counts[p], unit="projects")
        for p in PHASES
        if counts.get(p)
    ]
    return WorkList("portfolio", sum(counts.values()), items, reverse("renewal:project_list"), count_unit="projects")


def open_cases(user: User, now: dt.datetime) -> WorkList:
    """Open grid cases in scope and, of them, the overdue ones; each opens the filtered event list."""
    events = scoped(user, Action.EVENTS, Event.objects.all())
    open_count = events.filter(step__in=OPEN_STEPS).count()
    late = overdue(events, now).count()
    items = [
        Item("", event_list_url(), amount=open_count, unit="open_cases"),
        Item("", event_list_url(overdue=1), amount=late, unit="overdue_cases"),
    ]
    return WorkList("cases", open_count, items, reverse("dashboard:index"), count_unit="cases")


def turnout(user: User, now: dt.datetime) -> WorkList:
    """The ballots open now in the portfolio, each with its turnout, and the turnout over all."""
    wl = open_ballots(user, now, Action.VIEW)
    wl.key = "turnout"
    return wl
