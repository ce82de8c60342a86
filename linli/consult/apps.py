from __future__ import annotations

import importlib
import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Sections this app adds to renovation project pages (see linli/renewal/panels.py).
PANEL_MODULES = ("panels_surveys", "panels_visits", "panels_ballots", "panels_notices")


class ConsultConfig(AppConfig):
    name = "linli.consult"
    verbose_name = _("Consultation")

    def ready(self) -> None:
        from linli.renewal import panels

        for name in PANEL_MODULES:
            module = importlib.import_module(f"linli.consult.{name}") if _exists(name) else None
            fn = getattr(module, "panel", None)
            if fn is not None:
                panels.register(fn)
        # Imports may not change what an open ballot counts (places never imports consult).
        from linli.consult.import_guard import frozen_rolls
        from linli.places.guards import register_import_guard

        register_import_guard(frozen_rolls)


def _exists(name: str) -> bool:
    return importlib.util.find_spec(f"linli.consult.{name}") is not None
