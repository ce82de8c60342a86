"""``manage.py expire_runs``: delete result files past LINLI_RUN_FILE_HOURS (their runs become
"expired"), look once for dead runs, and prune finished task rows older than ``--days`` (cron:
hourly, docs/runs.md)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from linli.runs import services as svc


class Command(BaseCommand):
    help = "Delete expired result files of background runs, retry dead runs, prune old task rows."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--days", type=int, default=7, help="Prune finished task rows older than this (default 7).")

    def handle(self, *args: Any, **options: Any) -> None:
        expired = svc.expire()
        reaped = svc.reap()
        self.stdout.write(
            f"expired files: {expired}; dead runs retried: {reaped['retried']}, failed: {reaped['failed']}"
        )
        if "django_tasks_db" in settings.TASKS["default"]["BACKEND"]:
            call_command("prune_db_task_results", min_age_days=options["days"], verbosity=options["verbosity"])
