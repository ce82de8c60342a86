"""Reads of the intake pipeline: tokens, profiles, the devices and channels a batch names, rule states.

The hot path (``services/intake.ingest``, bench/bench_sensing.py) reads, per batch: the profiles
(channel specs and rules: a handful of rows, held in process memory and checked against the
generation ``sensing-profiles`` of ``linli.core.generations`` — one cache GET — so an edit in the
admin is seen by every process with its next batch), the devices and channels the batch names (one
query each), and the rule states of the channels it touches (one query). Gateway and device tokens
are held in memory for ``LINLI_SENSING_TOKEN_CACHE_SECONDS`` and checked against the generation
``sensing-tokens`` (a switched-off token is refused at once on every server); unknown tokens are
never held (a guesser must not fill the cache).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from linli.core import generations
from linli.sensing import rules as sensing_rules
from linli.sensing.models import Channel, Device, DeviceProfile, Gateway, ProfileChannel, ProfileRule, RuleState
from linli.sensing.services.devices import token_hash

TOKENS = "sensing-tokens"
PROFILES = "sensing-profiles"
DEVICES = "sensing-devices"


# --- tokens -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Who a bearer token speaks for: a gateway (``district_path`` limits its devices) or one device."""

    kind: str  # "gateway" | "device"
    pk: int
    active: bool
    device_code: str | None  # a device token: the device it posts for
    district_path: str  # a gateway token: its district's path ("" for a device token)


_tokens: dict[str, tuple[float, str, TokenInfo]] = {}
_lock = threading.Lock()


def token_info(raw: str) -> TokenInfo | None:
    """The gateway or device whose token is ``raw`` (active or not), or None for an unknown token."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    digest = token_hash(raw)
    (gen,) = generations.tokens(TOKENS)
    hit = _tokens.get(digest)
    if hit is not None and hit[0] > time.monotonic() and hit[1] == gen:
        return hit[2]
    info: TokenInfo | None = None
    row = Gateway.objects.filter(token_hash=digest).values_list("pk", "active", "district__path").first()
    if row is not None:
        info = TokenInfo("gateway", row[0], row[1], None, row[2])
    else:
        dev = Device.objects.filter(token_hash=digest).values_list("pk", "active", "code").first()
        if dev is not None:
            info = TokenInfo("device", dev[0], dev[1], dev[2], "")
    if info is not None:
        ttl = float(getattr(settings, "LINLI_SENSING_TOKEN_CACHE_SECONDS", 60))
        with _lock:
            if len(_tokens) > 100_000:  # bounded by the number of issued tokens; stay safe anyway
                _tokens.clear()
            _tokens[digest] = (time.monotonic() + ttl, gen, info)
    return info


def forget() -> None:
    """Forget every token, profile and device held in this process (tests; other processes: ``generations``)."""
    with _lock:
        _tokens.clear()
        _profiles.clear()
        _devices.clear()


# --- profiles: channel specs and rules --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One active ``ProfileRule``: ``rule`` is a rules.py rule (None for lift fault codes)."""

    pk: int
    kind: str
    alarm_type: str
    severity: str
    rule: Any


@dataclass(frozen=True, slots=True)
class Spec:
    """One ``ProfileChannel`` as the validation needs it, with the rules on its key."""

    pk: int
    key: str
    value_type: str
    lo: float | None
    hi: float | None
    rules: tuple[RuleInfo, ...]


@dataclass(frozen=True, slots=True)
class Profile:
    pk: int
    offline_after_s: int
    offline_severity: str
    specs: dict[int, Spec] = field(default_factory=dict)


_profiles: dict[str, tuple[str, dict[int, Profile]]] = {}


def _rule_of(r: Any) -> Any:
    if r["kind"] == ProfileRule.Kind.THRESHOLD:
        return sensing_rules.threshold(above=r["above"], below=r["below"], for_s=r["for_s"], clear_at=r["clear_at"])
    if r["kind"] == ProfileRule.Kind.RATE:
        return sensing_rules.rate(r["max_per_s"])
    return None


def _load_profiles() -> dict[int, Profile]:
    by_key: dict[tuple[int, str], list[RuleInfo]] = {}
    fields = ("pk", "profile_id", "channel_key", "kind", "alarm_type", "severity")
    params = ("above", "below", "for_s", "clear_at", "max_per_s")
    for r in ProfileRule.objects.filter(active=True).order_by("pk").values(*fields, *params):
        if r["kind"] == ProfileRule.Kind.RATE and r["max_per_s"] is None:
            continue  # an incomplete rule in the admin: nothing to run
        if r["kind"] == ProfileRule.Kind.THRESHOLD and r["above"] is None and r["below"] is None:
            continue
        info = RuleInfo(r["pk"], r["kind"], r["alarm_type"], r["severity"], _rule_of(r))
        by_key.setdefault((r["profile_id"], r["channel_key"]), []).append(info)
    out = {
        pk: Profile(pk, after, severity)
        for pk, after, severity in DeviceProfile.objects.values_list("pk", "offline_after_s", "offline_severity")
    }
    for pk, profile_id, key, value_type, lo, hi in ProfileChannel.objects.values_list(
        "pk", "profile_id", "key", "value_type", "min_value", "max_value"
    ):
        rules = tuple(by_key.get((profile_id, key), ()))
        out[profile_id].specs[pk] = Spec(pk, key, value_type, lo, hi, rules)
    return out


def profiles(gen: str | None = None) -> dict[int, Profile]:
    """Every profile with its channel specs and active rules, by pk (held while nothing changes;
    ``gen``: the generation ``sensing-profiles`` when the caller has read it already)."""
    if gen is None:
        (gen,) = generations.tokens(PROFILES)
    held = _profiles.get("all")
    if held is not None and held[0] == gen:
        return held[1]
    loaded = _load_profiles()
    with _lock:
        _profiles["all"] = (gen, loaded)
    return loaded


# --- the devices and channels of a batch ------------------------------------------------------------


@dataclass(slots=True)
class DeviceInfo:
    """A device a batch posts for: its profile, and its channels by key → (channel id, spec)."""

    pk: int
    code: str
    path: str
    profile: Profile
    channels: dict[str, tuple[int, Spec]]


_devices: dict[str, tuple[float, tuple[str, ...], DeviceInfo]] = {}


def devices(codes: Iterable[str], district_path: str = "") -> dict[str, DeviceInfo]:
    """The active devices among ``codes`` (inside ``district_path`` when given), with their channels.

    Held in process memory (at most ``LINLI_SENSING_TOKEN_CACHE_SECONDS``, and only while the
    generations ``sensing-devices`` and ``sensing-profiles`` stay the same: saving a device, a
    channel or a profile anywhere is seen with the next batch); the devices not held cost two
    queries whatever their number. Unknown and inactive codes are never held."""
    codes = [c for c in codes if isinstance(c, str) and 0 < len(c) <= 64]
    if not codes:
        return {}
    gen = generations.tokens(PROFILES, DEVICES)
    moment = time.monotonic()
    out: dict[str, DeviceInfo] = {}
    missing: list[str] = []
    for code in codes:
        hit = _devices.get(code)
        if hit is not None and hit[0] > moment and hit[1] == gen:
            info = hit[2]
            if not district_path or info.path.startswith(district_path):
                out[code] = info
        else:
            missing.append(code)
    if not missing:
        return out
    by_profile = profiles(gen[0])
    found: dict[int, DeviceInfo] = {}
    rows = Device.objects.filter(code__in=missing, active=True).order_by()
    for pk, code, path, profile_id in rows.values_list("pk", "code", "path", "profile_id"):
        found[pk] = DeviceInfo(pk, code, path, by_profile[profile_id], {})
    if not found:
        return out
    channels = Channel.objects.filter(device_id__in=list(found)).order_by()
    for pk, device_id, key, spec_id in channels.values_list("pk", "device_id", "key", "spec_id"):
        info = found[device_id]
        spec = info.profile.specs.get(spec_id)
        if spec is not None:
            info.channels[key] = (pk, spec)
    expires = moment + float(getattr(settings, "LINLI_SENSING_TOKEN_CACHE_SECONDS", 60))
    with _lock:
        if len(_devices) > 500_000:  # bounded by the number of devices; stay safe anyway
            _devices.clear()
        for info in found.values():
            _devices[info.code] = (expires, gen, info)
    for info in found.values():
        if not district_path or info.path.startswith(district_path):
            out[info.code] = info
    return out


# --- rule states ------------------------------------------------------------------------------------


def load_states(channel_ids: Iterable[int] | None = None) -> dict[tuple[int, int], tuple[int, Any]]:
    """The states of the channels' rules, {(channel id, rule id): (row id, state)} — one query; all
    of them when ``channel_ids`` is None (the restart figure of bench/bench_sensing.py)."""
    if connection.vendor != "postgresql":
        qs = RuleState.objects.filter(rule__isnull=False)
        if channel_ids is not None:
            qs = qs.filter(channel_id__in=list(channel_ids))
        return {(c, r): (pk, state) for pk, c, r, state in qs.values_list("pk", "channel_id", "rule_id", "state")}
    sql = "SELECT id, channel_id, rule_id, state FROM sensing_rulestate WHERE rule_id IS NOT NULL"
    params: list[str] = []
    if channel_ids is not None:
        sql += " AND channel_id = ANY(%s::bigint[])"
        params.append("{" + ",".join(map(str, channel_ids)) + "}")
    loads = json.loads
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {
            (c, r): (pk, loads(state) if isinstance(state, str | bytes) else state)
            for pk, c, r, state in cur.fetchall()
        }


def offline_states(device_ids: Iterable[int]) -> dict[int, tuple[int, Any]]:
    """The offline watches' states of the devices, {device id: (row id, state)}."""
    qs = RuleState.objects.filter(rule__isnull=True, device_id__in=list(device_ids))
    return {d: (pk, state) for pk, d, state in qs.values_list("pk", "device_id", "state")}
