"""``manage.py import_roster FILE --user USERNAME [--encoding gb18030] [--quiet]``

Imports a roster (.xlsx template or .csv) as USERNAME, with that user's permissions: every
community in the file must be one the user may edit. All or nothing: on any problem each one is
printed by row (Chinese, then English), nothing is written, and the exit code is 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from tqdm import tqdm

from linli.core.errors import LinliError, Problem
from linli.places.services import import_roster


def acting_user(username: str) -> Any:
    user = get_user_model()._default_manager.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"用户 {username} 不存在或已停用 / no active user {username!r}")
    return user


class Bars:
    """One tqdm bar per stage ("read", "write"), on stderr; hidden when not a terminal unless forced."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.show:
            return
        bar = self.bars.get(stage)
        if bar is None:
            desc = {"read": "读取 reading", "write": "写入 writing"}.get(stage, stage)
            bar = self.bars[stage] = tqdm(
                total=total, desc=desc, unit="row", file=sys.stderr, mininterval=0.5, dynamic_ncols=True
            )
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def print_problems(out: OutputWrapper, problems: list[Problem]) -> None:
    for p in problems:
        out.write(f"{p.text('zh-hans')}\n    {p.text('en')}")


class Command(BaseCommand):
    help = "Import a roster (.xlsx or .csv) — all or nothing / 导入房屋台账(整份导入,有错不写入)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="act as this user (their permissions apply)")
        parser.add_argument(
            "--encoding",
            choices=["utf-8", "gb18030"],
            default=None,
            help="encoding of a .csv file (default UTF-8, with or without BOM)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bars")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"找不到文件 / no such file: {path}")
        user = acting_user(opts["user"])
        bars = Bars(show=not opts["quiet"])
        try:
            with path.open("rb") as fh:
                result = import_roster(user, fh, path.name, encoding=opts["encoding"], progress=bars)
        except LinliError as exc:
            bars.close()
            print_problems(self.stderr, exc.problems)
            raise CommandError(
                f"导入失败,未写入任何数据 / import refused, nothing was written ({len(exc.problems)} problem(s))"
            ) from None
        bars.close()
        self.stdout.write(f"已导入 imported {path.name}: {result.rows} 行 rows")
        for kind, created, updated, unchanged in result.table():
            self.stdout.write(
                f"  {kind:<11} +{created} 新增 created  ~{updated} 更新 updated  ={unchanged} 未变 unchanged"
            )
