"""manage.py load_catalogue: create the national default catalogue items that are missing
(国办发〔2020〕23号, rules.md §3). Idempotent; never overwrites an edited item."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from linli.renewal import catalogue
from linli.renewal.services import ensure_default_catalogue


class Command(BaseCommand):
    help = "Load the default renovation item catalogue (idempotent). 载入默认改造项目目录。"

    def handle(self, *args: Any, **options: Any) -> None:
        created = ensure_default_catalogue()
        total = len(catalogue.DEFAULT_ITEMS)
        self.stdout.write(f"catalogue: {created} created, {total - created} already present ({total} defaults)")
