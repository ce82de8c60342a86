"""Read side of the work queues (no writes): a department's queue ("部门报到") and the command
centre's queues. Every queryset starts from ``permissions.scoped``; the filters after it only
narrow what the person may already see (one department of theirs, one step), never widen it.

Writes go through ``linli.governance.services.events`` (the views call act / decide there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import NoReverseMatch, reverse

from linli.accounts.models import Department
from linli.accounts.permissions import authorize, grants_of, scoped
from linli.accounts.roles import Action, allows
from linli.core import lang
from linli.core.errors import LinliError
from linli.core.paging import Paged, page_at
from linli.core.types import User
from linli.governance import loop
from linli.governance.loop import Move, Step
from linli.governance.models import Event, EventRequest
from linli.governance.queries import public as governance_public
from linli.governance.services import events as svc

# Rows loaded per section when no page is asked for; the heading always shows the full count.
CAP = 100
# Cards on one page of a section (each section pages on its own: ``?p-<key>=2#q-<key>``).
PER_PAGE = 5

REQUEST_MOVE: dict[str, Move] = {
    EventRequest.Kind.RETURN: Move.RETURN,
    EventRequest.Kind.VOID: Move.VOID,
    EventRequest.Kind.EXTEND: Move.EXTEND,
    EventRequest.Kind.DEFER: Move.DEFER,
    EventRequest.Kind.BACKLOG: Move.BACKLOG,
}


def pick(pair: tuple[str, str]) -> str:
    """One of a (Chinese, English) pair for the page's language (``core.lang.pick``)."""
    return lang.pick(*pair)


def detail_url(pk: int) -> str | None:
    """The event page (another part of the app); None while it is not there."""
    try:
        return reverse("governance:event_detail", args=[pk])
    except NoReverseMatch:
        return None


def overdue_q(now: datetime) -> Q:
    """The rows ``services.events.is_overdue`` says are overdue, as a filter (open steps only)."""
    return Q(step__in=[s.value for s in loop.OPEN_STEPS], step_due_at__lt=now, backlog=False) & (
        Q(deferred_until__isnull=True) | Q(deferred_until__lte=now)
    )


# --- who holds which queue -------------------------------------------------------------------------


def my_departments(user: User) -> list[Department]:
    """Departments the user works for: where they hold a role with HANDLE *at the department*
    (department staff), and which the permission check lets them handle events of."""
    ids = [
        g.place_id
        for g in grants_of(user)
        if g.place_kind == "department" and allows(g.role, Action.HANDLE, g.place_kind)
    ]
    if not ids:
        return []
    return list(scoped(user, Action.HANDLE, Department.objects.filter(pk__in=ids)).order_by("name", "pk"))


def department_of(user: User, dept_pk: int | None) -> tuple[Department, list[Department]]:
    """The department whose queue the user opens (``dept_pk``, or their first) and all of theirs.
    Someone who works for no department, or not for ``dept_pk``, gets a bilingual 404."""
    depts = my_departments(user)
    if not depts:
        raise LinliError.one(
            "no_department",
            "您不在任何部门任职,没有部门待办队列。",
            "You do not work for a department, so you have no department queue.",
            404,
        )
    if dept_pk is None:
        return depts[0], depts
    found = [d for d in depts if d.pk == dept_pk]
    if not found:
        raise LinliError.one(
            "not_your_department",
            "该部门不存在,或您不在该部门任职。",
            "No such department, or you do not work for it.",
            404,
        )
    return found[0], depts


def event_to_act(user: User, pk: int) -> Event:
    """The case a queue row acts on: 404 when there is none or it is outside the user's scope
    (before any form check, so a bad form reveals nothing)."""
    event = Event.objects.filter(pk=pk).select_related("category", "street").first()
    if event is None:
        raise LinliError.one("not_found", "案件不存在,或不在您的管辖范围内。", "No such case in your scope.", 404)
    authorize(user, Action.VIEW, event)
    return event


def request_to_decide(pk: int) -> EventRequest:
    """The request a queue row decides (``services.events.decide`` checks the right), or a 404."""
    req = EventRequest.objects.filter(pk=pk).select_related("event").first()
    if req is None:
        raise LinliError.one("not_found", "申请不存在,或不在您的管辖范围内。", "No such request in your scope.", 404)
    return req


def dispatch_department(raw: str) -> Department | None:
    """The department a queue's dispatch form names, or None (not a number, or no such department)."""
    return Department.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 12 else None


# --- rows ------------------------------------------------------------------------------------------


@dataclass
class EventRow:
    event: Event
    step_name: str
    overdue: bool
    level: int
    level_name: str
    url: str | None
    # dispatch choices (command queue, 待派遣): (department, suggested?)
    choices: list[tuple[Department, bool]] = field(default_factory=list)
    suggested: Department | None = None
    see_people: bool = False  # may the viewer read phone and ID numbers in its free text (see_people())


@dataclass
class RequestRow:
    req: EventRequest
    kind_name: str
    url: str | None
    see_people: bool = False


@dataclass
class Section:
    key: str
    title: str
    count: int
    rows: list[Any]
    empty: str = ""
    # the form each row offers: "accept", "register", "dispatch", "decide" or ""
    form: str = ""
    page: Paged[Any] | None = None  # the page of the section shown (its links: core/_pager.html)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.rows))


def mark_people(user: User, sections: list[Section]) -> list[Section]:
    """Set each row's ``see_people``: whether ``user`` may see people's data (VIEW_PEOPLE) at its
    event, so that the cards mask phone and ID numbers in free text otherwise (one query)."""
    rows = [row for s in sections for row in s.rows if isinstance(row, EventRow | RequestRow)]
    ids = {row.event.pk if isinstance(row, EventRow) else row.req.event_id for row in rows}
    allowed = set(scoped(user, Action.VIEW_PEOPLE, Event.objects.filter(pk__in=ids)).values_list("pk", flat=True))
    for row in rows:
        row.see_people = (row.event.pk if isinstance(row, EventRow) else row.req.event_id) in allowed
    return sections


def paged_events(params: Mapping[str, str], key: str, qs: QuerySet[Event], now: datetime, **section: Any) -> Section:
    """A section of event cards, one page of ``PER_PAGE`` (``?p-<key>=n``): one count, one slice."""
    page = page_at(params, qs.count(), PER_PAGE, param=f"p-{key}", anchor=f"#q-{key}")
    return Section(key, "", page.count, event_rows(qs[page.start : page.stop], now), page=page, **section)


def paged_requests(params: Mapping[str, str], key: str, qs: QuerySet[EventRequest], **section: Any) -> Section:
    """A section of requests, one page at a time (as ``paged_events``)."""
    link_if_department = section.pop("link_if_department", None)
    page = page_at(params, qs.count(), PER_PAGE, param=f"p-{key}", anchor=f"#q-{key}")
    rows = request_rows(qs[page.start : page.stop], link_if_department=link_if_department)
    return Section(key, "", page.count, rows, page=page, **section)


def _events(qs: QuerySet[Event]) -> QuerySet[Event]:
    return qs.select_related("category", "department", "community", "grid", "street", "building__compound")


def event_rows(qs: QuerySet[Event], now: datetime, *, links: bool = True) -> list[EventRow]:
    rows = []
    events = list(_events(qs)[:CAP])
    supports = governance_public.support_counts([ev.pk for ev in events])  # "me too" (issue 12 §9)
    for ev in events:
        ev.support_count = supports.get(ev.pk, 0)  # type: ignore[attr-defined]
        rows.append(
            EventRow(
                event=ev,
                step_name=pick(loop.STEP_NAMES[Step(ev.step)]),
                overdue=svc.is_overdue(ev, now),
                level=ev.escalation,
                level_name=pick(loop.LEVEL_NAMES.get(ev.escalation, ("", ""))),
                url=detail_url(ev.pk) if links else None,
            )
        )
    return rows


def request_rows(
    qs: QuerySet[EventRequest], *, link_if_department: Department | None = None, links: bool = True
) -> list[RequestRow]:
    rows = []
    for r in qs.select_related(
        "event__category", "event__community", "event__building__compound", "department", "requested_by", "decided_by"
    )[:CAP]:
        url = None
        if links and (link_if_department is None or r.event.department_id == link_if_department.pk):
            url = detail_url(r.event_id)
        rows.append(RequestRow(req=r, kind_name=pick(loop.MOVE_NAMES[REQUEST_MOVE[r.kind]]), url=url))
    return rows


# --- the department's queue ------------------------------------------------------------------------


def department_sections(
    user: User, dept: Department, now: datetime, params: Mapping[str, str] | None = None
) -> list[Section]:
    """待签收, 处理中 (overdue first), 已反馈待核查, and the department's requests with decisions;
    each section one page (``params``: the request's GET, ``?p-<key>=n``)."""
    at = params if params is not None else {}
    events = scoped(user, Action.HANDLE, Event.objects.all()).filter(department=dept)
    dispatched = events.filter(step=Step.DISPATCHED).order_by("-urgent", "step_due_at", "pk")
    handling = (
        events.filter(step=Step.HANDLING)
        .annotate(_late=Case(When(overdue_q(now), then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-urgent", "-_late", "step_due_at", "pk")
    )
    reported = events.filter(step=Step.REPORTED).order_by("-urgent", "-step_started_at", "-pk")
    requests = scoped(user, Action.HANDLE, EventRequest.objects.all()).filter(department=dept)
    pending = requests.filter(decision=EventRequest.Decision.PENDING).order_by("-event__urgent", "requested_at", "pk")
    decided = requests.exclude(decision=EventRequest.Decision.PENDING).order_by("-decided_at", "-pk")
    return [
        paged_events(at, "accept", dispatched, now, form="accept"),
        paged_events(at, "handling", handling, now),
        paged_events(at, "reported", reported, now),
        paged_requests(at, "requests", pending, link_if_department=dept),
        paged_requests(at, "decided", decided, link_if_department=dept),
    ]


# --- the command centre's queues -------------------------------------------------------------------


def _dispatch_choices(rows: list[EventRow]) -> None:
    """The routed departments (services.route, the first one suggested), then every other active
    department serving the place; ``services.act`` checks the choice again."""
    if not rows:
        return
    others = list(Department.objects.filter(active=True).order_by("kind", "name"))
    routed: dict[tuple[int, str], list[Department]] = {}
    for row in rows:
        ev = row.event
        key = (ev.category_id, ev.path)
        if key not in routed:
            routed[key] = svc.route(ev.category, ev.path, ev.street)
        chain = routed[key]
        row.suggested = chain[0] if chain else None
        row.choices = [(d, i == 0) for i, d in enumerate(chain)]
        seen = {d.pk for d in chain}
        row.choices += [(d, False) for d in others if d.pk not in seen and d.path and ev.path.startswith(d.path)]


def command_sections(user: User, now: datetime, params: Mapping[str, str] | None = None) -> list[Section]:
    """The command centre's sections, each one page (``params``: the request's GET)."""
    at = params if params is not None else {}
    events = scoped(user, Action.COMMAND, Event.objects.all())
    open_steps = [s.value for s in loop.OPEN_STEPS]
    collected = events.filter(step=Step.COLLECTED).order_by("-urgent", "created_at", "pk")
    registered = events.filter(step=Step.REGISTERED).order_by("-urgent", "step_due_at", "pk")
    reported = events.filter(step=Step.REPORTED).order_by("-urgent", "step_due_at", "pk")
    late = (
        events.filter(step__in=open_steps)
        .filter(overdue_q(now) | Q(escalation__gt=loop.NONE))
        .order_by("-urgent", "-escalation", "step_due_at", "pk")
    )
    backlog = events.filter(step__in=open_steps, backlog=True).order_by("-urgent", "updated_at", "pk")
    deferred = events.filter(step__in=open_steps, deferred_until__gt=now).order_by("-urgent", "deferred_until", "pk")
    pending = scoped(
        user, Action.COMMAND, EventRequest.objects.filter(decision=EventRequest.Decision.PENDING)
    ).order_by("-event__urgent", "requested_at", "pk")
    dispatch = paged_events(at, "dispatch", registered, now, form="dispatch")
    _dispatch_choices(dispatch.rows)
    return [
        paged_events(at, "register", collected, now, form="register"),
        dispatch,
        paged_requests(at, "approve", pending, form="decide"),
        paged_events(at, "verify", reported, now),
        paged_events(at, "late", late, now),
        paged_events(at, "backlog", backlog, now),
        paged_events(at, "deferred", deferred, now),
    ]
