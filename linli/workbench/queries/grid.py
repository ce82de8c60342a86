"""A grid worker's lists: cases to verify on site, his reports the centre sent back (voided),
households of his grid not visited for N days, and his open reports.

"His grid" is where he holds a grid role that reports and works cases (REPORT and EVENTS at the
grid, ``permissions.grid_ids``); every queryset still goes through ``accounts.permissions.scoped``.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet
from django.urls import reverse

from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.consult.models import Visit
from linli.consult.queries import visits as consult_visits
from linli.core.types import User
from linli.governance.loop import Step
from linli.governance.models import Event
from linli.places.models import Building, Dwelling
from linli.renewal.models import Phase, Project
from linli.workbench import permissions
from linli.workbench.lists import SHOWN, Figure, Item, WorkList
from linli.workbench.queries.common import OPEN_STEPS, case_list, event_list_url

#: Reports voided within this many days count as "sent back" to the reporter.
RETURNED_DAYS = 30
#: Projects whose households are being visited (needs, plan, ballot and notice phases).
VISITING_PHASES = (Phase.SURVEY, Phase.PLAN, Phase.BALLOT, Phase.NOTICE)


def _grid_events(user: User) -> QuerySet[Event]:
    return scoped(user, Action.REPORT, Event.objects.filter(grid_id__in=permissions.grid_ids(user)))


def to_verify(user: User, now: dt.datetime) -> WorkList:
    """Cases of his grid the department reported back (处理反馈): he checks them on site. Never one
    he handled himself (``governance.permissions.may_verify``)."""
    qs = _grid_events(user).filter(step=Step.REPORTED).exclude(handler_id=user.pk)
    return case_list("verify", qs, now, event_list_url(step=Step.REPORTED.value), "step_due_at")


def returned(user: User, now: dt.datetime) -> WorkList:
    """His own reports the command centre voided (作废: a duplicate, not a problem …) recently."""
    since = now - dt.timedelta(days=RETURNED_DAYS)
    qs = Event.objects.filter(reporter_id=user.pk, step=Step.VOIDED, updated_at__gte=since)
    return case_list("returned", qs, now, event_list_url(mine=1, step=Step.VOIDED.value), "-updated_at")


def my_open_reports(user: User, now: dt.datetime) -> WorkList:
    qs = Event.objects.filter(reporter_id=user.pk, step__in=OPEN_STEPS)
    return case_list("mine", qs, now, event_list_url(mine=1), "-created_at")


def not_visited(user: User, now: dt.datetime, days: int = consult_visits.DEFAULT_STALE_DAYS) -> WorkList:
    """Households of his grid in projects being visited that nobody visited for ``days`` days (or
    never), per building, least visited first; each row opens the building's visit page."""
    buildings = scoped(user, Action.VISIT, Building.objects.filter(grid_id__in=permissions.grid_ids(user)))
    building_ids = set(buildings.values_list("pk", flat=True))
    projects = scoped(
        user,
        Action.VIEW,
        Project.objects.filter(phase__in=VISITING_PHASES, compound__buildings__in=building_ids).distinct(),
    ).order_by("pk")
    since = now - dt.timedelta(days=days)
    rows: list[tuple[int, Item]] = []
    total_stale = 0
    first_project: Project | None = None
    for project in projects.select_related("compound"):
        covered = consult_visits.project_buildings(project).filter(pk__in=building_ids)
        households = dict(
            Dwelling.objects.filter(building__in=covered)
            .values("building_id")
            .annotate(n=Count("id"))
            .values_list("building_id", "n")
            .order_by()
        )
        fresh = dict(
            Visit.objects.filter(project=project, dwelling__building_id__in=list(households), visited_at__gte=since)
            .values("dwelling__building_id")
            .annotate(n=Count("dwelling_id", distinct=True))
            .values_list("dwelling__building_id", "n")
            .order_by()
        )
        names = dict(Building.objects.filter(pk__in=list(households)).values_list("pk", "name"))
        for building_id, n in households.items():
            stale = n - fresh.get(building_id, 0)
            if stale <= 0:
                continue
            first_project = first_project or project
            total_stale += stale
            url = reverse("consult:visit_building", args=[project.pk, building_id]) + f"?days={days}"
            title = f"{project.compound.name} {names[building_id]} · {project.name}"
            rows.append((stale, Item(title, url, figure=Figure(stale, n, "households"))))
    rows.sort(key=lambda r: -r[0])
    all_url = reverse("consult:visit_project", args=[first_project.pk]) if first_project else None
    return WorkList("not_visited", total_stale, [item for _n, item in rows[:SHOWN]], all_url, count_unit="households")
