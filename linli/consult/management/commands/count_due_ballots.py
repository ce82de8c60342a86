"""``manage.py count_due_ballots [--every SECONDS] [--runs N]``: count every open ballot whose
announced closing time has passed (自动计票).

Staff may count a ballot from its page once its closing time has passed; this command does it for
them, so that a result never waits on someone clicking. Run it from cron or a systemd timer (every
few minutes), or with ``--every`` as a long-running service. The result records "automatic count"
as who ended it. A due ballot whose roll was changed after opening is left open and reported
(staff must look at it); running again writes nothing new. See docs/ballots.md.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from linli.consult.services.ballots import count_due, remind_closing
from linli.core import clock


class Command(BaseCommand):
    help = "Count open ballots past their closing time. 到期表决自动计票。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, metavar="SECONDS", help="Run again every SECONDS (≥ 10).")
        parser.add_argument("--runs", type=int, default=0, help="With --every: stop after this many runs.")

    def handle(self, *args: Any, every: float = 0, runs: int = 0, **options: Any) -> None:
        if every and every < 10:
            raise CommandError("--every must be at least 10 seconds / 间隔至少 10 秒")
        if runs < 0:
            raise CommandError("--runs must not be negative / 次数不能为负")
        done = 0
        while True:
            counted, suspended = count_due(clock.now())
            reminded = remind_closing(clock.now())  # "closing in 3 days" to the roll, once per ballot
            self.stdout.write(
                f"{clock.now():%Y-%m-%d %H:%M:%S} counted {len(counted)} ballot(s) / 计票 {len(counted)} 项"
                + (f": {counted}" if counted else "")
            )
            if reminded:
                self.stdout.write(f"reminded the roll of {len(reminded)} ballot(s) closing soon / 截止提醒: {reminded}")
            if suspended:
                self.stderr.write(f"roll changed after opening, not counted / 名册在开始后被改动,未计票: {suspended}")
            done += 1
            if not every or (runs and done >= runs):
                return
            time.sleep(every)
            close_old_connections()
