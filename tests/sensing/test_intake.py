"""The intake pipeline (linli/sensing/services/intake.py): shapes, every error code, duplicates and
replays, out-of-order readings, the per-device rate limit, districts, atomicity, rules into alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings

from linli.core import clock
from linli.core.errors import LinliError
from linli.places import models as places_models
from linli.sensing.models import Alarm, Channel, Device, Reading, RuleState
from linli.sensing.queries import intake as q
from linli.sensing.services import alarms
from linli.sensing.services import devices as sensing_devices
from linli.sensing.services import intake as svc
from linli.sensing.transitions import Transition
from tests import redisd

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    caches["default"].clear()  # rate-limit counters and generations
    q.forget()
    with clock.frozen(NOW):
        yield
    q.forget()


@pytest.fixture
def moves(monkeypatch: pytest.MonkeyPatch) -> list[list[Transition]]:
    """Record what the pipeline hands the alarm service (each call's list) instead of applying it."""
    calls: list[list[Transition]] = []

    def apply(transitions: Any) -> int:
        calls.append(list(transitions))
        return len(transitions)

    monkeypatch.setattr(alarms, "apply", apply)
    return calls


def ms(seconds_ago: float) -> int:
    return NOW_MS - int(seconds_ago * 1000)


def readings(device: Device, key: str) -> list[tuple[int, float]]:
    channel = Channel.objects.get(device=device, key=key)
    return [
        (int(r.ts.timestamp() * 1000), r.value) for r in Reading.objects.filter(channel_id=channel.pk).order_by("ts")
    ]


def codes(report: svc.Report) -> list[str]:
    return [e["code"] for e in report.errors]


# --- shapes ---------------------------------------------------------------------------------------------


def test_device_shapes_item_list_and_flat(sensors: SimpleNamespace, moves: list[Any]) -> None:
    r1 = svc.ingest({"ts": ms(60), "values": {"battery": 80}}, device_code="SMOKE-A")
    r2 = svc.ingest(
        [{"ts": ms(50), "values": {"battery": 79}}, {"ts": ms(40), "values": {"smoke": False}}], device_code="SMOKE-A"
    )
    r3 = svc.ingest({"battery": 78.5, "smoke": "false"}, device_code="SMOKE-A")
    assert (r1.accepted, r2.accepted, r3.accepted) == (1, 2, 2)
    assert readings(sensors.smoke_a, "battery") == [(ms(60), 80.0), (ms(50), 79.0), (NOW_MS, 78.5)]
    assert readings(sensors.smoke_a, "smoke") == [(ms(40), 0.0), (NOW_MS, 0.0)]
    channel = Channel.objects.get(device=sensors.smoke_a, key="battery")
    assert channel.last_value == 78.5 and channel.last_at == NOW
    device = Device.objects.get(pk=sensors.smoke_a.pk)
    assert device.online and device.last_seen_at == NOW
    assert r3.as_json() == {"accepted": 2, "duplicates": 0, "rejected": 0, "dropped": 0, "alarms": 0, "errors": []}


def test_gateway_shapes(sensors: SimpleNamespace, moves: list[Any]) -> None:
    report = svc.ingest(
        {
            "SMOKE-A": [{"ts": ms(30), "values": {"battery": 90}}, {"ts": ms(20), "values": {"battery": 89}}],
            "SMOKE-B": {"ts": ms(30), "values": {"battery": 70}},
            "PIPE-B": {"pressure": 0.35, "flow": 12.5},
        },
        district_path=sensors.gateway.district.path,
    )
    assert report.accepted == 5 and report.rejected == 0, report.as_json()
    listed = svc.ingest(
        [
            {"device": "SMOKE-C", "ts": ms(10), "values": {"battery": 55}},
            {"device": "LIFT-A1", "telemetry": [{"ts": ms(10), "values": {"running": True, "floor": 3}}]},
        ]
    )
    assert listed.accepted == 3, listed.as_json()
    assert readings(sensors.pipe, "flow") == [(NOW_MS, 12.5)]
    assert readings(sensors.lift, "running") == [(ms(10), 1.0)]


@pytest.mark.parametrize(
    ("payload", "device_code"),
    [
        ("text", "SMOKE-A"),
        (42, None),
        ({"SMOKE-A": 5}, None),
        ({"SMOKE-A": [1, 2]}, None),
        ({"ts": 1, "battery": 3}, "SMOKE-A"),
        ({"ts": NOW_MS, "values": [1]}, "SMOKE-A"),
        ([{"ts": NOW_MS}], None),
        ([{"no": "device"}], None),
        (None, None),
    ],
)
def test_a_malformed_payload_is_a_400_and_writes_nothing(
    sensors: SimpleNamespace, payload: Any, device_code: str | None
) -> None:
    with pytest.raises(LinliError) as caught:
        svc.ingest(payload, device_code=device_code)
    assert caught.value.status == 400 and caught.value.problems[0].code == "bad_payload"
    assert not Reading.objects.exists()


@override_settings(LINLI_SENSING_MAX_BATCH=5)
def test_too_many_readings_in_one_batch_is_a_413(sensors: SimpleNamespace) -> None:
    payload = [{"ts": ms(i), "values": {"battery": 50}} for i in range(6)]
    with pytest.raises(LinliError) as caught:
        svc.ingest(payload, device_code="SMOKE-A")
    assert caught.value.status == 413 and caught.value.problems[0].code == "batch_too_large"
    assert svc.ingest(payload[:5], device_code="SMOKE-A").accepted == 5


# --- every error code ---------------------------------------------------------------------------------


def test_every_error_code_is_counted_and_listed(sensors: SimpleNamespace, moves: list[Any]) -> None:
    payload = {
        "NO-SUCH": [{"ts": ms(1), "values": {"a": 1, "b": 2}}],
        "SMOKE-A": [
            {"ts": ms(10), "values": {"battery": 50, "humidity": 40}},  # 1 ok, unknown_channel
            {"ts": ms(9), "values": {"battery": 150}},  # out_of_range (0–100)
            {"ts": ms(8), "values": {"battery": float("nan")}},  # bad_value
            {"ts": ms(7), "values": {"battery": "lots"}},  # bad_type
            {"ts": ms(6), "values": {"smoke": 2}},  # out of an on/off channel's range
            {"ts": ms(5), "values": {"smoke": "maybe"}},  # bad_type
            {"ts": "yesterday", "values": {"battery": 40}},  # bad_ts
            {"ts": 12345, "values": {"battery": 40}},  # bad_ts (1970)
            {"ts": NOW_MS + 301_000, "values": {"battery": 40}},  # future_ts
            {"ts": NOW_MS + 299_000, "values": {"battery": 41}},  # within the skew: ok
        ],
        "LIFT-A1": [
            {"ts": ms(4), "values": {"fault": 2.5}},  # bad_type: a code is a whole number
            {"ts": ms(3), "values": {"fault": True}},  # bad_type
            {"ts": ms(2), "values": {"speed": float("inf")}},  # bad_value
            {"ts": ms(1), "values": {"floor": [3]}},  # bad_type
        ],
    }
    report = svc.ingest(payload)
    assert report.accepted == 2
    assert report.rejected == 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 4
    assert codes(report) == [
        "unknown_device",
        "unknown_channel",
        "out_of_range",
        "bad_value",
        "bad_type",
        "out_of_range",
        "bad_type",
        "bad_ts",
        "bad_ts",
        "future_ts",
        "bad_type",
        "bad_type",
        "bad_value",
        "bad_type",
    ]
    first = report.errors[0]
    assert first["device"] == "NO-SUCH" and first["zh"] and first["en"]
    assert report.errors[1] == {
        "code": "unknown_channel",
        "zh": svc.MESSAGES["unknown_channel"][0],
        "en": svc.MESSAGES["unknown_channel"][1],
        "device": "SMOKE-A",
        "key": "humidity",
    }
    assert report.errors[7]["ts"] == "yesterday"
    assert readings(sensors.smoke_a, "battery") == [(ms(10), 50.0), (NOW_MS + 299_000, 41.0)]


@override_settings(LINLI_SENSING_MAX_ERRORS=3)
def test_the_error_list_is_capped_and_the_rest_counted(sensors: SimpleNamespace) -> None:
    payload = [{"ts": ms(i), "values": {"battery": 500}} for i in range(10)]
    report = svc.ingest(payload, device_code="SMOKE-A")
    assert report.rejected == 10 and len(report.errors) == 3
    assert report.as_json()["errors_omitted"] == 7


def test_inactive_devices_are_unknown(sensors: SimpleNamespace) -> None:
    Device.objects.filter(pk=sensors.smoke_b.pk).update(active=False)
    report = svc.ingest({"SMOKE-B": {"battery": 50}})
    assert report.rejected == 1 and codes(report) == ["unknown_device"]


def test_a_gateway_posts_only_for_its_own_district(sensors: SimpleNamespace, world: Any) -> None:
    other = places_models.District.objects.create(code="500108", name="南岸区", path="500108/")
    street = places_models.Street.objects.create(district=other, code="001", name="南坪街道")
    community = places_models.Community.objects.create(street=street, code="001", name="南坪社区")
    far = sensing_devices.create_device(
        None, code="SMOKE-FAR", profile="smoke", community=community, lat=29.5, lon=106.6
    )
    mine = svc.ingest({"SMOKE-FAR": {"battery": 50}, "SMOKE-A": {"battery": 50}}, district_path=world.district.path)
    assert mine.accepted == 1 and codes(mine) == ["unknown_device"] and mine.errors[0]["device"] == "SMOKE-FAR"
    theirs = svc.ingest({"SMOKE-FAR": {"battery": 50}, "SMOKE-A": {"battery": 50}}, district_path=other.path)
    assert theirs.accepted == 1 and theirs.errors[0]["device"] == "SMOKE-A"
    assert readings(far, "battery") == [(NOW_MS, 50.0)]


# --- duplicates, replays, out of order ----------------------------------------------------------------


def test_a_replayed_batch_stores_nothing_twice(sensors: SimpleNamespace, moves: list[Any]) -> None:
    batch = {
        "SMOKE-A": [{"ts": ms(30), "values": {"battery": 60}}, {"ts": ms(20), "values": {"battery": 59}}],
        "PIPE-B": [{"ts": ms(30), "values": {"pressure": 0.3, "flow": 10}}],
    }
    first = svc.ingest(batch)
    again = svc.ingest(batch)
    assert (first.accepted, first.duplicates) == (4, 0)
    assert (again.accepted, again.duplicates) == (0, 4)
    assert Reading.objects.count() == 4
    # a repeat inside one batch: the first value counts
    inside = svc.ingest(
        [{"ts": ms(5), "values": {"battery": 1}}, {"ts": ms(5), "values": {"battery": 2}}], device_code="SMOKE-B"
    )
    assert (inside.accepted, inside.duplicates) == (1, 1)
    assert readings(sensors.smoke_b, "battery") == [(ms(5), 1.0)]


def test_out_of_order_readings_are_stored_and_do_not_move_the_last_value_back(
    sensors: SimpleNamespace, moves: list[Any]
) -> None:
    svc.ingest({"ts": ms(10), "values": {"battery": 70}}, device_code="SMOKE-A")
    late = svc.ingest({"ts": ms(100), "values": {"battery": 10}}, device_code="SMOKE-A")  # older, and low
    assert late.accepted == 1
    assert readings(sensors.smoke_a, "battery") == [(ms(100), 10.0), (ms(10), 70.0)]
    channel = Channel.objects.get(device=sensors.smoke_a, key="battery")
    assert channel.last_value == 70 and channel.last_at == NOW - timedelta(seconds=10)
    assert Device.objects.get(pk=sensors.smoke_a.pk).last_seen_at == NOW - timedelta(seconds=10)
    # the battery rule (below 20) ignored the older reading: nothing raised
    assert not [t for call in moves for t in call]


# --- rate limit -----------------------------------------------------------------------------------------


@override_settings(LINLI_SENSING_DEVICE_MAX_PER_MIN=20)
def test_a_flood_from_one_device_is_dropped_and_others_are_unaffected(sensors: SimpleNamespace) -> None:
    flood = [{"ts": ms(i), "values": {"battery": 50}} for i in range(1, 16)]
    first = svc.ingest({"SMOKE-A": flood, "SMOKE-B": [{"ts": ms(1), "values": {"battery": 50}}]})
    assert (first.accepted, first.dropped) == (16, 0)
    more = [{"ts": ms(i), "values": {"battery": 50}} for i in range(20, 30)]
    second = svc.ingest({"SMOKE-A": more, "SMOKE-B": [{"ts": ms(2), "values": {"battery": 50}}]})
    assert (second.accepted, second.dropped) == (5 + 1, 5)
    assert codes(second) == ["rate_limited"] and second.errors[0]["device"] == "SMOKE-A"
    third = svc.ingest({"SMOKE-A": {"battery": 40}, "SMOKE-B": {"battery": 40}})
    assert (third.accepted, third.dropped) == (1, 1)
    assert Reading.objects.filter(channel__device=sensors.smoke_a).count() == 20
    with clock.frozen(NOW + timedelta(minutes=1)):  # a new minute
        assert svc.ingest({"SMOKE-A": {"battery": 40}}).accepted == 1


# --- atomicity -------------------------------------------------------------------------------------------


def test_a_crash_midway_writes_nothing(sensors: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(transitions: Any) -> int:
        raise RuntimeError("the alarm service fell over")

    monkeypatch.setattr(alarms, "apply", boom)
    batch = {"SMOKE-A": [{"ts": ms(10), "values": {"smoke": 1, "battery": 50}}], "SMOKE-B": {"battery": 60}}
    with pytest.raises(RuntimeError):
        svc.ingest(batch)
    assert not Reading.objects.exists()
    assert not RuleState.objects.exists()
    assert Channel.objects.filter(last_at__isnull=False).count() == 0
    assert not Device.objects.filter(online=True).exists()


def test_a_crash_after_the_insert_writes_nothing(sensors: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(batch: Any, now: Any) -> list[Transition]:
        assert Reading.objects.count() == 1  # the insert happened
        raise RuntimeError("crash after the insert")

    monkeypatch.setattr(svc, "_run_rules", boom)
    with pytest.raises(RuntimeError):
        svc.ingest({"battery": 50}, device_code="SMOKE-A")
    assert not Reading.objects.exists()


# --- rules through the pipeline ----------------------------------------------------------------------


def test_rules_run_in_time_order_and_their_state_survives_a_restart(sensors: SimpleNamespace, moves: list[Any]) -> None:
    # smoke > 0.5 raises at once; battery < 20 raises, clears at >= 30
    out_of_order = [
        {"ts": ms(30), "values": {"battery": 35}},
        {"ts": ms(50), "values": {"battery": 50, "smoke": 0}},
        {"ts": ms(40), "values": {"battery": 15, "smoke": 1}},
    ]
    report = svc.ingest(out_of_order, device_code="SMOKE-A")
    assert report.alarms == 3
    (call,) = moves
    got = [(t.alarm_type, t.kind, t.at, t.value, t.severity) for t in call]
    assert got == [
        ("battery_low", "raise", NOW - timedelta(seconds=40), 15.0, "warning"),
        ("smoke", "raise", NOW - timedelta(seconds=40), 1.0, "critical"),
        ("battery_low", "clear", NOW - timedelta(seconds=30), 35.0, "warning"),
    ]
    assert all(t.device_id == sensors.smoke_a.pk and t.channel_id for t in call)
    assert RuleState.objects.filter(device=sensors.smoke_a, rule__isnull=False).count() == 2
    # "restart": nothing held in memory; a replay of the same batch raises nothing again
    q.forget()
    again = svc.ingest(out_of_order, device_code="SMOKE-A")
    assert again.duplicates == 5 and len(moves) == 1
    # a newer reading still below the smoke limit clears
    svc.ingest({"ts": ms(5), "values": {"smoke": 0}}, device_code="SMOKE-A")
    assert [(t.alarm_type, t.kind) for t in moves[-1]] == [("smoke", "clear")]


def test_lift_fault_codes_map_to_alarm_types(sensors: SimpleNamespace, moves: list[Any]) -> None:
    svc.ingest([{"ts": ms(20), "values": {"fault": 0}}, {"ts": ms(10), "values": {"fault": 1}}], device_code="LIFT-A1")
    (call,) = moves
    assert [(t.kind, t.alarm_type, t.severity) for t in call] == [("raise", "trapped", "critical")]
    svc.ingest({"ts": ms(5), "values": {"fault": 0}}, device_code="LIFT-A1")
    assert [(t.kind, t.alarm_type) for t in moves[-1]] == [("clear", "trapped")]


def test_a_profile_edit_reaches_the_pipeline_at_once(sensors: SimpleNamespace, moves: list[Any]) -> None:
    svc.ingest({"ts": ms(60), "values": {"battery": 50}}, device_code="SMOKE-A")
    rule = sensors.smoke_a.profile.rules.get(channel_key="battery")
    rule.below = 60
    rule.clear_at = 70
    rule.save()  # the admin's save: bumps the generation
    svc.ingest({"ts": ms(50), "values": {"battery": 55}}, device_code="SMOKE-A")
    assert [(t.alarm_type, t.kind) for t in moves[-1]] == [("battery_low", "raise")]


def test_a_smoke_alarm_goes_all_the_way_to_an_alarm_row(sensors: SimpleNamespace) -> None:
    """The real alarm service: a smoke reading raises an open critical alarm; a replay does not repeat it."""
    report = svc.ingest({"ts": ms(10), "values": {"smoke": True}}, device_code="SMOKE-A")
    assert report.alarms >= 1
    alarm = Alarm.objects.get(device=sensors.smoke_a, alarm_type="smoke")
    assert alarm.severity == "critical" and not alarm.cleared and alarm.repeats == 0
    assert alarm.value == 1.0 and alarm.started_at == NOW - timedelta(seconds=10)
    replay = svc.ingest({"ts": ms(10), "values": {"smoke": True}}, device_code="SMOKE-A")
    assert replay.alarms == 0 and replay.duplicates == 1
    assert Alarm.objects.get(pk=alarm.pk).repeats == 0
    svc.ingest({"ts": ms(1), "values": {"smoke": False}}, device_code="SMOKE-A")
    assert Alarm.objects.get(pk=alarm.pk).cleared


def test_late_readings_mark_their_hour_for_the_roll_up(sensors: SimpleNamespace, moves: list[Any]) -> None:
    from linli.sensing.models import LateHour

    svc.ingest({"ts": ms(600), "values": {"battery": 50}}, device_code="SMOKE-A")  # this hour: redone anyway
    assert not LateHour.objects.exists()
    svc.ingest({"ts": ms(5 * 3600 + 60), "values": {"battery": 50}}, device_code="SMOKE-A")  # 5 h late
    assert list(LateHour.objects.values_list("hour", flat=True)) == [NOW.replace(hour=6)]


redis_url = redisd.redis_url  # fixtures: a Redis for the module, the default cache on it
on_redis = redisd.on_redis


@override_settings(LINLI_SENSING_DEVICE_MAX_PER_MIN=12)
def test_the_rate_limit_counts_in_the_shared_redis(sensors: SimpleNamespace, on_redis: str) -> None:
    """Production counts in Redis (one pipelined INCRBY per device and batch): what another app
    server adds to a device's count this minute limits this one too."""
    from django.core.cache import cache

    first = svc.ingest({"SMOKE-A": [{"ts": ms(i), "values": {"battery": 50}} for i in range(1, 9)]})
    assert (first.accepted, first.dropped) == (8, 0)
    minute = int(NOW.timestamp() // 60)
    assert cache.get(f"sensing:rate:{sensors.smoke_a.pk}:{minute}") == 8
    import redis

    assert redis.Redis.from_url(on_redis).keys(f"*sensing:rate:{sensors.smoke_a.pk}:{minute}")  # in Redis itself
    cache.incr(f"sensing:rate:{sensors.smoke_a.pk}:{minute}", 3)  # another server's readings
    second = svc.ingest({"SMOKE-A": [{"ts": ms(i), "values": {"battery": 50}} for i in range(20, 25)], "SMOKE-B": {}})
    assert (second.accepted, second.dropped) == (1, 4) and codes(second) == ["rate_limited"]
