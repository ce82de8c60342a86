"""``manage.py jobs_push [--k 10] [--since-hours 24 | --all] [--dry-run]``: the nightly push of 就近帮
(issue 14 §3; docs/jobs.md "The nightly push").

For every seeker looking for work **with an account** (whether or not employers may find them) — a seeker registered
at the kiosk or the desk has no inbox — the best live postings within how far they will travel,
among the postings published in the last ``--since-hours`` (the *new* ones; ``--all``: every live
posting), leaving out postings they already applied or were invited to
(``queries.matching.top_for_all``, one ``index.top_many`` per travel distance) and postings
published before the seeker's last push (a posting is pushed to a seeker once). The best three go
out as one notification (``job_matches``: their titles, employers and wages, a link to the nearby
jobs page); seekers with the same three share one ``notify`` call.

**At most one a day**: the notification's ref is ``matches:<date>`` with ``once``, so a second run
on the same day tells nobody again (the postings it found wait for the next day's push). A seeker
with nothing new is not told. ``--dry-run`` computes and prints the counts and sends nothing.
It prints a progress line, then the counts and the time. Run it from cron or a systemd timer once
a night.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone

from linli.core import clock
from linli.jobs.models import Posting
from linli.jobs.queries import matching as q
from linli.notify import rules as notify_rules
from linli.notify import services as notify_services

#: Postings named in one notification (the best new ones; the page shows the rest).
SHOWN = 3


def texts(postings: list[Posting]) -> dict[str, str]:
    """The notification of ``postings`` (best first) in both languages: titles in the title, each
    with its employer and wage in the body. Nothing about the seeker."""
    titles = [p.title for p in postings]
    lines_zh = [f"{p.title} · {p.employer.name} · 月薪 {p.wage_min}–{p.wage_max} 元" for p in postings]
    lines_en = [f"{p.title} · {p.employer.name} · {p.wage_min}–{p.wage_max} yuan a month" for p in postings]
    return {
        "title_zh": f"附近有新岗位适合你:{'、'.join(titles)}",
        "title_en": f"New jobs near you: {', '.join(titles)}",
        "body_zh": ";".join(lines_zh) + "。在“附近的工作”查看全部。",
        "body_en": "; ".join(lines_en) + ". See them all under Jobs near me.",
    }


class Command(BaseCommand):
    help = (
        "Tell every seeker looking for work with an account of the best new jobs near them (nightly). 就近帮每晚推荐。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--k", type=int, default=q.PUSH_K, help="Matches computed per seeker (1–50, default 10).")
        parser.add_argument(
            "--since-hours",
            type=int,
            default=24,
            help="Only postings published in the last HOURS (default 24: the new ones since last night).",
        )
        parser.add_argument("--all", dest="every_posting", action="store_true", help="Every live posting, new or not.")
        parser.add_argument("--dry-run", action="store_true", help="Compute and print; send nothing.")

    def handle(
        self,
        *args: Any,
        k: int = q.PUSH_K,
        since_hours: int = 24,
        every_posting: bool = False,
        dry_run: bool = False,
        **options: Any,
    ) -> None:
        if not 1 <= k <= 50:
            raise CommandError("--k must be between 1 and 50 / --k 须在 1 到 50 之间")
        if not every_posting and not 1 <= since_hours <= 24 * 366:
            raise CommandError("--since-hours must be between 1 and 8784 / --since-hours 须在 1 到 8784 之间")
        started = time.perf_counter()
        now = clock.now()
        since = None if every_posting else now - timedelta(hours=since_hours)
        looking = q.looking_seekers().count()
        accounts = q.push_accounts()
        last_push = q.pushed_since(since)
        index = q.postings_index()
        built = time.perf_counter() - started
        scope = (
            "every live posting / 全部在招岗位"
            if every_posting
            else f"postings of the last {since_hours} h / 近 {since_hours} 小时新岗位"
        )
        total = len(accounts)
        self.stdout.write(
            f"{now:%Y-%m-%d %H:%M:%S} {looking} seekers looking for work, {total} with an account; {len(index)} live "
            f"postings ({scope}); indexes ready in {built:.1f} s / 求职者 {looking} 人,其中有账号 {total} 人"
        )
        day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        seekers = matched = told_today = 0
        step = max(1, total // 10)
        for seeker_id, found in q.top_for_all(k, since=since, only=accounts):
            seekers += 1
            user_id = accounts[seeker_id]
            last = last_push.get(user_id)
            if last is not None and last >= day_start:
                told_today += 1  # one a day: what is new now waits for tomorrow's push
                continue
            shown = tuple(m.id for m in found if _newer(index.get(m.id), last))[:SHOWN]
            if shown:
                matched += 1
                groups[shown].append(user_id)
            if seekers % step == 0 or seekers == total:
                self.stdout.write(
                    f"  {seekers}/{total} seekers ({100 * seekers // max(total, 1)}%) / 已算 {seekers} 人"
                )
        rows = q.posting_rows(pid for shown in groups for pid in shown)
        calls = 0
        ref = f"matches:{timezone.localdate(now):%Y-%m-%d}"
        for shown, user_ids in groups.items():
            postings = [rows[pid] for pid in shown if pid in rows]
            if not postings or dry_run:
                continue
            said = texts(postings)
            notify_services.notify(
                notify_rules.JOB_MATCHES,
                user_ids,
                title_zh=said["title_zh"],
                title_en=said["title_en"],
                body_zh=said["body_zh"],
                body_en=said["body_en"],
                url=reverse("jobs:nearby"),
                ref=ref,
                once=True,
            )
            calls += 1
        took = time.perf_counter() - started
        sent = (
            "dry run: nothing sent / 试运行:未发送"
            if dry_run
            else f"{calls} notification(s) to {matched} seekers, once a day ({ref}) / 已通知 {matched} 人"
        )
        self.stdout.write(
            f"done: {seekers} seekers, {matched} with new matches, {told_today} told already today, in {took:.1f} s; "
            f"{sent} / 完成:{seekers} 人,{matched} 人有新推荐,{told_today} 人今天已推送过,用时 {took:.1f} 秒"
        )


def _newer(item: Any, last: datetime | None) -> bool:
    """The posting was published after the seeker's last push (never pushed twice)."""
    if last is None:
        return True
    published = item.get("published_at") if item is not None else None
    return published is not None and published > last
