"""Sensors and lifts for the demo street, and a day of their readings (pure Python, imports no Django).

``plan(sites, now, seed)`` decides which devices the demo street 谢家湾 has and where:

* **lifts** (lift IoT controllers with their register number 使用登记证, maintenance company,
  insurer, and the "finance + insurance + service + IoT" operator and contract of seed 000) in
  every unit of 劳动三村社区 that has a lift — the towers, the walk-ups that voted for one and had
  it added (``has_lift``), and every unit whose lift ballot passed (a closed ``lift`` ballot,
  approved) — and in the towers of the rest of the street;
* **smoke detectors** (独立式烟感) in every stairwell (unit) of the street's buildings built before
  2000 — the fire-safety item of the renovation — and in the towers' lobbies;
* **pipe sensors** (water supply pressure and flow): one per compound, and one more per eight
  buildings of a large compound;
* **fire-lane cameras** that send alarms only (no images: rules.md §6), at the compounds of
  劳动三村社区 and a few of the street's largest.

``readings(plan, start, end)`` then gives their history window by window (hours) in ThingsBoard's gateway shape
(``{device code: [{"ts": ms, "values": {…}}]}``), which ``load_demo_sensing`` feeds through the
product's own intake pipeline, so rules and alarms happen as they would: lifts send a snapshot every
ten minutes, smoke detectors a heartbeat every three hours, pipe sensors every quarter hour and
cameras every ten minutes (the history is thinner than live reporting — the simulator sends a lift's
state every minute — to keep ``make run``'s load short). Three stories are told in them
(``Story``): passengers trapped yesterday evening in a 劳动三村 lift (fault code 困人, freed after
~20 minutes; the command centre acknowledged it), a smoke detector whose battery is running low,
and a pipe whose pressure has been too high for the last three hours.

Everything follows from one ``random.Random(seed)`` and ``now``: the same seed and ``now`` give the
same devices and the same readings.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

HOUR = timedelta(hours=1)
LIFT_EVERY = timedelta(minutes=10)
SMOKE_EVERY = timedelta(hours=3)
PIPE_EVERY = timedelta(minutes=15)
CAMERA_EVERY = timedelta(minutes=10)
TRAPPED_CODE = 1  # faults.FAULTS[1]: 困人 (load_demo_sensing checks it against faults.py)
MAINTENANCE_DAYS = 15  # TSG T5002: half-monthly maintenance

MAINTAINERS = (
    ("重庆渝通电梯维保有限公司", "023-6878 1001"),
    ("重庆山城梯业工程有限公司", "023-6878 2002"),
    ("九龙坡安达电梯服务有限公司", "023-6878 3003"),
)
INSURERS = ("渝安财产保险股份有限公司(演示)", "长嘉财产保险股份有限公司(演示)")
OPERATOR = "九龙坡加梯运营服务有限公司(演示)"
CONTRACT_TERMS = (
    "“金融+保险+服务+物联网”模式:运营方出资加装并持有电梯,业主按楼层按月付费使用;"
    "运营方负责维保(每15日一次)、年检、物联网监测和电梯安全责任保险,困人30分钟内到场。"
)


@dataclass(frozen=True, slots=True)
class UnitSite:
    id: int
    number: str


@dataclass(frozen=True, slots=True)
class BuildingSite:
    id: int
    name: str
    path: str  # the building's materialised path (codes), for stable device codes
    community_id: int
    compound_id: int
    storeys: int
    build_year: int
    tower: bool
    has_lift: bool
    units: tuple[UnitSite, ...]


@dataclass(frozen=True, slots=True)
class CompoundSite:
    id: int
    name: str
    path: str
    community_id: int
    buildings: int


@dataclass(frozen=True, slots=True)
class Sites:
    """The demo street as the generator needs it (read from the database by the loader)."""

    story_community_id: int  # 劳动三村社区
    buildings: tuple[BuildingSite, ...]
    compounds: tuple[CompoundSite, ...]
    voted_lift_units: frozenset[int] = frozenset()  # units whose lift ballot passed


@dataclass(slots=True)
class LiftInfo:
    register_no: str
    maintenance_company: str
    maintenance_phone: str
    insurer: str
    policy_no: str
    operator: str
    contract_no: str
    contract_terms: str
    commissioned_on: date
    last_maintained_on: date


@dataclass(slots=True)
class DeviceSpec:
    code: str
    profile: str  # lift, smoke, pipe, camera
    name: str
    unit_id: int | None = None
    building_id: int | None = None
    compound_id: int | None = None
    installed_on: date | None = None
    lift: LiftInfo | None = None
    storeys: int = 0  # lifts: floors served


@dataclass(slots=True)
class Story:
    """The alarms the day tells (device codes and times; ``None`` when the street has no such device)."""

    trapped_lift: str | None = None
    trapped_at: datetime | None = None
    freed_at: datetime | None = None
    acknowledged_at: datetime | None = None
    low_battery: str | None = None
    high_pressure: str | None = None
    high_pressure_from: datetime | None = None


@dataclass(slots=True)
class Plan:
    devices: list[DeviceSpec]
    story: Story
    seed: int
    now: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        per = {"lift": 5, "smoke": 2, "pipe": 2, "camera": 1}
        return sum(per[d.profile] for d in self.devices)


def _digits(path: str) -> str:
    return "".join(c for c in path if c.isdigit())


def plan(sites: Sites, now: datetime, seed: int = 2024) -> Plan:
    """The demo street's devices and the day's story (module docstring)."""
    r = random.Random(seed)
    today = now.date()
    devices: list[DeviceSpec] = []
    ordered = sorted(sites.buildings, key=lambda b: b.path)
    lift_units = [
        (b, u)
        for b in ordered
        for u in b.units
        if u.id in sites.voted_lift_units or (b.has_lift and (b.community_id == sites.story_community_id or b.tower))
    ]
    if not lift_units:
        # a tiny demo (load_demo --scale 0.02) may have no lift anywhere: the first unit of the story
        # community's tallest building then has one, so that the lift pages have something to show
        candidates = [b for b in ordered if b.community_id == sites.story_community_id and b.units]
        if candidates:
            tallest = max(candidates, key=lambda b: (b.storeys, b.path))
            lift_units = [(tallest, tallest.units[0])]
    for n_lift, (b, u) in enumerate(lift_units, start=1):
        maintainer, phone = MAINTAINERS[r.randrange(len(MAINTAINERS))]
        year = max(b.build_year, 2016) if not b.tower else max(b.build_year, 1995)
        commissioned = date(min(year + r.randint(0, 3), today.year - 1), r.randint(1, 12), r.randint(1, 28))
        # half of them maintained in the last week, most within 15 days, a few overdue
        since = r.choice((1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 17, 21))
        devices.append(
            DeviceSpec(
                code=f"DT-{_digits(b.path)}-{u.number}",
                profile="lift",
                name=f"{b.name}{u.number}单元电梯",
                unit_id=u.id,
                installed_on=commissioned,
                storeys=b.storeys,
                lift=LiftInfo(
                    register_no=f"梯11渝B{10000 + n_lift:05d}({commissioned.year % 100:02d})",
                    maintenance_company=maintainer,
                    maintenance_phone=phone,
                    insurer=INSURERS[n_lift % len(INSURERS)],
                    policy_no=f"PDT{commissioned.year}{500107000 + n_lift:09d}",
                    operator=OPERATOR if not b.tower else "",
                    contract_no=f"JLP-JT-{commissioned.year}-{n_lift:04d}" if not b.tower else "",
                    contract_terms=CONTRACT_TERMS if not b.tower else "",
                    commissioned_on=commissioned,
                    last_maintained_on=today - timedelta(days=since),
                ),
            )
        )
    for b in sorted(sites.buildings, key=lambda b: b.path):
        if b.build_year >= 2000 and not b.tower:
            continue
        for u in b.units if not b.tower else b.units[:1]:
            devices.append(
                DeviceSpec(
                    code=f"YG-{_digits(b.path)}-{u.number}",
                    profile="smoke",
                    name=f"{b.name}{u.number}单元楼道烟感" if not b.tower else f"{b.name}大堂烟感",
                    building_id=b.id,
                    installed_on=today - timedelta(days=r.randint(60, 700)),
                )
            )
    compounds = sorted(sites.compounds, key=lambda c: c.path)
    for c in compounds:
        for k in range(1 + c.buildings // 8):
            devices.append(
                DeviceSpec(
                    code=f"GW-{_digits(c.path)}-{k + 1}",
                    profile="pipe",
                    name=f"{c.name}供水管网监测点{k + 1}",
                    compound_id=c.id,
                    installed_on=today - timedelta(days=r.randint(100, 900)),
                )
            )
    largest = sorted(compounds, key=lambda c: (-c.buildings, c.path))[:4]
    for c in [c for c in compounds if c.community_id == sites.story_community_id] + largest:
        code = f"SX-{_digits(c.path)}"
        if any(d.code == code for d in devices):
            continue
        devices.append(
            DeviceSpec(
                code=code,
                profile="camera",
                name=f"{c.name}消防通道摄像头",
                compound_id=c.id,
                installed_on=today - timedelta(days=r.randint(30, 400)),
            )
        )
    story = _story(devices, sites, now, r)
    counts: dict[str, int] = {}
    for d in devices:
        counts[d.profile] = counts.get(d.profile, 0) + 1
    return Plan(devices=devices, story=story, seed=seed, now=now, counts=counts)


def _story(devices: list[DeviceSpec], sites: Sites, now: datetime, r: random.Random) -> Story:
    story = Story()
    lifts = [d for d in devices if d.profile == "lift"]
    if lifts:
        story.trapped_lift = lifts[0].code
        # yesterday at about 18:20 (the evening rush), but never more than 23 hours ago
        local_evening = (now - timedelta(days=1)).replace(hour=18, minute=20, second=0, microsecond=0)
        story.trapped_at = max(local_evening, _align(now - timedelta(hours=23), LIFT_EVERY))
        story.acknowledged_at = story.trapped_at + timedelta(minutes=3)
        story.freed_at = story.trapped_at + timedelta(minutes=20 + r.randint(0, 4))
    smokes = [d for d in devices if d.profile == "smoke"]
    if smokes:
        story.low_battery = smokes[len(smokes) // 3].code
    pipes = [d for d in devices if d.profile == "pipe"]
    if pipes:
        story.high_pressure = pipes[len(pipes) // 2].code
        story.high_pressure_from = _align(now - timedelta(hours=3), PIPE_EVERY)
    return story


def _align(t: datetime, step: timedelta) -> datetime:
    """``t`` rounded down to a multiple of ``step`` (from midnight)."""
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + step * ((t - midnight) // step)


def history_start(p: Plan) -> datetime:
    """Where the day of history begins: the hour 24 hours before now (the trapped story is later)."""
    return _align(p.now - timedelta(hours=24), HOUR)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _times(start: datetime, end: datetime, every: timedelta, offset: timedelta) -> Iterator[datetime]:
    t = _align(start, every) + offset
    while t < start:
        t += every
    while t < end:
        yield t
        t += every


def _offset(code: str, every: timedelta) -> timedelta:
    """A device's own second within its period (devices do not all report at once)."""
    h = 0
    for c in code:
        h = (h * 31 + ord(c)) % 1_000_003
    return timedelta(seconds=h % int(every.total_seconds()))


def _lift_values(d: DeviceSpec, t: datetime, p: Plan) -> dict[str, float]:
    s = p.story
    if d.code == s.trapped_lift and s.trapped_at and s.freed_at and s.trapped_at <= t < s.freed_at:
        return {"running": 0, "door_open": 0, "fault": TRAPPED_CODE, "floor": 4, "speed": 0}
    hour = t.hour + t.minute / 60
    busy = 0.15 + 0.5 * math.exp(-(((hour - 8) / 1.5) ** 2)) + 0.5 * math.exp(-(((hour - 18.5) / 2) ** 2))
    h = (_ms(t) // 1000 + len(d.code) * 7919 + sum(map(ord, d.code))) % 997 / 997
    running = 1 if h < busy else 0
    floor = 1 + int(h * 9973) % max(1, d.storeys)
    return {
        "running": running,
        "door_open": 0 if running else (1 if h > 0.8 else 0),
        "fault": 0,
        "floor": floor,
        "speed": 1.0 if running else 0,
    }


def _smoke_values(d: DeviceSpec, t: datetime, p: Plan, start: datetime) -> dict[str, float]:
    base = 55 + sum(map(ord, d.code)) % 40
    battery = base - (t - start).total_seconds() / 86400 * 0.2
    if d.code == p.story.low_battery:
        # running down through the day: below 20 % in the afternoon before now
        battery = max(8.0, 31 - (t - start).total_seconds() / 3600 * 0.6)
    return {"smoke": 0, "battery": round(battery, 1)}


def _pipe_values(d: DeviceSpec, t: datetime, p: Plan) -> dict[str, float]:
    hour = t.hour + t.minute / 60
    demand = 0.4 + 0.6 * math.exp(-(((hour - 7.5) / 1.5) ** 2)) + 0.7 * math.exp(-(((hour - 19) / 2) ** 2))
    wobble = ((_ms(t) // 1000 + sum(map(ord, d.code))) % 101) / 101 - 0.5
    pressure = 0.38 - 0.08 * demand + 0.01 * wobble
    flow = 12 + 30 * demand + 2 * wobble
    s = p.story
    if d.code == s.high_pressure and s.high_pressure_from and t >= s.high_pressure_from:
        pressure = 0.86 + 0.01 * wobble  # a pressure-reducing valve stuck open
    return {"pressure": round(pressure, 3), "flow": round(flow, 1)}


def windows(p: Plan, start: datetime, end: datetime) -> list[datetime]:
    """The ends of the windows the history is fed in: every hour, and the story's moments (a second
    after the lift stops with people inside, when the command centre acknowledges, a second after
    they are freed), so each window is ingested with the clock at its end — as it would have been."""
    cuts = {end}
    t = _align(start, HOUR) + HOUR
    while t < end:
        cuts.add(t)
        t += HOUR
    s = p.story
    second = timedelta(seconds=1)
    for moment in (
        s.trapped_at and s.trapped_at + second,
        s.acknowledged_at,
        s.freed_at and s.freed_at + second,
    ):
        if moment is not None and start < moment < end:
            cuts.add(moment)
    return sorted(cuts)


def readings(p: Plan, start: datetime, end: datetime) -> Iterator[tuple[datetime, dict[str, list[dict[str, object]]]]]:
    """The history from ``start`` to ``end`` in gateway-shaped batches, one per window (``windows``):
    ``(end of the window, {device code: [{"ts": ms, "values": {…}}, …]})``, in time order."""
    a = start
    for b in windows(p, start, end):
        batch: dict[str, list[dict[str, object]]] = {}
        for d in p.devices:
            every = {"lift": LIFT_EVERY, "smoke": SMOKE_EVERY, "pipe": PIPE_EVERY, "camera": CAMERA_EVERY}[d.profile]
            off = timedelta(0) if d.code == p.story.trapped_lift else _offset(d.code, every)
            entries: list[dict[str, object]] = []
            for t in _times(a, b, every, off):
                if d.profile == "lift":
                    values = _lift_values(d, t, p)
                elif d.profile == "smoke":
                    values = _smoke_values(d, t, p, start)
                elif d.profile == "pipe":
                    values = _pipe_values(d, t, p)
                else:
                    values = {"lane_blocked": 0}
                entries.append({"ts": _ms(t), "values": values})
            freed = p.story.freed_at
            if d.code == p.story.trapped_lift and freed is not None and a <= freed < b:
                entries.append(
                    {"ts": _ms(freed), "values": {"running": 0, "door_open": 1, "fault": 0, "floor": 4, "speed": 0}}
                )
                entries.sort(key=lambda e: e["ts"])  # type: ignore[arg-type,return-value]
            if entries:
                batch[d.code] = entries
        yield b, batch
        a = b


def live_values(d_profile: str, code: str, storeys: int, t: datetime, r: random.Random) -> dict[str, float]:
    """One live reading for the simulator (the same shapes as the history, with some noise)."""
    spec = DeviceSpec(code=code, profile=d_profile, name="", storeys=storeys)
    empty = Plan(devices=[], story=Story(), seed=0, now=t)
    if d_profile == "lift":
        running = 1 if r.random() < 0.4 else 0
        return {
            "running": running,
            "door_open": 0 if running else int(r.random() < 0.3),
            "fault": 0,
            "floor": r.randint(1, max(1, storeys)),
            "speed": round(r.uniform(0.9, 1.05), 2) if running else 0,
        }
    if d_profile == "smoke":
        return {"smoke": 0, "battery": round(r.uniform(50, 95), 1)}
    if d_profile == "pipe":
        return _pipe_values(spec, t, empty)
    return {"lane_blocked": 0}
