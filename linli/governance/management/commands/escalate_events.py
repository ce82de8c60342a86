"""``manage.py escalate_events [--every SECONDS]``: escalate overdue grid events ("吹哨").

Once (for a cron job or a systemd timer), or with ``--every`` in a loop for a long-running systemd
service. Each run raises open, overdue events to the street command centre and, much later, to the
district (``services.events.escalate_overdue``); running it again writes nothing new.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from linli.core import clock
from linli.governance.services.events import escalate_overdue


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

    def handle(self, *args: Any, every: float = 0, runs: int = 0, **options: Any) -> None:
        if every and every < 10:
            raise CommandError("--every must be at least 10 seconds / 间隔至少 10 秒")
        if runs < 0:
            raise CommandError("--runs must not be negative / 次数不能为负")
        done = 0
        while True:
            count = escalate_overdue(clock.now())
            self.stdout.write(f"{clock.now():%Y-%m-%d %H:%M:%S} escalated {count} event(s) / 升级 {count} 件")
            done += 1
            if not every or (runs and done >= runs):
                return
            time.sleep(every)
            close_old_connections()  # a long-running service: drop a broken or expired connection
