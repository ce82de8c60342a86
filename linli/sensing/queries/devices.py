"""Sensing queries: devices, their readings, lifts and the per-community counts (issue 13 §5).

Every list is ``scoped(user, SEE_DEVICES, …)`` and every object ``get_or_404``: a device outside
the user's scope is a 404. Nothing here writes.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from linli.accounts.permissions import can, get_or_404, scoped
from linli.core import clock, lang
from linli.core.types import User
from linli.places.models import Building, Community, Compound
from linli.sensing.models import (
    Alarm,
    AlarmType,
    Channel,
    Device,
    DeviceKind,
    Lift,
    LiftMaintenance,
    Reading,
    ReadingHour,
    ValueType,
)
from linli.sensing.permissions import SEE_DEVICES

#: The lift faults of GB/T 24476 that ``faults.py`` raises (the "open faults" of a lift).
LIFT_FAULTS = (
    AlarmType.TRAPPED,
    AlarmType.OVER_TRAVEL_TOP,
    AlarmType.OVER_TRAVEL_BOTTOM,
    AlarmType.OUTSIDE_DOOR_ZONE,
    AlarmType.DOOR_OPEN_RUNNING,
    AlarmType.LIFT_FAULT,
)
PLACE_MODELS: dict[str, type[Community | Compound | Building]] = {
    "community": Community,
    "compound": Compound,
    "building": Building,
}
#: How many devices the map of a list draws at most (the list itself pages through all of them).
MAP_LIMIT = 2000
#: Chart ranges of the device page: key → (hours, from raw readings?).
RANGES: dict[str, tuple[int, bool]] = {"24h": (24, True), "7d": (24 * 7, False), "30d": (24 * 30, False)}
#: At most this many raw points per channel on a chart (a reading a second for 24 h would be 86,400).
MAX_POINTS = 2000

COLOURS = {"alarm": "#b3261e", "online": "#1e7a3c", "offline": "#6b7280"}


def _open_alarms() -> Any:
    return Coalesce(
        Subquery(
            Alarm.objects.filter(device=OuterRef("pk"), cleared=False)
            .order_by()
            .values("device")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def place_or_404(user: User, kind: str, pk: int) -> Community | Compound | Building:
    """A community, compound or building the user may see devices of (404 otherwise)."""
    model = PLACE_MODELS.get(kind)
    if model is None:
        from django.http import Http404

        raise Http404
    return cast("Community | Compound | Building", get_or_404(user, SEE_DEVICES, model, pk=pk))


@dataclass
class Filters:
    kind: str = ""  # a DeviceKind or ""
    online: str = ""  # "1", "0" or ""

    @classmethod
    def read(cls, params: Any) -> Filters:
        kind = str(params.get("kind", "") or "")
        online = str(params.get("online", "") or "")
        return cls(
            kind=kind if kind in DeviceKind.values else "",
            online=online if online in {"1", "0"} else "",
        )


def devices(user: User, *, path: str = "", filters: Filters | None = None) -> QuerySet[Device]:
    """The devices the user may see (below ``path`` if given), with ``open_alarms``, filtered."""
    qs = scoped(user, SEE_DEVICES, Device.objects.all())
    if path:
        qs = qs.filter(path__startswith=path)
    f = filters or Filters()
    if f.kind:
        qs = qs.filter(profile__kind=f.kind)
    if f.online:
        qs = qs.filter(online=f.online == "1")
    return (
        qs.select_related("profile", "building", "unit", "compound", "community")
        .annotate(open_alarms=_open_alarms())
        .order_by("path", "code")
    )


def place_label(device: Device) -> str:
    """Compound · building · unit (or the community, for a point), as a person names the place."""
    parts: list[str] = []
    building = device.building
    if building is not None:
        compound = getattr(building, "compound", None)
        if compound is not None:
            parts.append(compound.name)
        parts.append(building.name)
        if device.unit is not None:
            parts.append(lang.pick(f"{device.unit.number}单元", f"unit {device.unit.number}"))
    elif device.compound is not None:
        parts.append(device.compound.name)
    else:
        parts.append(device.community.name)
    return " · ".join(parts)


def state_of(device: Device) -> str:
    """alarm | online | offline: the colour of the device on maps and badges."""
    if getattr(device, "open_alarms", 0):
        return "alarm"
    return "online" if device.online else "offline"


def profile_name(profile: Any) -> str:
    return lang.pick(profile.name, profile.name_en or profile.name)


def rows(devices_: Any) -> list[dict[str, Any]]:
    out = []
    for d in devices_:
        out.append(
            {
                "d": d,
                "url": reverse("sensing:device_detail", args=[d.pk]),
                "place": place_label(d),
                "profile": profile_name(d.profile),
                "state": state_of(d),
                "lift": d.profile.kind == DeviceKind.LIFT,
            }
        )
    return out


def map_features(qs: QuerySet[Device]) -> dict[str, Any]:
    """GeoJSON points of the devices with a position (at most MAP_LIMIT), coloured by state."""
    feats = []
    for d in qs.filter(lat__isnull=False, lon__isnull=False).select_related("building__compound")[:MAP_LIMIT]:
        state = state_of(d)
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
                "properties": {
                    "name": f"{d.name or d.code} · {profile_name(d.profile)}",
                    "url": reverse("sensing:device_detail", args=[d.pk]),
                    "kind": "device",
                    "state": state,
                    "color": COLOURS[state],
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


# --- per-community counts ----------------------------------------------------------------------


@dataclass
class CommunityCounts:
    community: Community
    url: str
    total: int = 0
    online: int = 0
    offline: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → {"online", "offline"}
    kinds: list[dict[str, Any]] = field(default_factory=list)  # [{"kind", "label", "online", "offline"}]
    lifts_faulty: int = 0


def community_counts(user: User, *, path: str = "") -> list[CommunityCounts]:
    """Per community in scope: devices by kind online/offline, and lifts with an open fault. Two
    grouped queries over the devices the user may see."""
    qs = scoped(user, SEE_DEVICES, Device.objects.all())
    if path:
        qs = qs.filter(path__startswith=path)
    grouped = qs.order_by().values("community_id", "profile__kind", "online").annotate(n=Count("pk"))
    faulty = (
        qs.filter(profile__kind=DeviceKind.LIFT)
        .filter(alarms__cleared=False, alarms__alarm_type__in=LIFT_FAULTS)
        .order_by()
        .values("community_id")
        .annotate(n=Count("pk", distinct=True))
    )
    by_comm: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    for g in grouped:
        kinds = by_comm[g["community_id"]]
        slot = kinds.setdefault(g["profile__kind"], {"online": 0, "offline": 0})
        slot["online" if g["online"] else "offline"] += g["n"]
    faults = {f["community_id"]: f["n"] for f in faulty}
    comms = Community.objects.filter(pk__in=by_comm.keys()).order_by("path")
    labels = dict(kind_labels())
    out = []
    for c in comms:
        kinds = by_comm[c.pk]
        row = CommunityCounts(
            community=c,
            # a link only where the community's own list opens (an operator held at a compound sees
            # that compound's devices counted under its community, not the community's page)
            url=reverse("sensing:place_devices", args=["community", c.pk]) if can(user, SEE_DEVICES, c) else "",
            lifts_faulty=faults.get(c.pk, 0),
        )
        for kind in DeviceKind.values:
            if kind in kinds:
                row.by_kind[kind] = kinds[kind]
                row.kinds.append({"kind": kind, "label": labels[kind], **kinds[kind]})
                row.online += kinds[kind]["online"]
                row.offline += kinds[kind]["offline"]
        row.total = row.online + row.offline
        out.append(row)
    return out


def counts_chart(counts: list[CommunityCounts]) -> dict[str, Any]:
    """The data of the stacked bar chart (online / offline per community)."""
    return {
        "labels": [c.community.name for c in counts],
        "series": [
            {"name": lang.pick("在线", "online"), "color": COLOURS["online"], "data": [c.online for c in counts]},
            {"name": lang.pick("离线", "offline"), "color": COLOURS["offline"], "data": [c.offline for c in counts]},
        ],
    }


def kind_labels() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in DeviceKind.choices]


# --- one device --------------------------------------------------------------------------------


def device_or_404(user: User, pk: int) -> Device:
    return get_or_404(
        user,
        SEE_DEVICES,
        Device.objects.select_related("profile", "building__compound", "unit", "compound", "community", "gateway"),
        pk=pk,
    )


def channels_of(device: Device) -> list[dict[str, Any]]:
    """Each channel with its name, unit, type and last value."""
    out = []
    for ch in Channel.objects.filter(device=device).select_related("spec").order_by("key"):
        spec = ch.spec
        out.append(
            {
                "ch": ch,
                "key": ch.key,
                "name": lang.pick(spec.name, spec.name_en or spec.name),
                "unit": spec.unit,
                "type": spec.value_type,
                "value": _shown(ch.last_value, spec.value_type),
                "at": ch.last_at,
            }
        )
    return out


def _shown(value: float | None, value_type: str) -> str:
    if value is None:
        return "—"
    if value_type == ValueType.BOOL:
        return lang.pick("是", "yes") if value >= 0.5 else lang.pick("否", "no")
    if value_type == ValueType.CODE or float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def series(device: Device, range_key: str) -> tuple[str, list[dict[str, Any]]]:
    """The chart data of every numeric channel over ``range_key`` (24h: raw readings, thinned to
    MAX_POINTS; longer: the hourly roll-ups' min/avg/max). Returns (the range used, charts)."""
    if range_key not in RANGES:
        range_key = "24h"
    hours, raw = RANGES[range_key]
    since = clock.now() - timedelta(hours=hours)
    charts = []
    for ch in Channel.objects.filter(device=device, spec__value_type=ValueType.NUMBER).select_related("spec"):
        name = lang.pick(ch.spec.name, ch.spec.name_en or ch.spec.name)
        if raw:
            pts = list(
                Reading.objects.filter(channel=ch, ts__gte=since)
                .order_by("-ts")
                .values_list("ts", "value")[: MAX_POINTS * 4]
            )
            pts.reverse()
            step = max(1, len(pts) // MAX_POINTS)
            data = [[int(ts.timestamp() * 1000), v] for ts, v in pts[::step]]
            lines = [{"name": name, "data": data}]
            count = len(pts)
        else:
            hrs = list(
                ReadingHour.objects.filter(channel=ch, hour__gte=since)
                .order_by("hour")
                .values_list("hour", "min_value", "sum_value", "n", "max_value")
            )
            t = [int(h[0].timestamp() * 1000) for h in hrs]
            lines = [
                {"name": lang.pick("最小", "min"), "data": [[x, h[1]] for x, h in zip(t, hrs, strict=True)]},
                {
                    "name": lang.pick("平均", "average"),
                    "data": [[x, round(h[2] / h[3], 4) if h[3] else None] for x, h in zip(t, hrs, strict=True)],
                },
                {"name": lang.pick("最大", "max"), "data": [[x, h[4]] for x, h in zip(t, hrs, strict=True)]},
            ]
            count = len(hrs)
        charts.append(
            {
                "id": f"chart-{ch.key}",
                "data_id": f"chart-{ch.key}-data",
                "key": ch.key,
                "title": name,
                "unit": ch.spec.unit,
                "count": count,
                "data": {"unit": ch.spec.unit, "lines": lines},
            }
        )
    return range_key, charts


def alarms_of(device: Device, recent: int = 20) -> tuple[list[Alarm], list[Alarm]]:
    """The device's open alarms (most urgent first) and its most recent cleared ones."""
    base = Alarm.objects.filter(device=device).select_related("event")
    open_ = list(base.filter(cleared=False).order_by("priority", "-started_at"))
    closed = list(base.filter(cleared=True).order_by("-started_at")[:recent])
    return open_, closed


def alarm_url(alarm: Alarm) -> str:
    """The alarm page (named by the ``alarms`` helper), or its URL pattern while it is not there."""
    from django.urls import NoReverseMatch

    try:
        return reverse("sensing:alarm_detail", args=[alarm.pk])
    except NoReverseMatch:
        return f"/sensing/alarms/{alarm.pk}/"


# --- lifts -------------------------------------------------------------------------------------


def lift_or_404(user: User, pk: int) -> Lift:
    return get_or_404(
        user,
        SEE_DEVICES,
        Lift.objects.select_related(
            "device__profile", "device__building__compound", "device__unit", "device__compound", "device__community"
        ),
        pk=pk,
    )


@dataclass(frozen=True)
class Due:
    """TSG T5002 half-monthly maintenance: the next visit is due ``maintenance_days`` after the last."""

    last: date | None
    next_due: date | None
    overdue_days: int  # > 0: overdue by this many days
    days_left: int | None

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    @property
    def never(self) -> bool:
        return self.last is None


def maintenance_due(last: date | None, every_days: int, commissioned: date | None, today: date) -> Due:
    """When the next maintenance is due. Never maintained: due ``every_days`` after it went into
    service (or at once when that is unknown)."""
    every = max(1, every_days or 15)
    base = last or commissioned
    if base is None:
        return Due(None, None, 1, None)
    next_due = base + timedelta(days=every)
    left = (next_due - today).days
    return Due(last, next_due, max(0, -left), left)


def due_of(lift: Lift, today: date | None = None) -> Due:
    return maintenance_due(lift.last_maintained_on, lift.maintenance_days, lift.commissioned_on, today or clock.today())


def lift_status(device: Device) -> dict[str, Any]:
    """Running, door, floor, speed and fault code from the controller's last readings."""
    last = {c.key: c for c in Channel.objects.filter(device=device)}

    def val(key: str) -> float | None:
        ch = last.get(key)
        return ch.last_value if ch is not None else None

    fault = val("fault")
    return {
        "running": val("running"),
        "door_open": val("door_open"),
        "floor": None if val("floor") is None else int(val("floor") or 0),
        "speed": val("speed"),
        "fault": None if fault is None else int(fault),
        "at": max((c.last_at for c in last.values() if c.last_at), default=None),
    }


def faults_of(device: Device, limit: int = 50) -> list[Alarm]:
    return list(
        Alarm.objects.filter(device=device, alarm_type__in=LIFT_FAULTS)
        .select_related("event")
        .order_by("-started_at")[:limit]
    )


def _seconds(a: datetime | None, b: datetime | None) -> int | None:
    if a is None or b is None:
        return None
    return max(0, int((b - a).total_seconds()))


@dataclass
class Incident:
    alarm: Alarm
    url: str
    ack_s: int | None  # raised → acknowledged
    clear_s: int | None  # raised → cleared
    dispatch_s: int | None  # raised → the grid event dispatched
    closed_s: int | None  # raised → the grid event closed


@dataclass
class Response:
    incidents: list[Incident]
    median_ack_s: float | None
    median_clear_s: float | None
    median_dispatch_s: float | None
    median_closed_s: float | None
    count_12m: int


def _median(values: list[int | None]) -> float | None:
    have = [v for v in values if v is not None]
    return float(statistics.median(have)) if have else None


def response_times(alarms: list[Alarm], since: datetime) -> Response:
    """Trapped incidents with their response times; medians over the alarms raised since ``since``
    (the last 12 months on the lift page)."""
    incidents = []
    for a in alarms:
        ev = a.event
        incidents.append(
            Incident(
                alarm=a,
                url=alarm_url(a),
                ack_s=_seconds(a.started_at, a.acknowledged_at) if a.acknowledged else None,
                clear_s=_seconds(a.started_at, a.cleared_at) if a.cleared else None,
                dispatch_s=_seconds(a.started_at, ev.dispatched_at) if ev is not None else None,
                closed_s=_seconds(a.started_at, ev.closed_at) if ev is not None else None,
            )
        )
    recent = [i for i in incidents if i.alarm.started_at >= since]
    return Response(
        incidents=incidents,
        median_ack_s=_median([i.ack_s for i in recent]),
        median_clear_s=_median([i.clear_s for i in recent]),
        median_dispatch_s=_median([i.dispatch_s for i in recent]),
        median_closed_s=_median([i.closed_s for i in recent]),
        count_12m=len(recent),
    )


def trapped_of(device: Device, limit: int = 100) -> Response:
    alarms = list(
        Alarm.objects.filter(device=device, alarm_type=AlarmType.TRAPPED)
        .select_related("event")
        .order_by("-started_at")[:limit]
    )
    return response_times(alarms, clock.now() - timedelta(days=365))


def maintenance_of(lift: Lift, limit: int = 24) -> list[LiftMaintenance]:
    return list(LiftMaintenance.objects.filter(lift=lift).select_related("recorded_by")[:limit])


def lifts(user: User, *, path: str = "") -> list[dict[str, Any]]:
    """The lifts in scope, maintenance overdue first (most overdue first), then by next due date."""
    qs = scoped(user, SEE_DEVICES, Lift.objects.all())
    if path:
        qs = qs.filter(device__path__startswith=path)
    qs = qs.select_related("device__building__compound", "device__unit", "device__compound", "device__community")
    qs = qs.annotate(
        open_faults=Count(
            "device__alarms",
            filter=Q(device__alarms__cleared=False, device__alarms__alarm_type__in=LIFT_FAULTS),
        )
    )
    today = clock.today()
    out = []
    for lift in qs:
        due = due_of(lift, today)
        out.append(
            {
                "lift": lift,
                "due": due,
                "place": place_label(lift.device),
                "url": reverse("sensing:lift_detail", args=[lift.pk]),
                "open_faults": lift.open_faults,
            }
        )
    far = date.max
    out.sort(key=lambda r: (not r["due"].overdue, -r["due"].overdue_days, r["due"].next_due or far, r["lift"].pk))
    return out


def duration_text(seconds: float | None) -> str:
    """ "3 分 20 秒" / "3 min 20 s"; "—" when unknown."""
    if seconds is None:
        return "—"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return lang.pick(f"{h} 小时 {m} 分", f"{h} h {m} min")
    if m:
        return lang.pick(f"{m} 分 {sec} 秒", f"{m} min {sec} s")
    return lang.pick(f"{sec} 秒", f"{sec} s")
