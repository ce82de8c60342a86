"""Rows of grid cases shared by the role lists: a case as a workbench ``Item``, ordered urgent
first, then by its step's deadline. The querysets come in already scoped by the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse

from linli.core import lang
from linli.governance import loop
from linli.governance.loop import Step
from linli.governance.models import Event
from linli.governance.queries.events import overdue_q
from linli.workbench.lists import SHOWN, Item, WorkList

OPEN_STEPS = sorted(s.value for s in loop.OPEN_STEPS)
#: What ``case_title`` and ``case_item`` read of each case (``only`` these columns: compiling the
#: SQL of every column of five tables costs more than running it).
RELATED = ("category", "building__compound", "community")
ONLY = (
    "step",
    "step_due_at",
    "backlog",
    "deferred_until",
    "urgent",
    "category__name",
    "category__name_en",
    "building__name",
    "building__compound__name",
    "community__name",
)


def case_title(event: Event) -> str:
    """ "#3996 占道经营 · 瑞丰新村 2栋": number, category and where (governance's ``place_name``)."""
    name = lang.pick(event.category.name, event.category.name_en)
    return f"#{event.pk} {name} · {event.place_name}"


def case_item(event: Event, now: datetime, note: str = "") -> Item:
    late = bool(event.is_open and not event.backlog and event.step_due_at and event.step_due_at < now) and not (
        event.deferred_until and event.deferred_until > now
    )
    return Item(
        title=case_title(event),
        url=reverse("governance:event_detail", args=[event.pk]),
        note=note or lang.pick(*loop.STEP_NAMES[Step(event.step)]),
        late=late,
        urgent=bool(getattr(event, "urgent", False)),
    )


def urgent_first(qs: QuerySet[Event], *order: str) -> QuerySet[Event]:
    return qs.order_by("-urgent", *order, "pk")


def case_list(key: str, qs: QuerySet[Event], now: datetime, all_url: str | None, *order: str) -> WorkList:
    """The count of ``qs`` and its first ``SHOWN`` cases (urgent first, then ``order``)."""
    rows = urgent_first(qs, *order).select_related(*RELATED).only(*ONLY)[:SHOWN]
    return WorkList(key, qs.count(), [case_item(e, now) for e in rows], all_url)


def event_list_url(**filters: Any) -> str:
    """The grid-event list (``governance:event_list``) with its filters (step, overdue, mine …)."""
    query = urlencode({k: v for k, v in filters.items() if v not in ("", None)})
    return reverse("governance:event_list") + (f"?{query}" if query else "")


def overdue(qs: QuerySet[Event], now: datetime) -> QuerySet[Event]:
    return qs.filter(overdue_q(now))
