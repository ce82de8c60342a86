"""A year of grid events for the demo district (pure Python, imports no Django).

``plan(sites, now, seed, events)`` tells, event by event, what a street's command centre, its grid
workers, residents, the hotline desk and the departments did over the last twelve months: who
reported what where, every move of the closed loop (``loop.py``) with its time and actor, the
requests for approval, and the escalations the ``escalate_events`` cron would have written. It
keeps, beside the history, the event's resulting state — computed move by move by the same
``loop.take`` that ``linli.governance.services.events`` moves cases with (``act``, ``decide``,
``escalate_overdue``): step and step deadline, dispatch and due times, closed time, escalation
level, flags and counts. The demo cannot drift from the product: what a move does is written once.
``manage.py load_demo_events`` turns the plans into rows with ``bulk_create``.

The mix is realistic rather than tidy: rubbish, street vending, street lights and disputes are
the most frequent categories; most events come from grid workers, then the hotline desk,
residents and tasks from above; most cases close on time, some late, some are reworked after a
failed check, returned by the wrong department and re-dispatched, extended, deferred or put on
the backlog, a few voided as duplicates; and cases reported in the last days are still open at
every step, some overdue and escalated to the street (level 1) or the district (level 2).

Actors are symbolic (``Actor``): the k-th grid worker of the event's grid, the k-th desk of the
street's command centre, the k-th staff member of the department the case is at, the k-th
resident user of the community, or the system (``None``). Departments are indexes into
``services.events.route()``'s list for the event (0: first responsible; 1: the next one, where a
returned case is re-dispatched). The same seed and ``now`` always give the same plans.
"""

from __future__ import annotations

import contextlib
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from linli.core.geo import metres
from linli.demo.places import People
from linli.governance import loop
from linli.governance.categories import CATEGORIES, CategorySpec
from linli.governance.loop import Move, Step

DAYS = 365
EVENTS_PER_YEAR = 4000
CRON = timedelta(minutes=3)  # ``escalate_events`` runs every few minutes
NEVER = timedelta(days=10_000)
M_PER_DEG_LAT = 111_000.0
JITTER_M = 25.0

# Relative frequency of each category (rubbish, vending, street lights and disputes lead).
WEIGHTS: dict[str, float] = {
    "C0101": 3, "C0102": 10, "C0103": 4, "C0104": 1.5, "C0105": 1.5, "C0106": 3, "C0107": 2, "C0108": 3,
    "C0109": 4, "C0110": 3, "E0201": 18, "E0202": 11, "E0203": 3, "E0204": 4, "E0205": 6, "E0206": 9,
    "E0207": 5, "E0208": 1.5, "E0209": 2, "E0210": 3, "E0211": 1.5, "E0212": 1, "E0213": 1.5, "E0214": 1,
    "E0215": 1.5, "E0216": 2,
}  # fmt: skip
CHANNELS: tuple[tuple[str, float], ...] = (("grid", 60), ("hotline", 18), ("resident", 14), ("task", 8))
# Busier in summer (noise, rubbish) and before the Spring Festival; by month 1–12.
MONTH_FACTOR = (1.05, 1.1, 0.9, 0.95, 1.0, 1.1, 1.15, 1.15, 1.0, 0.95, 0.9, 0.95)

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "C0101": ("人行道上井盖缺失,已用锥桶临时围挡。", "井盖破损下陷,车辆经过有响声。", "雨水井盖松动,夜间行人易绊倒。"),
    "C0102": ("小区门口路灯连续几晚不亮。", "梯道两盏路灯不亮,老人晚上下坡看不清。", "路灯白天也亮着,疑似控制器故障。"),
    "C0103": ("供水管道接头漏水,路面积水。", "楼下水表井冒水,已持续半天。"),
    "C0104": ("楼道内燃气管道锈蚀,有轻微气味。", "燃气表箱门损坏,管道外露。"),
    "C0105": ("配电箱门损坏,电线外露。", "电杆倾斜,线缆下垂。"),
    "C0106": ("楼道口通信线缆杂乱,飞线挂在窗外。", "光缆垂落到人行道上方。"),
    "C0107": ("消防栓箱内水带缺失。", "楼道灭火器过期、压力不足。"),
    "C0108": ("健身器材扶手断裂。", "休闲座椅木条损坏。"),
    "C0109": ("外墙瓷砖脱落,下方是人行通道。", "楼道墙面大面积剥落。", "雨棚破损,雨天漏水。"),
    "C0110": ("电梯停在两层之间,已通知物业。", "电梯运行时异响,居民担心安全。", "电梯故障停运两天。"),
    "E0201": ("垃圾桶满溢,周边堆放生活垃圾。", "楼栋旁堆放建筑垃圾。", "菜市场旁垃圾未及时清运,有异味。"),
    "E0202": ("早市摊贩占用人行道经营。", "夜宵摊占道,行人只能走车行道。", "水果摊占用消防通道口。"),
    "E0203": ("楼顶新搭彩钢棚。", "一楼住户扩建院坝围墙。"),
    "E0204": ("消防通道被私家车长期占用。", "楼道堆放杂物,堵塞疏散通道。"),
    "E0205": ("广场舞音响声音过大,晚上十点后仍未停止。", "装修噪声扰民,周末早上七点开工。"),
    "E0206": ("楼上楼下因漏水发生纠纷。", "邻居占用公共过道引发争执。", "宠物狗扰邻引发纠纷。"),
    "E0207": ("居民对物业收费有异议。", "物业未及时维修公共照明,居民不满。"),
    "E0208": ("高空坠物砸坏楼下车辆。", "有人从楼上扔垃圾。"),
    "E0209": ("低保户家中老人生病,生活困难。", "失业家庭申请临时救助。"),
    "E0210": ("独居老人两天未出门,邻居担心。", "独居老人需要上门送餐。"),
    "E0211": ("居民咨询公益性岗位招聘。", "残疾居民求助就业培训。"),
    "E0212": ("装修工人反映被拖欠工资。", "保洁员反映三个月工资未发。"),
    "E0213": ("个体户咨询营业执照办理。", "小微企业咨询减免政策。"),
    "E0214": ("党员收集到居民加装电梯诉求。", "党员反映楼栋长选举建议。"),
    "E0215": ("建议在小区增设电动车充电桩。", "建议改造院坝为休闲小广场。"),
    "E0216": ("流浪猫聚集,居民担心卫生。", "居民反映其他问题,需要协调。"),
}
REPORT_NOTES = (
    "已到场处置完毕,附处置说明。",
    "已安排人员处理,现场恢复正常。",
    "已联系责任单位整改到位。",
    "已维修完成并经物业确认。",
    "已清理完毕。",
    "已协调双方达成一致。",
)
FAIL_NOTES = ("现场复核仍未处理到位。", "居民反映问题反复,需重新处置。", "处置不彻底,仍有遗留。")
RETURN_REASONS = ("不属于本部门职责,请改派。", "该设施产权不在本单位,请改派属地。", "经核实属其他单位管辖。")
EXTEND_REASONS = ("需采购配件,预计延后处置。", "涉及多户协调,需要更多时间。", "天气原因暂无法施工。")
DEFER_REASONS = ("待老旧小区改造项目统一处理。", "需等待业主大会表决后实施。")
BACKLOG_REASONS = ("历史遗留问题,需纳入专项整治。", "涉及产权纠纷,暂无法解决。")
REFUSE_NOTES = ("时限内可以完成,请按期处置。", "理由不充分。")
VOID_DUPLICATE = "重复上报,已并入原案件。"
VOID_NOT_A_PROBLEM = ("经核实不属于问题,作废。", "现场已自行消除,作废。")
TASK_NAMES = ("区网格化服务管理中心交办", "区长公开电话交办", "12345 市民热线转办")

Actor = tuple[str, int]  # ("gw"|"cmd"|"dept"|"res", k); None = the system


@dataclass(frozen=True)
class Site:
    """A building of the district, as the planner needs it."""

    building: int
    lat: float
    lon: float
    grid: int | None
    community: int
    street: int
    households: int = 1


@dataclass
class PlannedRequest:
    kind: str  # EventRequest.Kind value
    reason: str
    by: Actor
    at: datetime
    dept: int | None
    hours: int | None = None
    until: datetime | None = None
    decision: str = "pending"
    decided_by: Actor | None = None
    decided_at: datetime | None = None
    note: str = ""


@dataclass
class PlannedLog:
    at: datetime
    move: str  # a Move value or "create"
    step_from: str
    step_to: str
    actor: Actor | None
    dept: int | None  # the event's department after the move
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    request: int | None = None  # index into the event's requests (the decided one)
    from_dept: int | None = None  # RETURN: the department it came back from


@dataclass
class PlannedEvent:
    index: int
    site: Site
    lat: float
    lon: float
    category: str
    channel: str
    created: datetime
    reporter: Actor
    token: uuid.UUID
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    reporter_name: str = ""
    reporter_phone: str = ""
    client_key: str = ""
    duplicate_of: int | None = None  # index of the original event
    # the state the services would leave
    step: str = Step.COLLECTED.value
    step_started_at: datetime = field(init=False)
    step_due_at: datetime | None = None
    dispatched_at: datetime | None = None
    due_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime = field(init=False)
    escalation: int = 0
    backlog: bool = False
    deferred_until: datetime | None = None
    rework_count: int = 0
    return_count: int = 0
    extension_count: int = 0
    score: int | None = None
    urgent: bool = False  # someone in danger now (danger_now = yes): the services' shorter limits
    dept: int | None = None
    handler: Actor | None = None
    log: list[PlannedLog] = field(default_factory=list)
    requests: list[PlannedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.step_started_at = self.updated_at = self.created


class _Stop(Exception):
    """The next move would happen after ``now``: the event waits where it is."""


class _Sim:
    """One event's state, moved by ``loop.take`` as the services move it."""

    def __init__(self, ev: PlannedEvent, spec: CategorySpec, now: datetime) -> None:
        self.ev, self.spec, self.now = ev, spec, now
        self.limits = dict(spec.limits)
        self.full = loop.limits_for(self.limits, loop.is_danger(ev.attributes))
        self.t = ev.created

    # time ------------------------------------------------------------------------------------------

    def at(self, hours: float) -> datetime:
        """``hours`` after the last move (whole seconds); raises _Stop when that is after now."""
        t = (self.t + timedelta(hours=hours)).replace(microsecond=0)
        if t <= self.t:
            t = self.t + timedelta(seconds=1)
        if t >= self.now:
            raise _Stop
        return t

    def case(self) -> loop.Case:
        """The planned event's state as the loop sees it (department: the route index; handler: the actor)."""
        ev = self.ev
        return loop.Case(
            step=Step(ev.step),
            step_started_at=ev.step_started_at,
            step_due_at=ev.step_due_at,
            updated_at=ev.updated_at,
            dispatched_at=ev.dispatched_at,
            due_at=ev.due_at,
            closed_at=ev.closed_at,
            escalation=ev.escalation,
            backlog=ev.backlog,
            deferred_until=ev.deferred_until,
            rework_count=ev.rework_count,
            return_count=ev.return_count,
            extension_count=ev.extension_count,
            score=ev.score,
            urgent=ev.urgent,
            department=ev.dept,
            handler=ev.handler,
        )

    def put(self, case: loop.Case) -> None:
        """Keep ``case`` as the planned event's state."""
        ev = self.ev
        ev.step = case.step.value
        ev.step_started_at, ev.step_due_at, ev.updated_at = case.step_started_at, case.step_due_at, case.updated_at
        ev.dispatched_at, ev.due_at, ev.closed_at = case.dispatched_at, case.due_at, case.closed_at
        ev.escalation, ev.backlog, ev.deferred_until = case.escalation, case.backlog, case.deferred_until
        ev.rework_count, ev.return_count = case.rework_count, case.return_count
        ev.extension_count = case.extension_count
        ev.score, ev.dept, ev.handler = case.score, case.department, case.handler
        ev.urgent = case.urgent

    def take(self, t: datetime, move: Move, actor: Actor | None, **args: Any) -> tuple[str, dict[str, Any]]:
        """``loop.take`` on the planned event at ``t``: (the step before, what the history records)."""
        before = self.ev.step
        case, data = loop.take(self.case(), move, t, self.limits, actor=actor, **args)
        self.put(case)
        return before, data

    def _log(self, at: datetime, move: str, before: str, after: str, actor: Actor | None, **kw: Any) -> None:
        self.ev.log.append(PlannedLog(at, move, before, after, actor, self.ev.dept, **kw))
        self.t = at

    # escalation (the cron) -------------------------------------------------------------------------

    def tick(self, until: datetime) -> None:
        """Escalations ``escalate_overdue`` would have written before ``until``."""
        ev = self.ev
        while Step(ev.step) in loop.OPEN_STEPS and ev.escalation < loop.DISTRICT and not ev.backlog:
            due = ev.step_due_at
            key = loop.LIMIT_OF_STEP.get(Step(ev.step))
            if due is None or key is None:
                return
            hours = self.full[key]
            cross = due if ev.escalation < loop.STREET else due + timedelta(hours=max(hours, 24.0))
            x = max(cross, self.t) + CRON
            if ev.deferred_until is not None:
                x = max(x, ev.deferred_until + CRON)
            if x >= until:
                return
            level = loop.escalation_level(x, due, hours)
            if level <= ev.escalation:  # pragma: no cover - cannot happen with the times above
                return
            before, data = self.take(x, Move.ESCALATE, None, level=level)
            self._log(x, Move.ESCALATE.value, before, ev.step, None, data=data)

    # moves -----------------------------------------------------------------------------------------

    def create(self, command: bool) -> None:
        ev, t = self.ev, self.ev.created
        self.put(
            loop.opened(
                Step.REGISTERED if command else Step.COLLECTED, t, self.limits, urgent=loop.is_danger(ev.attributes)
            )
        )
        self._log(t, "create", "", Step.COLLECTED.value, ev.reporter, data={"channel": ev.channel})
        if command:
            self._log(t, Move.REGISTER.value, Step.COLLECTED.value, Step.REGISTERED.value, ev.reporter)

    def act(
        self,
        hours: float,
        move: Move,
        actor: Actor,
        note: str = "",
        *,
        dept: int | None = None,
        score: int | None = None,
        duplicate_of: int | None = None,
    ) -> None:
        """``services.events.act`` ``hours`` after the last move."""
        t = self.at(hours)
        self.tick(t)
        ev = self.ev
        data: dict[str, Any] = {}
        if move == Move.VOID and duplicate_of is not None:
            ev.duplicate_of = duplicate_of
            data["duplicate_of"] = duplicate_of  # the writer puts the original's pk here
        from_dept = ev.dept if move == Move.RETURN else None
        before, recorded = self.take(t, move, actor, department=dept or 0, score=score)
        self._log(t, move.value, before, ev.step, actor, note=note, data=data | recorded, from_dept=from_dept)

    def ask(self, delay: float, kind: str, reason: str, **kw: Any) -> PlannedRequest:
        """``services.events.ask`` ``delay`` hours after the last move; the event does not change."""
        t = self.at(delay)
        self.tick(t)
        req = PlannedRequest(kind, reason, ("dept", 0), t, self.ev.dept, **kw)
        self.ev.requests.append(req)
        self.t = t
        return req

    def decide(self, hours: float, req: PlannedRequest, approve: bool, note: str = "") -> None:
        """``services.events.decide`` by the command centre."""
        t = self.at(hours)
        self.tick(t)
        ev = self.ev
        req.decision, req.decided_by, req.decided_at, req.note = (
            "approved" if approve else "refused",
            ("cmd", 0),
            t,
            note,
        )
        if not approve:
            self.t = t
            return
        move = Move(req.kind)
        from_dept = ev.dept if move == Move.RETURN else None
        before, recorded = self.take(t, move, ("cmd", 0), hours=req.hours, until=req.until)
        self._log(
            t,
            move.value,
            before,
            ev.step,
            ("cmd", 0),
            note=req.reason + (f" / {note}" if note else ""),
            data={"request": len(ev.requests) - 1} | recorded,  # the writer puts the request's pk here
            request=len(ev.requests) - 1,
            from_dept=from_dept,
        )


# --- the story of one event ------------------------------------------------------------------------


def _delay(r: random.Random, limit: float, late: float, lo: float = 0.05, hi: float = 0.85) -> float:
    """Hours a step takes: within ``limit`` mostly, late with probability ``late``."""
    if r.random() < late:
        return limit * r.uniform(1.1, 2.2)
    return limit * r.triangular(lo, hi, lo + (hi - lo) * 0.3)


def _story(sim: _Sim, r: random.Random, stall: Step | None, two_routes: bool, show: str | None = None) -> None:
    """Move the event through the loop until it ends or the next move would be after now.

    ``show`` (one of ``SHOWCASE``'s kinds) takes that side road for sure and no other; the random
    draws are the same either way, so a showcase does not shift the other stories."""
    ev, full = sim.ev, sim.full
    cmd: Actor = ("cmd", r.randrange(2))
    field_: Actor = ("gw", r.randrange(3))

    def wait(step: Step, hours: float) -> float:
        return NEVER.total_seconds() / 3600 if stall == step else hours

    def chance(p: float, kind: str) -> bool:
        hit = r.random() < p
        return hit if show is None else show == kind

    command = ev.channel in ("hotline", "task")
    sim.create(command)
    if not command:
        if ev.duplicate_of is not None:
            sim.act(r.uniform(0.1, 1.0), Move.VOID, cmd, VOID_DUPLICATE, duplicate_of=ev.duplicate_of)
            return
        if stall is None and chance(0.01, "void"):  # a stuck case is not voided
            sim.act(r.uniform(0.2, 1.5), Move.VOID, cmd, r.choice(VOID_NOT_A_PROBLEM))
            return
        sim.act(wait(Step.COLLECTED, _delay(r, full["register"], 0.04)), Move.REGISTER, cmd)
    sim.act(wait(Step.REGISTERED, _delay(r, full["dispatch"], 0.04)), Move.DISPATCH, cmd, dept=0)
    dept_staff: Actor = ("dept", r.randrange(2))
    plain = stall is not None  # a stuck case: no side roads, so that it ends where it is meant to
    if two_routes and not plain and chance(0.04, "return"):  # the wrong department: asks to return, re-dispatched
        req = sim.ask(r.uniform(0.2, 1.5), "return", r.choice(RETURN_REASONS))
        sim.decide(r.uniform(0.2, 2.0), req, True)
        sim.act(r.uniform(0.1, 0.8), Move.DISPATCH, cmd, dept=1)
    sim.act(wait(Step.DISPATCHED, _delay(r, full["accept"], 0.06)), Move.ACCEPT, dept_staff)

    handle = _delay(r, full["handle"], 0.12, 0.05, 0.9)
    roll = 1.0 if plain else r.random()
    if show is not None:
        roll = {"extend": 0.0, "refused": 0.0, "defer": 0.045, "backlog": 0.055, "unbacklog": 0.055}.get(show, 1.0)
    if roll < 0.04:  # an extension
        hours = r.choice((24, 48, 72, 120, 168))
        req = sim.ask(handle * r.uniform(0.3, 0.7), "extend", r.choice(EXTEND_REASONS), hours=hours)
        approve = chance(0.85, "extend")
        sim.decide(r.uniform(0.5, 4), req, approve, "" if approve else r.choice(REFUSE_NOTES))
        handle = _delay(r, hours if approve else full["handle"] * 0.3, 0.1)
    elif roll < 0.05:  # deferred to a date, then handled
        days = r.randint(10, 45)
        until = (sim.t + timedelta(days=days, hours=r.uniform(2, 12))).replace(microsecond=0)
        req = sim.ask(r.uniform(1, 12), "defer", r.choice(DEFER_REASONS), until=until)
        sim.decide(r.uniform(0.5, 6), req, True)
        handle = days * 24 + r.uniform(6, 72)
    elif roll < 0.062:  # on the backlog; some taken off it later
        req = sim.ask(r.uniform(6, 48), "backlog", r.choice(BACKLOG_REASONS))
        sim.decide(r.uniform(1, 12), req, True)
        if chance(0.5, "backlog"):
            raise _Stop
        sim.act(r.uniform(30, 120) * 24, Move.UNBACKLOG, cmd, "专项整治启动,恢复办理。")
        handle = r.uniform(24, 240)
    if not plain and chance(0.02, "whistle"):  # a grid worker blows the whistle on a slow case
        sim.act(handle * r.uniform(0.5, 0.9), Move.WHISTLE, field_, "居民多次反映,请尽快处置。")
        handle *= 0.3
    sim.act(wait(Step.HANDLING, handle), Move.REPORT, dept_staff, r.choice(REPORT_NOTES))
    if not plain and chance(0.06, "verify_fail"):  # the check fails once: rework
        sim.act(_delay(r, full["verify"], 0.05), Move.VERIFY_FAIL, field_, r.choice(FAIL_NOTES))
        sim.act(_delay(r, full["handle"] * 0.5, 0.1), Move.REPORT, dept_staff, r.choice(REPORT_NOTES))
    sim.act(wait(Step.REPORTED, _delay(r, full["verify"], 0.05)), Move.VERIFY_PASS, field_, "现场核查,处置到位。")
    if chance(0.78, "evaluate") or show:
        by = ev.reporter if ev.channel == "resident" and r.random() < 0.6 else cmd
        score = r.choices((5, 4, 3, 2, 1), (60, 27, 8, 3, 2))[0]
        sim.act(r.uniform(1, 60), Move.EVALUATE, by, score=score)


def run_story(
    ev: PlannedEvent, spec: CategorySpec, now: datetime, seed: int, stall: Step | None = None, show: str | None = None
) -> None:
    """Fill ``ev``'s history and state up to ``now`` (deterministic for a seed)."""
    sim = _Sim(ev, spec, now)
    r = random.Random(seed)
    with contextlib.suppress(_Stop):
        _story(sim, r, stall, two_routes=bool(spec.owner), show=show)
    sim.tick(now)


# --- where and what --------------------------------------------------------------------------------


class _Near:
    """Nearest building to a point (``core.geo.metres``, as ``services.events.locate``)."""

    CELL = 0.003  # degrees, ≈ 300 m

    def __init__(self, sites: list[Site]) -> None:
        self.cells: dict[tuple[int, int], list[Site]] = {}
        for s in sites:
            self.cells.setdefault(self._cell(s.lat, s.lon), []).append(s)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return (math.floor(lat / self.CELL), math.floor(lon / self.CELL))

    def nearest(self, lat: float, lon: float) -> Site:
        ci, cj = self._cell(lat, lon)
        best: tuple[float, int, Site] | None = None
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for s in self.cells.get((ci + di, cj + dj), ()):
                    d = metres(lat, lon, s.lat, s.lon)
                    if best is None or (d, s.building) < best[:2]:
                        best = (d, s.building, s)
        assert best is not None
        return best[2]


def _jitter(r: random.Random, site: Site) -> tuple[float, float]:
    d, a = JITTER_M * math.sqrt(r.random()), r.uniform(0, 2 * math.pi)
    lat = site.lat + d * math.cos(a) / M_PER_DEG_LAT
    lon = site.lon + d * math.sin(a) / (M_PER_DEG_LAT * math.cos(math.radians(site.lat)))
    return round(lat, 6), round(lon, 6)


def _attributes(r: random.Random, code: str) -> dict[str, Any]:
    if code == "C0101":
        return {"danger_now": r.choices(("no", "yes"), (8, 2))[0], "cover": r.choice(("missing", "broken", "loose"))}
    if code == "C0104":
        return {"danger_now": r.choices(("no", "yes"), (7, 3))[0]}
    return {}


def _created_times(r: random.Random, now: datetime, n: int) -> list[datetime]:
    """``n`` report times over the last DAYS days: more in busy months, a slow rise in use of the
    system, mostly in the daytime."""
    start = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    weights = []
    for d in range(DAYS + 1):
        day = start + timedelta(days=d)
        weights.append(MONTH_FACTOR[day.month - 1] * (0.8 + 0.4 * d / DAYS) * (0.8 if day.weekday() >= 5 else 1.0))
    days = r.choices(range(DAYS + 1), weights, k=n)
    out = []
    for d in days:
        hour = r.choices(range(24), (0, 0, 0, 0, 0, 0, 1, 3, 6, 8, 8, 7, 4, 4, 6, 7, 7, 6, 5, 4, 3, 2, 1, 0))[0]
        t = start + timedelta(days=d, hours=hour, minutes=r.randrange(60), seconds=r.randrange(60))
        if t < now:
            out.append(t)
    out.sort()
    return out


# Open, overdue cases kept for the command centre: (step it is stuck in, escalation level).
STUCK: tuple[tuple[Step, int], ...] = (
    (Step.COLLECTED, 1),
    (Step.REGISTERED, 1),
    (Step.DISPATCHED, 1),
    (Step.DISPATCHED, 2),
    (Step.HANDLING, 1),
    (Step.HANDLING, 2),
    (Step.HANDLING, 2),
    (Step.REPORTED, 1),
    (Step.REPORTED, 2),
)


# One case of every side road, whatever the seed, the number of events and the day: (the move or
# request outcome it shows, its category — a component with an owner where it is returned —, channel).
SHOWCASE: tuple[tuple[str, str, str], ...] = (
    ("return", "C0101", "hotline"),
    ("extend", "C0102", "hotline"),
    ("refused", "E0207", "task"),
    ("defer", "C0109", "hotline"),
    ("backlog", "E0206", "hotline"),
    ("unbacklog", "E0203", "hotline"),
    ("whistle", "E0205", "resident"),
    ("verify_fail", "E0201", "grid"),
    ("void", "E0216", "grid"),
    ("evaluate", "E0202", "grid"),
)


def _shows(ev: PlannedEvent, kind: str) -> bool:
    """The showcase ``kind`` has happened in ``ev``'s history."""
    if kind == "refused":
        return any(rq.decision == "refused" for rq in ev.requests)
    if kind == "backlog":
        return ev.backlog
    return any(lg.move == kind for lg in ev.log)


def plan(sites: list[Site], now: datetime, seed: int = 2024, events: int = EVENTS_PER_YEAR) -> list[PlannedEvent]:
    """A year of events on ``sites`` up to ``now`` (aware), ``events`` reports in all, oldest
    first; ``PlannedEvent.index`` is the position in the list.

    Besides the random mix, which may or may not hold a rare side road on a given day, the year
    always holds the overdue cases of ``STUCK`` and one case of each ``SHOWCASE`` kind (reported
    as recently as its story allows), so that every kind of move is there to see on any day."""
    if not sites:
        return []
    r = random.Random(seed)
    people = People(r)
    specs = {c.code: c for c in CATEGORIES}
    codes = [c.code for c in CATEGORIES]
    cat_weights = [WEIGHTS.get(c, 1.0) for c in codes]
    near = _Near(sites)
    site_weights = [max(1, s.households) for s in sites]
    channels, ch_weights = zip(*CHANNELS, strict=True)

    def new_event(
        t: datetime, code: str | None = None, site: Site | None = None, channel: str | None = None
    ) -> PlannedEvent:
        code = code or r.choices(codes, cat_weights)[0]
        base = site or r.choices(sites, site_weights)[0]
        lat, lon = _jitter(r, base)
        where = near.nearest(lat, lon)
        ch = channel or r.choices(channels, ch_weights)[0]
        ev = PlannedEvent(
            index=-1,
            site=where,
            lat=lat,
            lon=lon,
            category=code,
            channel=ch,
            created=t,
            reporter=(
                ("gw", r.randrange(3)) if ch == "grid" else ("res", r.randrange(2)) if ch == "resident" else ("cmd", 0)
            ),
            token=uuid.UUID(int=r.getrandbits(128), version=4),
            description=r.choice(DESCRIPTIONS[code]),
            attributes=_attributes(r, code),
        )
        if ch == "grid":
            ev.client_key = uuid.UUID(int=r.getrandbits(128), version=4).hex
            if r.random() < 0.3:
                ev.reporter_name, ev.reporter_phone = people.name(r.random() < 0.5), people.phone()
        elif ch in ("resident", "hotline"):
            ev.reporter_name = people.name(r.random() < 0.5)
            if r.random() < (0.9 if ch == "hotline" else 0.7):
                ev.reporter_phone = people.phone()
        elif ch == "task":
            ev.reporter_name = r.choice(TASK_NAMES)
        return ev

    out: list[PlannedEvent] = []
    for t in _created_times(r, now, events):
        recent = [e for e in out[-12:] if e.channel in ("grid", "resident") and t - e.created < timedelta(hours=36)]
        if recent and r.random() < 0.03:  # someone reports the same thing again: a duplicate
            orig = r.choice(recent)
            ev = new_event(t, orig.category, orig.site, r.choice(("grid", "resident")))
            ev.duplicate_of = orig.index
        else:
            ev = new_event(t)
        ev.index = len(out)
        out.append(ev)
        run_story(ev, specs[ev.category], now, seed * 1_000_003 + ev.index)

    # a few cases stuck now in each step, overdue, escalated to the street or the district
    for k, (step, level) in enumerate(STUCK):
        code = ("E0201", "E0202", "C0102", "C0110", "E0206", "E0207", "C0109", "E0205", "C0101")[k % 9]
        spec = specs[code]
        site = r.choices(sites, site_weights)[0]
        hours = 1.0
        while hours < 24 * 60:
            ev = new_event(now - timedelta(hours=hours), code, site, "grid" if step == Step.COLLECTED else "hotline")
            run_story(ev, spec, now, seed * 7919 + k, stall=step)
            if ev.step == step.value and ev.escalation == level:
                break
            hours *= 1.2
        else:  # pragma: no cover - the search always finds a time
            continue
        ev.index = len(out)
        out.append(ev)

    # one case of every side road, reported as recently as its story allows to have happened by now
    for k, (kind, code, channel) in enumerate(SHOWCASE):
        site = r.choices(sites, site_weights)[0]
        hours = 48.0
        while hours < 24 * (DAYS - 5):
            ev = new_event(now - timedelta(hours=hours), code, site, channel)
            run_story(ev, specs[code], now, seed * 6113 + k, show=kind)
            if _shows(ev, kind):
                break
            hours *= 1.25
        else:  # pragma: no cover - every story ends well within the year
            continue
        ev.index = len(out)
        out.append(ev)
    # and a report of something already reported: voided as a duplicate of the first
    site = r.choices(sites, site_weights)[0]
    first = new_event(now - timedelta(days=9, hours=3), "E0201", site, "grid")
    first.index = len(out)
    out.append(first)
    run_story(first, specs["E0201"], now, seed * 6113 + len(SHOWCASE), show="evaluate")
    again = new_event(first.created + timedelta(hours=2), "E0201", site, "resident")
    again.duplicate_of, again.index = first.index, len(out)
    out.append(again)
    run_story(again, specs["E0201"], now, seed * 6113 + len(SHOWCASE) + 1)
    out.sort(key=lambda e: (e.created, e.index))
    renumber = {e.index: i for i, e in enumerate(out)}
    for i, e in enumerate(out):
        e.index = i
        if e.duplicate_of is not None:
            e.duplicate_of = renumber[e.duplicate_of]
            for lg in e.log:
                if "duplicate_of" in lg.data:
                    lg.data["duplicate_of"] = e.duplicate_of
    return out


def summary(plans: list[PlannedEvent]) -> dict[str, int]:
    """Counts for the command's report."""
    open_ = [p for p in plans if Step(p.step) in loop.OPEN_STEPS]
    return {
        "events": len(plans),
        "open": len(open_),
        "escalated": sum(1 for p in open_ if p.escalation),
        "closed": sum(1 for p in plans if p.step in (Step.CLOSED, Step.EVALUATED)),
        "voided": sum(1 for p in plans if p.step == Step.VOIDED),
        "log": sum(len(p.log) for p in plans),
        "requests": sum(len(p.requests) for p in plans),
    }
