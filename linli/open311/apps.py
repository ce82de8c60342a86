from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "linli.open311"
    label = "open311"
    verbose_name = _("Open311 GeoReport v2")

    def ready(self) -> None:
        # A key saved or deleted anywhere (admin, shell, services) is seen at once by every app
        # process (linli/core/generations.py); categories are governance's ("categories").
        from linli.core import generations
        from linli.open311.models import ApiKey

        generations.bump_on_change(ApiKey, "open311")
