"""``manage.py load_demo_consent [--seed N] [--as-of YYYY-MM-DD] [--if-empty]``: the consent story
(issue 3) onto the demo district: 劳动三村's renovation project with its needs survey, home visits
(the pilot building's support rising from 23 % to 100 %), sample flat, approved owners' ballot,
notices and works, and an open lift ballot where ``demo-resident`` can vote. Needs ``load_demo``
first. See docs/demo.md. The story's two years end today (``linli.core.clock``: the system date or
``LINLI_AS_OF``), or at noon of ``--as-of``'s day."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from tqdm import tqdm

from linli.core import clock
from linli.demo import consult as demo_consult
from linli.places import models as m
from linli.renewal.models import Project

LABELS = {
    "projects": ("改造项目", "projects"),
    "items": ("改造内容", "project items"),
    "survey_answers": ("调查答卷", "survey answers"),
    "visits": ("入户走访", "home visits"),
    "sample_flats": ("样板间", "sample flats"),
    "votes": ("表决票", "votes (closed ballot)"),
    "notices": ("公示", "notices"),
    "progress_reports": ("进度填报", "progress reports"),
    "supervision_reports": ("监督报告", "supervision reports"),
}


class Command(BaseCommand):
    help = "载入演示区的居民协商故事 / Load the demo district's consent story (issue 3)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="随机种子 / random seed (default 2024)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="已有改造项目时什么也不做 / do nothing when a renovation project exists",
        )
        parser.add_argument(
            "--as-of",
            type=clock.parse_day,
            default=None,
            metavar="YYYY-MM-DD",
            help="故事截止的日期(默认今天)/ the day the story runs up to (default: today, clock.today())",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if not m.District.objects.exists():
            raise CommandError(
                "还没有演示区:请先运行 `manage.py load_demo`。/ No demo district yet: run `manage.py load_demo` first."
            )
        if Project.objects.exists():
            if opts["if_empty"]:
                self.stdout.write(
                    "已有改造项目,未载入协商故事。/ A renovation project exists; consent story not loaded."
                )
                return
            raise CommandError(
                "已有改造项目:先 `manage.py flush` 并重新 `load_demo`。/ Renovation projects exist already: "
                "run `manage.py flush` and `load_demo` first."
            )
        show = opts.get("verbosity", 1) >= 1

        def bar(items: Sequence[Any], desc: str) -> Iterable[Any]:
            if not show or len(items) < 2:
                return items
            return tqdm(items, desc=desc, file=sys.stderr, unit="row", leave=True, mininterval=0.5, dynamic_ncols=True)

        t0 = time.perf_counter()
        # DEBUG would keep the SQL of thousands of service calls in memory: not for a bulk load.
        try:
            with override_settings(DEBUG=False), transaction.atomic():
                built = demo_consult.build(seed=opts["seed"], bar=bar, as_of=opts["as_of"])
        except demo_consult.NoDistrict as exc:
            raise CommandError(
                "演示区不完整(没有劳动三村社区的小区和楼栋):请重新 `load_demo`。/ The demo district has no "
                "compound or building in 劳动三村社区: reload it with `load_demo`."
            ) from exc
        seconds = time.perf_counter() - t0
        self.stdout.write(
            self.style.SUCCESS(f"协商故事已载入 / consent story loaded (seed {opts['seed']}) — {seconds:.1f} s")
        )
        for key, (zh, en) in LABELS.items():
            pad = " " * (10 - 2 * len(zh))
            self.stdout.write(f"  {built.counts.get(key, 0):>9,}  {zh}{pad}{en}")
        self.stdout.write(
            f"  试点楼栋 pilot building: {built.story_building} — 支持率 support "
            f"{built.start_support:.0%} → {built.end_support:.0%}"
        )
        if built.blocked_building:
            self.stdout.write(f"  仍有一户反对的楼栋 blocked by one household: {built.blocked_building}")
        p, b = built.project_id, built.story_building_id
        self.stdout.write(f"  /consult/projects/{p}/consensus/building/{b}/   (demo-community)")
        self.stdout.write(f"  /renewal/p/{p}/   (公开页 public page)")
        if built.lift_ballot_id:
            self.stdout.write(f"  /consult/ballots/{built.lift_ballot_id}/   (demo-resident 可投票 can vote)")
