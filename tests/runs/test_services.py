"""Runs: start checks the permission and enqueues on commit; working() reports progress, keeps a
file, finishes or fails with a bilingual message; expire deletes files."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.http import Http404

from linli.core import clock
from linli.core.errors import LinliError
from linli.runs import services as svc
from linli.runs.models import Run
from tests.runs.tasks import start_count

pytestmark = pytest.mark.django_db


def _start(world: Any, capture: Any, user: Any = None, **kwargs: Any) -> Run:
    with capture(execute=True):
        run = start_count(user or world.users["community_worker"], world.comm_a, **kwargs)
    run.refresh_from_db()
    return run


def test_a_run_is_done_with_its_result_and_file(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    run = _start(world, django_capture_on_commit_callbacks, rows=7)
    assert run.status == Run.Status.DONE
    assert (run.done, run.total, run.attempts) == (7, 7, 1)
    assert run.result == {"zh": "数了 7 行", "en": "counted 7 rows"}
    assert run.task_id and run.filename == "rows.csv" and run.expires_at is not None
    assert (svc.run_dir() / run.file).read_bytes() == b"a,b\n1,2\n"
    assert caches["progress"].get(svc.progress_key(run.pk)) is None  # live progress cleared


def test_start_checks_the_permission_once(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    with pytest.raises(Http404):  # community A is outside the outsider's scope
        _start(world, django_capture_on_commit_callbacks, user=world.outsider, rows=1)
    with pytest.raises((PermissionDenied, Http404)):  # not editable by a grid member
        _start(world, django_capture_on_commit_callbacks, user=world.users["grid_fulltime"], rows=1)
    assert not Run.objects.exists()


def test_the_task_row_commits_with_the_run(world: Any, settings: Any) -> None:
    """With the database backend the task row is written in the run's own transaction."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    run = start_count(world.users["community_worker"], world.comm_a, rows=3)
    task_row = DBTaskResult.objects.get()
    assert run.status == Run.Status.QUEUED and run.task_id == str(task_row.pk)
    assert task_row.args_kwargs["kwargs"] == {"run_id": run.pk, "rows": 3}


def test_staged_inputs_are_encrypted_and_dropped(tmp_path: Any, settings: Any) -> None:
    settings.LINLI_RUN_DIR = tmp_path
    token = svc.stage(b"secret roster")
    assert b"secret" not in (tmp_path / "staged" / token).read_bytes()
    assert svc.staged(token) == b"secret roster"
    svc.unstage(token)
    with pytest.raises(LinliError):
        svc.staged(token)
    with pytest.raises(LinliError):
        svc.staged("../etc")


def test_a_refusal_keeps_its_bilingual_message_and_rows(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    run = _start(world, django_capture_on_commit_callbacks, rows=3, fail="refuse")
    assert run.status == Run.Status.FAILED
    assert "row one is wrong" in run.message_en and "第一行错" in run.message_zh
    assert run.errors == [{"code": "bad", "zh": "第一行错", "en": "row one is wrong", "row": 2, "column": "A"}]


def test_a_crash_fails_with_a_generic_message(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    run = _start(world, django_capture_on_commit_callbacks, rows=3, fail="crash")
    assert run.status == Run.Status.FAILED
    assert "nothing was written" in run.message_en and "boom" not in run.message_en
    assert "未写入" in run.message_zh


def test_a_finished_run_is_not_worked_again(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    run = _start(world, django_capture_on_commit_callbacks, rows=2)
    with pytest.raises(svc.Finished), svc.working(run.pk):
        pass


def test_expire_deletes_the_file(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    run = _start(world, django_capture_on_commit_callbacks, rows=2)
    path = svc.run_dir() / run.file
    assert svc.expire(clock.now()) == 0
    assert svc.expire(clock.now() + timedelta(hours=25)) == 1
    run.refresh_from_db()
    assert run.status == Run.Status.EXPIRED and not path.exists() and run.file == ""


def test_the_reaper_leaves_beating_runs_alone(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    run = _start(world, django_capture_on_commit_callbacks, rows=2)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, heartbeat_at=clock.now())
    caches["progress"].set(svc.beat_key(run.pk), clock.now().timestamp())
    assert svc.reap() == {"retried": 0, "failed": 0}


def test_the_reaper_fails_a_dead_run_after_its_attempts(
    world: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    run = _start(world, django_capture_on_commit_callbacks, rows=2)
    old = clock.now() - timedelta(seconds=settings.LINLI_RUN_STALE_SECONDS + 5)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, heartbeat_at=old, attempts=3)
    caches["progress"].delete(svc.beat_key(run.pk))
    assert svc.reap() == {"retried": 0, "failed": 1}
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and "no more retries" in run.message_en


def test_the_reaper_retries_a_run_whose_worker_died_before_marking_it_running(world: Any, settings: Any) -> None:
    """The gap: the worker took the task (its row RUNNING) and died before working() marked the
    run running — the run would stay "queued" forever. Retried like a dead running run; the lost
    attempt counts, so a task that kills its worker every time ends failed, not in a loop."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    def start() -> Run:
        return start_count(world.users["community_worker"], world.comm_a, rows=3)

    run = start()
    stale = settings.LINLI_RUN_STALE_SECONDS
    # taken a moment ago: the worker may still be on its way to working()
    DBTaskResult.objects.filter(pk=run.task_id).update(status=TaskResultStatus.RUNNING, started_at=clock.now())
    assert svc.reap() == {"retried": 0, "failed": 0}
    old = clock.now() - timedelta(seconds=stale + 5)
    DBTaskResult.objects.filter(pk=run.task_id).update(started_at=old)
    assert svc.reap() == {"retried": 1, "failed": 0}
    lost = DBTaskResult.objects.get(pk=run.task_id)
    run.refresh_from_db()
    assert lost.status == TaskResultStatus.FAILED and "worker lost" in lost.traceback
    assert run.status == Run.Status.QUEUED and run.attempts == 1 and run.task_id != str(lost.pk)
    again = DBTaskResult.objects.get(pk=run.task_id)
    assert again.status == TaskResultStatus.READY and again.args_kwargs == lost.args_kwargs
    # a queued run whose task simply waits for a worker is left alone
    waiting = start()
    assert svc.reap() == {"retried": 0, "failed": 0}
    # the last attempt lost too: failed with the bilingual message, no new task row
    Run.objects.filter(pk=run.pk).update(attempts=settings.LINLI_RUN_ATTEMPTS - 1)
    DBTaskResult.objects.filter(pk=run.task_id).update(status=TaskResultStatus.RUNNING, started_at=old)
    rows = DBTaskResult.objects.count()
    assert svc.reap() == {"retried": 0, "failed": 1}
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and "no more retries" in run.message_en and run.message_zh
    assert DBTaskResult.objects.count() == rows
    assert Run.objects.get(pk=waiting.pk).status == Run.Status.QUEUED
