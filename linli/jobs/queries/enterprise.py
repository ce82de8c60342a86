"""Reads of the key-enterprise services (issue 14 §6; docs/jobs.md "Key-enterprise services").

- The staff's queue (``jobs`` in scope): filed requests first (nobody has taken them on), then the
  overdue ones, then by deadline, soonest first; finished requests after them, latest first. Filters
  kind, status, overdue, officer, enterprise. The figures: open, overdue, closed on time (%), mean
  satisfaction, by kind and per officer — one GROUP BY over the requests in scope.
- An enterprise's own requests (its members, ``hire`` through ``Scope.owner``).
- One request: the enterprise's members and the staff who serve it see it; anyone else who may
  only *see* it (e.g. department staff at the street) gets a 403, anyone outside every scope a 404.
- The key enterprises in scope with their officer and open requests, and the staff who may be
  assigned as an enterprise's officer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.http import Http404, QueryDict

from linli.accounts import models as accounts_models
from linli.accounts.permissions import can, scope_q, scoped, scoped_any
from linli.accounts.roles import ROLES, Role
from linli.core import clock, lang
from linli.core.ids import as_id
from linli.core.paging import Paged, paginate
from linli.core.types import User
from linli.jobs.models import Employer, ServiceRequest, ServiceStep
from linli.jobs.permissions import HIRE, SEE, SERVE, serving_grants

Status = ServiceRequest.Status
OPEN = (Status.FILED.value, Status.ACCEPTED.value, Status.WORKING.value)
PER_PAGE = 20
#: Verified employers offered when staff look one up to mark it as a key enterprise.
ADD_SHOWN = 10

#: The queue's status filter: "open" (the default: filed, accepted or in progress), each status, "all".
STATUSES = ("open", *Status.values, "all")


def serves(user: User) -> bool:
    """Whether ``user`` works key enterprises' requests somewhere (``jobs`` in some scope)."""
    return scope_q(user, SERVE, ServiceRequest) is not None


def queue_of(user: User) -> QuerySet[ServiceRequest]:
    """Every request ``user`` serves (``jobs`` in scope); a 403 for one who serves none anywhere."""
    if not serves(user):
        raise PermissionDenied("no key-enterprise requests in scope")
    return scoped(user, SERVE, ServiceRequest.objects.all())


def own_requests(user: User) -> QuerySet[ServiceRequest]:
    """The requests of the enterprises ``user`` is a member of (none for anyone else)."""
    if not getattr(user, "is_authenticated", False):
        return ServiceRequest.objects.none()
    mine = ServiceRequest.objects.filter(employer__members__user_id=user.pk or 0).values("pk")
    return scoped(user, HIRE, ServiceRequest.objects.filter(pk__in=mine))


def own_key_enterprises(user: User) -> list[Employer]:
    """The employers ``user`` is a member of, by name (with ``key_enterprise`` and ``status`` to say
    whether they may file)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Employer.objects.filter(members__user_id=user.pk or 0).distinct().order_by("name"))


def request(user: User, pk: int) -> ServiceRequest:
    """One request for its page: 404 outside every scope, 403 to those who may only see it."""
    qs = ServiceRequest.objects.select_related("employer", "officer", "filed_by")
    try:
        req = qs.get(pk=pk)
    except ServiceRequest.DoesNotExist as exc:
        raise Http404("not found") from exc
    if scoped_any(user, (SERVE, HIRE), ServiceRequest.objects.filter(pk=pk)).exists():
        return req
    if can(user, SEE, req):
        raise PermissionDenied("the request is seen, not served, here")
    raise Http404("not in scope")


def steps(req: ServiceRequest) -> list[ServiceStep]:
    """The request's timeline, oldest first (a request has a handful of steps)."""
    return list(ServiceStep.objects.filter(request=req).select_related("actor").order_by("at", "pk"))


# --- the queue ------------------------------------------------------------------------------------------------


@dataclass
class Filters:
    kind: str = ""
    status: str = "open"
    overdue: bool = False
    officer: str = ""  # "" any, "me", "none", or a user id
    employer: int | None = None

    def query(self) -> str:
        pairs = [
            ("kind", self.kind),
            ("status", "" if self.status == "open" else self.status),
            ("overdue", "1" if self.overdue else ""),
            ("officer", self.officer),
            ("employer", str(self.employer) if self.employer else ""),
        ]
        return urlencode([(k, v) for k, v in pairs if v])

    @property
    def any(self) -> bool:
        return bool(self.query())


def parse_filters(get: QueryDict | dict[str, str]) -> Filters:
    """The queue's filters; an unknown value is ignored (the queue then shows everything in scope)."""
    f = Filters()
    kind = str(get.get("kind", "") or "")
    f.kind = kind if kind in ServiceRequest.Kind.values else ""
    status = str(get.get("status", "") or "")
    f.status = status if status in STATUSES else "open"
    f.overdue = get.get("overdue") == "1"
    officer = str(get.get("officer", "") or "")
    f.officer = officer if officer in ("me", "none") or as_id(officer) else ""
    f.employer = as_id(get.get("employer", ""))
    return f


def filtered(qs: QuerySet[ServiceRequest], f: Filters, user: User, now: datetime) -> QuerySet[ServiceRequest]:
    if f.status == "open":
        qs = qs.filter(status__in=OPEN)
    elif f.status != "all":
        qs = qs.filter(status=f.status)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.overdue:
        qs = qs.filter(status__in=OPEN, due_at__lt=now)
    if f.officer == "me":
        qs = qs.filter(officer_id=user.pk or 0)
    elif f.officer == "none":
        qs = qs.filter(officer__isnull=True)
    elif f.officer:
        qs = qs.filter(officer_id=as_id(f.officer))
    if f.employer:
        qs = qs.filter(employer_id=f.employer)
    return qs


def in_queue_order(qs: QuerySet[ServiceRequest], now: datetime) -> QuerySet[ServiceRequest]:
    """Filed first, then overdue, then the other open ones by deadline (soonest first); finished
    requests last, latest first."""
    rank = Case(
        When(status=Status.FILED, then=Value(0)),
        When(status__in=OPEN, due_at__lt=now, then=Value(1)),
        When(status__in=OPEN, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    open_due = Case(When(status__in=OPEN, then=F("due_at")), default=None)
    return qs.annotate(queue_rank=rank, open_due=open_due).order_by(
        "queue_rank", F("open_due").asc(nulls_last=True), F("closed_at").desc(nulls_last=True), "pk"
    )


@dataclass
class Row:
    """One line of the figures: a kind, an officer, or the whole scope."""

    key: str
    label: str
    open: int = 0
    overdue: int = 0
    closed: int = 0
    on_time: int = 0
    rejected: int = 0
    rated: int = 0
    satisfaction_sum: int = 0

    @property
    def total(self) -> int:
        return self.open + self.closed + self.rejected

    @property
    def on_time_pct(self) -> float | None:
        return 100.0 * self.on_time / self.closed if self.closed else None

    @property
    def mean_satisfaction(self) -> float | None:
        return self.satisfaction_sum / self.rated if self.rated else None


@dataclass
class Figures:
    all: Row
    by_kind: list[Row] = field(default_factory=list)
    by_officer: list[Row] = field(default_factory=list)


def figures(qs: QuerySet[ServiceRequest], now: datetime) -> Figures:
    """Open, overdue, closed on time (%) and mean satisfaction over ``qs``, by kind and per officer:
    one GROUP BY (kind, officer, status) and one query for the officers' names."""
    rows = (
        qs.order_by()
        .values("kind", "officer_id", "status")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=Q(status__in=OPEN, due_at__lt=now)),
            on_time=Count("pk", filter=Q(status=Status.CLOSED, closed_at__lte=F("due_at"))),
            rated=Count("satisfaction"),
            satisfaction_sum=Sum("satisfaction"),
        )
    )
    total = Row("all", "")
    kinds = {k: Row(k, str(label)) for k, label in ServiceRequest.Kind.choices}
    officers: dict[int | None, Row] = {}
    for r in rows:
        officer = officers.setdefault(r["officer_id"], Row(str(r["officer_id"] or ""), ""))
        for row in (total, kinds.get(r["kind"]), officer):
            if row is None:
                continue
            if r["status"] in OPEN:
                row.open += r["n"]
            elif r["status"] == Status.CLOSED:
                row.closed += r["n"]
            else:
                row.rejected += r["n"]
            row.overdue += r["overdue"]
            row.on_time += r["on_time"]
            row.rated += r["rated"]
            row.satisfaction_sum += r["satisfaction_sum"] or 0
    names = {u.pk: str(u) for u in accounts_models.User.objects.filter(pk__in=[k for k in officers if k])}
    for pk, row in officers.items():
        row.label = names.get(pk, "") if pk else ""
    by_officer = sorted(officers.values(), key=lambda r: (r.key == "", -r.open, r.label))
    return Figures(all=total, by_kind=[r for r in kinds.values() if r.total], by_officer=by_officer)


@dataclass
class Queue:
    filters: Filters
    page: Paged[ServiceRequest]
    figures: Figures
    now: datetime
    officers: list[tuple[int, str]]


def queue(user: User, params: QueryDict | dict[str, str], *, label: str = "") -> Queue:
    """The staff's queue for ``user`` (filtered, paged) and the figures of everything in scope."""
    now = clock.now()
    scope = queue_of(user)
    f = parse_filters(params)
    qs = in_queue_order(filtered(scope, f, user, now), now).select_related("employer", "officer")
    page = paginate(params, qs, PER_PAGE, anchor="#queue-h", label=label)
    figs = figures(scope, now)
    officers = [(int(r.key), r.label) for r in figs.by_officer if r.key]
    return Queue(filters=f, page=page, figures=figs, now=now, officers=officers)


def own(user: User, params: QueryDict | dict[str, str], *, label: str = "") -> Paged[ServiceRequest]:
    """An enterprise member's requests: open ones first by deadline, then the finished, latest first."""
    qs = in_queue_order(own_requests(user), clock.now()).select_related("employer", "officer")
    return paginate(params, qs, PER_PAGE, param="mine", anchor="#mine-h", label=label)


# --- key enterprises and officers --------------------------------------------------------------------------


def serving_users(path: str) -> list[tuple[int, str]]:
    """The active staff who may serve a place at ``path`` (``permissions.serving_grants``), by name,
    each with the roles they serve in: who may be an enterprise's officer or take over a request."""
    roles: dict[int, list[str]] = {}
    for user_id, role, _held_at in serving_grants(path):
        spec = ROLES[Role(role)]
        roles.setdefault(user_id, []).append(lang.pick(spec.zh, spec.en))
    users = accounts_models.User.objects.filter(pk__in=roles).order_by("username")
    return sorted(((u.pk, f"{u} · {'、'.join(sorted(set(roles[u.pk])))}") for u in users), key=lambda x: x[1])


def officer_for(path: str, pk: Any) -> Any:
    """The user ``pk`` if they may serve a place at ``path`` (None otherwise, or for an empty choice)."""
    user_id = as_id(pk)
    if user_id is None or user_id not in {u for u, _label in serving_users(path)}:
        return None
    return accounts_models.User.objects.filter(pk=user_id, is_active=True).first()


@dataclass
class Enterprises:
    page: Paged[Employer]
    text: str
    no_officer: bool
    candidates: list[Employer]
    add: str
    officers: dict[str, list[tuple[int, str]]]  # by employer path


def enterprises(user: User, params: QueryDict | dict[str, str], *, label: str = "") -> Enterprises:
    """The key enterprises ``user`` serves, by name, each with its officer and its open and overdue
    requests; filters ``q`` (name or credit code) and ``no_officer``; ``add`` looks up verified
    employers in scope that are not key enterprises yet."""
    if scope_q(user, SERVE, Employer) is None:
        raise PermissionDenied("no employers in scope")
    now = clock.now()
    scope = scoped(user, SERVE, Employer.objects.all())
    text = str(params.get("q", "") or "").strip()[:60]
    no_officer = params.get("no_officer") == "1"
    qs = scope.filter(key_enterprise=True)
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(credit_code__icontains=text.upper()))
    if no_officer:
        qs = qs.filter(officer__isnull=True)
    qs = (
        qs.select_related("officer", "street")
        .annotate(
            open_requests=Count("service_requests", filter=Q(service_requests__status__in=OPEN)),
            overdue_requests=Count(
                "service_requests", filter=Q(service_requests__status__in=OPEN, service_requests__due_at__lt=now)
            ),
        )
        .order_by("name", "pk")
    )
    page = paginate(params, qs, PER_PAGE, anchor="#key-h", label=label)
    add = str(params.get("add", "") or "").strip()[:60]
    candidates: list[Employer] = []
    if add:
        candidates = list(
            scope.filter(key_enterprise=False, status=Employer.Status.VERIFIED)
            .filter(Q(name__icontains=add) | Q(credit_code__icontains=add.upper()))
            .select_related("street")
            .order_by("name", "pk")[:ADD_SHOWN]
        )
    paths = {e.path for e in page} | {e.path for e in candidates}
    return Enterprises(
        page=page,
        text=text,
        no_officer=no_officer,
        candidates=candidates,
        add=add,
        officers={p: serving_users(p) for p in sorted(paths)},
    )


def employer_for_staff(user: User, pk: int) -> Employer:
    """An employer the staff member serves (404 outside every scope, 403 where only seen)."""
    try:
        employer = Employer.objects.get(pk=pk)
    except Employer.DoesNotExist as exc:
        raise Http404("not found") from exc
    if can(user, SERVE, employer):
        return employer
    if can(user, SEE, employer):
        raise PermissionDenied("seen, not served")
    raise Http404("not in scope")
