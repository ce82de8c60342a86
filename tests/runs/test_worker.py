"""A killed worker's run is retried by another worker and applied exactly once (real db_worker
subprocesses, ``kill -9`` mid-way), on whichever database the suite runs on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from linli.places import models as m
from linli.runs import services as svc
from linli.runs.models import Run
from tests.runs.tasks import start_count

ROOT = Path(__file__).resolve().parents[2]
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker(log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "LINLI_TASKS_BACKEND": "db",
        "LINLI_RUN_STALE_SECONDS": "5",
        "DATABASE_URL": _database_url(),
    }
    cmd = [
        sys.executable,
        "manage.py",
        "linli_worker",
        "--no-startup-delay",
        "--interval",
        "0.2",
        "--no-reload",
        "--skip-checks",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def wait_for(check: Any, seconds: float, what: str, log: Path) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DB_TASKS, LINLI_RUN_STALE_SECONDS=5)
def test_a_killed_worker_is_retried_and_applied_once(world: Any, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    before = m.Street.objects.order_by("pk").first()
    assert before is not None
    run = start_count(world.users["community_worker"], world.comm_a, rows=400, sleep=0.02)
    assert DBTaskResult.objects.count() == 1
    first = worker(log)
    try:

        def halfway() -> bool:
            live = caches["progress"].get(svc.progress_key(run.pk)) or {}
            return int(live.get("done", 0)) >= 60

        wait_for(halfway, 60, "the first worker to be part-way", log)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING and run.attempts == 1
    assert m.Street.objects.get(pk=before.pk).name_en == before.name_en  # nothing half-applied

    second = worker(log)
    try:
        wait_for(lambda: Run.objects.get(pk=run.pk).status == Run.Status.DONE, 90, "the retried run to finish", log)
    finally:
        second.terminate()
        second.wait(10)
    run.refresh_from_db()
    assert run.attempts == 2 and (run.done, run.total) == (400, 400)
    assert m.Street.objects.get(pk=before.pk).name_en == (before.name_en or "") + "+"  # applied exactly once
    statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == ["FAILED", "SUCCESSFUL"]
