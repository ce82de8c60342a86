"""``manage.py load_demo_jobs [--seed N] [--seekers N] [--employers N] [--postings N] [--requests N]
[--as-of YYYY-MM-DD] [--if-empty]``: nearby employment for the demo district (issue 14 §8). Needs
``load_demo`` first. See docs/demo.md "Nearby employment".

1. What to write: ``linli.demo.jobs.plan`` (pure, seeded, dated by ``--as-of`` or the clock) over the
   district's streets, its residential buildings (where seekers live and employers sit) and the skill
   vocabulary (``services.vocabulary.ensure()`` first).
2. Accounts: the employment officers (``demo-jobs`` and ``jobs-officer-<street>-<n>``, the role
   ``employment_officer`` at their street, granted by ``demo-root``), one owner account per employer,
   an account per seeker who registered online (no usable password), and the logins ``demo-seeker``,
   ``demo-employer``, ``demo-jobs`` with the demo password (``demo_logins``).
3. The rows, in one transaction, with ``bulk_create`` in batches (skills through the M2M tables'
   own ``bulk_create``), setting what the services would set (paths, masked and encrypted contact
   data, numbers, created and updated times of the plan), then the matching generations are bumped
   (``jobs-postings``, ``jobs-seekers``) so every process rebuilds its indexes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models import Count
from django.test.utils import override_settings
from django.utils import timezone
from tqdm import tqdm

from linli.accounts.models import User
from linli.accounts.services import ensure_user, grant_role
from linli.core import clock, generations
from linli.demo import jobs as demo_jobs
from linli.demo.management.commands.demo_logins import ROOT_USER, demo_password
from linli.jobs import models as jobs_models
from linli.jobs.services import vocabulary
from linli.places import models as m

STREET = "谢家湾街道"
COMMUNITY = "劳动三村社区"
BATCH = 2000
M = TypeVar("M", bound=models.Model)


def world(district: m.District, street: m.Street) -> demo_jobs.World:
    """The district as the generator needs it: streets (the demo street first), residential
    buildings with their households, the demo community and the active skills."""
    streets = sorted(m.Street.objects.filter(district=district), key=lambda s: (s.pk != street.pk, s.path))
    homes = tuple(
        demo_jobs.Home(b["pk"], b["lat"], b["lon"], b["community__street_id"], b["community_id"], b["n"])
        for b in m.Building.objects.filter(community__street__district=district, lat__isnull=False)
        .annotate(n=Count("dwellings"))
        .filter(n__gt=0)
        .order_by("path")
        .values("pk", "lat", "lon", "community_id", "community__street_id", "n")
    )
    community = m.Community.objects.filter(street=street, name=COMMUNITY).first() or (
        m.Community.objects.filter(street=street).order_by("path").first()
    )
    skills = tuple(
        demo_jobs.SkillInfo(code, name, name_en, category)
        for code, name, name_en, category in jobs_models.Skill.objects.filter(active=True)
        .order_by("code")
        .values_list("code", "name", "name_en", "category__code")
    )
    return demo_jobs.World(
        district_id=district.pk,
        district_path=district.path,
        district_name=district.name,
        streets=tuple(demo_jobs.StreetInfo(s.pk, s.code, s.name, s.path, s.lat or 0.0, s.lon or 0.0) for s in streets),
        homes=homes,
        demo_community=community.pk if community else 0,
        skills=skills,
    )


@contextmanager
def stamped(*fields: Any) -> Iterator[None]:
    """Write the plan's own times into ``auto_now``/``auto_now_add`` columns during the load (a year of
    history), and give the fields back their behaviour afterwards."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add


def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


def due_function() -> Any:
    """The key-enterprise services' own deadline rule (``services.enterprise.due_at_for``)."""
    from linli.jobs.services import enterprise

    return enterprise.due_at_for


class Command(BaseCommand):
    help = "载入演示区的就近就业数据 / Load nearby employment (employers, postings, seekers, a year of hires)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="随机种子 / random seed (default 2024)")
        d = demo_jobs.Sizes()
        parser.add_argument(
            "--seekers", type=int, default=d.seekers, help=f"求职者人数 / seekers (default {d.seekers:,})"
        )
        parser.add_argument(
            "--employers", type=int, default=None, help=f"用人单位数 / employers (default {d.employers:,})"
        )
        parser.add_argument(
            "--postings", type=int, default=None, help=f"在招岗位数 / live postings (default {d.live_postings:,})"
        )
        parser.add_argument("--requests", type=int, default=None, help=f"重点企业服务诉求 / requests ({d.requests})")
        parser.add_argument(
            "--if-empty", action="store_true", help="已有就业数据时什么也不做 / do nothing when jobs data exist"
        )
        parser.add_argument(
            "--as-of",
            type=clock.parse_day,
            default=None,
            metavar="YYYY-MM-DD",
            help="数据截止的日期(默认今天)/ the day the year of history runs up to (default: today)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        district = m.District.objects.order_by("path").first()
        street = (
            m.Street.objects.filter(district=district, name=STREET).first()
            or m.Street.objects.filter(district=district).order_by("path").first()
            if district
            else None
        )
        if district is None or street is None:
            raise CommandError(
                "还没有演示区:请先运行 `manage.py load_demo`。/ No demo district yet: run `manage.py load_demo` first."
            )
        if jobs_models.Employer.objects.exists() or jobs_models.Seeker.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("已有就业数据,未载入演示数据。/ Jobs data exist; the demo's jobs not loaded.")
                return
            raise CommandError("已有就业数据 / Jobs data exist already: run `manage.py flush` and `load_demo` first.")
        if opts["seekers"] < 50:
            raise CommandError("--seekers 至少 50 / --seekers must be at least 50")
        small = demo_jobs.Sizes.small(opts["seekers"]) if opts["seekers"] < demo_jobs.Sizes().seekers else None
        base = small or demo_jobs.Sizes(seekers=opts["seekers"])
        sizes = demo_jobs.Sizes(
            seekers=opts["seekers"],
            employers=opts["employers"] or base.employers,
            live_postings=opts["postings"] or base.live_postings,
            requests=opts["requests"] if opts["requests"] is not None else base.requests,
        )
        show = opts["verbosity"] > 0
        t0 = time.perf_counter()
        with clock.as_of(opts["as_of"]), override_settings(DEBUG=False):
            now = timezone.localtime(clock.now()).replace(microsecond=0)
            vocabulary.ensure()  # a flushed database (tests) has lost migration 0002's rows
            w = world(district, street)
            if not w.homes:
                raise CommandError("演示区没有住宅楼 / The demo district has no residential buildings.")
            plan = demo_jobs.plan(w, now, seed=opts["seed"], sizes=sizes, due=due_function())
            t_plan = time.perf_counter() - t0
            with transaction.atomic():
                counts = Loader(plan, district, show).load()
            generations.bump("jobs-postings")
            generations.bump("jobs-seekers")
        seconds = time.perf_counter() - t0
        self.report(plan, counts, seconds, t_plan, now)

    def report(
        self, plan: demo_jobs.Plan, counts: dict[str, int], seconds: float, t_plan: float, now: datetime
    ) -> None:
        out = self.stdout
        out.write(
            self.style.SUCCESS(
                f"演示就业数据已载入 / demo jobs loaded (seed {plan.seed}, up to {now:%Y-%m-%d %H:%M}) — "
                f"{seconds:.1f} s (plan {t_plan:.1f} s)"
            )
        )
        s = demo_jobs.summary(plan)
        for label, n in (
            ("用人单位 employers", s["employers"]),
            ("重点企业 key enterprises", s["key_enterprises"]),
            ("岗位 postings", s["postings"]),
            ("在招岗位 live postings", s["live_postings"]),
            ("求职者 seekers", s["seekers"]),
            ("可被搜索 discoverable", s["discoverable"]),
            ("求职申请 applications", s["applications"]),
            ("申请记录 application steps", s["steps"]),
            ("平台就业 placements", s["placements"]),
            ("就业台账 figure entries", s["entries"]),
            ("服务诉求 service requests", s["requests"]),
            ("账号 accounts", counts.get("users", 0)),
        ):
            out.write(f"  {n:>9,}  {label}")
        g = plan.goals
        targets = {(t.metric): t.target for t in plan.targets if t.place_kind == "district"}
        for metric, zh in (
            ("new_jobs", "城镇新增就业"),
            ("reemployed", "失业人员再就业"),
            ("hard_placed", "就业困难人员就业"),
        ):
            out.write(
                f"  {zh} {metric}: {g[metric]:,} / {targets[metric]:,} = {g[metric] * 100 / targets[metric]:.2f}%"
            )
        out.write(
            f"  登录 / logins (password as the other demo logins): demo-seeker (身份证 {demo_jobs.DEMO_SEEKER_ID}, "
            f"手机 {demo_jobs.DEMO_SEEKER_PHONE}), demo-employer, demo-jobs"
        )


class Loader:
    def __init__(self, plan: demo_jobs.Plan, district: m.District, show: bool) -> None:
        self.plan = plan
        self.district = district
        self.show = show
        self.counts: dict[str, int] = {}
        self.streets = {s.pk: s for s in m.Street.objects.filter(district=district)}

    def bulk(self, model: type[M], objs: Sequence[M], desc: str) -> Sequence[M]:
        bar = tqdm(total=len(objs), desc=desc, file=sys.stderr, unit="row", disable=not self.show, mininterval=0.5)
        for i in range(0, len(objs), BATCH):
            chunk = objs[i : i + BATCH]
            model._default_manager.bulk_create(chunk, batch_size=BATCH)
            bar.update(len(chunk))
        bar.close()
        return objs

    def load(self) -> dict[str, int]:
        p = self.plan
        users = self.users()
        employers = self.employers(users)
        postings = self.postings(employers, users)
        seekers = self.seekers(users)
        apps = self.applications(postings, seekers, users)
        self.placements(apps, seekers, employers, users)
        self.figures(users)
        self.requests(employers, users)
        self.counts["employers"] = len(p.employers)
        return self.counts

    def users(self) -> dict[str, int]:
        p = self.plan
        root = ensure_user(ROOT_USER, display_name="演示超级管理员", superuser=True)
        password = demo_password()
        ids: dict[str, int] = dict(User.objects.values_list("username", "pk"))
        logins = [u for u in p.users if u.login]
        fresh = [u for u in p.users if not u.login and u.username not in ids]
        unusable = make_password(None)  # one unusable hash for every account that signs in otherwise
        self.bulk(
            User,
            [User(username=u.username, display_name=u.display_name, password=unusable) for u in fresh],
            "账号 accounts",
        )
        for u in logins:
            ensure_user(u.username, password=password, display_name=u.display_name, phone=u.phone or None)
        ids = dict(User.objects.values_list("username", "pk"))
        self.counts["users"] = len(fresh) + len(logins)
        by_pk = User.objects.in_bulk([ids[o.username] for o in p.officers])
        for o in p.officers:
            grant_role(root, by_pk[ids[o.username]], "employment_officer", self.streets[o.street])
        return ids

    def employers(self, users: dict[str, int]) -> list[jobs_models.Employer]:
        rows = []
        for e in self.plan.employers:
            street = self.streets[e.street]
            row = jobs_models.Employer(
                name=e.name,
                credit_code=e.credit_code,
                industry=e.industry,
                size=e.size,
                address=e.address,
                lat=e.lat,
                lon=e.lon,
                street=street,
                path=street.path,
                contact_name=e.contact_name,
                description=e.description,
                status=e.status,
                status_note=e.status_note,
                verified_by_id=users.get(e.verified_by) if e.verified_by else None,
                verified_at=e.verified_at,
                key_enterprise=e.key_enterprise,
                officer_id=users.get(e.officer) if e.officer else None,
                created_at=e.created_at,
            )
            row.set_contact_phone(e.contact_phone)
            rows.append(row)
        with stamped(_field(jobs_models.Employer, "created_at")):
            self.bulk(jobs_models.Employer, rows, "用人单位 employers")
        with stamped(_field(jobs_models.EmployerMember, "added_at")):
            self.bulk(
                jobs_models.EmployerMember,
                [
                    jobs_models.EmployerMember(
                        employer=rows[x.employer], user_id=users[x.username], role=x.role, added_at=x.added_at
                    )
                    for x in self.plan.members
                ],
                "单位成员 members",
            )
        return rows

    def skill_ids(self) -> dict[str, int]:
        return dict(jobs_models.Skill.objects.values_list("code", "pk"))

    def postings(self, employers: list[jobs_models.Employer], users: dict[str, int]) -> list[jobs_models.Posting]:
        categories = dict(jobs_models.JobCategory.objects.values_list("code", "pk"))
        rows = [
            jobs_models.Posting(
                employer=employers[x.employer],
                title=x.title,
                description=x.description,
                category_id=categories[x.category],
                headcount=x.headcount,
                hired=x.hired,
                wage_min=x.wage_min,
                wage_max=x.wage_max,
                hours=x.hours,
                address=x.address,
                lat=x.lat,
                lon=x.lon,
                street=self.streets[x.street],
                path=self.streets[x.street].path,
                closes_on=x.closes_on,
                status=x.status,
                created_by_id=users.get(x.created_by) if x.created_by else None,
                created_at=x.created_at,
                published_at=x.published_at,
            )
            for x in self.plan.postings
        ]
        with stamped(_field(jobs_models.Posting, "created_at")):
            self.bulk(jobs_models.Posting, rows, "岗位 postings")
        skills = self.skill_ids()
        through = jobs_models.Posting.skills.through
        self.bulk(
            through,
            [
                through(posting_id=row.pk, skill_id=skills[c])
                for row, x in zip(rows, self.plan.postings, strict=True)
                for c in x.skills
            ],
            "岗位技能 posting skills",
        )
        return rows

    def seekers(self, users: dict[str, int]) -> list[jobs_models.Seeker]:
        rows = []
        bar = tqdm(
            total=len(self.plan.seekers),
            desc="加密 encrypting",
            file=sys.stderr,
            disable=not self.show,
            mininterval=0.5,
        )
        for x in self.plan.seekers:
            street = self.streets[x.street]
            row = jobs_models.Seeker(
                user_id=users.get(x.username) if x.username else None,
                name=x.name,
                birth_year=x.birth_year,
                education=x.education,
                lat=x.lat,
                lon=x.lon,
                path=street.path,
                street=street,
                experience_years=x.experience_years,
                experience=x.experience,
                wage_min=x.wage_min,
                wage_max=x.wage_max,
                hours=x.hours,
                travel_m=x.travel_m,
                registered_unemployed=x.registered_unemployed,
                hard_to_employ=x.hard_to_employ,
                discoverable=x.discoverable,
                status=x.status,
                source=x.source,
                created_at=x.created_at,
                updated_at=x.updated_at,
            )
            row.set_id_number(x.id_number)
            row.set_phone(x.phone)
            rows.append(row)
            bar.update(1)
        bar.close()
        with stamped(_field(jobs_models.Seeker, "created_at"), _field(jobs_models.Seeker, "updated_at")):
            self.bulk(jobs_models.Seeker, rows, "求职者 seekers")
        skills = self.skill_ids()
        through = jobs_models.Seeker.skills.through
        self.bulk(
            through,
            [
                through(seeker_id=row.pk, skill_id=skills[c])
                for row, x in zip(rows, self.plan.seekers, strict=True)
                for c in x.skills
            ],
            "求职者技能 seeker skills",
        )
        return rows

    def applications(
        self, postings: list[jobs_models.Posting], seekers: list[jobs_models.Seeker], users: dict[str, int]
    ) -> list[jobs_models.Application]:
        rows = [
            jobs_models.Application(
                posting=postings[x.posting],
                seeker=seekers[x.seeker],
                number=x.number,
                status=x.status,
                channel=x.channel,
                invited=x.invited,
                cv=x.cv,
                message=x.message,
                interview_at=x.interview_at,
                contact_released_at=x.contact_released_at,
                path=postings[x.posting].path,
                created_at=x.created_at,
                updated_at=x.updated_at,
            )
            for x in self.plan.applications
        ]
        self.bulk(jobs_models.Application, rows, "求职申请 applications")
        steps = [
            jobs_models.ApplicationStep(
                application=row,
                kind=s.kind,
                from_status=s.from_status,
                to_status=s.to_status,
                actor_id=users.get(s.actor) if s.actor else None,
                side=s.side,
                note=s.note,
                at=s.at,
            )
            for row, x in zip(rows, self.plan.applications, strict=True)
            for s in x.steps
        ]
        self.bulk(jobs_models.ApplicationStep, steps, "申请记录 steps")
        return rows

    def placements(
        self,
        apps: list[jobs_models.Application],
        seekers: list[jobs_models.Seeker],
        employers: list[jobs_models.Employer],
        users: dict[str, int],
    ) -> None:
        self.bulk(
            jobs_models.Placement,
            [
                jobs_models.Placement(
                    application=apps[x.application] if x.application is not None else None,
                    seeker=seekers[x.seeker],
                    employer=employers[x.employer],
                    started_on=x.started_on,
                    path=seekers[x.seeker].path,
                    registered_unemployed=x.registered_unemployed,
                    hard_to_employ=x.hard_to_employ,
                    source=jobs_models.Placement.Source.PLATFORM,
                    created_by_id=users.get(x.created_by) if x.created_by else None,
                    created_at=x.created_at,
                )
                for x in self.plan.placements
            ],
            "平台就业 placements",
        )

    def figures(self, users: dict[str, int]) -> None:
        self.bulk(
            jobs_models.EmploymentTarget,
            [
                jobs_models.EmploymentTarget(
                    year=t.year,
                    place_kind=t.place_kind,
                    place_id=t.place_id,
                    path=t.path,
                    metric=t.metric,
                    target=t.target,
                    set_by_id=users.get(t.set_by),
                    set_at=t.set_at,
                )
                for t in self.plan.targets
            ],
            "年度目标 targets",
        )
        self.bulk(
            jobs_models.TargetEntry,
            [
                jobs_models.TargetEntry(
                    path=e.path,
                    metric=e.metric,
                    count=e.count,
                    on=e.on,
                    source=e.source,
                    entered_by_id=users.get(e.entered_by),
                    entered_at=e.entered_at,
                )
                for e in self.plan.entries
            ],
            "就业台账 entries",
        )

    def requests(self, employers: list[jobs_models.Employer], users: dict[str, int]) -> None:
        rows = [
            jobs_models.ServiceRequest(
                employer=employers[x.employer],
                number=x.number,
                kind=x.kind,
                title=x.title,
                detail=x.detail,
                status=x.status,
                officer_id=users.get(x.officer) if x.officer else None,
                path=employers[x.employer].path,
                filed_by_id=users.get(x.filed_by),
                filed_at=x.filed_at,
                due_at=x.due_at,
                accepted_at=x.accepted_at,
                closed_at=x.closed_at,
                result=x.result,
                satisfaction=x.satisfaction,
                satisfaction_note=x.satisfaction_note,
            )
            for x in self.plan.requests
        ]
        self.bulk(jobs_models.ServiceRequest, rows, "服务诉求 requests")
        self.bulk(
            jobs_models.ServiceStep,
            [
                jobs_models.ServiceStep(
                    request=row, kind=s.kind, actor_id=users.get(s.actor) if s.actor else None, note=s.note, at=s.at
                )
                for row, x in zip(rows, self.plan.requests, strict=True)
                for s in x.steps
            ],
            "服务记录 request steps",
        )
