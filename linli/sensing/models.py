"""Sensors, lifts and their alarms (issue 13, docs/sensing.md).

A ``Device`` sits at a place (a building, a unit, a compound, or a point with lat/lon) and has the
``Channel``s its ``DeviceProfile`` lists (a lift controller: running state, door, fault code, car
position; a smoke detector: smoke, battery; a pipe sensor: pressure, flow). Profiles are data,
edited in the admin: each channel's unit, type and range, and the default rules that raise alarms.

Readings arrive over MQTT or the HTTP batch API and go through one pipeline
(``services/intake.py``): validated against the profile, stored once per (channel, ts) in
``Reading`` (partitioned by day on PostgreSQL), and run through the channel's rules
(``rules.py``, whose state is kept in ``RuleState`` so a restart neither loses nor repeats an
alarm). A raise or clear becomes an ``Alarm`` (ThingsBoard's lifecycle: active/cleared ×
unacknowledged/acknowledged), one open alarm per (device, alarm type) with a count of repeats, and
an append-only ``AlarmLog``. A critical alarm opens a grid event (channel "sensor").

Camera channels carry no images of people: only alarms and their metadata (rules.md §6).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.scope import Scope


class DeviceKind(models.TextChoices):
    LIFT = "lift", pgettext_lazy("device kind", "Lift controller")
    SMOKE = "smoke", pgettext_lazy("device kind", "Smoke detector")
    PIPE = "pipe", pgettext_lazy("device kind", "Pipe sensor")
    CAMERA = "camera", pgettext_lazy("device kind", "Camera (alarms only)")
    OTHER = "other", pgettext_lazy("device kind", "Other sensor")


class ValueType(models.TextChoices):
    NUMBER = "number", pgettext_lazy("channel type", "Number")
    BOOL = "bool", pgettext_lazy("channel type", "On/off")
    CODE = "code", pgettext_lazy("channel type", "Fault code")


class Severity(models.TextChoices):
    """ThingsBoard's severities, most severe first."""

    CRITICAL = "critical", pgettext_lazy("alarm severity", "Critical")
    MAJOR = "major", pgettext_lazy("alarm severity", "Major")
    MINOR = "minor", pgettext_lazy("alarm severity", "Minor")
    WARNING = "warning", pgettext_lazy("alarm severity", "Warning")


SEVERITY_RANK: dict[str, int] = {"critical": 0, "major": 1, "minor": 2, "warning": 3}


class AlarmType(models.TextChoices):
    # lift faults after GB/T 24476 (faults.py maps the controller's codes to these)
    TRAPPED = "trapped", pgettext_lazy("alarm type", "Passengers trapped")
    OVER_TRAVEL_TOP = "over_top", pgettext_lazy("alarm type", "Over-travel at the top")
    OVER_TRAVEL_BOTTOM = "over_bottom", pgettext_lazy("alarm type", "Over-travel at the bottom")
    OUTSIDE_DOOR_ZONE = "door_zone", pgettext_lazy("alarm type", "Stopped outside the door zone")
    DOOR_OPEN_RUNNING = "door_running", pgettext_lazy("alarm type", "Door open while running")
    LIFT_FAULT = "lift_fault", pgettext_lazy("alarm type", "Other lift fault")
    # other sensors
    SMOKE = "smoke", pgettext_lazy("alarm type", "Smoke")
    BATTERY_LOW = "battery_low", pgettext_lazy("alarm type", "Battery low")
    PRESSURE_HIGH = "pressure_high", pgettext_lazy("alarm type", "Pressure too high")
    PRESSURE_LOW = "pressure_low", pgettext_lazy("alarm type", "Pressure too low")
    PRESSURE_JUMP = "pressure_jump", pgettext_lazy("alarm type", "Sudden pressure change")
    FLOW_HIGH = "flow_high", pgettext_lazy("alarm type", "Flow too high (leak?)")
    THRESHOLD = "threshold", pgettext_lazy("alarm type", "Value out of range")
    RATE = "rate", pgettext_lazy("alarm type", "Value changing too fast")
    OFFLINE = "offline", pgettext_lazy("alarm type", "Device offline")


# The order alarms are shown in everywhere: trapped passengers first (issue 13 §4), then by severity.
TOP_PRIORITY = frozenset({AlarmType.TRAPPED.value})


def priority(alarm_type: str, severity: str) -> int:
    """0 for trapped passengers, then 1 + the severity rank: lower is more urgent."""
    return 0 if alarm_type in TOP_PRIORITY else 1 + SEVERITY_RANK.get(severity, 3)


class DeviceProfile(models.Model):
    """A kind of device (data, edited in the admin): its channels and its default rules."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DeviceKind.choices, default=DeviceKind.OTHER)
    # no reading for this long → the device is offline (0: never)
    offline_after_s = models.PositiveIntegerField(_("offline after (seconds)"), default=900)
    offline_severity = models.CharField(
        _("severity of offline"), max_length=10, choices=Severity.choices, default=Severity.WARNING
    )

    class Meta:
        verbose_name = _("device profile")
        verbose_name_plural = _("device profiles")
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return self.name


class ProfileChannel(models.Model):
    """One channel every device of a profile has: key, unit, type and the range of valid readings."""

    profile = models.ForeignKey(DeviceProfile, on_delete=models.CASCADE, related_name="channels")
    key = models.SlugField(_("key"), max_length=40)  # the key in the telemetry ("pressure", "fault")
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    value_type = models.CharField(_("type"), max_length=10, choices=ValueType.choices, default=ValueType.NUMBER)
    # readings outside [min, max] are refused as out of range (not an alarm: a broken sensor)
    min_value = models.FloatField(_("lowest valid value"), null=True, blank=True)
    max_value = models.FloatField(_("highest valid value"), null=True, blank=True)

    class Meta:
        verbose_name = _("profile channel")
        verbose_name_plural = _("profile channels")
        ordering: ClassVar = ["profile", "key"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["profile", "key"], name="profile_channel_key")]

    def __str__(self) -> str:
        return f"{self.profile.code}.{self.key}"


class ProfileRule(models.Model):
    """A default rule of a profile: on one channel, raises one alarm type at one severity.

    ``kind`` picks the rule of ``rules.py`` (threshold, rate) and its parameters; ``fault_code``
    rules map a lift controller's codes to alarm types directly (``faults.py``), and the alarm type
    comes from the code. Offline is the profile's ``offline_after_s``, not a rule row."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", pgettext_lazy("rule kind", "Threshold")
        RATE = "rate", pgettext_lazy("rule kind", "Rate of change")
        FAULT_CODE = "fault_code", pgettext_lazy("rule kind", "Lift fault code")

    profile = models.ForeignKey(DeviceProfile, on_delete=models.CASCADE, related_name="rules")
    channel_key = models.SlugField(_("channel key"), max_length=40)
    kind = models.CharField(_("rule"), max_length=12, choices=Kind.choices, default=Kind.THRESHOLD)
    alarm_type = models.CharField(_("alarm type"), max_length=16, choices=AlarmType.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    above = models.FloatField(_("above"), null=True, blank=True)
    below = models.FloatField(_("below"), null=True, blank=True)
    for_s = models.PositiveIntegerField(_("for (seconds)"), default=0)
    clear_at = models.FloatField(_("clear at"), null=True, blank=True)
    max_per_s = models.FloatField(_("max change per second"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("profile rule")
        verbose_name_plural = _("profile rules")
        ordering: ClassVar = ["profile", "channel_key", "pk"]

    def __str__(self) -> str:
        return f"{self.profile.code}.{self.channel_key}: {self.kind} → {self.alarm_type}"


class Gateway(models.Model):
    """A gateway (or platform) that posts readings for many devices of one district. Only the SHA-256
    of its token is stored; the token is shown once, when issued (like Open311 keys)."""

    name = models.CharField(_("name"), max_length=100)
    district = models.ForeignKey(
        "places.District", on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="district__path")

    class Meta:
        verbose_name = _("sensor gateway")
        verbose_name_plural = _("sensor gateways")
        ordering: ClassVar = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Device(models.Model):
    """One device at one place. ``path``, ``grid`` and ``community`` are denormalised from its place
    (set by the device services) so scoping and the board's group-bys read one table."""

    code = models.CharField(_("device code"), max_length=64, unique=True)  # the id in the telemetry topic
    name = models.CharField(_("name"), max_length=100, blank=True)
    profile = models.ForeignKey(DeviceProfile, on_delete=models.PROTECT, related_name="devices")
    # where: the finest place given, and the position (the place's, or a point of its own)
    building = models.ForeignKey(
        "places.Building", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    unit = models.ForeignKey("places.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    compound = models.ForeignKey(
        "places.Compound", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("places.Grid", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    path = models.CharField(max_length=120)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    # who may post for it: its gateway's token, or a token of its own (SHA-256 only)
    gateway = models.ForeignKey(Gateway, on_delete=models.SET_NULL, null=True, blank=True, related_name="devices")
    token_prefix = models.CharField(max_length=8, blank=True, editable=False)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last reading at"), null=True, blank=True)
    online = models.BooleanField(_("online"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(path="path", grid="grid_id")

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering: ClassVar = ["path", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["token_hash"], condition=~models.Q(token_hash=""), name="device_token_unique"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["path", "profile"], name="device_path_profile"),
            models.Index(fields=["building"], name="device_building"),
        ]

    def __str__(self) -> str:
        return self.name or self.code


class Channel(models.Model):
    """One channel of one device (from its profile's ``ProfileChannel``), with its last reading."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="channels")
    spec = models.ForeignKey(ProfileChannel, on_delete=models.PROTECT, related_name="+")
    key = models.SlugField(_("key"), max_length=40)
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    last_at = models.DateTimeField(_("last reading at"), null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="device__path", grid="device__grid_id")

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering: ClassVar = ["device", "key"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["device", "key"], name="channel_device_key")]

    def __str__(self) -> str:
        return f"{self.device.code}.{self.key}"


class Reading(models.Model):
    """One raw reading, once per (channel, ts): a replayed batch inserts nothing twice. Partitioned by
    day on PostgreSQL (migrations), one table on SQLite; old days are dropped after
    ``LINLI_SENSING_RAW_DAYS`` and live on in ``ReadingHour``."""

    pk = models.CompositePrimaryKey("channel_id", "ts")
    # no index of its own: the primary key (channel_id, ts) leads with it (storage: ~⅓ less disk)
    channel = models.ForeignKey(
        Channel, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.ts:%Y-%m-%d %H:%M:%S}={self.value}"


class ReadingHour(models.Model):
    """Hourly roll-up of one channel (min, max, sum, count → average), kept for years."""

    pk = models.CompositePrimaryKey("channel_id", "hour")
    # no index of its own: the primary key (channel_id, hour) leads with it (storage)
    channel = models.ForeignKey(
        Channel, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    hour = models.DateTimeField()
    n = models.PositiveIntegerField()
    min_value = models.FloatField()
    max_value = models.FloatField()
    sum_value = models.FloatField()

    class Meta:
        verbose_name = _("hourly reading")
        verbose_name_plural = _("hourly readings")

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.hour:%Y-%m-%d %H}:00 n={self.n}"

    @property
    def avg(self) -> float:
        return self.sum_value / self.n if self.n else 0.0


# storage (services/storage.py): how far the hourly roll-ups have got, and hours to roll up again
class RollupMark(models.Model):
    """The roll-up's watermark: every hour before ``upto`` is in ``ReadingHour`` (one row, "hourly")."""

    name = models.CharField(max_length=20, primary_key=True)
    upto = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} < {self.upto:%Y-%m-%d %H:%M}"


class LateHour(models.Model):
    """An hour (UTC, on the hour) that got readings after it may have been rolled up: the next roll-up
    computes it again and deletes the row (``services.storage.note_late``)."""

    hour = models.DateTimeField(primary_key=True)

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00"


class RuleState(models.Model):
    """The state of one rule (``rules.py``, plain JSON) on one device's channel, written with the
    readings that moved it, so a restart neither loses nor repeats an alarm. ``rule`` is null for
    the device's offline watch (the profile's ``offline_after_s``)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    rule = models.ForeignKey(ProfileRule, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rule state")
        verbose_name_plural = _("rule states")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["channel", "rule"], condition=models.Q(rule__isnull=False), name="rulestate_channel_rule"
            ),
            models.UniqueConstraint(
                fields=["device"], condition=models.Q(rule__isnull=True), name="rulestate_device_offline"
            ),
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id or 'offline'} on device {self.device_id}"


class Lift(models.Model):
    """What a lift carries beyond its controller (seed 000: "finance + insurance + service + IoT"):
    its register number 使用登记证, who maintains and insures it, and the contract behind it.
    Maintenance is due every 15 days (TSG T5002 half-monthly maintenance, rules.md)."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, primary_key=True, related_name="lift")
    register_no = models.CharField(_("registration certificate number"), max_length=40, unique=True)
    maintenance_company = models.CharField(_("maintenance company"), max_length=120)
    maintenance_phone = models.CharField(_("maintenance company's phone"), max_length=30, blank=True)
    insurer = models.CharField(_("insurer"), max_length=120, blank=True)
    policy_no = models.CharField(_("insurance policy number"), max_length=60, blank=True)
    operator = models.CharField(_("finance and service operator"), max_length=120, blank=True)
    contract_no = models.CharField(_("finance/service contract number"), max_length=60, blank=True)
    contract_terms = models.TextField(_("contract terms"), blank=True)
    commissioned_on = models.DateField(_("in service since"), null=True, blank=True)
    last_maintained_on = models.DateField(_("last maintained on"), null=True, blank=True)
    maintenance_days = models.PositiveSmallIntegerField(_("maintenance interval (days)"), default=15)

    scope: ClassVar[Scope] = Scope.of(path="device__path", grid="device__grid_id")

    class Meta:
        verbose_name = _("lift")
        verbose_name_plural = _("lifts")
        ordering: ClassVar = ["register_no"]

    def __str__(self) -> str:
        return self.register_no


class LiftMaintenance(models.Model):
    """One maintenance visit of a lift (append-only)."""

    lift = models.ForeignKey(Lift, on_delete=models.CASCADE, related_name="maintenance")
    done_on = models.DateField(_("done on"))
    company = models.CharField(_("company"), max_length=120)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    scope: ClassVar[Scope] = Scope.of(path="lift__device__path", grid="lift__device__grid_id")

    class Meta:
        verbose_name = _("lift maintenance")
        verbose_name_plural = _("lift maintenance")
        ordering: ClassVar = ["-done_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.lift_id} {self.done_on}"


class Alarm(models.Model):
    """One alarm, ThingsBoard's lifecycle: active or cleared × unacknowledged or acknowledged.

    At most one *open* (not cleared) alarm per (device, alarm type): a raise while one is open
    counts a repeat. A critical alarm opens a grid event (``event``), whose step the alarm shows."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="alarms")
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    alarm_type = models.CharField(_("alarm type"), max_length=16, choices=AlarmType.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    priority = models.PositiveSmallIntegerField(default=9)  # models.priority(): 0 = trapped passengers
    value = models.FloatField(_("value"), null=True, blank=True)
    started_at = models.DateTimeField(_("raised at"))
    last_at = models.DateTimeField(_("last raised at"))
    repeats = models.PositiveIntegerField(_("repeats"), default=0)
    cleared = models.BooleanField(_("cleared"), default=False)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged = models.BooleanField(_("acknowledged"), default=False)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        "governance.Event", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # denormalised from the device for scoping and the board
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    grid = models.ForeignKey("places.Grid", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    path = models.CharField(max_length=120)

    scope: ClassVar[Scope] = Scope.of(path="path", grid="grid_id")

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering: ClassVar = ["priority", "-started_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["device", "alarm_type"], condition=models.Q(cleared=False), name="alarm_one_open"
            )
        ]
        indexes: ClassVar = [
            # the board: open alarms in scope, most urgent first
            models.Index(fields=["cleared", "priority", "started_at", "path"], name="alarm_board"),
            models.Index(fields=["device", "started_at"], name="alarm_device"),
        ]

    def __str__(self) -> str:
        return f"{self.get_alarm_type_display()} @ {self.device}"

    @property
    def status(self) -> str:
        """ThingsBoard's four statuses: ACTIVE_UNACK, ACTIVE_ACK, CLEARED_UNACK, CLEARED_ACK."""
        return f"{'cleared' if self.cleared else 'active'}_{'ack' if self.acknowledged else 'unack'}"


class AlarmLog(models.Model):
    """Append-only history of an alarm: raised, repeated, acknowledged, cleared, event opened."""

    class Kind(models.TextChoices):
        RAISED = "raised", pgettext_lazy("alarm log", "Raised")
        REPEATED = "repeated", pgettext_lazy("alarm log", "Raised again")
        ACKNOWLEDGED = "acked", pgettext_lazy("alarm log", "Acknowledged")
        CLEARED = "cleared", pgettext_lazy("alarm log", "Cleared by staff")
        AUTO_CLEARED = "auto_cleared", pgettext_lazy("alarm log", "Cleared by the sensor")
        EVENT_OPENED = "event", pgettext_lazy("alarm log", "Grid event opened")

    alarm = models.ForeignKey(Alarm, on_delete=models.PROTECT, related_name="log")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    at = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        verbose_name = _("alarm history entry")
        verbose_name_plural = _("alarm history")
        ordering: ClassVar = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.alarm_id} {self.kind} {self.at:%Y-%m-%d %H:%M:%S}"
