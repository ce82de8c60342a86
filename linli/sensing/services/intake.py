"""The one intake pipeline of readings (HTTP batch and MQTT): parse, validate, store once, run the rules.

``ingest(payload, device_code=…, district_path=…, via=…) -> Report`` takes parsed JSON in
ThingsBoard's shapes (docs/sensing.md "Intake"):

- with ``device_code`` (a device token, or the MQTT topic of one device): ``{"ts": ms, "values":
  {...}}``, a list of those, or a flat ``{"key": value}`` meaning now;
- without it (a gateway): ``{"<device code>": [{"ts": ms, "values": {...}}, …], …}`` (each value may
  also be one item or a flat object), or a list of ``{"device": code, "ts": ms, "values": {...}}``.

A batch, in order:

1. **parse** the shape (a payload that is not one of these is a ``LinliError`` 400; more than
   ``LINLI_SENSING_MAX_BATCH`` readings a 413) — pure Python, nothing read or written yet;
2. **resolve** the devices it names (active, inside ``district_path``) and their channels: two
   queries; the profiles (channel specs, rules) come from process memory (``queries/intake``);
3. **rate-limit** each device (``LINLI_SENSING_DEVICE_MAX_PER_MIN`` readings a minute, counted in the
   shared cache — Redis in production — in one round trip for all devices of the batch): the
   excess is dropped and reported, other devices are unaffected;
4. **validate** each reading against its channel's spec: type (number, on/off as 0/1 with
   ``true``/``false`` accepted, integral fault code), range, finiteness, timestamp (not before 2000,
   at most ``LINLI_SENSING_MAX_SKEW_S`` ahead of the clock);
5. in **one transaction**: lock the batch's devices (``SELECT … FOR UPDATE`` in id order, so two
   batches for one device — and the offline sweep — take turns), insert the readings with
   ``ON CONFLICT DO NOTHING`` on the (channel, ts) key (one statement; the row count tells
   duplicates), load the rule states of the touched channels (one query), run the rules
   (``rules.run``; lift fault codes ``faults.fault_transitions``) and, for devices the sweep marked
   offline, the offline watch (a reading clears it), write the states back, move each channel's
   last value and each device's last reading time forward (never back), mark the hours of late
   readings for the roll-up (``storage.note_late``), and hand every
   transition, in time order, to ``alarms.apply``. A failure anywhere writes nothing.

Bad readings never raise: each is counted (``rejected``) and listed in the report's ``errors``
(at most ``LINLI_SENSING_MAX_ERRORS``, the rest counted in ``errors_omitted``). Out-of-order readings
are stored; the rules ignore a reading not newer than the newest they saw (rules.py).

``sweep(now=None)`` ticks the offline watch of each device silent for longer than its profile's
``offline_after_s`` (``manage.py sensing_sweep``, every minute from a systemd timer).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import OperationalError, connection, transaction
from django.db.models import Q

from linli.core import clock
from linli.core.errors import LinliError
from linli.sensing import faults, rules
from linli.sensing.models import AlarmType, Device, DeviceProfile, Gateway, ProfileRule, ValueType
from linli.sensing.queries import intake as q
from linli.sensing.services import alarms, storage
from linli.sensing.transitions import Transition

log = logging.getLogger(__name__)

EPOCH_2000_MS = 946_684_800_000
_FAULT = ProfileRule.Kind.FAULT_CODE.value
_BOOL = ValueType.BOOL.value
_CODE = ValueType.CODE.value

# Per-reading errors: code → (中文, English).
MESSAGES: dict[str, tuple[str, str]] = {
    "unknown_device": (
        "未知设备(不存在、已停用或不在本网关的辖区内)。",
        "Unknown device (no such device, switched off, or outside this gateway's district).",
    ),
    "unknown_channel": ("该设备没有这个通道。", "The device has no channel with this key."),
    "bad_type": ("读数类型不符合通道要求。", "The value is not of the channel's type."),
    "bad_value": ("读数不是有限的数值。", "The value is not a finite number."),
    "out_of_range": ("读数超出该通道的有效范围。", "The value is outside the channel's valid range."),
    "bad_ts": ("时间戳无效(须为 2000 年以后的毫秒数)。", "The timestamp is not valid (milliseconds after 2000)."),
    "future_ts": ("时间戳在未来(超出允许的时钟偏差)。", "The timestamp is in the future (beyond the allowed skew)."),
    "rate_limited": (
        "该设备每分钟读数超过上限,超出部分已丢弃。",
        "Too many readings from this device this minute: the excess was dropped.",
    ),
}


@dataclass
class Report:
    """What a batch did. ``as_json()`` is the HTTP answer (and what MQTT logs)."""

    accepted: int = 0  # stored now
    duplicates: int = 0  # (channel, ts) already stored: ignored
    rejected: int = 0  # invalid: listed in errors
    dropped: int = 0  # over the device's rate limit
    alarms: int = 0  # alarm rows changed (raised, repeated, cleared)
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_omitted: int = 0
    max_errors: int = 100

    def error(self, code: str, *, device: str | None = None, key: str | None = None, ts: Any = None) -> None:
        if len(self.errors) >= self.max_errors:
            self.errors_omitted += 1
            return
        zh, en = MESSAGES[code]
        entry: dict[str, Any] = {"code": code, "zh": zh, "en": en}
        if device is not None:
            entry["device"] = device
        if key is not None:
            entry["key"] = key
        if ts is not None:
            entry["ts"] = ts if isinstance(ts, int | float) and not isinstance(ts, bool) else str(ts)[:40]
        self.errors.append(entry)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "dropped": self.dropped,
            "alarms": self.alarms,
            "errors": self.errors,
        }
        if self.errors_omitted:
            out["errors_omitted"] = self.errors_omitted
        return out


# --- 1. parse -----------------------------------------------------------------------------------------

Item = tuple[Any, dict[str, Any]]  # (ts as sent, {key: value})


def _malformed(zh: str, en: str) -> LinliError:
    return LinliError.one("bad_payload", f"数据格式不正确:{zh}", f"Malformed payload: {en}")


def _items(value: Any, now_ms: int, where: str) -> list[Item]:
    """One device's telemetry: an item ``{"ts", "values"}``, a list of items, or a flat object."""
    if isinstance(value, dict):
        if "values" in value:
            values = value["values"]
            if not isinstance(values, dict):
                raise _malformed(f"{where} 的 values 须为对象。", f"values of {where} must be an object.")
            return [(value.get("ts", now_ms), values)]
        if "ts" in value:
            raise _malformed(f"{where} 有 ts 但没有 values。", f"{where} has a ts but no values.")
        return [(now_ms, value)]
    if isinstance(value, list):
        out: list[Item] = []
        for n, item in enumerate(value):
            if not isinstance(item, dict):
                raise _malformed(f"{where}[{n}] 须为对象。", f"{where}[{n}] must be an object.")
            out += _items(item, now_ms, f"{where}[{n}]")
        return out
    raise _malformed(f"{where} 须为对象或数组。", f"{where} must be an object or an array.")


def parse(payload: object, device_code: str | None, now_ms: int) -> dict[str, list[Item]]:
    """{device code: [(ts, values)]} of a payload, or a 400 (shape) / 413 (too many readings)."""
    out: dict[str, list[Item]] = defaultdict(list)
    if device_code is not None:
        if not isinstance(payload, dict | list):
            raise _malformed("须为 JSON 对象或数组。", "it must be a JSON object or array.")
        out[device_code] = _items(payload, now_ms, "payload")
    elif isinstance(payload, dict):
        for code, value in payload.items():
            out[code] += _items(value, now_ms, str(code)[:64])
    elif isinstance(payload, list):
        for n, entry in enumerate(payload):
            if not isinstance(entry, dict) or not isinstance(entry.get("device"), str):
                raise _malformed(f"第 {n + 1} 项须为带 device 的对象。", f"item {n} must be an object with a device.")
            code = entry["device"]
            if "telemetry" in entry:
                out[code] += _items(entry["telemetry"], now_ms, f"[{n}].telemetry")
            else:
                rest = {k: v for k, v in entry.items() if k != "device"}
                out[code] += _items(rest, now_ms, f"[{n}]")
    else:
        raise _malformed("网关数据须为以设备编号为键的对象。", "a gateway's payload is an object keyed by device code.")
    limit = int(getattr(settings, "LINLI_SENSING_MAX_BATCH", 10_000))
    n = sum(len(values) for items in out.values() for _ts, values in items)
    if n > limit:
        raise LinliError.one(
            "batch_too_large",
            f"一批最多 {limit} 条读数(本批 {n} 条),请分批发送。",
            f"At most {limit} readings per batch (this one has {n}): split it.",
            413,
        )
    return out


# --- 3. rate limit --------------------------------------------------------------------------------------


def _counts(per_device: dict[int, int]) -> dict[int, int]:
    """Add each device's readings to its count of this minute in the shared cache; the counts after."""
    minute = int(clock.now().timestamp() // 60)
    keys = {pk: f"sensing:rate:{pk}:{minute}" for pk in per_device}
    cache: Any = caches["default"]
    try:
        if str(settings.CACHES.get("default", {}).get("BACKEND", "")).endswith("RedisCache"):
            client = cache._cache.get_client(write=True)
            pipe = client.pipeline(transaction=False)
            for pk, n in per_device.items():
                full = cache.make_and_validate_key(keys[pk])
                pipe.incrby(full, n)
                pipe.expire(full, 120)
            answers = pipe.execute()
            return {pk: int(answers[2 * i]) for i, pk in enumerate(per_device)}
        out = {}
        for pk, n in per_device.items():
            cache.add(keys[pk], 0, timeout=120)
            out[pk] = int(cache.incr(keys[pk], n))
        return out
    except Exception:  # the cache does not answer: let readings through rather than lose them
        log.warning("sensing intake: rate-limit counters unavailable", exc_info=True)
        return dict(per_device)


# --- 4. validate ------------------------------------------------------------------------------------


def _value(raw: Any, spec: q.Spec) -> tuple[float | None, str]:
    """The reading as a float, or (None, error code)."""
    if spec.value_type == _BOOL:
        if raw is True or raw is False:
            return (1.0 if raw else 0.0), ""
        if isinstance(raw, str):
            low = raw.strip().lower()
            if low in ("true", "false"):
                return (1.0 if low == "true" else 0.0), ""
            return None, "bad_type"
        if isinstance(raw, int | float):
            if raw == 0 or raw == 1:
                return float(raw), ""
            return None, ("bad_value" if not math.isfinite(raw) else "out_of_range")
        return None, "bad_type"
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None, "bad_type"
    if isinstance(raw, str):
        try:
            value = float(raw.strip()) if len(raw) <= 40 else math.nan
        except ValueError:
            return None, "bad_type"
        if math.isnan(value) and raw.strip().lower() != "nan":
            return None, "bad_type"
    else:
        try:
            value = float(raw)
        except OverflowError:  # an int too large for a float
            return None, "bad_value"
    if not math.isfinite(value):
        return None, "bad_value"
    if spec.value_type == _CODE and (value != int(value) or value < 0):
        return None, "bad_type"
    if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
        return None, "out_of_range"
    return value, ""


@dataclass(slots=True)
class _Batch:
    """The valid readings of a batch, per channel: ts (ms) → value (the first of equal ts wins)."""

    by_channel: dict[int, dict[int, float]] = field(default_factory=dict)
    channel_spec: dict[int, q.Spec] = field(default_factory=dict)
    channel_device: dict[int, int] = field(default_factory=dict)
    device_last_ms: dict[int, int] = field(default_factory=dict)
    n: int = 0  # readings (after removing repeats inside the batch)
    repeats: int = 0  # the same (channel, ts) twice in this batch


def _validate(
    parsed: dict[str, list[Item]], found: dict[str, q.DeviceInfo], allowed: dict[int, int], report: Report, now_ms: int
) -> _Batch:
    max_ms = now_ms + int(getattr(settings, "LINLI_SENSING_MAX_SKEW_S", 300)) * 1000
    batch = _Batch()
    by_channel = batch.by_channel
    for code, items in parsed.items():
        device = found.get(code)
        if device is None:
            n = sum(len(values) for _ts, values in items)
            report.rejected += n
            report.error("unknown_device", device=str(code)[:64])
            continue
        left = allowed.get(device.pk, 0)
        dropped = 0
        channels = device.channels
        unknown: set[str] = set()
        last = batch.device_last_ms.get(device.pk, 0)
        for ts, values in items:
            if left < len(values):
                dropped += len(values) - max(left, 0)
                values = dict(list(values.items())[: max(left, 0)])
            left -= len(values)
            if not values:
                continue
            if type(ts) is not int:
                if isinstance(ts, float) and math.isfinite(ts) and not isinstance(ts, bool):
                    ts_ms = int(ts)
                else:
                    report.rejected += len(values)
                    report.error("bad_ts", device=code, ts=ts)
                    continue
            else:
                ts_ms = ts
            if ts_ms < EPOCH_2000_MS:
                report.rejected += len(values)
                report.error("bad_ts", device=code, ts=ts)
                continue
            if ts_ms > max_ms:
                report.rejected += len(values)
                report.error("future_ts", device=code, ts=ts)
                continue
            for key, raw in values.items():
                hit = channels.get(key)
                if hit is None:
                    report.rejected += 1
                    if key not in unknown:
                        unknown.add(key)
                        report.error("unknown_channel", device=code, key=str(key)[:40])
                    continue
                channel_id, spec = hit
                if type(raw) is float and spec.value_type != _BOOL:  # the common case, inlined
                    value: float | None = raw
                    if not math.isfinite(raw):
                        value, problem = None, "bad_value"
                    elif (spec.lo is not None and raw < spec.lo) or (spec.hi is not None and raw > spec.hi):
                        value, problem = None, "out_of_range"
                    elif spec.value_type == _CODE and (raw != int(raw) or raw < 0):
                        value, problem = None, "bad_type"
                else:
                    value, problem = _value(raw, spec)
                if value is None:
                    report.rejected += 1
                    report.error(problem, device=code, key=str(key)[:40], ts=ts)
                    continue
                readings = by_channel.get(channel_id)
                if readings is None:
                    readings = by_channel[channel_id] = {}
                    batch.channel_spec[channel_id] = spec
                    batch.channel_device[channel_id] = device.pk
                if ts_ms in readings:
                    batch.repeats += 1
                    continue
                readings[ts_ms] = value
                batch.n += 1
                if ts_ms > last:
                    last = ts_ms
        if last:
            batch.device_last_ms[device.pk] = last
        if dropped:
            report.dropped += dropped
            report.error("rate_limited", device=code)
    return batch


# --- 5. store and run the rules ----------------------------------------------------------------------
# PostgreSQL: one statement per step whatever the batch size, arrays passed as one literal each
# ("{1,2,3}": psycopg's client-side binding would otherwise quote every element on its own, a third
# of the CPU of a batch); SQLite (development, tests): executemany.


def _dt(ms: int | float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _ints(values: Iterable[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _floats(values: list[float]) -> str:
    return "{" + json.dumps(values)[1:-1] + "}"  # finite floats only (validated): round-trips


def _mark_seen(device_ms: dict[int, int], *, only_online: bool) -> set[int]:
    """Move the devices' last reading time forward and set them online; with ``only_online`` only
    those online now (the offline ones need their watch cleared first). Row locks are taken here and
    held to the end of the batch's transaction: two batches for one device, and the sweep, take turns.
    The devices updated."""
    ids = sorted(device_ms)
    if not ids:
        return set()
    with connection.cursor() as cur:
        if _pg():
            cur.execute(
                "UPDATE sensing_device d SET online = TRUE,"
                " last_seen_at = GREATEST(d.last_seen_at, to_timestamp(u.t::float8 / 1000))"
                " FROM unnest(%s::bigint[], %s::bigint[]) AS u(i, t) WHERE d.id = u.i AND (d.online OR NOT %s)"
                " RETURNING d.id",
                [_ints(ids), _ints(device_ms[i] for i in ids), only_online],
            )
            return {row[0] for row in cur.fetchall()}
        if only_online:
            ids = sorted(Device.objects.filter(pk__in=ids, online=True).values_list("pk", flat=True))
        adapt = connection.ops.adapt_datetimefield_value
        cur.executemany(
            "UPDATE sensing_device SET online = 1, last_seen_at = CASE WHEN last_seen_at IS NULL"
            " OR last_seen_at < %s THEN %s ELSE last_seen_at END WHERE id = %s",
            [(adapt(_dt(device_ms[i])), adapt(_dt(device_ms[i])), i) for i in ids],
        )
        return set(ids)


def _lock_devices(ids: list[int]) -> dict[int, bool]:
    """Lock devices (id order); {id: online}."""
    qs = Device.objects.filter(pk__in=ids).order_by("pk").select_for_update()
    return dict(qs.values_list("pk", "online"))


def _insert(batch: _Batch) -> int:
    """Store the readings once per (channel, ts); how many were new."""
    channel_ids: list[int] = []
    stamps: list[int] = []
    values: list[float] = []
    for channel_id, readings in batch.by_channel.items():
        for ts_ms, value in readings.items():
            channel_ids.append(channel_id)
            stamps.append(ts_ms)
            values.append(value)
    with connection.cursor() as cur:
        if _pg():
            cur.execute(
                "INSERT INTO sensing_reading (channel_id, ts, value)"
                " SELECT c, to_timestamp(t::float8 / 1000), v"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS u(c, t, v)"
                " ON CONFLICT DO NOTHING",
                [_ints(channel_ids), _ints(stamps), _floats(values)],
            )
            return int(cur.rowcount)
        adapt = connection.ops.adapt_datetimefield_value
        cur.executemany(
            "INSERT INTO sensing_reading (channel_id, ts, value) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            [(c, adapt(_dt(t)), v) for c, t, v in zip(channel_ids, stamps, values, strict=True)],
        )
        return int(cur.rowcount)


def _write_states(updates: list[tuple[int, Any]], now: datetime) -> None:
    """Write rule states back: [(RuleState id, state)]."""
    if not updates:
        return
    with connection.cursor() as cur:
        if _pg():
            cur.execute(
                "UPDATE sensing_rulestate r SET state = u.s, updated_at = %s"
                " FROM ROWS FROM (unnest(%s::bigint[]), jsonb_array_elements(%s::jsonb)) AS u(i, s) WHERE r.id = u.i",
                [now, _ints(i for i, _s in updates), json.dumps([s for _i, s in updates])],
            )
        else:
            at = connection.ops.adapt_datetimefield_value(now)
            cur.executemany(
                "UPDATE sensing_rulestate SET state = %s, updated_at = %s WHERE id = %s",
                [(json.dumps(s), at, i) for i, s in updates],
            )


def _insert_states(rows: list[tuple[int, int | None, int | None, Any]], now: datetime) -> None:
    """New rule states: [(device id, channel id, rule id, state)]."""
    if not rows:
        return
    with connection.cursor() as cur:
        if _pg():
            cur.execute(
                "INSERT INTO sensing_rulestate (device_id, channel_id, rule_id, state, updated_at)"
                " SELECT d, c, r, s, %s FROM ROWS FROM (unnest(%s::bigint[]), unnest(%s::bigint[]),"
                " unnest(%s::bigint[]), jsonb_array_elements(%s::jsonb)) AS u(d, c, r, s)",
                [
                    now,
                    _ints(r[0] for r in rows),
                    "{" + ",".join("NULL" if r[1] is None else str(r[1]) for r in rows) + "}",
                    "{" + ",".join("NULL" if r[2] is None else str(r[2]) for r in rows) + "}",
                    json.dumps([r[3] for r in rows]),
                ],
            )
        else:
            at = connection.ops.adapt_datetimefield_value(now)
            cur.executemany(
                "INSERT INTO sensing_rulestate (device_id, channel_id, rule_id, state, updated_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(d, c, r, json.dumps(s), at) for d, c, r, s in rows],
            )


def _touch_channels(batch: _Batch) -> None:
    """Each channel's last value moves forward only."""
    last_ids: list[int] = []
    last_ms: list[int] = []
    last_values: list[float] = []
    for channel_id in sorted(batch.by_channel):
        readings = batch.by_channel[channel_id]
        ts_ms = max(readings)
        last_ids.append(channel_id)
        last_ms.append(ts_ms)
        last_values.append(readings[ts_ms])
    with connection.cursor() as cur:
        if _pg():
            cur.execute(
                "UPDATE sensing_channel c SET last_value = u.v, last_at = to_timestamp(u.t::float8 / 1000)"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS u(i, t, v)"
                " WHERE c.id = u.i AND (c.last_at IS NULL OR c.last_at < to_timestamp(u.t::float8 / 1000))",
                [_ints(last_ids), _ints(last_ms), _floats(last_values)],
            )
            return
        adapt = connection.ops.adapt_datetimefield_value
        cur.executemany(
            "UPDATE sensing_channel SET last_value = %s, last_at = %s"
            " WHERE id = %s AND (last_at IS NULL OR last_at < %s)",
            [(v, adapt(_dt(t)), i, adapt(_dt(t))) for i, t, v in zip(last_ids, last_ms, last_values, strict=True)],
        )


def _run_rules(batch: _Batch, now: datetime) -> list[Transition]:
    """Run every rule of the touched channels over their readings; write the states back."""
    out: list[Transition] = []
    ruled = [c for c, spec in batch.channel_spec.items() if spec.rules]
    if not ruled:
        return out
    states = q.load_states(ruled)
    updates: list[tuple[int, Any]] = []
    fresh: list[tuple[int, int | None, int | None, Any]] = []
    for channel_id in ruled:
        spec = batch.channel_spec[channel_id]
        readings = batch.by_channel[channel_id]
        series = sorted((ts_ms / 1000, value) for ts_ms, value in readings.items())
        device_id = batch.channel_device[channel_id]
        for info in spec.rules:
            held = states.get((channel_id, info.pk))
            state = held[1] if held is not None else None
            if info.kind == _FAULT:
                state, found = faults.fault_transitions(state, series)
                for ts, kind, alarm_type, severity in found:
                    value = readings.get(round(ts * 1000))
                    out.append(Transition(device_id, channel_id, alarm_type, severity, _dt(ts * 1000), kind, value))
            else:
                state, moves = rules.run(info.rule, state, series)
                for ts, kind in moves:
                    value = readings.get(round(ts * 1000))
                    out.append(
                        Transition(device_id, channel_id, info.alarm_type, info.severity, _dt(ts * 1000), kind, value)
                    )
            if held is not None:
                updates.append((held[0], state))
            else:
                fresh.append((device_id, channel_id, info.pk, state))
    _write_states(updates, now)
    _insert_states(fresh, now)
    return out


def _offline_clears(
    batch: _Batch, offline_ids: list[int], found: dict[str, q.DeviceInfo], now: datetime
) -> list[Transition]:
    """Devices the sweep marked offline (locked): run their offline watch over the new readings
    (a reading clears it), then mark them seen."""
    if not offline_ids:
        return []
    profiles = {info.pk: info.profile for info in found.values()}
    states = q.offline_states(offline_ids)
    wanted = set(offline_ids)
    stamps: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for channel_id, readings in batch.by_channel.items():
        device_id = batch.channel_device[channel_id]
        if device_id in wanted:
            stamps[device_id] += [(ts_ms / 1000, 1.0) for ts_ms in readings]
    out: list[Transition] = []
    updates: list[tuple[int, Any]] = []
    for device_id in offline_ids:
        profile = profiles[device_id]
        held = states.get(device_id)
        if profile.offline_after_s <= 0 or held is None:
            continue  # never watched (never seen, or no watch): nothing to clear
        state, moves = rules.run(rules.offline(profile.offline_after_s), held[1], stamps[device_id])
        updates.append((held[0], state))
        for ts, kind in moves:
            out.append(
                Transition(device_id, None, AlarmType.OFFLINE.value, profile.offline_severity, _dt(ts * 1000), kind)
            )
    _write_states(updates, now)
    _mark_seen({d: batch.device_last_ms[d] for d in offline_ids}, only_online=False)
    return out


def _note_late(batch: _Batch, now: datetime) -> None:
    """Readings older than the hours the next roll-up redoes: tell storage which hours to roll again."""
    redo = int(getattr(settings, "LINLI_SENSING_ROLLUP_REDO_HOURS", 2))
    limit_ms = int(storage.floor_hour(now).timestamp() * 1000) - redo * 3_600_000
    late = {ts_ms // 3_600_000 for readings in batch.by_channel.values() for ts_ms in readings if ts_ms < limit_ms}
    if late:
        storage.note_late([_dt(hour * 3_600_000) for hour in late], now=now)


def _store(batch: _Batch, found: dict[str, q.DeviceInfo], now: datetime) -> tuple[int, int]:
    """Step 5 of the module docstring, in one transaction: (readings stored, alarm rows changed)."""
    with transaction.atomic():
        seen = _mark_seen(batch.device_last_ms, only_online=True)  # locks the online devices
        offline = _lock_devices(sorted(d for d in batch.device_last_ms if d not in seen))
        inserted = _insert(batch)
        _note_late(batch, now)
        moves = _run_rules(batch, now)
        moves += _offline_clears(batch, [d for d, online in offline.items() if not online], found, now)
        # online again meanwhile (another batch cleared it between the two statements above)
        _mark_seen({d: batch.device_last_ms[d] for d, online in offline.items() if online}, only_online=False)
        _touch_channels(batch)
        changed = 0
        if moves:
            moves.sort(key=lambda t: t.at)
            changed = int(alarms.apply(moves))
    return inserted, changed


def ingest(payload: object, *, device_code: str | None = None, district_path: str = "", via: str = "http") -> Report:
    """Run one batch through the pipeline (module docstring); the ``Report`` of what it did."""
    started = time.perf_counter()
    now = clock.now()
    now_ms = int(now.timestamp() * 1000)
    report = Report(max_errors=int(getattr(settings, "LINLI_SENSING_MAX_ERRORS", 100)))
    parsed = parse(payload, device_code, now_ms)
    if not parsed:
        return report
    found = q.devices(parsed.keys(), district_path)
    wanted: dict[int, int] = {}
    for code, items in parsed.items():
        device = found.get(code)
        if device is not None:
            wanted[device.pk] = wanted.get(device.pk, 0) + sum(len(values) for _ts, values in items)
    limit = int(getattr(settings, "LINLI_SENSING_DEVICE_MAX_PER_MIN", 600))
    allowed = {pk: max(0, min(n, limit - (count - n))) for pk, count in _counts(wanted).items() if (n := wanted[pk])}
    batch = _validate(parsed, found, allowed, report, now_ms)
    report.duplicates = batch.repeats
    if batch.n:
        storage.ensure_current()  # today's partitions, before the transaction (no DDL inside it)
        for attempt in range(3):
            try:
                inserted, report.alarms = _store(batch, found, now)
                break
            except OperationalError as exc:  # two batches locked the same devices in another order
                if attempt == 2 or "deadlock" not in str(exc):
                    raise
                log.warning("sensing intake (%s): deadlock, batch retried", via)
        report.accepted = inserted
        report.duplicates += batch.n - inserted
    log.debug(
        "sensing intake (%s): %s in %.1f ms",
        via,
        report.as_json() | {"errors": len(report.errors)},
        (time.perf_counter() - started) * 1000,
    )
    return report


# --- gateways' last use -----------------------------------------------------------------------------

_used: dict[int, float] = {}


def note_gateway_use(gateway_id: int) -> None:
    """Record when a gateway last posted, at most once a minute per process (the admin shows it)."""
    t = time.monotonic()
    if t - _used.get(gateway_id, -1e9) < 60:
        return
    _used[gateway_id] = t
    Gateway.objects.filter(pk=gateway_id).update(last_used_at=clock.now())


# --- the offline sweep ------------------------------------------------------------------------------


def _silent(now: datetime) -> Q | None:
    """Devices online whose last reading is older than their profile's ``offline_after_s``."""
    cond = Q()
    for pk, after in DeviceProfile.objects.filter(offline_after_s__gt=0).values_list("pk", "offline_after_s"):
        cond |= Q(profile_id=pk, last_seen_at__lt=now - timedelta(seconds=after))
    return cond or None


def sweep(now: datetime | None = None, chunk: int = 1000) -> int:
    """Tick the offline watch of every device silent for longer than its profile allows: set it
    offline and raise ``AlarmType.OFFLINE`` (the profile's ``offline_severity``) through
    ``alarms.apply``. How many devices went offline. Each chunk is one transaction; the devices are
    locked and the condition checked again, so a reading arriving meanwhile wins."""
    now = now or clock.now()
    cond = _silent(now)
    if cond is None:
        return 0
    base = Device.objects.filter(active=True, online=True, last_seen_at__isnull=False).filter(cond)
    candidates = list(base.order_by("pk").values_list("pk", flat=True))
    by_profile = q.profiles()
    gone = 0
    for start in range(0, len(candidates), chunk):
        ids = candidates[start : start + chunk]
        with transaction.atomic():
            rows = list(
                base.filter(pk__in=ids)
                .order_by("pk")
                .select_for_update()
                .values_list("pk", "profile_id", "last_seen_at")
            )
            if not rows:
                continue
            states = q.offline_states(r[0] for r in rows)
            moves: list[Transition] = []
            updates: list[tuple[int, Any]] = []
            fresh: list[tuple[int, int | None, int | None, Any]] = []
            off: list[int] = []
            for device_id, profile_id, last_seen in rows:
                assert last_seen is not None  # the query's condition
                profile = by_profile[profile_id]
                rule = rules.offline(profile.offline_after_s)
                # The watch starts from the device's last reading (the intake keeps only that while
                # a device is online): the stored state matters while it is offline.
                state, _ = rules.run(rule, None, [(last_seen.timestamp(), 1.0)])
                state, raised = rules.tick(rule, state, now.timestamp())
                held = states.get(device_id)
                if held is not None:
                    updates.append((held[0], state))
                else:
                    fresh.append((device_id, None, None, state))
                if raised:
                    off.append(device_id)
                for ts, kind in raised:
                    moves.append(
                        Transition(
                            device_id, None, AlarmType.OFFLINE.value, profile.offline_severity, _dt(ts * 1000), kind
                        )
                    )
            _write_states(updates, now)
            _insert_states(fresh, now)
            Device.objects.filter(pk__in=off).update(online=False)
            if moves:
                moves.sort(key=lambda t: t.at)
                alarms.apply(moves)
            gone += len(off)
    return gone
