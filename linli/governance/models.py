"""Grid events and their closed loop (issue 4; open311.md, rules.md §4).

An ``Event`` is one reported problem at one place, from any channel (grid worker, resident, hotline
desk, sensor, task from above, an Open311 client). It moves through the seven steps of
``loop.py``; every move appends an ``EventLog`` row (never updated or deleted). A department's
requests to return, void, extend, defer or put a case on the backlog are ``EventRequest``s that
the command centre approves or refuses.

Dashboard figures are grouped over denormalised columns of ``Event`` (sector, kind, grid,
community, street, department, due and closed times), so the command centre reads one table.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core import lang
from linli.core.scope import Scope
from linli.governance.categories import KIND_NAMES, SECTOR_NAMES, Kind, Sector
from linli.governance.loop import CLOSED_STEPS, MOVE_NAMES, STEP_NAMES, Move, Step

# Choice labels speak the active language only (issue 12): the English of loop.py / categories.py as
# msgid, their Chinese in parts/governance.po (tests/governance/test_choice_labels.py keeps the two
# in step). APIs keep both from the (zh, en) pairs; pages show a label or ``lang.pick`` of a pair.
STEP_LABELS: dict[Step, Promise] = {
    Step.COLLECTED: pgettext_lazy("event step", "Collected"),
    Step.REGISTERED: pgettext_lazy("event step", "Registered"),
    Step.DISPATCHED: pgettext_lazy("event step", "Dispatched"),
    Step.HANDLING: pgettext_lazy("event step", "Being handled"),
    Step.REPORTED: pgettext_lazy("event step", "Reported back"),
    Step.CLOSED: pgettext_lazy("event step", "Verified and closed"),
    Step.EVALUATED: pgettext_lazy("event step", "Evaluated"),
    Step.VOIDED: pgettext_lazy("event step", "Voided"),
}
MOVE_LABELS: dict[Move, Promise] = {
    Move.REGISTER: pgettext_lazy("event move", "Register"),
    Move.DISPATCH: pgettext_lazy("event move", "Dispatch"),
    Move.ACCEPT: pgettext_lazy("event move", "Accept"),
    Move.REPORT: pgettext_lazy("event move", "Report back"),
    Move.VERIFY_PASS: pgettext_lazy("event move", "Verified: close"),
    Move.VERIFY_FAIL: pgettext_lazy("event move", "Verification failed: rework"),
    Move.EVALUATE: pgettext_lazy("event move", "Evaluate"),
    Move.RETURN: pgettext_lazy("event move", "Return"),
    Move.VOID: pgettext_lazy("event move", "Void"),
    Move.BACKLOG: pgettext_lazy("event move", "Backlog"),
    Move.UNBACKLOG: pgettext_lazy("event move", "Off the backlog"),
    Move.EXTEND: pgettext_lazy("event move", "Extend"),
    Move.DEFER: pgettext_lazy("event move", "Defer"),
    Move.WHISTLE: pgettext_lazy("event move", "Blow the whistle"),
    Move.ESCALATE: pgettext_lazy("event move", "Escalate (overdue)"),
    Move.NOTE: pgettext_lazy("event move", "Note"),
    Move.URGENT: pgettext_lazy("event move", "Mark urgent"),
    Move.NOT_URGENT: pgettext_lazy("event move", "No longer urgent"),
}
REPORTED_LABEL = pgettext_lazy("event move", "Reported")  # the "create" row of the history
KIND_LABELS: dict[Kind, Promise] = {
    Kind.COMPONENT: pgettext_lazy("category class", "Component"),
    Kind.INCIDENT: pgettext_lazy("category class", "Incident"),
}
SECTOR_LABELS: dict[Sector, Promise] = {
    Sector.PARTY: pgettext_lazy("sector", "Party building"),
    Sector.ECONOMY: pgettext_lazy("sector", "Economic development"),
    Sector.LIVELIHOOD: pgettext_lazy("sector", "Livelihood services"),
    Sector.SAFETY: pgettext_lazy("sector", "Safety and rule of law"),
}

STEP_CHOICES = [(s.value, STEP_LABELS[s]) for s in STEP_NAMES]
MOVE_CHOICES = [(m.value, MOVE_LABELS[m]) for m in MOVE_NAMES]
KIND_CHOICES = [(k.value, KIND_LABELS[k]) for k in KIND_NAMES]
SECTOR_CHOICES = [(s.value, SECTOR_LABELS[s]) for s in SECTOR_NAMES]


class Category(models.Model):
    """An event category (an Open311 *service*): a component or incident of one of the four sectors."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    kind = models.CharField(_("class"), max_length=10, choices=KIND_CHOICES)
    sector = models.CharField(_("sector"), max_length=12, choices=SECTOR_CHOICES)
    description = models.TextField(_("description"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    # The component's owner (部件) or second in line for an incident (事件); None = the locality only.
    owner = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="owned_categories"
    )
    # Hours per step limit ({"accept": 1, "handle": 24} …); loop.DEFAULT_LIMITS fill the rest.
    limits = models.JSONField(_("time limits (hours)"), default=dict, blank=True)
    # Open311 service-definition attributes: [{code, zh, en, datatype, required, values: [[key, zh, en]]}]
    attributes = models.JSONField(_("attributes"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("event category")
        verbose_name_plural = _("event categories")
        ordering: ClassVar = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def label(self) -> str:
        """The name in the active language (``name_en`` on English pages when there is one)."""
        return lang.pick(self.name, self.name_en)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[Kind(self.kind)]) if self.kind in Kind._value2member_map_ else self.kind


class RoutingRule(models.Model):
    """Send events of ``category`` at places under ``path`` to ``department`` (most specific path wins).
    Without a rule: a component to its owner, an incident to the locality (属地兜底)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routes")
    path = models.CharField(_("place path prefix"), max_length=120)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="routes")
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="path")

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints: ClassVar = [models.UniqueConstraint(fields=["category", "path"], name="route_unique")]

    def __str__(self) -> str:
        return f"{self.category} @ {self.path} → {self.department}"


class Channel(models.TextChoices):
    GRID = "grid", pgettext_lazy("event channel", "grid worker")
    RESIDENT = "resident", pgettext_lazy("event channel", "resident")
    HOTLINE = "hotline", pgettext_lazy("event channel", "hotline desk")
    SENSOR = "sensor", pgettext_lazy("event channel", "sensor alarm")
    TASK = "task", pgettext_lazy("event channel", "task from above")
    OPEN311 = "open311", _("Open311 client")


class Event(models.Model):
    """One reported problem. ``step`` is where it waits (loop.Step)."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="events", db_index=False)
    # denormalised from the category for the command centre's group-bys
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    sector = models.CharField(max_length=12, choices=SECTOR_CHOICES)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    # where it is: the nearest building (snapped within LINLI_EVENT_SNAP_METRES), its grid and places
    building = models.ForeignKey(
        "places.Building", on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    grid = models.ForeignKey("places.Grid", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    path = models.CharField(max_length=120)

    # who reported it; contact data is for the handling chain only (issue 4 "Bad input and safety")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reporter_name = models.CharField(_("reporter's name"), max_length=100, blank=True)
    reporter_phone_enc = models.TextField(blank=True)
    reporter_phone_masked = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    # keyed hash of the phone (crypto.lookup_hash): staff find a caller's cases without decrypting any
    reporter_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    reporter_email_enc = models.TextField(blank=True)
    account_id = models.CharField(max_length=64, blank=True)
    device_id = models.CharField(max_length=64, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    # idempotency: (source, client_key) is unique, so a phone or client retrying never duplicates
    source = models.CharField(max_length=40)  # "u:<user id>" or "k:<api key id>" or "sys"
    client_key = models.CharField(max_length=64, blank=True)

    step = models.CharField(_("step"), max_length=10, choices=STEP_CHOICES, default=Step.COLLECTED)
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="events", db_index=False
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("reported at"))
    updated_at = models.DateTimeField(_("updated at"))
    step_started_at = models.DateTimeField()
    step_due_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # the deadline 按期结案 is measured against (set at first dispatch, moved by approved extensions)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    escalation = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    backlog = models.BooleanField(_("on the backlog"), default=False)
    # someone is in danger now (danger_now = yes, or marked by staff): shorter limits (loop.limits_for),
    # top of every queue, the command centre notified at once (rules.md §7 "Urgent cases")
    urgent = models.BooleanField(_("urgent"), default=False)
    deferred_until = models.DateTimeField(_("deferred until"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("reworks"), default=0)
    return_count = models.PositiveSmallIntegerField(_("returns"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0)
    score = models.PositiveSmallIntegerField(_("evaluation (1–5)"), null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    scope: ClassVar[Scope] = Scope.of(path="path", grid="grid_id", department="department_id")

    class Meta:
        verbose_name = _("grid event")
        verbose_name_plural = _("grid events")
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["source", "client_key"], condition=~models.Q(client_key=""), name="event_client_key_unique"
            )
        ]
        # Every index slows the intake insert (Open311 is benchmarked at ≥ 500 reports/s), so each one
        # here serves a named reader, and foreign keys another index already starts with get none:
        # nearby duplicates, a department's queue, scoped lists, and the command centre's GROUP BYs.
        indexes: ClassVar = [
            models.Index(fields=["category", "lat", "lon"], name="event_cat_pos"),
            models.Index(fields=["department", "step"], name="event_dept_step"),
            models.Index(fields=["path", "created_at"], name="event_path_created"),
            # the overdue list (longest overdue first) and escalate_events
            models.Index(fields=["step_due_at"], name="event_step_due"),
            # The command centre's GROUP BYs (linli/dashboard/queries.py), each read from an index
            # alone: the range column first, then every column the query groups, counts or scopes on.
            models.Index(
                fields=[
                    "due_at",
                    "department",
                    "grid",
                    "category",
                    "step",
                    "closed_at",
                    "rework_count",
                    "deferred_until",
                    "path",
                ],
                name="event_dash_due",
            ),
            models.Index(fields=["created_at", "path", "grid", "department"], name="event_dash_created"),
            models.Index(fields=["closed_at", "step", "path", "grid", "department"], name="event_dash_closed"),
            models.Index(
                fields=["step", "category", "grid", "department", "step_due_at", "backlog", "deferred_until", "path"],
                name="event_dash_open",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category.name}"

    @property
    def is_open(self) -> bool:
        return self.step not in CLOSED_STEPS

    @property
    def step_names(self) -> tuple[str, str]:
        return STEP_NAMES[Step(self.step)]

    @property
    def step_label(self) -> str:
        """The step in the active language (pages; APIs take ``step_names``)."""
        return lang.pick(*self.step_names)

    @property
    def place_name(self) -> str:
        """Where it is as people find it: compound and building ("瑞丰新村 2栋"), not community and
        grid (most compounds of a community have a 2栋). Load ``building__compound`` with the event."""
        b = self.building
        if b is None:
            return self.community.name
        return f"{b.compound.name} {b.name}"


class EventLog(models.Model):
    """Append-only history of an event: every move, who, when, from which step to which."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="log")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=100, blank=True)  # "Open311: <client>", "system", a name
    move = models.CharField(max_length=12, choices=[*MOVE_CHOICES, ("create", REPORTED_LABEL)])
    step_from = models.CharField(max_length=10, choices=STEP_CHOICES, blank=True)
    step_to = models.CharField(max_length=10, choices=STEP_CHOICES)
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="event__path", grid="event__grid_id", department="event__department_id")

    class Meta:
        verbose_name = _("event history entry")
        verbose_name_plural = _("event history")
        ordering: ClassVar = ["at", "pk"]

    def __str__(self) -> str:
        return f"#{self.event_id} {self.move} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("event history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("event history is append-only")

    @property
    def move_names(self) -> tuple[str, str]:
        if self.move == "create":
            return ("上报", "Reported")
        return MOVE_NAMES[Move(self.move)]


def event_photo_path(instance: EventPhoto, filename: str) -> str:
    return f"events/{instance.event_id}/{filename}"


class EventPhoto(models.Model):
    class Stage(models.TextChoices):
        REPORT = "report", _("as reported")
        HANDLE = "handle", _("after handling")
        VERIFY = "verify", _("at verification")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=8, choices=Stage.choices)
    image = models.ImageField(upload_to=event_photo_path)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # The stamp the reporter's phone drew on the photo (issue 12 §8, docs/governance.md "Photos and
    # bad signal"): when and where it was taken by the device's clock and position (accuracy in
    # metres). The server's own received time is ``uploaded_at``.
    taken_at = models.DateTimeField(null=True, blank=True)
    taken_lat = models.FloatField(null=True, blank=True)
    taken_lon = models.FloatField(null=True, blank=True)
    taken_accuracy = models.FloatField(null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="event__path", grid="event__grid_id", department="event__department_id")

    class Meta:
        ordering: ClassVar = ["pk"]

    def __str__(self) -> str:
        return f"#{self.event_id} {self.stage} photo"


class EventRequest(models.Model):
    """A department's request to return, void, extend, defer or backlog a case; the command centre
    decides. Counted per department (open311.md: "need approval and are counted")."""

    class Kind(models.TextChoices):
        RETURN = "return", pgettext_lazy("request kind", "return")
        VOID = "void", pgettext_lazy("request kind", "void")
        EXTEND = "extend", pgettext_lazy("request kind", "extension")
        DEFER = "defer", pgettext_lazy("request kind", "deferral")
        BACKLOG = "backlog", pgettext_lazy("request kind", "backlog")

    class Decision(models.TextChoices):
        PENDING = "pending", pgettext_lazy("request decision", "pending")
        APPROVED = "approved", pgettext_lazy("request decision", "approved")
        REFUSED = "refused", pgettext_lazy("request decision", "refused")

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    reason = models.TextField(_("reason"), max_length=1000)
    hours = models.PositiveIntegerField(_("extra hours"), null=True, blank=True)
    until = models.DateTimeField(_("deferred until"), null=True, blank=True)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, null=True, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decision = models.CharField(max_length=8, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="event__path", grid="event__grid_id", department="department_id")

    class Meta:
        verbose_name = _("request for approval")
        verbose_name_plural = _("requests for approval")
        ordering: ClassVar = ["-requested_at"]
        constraints: ClassVar = [
            # one open request per case at a time
            models.UniqueConstraint(
                fields=["event"], condition=models.Q(decision="pending"), name="one_pending_request"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.event_id} {self.kind} ({self.decision})"


# --- residents take part (issue 12 §9, docs/governance.md "Residents take part") ---------------------


class Support(models.Model):
    """ "Me too" (我也遇到, +1): a signed-in person says a reported problem is theirs too, instead of
    filing a duplicate. One per person and event (a second click is a no-op); only the count is shown."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    scope: ClassVar[Scope] = Scope.of(path="event__path", grid="event__grid_id", department="event__department_id")

    class Meta:
        # (event, user) also serves the counts per event and "does this person support it"
        constraints: ClassVar = [models.UniqueConstraint(fields=["event", "user"], name="support_once")]

    def __str__(self) -> str:
        return f"#{self.event_id} +1 {self.user_id}"


class Follow(models.Model):
    """A signed-in person follows a report: told when its status changes (``followed_status``).
    ``by_support``: made by "me too" (undoing the +1 undoes it; a follow chosen by itself stays)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    by_support = models.BooleanField(default=False)

    scope: ClassVar[Scope] = Scope.of(path="event__path", grid="event__grid_id", department="event__department_id")

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["event", "user"], name="follow_once")]
        indexes: ClassVar = [models.Index(fields=["user", "-at"], name="follow_user")]  # "我关注的问题"

    def __str__(self) -> str:
        return f"#{self.event_id} followed by {self.user_id}"
