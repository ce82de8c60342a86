from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import ROLES, Role
from linli.core.scope import Scope


class User(AbstractUser):
    """A person who signs in. Display name in Chinese; phone kept masked in lists."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    preferred_language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)

    def __str__(self) -> str:
        return self.display_name or self.username


class Department(models.Model):
    """An organisation that handles grid events (open311.md "responsibility"): a district functional
    department (城管, 住建, 市场监管 …), an owner of components (供水, 燃气, 供电, 通信 companies) or a
    street's locality office (属地, the fallback for anything without a clear owner: 属地兜底).

    Its staff hold the role ``department_staff`` *at the department*; they see only the events
    dispatched to it (``Scope.department``) and the places of its jurisdiction (``path``)."""

    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("functional department 职能部门")
        OWNER = "owner", _("component owner 权属单位")
        LOCALITY = "locality", _("locality 属地(街道)")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    district = models.ForeignKey("places.District", on_delete=models.PROTECT, related_name="departments")
    # A locality office's street (one per street); None for district-wide departments.
    street = models.OneToOneField(
        "places.Street", on_delete=models.PROTECT, null=True, blank=True, related_name="locality_office"
    )
    # The path it serves (the street's, or the district's), kept for scope; set on save.
    path = models.CharField(_("jurisdiction path"), max_length=120, db_index=True, editable=False)
    phone = models.CharField(_("duty phone"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    scope: ClassVar[Scope] = Scope.of(path="path", department="id")

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering: ClassVar = ["kind", "code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.path = self.street.path if self.street is not None else self.district.path
        super().save(*args, **kwargs)


class RoleGrant(models.Model):
    """A role held at a place. Revoked grants are kept (revoked_at) for the record."""

    class PlaceKind(models.TextChoices):
        DISTRICT = "district", _("district")
        STREET = "street", _("street")
        COMMUNITY = "community", _("community")
        COMPOUND = "compound", _("compound")
        BUILDING = "building", _("building")
        GRID = "grid", _("grid")
        DWELLING = "dwelling", _("dwelling")
        DEPARTMENT = "department", _("department")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=20, choices=[(r.value, f"{ROLES[r].zh} {ROLES[r].en}") for r in Role])
    place_kind = models.CharField(_("place kind"), max_length=10, choices=PlaceKind.choices)
    place_id = models.BigIntegerField(_("place id"))
    # For district … building: the place's path; for a grid: its community's path; for a dwelling:
    # its building's path. Used for display and for the scope of place-held roles.
    path = models.CharField(max_length=120, db_index=True)
    label = models.CharField(_("place"), max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="path")

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        indexes: ClassVar = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.label or self.path}"


class AccessLog(models.Model):
    """Append-only record of every read of full personal data and of personal-data exports."""

    class What(models.TextChoices):
        REVEAL_ID = "reveal_id", _("full ID number read")
        REVEAL_PHONE = "reveal_phone", _("full phone read")
        VIEW_PEOPLE = "view_people", _("roster viewed (masked)")
        EXPORT = "export", _("list exported")
        IMPORT = "import", _("roster imported")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=14, choices=What.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    path = models.CharField(max_length=120, blank=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="path")

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering: ClassVar = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.what} {self.object_type}#{self.object_id}"
