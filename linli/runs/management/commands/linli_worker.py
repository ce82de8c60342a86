"""``manage.py linli_worker``: django-tasks-db's ``db_worker`` plus the reaper of dead runs.

It takes every ``db_worker`` option (``--queue-name``, ``--interval``, ``--batch``, ``--max-tasks``,
``--worker-id`` …). Beside the worker loop a thread looks every LINLI_RUN_STALE_SECONDS/3 for runs
whose worker died (running, no heartbeat for LINLI_RUN_STALE_SECONDS) and enqueues them again, up to
LINLI_RUN_ATTEMPTS attempts; then the run fails with a clear message (docs/runs.md). Run as many as
you like on PostgreSQL: each takes tasks with SELECT … FOR UPDATE SKIP LOCKED, and a dead run is
retried by exactly one of them (the reaper locks the run's row)."""

from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from linli.runs import services as svc

log = logging.getLogger("linli.runs")


def reap_forever(stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            counts = svc.reap()
            if any(counts.values()):
                log.warning("reaper: %s", counts)
        except Exception:  # a locked SQLite database or a dropped connection: try again next time
            log.warning("reaper: could not look for dead runs this time", exc_info=True)
        finally:
            close_old_connections()
            connection.close()


class Command(DbWorkerCommand):
    help = "Run background tasks (db_worker) and retry the runs of killed workers (docs/runs.md)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--no-reap", action="store_false", dest="reap", help="Do not look for dead runs.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if options.pop("reap", True):
            every = max(1.0, settings.LINLI_RUN_STALE_SECONDS / 3)
            threading.Thread(target=reap_forever, args=(stop, every), name="linli-reaper", daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
