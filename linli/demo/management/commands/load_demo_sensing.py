"""``manage.py load_demo_sensing [--seed N] [--as-of YYYY-MM-DD] [--hours N] [--if-empty]``: sensors and
lifts for the demo street 谢家湾 with a day of readings (issue 13 §7). Needs ``load_demo`` first. See
docs/demo.md "Sensors and lifts".

1. Which devices, where, and the day's stories: ``linli.demo.sensing.plan`` (pure, seeded) — lifts in
   劳动三村社区's units with a lift (and every unit whose lift ballot passed) and in the street's
   towers, each with its register number, maintenance company, insurer and contract; smoke
   detectors in the stairwells of the older buildings; pipe sensors per compound; a few cameras.
2. A gateway of the district (``services.devices.issue_gateway``; its token is printed once, and
   kept in ``LINLI_VAR_DIR/demo_gateway_token`` for ``simulate_sensors``), the devices in bulk
   (``services.devices.bulk_create_devices``).
3. The day of readings through the product's own pipeline (``services.intake.ingest``), window by
   window with the clock at each window's end, so the rules raise and clear alarms and a critical
   one opens a grid event exactly as live readings would; the command centre acknowledges the
   trapped passengers three minutes in (``services.alarms.acknowledge``).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from tqdm import tqdm

from linli.accounts.models import User
from linli.consult.models import Ballot
from linli.core import clock
from linli.demo import sensing as demo_sensing
from linli.governance.services import events as governance_events
from linli.places import models as m
from linli.sensing import faults
from linli.sensing.models import Alarm, Device, DeviceProfile, Reading
from linli.sensing.services import alarms as sensing_alarms
from linli.sensing.services import devices as sensing_devices
from linli.sensing.services import intake
from linli.sensing.services import storage as sensing_storage

STREET = "谢家湾街道"
STORY_COMMUNITY = "劳动三村社区"
CHUNK = 5000  # readings per ingest call (under LINLI_SENSING_MAX_BATCH)
TOKEN_FILE = "demo_gateway_token"  # noqa: S105 — a file name, not a secret


def sites(street: m.Street) -> demo_sensing.Sites:
    story = m.Community.objects.filter(street=street, name=STORY_COMMUNITY).first()
    units: dict[int, list[demo_sensing.UnitSite]] = {}
    for unit_id, building_id, number in (
        m.Unit.objects.filter(building__community__street=street)
        .order_by("building_id", "number", "id")
        .values_list("id", "building_id", "number")
    ):
        units.setdefault(building_id, []).append(demo_sensing.UnitSite(unit_id, number))
    buildings = tuple(
        demo_sensing.BuildingSite(
            id=b.pk,
            name=b.name,
            path=b.path,
            community_id=b.community_id,
            compound_id=b.compound_id,
            storeys=b.storeys or 6,
            build_year=b.compound.build_year or 1990,
            tower=b.building_kind == m.Building.Kind.TOWER,
            has_lift=b.has_lift,
            units=tuple(units.get(b.pk, ())),
        )
        for b in m.Building.objects.filter(community__street=street).select_related("compound").order_by("path")
    )
    per_compound: dict[int, int] = {}
    for b in buildings:
        per_compound[b.compound_id] = per_compound.get(b.compound_id, 0) + 1
    compounds = tuple(
        demo_sensing.CompoundSite(c.pk, c.name, c.path, c.community_id, per_compound.get(c.pk, 0))
        for c in m.Compound.objects.filter(community__street=street).order_by("path")
    )
    voted = frozenset(
        Ballot.objects.filter(
            matter=Ballot.Matter.LIFT,
            scope_kind=Ballot.ScopeKind.UNIT,
            status=Ballot.Status.CLOSED,
            result__approved=True,
        ).values_list("scope_id", flat=True)
    )
    return demo_sensing.Sites(
        story_community_id=story.pk if story else 0, buildings=buildings, compounds=compounds, voted_lift_units=voted
    )


def device_rows(plan: demo_sensing.Plan) -> list[dict[str, Any]]:
    sensing_devices.load_default_profiles()  # a flushed database (tests) has lost migration 0002's rows
    profiles = {p.code: p for p in DeviceProfile.objects.prefetch_related("channels")}
    missing = {d.profile for d in plan.devices} - set(profiles)
    if missing:
        raise CommandError(f"缺少设备类型 / missing device profiles: {sorted(missing)} (migrate sensing)")
    units = {u.pk: u for u in m.Unit.objects.filter(pk__in=[d.unit_id for d in plan.devices if d.unit_id])
             .select_related("building")}  # fmt: skip
    buildings = m.Building.objects.in_bulk([d.building_id for d in plan.devices if d.building_id])
    compounds = m.Compound.objects.in_bulk([d.compound_id for d in plan.devices if d.compound_id])
    rows = []
    for d in plan.devices:
        row: dict[str, Any] = {
            "code": d.code,
            "profile": profiles[d.profile],
            "name": d.name,
            "installed_on": d.installed_on,
            "unit": units.get(d.unit_id) if d.unit_id else None,
            "building": buildings.get(d.building_id) if d.building_id else None,
            "compound": compounds.get(d.compound_id) if d.compound_id else None,
        }
        if d.lift is not None:
            row["lift"] = {
                "register_no": d.lift.register_no,
                "maintenance_company": d.lift.maintenance_company,
                "maintenance_phone": d.lift.maintenance_phone,
                "insurer": d.lift.insurer,
                "policy_no": d.lift.policy_no,
                "operator": d.lift.operator,
                "contract_no": d.lift.contract_no,
                "contract_terms": d.lift.contract_terms,
                "commissioned_on": d.lift.commissioned_on,
                "last_maintained_on": d.lift.last_maintained_on,
            }
        rows.append(row)
    return rows


def chunks(batch: dict[str, list[dict[str, Any]]], size: int) -> list[dict[str, list[dict[str, Any]]]]:
    """A window's batch cut into gateway-shaped pieces of at most ``size`` readings (whole devices)."""
    out: list[dict[str, list[dict[str, Any]]]] = [{}]
    n = 0
    for code, entries in batch.items():
        k = sum(len(e["values"]) for e in entries)
        if n and n + k > size:
            out.append({})
            n = 0
        out[-1][code] = entries
        n += k
    return [piece for piece in out if piece]


def duty_officer(street: m.Street) -> User:
    """Who acknowledges the story's alarm: the street command centre's first desk (load_demo_events
    makes it), else the demo superuser."""
    desk = User.objects.filter(username=f"ev-cmd-{street.code}-1").first()
    if desk is not None:
        return desk
    return User.objects.filter(username="demo-root").first() or User.objects.create(
        username="demo-root",
        display_name="演示超级管理员",
        is_superuser=True,
        is_staff=True,
        password=make_password(None),
    )


def token_path() -> str:
    """Where the demo gateway's token is kept for ``simulate_sensors``: LINLI_VAR_DIR/demo_gateway_token."""
    return os.path.join(os.environ.get("LINLI_VAR_DIR") or str(settings.VAR_DIR), TOKEN_FILE)


def keep_token(token: str, path: str) -> str:
    """The demo gateway's token in ``path`` (mode 600), for ``simulate_sensors``; the path."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return path


class Command(BaseCommand):
    help = "载入演示街道的传感器、电梯和一天的读数 / Load sensors, lifts and a day of readings for the demo street."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="随机种子 / random seed (default 2024)")
        parser.add_argument("--hours", type=int, default=24, help="历史小时数 / hours of history (default 24)")
        parser.add_argument(
            "--token-file",
            default=None,
            help="令牌保存位置(- 不保存)/ where to keep the gateway token (default LINLI_VAR_DIR/…; - none)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="已有设备时什么也不做 / do nothing when devices exist"
        )
        parser.add_argument(
            "--as-of",
            type=clock.parse_day,
            default=None,
            metavar="YYYY-MM-DD",
            help="历史截止的日期(默认今天)/ the day the history runs up to (default: today, clock.today())",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        district = m.District.objects.order_by("path").first()
        street = m.Street.objects.filter(district=district, name=STREET).first() if district else None
        if district is None or street is None:
            raise CommandError(
                "还没有演示区:请先运行 `manage.py load_demo`。/ No demo district yet: run `manage.py load_demo` first."
            )
        if Device.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("已有传感设备,未载入演示设备。/ Devices exist; demo sensors not loaded.")
                return
            raise CommandError("已有传感设备 / Devices exist already: run `manage.py flush` and `load_demo` first.")
        if not 0 <= opts["hours"] <= 24 * 7:
            raise CommandError("--hours 须在 0 与 168 之间 / --hours must be in [0, 168]")
        trapped = [c for c, f in faults.FAULTS.items() if f.alarm_type == faults.TRAPPED]
        assert demo_sensing.TRAPPED_CODE in trapped, "linli/demo/sensing.py's TRAPPED_CODE no longer means 困人"
        show = opts["verbosity"] > 0
        t0 = time.perf_counter()
        with clock.as_of(opts["as_of"]), override_settings(DEBUG=False):
            now = timezone.localtime(clock.now()).replace(microsecond=0)
            plan = demo_sensing.plan(sites(street), now, seed=opts["seed"])
            with transaction.atomic():
                governance_events.ensure_catalogue(district)  # critical alarms open grid events
                gateway, token = sensing_devices.issue_gateway(None, f"{street.name}演示网关", district)
                sensing_devices.bulk_create_devices(device_rows(plan), gateway=gateway)
            start = now - timedelta(hours=opts["hours"])
            officer = duty_officer(street)
            totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "dropped": 0, "alarms": 0}
            windows = demo_sensing.windows(plan, start, now)
            bar = tqdm(total=len(windows), desc="读数 readings", unit="h", file=sys.stderr, disable=not show)
            for end, batch in demo_sensing.readings(plan, start, now):
                with clock.frozen(end):
                    for piece in chunks(batch, CHUNK):
                        report = intake.ingest(piece, via="http").as_json()
                        for key in totals:
                            totals[key] += int(report.get(key, 0))
                    if end == plan.story.acknowledged_at:
                        self._acknowledge(plan, officer)
                bar.update(1)
            bar.close()
            # the history's days get partitions of their own and its closed hours their roll-ups now,
            # not at the storage job's next hourly run (the device pages' 7- and 30-day charts read them)
            sensing_storage.ensure_partitions()
            sensing_storage.rollup()
        path = opts["token_file"] or token_path()
        if path != "-":
            keep_token(token, path)
        seconds = time.perf_counter() - t0
        open_alarms = Alarm.objects.filter(cleared=False).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"演示传感设备已载入 / demo sensors loaded (seed {opts['seed']}, {opts['hours']} h up to "
                f"{now:%Y-%m-%d %H:%M}) — {seconds:.1f} s"
            )
        )
        for label, n in (
            ("电梯 lifts", plan.counts.get("lift", 0)),
            ("烟感 smoke detectors", plan.counts.get("smoke", 0)),
            ("管网 pipe sensors", plan.counts.get("pipe", 0)),
            ("摄像头 cameras", plan.counts.get("camera", 0)),
            ("通道 channels", plan.channels),
            ("读数 readings", Reading.objects.count()),
            ("告警 alarms (open)", open_alarms),
        ):
            self.stdout.write(f"  {n:>9,}  {label}")
        if totals["rejected"] or totals["dropped"]:
            self.stdout.write(self.style.WARNING(f"  refused: {totals}"))
        kept = f"另存于 {path} / kept in {path}" if path != "-" else "未保存 / not kept"
        self.stdout.write(f"  演示网关令牌(仅显示一次,{kept})/ demo gateway token (shown once):\n  {token}")
        if plan.story.trapped_lift:
            self.stdout.write(f"  模拟 / simulate: manage.py simulate_sensors --trapped {plan.story.trapped_lift}")

    def _acknowledge(self, plan: demo_sensing.Plan, officer: User) -> None:
        alarm = Alarm.objects.filter(device__code=plan.story.trapped_lift, alarm_type="trapped").order_by("-pk").first()
        if alarm is None:
            raise CommandError("the trapped-passenger story raised no alarm: is the lift profile's fault rule active?")
        sensing_alarms.acknowledge(officer, alarm, "已通知维保单位,维保人员正赶往现场;已电话安抚被困乘客。")
