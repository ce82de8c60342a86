"""``manage.py refresh_rollup [--full]``: bring the command centre's roll-up up to date now.

Without ``--full`` only the days touched by events changed since the last refresh are recomputed
(what the worker's task does after every event write); ``--full`` recomputes everything from the
events — after a bulk load, a restore, or to check (docs/dashboard.md "The roll-up").
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.dashboard import services as svc


class Command(BaseCommand):
    help = "Refresh the command centre's roll-up (incrementally, or everything with --full)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="recompute every day from the events")

    def handle(self, *args: Any, **options: Any) -> None:
        done = svc.refresh(full=options["full"])
        kind = "full" if done.full else "incremental"
        self.stdout.write(
            f"roll-up refreshed ({kind}): {done.events:,} events looked at, {done.days:,} days recomputed, "
            f"{done.seconds:.2f} s"
        )
