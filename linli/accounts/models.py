from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import ROLES, Role
from linli.core import crypto, lang
from linli.core.masking import mask_phone
from linli.core.scope import Scope


class User(AbstractUser):
    """A person who signs in. Display name in Chinese; phone kept masked in lists."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    preferred_language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)
    # The mobile phone on record for signing in by SMS code and resetting a forgotten password
    # (docs/accounts.md): encrypted, found by its keyed hash, shown masked (rules.md §6).
    phone_enc = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("mobile phone"), max_length=20, blank=True, editable=False)
    # 长辈模式: larger text, larger targets, higher contrast on every page (``<html class="elder">``).
    large_text = models.BooleanField(_("large text (elder mode)"), default=False)

    def __str__(self) -> str:
        return self.display_name or self.username

    def set_phone(self, value: str) -> None:
        value = normalise_phone(value)
        self.phone_enc = crypto.encrypt(value)
        self.phone_hash = crypto.lookup_hash(value)
        self.phone_masked = mask_phone(value) if value else ""

    # To the SMS gateway only (linli.accounts.passwords): never shown, never logged in clear.
    def _phone(self) -> str:
        return crypto.decrypt(self.phone_enc)


def normalise_phone(value: str) -> str:
    """A mobile number as kept and hashed: digits only, without a +86 / 0086 prefix."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


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


def _role_name(role: str) -> str:
    spec = ROLES[Role(role)]
    return lang.pick(spec.zh, spec.en)


# A role's name in the page's language (the admin's lists and forms; one language per screen).
_role_label = lazy(_role_name, str)


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
    role = models.CharField(_("role"), max_length=20, choices=[(r.value, _role_label(r.value)) for r in Role])
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
        VOTE_REPLACED = "vote_replaced", _("owner's online vote replaced by staff")
        PASSWORD_CHANGED = "pw_changed", _("password changed")
        PASSWORD_RESET = "pw_reset", _("password reset by SMS code")
        SIGNIN_SMS = "signin_sms", _("signed in with an SMS code")

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


class OwnerAccount(models.Model):
    """The account through which one owner on the roll votes online (issue 8).

    An online vote belongs to a *person* on the roll, never to whoever holds a grant at a dwelling:
    an account becomes a person's voting account only after the owner proved who they are, either
    themself (ID number matched by its keyed hash + a one-time SMS code to the phone on record,
    ``method=sms``) or before a worker who saw their document (``method=in_person``). One active
    account per person (database constraint); a revoked row is kept for the record.
    See ``linli.accounts.verification`` and docs/ballots.md.
    """

    class Method(models.TextChoices):
        SMS = "sms", _("ID number and SMS code")
        IN_PERSON = "in_person", _("in person, document seen")

    class Document(models.TextChoices):
        ID_CARD = "id_card", _("resident ID card")
        HOUSEHOLD = "household", _("household register")
        PASSPORT = "passport", _("passport")
        PERMIT = "permit", _("travel permit (Hong Kong, Macao, Taiwan residents)")
        FOREIGN_PR = "foreign_pr", _("foreign permanent resident ID card")
        BUSINESS = "business", _("business licence with letter of authorisation")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owner_accounts")
    person = models.ForeignKey("places.Person", on_delete=models.PROTECT, related_name="owner_accounts")
    method = models.CharField(_("how verified"), max_length=10, choices=Method.choices)
    verified_at = models.DateTimeField(_("verified at"))
    # The worker who saw the document (in person); empty for self-service by SMS.
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The dwelling the verification was made from (the owner's; for the record and the page links).
    dwelling = models.ForeignKey("places.Dwelling", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    document_kind = models.CharField(_("document seen"), max_length=12, choices=Document.choices, blank=True)
    document_masked = models.CharField(_("document number (masked)"), max_length=24, blank=True)
    phone_masked = models.CharField(_("code sent to"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)

    scope: ClassVar[Scope] = Scope.of(
        path="person__ownerships__dwelling__building__path",
        grid="person__ownerships__dwelling__building__grid_id",
        dwelling="person__ownerships__dwelling_id",
        distinct=True,
    )

    class Meta:
        verbose_name = _("owner's voting account")
        verbose_name_plural = _("owners' voting accounts")
        ordering: ClassVar = ["-verified_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(revoked_at__isnull=True), name="owner_account_one_per_person"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user} = {self.person} ({self.method})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class OwnerCode(models.Model):
    """One one-time code sent by SMS for self-service owner verification: stored as a keyed hash
    (never the code), valid until ``expires_at``, used once. ``failures`` counts wrong entries;
    failures of rows not yet ``cleared`` (by a success or a worker's unlock) lock the person and
    the account (``LINLI_OTP_MAX_FAILURES``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("places.Person", on_delete=models.CASCADE, related_name="+")
    dwelling = models.ForeignKey("places.Dwelling", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    phone_masked = models.CharField(max_length=20, blank=True)
    next_url = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    failures = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("owner verification code")
        verbose_name_plural = _("owner verification codes")
        indexes: ClassVar = [
            models.Index(fields=["user", "sent_at"]),
            models.Index(fields=["person", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.person} @ {self.sent_at:%Y-%m-%d %H:%M}"


class PhoneCode(models.Model):
    """A one-time code sent by SMS to an account's phone on record, to sign in (``signin``) or to
    set a new password (``reset``): stored as a keyed hash with its salt (never the code), valid
    until ``expires_at``, used once, dead after ``LINLI_OTP_MAX_FAILURES`` wrong entries. Only
    accounts with a phone get rows: an unknown phone gets the same answer and no row
    (linli.accounts.passwords)."""

    class Purpose(models.TextChoices):
        SIGNIN = "signin", _("sign in")
        RESET = "reset", _("reset password")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    phone_hash = models.CharField(max_length=64, db_index=True)
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    failures = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")
        indexes: ClassVar = [models.Index(fields=["phone_hash", "purpose", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.purpose} @ {self.sent_at:%Y-%m-%d %H:%M}"
