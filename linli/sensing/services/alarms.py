"""Alarms (issue 13 §4): ThingsBoard's lifecycle, grid events for critical alarms, staff actions.

``apply(transitions)`` is called by the intake pipeline (``services/intake.py``) inside its
transaction, once per batch, with the raises and clears its rules produced, in time order:

- a raise with no open alarm of (device, alarm type) opens one (active, unacknowledged; its
  ``priority`` from ``models.priority``: trapped passengers first, then by severity), history
  "raised";
- a raise while one is open counts a repeat (``repeats``, ``last_at``, the value; history
  "repeated"); a more or less severe raise moves the alarm to that severity;
- a clear closes the open alarm (``cleared``, ``cleared_at``; history "auto_cleared"); a clear with
  no open alarm (staff cleared it already) changes nothing. A cleared alarm is never reopened: the
  next raise opens a new one.

At most one open alarm per (device, type): the partial unique constraint ``alarm_one_open`` and
``select_for_update`` on the open rows. Two batches racing to open the same alarm: the second
insert waits for the first transaction and fails on the constraint; its plan is made again from
the committed row, so it counts a repeat (tests/sensing/test_alarms_race.py, PostgreSQL).

A **critical** alarm opens a grid event (``governance.services.events.report``, channel
"sensor", source "sensing", client key ``alarm-<pk>``: a replay returns the same event), in the
category of ``CATEGORY_BY_TYPE`` (or of the device's kind), at the device's building or position,
described in Chinese and English. Trapped passengers make the event urgent (issue 12: top of every
queue, the command centre told at once by governance); any other critical alarm tells the command
centre on duty here (``notify`` kind "urgent"). If the event cannot be opened (no category, a place
outside every building's reach) the alarm stays without one, the failure is logged, and the next
repeat tries again.

Staff ``acknowledge`` and ``clear`` with a note (``command`` in scope, ``authorize`` once);
a second submit changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from linli.accounts.permissions import authorize
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.types import User
from linli.governance import permissions as governance_permissions
from linli.governance.models import Channel as EventChannel
from linli.governance.models import Event
from linli.governance.services import events as governance_events
from linli.notify import rules as notify_rules
from linli.notify import services as notify_services
from linli.sensing.models import (
    Alarm,
    AlarmLog,
    AlarmType,
    Device,
    DeviceKind,
    Severity,
    priority,
)
from linli.sensing.permissions import HANDLE_ALARMS
from linli.sensing.transitions import Transition

log = logging.getLogger("linli.sensing")

#: The source of the grid events sensors open (``Event.source``); with ``client_key`` unique.
SOURCE = "sensing"
#: A note of a staff action is at most this long (``AlarmLog.note``).
MAX_NOTE = 2000

#: The grid event category (governance ``categories.py`` codes) a critical alarm opens. The default
#: catalogue has no fire category (火情): smoke goes to C0107 消防设施 (the emergency management
#: bureau), the closest; a district that adds one changes this table.
CATEGORY_BY_TYPE: dict[str, str] = {
    AlarmType.TRAPPED: "C0110",  # 电梯故障 (困人)
    AlarmType.OVER_TRAVEL_TOP: "C0110",
    AlarmType.OVER_TRAVEL_BOTTOM: "C0110",
    AlarmType.OUTSIDE_DOOR_ZONE: "C0110",
    AlarmType.DOOR_OPEN_RUNNING: "C0110",
    AlarmType.LIFT_FAULT: "C0110",
    AlarmType.SMOKE: "C0107",  # 消防设施损坏 — closest to a fire alarm
    AlarmType.BATTERY_LOW: "C0107",
    AlarmType.PRESSURE_HIGH: "C0103",  # 供水管道漏水
    AlarmType.PRESSURE_LOW: "C0103",
    AlarmType.PRESSURE_JUMP: "C0103",
    AlarmType.FLOW_HIGH: "C0103",
}
#: Alarm types that say nothing of the thing (threshold, rate, offline): by the device's kind.
CATEGORY_BY_KIND: dict[str, str] = {
    DeviceKind.LIFT: "C0110",
    DeviceKind.SMOKE: "C0107",
    DeviceKind.PIPE: "C0103",
    DeviceKind.CAMERA: "E0204",  # 消防通道堵塞: the fire-lane cameras
}
OTHER_CATEGORY = "E0216"  # 其他

#: Alarm types whose event is urgent: someone is in danger now.
DANGER = frozenset({AlarmType.TRAPPED.value})


def category_for(alarm_type: str, device_kind: str) -> str:
    """The category code of the grid event an alarm of ``alarm_type`` on a device of ``device_kind`` opens."""
    return CATEGORY_BY_TYPE.get(alarm_type) or CATEGORY_BY_KIND.get(device_kind) or OTHER_CATEGORY


# --- apply: the intake's transitions -----------------------------------------------------------------


@dataclass
class _Plan:
    """What one batch changes: alarms to insert, alarms to update, history rows, events to open."""

    new: list[Alarm] = field(default_factory=list)
    changed: dict[int, Alarm] = field(default_factory=dict)
    logs: list[AlarmLog] = field(default_factory=list)
    critical: list[Alarm] = field(default_factory=list)  # raised critical (new, or open without event)
    tell: set[int] = field(default_factory=set)  # id() of those the centre is told of even without an event


_UPDATED = ["severity", "priority", "value", "last_at", "repeats", "cleared", "cleared_at", "channel"]


def apply(transitions: Sequence[Transition]) -> int:
    """Raise, repeat and clear alarms for the intake's ``transitions`` (in time order per (device,
    alarm type)); returns how many alarm rows were inserted or changed. Inside the caller's
    transaction (or its own). Nothing to do costs nothing; a batch of a few transitions costs a
    lock query, one insert or update, one insert of history (and one device query for new alarms)."""
    if not transitions:
        return 0
    with transaction.atomic(savepoint=False):
        for attempt in range(3):
            plan = _plan(transitions)
            if not plan.new:
                break
            try:
                with transaction.atomic():  # a savepoint: a racing batch's insert fails alone
                    Alarm.objects.bulk_create(plan.new)
                break
            except IntegrityError:
                # another batch opened the same alarm and committed: plan again from its row
                if attempt == 2:
                    raise
        if len(plan.changed) == 1:
            (one,) = plan.changed.values()
            one.save(update_fields=_UPDATED)
        elif plan.changed:
            Alarm.objects.bulk_update(list(plan.changed.values()), _UPDATED)
        if plan.logs:
            AlarmLog.objects.bulk_create(plan.logs)
        for alarm in plan.critical:
            open_event(alarm, tell=id(alarm) in plan.tell)
    return len(plan.new) + len(plan.changed)


def _plan(transitions: Sequence[Transition]) -> _Plan:
    devices = {t.device_id for t in transitions}
    types = {t.alarm_type for t in transitions}
    open_now: dict[tuple[int, str], Alarm] = {}
    rows = (
        Alarm.objects.select_for_update()
        .filter(device_id__in=devices, alarm_type__in=types, cleared=False)
        .order_by("pk")  # one lock order for every batch: no deadlock between two
    )
    for a in rows:
        open_now[(a.device_id, a.alarm_type)] = a
    places: dict[int, dict[str, Any]] = {}
    if any(t.kind == "raise" and (t.device_id, t.alarm_type) not in open_now for t in transitions):
        for pk, community_id, grid_id, path in Device.objects.filter(pk__in=devices).values_list(
            "pk", "community_id", "grid_id", "path"
        ):
            places[pk] = {"community_id": community_id, "grid_id": grid_id, "path": path}
    plan = _Plan()
    for t in transitions:
        key = (t.device_id, t.alarm_type)
        alarm = open_now.get(key)
        if t.kind == "raise":
            if alarm is None:
                where = places.get(t.device_id)
                if where is None:
                    log.warning("alarm for unknown device %s ignored", t.device_id)
                    continue
                alarm = Alarm(
                    device_id=t.device_id,
                    channel_id=t.channel_id,
                    alarm_type=t.alarm_type,
                    severity=t.severity,
                    priority=priority(t.alarm_type, t.severity),
                    value=t.value,
                    started_at=t.at,
                    last_at=t.at,
                    community_id=where["community_id"],
                    grid_id=where["grid_id"],
                    path=where["path"],
                )
                open_now[key] = alarm
                plan.new.append(alarm)
                plan.logs.append(AlarmLog(alarm=alarm, kind=AlarmLog.Kind.RAISED, at=t.at, value=t.value))
                if t.severity == Severity.CRITICAL:
                    plan.critical.append(alarm)
                    plan.tell.add(id(alarm))
            else:
                was_critical = alarm.severity == Severity.CRITICAL
                alarm.repeats += 1
                alarm.last_at = max(alarm.last_at, t.at)
                alarm.value = t.value
                alarm.channel_id = alarm.channel_id or t.channel_id
                alarm.severity = t.severity
                alarm.priority = priority(t.alarm_type, t.severity)
                if alarm.pk is not None:
                    plan.changed[alarm.pk] = alarm
                plan.logs.append(AlarmLog(alarm=alarm, kind=AlarmLog.Kind.REPEATED, at=t.at, value=t.value))
                if t.severity == Severity.CRITICAL and alarm.event_id is None and alarm not in plan.critical:
                    # became critical (tell the centre), or its event could not be opened before (try again)
                    plan.critical.append(alarm)
                    if not was_critical:
                        plan.tell.add(id(alarm))
        elif alarm is not None:
            alarm.cleared = True
            alarm.cleared_at = t.at
            if alarm.value is None:
                alarm.value = t.value
            if alarm.pk is not None:
                plan.changed[alarm.pk] = alarm
            plan.logs.append(AlarmLog(alarm=alarm, kind=AlarmLog.Kind.AUTO_CLEARED, at=t.at, value=t.value))
            del open_now[key]
    return plan


# --- the grid event of a critical alarm ----------------------------------------------------------------


def _texts(alarm: Alarm, device: Device) -> tuple[str, str, str, str]:
    """(place zh, place en, description zh, description en) of an alarm, for its grid event."""
    b, u, c = device.building, device.unit, device.compound or (device.building.compound if device.building else None)
    parts_zh = [device.community.name, c.name if c else "", b.name if b else "", f"{u.number}单元" if u else ""]
    parts_en = [device.community.name, c.name if c else "", b.name if b else "", f"unit {u.number}" if u else ""]
    place_zh = " ".join(p for p in parts_zh if p)
    place_en = " ".join(p for p in parts_en if p)
    name = f"{device.code}" + (f"({device.name})" if device.name else "")
    value = "" if alarm.value is None else f"{alarm.value:g}"
    at = timezone.localtime(alarm.started_at).strftime("%Y-%m-%d %H:%M:%S")  # the district's clock
    texts: dict[str, tuple[str, str]] = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            texts[lang] = (str(alarm.get_alarm_type_display()), str(alarm.get_severity_display()))
    (type_zh, sev_zh), (type_en, sev_en) = texts["zh-hans"], texts["en"]
    zh = f"物联感知报警 #{alarm.pk}:{type_zh}({sev_zh})。设备 {name},位置 {place_zh}。"
    zh += (f"读数 {value}," if value else "") + f"报警时间 {at}。"
    en = f"Sensor alarm #{alarm.pk}: {type_en} ({sev_en}). Device {name} at {place_en}."
    en += (f" Reading {value}," if value else "") + f" raised at {at}."
    return place_zh, place_en, zh, en


def open_event(alarm: Alarm, *, tell: bool = True) -> Event | None:
    """Open (or find again, by the client key ``alarm-<pk>``) the grid event of a critical alarm,
    keep it on the alarm with a history entry, and tell the command centre on duty. Inside the
    caller's transaction; a refusal (no category, no building near the device) is logged and leaves
    the alarm without an event (the next repeat tries again)."""
    device = Device.objects.select_related("profile", "community", "building__compound", "unit", "compound").get(
        pk=alarm.device_id
    )
    code = category_for(alarm.alarm_type, device.profile.kind)
    place_zh, place_en, zh, en = _texts(alarm, device)
    danger = alarm.alarm_type in DANGER
    try:
        category = governance_events.category_by_code(code)
        attributes: dict[str, Any] = {}
        for spec in category.attributes or []:
            if spec.get("code") == "danger_now":
                attributes["danger_now"] = "yes" if danger else "no"
        data = governance_events.Report(
            category=category,
            building=device.building_id,
            lat=device.lat,
            lon=device.lon,
            description=f"{zh}\n{en}",
            attributes=attributes,
            reporter_name=device.code,
            device_id=device.code,
            client_key=f"alarm-{alarm.pk}",
            danger=danger,
        )
        with transaction.atomic():
            event, created = governance_events.report(
                None, data, channel=EventChannel.SENSOR, source=SOURCE, actor_label=f"{SOURCE}:{device.code}"
            )
    except LinliError as exc:
        log.warning("alarm %s: no grid event opened: %s", alarm.pk, exc)
        if tell:
            # no event: the centre on duty for the alarm's own place (``command_centre_of`` reads ``path``)
            _tell(alarm, cast(Event, SimpleNamespace(path=alarm.path)), place_zh, place_en)
        return None
    alarm.event = event
    Alarm.objects.filter(pk=alarm.pk).update(event=event)
    AlarmLog.objects.create(alarm=alarm, kind=AlarmLog.Kind.EVENT_OPENED, at=clock.now(), note=f"#{event.pk}")
    if created and not event.urgent:
        _tell(alarm, event, place_zh, place_en)  # an urgent event told the centre itself (governance)
    return event


def _tell(alarm: Alarm, where: Event, place_zh: str, place_en: str) -> None:
    """The command centre on duty for the alarm's place, at once (kind "urgent": SMS, no quiet hours)."""
    recipients = governance_permissions.command_centre_of(where)
    if not recipients:
        return
    with translation.override("zh-hans"):
        type_zh = str(alarm.get_alarm_type_display())
    with translation.override("en"):
        type_en = str(alarm.get_alarm_type_display())
    notify_services.notify(
        notify_rules.URGENT,
        recipients,
        title_zh=f"传感器报警 #{alarm.pk}:{type_zh},{place_zh}",
        title_en=f"Sensor alarm #{alarm.pk}: {type_en}, {place_en}",
        url=reverse("sensing:alarm_detail", args=[alarm.pk]),
        ref=f"alarm:{alarm.pk}",
        urgent=True,
    )


# --- staff -------------------------------------------------------------------------------------------


def _note(text: str | None, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise LinliError.one("note_required", "请填写说明(为什么清除)。", "Say why the alarm is cleared.")
    if len(text) > MAX_NOTE:
        raise LinliError.one("too_long", "说明不超过 2000 字。", "The note is at most 2000 characters.")
    return text


def acknowledge(user: User, alarm: Alarm, note: str = "") -> tuple[Alarm, bool]:
    """The duty officer has seen the alarm (``command`` in scope). Returns (alarm, changed): an
    alarm acknowledged already (a double submit) is returned unchanged."""
    text = _note(note, required=False)
    authorize(user, HANDLE_ALARMS, alarm)
    with transaction.atomic():
        row = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if row.acknowledged:
            return row, False
        now = clock.now()
        row.acknowledged, row.acknowledged_at, row.acknowledged_by_id = True, now, user.pk
        row.save(update_fields=["acknowledged", "acknowledged_at", "acknowledged_by"])
        AlarmLog.objects.create(alarm=row, kind=AlarmLog.Kind.ACKNOWLEDGED, at=now, user_id=user.pk, note=text)
    return row, True


def clear(user: User, alarm: Alarm, note: str) -> tuple[Alarm, bool]:
    """Staff clear an alarm by hand, with the reason (``command`` in scope). The rule watching the
    channel keeps its state: the sensor raises a new alarm only after it has cleared and raised
    again. Returns (alarm, changed): an alarm cleared already is returned unchanged."""
    text = _note(note, required=True)
    authorize(user, HANDLE_ALARMS, alarm)
    with transaction.atomic():
        row = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if row.cleared:
            return row, False
        now = clock.now()
        row.cleared, row.cleared_at, row.cleared_by_id = True, now, user.pk
        row.save(update_fields=["cleared", "cleared_at", "cleared_by"])
        AlarmLog.objects.create(alarm=row, kind=AlarmLog.Kind.CLEARED, at=now, user_id=user.pk, note=text)
    return row, True
