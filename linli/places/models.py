"""The place tree: district → street → community → compound → building → unit → dwelling,
with the people who own and live in dwellings, and grids (sets of buildings of one community).

Each level above the unit carries a materialised ``path`` of codes (see ``codes.py``) so that a
role held at a place scopes everything below it with one indexed prefix match.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core import crypto
from linli.core.masking import mask_id_number, mask_phone, normalise_id_number
from linli.core.scope import Scope
from linli.places.codes import child_path


class Place(models.Model):
    """Fields every administrative level shares."""

    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    path = models.CharField(_("path"), max_length=120, unique=True, editable=False)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON geometry)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope: ClassVar[Scope] = Scope.of(path="path")
    kind: ClassVar[str] = ""

    class Meta:
        abstract = True
        ordering: ClassVar = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = child_path(self.parent_path(), self.code)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def parent_path(self) -> str:
        raise NotImplementedError


class District(Place):
    kind = "district"

    class Meta(Place.Meta):
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def parent_path(self) -> str:
        return ""


class Street(Place):
    kind = "street"
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="streets")

    class Meta(Place.Meta):
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        constraints: ClassVar = [models.UniqueConstraint(fields=["district", "code"], name="street_code_unique")]

    def parent_path(self) -> str:
        return self.district.path


class Community(Place):
    kind = "community"
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities")

    class Meta(Place.Meta):
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints: ClassVar = [models.UniqueConstraint(fields=["street", "code"], name="community_code_unique")]

    def parent_path(self) -> str:
        return self.street.path


class Compound(Place):
    kind = "compound"
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="compounds")
    address = models.CharField(_("address"), max_length=200, blank=True)
    build_year = models.PositiveSmallIntegerField(
        _("build year"), null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    is_historic = models.BooleanField(_("historic (keep, do not demolish)"), default=False)

    class Meta(Place.Meta):
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        constraints: ClassVar = [models.UniqueConstraint(fields=["community", "code"], name="compound_code_unique")]

    def parent_path(self) -> str:
        return self.community.path

    def renovation_eligible_by_age(self) -> bool | None:
        """国办发〔2020〕23号: compounds built before the end of 2000 are eligible."""
        if self.build_year is None:
            return None
        return self.build_year < settings.LINLI_RENOVATION_BUILT_BEFORE_YEAR


class Grid(models.Model):
    """A grid 网格: a set of buildings of one community, 300–500 households (rules.md §4)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids")
    seq = models.PositiveSmallIntegerField(_("sequence"), validators=[MinValueValidator(1), MaxValueValidator(999)])
    code = models.CharField(_("grid code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    boundary = models.JSONField(_("boundary (GeoJSON geometry)"), null=True, blank=True)
    published = models.BooleanField(_("published"), default=True)

    scope: ClassVar[Scope] = Scope.of(path="community__path", grid="id")
    kind: ClassVar[str] = "grid"

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["community", "seq"], name="grid_seq_unique")]

    def __str__(self) -> str:
        return self.name


class Building(Place):
    kind = "building"

    class Kind(models.TextChoices):
        WALKUP = "walkup", _("walk-up (no lift)")
        MIDRISE = "midrise", _("mid-rise")
        TOWER = "tower", _("tower")
        OTHER = "other", _("other")

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="buildings")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="buildings", editable=False)
    grid = models.ForeignKey(Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="buildings")
    storeys = models.PositiveSmallIntegerField(_("storeys"), validators=[MinValueValidator(1), MaxValueValidator(120)])
    building_kind = models.CharField(_("building kind"), max_length=10, choices=Kind.choices, default=Kind.WALKUP)
    build_year = models.PositiveSmallIntegerField(_("build year"), null=True, blank=True)
    has_lift = models.BooleanField(_("has a lift"), default=False)
    is_historic = models.BooleanField(_("historic building (keep, do not demolish)"), default=False)
    scope: ClassVar[Scope] = Scope.of(path="path", grid="grid_id")

    class Meta(Place.Meta):
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints: ClassVar = [models.UniqueConstraint(fields=["compound", "code"], name="building_code_unique")]
        indexes: ClassVar = [
            models.Index(fields=["community", "grid"]),
            # events snap a reported position to the nearest building (governance.services.events.locate)
            models.Index(fields=["lat", "lon"], name="building_position"),
        ]

    def save(self, *args: object, **kwargs: object) -> None:
        # Grids never cross communities (rules.md §4); bulk loaders check it themselves.
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.community_id = self.compound.community_id
        if (
            self.grid_id is not None
            and Grid.objects.filter(pk=self.grid_id).values_list("community_id", flat=True).first() != self.community_id
        ):
            raise ValidationError({"grid": _("A grid holds buildings of its own community only.")})

    def parent_path(self) -> str:
        return self.compound.path

    @property
    def effective_build_year(self) -> int | None:
        return self.build_year or self.compound.build_year


class Unit(models.Model):
    """A unit 单元: one staircase (and, later, one lift) of a building."""

    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="units")
    number = models.CharField(_("unit number"), max_length=10)

    scope: ClassVar[Scope] = Scope.of(path="building__path", grid="building__grid_id")

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering: ClassVar = ["building", "number"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["building", "number"], name="unit_number_unique")]

    def __str__(self) -> str:
        return f"{self.building.name} {self.number}单元"


class Dwelling(models.Model):
    """A dwelling 房屋 with its registered exclusive floor area (SPC interpretation Art. 8)."""

    class AreaSource(models.TextChoices):
        REGISTER = "register", _("real-estate register")
        SURVEY = "survey", _("surveyed")
        CONTRACT = "contract", _("sales contract")

    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("residential")
        COMMERCIAL = "commercial", _("shop / commercial")
        OTHER = "other", _("other")

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="dwellings")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="dwellings", editable=False)
    number = models.CharField(_("dwelling number"), max_length=12)
    floor = models.SmallIntegerField(_("floor"), validators=[MinValueValidator(-10), MaxValueValidator(120)])
    area = models.DecimalField(
        _("registered floor area (m²)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(Decimal("5000.00"))],
    )
    area_source = models.CharField(
        _("area source"), max_length=10, choices=AreaSource.choices, default=AreaSource.REGISTER
    )
    use = models.CharField(_("use"), max_length=12, choices=Use.choices, default=Use.RESIDENTIAL)

    scope: ClassVar[Scope] = Scope.of(path="building__path", grid="building__grid_id", dwelling="id")
    kind: ClassVar[str] = "dwelling"

    class Meta:
        verbose_name = _("dwelling")
        verbose_name_plural = _("dwellings")
        ordering: ClassVar = ["unit", "floor", "number"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["unit", "number"], name="dwelling_number_unique")]

    def __str__(self) -> str:
        return f"{self.unit} {self.number}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.building_id = self.unit.building_id
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Person(models.Model):
    """A natural person, or an organisation that owns dwellings (e.g. the developer).

    ID number and phone are stored encrypted, with a keyed hash to find duplicates and a masked
    copy for lists, so that showing a roster never decrypts anything (rules.md §6).
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        DEVELOPER = "developer", _("developer (unsold dwellings)")
        ORGANISATION = "organisation", _("organisation")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=100)
    id_number_enc = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    id_number_masked = models.CharField(_("ID number"), max_length=24, blank=True, editable=False)
    phone_enc = models.TextField(blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(
        path=("ownerships__dwelling__building__path", "residencies__household__dwelling__building__path"),
        grid=("ownerships__dwelling__building__grid_id", "residencies__household__dwelling__building__grid_id"),
        dwelling=("ownerships__dwelling_id", "residencies__household__dwelling_id"),
        distinct=True,
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~models.Q(id_number_hash=""), name="person_id_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def set_id_number(self, value: str) -> None:
        value = normalise_id_number(value)
        self.id_number_enc = crypto.encrypt(value)
        self.id_number_hash = crypto.lookup_hash(value)
        self.id_number_masked = mask_id_number(value) if value else ""

    def set_phone(self, value: str) -> None:
        value = value.strip()
        self.phone_enc = crypto.encrypt(value)
        self.phone_masked = mask_phone(value) if value else ""

    # Full values are read only through linli.accounts.services.reveal(), which logs the read.
    def _id_number(self) -> str:
        return crypto.decrypt(self.id_number_enc)

    def _phone(self) -> str:
        return crypto.decrypt(self.phone_enc)


class Ownership(models.Model):
    dwelling = models.ForeignKey(Dwelling, on_delete=models.CASCADE, related_name="ownerships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="ownerships")
    share = models.DecimalField(
        _("share"),
        max_digits=5,
        decimal_places=4,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal(1))],
    )

    scope: ClassVar[Scope] = Scope.of(
        path="dwelling__building__path", grid="dwelling__building__grid_id", dwelling="dwelling_id"
    )

    class Meta:
        verbose_name = _("ownership")
        verbose_name_plural = _("ownerships")
        constraints: ClassVar = [models.UniqueConstraint(fields=["dwelling", "person"], name="ownership_unique")]

    def __str__(self) -> str:
        return f"{self.person} · {self.dwelling}"


class Household(models.Model):
    """A household 住户 living in a dwelling (owner-occupied or renting)."""

    dwelling = models.ForeignKey(Dwelling, on_delete=models.CASCADE, related_name="households")
    owner_occupied = models.BooleanField(_("owner-occupied"), default=True)
    moved_in = models.DateField(_("moved in"), null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(
        path="dwelling__building__path", grid="dwelling__building__grid_id", dwelling="dwelling_id"
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return f"{self.dwelling}"


class Resident(models.Model):
    class Relation(models.TextChoices):
        HEAD = "head", _("head of household")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", _("parent")
        OTHER = "other", _("other")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="residents")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="residencies")
    relation = models.CharField(_("relation"), max_length=8, choices=Relation.choices, default=Relation.HEAD)

    scope: ClassVar[Scope] = Scope.of(
        path="household__dwelling__building__path",
        grid="household__dwelling__building__grid_id",
        dwelling="household__dwelling_id",
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints: ClassVar = [models.UniqueConstraint(fields=["household", "person"], name="resident_unique")]

    def __str__(self) -> str:
        return f"{self.person} · {self.household}"


class GridMember(models.Model):
    """The 1+3+N roster: grid leader, full- and part-time grid workers, instructor, N forces."""

    class Role(models.TextChoices):
        LEADER = "leader", pgettext_lazy("grid role", "grid leader")
        FULLTIME = "fulltime", pgettext_lazy("grid role", "full-time grid worker")
        PARTTIME = "parttime", pgettext_lazy("grid role", "part-time grid worker")
        INSTRUCTOR = "instructor", pgettext_lazy("grid role", "grid instructor")
        FORCE = "force", pgettext_lazy("grid role", "N force (volunteers)")

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    name = models.CharField(_("name"), max_length=100)
    affiliation = models.CharField(_("affiliation"), max_length=100, blank=True)
    # The published contact (rules.md §4: the grid's worker and contact are public).
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="grid_memberships"
    )

    scope: ClassVar[Scope] = Scope.of(path="grid__community__path", grid="grid_id")

    class Meta:
        verbose_name = _("grid member")
        verbose_name_plural = _("grid members")
        ordering: ClassVar = ["grid", "role", "name"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"


PLACE_MODELS: dict[str, type[models.Model]] = {
    "district": District,
    "street": Street,
    "community": Community,
    "compound": Compound,
    "building": Building,
    "grid": Grid,
    "dwelling": Dwelling,
}


class ImportPreview(models.Model):
    """An uploaded roster or boundary file waiting to be confirmed (issue 8: imports are two steps).

    Uploading writes nothing but this row: the file (encrypted at rest: a roster holds ID numbers in
    clear), its sha256, a fingerprint of the database rows the plan was computed from, and the plan
    itself (masked: what would be created, changed old → new, and removed, with counts). Confirming
    applies the plan only if the file's digest and the fingerprint are unchanged
    (``linli.places.services.apply_preview``). The file's bytes are wiped once the preview is decided.
    """

    class Kind(models.TextChoices):
        ROSTER = "roster", _("roster")
        BOUNDARIES = "boundaries", _("boundaries")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for confirmation")
        APPLIED = "applied", _("applied")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, null=True, blank=True, related_name="import_previews"
    )
    # The community's path (or the deepest path shared by every place the file touches): the scope.
    path = models.CharField(max_length=120, db_index=True, editable=False)
    filename = models.CharField(_("file name"), max_length=200)
    encoding = models.CharField(max_length=20, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, editable=False)
    data = models.BinaryField(editable=False, default=b"")  # Fernet token of the file; b"" once decided
    fingerprint = models.CharField(max_length=64, editable=False)
    plan = models.JSONField(default=dict, editable=False)
    plan_digest = models.CharField(max_length=64, editable=False)
    resolutions = models.JSONField(default=dict, editable=False)  # conflict id → choice
    log = models.JSONField(default=list, editable=False)  # the decisions taken on this preview
    result = models.JSONField(null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="path")

    class Meta:
        verbose_name = _("import preview")
        verbose_name_plural = _("import previews")
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"
