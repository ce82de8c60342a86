"""Devices and their tokens: create a device with its profile's channels at a place, issue the
tokens gateways and devices post readings with (only the SHA-256 is stored, like Open311 keys).

A device's place is the finest one given: a unit (a lift), a building, a compound, or a point
(lat/lon) inside a community. Its ``path``, ``grid`` and ``community`` are copied from that place
so scoping and the alarm board read one table (``Scope.of(path=…, grid=…)``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from typing import Any

from django.db import transaction

from linli.accounts.permissions import authorize
from linli.core import clock, generations
from linli.core.errors import LinliError
from linli.core.types import User
from linli.places.models import Building, Community, Compound, District, Unit
from linli.sensing.models import Channel, Device, DeviceProfile, Gateway, Lift, LiftMaintenance, ProfileChannel
from linli.sensing.permissions import EDIT_DEVICES


def token_hash(raw: str) -> str:
    """How a token is stored and looked up: its SHA-256, hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_token() -> str:
    raw = secrets.token_urlsafe(32)
    while not raw[0].isalnum():  # a token starting with "-" reads as an option on a command line
        raw = secrets.token_urlsafe(32)
    return raw


def issue_gateway(actor: User | None, name: str, district: District) -> tuple[Gateway, str]:
    """A gateway of ``district`` and its token; the token itself is returned only here."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise LinliError.one("bad_name", "请填写网关名称(不超过 100 字)。", "Give the gateway a name (≤ 100).")
    if actor is not None:
        authorize(actor, EDIT_DEVICES, district)
    raw = _new_token()
    with transaction.atomic():
        gateway = Gateway.objects.create(name=name, district=district, prefix=raw[:8], token_hash=token_hash(raw))
    return gateway, raw


def issue_device_token(actor: User | None, device: Device) -> str:
    """A new token of the device's own (replacing any earlier one); returned only here."""
    if actor is not None:
        authorize(actor, EDIT_DEVICES, device)
    raw = _new_token()
    with transaction.atomic():
        Device.objects.filter(pk=device.pk).update(token_prefix=raw[:8], token_hash=token_hash(raw))
        generations.bump("sensing-tokens")  # the old token stops at once in every process (queries/intake)
    device.token_prefix, device.token_hash = raw[:8], token_hash(raw)
    return raw


def load_default_profiles() -> int:
    """Create the default profiles of ``profiles.PROFILES`` that are missing (by code), with their
    channels and rules; returns how many were created. Migration 0002 does the same on a new
    database; this is for a database emptied since (tests that flush, a wiped demo). Existing
    profiles are never changed: after the first load they are the district's data."""
    from linli.sensing.models import ProfileChannel, ProfileRule
    from linli.sensing.profiles import PROFILES

    created = 0
    with transaction.atomic():
        have = set(DeviceProfile.objects.values_list("code", flat=True))
        for spec in PROFILES:
            if spec["code"] in have:
                continue
            profile = DeviceProfile.objects.create(
                code=spec["code"],
                name=spec["name"],
                name_en=spec["name_en"],
                kind=spec["kind"],
                offline_after_s=spec["offline_after_s"],
                offline_severity=spec["offline_severity"],
            )
            ProfileChannel.objects.bulk_create(
                ProfileChannel(
                    profile=profile,
                    key=key,
                    name=name,
                    name_en=name_en,
                    unit=unit,
                    value_type=vt,
                    min_value=lo,
                    max_value=hi,
                )
                for key, name, name_en, unit, vt, lo, hi in spec["channels"]
            )
            ProfileRule.objects.bulk_create(ProfileRule(profile=profile, **rule) for rule in spec["rules"])
            created += 1
    return created


def place_fields(
    *,
    unit: Unit | None = None,
    building: Building | None = None,
    compound: Compound | None = None,
    community: Community | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> dict[str, Any]:
    """The denormalised place columns of a device at the finest place given."""
    if unit is not None:
        building = unit.building
    if building is not None:
        return {
            "unit": unit,
            "building": building,
            "compound_id": building.compound_id,
            "community_id": building.community_id,
            "grid_id": building.grid_id,
            "path": building.path,
            "lat": building.lat if lat is None else lat,
            "lon": building.lon if lon is None else lon,
        }
    if compound is not None:
        return {
            "compound": compound,
            "community_id": compound.community_id,
            "grid_id": None,
            "path": compound.path,
            "lat": compound.lat if lat is None else lat,
            "lon": compound.lon if lon is None else lon,
        }
    if community is not None and lat is not None and lon is not None:
        return {"community": community, "grid_id": None, "path": community.path, "lat": lat, "lon": lon}
    raise LinliError.one(
        "no_place",
        "请指定设备所在的单元、楼栋、小区,或社区内的经纬度。",
        "Give the device's unit, building or compound, or a position inside a community.",
    )


def create_device(
    actor: User | None,
    *,
    code: str,
    profile: DeviceProfile | str,
    name: str = "",
    unit: Unit | None = None,
    building: Building | None = None,
    compound: Compound | None = None,
    community: Community | None = None,
    lat: float | None = None,
    lon: float | None = None,
    gateway: Gateway | None = None,
    installed_on: date | None = None,
) -> Device:
    """A device with one channel per channel of its profile. ``actor`` None is the system (demo,
    commands); a person needs ``edit`` at the place."""
    code = (code or "").strip()
    if not code or len(code) > 64 or any(c.isspace() or c in "/+#" for c in code):
        raise LinliError.one(
            "bad_device_code",
            "设备编号须为 1–64 个字符,不含空格和 / + #。",
            "A device code is 1–64 characters without spaces, / + or #.",
        )
    if isinstance(profile, str):
        found = DeviceProfile.objects.filter(code=profile).first()
        if found is None:
            raise LinliError.one("unknown_profile", "未知的设备类型。", "Unknown device profile.")
        profile = found
    where = place_fields(unit=unit, building=building, compound=compound, community=community, lat=lat, lon=lon)
    if actor is not None:
        place = unit.building if unit is not None else (building or compound or community)
        assert place is not None  # place_fields refused otherwise
        authorize(actor, EDIT_DEVICES, place)
    device = Device(code=code, name=name.strip()[:100], profile=profile, gateway=gateway, installed_on=installed_on)
    for field, value in where.items():
        setattr(device, field, value)
    with transaction.atomic():
        if Device.objects.filter(code=code).exists():
            raise LinliError.one("duplicate_device", "设备编号已存在。", "A device with this code exists.", 409)
        device.save()
        Channel.objects.bulk_create(
            [Channel(device=device, spec=spec, key=spec.key) for spec in profile.channels.all()]
        )
    return device


# --- lifts: maintenance (helper "devices") -------------------------------------------------------

#: The earliest date a maintenance visit may carry (older records belong in the paper archive).
MAINTENANCE_SINCE = date(2000, 1, 1)


def record_maintenance(
    user: User, lift: Lift, done_on: date | None, company: str = "", note: str = ""
) -> LiftMaintenance:
    """Record a maintenance visit of ``lift`` (TSG T5002 half-monthly maintenance): appends a
    ``LiftMaintenance`` and moves ``last_maintained_on`` forward only if the visit is newer. Needs
    EDIT at the lift's place (lift data are kept by the community and the district, like the
    devices themselves). The same visit submitted twice (same day, company and note) is recorded
    once: the second call returns the first row."""
    company = (company or "").strip() or lift.maintenance_company
    note = (note or "").strip()
    if done_on is None:
        raise LinliError.one("bad_date", "请填写维保日期。", "Give the date of the maintenance visit.")
    if done_on > clock.today():
        raise LinliError.one("future_date", "维保日期不能晚于今天。", "The maintenance date cannot be in the future.")
    if done_on < MAINTENANCE_SINCE:
        raise LinliError.one(
            "old_date", "维保日期过早(早于 2000 年)。", "The maintenance date is too early (before 2000)."
        )
    if not company or len(company) > 120:
        raise LinliError.one(
            "bad_company", "请填写维保单位(不超过 120 字)。", "Give the maintenance company (at most 120 characters)."
        )
    if len(note) > 2000:
        raise LinliError.one("long_note", "备注过长(最多 2000 字)。", "The note is too long (at most 2000 characters).")
    authorize(user, EDIT_DEVICES, lift)
    with transaction.atomic():
        locked = Lift.objects.select_for_update().get(pk=lift.pk)
        same = LiftMaintenance.objects.filter(lift=locked, done_on=done_on, company=company, note=note).first()
        if same is not None:
            return same
        visit = LiftMaintenance.objects.create(
            lift=locked,
            done_on=done_on,
            company=company,
            note=note,
            recorded_by=user,  # type: ignore[misc]
            recorded_at=clock.now(),
        )
        if locked.last_maintained_on is None or done_on > locked.last_maintained_on:
            Lift.objects.filter(pk=locked.pk).update(last_maintained_on=done_on)
            lift.last_maintained_on = done_on
    return visit


def add_channels(devices: list[Device], batch: int = 2000) -> int:
    """The channels of new devices (saved, with their pks), one per channel of each one's profile:
    the device import writes its devices in bulk and then calls this once. Returns how many."""
    specs: dict[int, list[ProfileChannel]] = {}
    channels: list[Channel] = []
    for device in devices:
        if device.profile_id not in specs:
            specs[device.profile_id] = list(ProfileChannel.objects.filter(profile_id=device.profile_id))
        channels += [Channel(device=device, spec=spec, key=spec.key) for spec in specs[device.profile_id]]
    Channel.objects.bulk_create(channels, batch_size=batch)
    # bulk_create sends no signal: tell every process's intake cache (queries/intake.py) itself
    generations.bump("sensing-devices")
    return len(channels)


# --- many devices at once (the demo street; owner: helper "mqtt") -----------------------------------------


def bulk_create_devices(rows: list[dict[str, Any]], *, gateway: Gateway | None = None, batch: int = 2000) -> int:
    """Many devices at once, as the system (the demo loader: thousands of devices in seconds). Each row
    is ``create_device``'s keywords (``code``, ``profile`` a ``DeviceProfile``, ``name``, ``unit`` /
    ``building`` / ``compound`` with its building loaded, ``installed_on``) and optionally ``lift``: a
    dict of ``Lift`` fields. Codes are checked like ``create_device``'s; an existing or repeated code
    refuses the whole call (nothing written). Returns the number of devices created."""
    codes = [str(row["code"]).strip() for row in rows]
    for code in codes:
        if not code or len(code) > 64 or any(c.isspace() or c in "/+#" for c in code):
            raise LinliError.one(
                "bad_device_code",
                "设备编号须为 1–64 个字符,不含空格和 / + #。",
                "A device code is 1–64 characters without spaces, / + or #.",
            )
    if len(set(codes)) != len(codes):
        raise LinliError.one("duplicate_device", "设备编号重复。", "A device code is repeated.", 409)
    with transaction.atomic():
        for i in range(0, len(codes), batch):
            if Device.objects.filter(code__in=codes[i : i + batch]).exists():
                raise LinliError.one("duplicate_device", "设备编号已存在。", "A device with this code exists.", 409)
        devices: list[Device] = []
        for row, code in zip(rows, codes, strict=True):
            where = place_fields(unit=row.get("unit"), building=row.get("building"), compound=row.get("compound"))
            device = Device(
                code=code,
                name=str(row.get("name", "")).strip()[:100],
                profile=row["profile"],
                gateway=gateway,
                installed_on=row.get("installed_on"),
            )
            for key, value in where.items():
                setattr(device, key, value)
            devices.append(device)
        Device.objects.bulk_create(devices, batch_size=batch)
        add_channels(devices, batch)
        lifts = [Lift(device=d, **row["lift"]) for d, row in zip(devices, rows, strict=True) if row.get("lift")]
        Lift.objects.bulk_create(lifts, batch_size=batch)
    return len(devices)
