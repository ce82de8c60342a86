"""``manage.py import_boundaries FILE --user USERNAME``: outlines from a GeoJSON FeatureCollection.

Each feature names its place in ``properties``: ``path`` (e.g. ``500107/001/001/0001``) for a
community, compound or building, or ``kind: grid`` with the grid ``code``. All or nothing, with
the user's permissions; problems are printed one by one and the exit code is 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core.errors import LinliError
from linli.places.management.commands.import_roster import Bars, acting_user, print_problems
from linli.places.services import import_boundaries


class Command(BaseCommand):
    help = "Import boundaries from GeoJSON — all or nothing / 导入边界(GeoJSON)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True)
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"找不到文件 / no such file: {path}")
        user = acting_user(opts["user"])
        bars = Bars(show=not opts["quiet"])
        try:
            counts = import_boundaries(user, path.read_bytes(), progress=bars, filename=path.name)
        except LinliError as exc:
            bars.close()
            print_problems(self.stderr, exc.problems)
            raise CommandError("导入失败,未写入任何数据 / import refused, nothing was written") from None
        bars.close()
        self.stdout.write("已导入边界 boundaries imported: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
