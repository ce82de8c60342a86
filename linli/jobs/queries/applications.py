"""Reads of applications (issue 14 §4): one application for its page, a seeker's own applications,
a posting's applicants (ranked: where they are in the process, then how well they match), counts by
status, the history of steps.

Scoped once: an application by ``get_or_404(user, VIEW, …)`` (its two sides through
``Scope.owner``, the employment service of the posting's place by its grants); a posting's applicants
for its employer's members (``HIRE``) and, read-only, the employment service there (``jobs``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.http import Http404, QueryDict

from linli.accounts.permissions import can, get_or_404, scoped
from linli.core import geo, lang
from linli.core.paging import Paged, page_at, paginate
from linli.core.types import User
from linli.jobs import matching, permissions
from linli.jobs.models import Application, ApplicationStep, Posting, Seeker
from linli.jobs.queries import postings as jobs_postings

Status = Application.Status

PER_PAGE = 20
#: The order of a posting's applicants: who needs the employer's attention first.
STATUS_ORDER = [Status.INTERVIEW, Status.APPLIED, Status.INVITED, Status.HIRED, Status.DECLINED, Status.WITHDRAWN]
#: The order of a seeker's own applications: invitations waiting for an answer first.
MINE_ORDER = [Status.INVITED, Status.INTERVIEW, Status.APPLIED, Status.HIRED, Status.DECLINED, Status.WITHDRAWN]
#: Still in progress (not hired, declined or withdrawn).
OPEN = frozenset({Status.INVITED, Status.APPLIED, Status.INTERVIEW})


def is_live(posting: Posting) -> bool:
    """The posting takes applications now (``queries.postings.live``: open, its employer verified,
    not past its closing day), read from the database."""
    return jobs_postings.live().filter(pk=posting.pk).exists()


def posting_to_apply(user: User, pk: int) -> Posting:
    """A posting the user may apply for or look at: a live one (every signed-in user), or one the
    user sees anyway (its employer, the employment service) or has an application for. 404 otherwise:
    a draft or closed posting is not revealed."""
    posting = Posting.objects.select_related("employer").filter(pk=pk).first()
    if posting is None:
        raise Http404("no such posting")
    if is_live(posting) or can(user, permissions.SEE, posting):
        return posting
    seeker = seeker_of(user)
    if seeker is not None and Application.objects.filter(posting=posting, seeker=seeker).exists():
        return posting
    raise Http404("not live")


def application(user: User, pk: int) -> Application:
    """One application the user may see: its seeker, its employer's members, the employment service
    of the posting's place (``jobs``). 404 outside every scope; 403 for someone who sees the place but
    is neither side nor the employment service (department staff looking at the street)."""
    qs = Application.objects.select_related("posting", "posting__employer", "seeker")
    app = get_or_404(user, permissions.SEE, qs, pk=pk)
    if permissions.side_of(user, app) is None:
        raise PermissionDenied("neither side of the application nor the employment service")
    return app


def seeker_of(user: User) -> Seeker | None:
    """The signed-in account's own seeker profile, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Seeker.objects.filter(user_id=user.pk or 0).first()


def history(app: Application) -> list[ApplicationStep]:
    return list(ApplicationStep.objects.filter(application=app).select_related("actor"))


def counts(queryset: QuerySet[Application]) -> dict[str, int]:
    """Applications by status (every status present, 0 when none) plus ``"total"``."""
    got = Counter(dict(queryset.order_by().values_list("status").annotate(n=Count("id"))))
    out = {s.value: int(got.get(s.value, 0)) for s in Status}
    out["total"] = sum(out.values())
    return out


def _status_rank(order: list[Status]) -> Case:
    return Case(
        *(When(status=s.value, then=Value(i)) for i, s in enumerate(order)),
        default=Value(len(order)),
        output_field=IntegerField(),
    )


@dataclass
class Mine:
    """A seeker's applications: ``seeker`` (None: no profile yet), one page, counts by status."""

    seeker: Seeker | None
    page: Paged[Application] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    status: str = ""


def mine(user: User, params: QueryDict, *, label: str = "") -> Mine:
    """The signed-in seeker's own applications, invitations first, newest first within each status,
    optionally only those of ``params["status"]``."""
    seeker = seeker_of(user)
    if seeker is None:
        return Mine(None)
    qs = Application.objects.filter(seeker=seeker)
    status = params.get("status", "")
    status = status if status in Status.values else ""
    shown = qs.filter(status=status) if status else qs
    shown = (
        shown.select_related("posting", "posting__employer")
        .annotate(rank=_status_rank(MINE_ORDER))
        .order_by("rank", "-updated_at", "-id")
    )
    return Mine(seeker, paginate(params, shown, PER_PAGE, label=label), counts(qs), status)


def of_seeker(user: User, seeker: Seeker) -> QuerySet[Application]:
    """A seeker's applications the employment service sees (for the seeker's page at the service
    desk): those to postings of its places."""
    qs = Application.objects.filter(seeker=seeker).select_related("posting", "posting__employer")
    return scoped(user, permissions.SERVE, qs).order_by("-updated_at", "-id")


# --- a posting's applicants ----------------------------------------------------------------------


@dataclass
class Applicant:
    """One row of a posting's applicants: the application, its match with the posting (score and
    distance from the seeker's home; score 0 = no longer a match by the rules), its CV's skill names."""

    app: Application
    score: float
    distance_m: float
    skills: list[str]

    @property
    def km(self) -> float:
        return self.distance_m / 1000


@dataclass
class Applicants:
    posting: Posting
    page: Paged[Applicant]
    counts: dict[str, int]
    status: str
    acts: bool  # the viewer is the employer's member (takes steps), not staff looking


def _item(obj: Any, skills: set[str]) -> dict[str, Any]:
    return {
        "id": obj.pk,
        "lat": obj.lat,
        "lon": obj.lon,
        "skills": skills,
        "wage_min": obj.wage_min,
        "wage_max": obj.wage_max,
        "hours": obj.hours,
    }


def may_see_applicants(user: User, posting: Posting) -> bool:
    return permissions.may_hire_for(user, posting) or can(user, permissions.SERVE, posting)


def posting_for_applicants(user: User, pk: int) -> Posting:
    """The posting whose applicants the user may see: its employer's members, or the employment
    service of its place (read-only). 404 outside every scope, 403 when seen but not allowed."""
    posting = get_or_404(user, permissions.SEE, Posting.objects.select_related("employer"), pk=pk)
    if not may_see_applicants(user, posting):
        raise PermissionDenied("not the employer's member nor the employment service here")
    return posting


def applicants(user: User, posting: Posting, params: QueryDict, *, label: str = "") -> Applicants:
    """The applicants of ``posting``: those who need the employer's attention first (interview,
    applied, invited, then hired, declined, withdrawn), within each status best match first (the
    score of ``matching.score`` between the seeker's profile now and the posting), then oldest first.
    Cheap: one query for the ranking's numbers of every application (a posting has hundreds at most),
    one for their seekers' skills, then one page of rows."""
    everything = Application.objects.filter(posting=posting)
    status = params.get("status", "")
    status = status if status in Status.values else ""
    shown = everything.filter(status=status) if status else everything
    rows = list(
        shown.values_list(
            "id",
            "status",
            "created_at",
            "seeker_id",
            "seeker__lat",
            "seeker__lon",
            "seeker__wage_min",
            "seeker__wage_max",
            "seeker__hours",
        )
    )
    seeker_ids = {r[3] for r in rows}
    skills_of: dict[int, set[str]] = {sid: set() for sid in seeker_ids}
    for sid, code in Seeker.skills.through.objects.filter(seeker_id__in=seeker_ids).values_list(
        "seeker_id", "skill__code"
    ):
        skills_of[sid].add(code)
    item = _item(posting, set(posting.skills.values_list("code", flat=True)))
    rank = {s.value: i for i, s in enumerate(STATUS_ORDER)}
    ranked: list[tuple[int, float, Any, int, float]] = []
    for pk, st, created, sid, lat, lon, wmin, wmax, hours in rows:
        d = geo.metres(lat, lon, posting.lat, posting.lon)
        s = {"id": sid, "lat": lat, "lon": lon, "skills": skills_of[sid], "wage_min": wmin, "wage_max": wmax}
        s["hours"] = hours
        score = matching.score(s, item, d)
        ranked.append((rank.get(st, len(rank)), -score, created, pk, d))
    ranked.sort()
    page = page_at(params, len(ranked), PER_PAGE, label=label)
    chosen = ranked[page.start : page.stop]
    by_id = {
        a.pk: a for a in Application.objects.filter(pk__in=[r[3] for r in chosen]).select_related("seeker", "posting")
    }
    out = []
    for _rank, neg, _created, pk, d in chosen:
        app = by_id[pk]
        names = [lang_name(s) for s in (app.cv or {}).get("skills", [])]
        out.append(Applicant(app, -neg, d, names))
    return Applicants(
        posting,
        replace(page, rows=out),
        counts(everything),
        status,
        acts=permissions.may_hire_for(user, posting),
    )


def lang_name(skill: dict[str, Any]) -> str:
    """A CV skill's name in the page's language."""
    return lang.pick(str(skill.get("name", "")), str(skill.get("name_en", "") or skill.get("name", "")))
