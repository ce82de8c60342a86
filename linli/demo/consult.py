"""The consent story of the demo district (issue 3): seed 000's 邢家桥 told on 劳动三村.

    "Residents first opposed (要拆迁不要改造!); the community's workers went door to door, some
    households over a hundred times; a sample flat gave them hope; support rose from 23 % to 100 %."

``build(seed)`` writes it onto the demo district loaded by ``manage.py load_demo``, through the
product's own services (``linli.renewal.services``, ``linli.consult.services.*``), acting as the
demo users who would do each step in real life: 社区工作者 ``demo-community`` runs the project,
the survey, the ballots and the notices; the grid workers of each building's grid (roster members
of ``GridMember``, given users ``story-gw-<grid>-<n>`` and their grid role) visit the households;
a few owners vote online and report during works. So the demo holds what the product produces.

The services stamp "now" (a phase change, a vote, a notice that may not start in the past …),
while the story spans about two years. Each step is therefore done now and moved back to its day
in the story afterwards with one ``UPDATE`` (``_backdate``); that is the only write outside the
services. The project's ``created_at`` goes back first, because ``log_visit`` accepts a visit in
the past only after the project began (``visits.project_start``).

The plan of the story building's visits (``story_plan``) is pure and deterministic: one
``random.Random(seed)``; dates are offsets in days from the project's start (``START_DAYS_AGO``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db.models import Count, F
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.demo import places as demo_places
from linli.places import models as m

# --- the timeline (days after the project's start; the project began START_DAYS_AGO days ago) -----

START_DAYS_AGO = 730
SURVEY_DAY = 7  # needs survey opens; 30 days
PLAN_DAY = 45
FIRST_ROUND_DAY = 5  # every household of the story building visited once: 23 % support
SAMPLE_FLAT_DAY = 290  # the sample flat is ready; open days on 295 and 330
LAST_HOLDOUT_DAY = 540  # the last household says yes: 100 %
BALLOT_PHASE_DAY = 548
BALLOT_OPENS_DAY, BALLOT_CLOSES_DAY = 552, 572
NOTICE_DAY = 575
WORKS_DAY = 595
LIFT_PROJECT_DAY = 640  # the lift project of a 7-storey walk-up: ballot open now

START_SUPPORT = Decimal("0.23")
# Share of the story building supporting by day (piecewise linear): slow at first, faster once the
# sample flat is open, the last few households in the final months.
SUPPORT_CURVE: tuple[tuple[int, float], ...] = (
    (FIRST_ROUND_DAY, 0.23),
    (150, 0.38),
    (SAMPLE_FLAT_DAY, 0.52),
    (400, 0.86),
    (480, 0.97),
    (LAST_HOLDOUT_DAY, 1.0),
)
HOLDOUT_VISITS = 108  # "有的家庭走访了上百次"

EARLY_CONCERNS = ("wants_demolition", "cost", "distrust")
LATE_CONCERNS = ("cost", "noise", "parking", "light_privacy", "distrust")

PROXY_REASONS = (
    "业主年迈行动不便,委托社区代录",
    "业主在外地务工,电话委托社区代录",
    "业主住院,由子女持委托书请社区代录",
)

ITEMS: tuple[tuple[str, str, Callable[[int, int], Decimal], int], ...] = (
    # (catalogue code, name override or "", quantity from (buildings, dwellings), final progress)
    ("basic.roof", "", lambda b, d: Decimal(b * 420), 100),
    ("basic.drainage", "雨污分流及排水管网改造", lambda b, d: Decimal(b * 85), 100),
    ("basic.cables", "架空线缆入地(强弱电入管)", lambda b, d: Decimal(b * 120), 100),
    ("basic.external_walls", "", lambda b, d: Decimal(b * 900), 70),
    ("basic.fire_safety", "", lambda b, d: Decimal(b), 100),
    ("basic.stairs", "", lambda b, d: Decimal(b), 60),
    ("basic.awnings", "", lambda b, d: Decimal(max(1, d // 3)), 100),
    ("improve.walkways", "", lambda b, d: Decimal(b * 40), 45),
    ("improve.parking", "", lambda b, d: Decimal(max(6, d // 12)), 30),
    ("enhance.meal_assistance", "社区老年食堂", lambda b, d: Decimal(1), 0),
)


# --- the pure plan of the story building ---------------------------------------------------------


@dataclass(frozen=True)
class PlannedVisit:
    dwelling: int  # index into the building's dwellings
    day: int  # days after the project's start
    minute: int  # minutes after 09:00
    attitude: str  # support | undecided | oppose
    reasons: tuple[str, ...]
    note: str = ""
    next_in: int | None = None  # days to the next planned visit


def _curve_day(share: float) -> int:
    """The day by which ``share`` of the story building supports (inverse of SUPPORT_CURVE)."""
    for (d0, s0), (d1, s1) in itertools.pairwise(SUPPORT_CURVE):
        if share <= s1:
            return round(d0 + (d1 - d0) * (share - s0) / (s1 - s0)) if s1 > s0 else d1
    return LAST_HOLDOUT_DAY


def story_plan(n: int, rng: random.Random) -> list[PlannedVisit]:
    """Every visit of the story building's ``n`` dwellings, in time order.

    Day FIRST_ROUND_DAY: everyone visited, 23 % support, the rest oppose (wanting demolition
    money, cost, distrust) or wait and see. Each other household says yes on its day of the
    support curve, after visits spaced ~2–3 weeks (the last holdout: HOLDOUT_VISITS visits), and
    gives the sample flat or safety as its reason once the flat is open."""
    if n <= 0:
        return []
    order = list(range(n))
    rng.shuffle(order)
    early = max(1, round(n * float(START_SUPPORT))) if n > 1 else 0
    yes_day: dict[int, int] = {d: FIRST_ROUND_DAY for d in order[:early]}
    rest = order[early:]
    for k, d in enumerate(rest):
        share = (early + k + 1) / n
        yes_day[d] = LAST_HOLDOUT_DAY if k == len(rest) - 1 else min(LAST_HOLDOUT_DAY - 3, _curve_day(share))
    holdout = rest[-1] if rest else None
    plan: list[PlannedVisit] = []
    for d in range(n):
        day_yes = yes_day[d]
        first_att = "support" if day_yes == FIRST_ROUND_DAY else ("oppose" if rng.random() < 0.7 else "undecided")
        if first_att == "support":
            plan.append(PlannedVisit(d, FIRST_ROUND_DAY, rng.randrange(0, 540), "support", ("safety",)))
            if rng.random() < 0.4:  # a follow-up after the sample flat opens
                plan.append(
                    PlannedVisit(
                        d,
                        SAMPLE_FLAT_DAY + rng.randrange(5, 60),
                        rng.randrange(0, 540),
                        "support",
                        ("saw_sample_flat",),
                    )
                )
            continue
        reasons = tuple(sorted(rng.sample(EARLY_CONCERNS, rng.randint(1, 2))))
        if d == holdout:
            days = [
                FIRST_ROUND_DAY + round(i * (day_yes - FIRST_ROUND_DAY) / (HOLDOUT_VISITS - 1))
                for i in range(HOLDOUT_VISITS)
            ]
        else:
            step = rng.randint(18, 30)
            days = [*range(FIRST_ROUND_DAY, day_yes, step), day_yes]
        att = first_att
        for i, day in enumerate(days):
            last = i == len(days) - 1
            note = ""
            if last:
                att = "support"
                why: tuple[str, ...] = ("saw_sample_flat", "safety") if day >= SAMPLE_FLAT_DAY else ("safety",)
                if d == holdout:
                    note = f"第{len(days)}次上门:老人终于点头同意改造,说“你们来了一百多趟,我信了”。"
            else:
                progress = (day - FIRST_ROUND_DAY) / max(1, day_yes - FIRST_ROUND_DAY)
                if att == "oppose" and progress > 0.45 and rng.random() < 0.5:
                    att = "undecided"
                why = tuple(sorted(rng.sample(LATE_CONCERNS, rng.randint(1, 2)))) if att == "undecided" else reasons
                if i == 0 and att == "oppose" and "wants_demolition" in why:
                    note = "要拆迁不要改造!担心改造治标不治本。"
                elif d == holdout and i in (30, 60, 90):
                    note = (
                        f"第{i + 1}次上门,仍不同意;带去样板间照片,约下次再谈。"
                        if day >= SAMPLE_FLAT_DAY
                        else (f"第{i + 1}次上门,仍不同意,怀疑有人借改造发财。")
                    )
            next_in = None if last else days[i + 1] - day
            plan.append(PlannedVisit(d, day, rng.randrange(0, 540), att, why, note, next_in))
    plan.sort(key=lambda v: (v.day, v.minute, v.dwelling))
    return plan


def support_by_day(plan: Sequence[PlannedVisit], n: int) -> list[tuple[int, float]]:
    """(day, share supporting of all ``n`` dwellings) at the end of each day with a visit."""
    latest: dict[int, str] = {}
    out: list[tuple[int, float]] = []
    for v in plan:
        latest[v.dwelling] = v.attitude
        share = sum(1 for a in latest.values() if a == "support") / n
        if out and out[-1][0] == v.day:
            out[-1] = (v.day, share)
        else:
            out.append((v.day, share))
    return out


# --- sites: which places the story uses (read from the loaded district) --------------------------


def community() -> m.Community | None:
    return (
        m.Community.objects.filter(name=demo_places.LAODONG).order_by("path").first()
        or m.Community.objects.order_by("path").first()
    )


def story_compound(comm: m.Community) -> m.Compound | None:
    return m.Compound.objects.filter(community=comm).order_by("path").first()


def story_building(compound: m.Compound) -> m.Building | None:
    """The pilot building (试点楼栋) of the story: the compound's largest, first by code."""
    return m.Building.objects.filter(compound=compound).annotate(n=Count("dwellings")).order_by("-n", "path").first()


def _first_owner_is_person(dwelling_id: int) -> bool:
    first = m.Ownership.objects.filter(dwelling_id=dwelling_id).order_by("-share", "person_id").first()
    return first is not None and first.person.kind == m.Person.Kind.PERSON


def lift_site(comm: m.Community) -> tuple[m.Building, m.Unit, m.Dwelling] | None:
    """Where the lift project is: a unit of a walk-up without a lift (a 7-storey one if the
    community has one, else the tallest), not the story building; and the dwelling demo-resident
    owns there: the highest owner-occupied dwelling whose first owner is a person."""
    compound = story_compound(comm)
    pilot = story_building(compound) if compound else None
    candidates = m.Building.objects.filter(community=comm, has_lift=False).exclude(building_kind=m.Building.Kind.TOWER)
    if pilot is not None:
        candidates = candidates.exclude(pk=pilot.pk)
    buildings = list(candidates.select_related("compound").order_by("path"))
    if not buildings and pilot is not None:
        buildings = [pilot]
    buildings.sort(key=lambda b: (b.storeys != 7, -(b.storeys or 0), (b.compound.build_year or 9999) > 2000, b.path))
    for b in buildings[:20]:
        for unit in b.units.order_by("number"):
            dwellings = list(
                m.Dwelling.objects.filter(unit=unit, use=m.Dwelling.Use.RESIDENTIAL, households__owner_occupied=True)
                .order_by("-floor", "number")
                .distinct()
            )
            for d in dwellings:
                if d.floor > 1 and _first_owner_is_person(d.pk):
                    return b, unit, d
    return None


def resident_dwelling(comm: m.Community) -> m.Dwelling | None:
    """demo-resident's dwelling: the owner's home in the lift unit (see ``lift_site``)."""
    site = lift_site(comm)
    return site[2] if site else None


# --- users -----------------------------------------------------------------------------------------


def _user(username: str, display_name: str, *, superuser: bool = False) -> User:
    """A user, created without a usable password if missing (``demo_logins`` sets the demo logins'
    passwords; the story's extra users — grid workers, owners — only sign records)."""
    user, _created = User.objects.get_or_create(
        username=username,
        defaults={
            "display_name": display_name,
            "is_superuser": superuser,
            "is_staff": superuser,
            "password": make_password(None),
        },
    )
    return user


def _granted(root: User, user: User, role: Role, place: Any) -> User:
    grant_role(root, user, role.value, place)
    return user


def verify_owner_in_person(staff: User, user: User, dwelling: m.Dwelling) -> User:
    """The owner of ``dwelling`` (its first owner, who votes for it) brings their ID card to the
    community office; ``staff`` sees it and verifies ``user`` as the owner's voting account, through
    the product's own service (issue 8: a resident grant alone gives no vote). Idempotent."""
    from linli.accounts import verification
    from linli.core.errors import LinliError

    first = (
        m.Ownership.objects.filter(dwelling=dwelling).select_related("person").order_by("-share", "person_id").first()
    )
    if first is None:
        return user
    person = first.person
    try:
        verification.verify_in_person(
            staff,
            user,
            person,
            dwelling,
            # the demo plays the owner holding their own card: the number is read from the record
            document_kind="id_card" if person.id_number_hash else "household",
            document_number=person._id_number() or "demo",
            seen=True,
            note="演示:业主持身份证到社区当面核验 / demo: verified in person at the community office",
        )
    except LinliError as exc:
        if exc.problems[0].code != "already_verified":
            raise
    return user


# --- the writer ------------------------------------------------------------------------------------

Bar = Callable[[Sequence[Any], str], Iterable[Any]]


def _no_bar(items: Sequence[Any], desc: str) -> Iterable[Any]:
    return items


@dataclass
class Built:
    counts: dict[str, int] = field(default_factory=dict)
    project_id: int = 0
    lift_project_id: int = 0
    story_building_id: int = 0
    story_building: str = ""
    blocked_building: str = ""
    ballot_id: int = 0
    lift_ballot_id: int = 0
    start_support: float = 0.0
    end_support: float = 0.0


class NoDistrict(Exception):
    """The demo district is not loaded (run ``manage.py load_demo`` first)."""


GRID_ROLES = {
    m.GridMember.Role.LEADER: Role.GRID_LEADER,
    m.GridMember.Role.FULLTIME: Role.GRID_FULLTIME,
    m.GridMember.Role.PARTTIME: Role.GRID_PARTTIME,
}


class Writer:
    """Writes the story through the services; see the module's docstring."""

    def __init__(self, comm: m.Community, rng: random.Random, bar: Bar) -> None:
        self.comm, self.rng, self.bar = comm, rng, bar
        self.today = clock.today()
        self.day0 = self.today - dt.timedelta(days=START_DAYS_AGO)
        self.built = Built()
        self.workers: dict[int | None, list[User]] = {}

    # time ------------------------------------------------------------------------------------------

    def date(self, day: int) -> dt.date:
        return self.day0 + dt.timedelta(days=day)

    def at(self, day: int, minute: int = 0) -> dt.datetime:
        """09:00 local + ``minute`` on story day ``day`` (never after now)."""
        naive = dt.datetime.combine(self.date(day), dt.time(9)) + dt.timedelta(minutes=minute)
        return min(timezone.make_aware(naive), clock.now() - dt.timedelta(minutes=10))

    @staticmethod
    def backdate(model: type[Any], pk: int, **fields: Any) -> None:
        """Move a record the services stamped "now" back to its day in the story."""
        model._default_manager.filter(pk=pk).update(**fields)

    def phase(self, project: Any, to: str, day: int, note: str = "") -> None:
        from linli.renewal import services as renewal_services
        from linli.renewal.models import PhaseChange

        change = renewal_services.change_phase(self.staff, project, to, note)
        self.backdate(PhaseChange, change.pk, at=self.at(day, 30))

    # people ----------------------------------------------------------------------------------------

    def users(self) -> None:
        self.root = _user("demo-root", "演示超级管理员", superuser=True)
        self.staff = _granted(self.root, _user("demo-community", "演示·社区工作者"), Role.COMMUNITY_WORKER, self.comm)

    def grid_workers(self, building: m.Building) -> list[User]:
        """The visitors of a building: its grid's leader and grid workers, as users holding their grid role."""
        if building.grid_id in self.workers:
            return self.workers[building.grid_id]
        out: list[User] = []
        if building.grid_id is not None:
            grid = m.Grid.objects.get(pk=building.grid_id)
            members = m.GridMember.objects.filter(grid=grid, role__in=list(GRID_ROLES)).order_by("role", "id")
            for k, member in enumerate(members, start=1):
                user = _granted(
                    self.root,
                    _user(f"story-gw-{grid.seq}-{k}", member.name),
                    GRID_ROLES[m.GridMember.Role(member.role)],
                    grid,
                )
                if member.user_id is None:
                    m.GridMember.objects.filter(pk=member.pk).update(user=user)
                out.append(user)
        self.workers[building.grid_id] = out or [self.staff]
        return self.workers[building.grid_id]

    # the renovation project ------------------------------------------------------------------------

    def project(self) -> Any:
        from linli.renewal import services as renewal_services
        from linli.renewal.models import PhaseChange, Project

        compound = self.compound
        eligible = compound.renovation_eligible_by_age() is True
        keep = "保留历史风貌,只改不拆;" if compound.is_historic else ""
        project = renewal_services.create_project(
            self.staff,
            compound,
            f"{compound.name}老旧小区综合改造",
            summary=(
                f"{compound.name}建于{compound.build_year or '上世纪'}年,房屋漏水、管网老化、线缆凌乱。{keep}"
                "改什么、怎么改,由居民说了算:先需求调查,再入户走访、样板间开放,业主表决通过后公示、施工。"
            ),
            eligibility_override=not eligible,
            eligibility_reason="" if eligible else "演示:试点小区,经街道同意例外纳入",
        )
        # The story began START_DAYS_AGO days ago: visits may only be logged after this (project_start).
        self.backdate(Project, project.pk, created_at=self.at(0))
        for change in PhaseChange.objects.filter(project=project):
            self.backdate(PhaseChange, change.pk, at=self.at(0))
        project.refresh_from_db()
        self.built.project_id = project.pk
        return project

    def items(self, project: Any) -> list[Any]:
        from linli.renewal import services as renewal_services

        n_b, n_d = len(self.buildings), sum(self.n_dwellings.values())
        out = []
        for code, name, qty, final in self.bar(ITEMS, "改造项 items"):
            item = renewal_services.add_item(self.staff, project, code=code, name=name, quantity=qty(n_b, n_d))
            item._final = final  # type: ignore[attr-defined]
            out.append(item)
        return out

    def survey(self, project: Any, items: list[Any]) -> int:
        from linli.consult.models import Survey, SurveyAnswer
        from linli.consult.services import surveys

        # The service answers only while a survey is open: run it now, then move it to its month.
        survey = surveys.create_survey(
            self.staff, project, f"{project.compound.name}改造需求调查", self.today, self.today + dt.timedelta(days=30)
        )
        popular = [i.pk for i in items[:3]]
        dwellings = [
            d
            for b in self.buildings
            for d in self.dwellings_of[b.pk]
            if d.use == m.Dwelling.Use.RESIDENTIAL and self.rng.random() < 0.70
        ]
        comments = ("屋顶漏水最要紧", "希望增加停车位", "楼下线缆太乱,担心起火", "老人多,想要老年食堂", "")
        n = 0
        for d in self.bar(dwellings, "需求调查 survey"):
            wanted = set(self.rng.sample(popular, self.rng.randint(1, 3)))
            wanted |= {i.pk for i in items[3:] if self.rng.random() < 0.3}
            who = self.rng.choice(self.grid_workers(self.building_by_id[d.building_id]))
            answer = surveys.answer_survey(who, survey, d, sorted(wanted), self.rng.choice(comments))
            when = self.at(SURVEY_DAY + self.rng.randrange(0, 28), self.rng.randrange(0, 540))
            self.backdate(SurveyAnswer, answer.pk, updated_at=when)
            n += 1
        self.backdate(
            Survey,
            survey.pk,
            opens_on=self.date(SURVEY_DAY),
            closes_on=self.date(SURVEY_DAY + 30),
            created_at=self.at(SURVEY_DAY - 1),
        )
        return n

    def story_visits(self, project: Any) -> int:
        from linli.consult.services.visits import log_visit

        building = self.pilot
        dwellings = self.dwellings_of[building.pk]
        plan = story_plan(len(dwellings), self.rng)
        series = support_by_day(plan, len(dwellings))
        if series:
            self.built.start_support, self.built.end_support = series[0][1], series[-1][1]
        workers = self.grid_workers(building)
        holdout = plan[-1].dwelling if plan else -1
        for v in self.bar(plan, f"入户走访 {building.name}"):
            # The community's secretary goes to the hardest household herself, every other time.
            who = self.staff if v.dwelling == holdout and v.day % 2 else workers[v.dwelling % len(workers)]
            when = self.at(v.day, v.minute)
            nxt = self.date(v.day + v.next_in) if v.next_in else None
            step = ""
            if v.attitude != "support":
                step = "邀请参观样板间" if v.day >= SAMPLE_FLAT_DAY - 10 else "再次上门,讲清改造内容和费用"
            log_visit(
                who,
                project,
                dwellings[v.dwelling],
                attitude=v.attitude,
                reasons=list(v.reasons),
                note=v.note,
                next_step=step,
                next_visit_on=nxt,
                visited_at=when,
            )
        return len(plan)

    def other_visits(self, project: Any) -> int:
        from linli.consult.services.visits import log_visit

        others = [b for b in self.buildings if b.pk != self.pilot.pk]
        if not others:
            return 0
        blocked = max(others, key=lambda b: (len(self.dwellings_of[b.pk]), -b.pk))
        self.built.blocked_building = blocked.name
        planned: list[tuple[int, int, m.Dwelling, str, tuple[str, ...], str]] = []
        for b in others:
            ds = self.dwellings_of[b.pk]
            share = 1.0 if b.pk == blocked.pk else self.rng.choice((0.6, 0.7, 0.8, 0.9, 1.0))
            yes = set(self.rng.sample(range(len(ds)), math.ceil(len(ds) * share)))
            holdout = self.rng.randrange(len(ds)) if b.pk == blocked.pk else -1
            for i, d in enumerate(ds):
                k = 1 if self.rng.random() < 0.75 else 2
                days = sorted(self.rng.sample(range(30, 530), k))
                for j, day in enumerate(days):
                    last = j == k - 1
                    why: tuple[str, ...]
                    if i == holdout:
                        att, why, note = "oppose", ("wants_demolition", "distrust"), ""
                        if last:
                            day, note = 536, "唯一一户仍反对:要求拆迁补偿。书记约了下周再谈。"
                    elif last and i in yes:
                        att = "support"
                        why = ("saw_sample_flat",) if day >= SAMPLE_FLAT_DAY else ("safety",)
                        note = ""
                    else:
                        att = "undecided" if (last or self.rng.random() < 0.6) else "oppose"
                        why, note = tuple(sorted(self.rng.sample(EARLY_CONCERNS + LATE_CONCERNS[2:], 1))), ""
                        if att == "oppose" and b.pk != blocked.pk and last:
                            att = "undecided"
                    planned.append((day, self.rng.randrange(0, 540), d, att, why, note))
        planned.sort(key=lambda p: (p[0], p[1], p[2].pk))
        for day, minute, d, att, why, note in self.bar(planned, "入户走访 other buildings"):
            workers = self.grid_workers(self.building_by_id[d.building_id])
            log_visit(
                workers[d.pk % len(workers)],
                project,
                d,
                attitude=att,
                reasons=list(why),
                note=note,
                next_visit_on=self.date(day + 14) if att != "support" else None,
                visited_at=self.at(day, minute),
            )
        return len(planned)

    def sample_flat(self, project: Any) -> int:
        from linli.renewal import services as renewal_services

        ds = self.dwellings_of[self.pilot.pk]
        flat_dwelling = next((d for d in ds if d.floor == 1), ds[0])
        flat = renewal_services.add_sample_flat(
            self.staff,
            project,
            flat_dwelling,
            "屋面防水、雨污分流、强弱电入管、楼道粉刷、消防器材一次到位:让居民先看到改完的样子。",
            ready_on=self.date(SAMPLE_FLAT_DAY),
        )
        for day, visitors in ((SAMPLE_FLAT_DAY + 5, 86), (SAMPLE_FLAT_DAY + 40, 143)):
            renewal_services.add_open_day(self.staff, flat, self.at(day, 30), self.at(day, 480), visitors)
        return 1

    # the ballot, notices and works ------------------------------------------------------------------

    def owner_users(self, ballot: Any, k: int) -> dict[str, User]:
        """A few owners of the story building who vote online: a resident grant at their dwelling, and
        their account verified in person by the community worker (``verify_owner_in_person``)."""
        from linli.consult.models import RollEntry

        out: dict[str, User] = {}
        entries = RollEntry.objects.filter(ballot=ballot, dwelling__building=self.pilot, owner_key__startswith="p:")
        for e in entries.select_related("owner", "dwelling").order_by("dwelling__unit__number", "dwelling__number"):
            if e.owner_key in out:
                continue
            user = _granted(
                self.root, _user(f"story-owner-{e.dwelling_id}", f"{e.owner.name}(业主)"), Role.RESIDENT, e.dwelling
            )
            out[e.owner_key] = verify_owner_in_person(self.staff, user, e.dwelling)
            if len(out) >= k:
                break
        return out

    def ballot(self, project: Any) -> Any:
        from linli.consult.models import Ballot, Channel, RollEntry, Vote, VoteRecord
        from linli.consult.services import ballots as consult_ballots

        ballot = consult_ballots.create_ballot(
            self.staff,
            project=project,
            title=f"{project.compound.name}综合改造方案业主表决",
            question="是否同意按公示的改造方案对小区建筑物及附属设施进行改造(民法典第二百七十八条第一款第七项)?",
            matter=Ballot.Matter.REBUILD.value,
            scope_kind=Ballot.ScopeKind.COMPOUND,
            scope_id=project.compound_id,
            closes_at=clock.now() + dt.timedelta(days=1),
        )
        consult_ballots.open_ballot(self.staff, ballot)
        keys = sorted(set(RollEntry.objects.filter(ballot=ballot).values_list("owner_key", flat=True)))
        online = self.owner_users(ballot, 6)
        n = 0
        for key in self.bar(keys, "业主表决 votes"):
            if key not in online and not key.startswith("dev:") and self.rng.random() > 0.76:
                continue  # did not take part
            r = self.rng.random()
            choice = "yes" if r < 0.93 else ("no" if r < 0.98 else "abstain")
            if key in online:
                consult_ballots.cast_vote(online[key], ballot, choice="yes", channel=Channel.ONLINE)
            elif self.rng.random() < 0.08:
                consult_ballots.cast_vote(
                    self.staff,
                    ballot,
                    choice=choice,
                    owner_key=key,
                    channel=Channel.PROXY,
                    reason=self.rng.choice(PROXY_REASONS),
                )
            else:
                consult_ballots.cast_vote(self.staff, ballot, choice=choice, owner_key=key, channel=Channel.PAPER)
            n += 1
        result = consult_ballots.tally(ballot)
        if not result["approved"]:  # the story needs it approved; a different seed might not
            raise RuntimeError(f"demo ballot not approved: {result}")
        # counted as announced: at its closing time (a ballot is not counted before, issue 8)
        with clock.frozen(ballot.closes_at or clock.now()):
            ballot = consult_ballots.close_ballot(self.staff, ballot)
        closed = self.at(BALLOT_CLOSES_DAY, 480)
        result = dict(ballot.result or {})
        result["closed_at"] = closed.isoformat()
        result["snapshot"] = {
            **result.get("snapshot", {}),
            "opens_at": timezone.localtime(self.at(BALLOT_OPENS_DAY)).isoformat(),
            "closes_at": timezone.localtime(closed).isoformat(),
            "ended_at": timezone.localtime(closed).isoformat(),
        }
        self.backdate(
            Ballot,
            ballot.pk,
            created_at=self.at(BALLOT_PHASE_DAY, 60),
            opens_at=self.at(BALLOT_OPENS_DAY),
            closes_at=closed,
            closed_at=closed,
            result=result,
        )
        span = (BALLOT_CLOSES_DAY - BALLOT_OPENS_DAY) * 1440
        for vote in Vote.objects.filter(ballot=ballot).order_by("owner_key"):
            when = self.at(BALLOT_OPENS_DAY, self.rng.randrange(0, span - 600))
            self.backdate(Vote, vote.pk, cast_at=when)
            VoteRecord.objects.filter(ballot=ballot, owner_key=vote.owner_key).update(at=when)
        self.built.ballot_id = ballot.pk
        self.n_votes = n
        return ballot

    def notices(self, project: Any, ballot: Any) -> int:
        from linli.consult.models import Notice, Objection, ObjectionChange
        from linli.consult.services import notices as consult_notices

        res = ballot.result or {}
        counts = res.get("counts", {})
        # published on the story's day (a published notice is never rewritten afterwards, issue 8)
        with clock.frozen(self.at(NOTICE_DAY)):
            consult_notices.publish_notice(
                self.staff,
                project,
                kind=Notice.Kind.RESULT,
                title=f"{ballot.title}结果公示",
                body=(
                    f"表决事项:{ballot.question}\n参加表决业主 {counts.get('voted')} 人(共 {counts.get('owners')} 人),"
                    f"同意 {counts.get('yes')} 人;按专有部分面积和人数计算,参与率与同意率均达到法定比例,表决通过。"
                    "公示期内如有异议,可在本页提出或到社区居委会反映。"
                ),
                days=15,
                ballot=ballot,
            )
            plan_notice = consult_notices.publish_notice(
                self.staff,
                project,
                kind=Notice.Kind.PLAN,
                title=f"{project.compound.name}综合改造实施方案公示",
                body="改造内容:" + "、".join(i.name for i in self.item_objs) + "。施工期间设居民监督员,欢迎监督。",
                days=15,
            )
            objection = consult_notices.raise_objection(
                plan_notice,
                consult_notices.ObjectionInput(
                    name="刘先生",
                    contact="13983012345",
                    dwelling_text=f"{self.pilot.name}1单元",
                    text="方案里的新停车位占了楼下的晾晒场地,希望调整位置。",
                ),
            )
            steps = (
                (Objection.Status.NEGOTIATING, "已约业主和设计单位到现场查看,拟将晾晒架移至绿地东侧。", 4),
                (Objection.Status.CLOSED, "协商一致:停车位不变,晾晒架移至绿地东侧并加装雨棚,业主表示满意。", 9),
            )
            for status, text, _day in steps:
                consult_notices.move_objection(self.staff, objection, status, text)
        self.backdate(Objection, objection.pk, created_at=self.at(NOTICE_DAY + 2, 120))
        stamped = []
        for change, (status, text, day) in zip(
            ObjectionChange.objects.filter(objection=objection).order_by("id"), steps, strict=True
        ):
            when = self.at(NOTICE_DAY + day, 90)
            self.backdate(ObjectionChange, change.pk, at=when)
            stamped.append(f"[{timezone.localtime(when):%Y-%m-%d %H:%M} · {Objection.Status(status).label}] {text}")
        # move_objection stamps the response text with today's time: the story's days instead.
        self.backdate(Objection, objection.pk, response="\n".join(stamped))
        return 2

    def works(self, project: Any) -> tuple[int, int]:
        from linli.renewal import services as renewal_services
        from linli.renewal.models import ProgressReport, SupervisionReport

        days_of_works = START_DAYS_AGO - WORKS_DAY
        reports = 0
        for item in self.bar(self.item_objs, "施工进度 progress"):
            final = item._final
            if final == 0:
                continue
            steps = [final] if final <= 40 else [round(final * 0.3), round(final * 0.65), final]
            for j, value in enumerate(steps):
                day = WORKS_DAY + round(days_of_works * (j + 1) / (len(steps) + 1)) + self.rng.randrange(0, 10)
                note = "完工,待验收" if value == 100 else "按计划推进"
                report = renewal_services.report_progress(self.staff, item, value, note)
                self.backdate(ProgressReport, report.pk, at=self.at(min(day, START_DAYS_AGO - 1), 420))
                reports += 1
        reporter = next(iter(self.online_owners.values()), self.staff)
        texts = (
            (
                "basic.roof",
                f"{self.pilot.name}屋面防水卷材搭接处有起翘,下雨前请施工方处理。",
                "已通知施工方返工,次日完成并复查。",
                True,
            ),
            ("basic.cables", "线缆入管后楼道墙面留了几个洞没有封堵。", "已安排封堵,周五前完成。", False),
            ("improve.walkways", "步道施工围挡占了老人去菜市场的路,希望留一条通道。", "", False),
        )
        by_code = {i.catalogue_item.code: i for i in self.item_objs if i.catalogue_item_id}
        n = 0
        for k, (code, text, answer, resolve) in enumerate(texts):
            sup, _ = renewal_services.submit_report(reporter, project, text, item=by_code.get(code))
            if answer:
                renewal_services.answer_report(self.staff, sup, answer, resolve=resolve)
            when = self.at(WORKS_DAY + 20 + k * 35, 200)
            self.backdate(SupervisionReport, sup.pk, created_at=when)
            n += 1
        return reports, n

    # the lift -----------------------------------------------------------------------------------------

    def lift(self) -> None:
        from linli.consult.models import Ballot, Channel, RollEntry, Vote, VoteRecord
        from linli.consult.services import ballots as consult_ballots
        from linli.consult.services.visits import log_visit
        from linli.renewal import services as renewal_services
        from linli.renewal.models import PhaseChange, Project

        site = lift_site(self.comm)
        if site is None:
            return
        building, unit, home = site
        eligible = building.compound.renovation_eligible_by_age() is True
        project = renewal_services.create_project(
            self.staff,
            building.compound,
            f"{building.name}{unit.number}单元加装电梯",
            buildings=[building],
            kind=Project.Kind.LIFT,
            summary=f"{building.storeys}层步梯楼,{unit.number}单元住户多为老人,申请加装电梯。",
            eligibility_override=not eligible,
            eligibility_reason="" if eligible else "演示:加装电梯项目,经街道同意例外纳入",
        )
        self.backdate(Project, project.pk, created_at=self.at(LIFT_PROJECT_DAY))
        for change in PhaseChange.objects.filter(project=project):
            self.backdate(PhaseChange, change.pk, at=self.at(LIFT_PROJECT_DAY))
        project.refresh_from_db()
        self.phase(project, "plan", LIFT_PROJECT_DAY + 20)
        dwellings = list(m.Dwelling.objects.filter(unit=unit).order_by("floor", "number"))
        workers = self.grid_workers(building)
        for i, d in enumerate(dwellings):
            high = d.floor >= 4
            log_visit(
                workers[i % len(workers)],
                project,
                d,
                attitude="support" if high or i % 3 else "undecided",
                reasons=["wants_lift"] if high else ["low_floor_no_lift", "light_privacy"],
                visited_at=self.at(LIFT_PROJECT_DAY + 25 + i, 60 + 7 * i),
            )
        self.phase(project, "ballot", START_DAYS_AGO - 6)
        ballot = consult_ballots.create_ballot(
            self.staff,
            project=project,
            title=f"{building.name}{unit.number}单元加装电梯业主表决",
            question=f"是否同意在{building.name}{unit.number}单元加装电梯,费用按楼层分摊?",
            matter=Ballot.Matter.LIFT.value,
            scope_kind=Ballot.ScopeKind.UNIT,
            scope_id=unit.pk,
            closes_at=clock.now() + dt.timedelta(days=14),
        )
        rows, _ = consult_ballots.build_roll(ballot)
        ground = next((r["dwelling"] for r in rows if r["dwelling"].floor == 1 and r["dwelling"].pk != home.pk), None)
        if ground is not None:
            consult_ballots.set_lift_occupied(self.staff, ballot, [ground.pk])
        consult_ballots.open_ballot(self.staff, ballot)
        if ground is not None:
            consult_ballots.record_lift_consent(
                self.staff, ballot, ground, True, "电梯井占用一楼入户花园约3平方米,业主签字同意,补偿方案已谈妥。"
            )
        resident = _granted(self.root, _user("demo-resident", "演示·居民/业主"), Role.RESIDENT, home)
        verify_owner_in_person(self.staff, resident, home)
        mine = set(RollEntry.objects.filter(ballot=ballot, dwelling=home).values_list("owner_key", flat=True))
        keys = sorted(set(RollEntry.objects.filter(ballot=ballot).values_list("owner_key", flat=True)) - mine)
        for i, key in enumerate(keys[: len(keys) // 2]):
            consult_ballots.cast_vote(self.staff, ballot, choice="yes", owner_key=key, channel=Channel.PAPER)
            when = self.at(START_DAYS_AGO - 5 + i % 4, 60 + 20 * i)
            Vote.objects.filter(ballot=ballot, owner_key=key).update(cast_at=when)
            VoteRecord.objects.filter(ballot=ballot, owner_key=key).update(at=when)
        self.backdate(Ballot, ballot.pk, created_at=self.at(START_DAYS_AGO - 6), opens_at=self.at(START_DAYS_AGO - 5))
        self.built.lift_project_id, self.built.lift_ballot_id = project.pk, ballot.pk
        self.resident = resident

    # all --------------------------------------------------------------------------------------------

    def run(self) -> Built:
        from linli.consult.models import Visit
        from linli.renewal import services as renewal_services

        compound = story_compound(self.comm)
        pilot = story_building(compound) if compound else None
        if compound is None or pilot is None:
            raise NoDistrict
        self.compound, self.pilot = compound, pilot
        self.buildings = list(m.Building.objects.filter(compound=compound).order_by("path"))
        self.building_by_id = {b.pk: b for b in self.buildings}
        self.dwellings_of: dict[int, list[m.Dwelling]] = {b.pk: [] for b in self.buildings}
        for d in m.Dwelling.objects.filter(building__compound=compound).order_by("unit__number", "floor", "number"):
            self.dwellings_of[d.building_id].append(d)
        self.n_dwellings = {k: len(v) for k, v in self.dwellings_of.items()}
        self.built.story_building_id, self.built.story_building = pilot.pk, f"{compound.name}{pilot.name}"

        c = self.built.counts
        c["catalogue"] = renewal_services.ensure_default_catalogue()
        self.users()
        project = self.project()
        self.item_objs = self.items(project)
        c["items"] = len(self.item_objs)
        c["survey_answers"] = self.survey(project, self.item_objs)
        self.phase(project, "plan", PLAN_DAY, "需求调查完成,形成改造方案")
        c["sample_flats"] = self.sample_flat(project)
        c["visits"] = self.story_visits(project) + self.other_visits(project)
        self.phase(project, "ballot", BALLOT_PHASE_DAY, "试点楼栋支持率达到100%,提交业主表决")
        ballot = self.ballot(project)
        self.online_owners = {k: u for k, u in self.owner_users(ballot, 6).items()}
        c["votes"] = self.n_votes
        self.phase(project, "notice", NOTICE_DAY, "表决通过,公示结果和方案")
        c["notices"] = self.notices(project, ballot)
        self.phase(project, "works", WORKS_DAY, "公示期满无未决异议,开工")
        c["progress_reports"], c["supervision_reports"] = self.works(project)
        self.lift()
        # A visit's created_at is when it was entered: on the day of the visit, as on a phone.
        Visit.objects.filter(project__compound__community=self.comm).update(created_at=F("visited_at"))
        c["visits"] = Visit.objects.filter(project__compound__community=self.comm).count()
        c["projects"] = 2 if self.built.lift_project_id else 1
        return self.built


def build(seed: int = 2024, bar: Bar | None = None, as_of: dt.date | None = None) -> Built:
    """Write the story (inside the caller's transaction); ``bar`` wraps loops in a progress bar.
    The story's two years end today (``clock.today()``), or at noon of ``as_of``."""
    comm = community()
    if comm is None:
        raise NoDistrict
    with clock.as_of(as_of):
        return Writer(comm, random.Random(seed), bar or _no_bar).run()


__all__ = [
    "Built",
    "NoDistrict",
    "PlannedVisit",
    "build",
    "lift_site",
    "resident_dwelling",
    "story_plan",
    "support_by_day",
    "verify_owner_in_person",
]
