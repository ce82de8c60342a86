from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "linli.governance"
    label = "governance"
    verbose_name = _("Grid governance")

    def ready(self) -> None:
        # Every save or delete of a category tells every app process to drop its in-memory copy
        # (services.events.category_by_code, Open311's services; linli/core/generations.py).
        from linli.core import generations
        from linli.governance.models import Category

        generations.bump_on_change(Category, "categories")
