"""``manage.py roster_template OUT.xlsx``: write the roster import template (bilingual)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.places.importing import write_template


class Command(BaseCommand):
    help = "Write the roster import template / 生成房屋台账导入模板"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        out: Path = opts["out"]
        write_template(str(out))
        self.stdout.write(f"已生成模板 template written: {out}")
