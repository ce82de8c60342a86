"""``manage.py import_roster FILE --user USERNAME [--encoding gb18030] [--quiet] [--preview-only]``
``manage.py import_roster --confirm PREVIEW_ID --user USERNAME``
``manage.py import_roster FILE --user USERNAME --enqueue --place PATH``

Imports a roster (.xlsx template or .csv) as USERNAME, with that user's permissions: every
community in the file must be one the user may edit. Like the page it goes through a preview
(``linli.places.services``): the file is checked as a whole and planned, then applied in one
transaction. On any problem each one is printed by row (Chinese, then English), nothing is written,
and the exit code is 1.

``--preview-only`` stops after the preview: it prints what would be created, changed and removed
and the preview's page, where a worker can decide conflicts about people and confirm. A file with
such a conflict (an ID number with another name, a name with another ID number) is never applied
from here: its preview waits on the page. ``--confirm ID`` applies a stored preview afterwards.

The command works synchronously (an operator's tool). ``--enqueue`` instead hands the file to a
background worker, like the import page: it prints the run's id and page, and the worker reads it
into a preview (``--place``: the path of the street or community above every row, whose EDIT right
the user needs, e.g. ``500107/001/``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.urls import reverse
from tqdm import tqdm

from linli.core.errors import LinliError, Problem
from linli.core.types import User
from linli.places.services import ImportResult, apply_preview, import_roster, preview_roster


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


def print_result(out: OutputWrapper, name: str, result: ImportResult) -> None:
    out.write(f"已导入 imported {name}: {result.rows} 行 rows")
    for kind, created, updated, unchanged in result.table():
        removed = result.removed.get(kind, 0)
        out.write(
            f"  {kind:<11} +{created} 新增 created  ~{updated} 更新 updated  -{removed} 删除 removed  "
            f"={unchanged} 未变 unchanged"
        )


class Command(BaseCommand):
    help = "Import a roster (.xlsx or .csv) through a preview — all or nothing / 导入房屋台账(先预览,整份导入)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, nargs="?")
        parser.add_argument("--user", required=True, help="act as this user (their permissions apply)")
        parser.add_argument(
            "--encoding",
            choices=["utf-8", "gb18030"],
            default=None,
            help="encoding of a .csv file (default UTF-8, with or without BOM)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bars")
        parser.add_argument(
            "--preview-only", action="store_true", help="store and print the preview; write nothing else"
        )
        parser.add_argument("--confirm", type=int, metavar="PREVIEW_ID", help="apply a stored preview")
        parser.add_argument("--enqueue", action="store_true", help="start a background run for a worker; print its id")
        parser.add_argument("--place", help="with --enqueue: path of the place above every row (EDIT needed)")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = acting_user(opts["user"])
        bars = Bars(show=not opts["quiet"])
        path: Path | None = opts["file"]
        try:
            if opts["confirm"] is not None:
                result = apply_preview(user, opts["confirm"], progress=bars)
                bars.close()
                print_result(self.stdout, f"#{opts['confirm']}", result)
                return
            if path is None or not path.is_file():
                raise CommandError(f"找不到文件 / no such file: {path}")
            if opts["enqueue"]:
                self._enqueue(user, path, opts)
                return
            with path.open("rb") as fh:
                if opts["preview_only"]:
                    preview = preview_roster(user, fh, path.name, encoding=opts["encoding"], progress=bars)
                    bars.close()
                    self._print_preview(preview)
                    return
                result = import_roster(user, fh, path.name, encoding=opts["encoding"], progress=bars)
        except LinliError as exc:
            bars.close()
            print_problems(self.stderr, exc.problems)
            raise CommandError(
                f"导入失败,未写入任何数据 / import refused, nothing was written ({len(exc.problems)} problem(s))"
            ) from None
        except Exception as exc:
            from django.core.exceptions import PermissionDenied
            from django.http import Http404

            if isinstance(exc, Http404 | PermissionDenied):
                raise CommandError("预览不存在或无权操作 / no such preview, or not allowed") from None
            raise
        bars.close()
        assert path is not None
        print_result(self.stdout, path.name, result)

    def _enqueue(self, user: User, path: Path, opts: dict[str, Any]) -> None:
        from linli.places.models import Community, District, Street
        from linli.places.services import start_preview

        where = (opts.get("place") or "").strip().strip("/") + "/"
        place = next(
            (p for model in (Community, Street, District) if (p := model.objects.filter(path=where).first())), None
        )
        if place is None:
            raise CommandError(f"--enqueue 需要 --place(街道或社区的路径)/ --enqueue needs --place PATH: {where!r}")
        with path.open("rb") as fh:
            data = fh.read()

        class Upload:
            name = path.name

            def read(self) -> bytes:
                return data

        community = place if isinstance(place, Community) else None
        run = start_preview(user, Upload(), "roster", community=community, encoding=opts["encoding"], target=place)
        self.stdout.write(f"run {run.pk} {run.status}: {reverse('runs:detail', args=[run.pk])}")

    def _print_preview(self, preview: Any) -> None:
        plan = preview.plan
        self.stdout.write(f"预览 preview #{preview.pk}: {preview.filename} — 尚未写入 nothing written yet")
        for kind, c in plan["counts"].items():
            self.stdout.write(
                f"  {kind:<11} +{c['created']} 新增 created  ~{c['changed']} 更新 changed  -{c['removed']} 删除 removed"
                f"  ={c['unchanged']} 未变 unchanged"
            )
        for c in plan["conflicts"]:
            self.stdout.write(
                f"  冲突 conflict {c['id']} rows {c['rows']}: {c['person_name']} ({c['person_id_masked']}) ↔ "
                f"{c['file_name']} ({c['file_id_masked']})"
            )
        self.stdout.write(
            f"确认 confirm: {reverse('places:io_preview', args=[preview.pk])}  或 or  "
            f"manage.py import_roster --confirm {preview.pk} --user {preview.created_by.username}"
        )
