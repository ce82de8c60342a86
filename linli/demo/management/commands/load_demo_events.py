"""``manage.py load_demo_events [--seed N] [--events N] [--as-of YYYY-MM-DD] [--if-empty]``: a year of
grid events on the demo district (issue 4), so that the command centre, the queues and the overdue
list show a living street. Needs ``load_demo`` first. See docs/demo.md.

The year ends at the clock's now (``linli.core.clock``: the system time, or ``LINLI_AS_OF``), or at
noon of ``--as-of``'s day (Asia/Shanghai); the same seed and ``--as-of`` always give the same history.

1. ``services.events.ensure_catalogue`` (departments, a locality office per street, categories) and
   a few routing rules; users for the chain: two command-centre desks per street (``ev-cmd-…``),
   two staff per department (``ev-dept-…``), the leader and grid workers of every grid (roster
   members of ``GridMember``, given users ``ev-gw-<grid code>-<n>`` unless they have one), two
   residents per community (``ev-res-…``) — all without a usable password, granted through
   ``accounts.services.grant_role``.
2. The history (``linli.demo.governance.plan``, pure) written with ``bulk_create``: each row is
   what the services would have written at that time (``tests/demo/test_governance.py``
   replays every history and checks it move by move against the services).
3. A handful of cases made now through the services themselves, waiting for the demo logins:
   one reported back in ``demo-grid``'s grid (to verify), one dispatched to 区城市管理局 (for
   ``demo-dept`` to accept), one with an extension request (for ``demo-street`` to decide), one
   collected (to register), one at the 谢家湾 locality office (for ``demo-locality``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count
from django.test.utils import override_settings

from linli.accounts.models import Department, User
from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock, crypto, masking
from linli.dashboard import services as dashboard_services
from linli.demo import governance as demo_governance
from linli.demo import places as demo_places
from linli.governance.models import Category, Event, EventLog, EventRequest, RoutingRule
from linli.governance.services import events as svc
from linli.places import models as m

BATCH = 2000
GRID_ROLES = {
    m.GridMember.Role.LEADER: Role.GRID_LEADER,
    m.GridMember.Role.FULLTIME: Role.GRID_FULLTIME,
    m.GridMember.Role.PARTTIME: Role.GRID_PARTTIME,
}
LIVE_STREET = "谢家湾街道"
LABELS = {
    "events": ("事件", "events"),
    "open": ("办理中", "open now"),
    "escalated": ("超时升级", "escalated (open)"),
    "closed": ("已结案", "closed"),
    "voided": ("已作废", "voided"),
    "log": ("办理记录", "history entries"),
    "requests": ("审批申请", "requests for approval"),
}


class Chain:
    """The users of the chain, and the symbolic actors of ``linli.demo.governance`` resolved to them."""

    def __init__(self, district: m.District) -> None:
        self.root = User.objects.filter(username="demo-root").first() or User.objects.create(
            username="demo-root",
            display_name="演示超级管理员",
            is_superuser=True,
            is_staff=True,
            password=make_password(None),
        )
        wanted: list[tuple[str, str, Role, Any, str, int]] = []  # username, name, role, place, pool, key
        for street in m.Street.objects.filter(district=district).order_by("path"):
            for k in (1, 2):
                wanted.append(
                    (
                        f"ev-cmd-{street.code}-{k}",
                        f"{street.name}指挥中心值班{k}",
                        Role.STREET_COMMAND,
                        street,
                        "cmd",
                        street.pk,
                    )
                )
        for dept in Department.objects.filter(district=district).order_by("code"):
            for k in (1, 2):
                wanted.append(
                    (
                        f"ev-dept-{dept.code}-{k}",
                        f"{dept.name}·工作人员{k}",
                        Role.DEPARTMENT_STAFF,
                        dept,
                        "dept",
                        dept.pk,
                    )
                )
        members = (
            m.GridMember.objects.filter(grid__community__street__district=district, role__in=list(GRID_ROLES))
            .select_related("grid__community", "user")
            .order_by("grid_id", "role", "id")
        )
        n: dict[int, int] = defaultdict(int)
        member_of: dict[str, m.GridMember] = {}
        for member in members:
            n[member.grid_id] += 1
            if n[member.grid_id] > 3:  # the leader, the full-time and a part-time grid worker
                continue
            username = member.user.username if member.user else f"ev-gw-{member.grid.code}-{n[member.grid_id]}"
            member_of[username] = member
            role = GRID_ROLES[m.GridMember.Role(member.role)]
            wanted.append((username, member.name, role, member.grid, "gw", member.grid_id))
        for community in m.Community.objects.filter(street__district=district).order_by("path"):
            homes = list(
                m.Dwelling.objects.filter(building__community=community, households__owner_occupied=True)
                .select_related("building__compound", "unit")
                .order_by("building__path", "unit__number", "floor", "number")[:40:17]
            )
            for k, home in enumerate(homes[:2], start=1):
                person = m.Person.objects.filter(residencies__household__dwelling=home).order_by("pk").first()
                name = person.name if person else f"居民{k}"
                wanted.append((f"ev-res-{community.pk}-{k}", name, Role.RESIDENT, home, "res", community.pk))

        # the users in two queries; their grants one by one through grant_role
        users = {u.username: u for u in User.objects.filter(username__in=[w[0] for w in wanted])}
        missing = [
            User(username=w[0], display_name=w[1][:100], password=make_password(None))
            for w in wanted
            if w[0] not in users
        ]
        User.objects.bulk_create(missing, batch_size=BATCH)
        users.update({u.username: u for u in User.objects.filter(username__in=[u.username for u in missing])})
        self.pools: dict[tuple[str, int], list[User]] = defaultdict(list)
        for username, _name, role, place, pool, key in wanted:
            user = users[username]
            grant_role(self.root, user, role.value, place)
            gm = member_of.get(username)
            if gm is not None and gm.user_id is None:
                m.GridMember.objects.filter(pk=gm.pk).update(user=user)
            self.pools[(pool, key)].append(user)
        self.cmd = {key: us for (pool, key), us in self.pools.items() if pool == "cmd"}
        self.dept = {key: us for (pool, key), us in self.pools.items() if pool == "dept"}
        self.gw = {key: us for (pool, key), us in self.pools.items() if pool == "gw"}
        self.res = {key: us for (pool, key), us in self.pools.items() if pool == "res"}

    def resolve(self, actor: demo_governance.Actor | None, event: Event, dept: Department | None) -> User | None:
        if actor is None:
            return None
        kind, k = actor
        pool: list[User] = []
        if kind == "gw":
            pool = self.gw.get(event.grid_id or 0, [])
        elif kind == "dept" and dept is not None:
            pool = self.dept.get(dept.pk, [])
        elif kind == "res":
            pool = self.res.get(event.community_id, [])
        return pool[k % len(pool)] if pool else self.cmd[event.street_id][k % 2]


def routing_rules(district: m.District) -> int:
    """A few rules that differ from (or make explicit) the default responsibility."""
    code = district.code
    made = 0
    wanted: list[tuple[str, Any, str, str]] = []
    xjw = m.Street.objects.filter(district=district, name=LIVE_STREET).first()
    yjp = m.Street.objects.filter(district=district, name="杨家坪街道").first()
    laodong = m.Community.objects.filter(street=xjw, name=demo_places.LAODONG).first() if xjw else None
    zhengjie = m.Community.objects.filter(street=xjw, name="谢家湾正街社区").first() if xjw else None
    if xjw is not None:
        wanted.append(("E0201", xjw, "", "谢家湾街道环卫所负责辖区垃圾清运"))
    if laodong is not None:
        wanted.append(("C0110", laodong, f"{code}-SJ", "劳动三村加装电梯由区市场监管局直接督办"))
    if zhengjie is not None:
        wanted.append(("E0205", zhengjie, f"{code}-GA", "正街夜市噪声由派出所先行处置"))
    if yjp is not None:
        wanted.append(("E0202", yjp, f"{code}-CG", "杨家坪商圈占道经营由城管执法大队处置"))
    for cat_code, place, dept_code, note in wanted:
        category = Category.objects.get(code=cat_code)
        dept = (
            Department.objects.get(code=dept_code)
            if dept_code
            else svc.locality_for(place if isinstance(place, m.Street) else place.street)[0]
        )
        made += RoutingRule.objects.get_or_create(
            category=category, path=place.path, defaults={"department": dept, "note": note}
        )[1]
    return made


def sites(district: m.District) -> tuple[list[demo_governance.Site], dict[int, m.Building]]:
    households = dict(
        m.Household.objects.filter(dwelling__building__community__street__district=district)
        .values_list("dwelling__building_id")
        .annotate(n=Count("id"))
        .values_list("dwelling__building_id", "n")
    )
    buildings = {
        b.pk: b
        for b in m.Building.objects.filter(community__street__district=district, lat__isnull=False, lon__isnull=False)
        .select_related("community__street")
        .order_by("path")
    }
    out = [
        demo_governance.Site(
            b.pk, b.lat, b.lon, b.grid_id, b.community_id, b.community.street_id, households.get(b.pk, 1)
        )
        for b in buildings.values()
        if b.lat is not None and b.lon is not None
    ]
    return out, buildings


class Writer:
    """Turns the plans into rows, exactly as the services would have written them."""

    def __init__(self, chain: Chain, buildings: dict[int, m.Building]) -> None:
        self.chain, self.buildings = chain, buildings
        self.categories = {c.code: c for c in Category.objects.select_related("owner")}
        self.routes: dict[tuple[int, int, tuple[str, ...]], list[Department]] = {}
        self.rule_paths: dict[int, list[str]] = defaultdict(list)
        for cat_id, path in RoutingRule.objects.values_list("category_id", "path"):
            self.rule_paths[cat_id].append(path)

    def route(self, category: Category, building: m.Building) -> list[Department]:
        """``services.events.route``, asked once per category, street and set of matching rules."""
        rules = tuple(p for p in self.rule_paths[category.pk] if building.path.startswith(p))
        key = (category.pk, building.community.street_id, rules)
        if key not in self.routes:
            self.routes[key] = svc.route(category, building.path, building.community.street)
        return self.routes[key]

    def dept(self, routes: list[Department], idx: int | None) -> Department | None:
        return None if idx is None else routes[min(idx, len(routes) - 1)]

    def write(self, plans: list[demo_governance.PlannedEvent]) -> None:
        events: list[Event] = []
        routes: list[list[Department]] = []
        for p in plans:
            b = self.buildings[p.site.building]
            cat = self.categories[p.category]
            rts = self.route(cat, b)
            routes.append(rts)
            dept = self.dept(rts, p.dept)
            ev = Event(
                token=p.token,
                category=cat,
                kind=cat.kind,
                sector=cat.sector,
                channel=p.channel,
                description=p.description,
                attributes=p.attributes,
                address=f"{b.community.name} {b}",
                lat=p.lat,
                lon=p.lon,
                building=b,
                grid_id=b.grid_id,
                community_id=b.community_id,
                street_id=b.community.street_id,
                path=b.path,
                reporter_name=p.reporter_name,
                reporter_phone_enc=crypto.encrypt(p.reporter_phone),
                reporter_phone_masked=masking.mask_phone(p.reporter_phone) if p.reporter_phone else "",
                reporter_phone_hash=crypto.lookup_hash(p.reporter_phone),
                reporter_email_enc="",
                client_key=p.client_key,
                step=p.step,
                department=dept,
                created_at=p.created,
                updated_at=p.updated_at,
                step_started_at=p.step_started_at,
                step_due_at=p.step_due_at,
                dispatched_at=p.dispatched_at,
                due_at=p.due_at,
                closed_at=p.closed_at,
                escalation=p.escalation,
                backlog=p.backlog,
                deferred_until=p.deferred_until,
                rework_count=p.rework_count,
                return_count=p.return_count,
                extension_count=p.extension_count,
                score=p.score,
                urgent=p.urgent,
            )
            reporter = self.chain.resolve(p.reporter, ev, None)
            ev.reporter = reporter
            ev.source = f"u:{reporter.pk}" if reporter else "sys"
            ev.handler = self.chain.resolve(p.handler, ev, dept)
            events.append(ev)
        for i in range(0, len(events), BATCH):
            Event.objects.bulk_create(events[i : i + BATCH])
        dups = []
        for p, ev in zip(plans, events, strict=True):
            if p.duplicate_of is not None:
                ev.duplicate_of = events[p.duplicate_of]
                dups.append(ev)
        Event.objects.bulk_update(dups, ["duplicate_of"], batch_size=BATCH)

        requests: list[EventRequest] = []
        req_of: dict[tuple[int, int], EventRequest] = {}
        for p, ev, rts in zip(plans, events, routes, strict=True):
            for k, rq in enumerate(p.requests):
                dept = self.dept(rts, rq.dept)
                by = self.chain.resolve(rq.by, ev, dept)
                assert by is not None
                row = EventRequest(
                    event=ev,
                    kind=rq.kind,
                    reason=rq.reason,
                    hours=rq.hours,
                    until=rq.until,
                    department=dept,
                    requested_by=by,
                    requested_at=rq.at,
                    decision=rq.decision,
                    decided_by=self.chain.resolve(rq.decided_by, ev, dept),
                    decided_at=rq.decided_at,
                    decision_note=rq.note,
                )
                requests.append(row)
                req_of[(p.index, k)] = row
        EventRequest.objects.bulk_create(requests, batch_size=BATCH)

        logs: list[EventLog] = []
        for p, ev, rts in zip(plans, events, routes, strict=True):
            for lg in p.log:
                dept = self.dept(rts, lg.dept)
                actor = self.chain.resolve(lg.actor, ev, dept if lg.actor and lg.actor[0] == "dept" else None)
                if lg.actor and lg.actor[0] == "dept" and dept is None:  # pragma: no cover - asks need a department
                    raise RuntimeError("a department's move without a department")
                data = dict(lg.data)
                if lg.move == "dispatch":
                    assert dept is not None
                    data = {"department": dept.name, "routed": [d.pk for d in rts]}
                if lg.request is not None:
                    data["request"] = req_of[(p.index, lg.request)].pk
                if lg.from_dept is not None:
                    frm = self.dept(rts, lg.from_dept)
                    data["from_department"] = frm.name if frm else ""
                if "duplicate_of" in data:
                    data["duplicate_of"] = events[data["duplicate_of"]].pk
                logs.append(
                    EventLog(
                        event=ev,
                        at=lg.at,
                        actor=actor,
                        actor_label=str(actor) if actor else "system",
                        move=lg.move,
                        step_from=lg.step_from,
                        step_to=lg.step_to,
                        department=dept,
                        note=lg.note,
                        data=data,
                    )
                )
        for i in range(0, len(logs), BATCH):
            EventLog.objects.bulk_create(logs[i : i + BATCH])


def live_cases(chain: Chain, district: m.District) -> list[tuple[str, Event]]:
    """Cases made now through the services, waiting for the demo logins."""
    street = m.Street.objects.filter(district=district, name=LIVE_STREET).first() or (
        m.Street.objects.filter(district=district).order_by("path").first()
    )
    if street is None:
        return []
    community = (
        m.Community.objects.filter(street=street, name=demo_places.LAODONG).first()
        or m.Community.objects.filter(street=street).order_by("path").first()
    )
    grid = m.Grid.objects.filter(community=community).order_by("seq").first()
    building = (
        m.Building.objects.filter(grid=grid, lat__isnull=False).order_by("path").first()
        or m.Building.objects.filter(community=community, lat__isnull=False).order_by("path").first()
    )
    if building is None:
        return []
    cmd = chain.cmd[street.pk][0]
    gw = (chain.gw.get(building.grid_id or 0) or [cmd])[0]
    cg = Department.objects.filter(code=f"{district.code}-CG").first()
    locality = svc.locality_for(street)[0]
    out: list[tuple[str, Event]] = []

    def new(code: str, channel: str, who: User, text: str, **kw: Any) -> Event:
        data = svc.Report(category=code, building=building.pk, description=text, **kw)
        return svc.report(who, data, channel=channel)[0]

    # reported back by 区城市管理局 in demo-grid's grid: a grid worker (not the handler) verifies
    ev = new("C0102", "grid", gw, "楼栋前路灯不亮,老人晚上出行不便。")
    svc.act(cmd, ev, "register")
    ev = svc.act(cmd, ev, "dispatch", department=cg)
    staff = chain.dept[ev.department_id or 0][0]
    svc.act(staff, ev, "accept")
    ev = svc.act(staff, ev, "report", note="已更换灯具,恢复照明。")
    out.append(("demo-grid: 待核查 to verify", ev))
    # dispatched to 区城市管理局, waiting to be accepted (部门报到)
    ev = new("E0202", "hotline", cmd, "早市摊贩占用人行道经营,行人绕行车道。", reporter_name="王秀英")
    ev = svc.act(cmd, ev, "dispatch", department=cg)
    out.append(("demo-dept: 待签收 to accept", ev))
    # being handled by 区城市管理局, with an extension request for the command centre
    ev = new("C0101", "hotline", cmd, "人行道井盖破损下陷。", attributes={"danger_now": "no", "cover": "broken"})
    ev = svc.act(cmd, ev, "dispatch", department=cg)
    svc.act(staff, ev, "accept")
    svc.ask(staff, ev, "extend", "需定制同规格井盖,延期两天。", hours=48)
    out.append(("demo-street: 延期待审批 extension to decide", ev))
    # collected by a grid worker, waiting to be registered
    ev = new("E0201", "grid", gw, "垃圾桶满溢,周边堆放生活垃圾。", client_key="demo-live-collected")
    out.append(("demo-street: 待立案 to register", ev))
    # a dispute dispatched to the street's locality office (属地)
    ev = new("E0206", "hotline", cmd, "楼上楼下因漏水发生纠纷,需要调解。", reporter_name="刘建国")
    ev = svc.act(cmd, ev, "dispatch", department=locality)
    out.append(("demo-locality: 待签收 to accept", ev))
    return out


class Command(BaseCommand):
    help = "载入演示区一年的网格事件 / Load a year of grid events onto the demo district (issue 4)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="随机种子 / random seed (default 2024)")
        parser.add_argument(
            "--events", type=int, default=demo_governance.EVENTS_PER_YEAR, help="一年的事件数 / reports over the year"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="已有事件时什么也不做 / do nothing when grid events exist"
        )
        parser.add_argument(
            "--as-of",
            type=clock.parse_day,
            default=None,
            metavar="YYYY-MM-DD",
            help="演示年截止的日期(默认今天)/ the day the demo year runs up to (default: today, clock.today())",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        district = m.District.objects.order_by("path").first()
        if district is None:
            raise CommandError(
                "还没有演示区:请先运行 `manage.py load_demo`。/ No demo district yet: run `manage.py load_demo` first."
            )
        if Event.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("已有网格事件,未载入演示事件。/ Grid events exist; demo events not loaded.")
                return
            raise CommandError(
                "已有网格事件:先 `manage.py flush` 并重新 `load_demo`。/ Grid events exist already: "
                "run `manage.py flush` and `load_demo` first."
            )
        if not 0 <= opts["events"] <= 200_000:
            raise CommandError("--events 须在 0 与 200000 之间 / --events must be in [0, 200000]")
        t0 = time.perf_counter()
        with clock.as_of(opts["as_of"]), override_settings(DEBUG=False), transaction.atomic():
            now, day = clock.now().replace(microsecond=0), clock.today()
            svc.ensure_catalogue(district)
            rules = routing_rules(district)
            chain = Chain(district)
            where, buildings = sites(district)
            plans = demo_governance.plan(where, now - timedelta(seconds=1), seed=opts["seed"], events=opts["events"])
            Writer(chain, buildings).write(plans)
            live = live_cases(chain, district)
        # the history went in with bulk_create (no save hook): fill the command centre's roll-up now
        rolled = dashboard_services.refresh(full=True)
        seconds = time.perf_counter() - t0
        counts = demo_governance.summary(plans)
        counts["events"] += len(live)
        counts["open"] += len(live)
        self.stdout.write(
            self.style.SUCCESS(
                f"网格事件已载入 / grid events loaded (seed {opts['seed']}, as of {day}) — {seconds:.1f} s"
            )
        )
        for key, (zh, en) in LABELS.items():
            pad = " " * max(1, 10 - 2 * len(zh))
            self.stdout.write(f"  {counts[key]:>9,}  {zh}{pad}{en}")
        self.stdout.write(f"  {rules:>9,}  路由规则  routing rules added")
        self.stdout.write(f"  指挥中心汇总已刷新 / command-centre roll-up refreshed ({rolled.seconds:.1f} s)")
        for label, ev in live:
            self.stdout.write(f"  /governance/events/{ev.pk}/   {label}")
