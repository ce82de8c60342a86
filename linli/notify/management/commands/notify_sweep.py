"""Send the notifications quiet hours held and the deliveries waiting for a retry
(docs/notifications.md). Run it every minute or two from cron or a systemd timer:

    manage.py notify_sweep --enqueue    # a worker runs the sweep (and the sends it enqueues)
    manage.py notify_sweep              # sweep in this process
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.notify import tasks


class Command(BaseCommand):
    help = "Send held and retried notifications whose time has come."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="enqueue the sweep for a worker instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = tasks.sweep.enqueue()
            self.stdout.write(f"enqueued notify sweep {result.id}")
            return
        count = tasks.sweep.call()
        self.stdout.write(f"{count} delivery(ies) due")
