"""A department's lists, per department the person works for (``governance.queries.queues.
my_departments``): cases to accept (签收), to handle, due within ``DUE_SOON_HOURS``, and overdue.
Every list is within the HANDLE scope and opens the department's queue."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.urls import reverse

from linli.accounts.models import Department
from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.core.types import User
from linli.governance.loop import Step
from linli.governance.models import Event
from linli.governance.queries.queues import my_departments
from linli.workbench.lists import WorkList
from linli.workbench.queries.common import case_list, overdue

#: "Due soon": the step's deadline falls within this many hours and has not passed yet.
DUE_SOON_HOURS = 24
WORKING = (Step.DISPATCHED.value, Step.HANDLING.value)


def departments(user: User) -> list[Department]:
    return my_departments(user)


def _events(user: User, dept: Department) -> QuerySet[Event]:
    return scoped(user, Action.HANDLE, Event.objects.filter(department=dept))


def _queue(dept: Department, anchor: str) -> str:
    return reverse("governance:queue_department_for", args=[dept.pk]) + f"#q-{anchor}"


def _named(wl: WorkList, dept: Department) -> WorkList:
    wl.group = dept.name
    wl.group_url = reverse("governance:queue_department_for", args=[dept.pk])
    return wl


def to_accept(user: User, dept: Department, now: dt.datetime) -> WorkList:
    qs = _events(user, dept).filter(step=Step.DISPATCHED)
    return _named(case_list("accept", qs, now, _queue(dept, "accept"), "step_due_at"), dept)


def to_handle(user: User, dept: Department, now: dt.datetime) -> WorkList:
    qs = _events(user, dept).filter(step=Step.HANDLING)
    return _named(case_list("handle", qs, now, _queue(dept, "handling"), "step_due_at"), dept)


def due_soon(user: User, dept: Department, now: dt.datetime) -> WorkList:
    """Cases to accept or handle whose step's deadline is within the next ``DUE_SOON_HOURS``
    (not yet overdue, not on the backlog, not deferred)."""
    qs = (
        _events(user, dept)
        .filter(step__in=WORKING, backlog=False, step_due_at__gte=now)
        .filter(step_due_at__lt=now + dt.timedelta(hours=DUE_SOON_HOURS))
        .exclude(deferred_until__gt=now)
    )
    return _named(case_list("due_soon", qs, now, _queue(dept, "handling"), "step_due_at"), dept)


def late(user: User, dept: Department, now: dt.datetime) -> WorkList:
    qs = overdue(_events(user, dept), now)
    return _named(case_list("late", qs, now, _queue(dept, "handling"), "step_due_at"), dept)
