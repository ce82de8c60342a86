"""``manage.py jobs_push [--k 10] [--since-hours 24 | --all]``: the nightly push of 就近帮 (issue 14 §3).

For every findable seeker (discoverable, looking for work) the best ``k`` live postings within how
far they will travel, among the postings published in the last ``--since-hours`` (the *new* ones;
``--all``: every live posting), leaving out postings they already applied or were invited to —
``queries.matching.top_for_all``, one ``index.top_many`` per travel distance. It prints a progress
line, then the counts and the time.

It writes nothing: notifications have no kind for job matches yet (``linli/notify/rules.py``; a new
kind needs a migration of ``notify``), so the push is computed and summed up, ready for that kind.
Run it from cron or a systemd timer once a night. See docs/jobs.md "Nearby jobs and talent search".
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core import clock
from linli.jobs.queries import matching as q


class Command(BaseCommand):
    help = "Compute the best new job matches of every findable seeker (nightly). 就近帮每晚推荐计算。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--k", type=int, default=q.PUSH_K, help="Matches per seeker (1–50, default 10).")
        parser.add_argument(
            "--since-hours",
            type=int,
            default=24,
            help="Only postings published in the last HOURS (default 24: the new ones since last night).",
        )
        parser.add_argument("--all", dest="every_posting", action="store_true", help="Every live posting, new or not.")

    def handle(
        self, *args: Any, k: int = q.PUSH_K, since_hours: int = 24, every_posting: bool = False, **options: Any
    ) -> None:
        if not 1 <= k <= 50:
            raise CommandError("--k must be between 1 and 50 / --k 须在 1 到 50 之间")
        if not every_posting and not 1 <= since_hours <= 24 * 366:
            raise CommandError("--since-hours must be between 1 and 8784 / --since-hours 须在 1 到 8784 之间")
        started = time.perf_counter()
        since = None if every_posting else clock.now() - timedelta(hours=since_hours)
        total = len(q.seekers_index())
        postings = len(q.postings_index())
        built = time.perf_counter() - started
        scope = (
            "every live posting / 全部在招岗位"
            if every_posting
            else f"postings of the last {since_hours} h / 近 {since_hours} 小时新岗位"
        )
        self.stdout.write(
            f"{clock.now():%Y-%m-%d %H:%M:%S} {total} findable seekers, {postings} live postings ({scope}); "
            f"indexes ready in {built:.1f} s / 可推荐求职者 {total} 人,在招岗位 {postings} 个"
        )
        seekers = matched = matches = 0
        step = max(1, total // 10)
        for _seeker_id, found in q.top_for_all(k, since=since):
            seekers += 1
            if found:
                matched += 1
                matches += len(found)
            if seekers % step == 0 or seekers == total:
                self.stdout.write(
                    f"  {seekers}/{total} seekers ({100 * seekers // max(total, 1)}%) / 已算 {seekers} 人"
                )
        took = time.perf_counter() - started
        self.stdout.write(
            f"done: {seekers} seekers, {matched} with new matches, {matches} matches in {took:.1f} s; "
            f"nothing sent (no notification kind for job matches yet) / 完成:{seekers} 人,{matched} 人有新推荐,"
            f"共 {matches} 条,用时 {took:.1f} 秒;未发送通知"
        )
