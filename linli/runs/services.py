"""Writes of background runs: start one, work in one (progress, file, finish), reap the dead, expire.

``start()`` is called by an app's service or view with the task to run; the task's body works inside
``with working(run_id) as work:`` (docs/runs.md). Live progress goes to the cache alias
``"progress"`` (shared by web and worker processes) because the work itself usually runs in one
big transaction whose rows nobody else can see until it commits; the row gets done/total at
milestones outside transactions and when the run finishes.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.db import connection, models, transaction
from django.utils import translation
from django.utils.translation import get_language
from django_tasks.base import Task

from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.core import clock, crypto
from linli.core.errors import LinliError, Problem
from linli.core.types import User
from linli.runs.models import Run

log = logging.getLogger("linli.runs")

#: Progress is written to the cache at most this often (seconds): ≤ 2 writes a second.
PROGRESS_EVERY = 0.5
#: The most row-level errors a run keeps (the page pages through them).
MAX_ERRORS = 5000


def progress_key(run_id: int) -> str:
    return f"run:{run_id}"


def beat_key(run_id: int) -> str:
    return f"run:{run_id}:beat"


def _cache() -> Any:
    return caches["progress"]


def run_dir() -> Path:
    return Path(settings.LINLI_RUN_DIR)


# --- start ------------------------------------------------------------------------------------------


def start(
    user: User,
    kind: str,
    task: Task[Any, Any],
    *,
    action: str | Action,
    target: models.Model,
    title_zh: str,
    title_en: str,
    total: int = 0,
    **kwargs: Any,
) -> Run:
    """Check ``authorize(user, action, target)`` once, record the run and enqueue
    ``task.enqueue(run_id=run.pk, **kwargs)`` when the transaction commits (a worker must see the
    row). ``kwargs`` must be JSON values (ids, not objects). The caller redirects to
    ``reverse("runs:detail", args=[run.pk])``."""
    authorize(user, action, target)
    assert user.pk is not None, "a signed-in account"
    with transaction.atomic():
        run = Run.objects.create(
            kind=kind[:40],
            user_id=user.pk,
            language=get_language() or settings.LANGUAGE_CODE,
            action=str(action),
            target_type=ContentType.objects.get_for_model(target),
            target_id=target.pk,
            title_zh=title_zh[:200],
            title_en=title_en[:200],
            total=max(0, total),
        )
        run_id = run.pk
        if _same_database(task):
            # The task row is written in this same transaction: it commits with the run (a worker
            # never sees one without the other); the immediate backend runs it here and now.
            _enqueue(run_id, task, kwargs)
        else:  # a broker (RQ, Celery) must not hear of a run before its row is committed
            transaction.on_commit(lambda: _enqueue(run_id, task, kwargs))
    run.refresh_from_db()
    return run


def _same_database(task: Task[Any, Any]) -> bool:
    from django_tasks.backends.immediate import ImmediateBackend
    from django_tasks_db import DatabaseBackend

    return isinstance(task.get_backend(), (DatabaseBackend, ImmediateBackend))


def _enqueue(run_id: int, task: Task[Any, Any], kwargs: Mapping[str, Any]) -> None:
    # The id is recorded before the task can run (a worker may pick it up at once).
    task_id = str(uuid.uuid4())
    Run.objects.filter(pk=run_id, task_id="").update(task_id=task_id)
    try:
        result = task.enqueue(run_id=run_id, **kwargs)
    except Exception:
        log.exception("run %s could not be enqueued", run_id)
        _fail(run_id, "enqueue", "无法排入后台任务队列,请稍后重试。", "The work could not be queued; try again later.")
        return
    Run.objects.filter(pk=run_id, task_id=task_id).update(task_id=str(result.id))


# --- work -------------------------------------------------------------------------------------------


class Finished(Exception):
    """The run is already finished (a duplicate delivery): the task does nothing."""


class Work:
    """What a task body may do with its run (``with working(run_id) as work``)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._last_cache = 0.0
        self._last_row = time.monotonic()
        self._finished = False

    @property
    def user(self) -> Any:
        """The person who started the run (the task acts in their name)."""
        return self.run.user

    @property
    def language(self) -> str:
        return self.run.language

    def progress(self, done: int, total: int | None = None, note: str = "") -> None:
        """Rows done so far (of ``total``): shown on the page within a second. Cheap to call per row."""
        now = time.monotonic()
        run = self.run
        run.done = max(0, int(done))
        if total is not None:
            run.total = max(0, int(total))
        if note:
            run.note = note[:200]
        if now - self._last_cache < PROGRESS_EVERY and run.done < run.total:
            return
        self._last_cache = now
        _cache().set(
            progress_key(run.pk),
            {"done": run.done, "total": run.total, "note": run.note, "at": clock.now().timestamp()},
            timeout=7 * 24 * 3600,
        )
        _cache().set(beat_key(run.pk), clock.now().timestamp(), timeout=7 * 24 * 3600)
        # A milestone on the row, when no transaction holds it back (never inside the work's own).
        if not connection.in_atomic_block and now - self._last_row >= max(1.0, settings.LINLI_RUN_STALE_SECONDS / 4):
            self._last_row = now
            Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
                done=run.done, total=run.total, note=run.note, heartbeat_at=clock.now()
            )

    def save_file(self, data: bytes | str | Path, filename: str, content_type: str) -> None:
        """Keep the result file (bytes, or the path of a file the task wrote) for
        ``LINLI_RUN_FILE_HOURS``; served by ``runs:file`` with the permission re-checked."""
        folder = run_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{self.run.pk}-{uuid.uuid4().hex}"
        dest = folder / name
        if isinstance(data, (bytes, bytearray)):
            dest.write_bytes(bytes(data))
        elif isinstance(data, str):
            dest.write_bytes(data.encode("utf-8"))
        else:
            shutil.copyfile(data, dest)
        dest.chmod(0o600)
        run = self.run
        run.file, run.filename, run.content_type = name, filename[:200], content_type[:120]
        run.size = dest.stat().st_size
        run.expires_at = clock.now() + timedelta(hours=settings.LINLI_RUN_FILE_HOURS)

    def finish(
        self,
        result: Mapping[str, Any] | None = None,
        errors: Sequence[Mapping[str, Any] | Problem] = (),
        *,
        failed: bool = False,
    ) -> None:
        """Mark the run done (or failed, for a result that is a refusal, e.g. a file with errors).

        Call it **inside** the transaction that writes the work's rows: then the work and "done"
        commit together, and a worker killed before the commit leaves a run that is retried with
        nothing half-applied; killed after it, a run that is done and never applied twice."""
        run = self.run
        if total_known := run.total:
            run.done = min(run.done, total_known) if failed else total_known
        run.result = dict(result or {})
        run.errors = [_error_row(e) for e in list(errors)[:MAX_ERRORS]]
        run.status = Run.Status.FAILED if failed else Run.Status.DONE
        if failed and errors and not run.message_zh:
            if len(errors) == 1 and isinstance(errors[0], Problem):
                run.message_zh, run.message_en = errors[0].text("zh-hans")[:300], errors[0].text("en")[:300]
            else:
                run.message_zh = f"有 {len(errors)} 处错误,未写入任何数据。"
                run.message_en = f"{len(errors)} problem(s) found; nothing was written."
        run.finished_at = clock.now()
        run.heartbeat_at = run.finished_at
        run.save()
        self._finished = True
        _cache().delete(progress_key(run.pk))


def _error_row(e: Mapping[str, Any] | Problem) -> dict[str, Any]:
    if isinstance(e, Problem):
        return e.as_dict()
    row = {k: e[k] for k in ("row", "column", "code", "zh", "en", "message") if k in e}
    if "message" in row and "zh" not in row:
        row["zh"] = row["en"] = str(row.pop("message"))
    return row


def _heartbeat(run_id: int, stop: threading.Event) -> None:
    """Beat in the progress cache while the task works, even when its transaction holds the
    database (the reaper takes a run whose beat stops for LINLI_RUN_STALE_SECONDS as dead)."""
    every = max(1.0, settings.LINLI_RUN_STALE_SECONDS / 6)
    while not stop.wait(every):
        try:
            _cache().set(beat_key(run_id), clock.now().timestamp(), timeout=7 * 24 * 3600)
        except Exception:  # a cache hiccup must not kill the work
            log.warning("run %s: heartbeat not written", run_id, exc_info=True)


@contextmanager
def working(run_id: int) -> Iterator[Work]:
    """The body of a task: marks the run running (one more attempt), beats, and on an exception
    marks it failed — a ``LinliError`` with its own bilingual message and rows, anything else with
    a generic one (and the traceback in the log and the task backend's record)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.finished:
            raise Finished(f"run {run_id} is already {run.status}")
        run.status = Run.Status.RUNNING
        run.attempts += 1
        run.started_at = run.started_at or clock.now()
        run.heartbeat_at = clock.now()
        run.save(update_fields=["status", "attempts", "started_at", "heartbeat_at"])
    _cache().set(beat_key(run_id), clock.now().timestamp(), timeout=7 * 24 * 3600)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(run_id, stop), name=f"run-{run_id}-beat", daemon=True)
    beat.start()
    work = Work(run)
    try:
        with translation.override(run.language):
            yield work
            if not work._finished:
                work.finish()
    except LinliError as exc:
        _fail(run_id, "refused", *_message(exc), errors=exc.problems)
    except (Finished, KeyboardInterrupt, SystemExit):
        # A worker stopped mid-way: its transaction rolled back; the run stays "running" for the
        # reaper to retry once its heartbeat is stale.
        raise
    except BaseException:
        log.exception("run %s (%s) failed", run_id, run.kind)
        _fail(
            run_id,
            "error",
            "后台任务出错,未写入任何数据。管理员可在日志中查看原因。",
            "The work failed; nothing was written. An administrator can see why in the log.",
        )
        raise
    finally:
        stop.set()


def _message(exc: LinliError) -> tuple[str, str]:
    first = exc.problems[0] if exc.problems else Problem("error", "出错了。", "Something went wrong.")
    if len(exc.problems) > 1:
        return (
            f"有 {len(exc.problems)} 处错误,未写入任何数据。",
            f"{len(exc.problems)} problems; nothing was written.",
        )
    return first.text("zh-hans"), first.text("en")


def _fail(run_id: int, code: str, zh: str, en: str, errors: Sequence[Problem] = ()) -> None:
    now = clock.now()
    Run.objects.filter(pk=run_id).exclude(status__in=Run.FINISHED).update(
        status=Run.Status.FAILED,
        message_zh=zh[:300],
        message_en=en[:300],
        errors=[p.as_dict() for p in list(errors)[:MAX_ERRORS]],
        finished_at=now,
        heartbeat_at=now,
    )
    _cache().delete(progress_key(run_id))


# --- staged inputs: an uploaded file waiting for its task --------------------------------------


def stage(data: bytes) -> str:
    """Keep an input (an uploaded file) for a task, encrypted at rest under LINLI_RUN_DIR/staged/;
    returns the token to pass to the task (a JSON value). The task reads it with ``staged()`` and
    drops it with ``unstage()`` when it has finished (a retried task still finds it)."""
    folder = run_dir() / "staged"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    path = folder / token
    path.write_bytes(crypto.encrypt_bytes(data))
    path.chmod(0o600)
    return token


def _staged_path(token: str) -> Path:
    if not token.isalnum():
        raise LinliError.one("no_input", "找不到上传的文件。", "The uploaded file is gone.", 410)
    return run_dir() / "staged" / token


def staged(token: str) -> bytes:
    path = _staged_path(token)
    if not path.is_file():
        raise LinliError.one(
            "no_input", "上传的文件已不在,请重新上传。", "The uploaded file is gone; upload it again.", 410
        )
    return crypto.decrypt_bytes(path.read_bytes())


def unstage(token: str) -> None:
    _staged_path(token).unlink(missing_ok=True)


# --- the reaper and expiry (operators' commands) ------------------------------------------------


def last_beat(run: Run) -> float:
    """The latest sign of life of a run: its row's heartbeat or the one in the progress cache."""
    row = run.heartbeat_at.timestamp() if run.heartbeat_at else 0.0
    cached = _cache().get(beat_key(run.pk))
    return max(row, float(cached or 0))


def reap(now: float | None = None) -> dict[str, int]:
    """Runs whose worker died (running, no heartbeat for LINLI_RUN_STALE_SECONDS): their task row is
    marked failed and the task enqueued again, up to LINLI_RUN_ATTEMPTS attempts in all; then the
    run fails with a clear message. Works with the database backend (other backends retry by their
    own means, docs/runs.md). Because a task's writes are one transaction, the dead attempt left
    nothing half-applied."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now if now is not None else clock.now().timestamp()
    stale = settings.LINLI_RUN_STALE_SECONDS
    counts = {"retried": 0, "failed": 0}
    for run in Run.objects.filter(status=Run.Status.RUNNING):
        if now - last_beat(run) < stale:
            continue
        with transaction.atomic():
            run = Run.objects.select_for_update().get(pk=run.pk)
            if run.status != Run.Status.RUNNING or now - last_beat(run) < stale:
                continue
            task_row = DBTaskResult.objects.filter(pk=run.task_id).first() if _is_uuid(run.task_id) else None
            _retry_or_fail(run, task_row, stale, counts)
    # The gap: a worker that died after taking the task (its row RUNNING) but before working()
    # marked the run running leaves a run "queued" forever; its task row's start is the last sign.
    for run in Run.objects.filter(status=Run.Status.QUEUED).exclude(task_id=""):
        if not _is_uuid(run.task_id):
            continue
        task_row = DBTaskResult.objects.filter(pk=run.task_id, status=TaskResultStatus.RUNNING).first()
        if task_row is None or task_row.started_at is None or now - task_row.started_at.timestamp() < stale:
            continue
        with transaction.atomic():
            run = Run.objects.select_for_update().get(pk=run.pk)
            if run.status != Run.Status.QUEUED or now - last_beat(run) < stale:
                continue
            run.attempts += 1  # the lost attempt counts: a task that kills its worker at once stops
            _retry_or_fail(run, task_row, stale, counts)
    return counts


def _retry_or_fail(run: Run, task_row: Any, stale: float, counts: dict[str, int]) -> None:
    """A dead run (inside the reaper's transaction, its row locked): mark its task row failed and
    enqueue the task again, or fail the run once it had LINLI_RUN_ATTEMPTS attempts."""
    from django_tasks_db.compat import TaskResultStatus

    if task_row is not None and task_row.status == TaskResultStatus.RUNNING:
        task_row.status = TaskResultStatus.FAILED
        task_row.finished_at = clock.now()
        task_row.exception_class_path = "linli.runs.services.WorkerLost"
        task_row.traceback = f"worker lost: no heartbeat for {stale}s (linli reaper)"
        task_row.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
    if run.attempts < settings.LINLI_RUN_ATTEMPTS and task_row is not None:
        again = task_row.task.enqueue(*task_row.args_kwargs["args"], **task_row.args_kwargs["kwargs"])
        run.status = Run.Status.QUEUED
        run.task_id = str(again.id)
        run.note = ""
        run.save(update_fields=["status", "task_id", "note", "attempts"])
        counts["retried"] += 1
        log.warning(
            "run %s: worker lost, retried (attempt %s of %s)",
            run.pk,
            run.attempts + 1,
            settings.LINLI_RUN_ATTEMPTS,
        )
    else:
        run.status = Run.Status.FAILED
        run.message_zh = f"后台任务进程 {run.attempts} 次中断,已停止重试;未写入任何数据。请重新开始。"
        run.message_en = (
            f"The worker stopped {run.attempts} time(s); no more retries. Nothing was written: start again."
        )
        run.finished_at = clock.now()
        run.save(update_fields=["status", "message_zh", "message_en", "finished_at", "attempts"])
        counts["failed"] += 1
        log.error("run %s: worker lost %s times, failed", run.pk, run.attempts)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def expire(now: Any = None) -> int:
    """Delete result files past their time and mark their runs expired; returns how many. Staged
    inputs older than LINLI_RUN_FILE_HOURS (their task never came) go too."""
    now = now or clock.now()
    count = 0
    oldest = now.timestamp() - settings.LINLI_RUN_FILE_HOURS * 3600
    for path in (run_dir() / "staged").glob("*") if (run_dir() / "staged").is_dir() else []:
        if path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)
    for run in Run.objects.filter(expires_at__lte=now).exclude(status=Run.Status.EXPIRED):
        with transaction.atomic():
            if run.file:
                (run_dir() / run.file).unlink(missing_ok=True)
            Run.objects.filter(pk=run.pk).update(status=Run.Status.EXPIRED, file="")
            count += 1
    return count
