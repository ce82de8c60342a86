"""``load_demo_sensing`` and its pure generator ``linli.demo_sensing.sensing`` (issue 13 §7)."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from linli.core import clock
from linli.demo import sensing as demo_sensing
from linli.governance.models import Event
from linli.sensing.models import Alarm, AlarmLog, Channel, Device, Gateway, Lift, Reading
from linli.sensing.services.devices import token_hash

SMALL = 0.02
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _sites() -> demo_sensing.Sites:
    units = lambda base, n: tuple(demo_sensing.UnitSite(base + k, str(k + 1)) for k in range(n))  # noqa: E731
    buildings = (
        demo_sensing.BuildingSite(
            1, "劳动三村1栋", "500107/001/001/0001/01/", 10, 100, 7, 1958, False, False, units(10, 3)
        ),
        demo_sensing.BuildingSite(
            2, "劳动三村2栋", "500107/001/001/0001/02/", 10, 100, 7, 1960, False, True, units(20, 2)
        ),
        demo_sensing.BuildingSite(
            3, "华岩大厦", "500107/001/002/0001/01/", 11, 101, 28, 1999, True, True, units(30, 2)
        ),
        demo_sensing.BuildingSite(
            4, "新苑1栋", "500107/001/002/0002/01/", 11, 102, 6, 2008, False, False, units(40, 2)
        ),
    )
    compounds = (
        demo_sensing.CompoundSite(100, "劳动三村", "500107/001/001/0001/", 10, 2),
        demo_sensing.CompoundSite(101, "华岩大厦", "500107/001/002/0001/", 11, 1),
        demo_sensing.CompoundSite(102, "新苑", "500107/001/002/0002/", 11, 1),
    )
    return demo_sensing.Sites(
        story_community_id=10, buildings=buildings, compounds=compounds, voted_lift_units=frozenset({11})
    )


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)


def test_plan_is_seeded_and_puts_devices_where_the_issue_says() -> None:
    sites = _sites()
    p = demo_sensing.plan(sites, NOW, seed=7)
    assert p.devices == demo_sensing.plan(sites, NOW, seed=7).devices
    lifts = {d.unit_id for d in p.devices if d.profile == "lift"}
    # the walk-up of the story community that had one added (both units), the unit whose lift ballot
    # passed, the tower's units; not the newer walk-up, not the story's other units
    assert lifts == {20, 21, 11, 30, 31}
    assert all(d.lift and d.lift.register_no and d.lift.maintenance_company for d in p.devices if d.profile == "lift")
    assert len({d.lift.register_no for d in p.devices if d.lift}) == len(lifts)
    smoke = [d for d in p.devices if d.profile == "smoke"]
    assert {d.building_id for d in smoke} == {1, 2, 3}  # built before 2000, and the tower's lobby
    assert sum(1 for d in p.devices if d.profile == "pipe") == 3
    assert {d.compound_id for d in p.devices if d.profile == "camera"} >= {100}
    assert len({d.code for d in p.devices}) == len(p.devices)
    assert p.channels == 5 * len(lifts) + 2 * len(smoke) + 2 * 3 + p.counts["camera"]


def test_the_day_tells_its_three_stories() -> None:
    p = demo_sensing.plan(_sites(), NOW, seed=7)
    s = p.story
    assert s.trapped_lift and s.trapped_at and s.freed_at and s.acknowledged_at
    assert s.trapped_at.date() == NOW.date() - timedelta(days=1) and s.trapped_at.hour == 18
    assert s.trapped_at < s.acknowledged_at < s.freed_at < NOW
    start = demo_sensing.history_start(p)
    assert NOW - timedelta(hours=25) < start <= NOW - timedelta(hours=24)
    ends = demo_sensing.windows(p, start, NOW)
    assert ends == sorted(ends) and ends[-1] == NOW and s.acknowledged_at in ends
    faults: list[tuple[int, float]] = []
    battery: list[float] = []
    pressure: list[tuple[int, float]] = []
    last_end = start
    total = 0
    for end, batch in demo_sensing.readings(p, start, NOW):
        for code, entries in batch.items():
            for e in entries:
                ts = int(e["ts"])  # type: ignore[call-overload]
                assert last_end.timestamp() * 1000 <= ts < end.timestamp() * 1000  # in its window
                total += len(e["values"])  # type: ignore[arg-type]
                values = e["values"]
                assert isinstance(values, dict)
                if code == s.trapped_lift:
                    faults.append((ts, values["fault"]))
                if code == s.low_battery:
                    battery.append(values["battery"])
                if code == s.high_pressure:
                    pressure.append((ts, values["pressure"]))
        last_end = end
    trapped = [ts for ts, f in faults if f == demo_sensing.TRAPPED_CODE]
    assert min(trapped) == int(s.trapped_at.timestamp() * 1000)
    assert max(ts for ts, _ in faults) > int(s.freed_at.timestamp() * 1000) and faults[-1][1] == 0
    assert battery[0] > 30 > 20 > battery[-1]
    assert pressure[-1][1] > 0.8 and pressure[0][1] < 0.5
    assert total > 100


def test_live_values_fit_the_profiles() -> None:
    import random

    from linli.sensing.profiles import PROFILES

    r = random.Random(1)
    for profile in PROFILES:
        ranges = {c[0]: (c[5], c[6]) for c in profile["channels"]}
        values = demo_sensing.live_values(profile["code"], "X-1", 12, NOW, r)
        assert set(values) == set(ranges)
        for key, value in values.items():
            assert ranges[key][0] <= value <= ranges[key][1], (profile["code"], key, value)


# --- the loader -------------------------------------------------------------------------------------


@pytest.fixture
def district(db, monkeypatch, tmp_path):
    monkeypatch.setenv("LINLI_DEMO_PASSWORD", "a-demo-password-for-tests")
    monkeypatch.setenv("LINLI_VAR_DIR", str(tmp_path))
    call_command("load_demo", scale=SMALL, verbosity=0, stdout=StringIO())
    return tmp_path


def test_needs_the_district_first(db):
    with pytest.raises(CommandError, match="load_demo"):
        call_command("load_demo_sensing", verbosity=0, stdout=StringIO())


@pytest.mark.dates
def test_loads_devices_a_day_of_readings_and_the_alarms_through_the_pipeline(district):
    out = StringIO()
    call_command("load_demo_sensing", verbosity=0, stdout=out)
    text = out.getvalue()
    assert "demo sensors loaded" in text
    assert Device.objects.filter(profile__code="lift").count() == Lift.objects.count() >= 1
    assert (
        Device.objects.filter(profile__code="smoke").exists() and Device.objects.filter(profile__code="pipe").exists()
    )
    assert Channel.objects.count() >= 50
    assert Reading.objects.count() > 1000
    assert not Device.objects.filter(last_seen_at__isnull=True).exists()
    # the gateway's token is printed once and kept for the simulator (mode 600)
    token = (district / "demo_gateway_token").read_text().strip()
    assert token in text and Gateway.objects.get().token_hash == token_hash(token)
    assert (district / "demo_gateway_token").stat().st_mode & 0o077 == 0
    # trapped passengers yesterday: raised, a grid event opened, acknowledged, cleared by the lift
    trapped = Alarm.objects.get(alarm_type="trapped")
    assert trapped.cleared and trapped.acknowledged and trapped.event_id is not None
    assert trapped.priority == 0 and trapped.severity == "critical"
    kinds = list(trapped.log.values_list("kind", flat=True))
    assert kinds == [
        AlarmLog.Kind.RAISED,
        AlarmLog.Kind.EVENT_OPENED,
        AlarmLog.Kind.ACKNOWLEDGED,
        AlarmLog.Kind.AUTO_CLEARED,
    ]
    assert trapped.acknowledged_at is not None and trapped.cleared_at is not None
    assert trapped.started_at < trapped.acknowledged_at < trapped.cleared_at < clock.now()
    event = Event.objects.get(pk=trapped.event_id)
    assert event.channel == "sensor"
    # open now: a low battery and a pipe pressure warning
    assert set(Alarm.objects.filter(cleared=False).values_list("alarm_type", flat=True)) == {
        "battery_low",
        "pressure_high",
    }
    # once only
    again = StringIO()
    call_command("load_demo_sensing", if_empty=True, verbosity=0, stdout=again)
    assert "exist" in again.getvalue()
    with pytest.raises(CommandError):
        call_command("load_demo_sensing", verbosity=0, stdout=StringIO())
