"""The command centre's lists: reports to register (立案), cases to dispatch (派遣), departments'
requests to approve, overdue cases and urgent ones — all within the centre's COMMAND scope. Each
"all" link opens the command queue (``governance:queue_command``) at its section, or the filtered
event list."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.urls import reverse

from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.core import lang
from linli.core.types import User
from linli.governance import loop
from linli.governance.loop import Move, Step
from linli.governance.models import Event, EventRequest
from linli.sensing.models import Alarm, AlarmType
from linli.workbench.lists import SHOWN, Item, WorkList
from linli.workbench.queries.common import ONLY, OPEN_STEPS, RELATED, case_list, case_title, event_list_url, overdue

REQUEST_MOVES: dict[str, Move] = {
    EventRequest.Kind.RETURN: Move.RETURN,
    EventRequest.Kind.VOID: Move.VOID,
    EventRequest.Kind.EXTEND: Move.EXTEND,
    EventRequest.Kind.DEFER: Move.DEFER,
    EventRequest.Kind.BACKLOG: Move.BACKLOG,
}


def _events(user: User) -> QuerySet[Event]:
    return scoped(user, Action.COMMAND, Event.objects.all())


def _queue(anchor: str) -> str:
    return reverse("governance:queue_command") + f"#q-{anchor}"


def to_register(user: User, now: dt.datetime) -> WorkList:
    qs = _events(user).filter(step=Step.COLLECTED)
    return case_list("register", qs, now, _queue("register"), "created_at")


def to_dispatch(user: User, now: dt.datetime) -> WorkList:
    qs = _events(user).filter(step=Step.REGISTERED)
    return case_list("dispatch", qs, now, _queue("dispatch"), "step_due_at")


def to_approve(user: User, now: dt.datetime) -> WorkList:
    """Departments' requests (return, void, extend, defer, backlog) waiting for the centre."""
    qs = scoped(user, Action.COMMAND, EventRequest.objects.filter(decision=EventRequest.Decision.PENDING))
    rows = (
        qs.select_related(*(f"event__{r}" for r in RELATED), "department")
        .only("kind", "event", "department__name", *(f"event__{f}" for f in ONLY))
        .order_by("-event__urgent", "requested_at", "pk")[:SHOWN]
    )
    items = [
        Item(
            title=case_title(r.event),
            url=reverse("governance:event_detail", args=[r.event_id]),
            note=lang.pick(*loop.MOVE_NAMES[REQUEST_MOVES[r.kind]])
            + (f" · {r.department.name}" if r.department else ""),
            urgent=r.event.urgent,
        )
        for r in rows
    ]
    return WorkList("approve", qs.count(), items, _queue("approve"))


def late(user: User, now: dt.datetime) -> WorkList:
    """Open cases past their step's deadline (not on the backlog, not deferred), longest late first."""
    qs = overdue(_events(user), now)
    return case_list("late", qs, now, event_list_url(overdue=1), "step_due_at")


def urgent(user: User, now: dt.datetime) -> WorkList:
    """Open cases marked urgent (someone is in danger now), oldest deadline first."""
    qs = _events(user).filter(step__in=OPEN_STEPS, urgent=True)
    return case_list("urgent", qs, now, _queue("late"), "step_due_at")


def alarms(user: User, now: dt.datetime) -> WorkList:
    """Sensor and lift alarms not yet acknowledged (issue 13), trapped passengers first, then by
    severity, newest; "all" opens the alarm board filtered the same way."""
    qs = scoped(user, Action.COMMAND, Alarm.objects.filter(cleared=False, acknowledged=False))
    rows = qs.select_related("device").order_by("priority", "-started_at", "-pk")[:SHOWN]
    items = [
        Item(
            title=f"#{a.pk} {a.get_alarm_type_display()} · {a.device}",
            url=reverse("sensing:alarm_detail", args=[a.pk]),
            note=str(a.get_severity_display()),
            urgent=a.alarm_type == AlarmType.TRAPPED,
        )
        for a in rows
    ]
    return WorkList("alarms", qs.count(), items, reverse("sensing:alarm_board") + "?unack=1")
