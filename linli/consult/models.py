"""Residents decide (怎么改、改什么由群众说了算): needs surveys, home visits with attitudes, legal
ballots under Civil Code Art. 278 (rules.md §1–2), lift consents and public notices (公示).

Ballots freeze their roll when they open (one entry per owner, with the SPC counting rules of
rules.md §1); every vote and every change of a vote is appended; a closed ballot keeps an
immutable result that can be recomputed from the exported roll and votes (``rules.decide``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core import clock
from linli.core.errors import LinliError
from linli.core.scope import Scope
from linli.places.models import Dwelling, Person
from linli.renewal.models import Project, ProjectItem

# --- needs surveys ---------------------------------------------------------------------------------


class Survey(models.Model):
    """Which items residents want (需求调查), one answer per dwelling."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(_("title"), max_length=200)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(
        path="project__compound__path", grid="project__compound__buildings__grid_id", distinct=True
    )

    class Meta:
        verbose_name = _("needs survey")
        verbose_name_plural = _("needs surveys")
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(closes_on__gte=models.F("opens_on")), name="survey_dates")
        ]

    def __str__(self) -> str:
        return self.title


class SurveyAnswer(models.Model):
    """A dwelling's answer: the items it wants. Re-answering replaces it (kept: updated_at, by)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="answers")
    dwelling = models.ForeignKey(Dwelling, on_delete=models.CASCADE, related_name="+")
    wanted = models.ManyToManyField(ProjectItem, blank=True, related_name="+")
    comment = models.TextField(_("comment"), blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    scope: ClassVar[Scope] = Scope.of(
        path="dwelling__building__path", grid="dwelling__building__grid_id", dwelling="dwelling_id"
    )

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["survey", "dwelling"], name="survey_answer_unique")]

    def __str__(self) -> str:
        return f"{self.survey} · {self.dwelling}"


# --- home visits -----------------------------------------------------------------------------------


class Attitude(models.TextChoices):
    SUPPORT = "support", pgettext_lazy("attitude", "supports")
    UNDECIDED = "undecided", pgettext_lazy("attitude", "undecided")
    OPPOSE = "oppose", pgettext_lazy("attitude", "opposes")


class Visit(models.Model):
    """A home visit 入户走访: who, when, the household's attitude and why. Append-only; a dwelling's
    current attitude on a project is its latest visit's."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="visits")
    dwelling = models.ForeignKey(Dwelling, on_delete=models.CASCADE, related_name="+")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    attitude = models.CharField(_("attitude"), max_length=10, choices=Attitude.choices)
    # Reason tags (see consult/visits vocabulary): wants_demolition, cost, low_floor_no_lift, noise, distrust …
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_visit_on = models.DateField(_("next visit on"), null=True, blank=True)
    client_key = models.CharField(max_length=64, blank=True, help_text="idempotency key of the submitting phone")
    created_at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(
        path="dwelling__building__path", grid="dwelling__building__grid_id", dwelling="dwelling_id"
    )

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        ordering: ClassVar = ["-visited_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["project", "dwelling", "visited_at"])]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["visitor", "client_key"], condition=~models.Q(client_key=""), name="visit_client_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dwelling} {self.visited_at:%Y-%m-%d} {self.attitude}"


# --- ballots ---------------------------------------------------------------------------------------


class Ballot(models.Model):
    """A vote of owners under Civil Code Art. 278 on one matter, over a scope (compound, building, or
    the unit a lift serves)."""

    class Matter(models.TextChoices):
        RULES = "1", _("(1) owners' assembly rules")
        COVENANT = "2", _("(2) management covenant")
        COMMITTEE = "3", _("(3) elect or replace the owners' committee")
        MANAGER = "4", _("(4) hire or dismiss the property manager")
        USE_FUNDS = "5", _("(5) use the repair funds")
        RAISE_FUNDS = "6", _("(6) raise the repair funds")
        REBUILD = "7", _("(7) rebuild or reconstruct buildings and facilities")
        CHANGE_USE = "8", _("(8) change the use of common parts or run a business on them")
        OTHER = "9", _("(9) other major matters")
        LIFT = "lift", _("add a lift to an existing building")

    class ScopeKind(models.TextChoices):
        COMPOUND = "compound", _("compound")
        BUILDING = "building", _("building")
        UNIT = "unit", _("unit (the lift's staircase)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        # Ended early by a manager with a published reason: decides nothing (no result counted).
        WITHDRAWN = "withdrawn", _("withdrawn")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="ballots")
    title = models.CharField(_("title"), max_length=200)
    question = models.TextField(_("question put to the owners"))
    matter = models.CharField(_("matter (Civil Code Art. 278)"), max_length=4, choices=Matter.choices)
    scope_kind = models.CharField(_("scope"), max_length=10, choices=ScopeKind.choices)
    scope_id = models.BigIntegerField(_("scope id"))
    # Materialised path of the scope's compound or building, for the permission check.
    path = models.CharField(max_length=120, db_index=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    hide_results = models.BooleanField(_("hide results until close"), default=False)
    # sha256 of the roll frozen at opening: a roll changed afterwards is detected, never used.
    roll_digest = models.CharField(max_length=64, blank=True, editable=False)
    # Written once, when the ballot is counted or withdrawn: the figures and a snapshot of what was
    # published (names of the places and the project as they were, roll size, who, when, why);
    # pages, the public panel and notices render from it (services.ballots; docs/ballots.md).
    result = models.JSONField(_("result"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_reason = models.TextField(_("reason for withdrawing"), blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(
        path="path", grid="roll__dwelling__building__grid_id", dwelling="roll__dwelling_id", distinct=True
    )

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A stored result is never rewritten (it is what was published)."""
        fields = kwargs.get("update_fields")
        if self.pk is not None and not self._state.adding and (fields is None or "result" in fields):
            stored = type(self).objects.filter(pk=self.pk).values_list("result", flat=True).first()
            if stored is not None and stored != self.result:
                raise published_immutable()
        super().save(*args, **kwargs)

    @property
    def decided(self) -> bool:
        """Counted and closed: only such a ballot decides anything (a withdrawn one never does)."""
        return self.status == self.Status.CLOSED


class RollEntry(models.Model):
    """One dwelling on a ballot's roll, frozen at opening. ``owner_key`` is the counting unit of the
    SPC interpretation (Arts. 8–9): one person (whatever the number of dwellings), or all unsold
    dwellings of the developer together."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="roll")
    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="+")
    owner_key = models.CharField(max_length=40)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    area = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    # The lift would occupy part of this dwelling's exclusive area: its owner must consent individually.
    occupied_by_lift = models.BooleanField(default=False)

    scope: ClassVar[Scope] = Scope.of(
        path="dwelling__building__path", grid="dwelling__building__grid_id", dwelling="dwelling_id"
    )

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["ballot", "dwelling"], name="roll_dwelling_unique")]
        indexes: ClassVar = [models.Index(fields=["ballot", "owner_key"])]

    def __str__(self) -> str:
        return f"{self.ballot} · {self.dwelling}"


class Choice(models.TextChoices):
    YES = "yes", pgettext_lazy("vote", "yes")
    NO = "no", pgettext_lazy("vote", "no")
    ABSTAIN = "abstain", pgettext_lazy("vote", "abstain")


class Channel(models.TextChoices):
    ONLINE = "online", _("online by the owner")
    PAPER = "paper", _("paper ballot entered by staff")
    PROXY = "proxy", _("cast by staff at the owner's request")


class Vote(models.Model):
    """The current vote of one owner (counting unit) on one ballot: one row, enforced by the database."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="votes")
    owner_key = models.CharField(max_length=40)
    choice = models.CharField(_("choice"), max_length=8, choices=Choice.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason (proxy)"), max_length=200, blank=True)
    cast_at = models.DateTimeField(auto_now=True)

    scope: ClassVar[Scope] = Scope.of(path="ballot__path")

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["ballot", "owner_key"], name="one_vote_per_owner")]

    def __str__(self) -> str:
        return f"{self.ballot} · {self.owner_key}: {self.choice}"


class VoteRecord(models.Model):
    """Append-only history of every vote cast or changed (who entered it, through which channel)."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="vote_records")
    owner_key = models.CharField(max_length=40)
    choice = models.CharField(max_length=8, choices=Choice.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    client_key = models.CharField(max_length=64, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="ballot__path")

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ballot} · {self.owner_key}: {self.choice} ({self.channel})"


class LiftConsent(models.Model):
    """The individual consent of an owner whose exclusive part the lift would occupy (rules.md §2)."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="lift_consents")
    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    consents = models.BooleanField(_("consents"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now=True)

    scope: ClassVar[Scope] = Scope.of(path="ballot__path")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["ballot", "dwelling", "owner"], name="lift_consent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ballot} · {self.dwelling}: {self.consents}"


# --- public notices --------------------------------------------------------------------------------


def published_immutable() -> LinliError:
    return LinliError.one(
        "published_immutable",
        "已发布的内容不能修改;如需更正,请追加一条注明日期的更正。",
        "What was published cannot be changed; add a dated correction instead.",
        409,
    )


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Refuses ``update()`` of the fields a model declares ``FROZEN`` (what was published)."""

    def update(self, **kwargs: Any) -> int:
        if set(kwargs) & set(getattr(self.model, "FROZEN", ())):
            raise published_immutable()
        return super().update(**kwargs)


class Notice(models.Model):
    """A public notice 公示 of a plan or a result, posted for a period (default 15 days, rules.md §2).

    What was published stays published: ``snapshot`` holds everything the notice shows (title, text,
    project, compound, community and street names, scope, the figures of a result, who published
    it and when), written once at publication; pages, the public page and the PDF render from it,
    never from the live place and project rows. ``save()`` and ``update()`` refuse to change it or
    any published field; a later correction is a ``NoticeCorrection``, appended and dated."""

    class Kind(models.TextChoices):
        PLAN = "plan", pgettext_lazy("notice kind", "plan notice")
        RESULT = "result", pgettext_lazy("notice kind", "result notice")
        WITHDRAWAL = "withdrawal", pgettext_lazy("notice kind", "withdrawal notice")

    FROZEN: ClassVar[tuple[str, ...]] = (
        "project",
        "project_id",
        "ballot",
        "ballot_id",
        "kind",
        "title",
        "body",
        "starts_on",
        "days",
        "published_by",
        "published_by_id",
        "published_at",
        "snapshot",
        "snapshot_sha256",
    )

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="notices")
    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, null=True, blank=True, related_name="notices")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    starts_on = models.DateField(_("posted on"))
    days = models.PositiveSmallIntegerField(_("period (days)"), default=15, validators=[MinValueValidator(1)])
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(default=clock.now, editable=False)
    snapshot = models.JSONField(_("as published"), null=True, blank=True, editable=False)
    # sha256 of the snapshot's canonical JSON (consult.snapshots.digest): printed on the PDF.
    snapshot_sha256 = models.CharField(max_length=64, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    scope: ClassVar[Scope] = Scope.of(
        path="project__compound__path",
        grid="project__compound__buildings__grid_id",
        dwelling="project__compound__buildings__dwellings__id",
        distinct=True,
    )

    class Meta:
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering: ClassVar = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        """The snapshot is taken when the row is first written (from the rows as they are then);
        afterwards no published field may change."""
        from linli.consult import snapshots

        if self._state.adding or self.pk is None:
            if self.snapshot is None:
                self.snapshot = snapshots.notice_snapshot(self)
            self.snapshot_sha256 = snapshots.digest(self.snapshot)
        else:
            names = [f for f in self.FROZEN if f not in ("project", "ballot", "published_by")]
            stored = type(self).objects.filter(pk=self.pk).values(*names).first()
            if stored is not None and any(stored[n] != getattr(self, n) for n in names):
                raise published_immutable()
        super().save(*args, **kwargs)


class NoticeCorrection(models.Model):
    """A dated correction of a published notice: appended, never edited, shown under the notice and
    in its PDF as "更正 / Correction (date): …". The notice itself never changes."""

    FROZEN: ClassVar[tuple[str, ...]] = ("notice", "notice_id", "text", "reason", "by", "by_id", "by_name", "at")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="corrections")
    text = models.TextField(_("correction"))
    reason = models.TextField(_("why it is corrected"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # the corrector's name as it was (the account's name may change later)
    by_name = models.CharField(max_length=150, editable=False)
    at = models.DateTimeField(default=clock.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    scope: ClassVar[Scope] = Scope.of(path="notice__project__compound__path")

    class Meta:
        verbose_name = _("notice correction")
        verbose_name_plural = _("notice corrections")
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.notice}: {self.at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not (self._state.adding or self.pk is None):
            raise published_immutable()
        if not self.by_name and self.by_id is not None:
            self.by_name = str(self.by)[:150]
        super().save(*args, **kwargs)


class Objection(models.Model):
    """An objection raised during a notice's period (anyone may raise one; contact kept encrypted)."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        NEGOTIATING = "negotiating", _("in negotiation")
        MEDIATION = "mediation", _("mediation by the residents' committee or street")
        CLOSED = "closed", _("closed")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="objections")
    name = models.CharField(_("name"), max_length=100)
    contact_enc = models.TextField(blank=True, editable=False)
    contact_masked = models.CharField(_("contact"), max_length=40, blank=True, editable=False)
    dwelling_text = models.CharField(_("building and dwelling"), max_length=100, blank=True)
    text = models.TextField(_("objection"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    response = models.TextField(_("response"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(path="notice__project__compound__path")

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.notice}: {self.name}"


class ObjectionChange(models.Model):
    """Append-only: each step of an objection (negotiation, mediation, closing), who, when, what was said."""

    objection = models.ForeignKey(Objection, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=12, choices=Objection.Status.choices)
    to_status = models.CharField(max_length=12, choices=Objection.Status.choices)
    response = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(path="objection__notice__project__compound__path")

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.objection}: {self.from_status} → {self.to_status}"
