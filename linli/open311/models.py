"""Open311 API keys (GeoReport v2 POST requests need an ``api_key``).

A key belongs to one client (an app, a kiosk, a partner's 311 system) and one jurisdiction (a
district): what it reports lands in that district. Only the SHA-256 of the key is stored; the key
itself is shown once, when it is issued (``manage.py open311_key create`` or the admin).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scope import Scope


class ApiKey(models.Model):
    name = models.CharField(_("client name"), max_length=100)
    # the first characters of the key, to tell keys apart in lists (not enough to use it)
    prefix = models.CharField(_("key prefix"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    district = models.ForeignKey(
        "places.District", on_delete=models.PROTECT, related_name="open311_keys", verbose_name=_("jurisdiction")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="district__path")

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering: ClassVar = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
