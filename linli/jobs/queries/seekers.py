"""Jobs queries: seekers (issue 14 §1; docs/jobs.md "Seekers").

Who reads what: the seeker reads their own profile (``mine``); the employment service (``jobs`` at
the place the seeker registered with) reads the masked list and a seeker's page
(``scoped``/``get_or_404`` with ``SERVE``). Employers never list seekers here: they find the ones
who chose to be found through the talent search (``queries.matching.talent``). Nothing here
decrypts personal data; full values go through ``services.seekers.reveal``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import QueryDict

from linli.accounts.permissions import can, get_or_404, grants_of, scoped
from linli.accounts.roles import allows
from linli.core import clock, crypto, lang
from linli.core.ids import as_id
from linli.core.masking import is_valid_id_number, normalise_id_number
from linli.core.types import User
from linli.jobs.models import Application, Employer, JobCategory, Seeker, ServiceRequest, Skill
from linli.jobs.permissions import SERVE
from linli.jobs.queries.postings import live
from linli.places.models import Community, District, Person, Street


def by_id_number(text: str) -> Seeker | None:
    """The seeker registered with this ID number (by its keyed hash), or None (also for a number
    that is not a valid ID number). For the kiosk's sign-in and the desk's "already registered?"."""
    number = normalise_id_number(str(text or ""))
    if not is_valid_id_number(number):
        return None
    return Seeker.objects.filter(id_number_hash=crypto.lookup_hash(number)).select_related("street").first()


def mine(user: User) -> Seeker | None:
    """The signed-in person's own seeker profile, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Seeker.objects.filter(user_id=user.pk or 0).select_related("street", "street__district").first()


def serves(user: User) -> bool:
    """The account works for the employment service somewhere (``jobs`` in one of its grants)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return any(allows(g.role, SERVE, g.place_kind) for g in grants_of(user))


def seeker_or_404(user: User, pk: int) -> Seeker:
    """A seeker's page for the employment service: 404 outside its places, 403 inside without
    ``jobs`` (e.g. the seeker themselves, whose own page is ``jobs:seeker_me``)."""
    qs = Seeker.objects.select_related("street", "street__district", "person", "user")
    return get_or_404(user, SERVE, qs, pk=pk)


def skills_of(seeker: Seeker) -> list[Skill]:
    return list(seeker.skills.select_related("category").order_by("category__order", "code"))


def community_of(seeker: Seeker) -> Community | None:
    """The community the seeker registered with (their path), if finer than the street."""
    if seeker.path == seeker.street.path:
        return None
    return Community.objects.filter(path=seeker.path).first()


# --- the vocabulary as pickers ----------------------------------------------------------------------


@dataclass
class Group:
    category: JobCategory
    skills: list[Skill]


def skill_groups() -> list[Group]:
    """The active skills by active category, in the categories' order (the skills picker)."""
    groups: OrderedDict[int, Group] = OrderedDict()
    for skill in (
        Skill.objects.filter(active=True, category__active=True)
        .select_related("category")
        .order_by("category__order", "category__code", "code")
    ):
        groups.setdefault(skill.category_id, Group(skill.category, [])).skills.append(skill)
    return list(groups.values())


def categories() -> list[JobCategory]:
    return list(JobCategory.objects.filter(active=True).order_by("order", "code"))


def streets() -> list[Street]:
    """Every street (a person registers with the street they live in)."""
    return list(Street.objects.select_related("district").order_by("path"))


def communities(street_ids: list[int] | None = None) -> list[Community]:
    qs = Community.objects.select_related("street").order_by("path")
    if street_ids is not None:
        qs = qs.filter(street_id__in=street_ids)
    return list(qs)


def street_centre(street: Street) -> tuple[float, float] | None:
    """Where a street's map opens: its own point, else the mean of its communities', else the
    district's; None when nothing has a position."""
    if street.lat is not None and street.lon is not None:
        return street.lat, street.lon
    points = [
        (float(la), float(lo))
        for la, lo in Community.objects.filter(street=street).values_list("lat", "lon")
        if la is not None and lo is not None
    ]
    if points:
        return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)
    district: District = street.district
    if district.lat is not None and district.lon is not None:
        return district.lat, district.lon
    return None


def street_centres() -> dict[int, tuple[float, float]]:
    out = {}
    for street in streets():
        centre = street_centre(street)
        if centre is not None:
            out[street.pk] = centre
    return out


def person_for_desk(user: User, pk: Any) -> Person | None:
    """A resident of the place tree the employment service may register at the desk (in its places)."""
    person_id = as_id(pk)
    if person_id is None:
        return None
    person = Person.objects.filter(pk=person_id, kind=Person.Kind.PERSON).first()
    return person if person is not None and can(user, SERVE, person) else None


def streets_served(user: User) -> list[Street]:
    """The streets where the account may register seekers at the desk."""
    return list(scoped(user, SERVE, Street.objects.select_related("district")).order_by("path"))


# --- the staff list ----------------------------------------------------------------------------------


@dataclass
class Filters:
    skill: str = ""
    category: str = ""
    status: str = ""
    community: int | None = None
    unemployed: bool = False
    hard: bool = False
    findable: bool = False
    q: str = ""

    @classmethod
    def read(cls, params: QueryDict | dict[str, str]) -> Filters:
        status = str(params.get("status", "") or "")
        return cls(
            skill=str(params.get("skill", "") or "").strip()[:20],
            category=str(params.get("category", "") or "").strip()[:20],
            status=status if status in Seeker.Status.values else "",
            community=as_id(params.get("community", "")),
            unemployed=params.get("unemployed") in {"1", "on"},
            hard=params.get("hard") in {"1", "on"},
            findable=params.get("findable") in {"1", "on"},
            q=" ".join(str(params.get("q", "") or "").split())[:40],
        )

    @property
    def any(self) -> bool:
        return bool(
            self.skill
            or self.category
            or self.status
            or self.community
            or self.unemployed
            or self.hard
            or self.findable
            or self.q
        )


def in_scope(user: User) -> QuerySet[Seeker]:
    """Every seeker the employment service of the account's places sees."""
    return scoped(user, SERVE, Seeker.objects.all())


def listed(user: User, f: Filters) -> QuerySet[Seeker]:
    qs = in_scope(user)
    if f.skill:
        qs = qs.filter(skills__code=f.skill)
    if f.category:
        qs = qs.filter(skills__category__code=f.category)
    if f.skill or f.category:
        qs = qs.distinct()
    if f.status:
        qs = qs.filter(status=f.status)
    if f.community:
        community = Community.objects.filter(pk=f.community).first()
        qs = qs.filter(path__startswith=community.path) if community is not None else qs.none()
    if f.unemployed:
        qs = qs.filter(registered_unemployed=True)
    if f.hard:
        qs = qs.filter(hard_to_employ=True)
    if f.findable:
        qs = qs.filter(discoverable=True)
    if f.q:
        qs = qs.filter(name__contains=f.q)
    return qs.select_related("street").order_by("-created_at", "-id")


@dataclass
class Counts:
    total: int
    seeking: int
    employed: int
    paused: int
    unemployed: int
    hard: int
    findable: int


def counts(qs: QuerySet[Seeker]) -> Counts:
    row = qs.order_by().aggregate(
        total=Count("pk", distinct=True),
        seeking=Count("pk", filter=Q(status=Seeker.Status.SEEKING), distinct=True),
        employed=Count("pk", filter=Q(status=Seeker.Status.EMPLOYED), distinct=True),
        paused=Count("pk", filter=Q(status=Seeker.Status.PAUSED), distinct=True),
        unemployed=Count("pk", filter=Q(registered_unemployed=True), distinct=True),
        hard=Count("pk", filter=Q(hard_to_employ=True), distinct=True),
        findable=Count("pk", filter=Q(discoverable=True), distinct=True),
    )
    return Counts(**{k: int(v or 0) for k, v in row.items()})


def rows(seekers: list[Seeker]) -> list[dict[str, Any]]:
    """The page's rows: masked phone and ID, skill names, community name (one query each)."""
    ids = [s.pk for s in seekers]
    names: dict[int, list[str]] = {}
    for sid, zh, en in Skill.objects.filter(seekers__in=ids).values_list("seekers", "name", "name_en").order_by("code"):
        names.setdefault(sid, []).append(lang.pick(zh, en))
    paths = {s.path for s in seekers}
    community_names = {c.path: c.name for c in Community.objects.filter(path__in=paths)}
    return [
        {
            "seeker": s,
            "skills": names.get(s.pk, []),
            "community": community_names.get(s.path, ""),
        }
        for s in seekers
    ]


def applications_of(user: User, seeker: Seeker) -> list[Application]:
    """The seeker's applications the account may see, newest first."""
    qs = Application.objects.filter(seeker=seeker).select_related("posting", "posting__employer")
    return list(scoped(user, "view", qs).order_by("-updated_at", "-id")[:50])


# --- the app's home (jobs:home): what each side of the app has waiting --------------------------------


@dataclass
class EmployerCard:
    employer: Employer
    live_postings: int
    open_requests: int


def employer_cards(user: User) -> list[EmployerCard]:
    """The employers the account acts for, with their live postings and open service requests."""
    if not getattr(user, "is_authenticated", False):
        return []
    employers = list(Employer.objects.filter(members__user_id=user.pk or 0).distinct().order_by("name"))
    ids = [e.pk for e in employers]
    live_counts = dict(
        live()
        .filter(employer_id__in=ids)
        .values_list("employer_id")
        .annotate(n=Count("pk"))
        .values_list("employer_id", "n")
    )
    open_statuses = [ServiceRequest.Status.FILED, ServiceRequest.Status.ACCEPTED, ServiceRequest.Status.WORKING]
    request_counts = dict(
        ServiceRequest.objects.filter(employer_id__in=ids, status__in=open_statuses)
        .values_list("employer_id")
        .annotate(n=Count("pk"))
        .values_list("employer_id", "n")
    )
    return [EmployerCard(e, live_counts.get(e.pk, 0), request_counts.get(e.pk, 0)) for e in employers]


@dataclass
class StaffFigures:
    pending_employers: int
    seekers: int
    seeking: int
    open_requests: int
    overdue_requests: int


def staff_figures(user: User) -> StaffFigures:
    """What waits for the employment service in the account's places."""
    open_statuses = [ServiceRequest.Status.FILED, ServiceRequest.Status.ACCEPTED, ServiceRequest.Status.WORKING]
    requests = scoped(user, SERVE, ServiceRequest.objects.filter(status__in=open_statuses))
    seekers = in_scope(user)
    return StaffFigures(
        pending_employers=scoped(user, SERVE, Employer.objects.filter(status=Employer.Status.PENDING)).count(),
        seekers=seekers.count(),
        seeking=seekers.filter(status=Seeker.Status.SEEKING).count(),
        open_requests=requests.count(),
        overdue_requests=requests.filter(due_at__lt=clock.now()).count(),
    )


def my_application_counts(seeker: Seeker) -> dict[str, int]:
    """The seeker's own applications by status."""
    return dict(
        Application.objects.filter(seeker=seeker)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
