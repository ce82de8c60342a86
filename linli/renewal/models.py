"""Renovation projects 老旧小区改造 (国办发〔2020〕23号; rules.md §3): a compound, or some of its
buildings, renovated item by item from a catalogue of three classes, with works progress
weighted per item (like Decidim's accountability results), sample flats and open days, and
residents' supervision reports during works. Every change of phase or progress is appended."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.scope import Scope
from linli.places.models import Building, Compound, District, Dwelling


class ItemClass(models.TextChoices):
    """The three classes of rules.md §3."""

    BASIC = "basic", pgettext_lazy("item class", "basic")
    IMPROVE = "improve", pgettext_lazy("item class", "improvement")
    ENHANCE = "enhance", pgettext_lazy("item class", "enhancement")


class CatalogueItem(models.Model):
    """An item a project may include. ``district`` empty = the national default (rules.md §3);
    a district adds its own or retires a default by an entry with the same code and active=False."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    code = models.CharField(_("code"), max_length=40)
    item_class = models.CharField(_("class"), max_length=8, choices=ItemClass.choices)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    unit = models.CharField(_("unit of measure"), max_length=20, default="项")
    unit_cost = models.DecimalField(
        _("reference unit cost (yuan)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    active = models.BooleanField(_("active"), default=True)

    scope: ClassVar[Scope] = Scope.of(path="district__path")

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
        ordering: ClassVar = ["item_class", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["district", "code"], name="catalogue_code_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(district__isnull=True), name="catalogue_default_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Phase(models.TextChoices):
    SURVEY = "survey", pgettext_lazy("phase", "needs survey")
    PLAN = "plan", pgettext_lazy("phase", "plan")
    BALLOT = "ballot", pgettext_lazy("phase", "ballot")
    NOTICE = "notice", pgettext_lazy("phase", "public notice")
    WORKS = "works", pgettext_lazy("phase", "works")
    ACCEPTANCE = "acceptance", pgettext_lazy("phase", "acceptance")
    OPERATION = "operation", pgettext_lazy("phase", "operation")


#: The phases in order: a project moves forward one at a time and back with a reason (services.change_phase).
PHASES: tuple[str, ...] = tuple(p.value for p in Phase)


class Project(models.Model):
    """A renovation project of a compound (all its buildings, or the ones listed)."""

    class Kind(models.TextChoices):
        RENOVATION = "renovation", pgettext_lazy("project kind", "renovation")
        LIFT = "lift", pgettext_lazy("project kind", "lift installation")

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="projects")
    buildings = models.ManyToManyField(
        Building, blank=True, related_name="projects", help_text=_("empty = every building of the compound")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.RENOVATION)
    name = models.CharField(_("name"), max_length=200)
    summary = models.TextField(_("summary for residents"), blank=True)
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, default=Phase.SURVEY)
    # 国办发〔2020〕23号: built before the end of 2000; a younger compound needs an override with a reason.
    eligibility_override = models.BooleanField(_("eligible by exception"), default=False)
    eligibility_reason = models.CharField(_("reason for the exception"), max_length=300, blank=True)
    is_public = models.BooleanField(_("shown on the public page"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope: ClassVar[Scope] = Scope.of(
        path="compound__path",
        grid="compound__buildings__grid_id",
        dwelling="compound__buildings__dwellings__id",
        distinct=True,
    )

    class Meta:
        verbose_name = _("renovation project")
        verbose_name_plural = _("renovation projects")
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class PhaseChange(models.Model):
    """Append-only: who moved the project to which phase, when, why."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phase_changes")
    from_phase = models.CharField(max_length=12, choices=Phase.choices, blank=True)
    to_phase = models.CharField(max_length=12, choices=Phase.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="project__compound__path")

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.project} → {self.to_phase}"


class ProjectItem(models.Model):
    """One item of a project with its estimate; progress comes from its ProgressReport history."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    catalogue_item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    item_class = models.CharField(_("class"), max_length=8, choices=ItemClass.choices)
    name = models.CharField(_("name"), max_length=100)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, default=Decimal(1), validators=[MinValueValidator(Decimal(0))]
    )
    unit = models.CharField(_("unit of measure"), max_length=20, default="项")
    unit_cost = models.DecimalField(
        _("unit cost (yuan)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    # Weight in the project's progress; by default its share of the estimated cost.
    weight = models.DecimalField(
        _("weight"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0, validators=[MaxValueValidator(100)])
    buildings = models.ManyToManyField(Building, blank=True, related_name="+")

    scope: ClassVar[Scope] = Scope.of(
        path="project__compound__path", grid="project__compound__buildings__grid_id", distinct=True
    )

    class Meta:
        verbose_name = _("project item")
        verbose_name_plural = _("project items")
        ordering: ClassVar = ["project", "item_class", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def estimate(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(Decimal("0.01"))


class ProgressReport(models.Model):
    """Append-only works progress of one item (the latest is the item's progress)."""

    item = models.ForeignKey(ProjectItem, on_delete=models.CASCADE, related_name="progress_reports")
    progress = models.PositiveSmallIntegerField(_("progress %"), validators=[MaxValueValidator(100)])
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(path="item__project__compound__path")

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.item} {self.progress}%"


class SampleFlat(models.Model):
    """A renovated sample flat 样板间 residents can visit."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sample_flats")
    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("what was done"), blank=True)
    ready_on = models.DateField(_("ready on"), null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="project__compound__path")

    class Meta:
        verbose_name = _("sample flat")
        verbose_name_plural = _("sample flats")

    def __str__(self) -> str:
        return f"{self.project} · {self.dwelling}"


class OpenDay(models.Model):
    sample_flat = models.ForeignKey(SampleFlat, on_delete=models.CASCADE, related_name="open_days")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    visitors = models.PositiveIntegerField(_("visitors"), default=0)

    scope: ClassVar[Scope] = Scope.of(path="sample_flat__project__compound__path")

    class Meta:
        verbose_name = _("open day")
        verbose_name_plural = _("open days")
        ordering: ClassVar = ["starts_at"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="open_day_ends_after")
        ]

    def __str__(self) -> str:
        return f"{self.sample_flat} {self.starts_at:%Y-%m-%d}"


class SupervisionReport(models.Model):
    """A resident supervisor's report during works (加强监督), with photos."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")
        RESOLVED = "resolved", _("resolved")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="supervision_reports")
    item = models.ForeignKey(ProjectItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("what was seen"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(_("answer"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    client_key = models.CharField(max_length=64, blank=True, help_text="idempotency key of the submitting client")

    scope: ClassVar[Scope] = Scope.of(
        path="project__compound__path", grid="project__compound__buildings__grid_id", distinct=True
    )

    class Meta:
        verbose_name = _("supervision report")
        verbose_name_plural = _("supervision reports")
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["reporter", "client_key"],
                condition=~models.Q(client_key=""),
                name="supervision_client_key_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.text[:30]}"


class ReportPhoto(models.Model):
    report = models.ForeignKey(SupervisionReport, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="supervision/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    scope: ClassVar[Scope] = Scope.of(path="report__project__compound__path")

    def __str__(self) -> str:
        return self.image.name
