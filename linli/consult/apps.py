from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    name = "linli.consult"
    verbose_name = _("Consultation")

    def ready(self) -> None:
        """Add consult's sections to renovation project pages (``linli.renewal.panels``) and the
        guard that keeps an open ballot's frozen roll from changing on import
        (``linli.places.guards``): places and renewal never import consult."""
        from linli.consult.import_guard import frozen_rolls
        from linli.consult.panels import PANELS
        from linli.places.guards import register_import_guard
        from linli.renewal import panels as renewal_panels

        for panel in PANELS:
            renewal_panels.register(panel)
        register_import_guard(frozen_rolls)
