"""``manage.py escalate_events [--enqueue] [--every SECONDS]``: escalate overdue grid events ("吹哨").

The sweep is the background task ``governance.tasks.escalate_sweep``. With ``--enqueue`` the command
only puts one sweep on the task queue for a worker (``manage.py linli_worker``) and returns at once:
the production schedule is a cron line or systemd timer running it every 5 minutes (docs/runs.md).
Without it the command runs the same task body in its own process (the embedded default and the
old behaviour). ``--every`` repeats either in a loop, for a long-running service. Each sweep raises
open, overdue events to the street command centre and, much later, to the district; running it
again writes nothing new.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from linli.core import clock
from linli.governance.tasks import escalate_sweep


class Command(BaseCommand):
    help = "Escalate overdue grid events (超时升级). 超时案件升级:先街道指挥中心,再区级。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Run again every SECONDS (at least 10) until stopped; default: once.",
        )
        parser.add_argument(
            "--runs", type=int, default=0, help="With --every: stop after this many runs; default: never."
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Put the sweep on the task queue for a worker instead of running it here. 交给后台任务进程执行。",
        )

    def handle(self, *args: Any, every: float = 0, runs: int = 0, enqueue: bool = False, **options: Any) -> None:
        if every and every < 10:
            raise CommandError("--every must be at least 10 seconds / 间隔至少 10 秒")
        if runs < 0:
            raise CommandError("--runs must not be negative / 次数不能为负")
        done = 0
        while True:
            if enqueue:
                result = escalate_sweep.enqueue()
                self.stdout.write(f"{clock.now():%Y-%m-%d %H:%M:%S} sweep queued / 已排队: {result.id}")
            else:
                count = escalate_sweep.call()
                self.stdout.write(f"{clock.now():%Y-%m-%d %H:%M:%S} escalated {count} event(s) / 升级 {count} 件")
            done += 1
            if not every or (runs and done >= runs):
                return
            time.sleep(every)
            close_old_connections()  # a long-running service: drop a broken or expired connection
