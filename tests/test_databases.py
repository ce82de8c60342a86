"""The test run's own database and its clean-up (tests/databases.py, issue 11 §5)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests import databases


def _dead_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_each_run_names_its_own_database() -> None:
    run = os.environ["LINLI_TEST_RUN"]
    assert databases.run_id() == run  # made once, shared with xdist workers and subprocesses
    pid, epoch = run.split("_")
    assert int(pid) > 0 and abs(time.time() - int(epoch)) < 7 * 24 * 3600
    name = databases.pg_test_name("linli")
    assert name == f"test_linli_{run}"
    assert databases.NAME_RE.match(name) and databases.NAME_RE.match(name + "_gw12")
    long = databases.pg_test_name("a-very-long-database-name-that-goes-on-and-on")
    assert len((long + "_gw99").encode()) <= 63 and databases.NAME_RE.match(long)
    test_name = settings.DATABASES["default"]["TEST"]["NAME"]
    assert run in test_name  # tests/settings.py uses it, on SQLite and on PostgreSQL


def test_only_a_stale_run_is_stale() -> None:
    now = time.time()
    dead = _dead_pid()
    assert databases.is_stale(dead, int(now - 2 * 24 * 3600), now)
    assert not databases.is_stale(dead, int(now - 3600), now)  # killed an hour ago: left for a day
    assert not databases.is_stale(os.getpid(), int(now - 2 * 24 * 3600), now)  # its process lives


def test_stale_sqlite_files_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    old = int(time.time() - 2 * 24 * 3600)
    dead = _dead_pid()
    stale = [tmp_path / f"linli-test-{dead}_{old}.sqlite3{ext}" for ext in ("", "-wal", "-shm")]
    live = tmp_path / f"linli-test-{os.getpid()}_{old}.sqlite3"
    recent = tmp_path / f"linli-test-{dead}_{int(time.time())}.sqlite3"
    other = tmp_path / "somebody-else.sqlite3"
    for p in [*stale, live, recent, other]:
        p.write_text("")
    assert sorted(databases.drop_stale_sqlite(str(tmp_path))) == sorted(map(str, stale))
    assert live.exists() and recent.exists() and other.exists()


def _postgres() -> dict[str, Any] | None:
    default = settings.DATABASES["default"]
    return default if default["ENGINE"] == "django.db.backends.postgresql" else None


needs_postgres = pytest.mark.skipif(_postgres() is None, reason="needs PostgreSQL (DATABASE_URL=postgres://…)")


@needs_postgres
@pytest.mark.django_db  # so the PostgreSQL pass (--database-only) runs it
def test_stale_postgres_databases_are_dropped_never_a_live_or_connected_one() -> None:
    import psycopg

    default = _postgres()
    assert default is not None
    old = int(time.time() - 2 * 24 * 3600)
    tag = uuid.uuid4().hex[:6]
    stale = f"test_zz{tag}_{_dead_pid()}_{old}"
    live = f"test_zz{tag}_{os.getpid()}_{old}"
    connected = f"test_zz{tag}_{_dead_pid()}_{old}_gw1"
    with databases.admin_connect(default) as admin:
        for name in (stale, live, connected):
            admin.execute(f'CREATE DATABASE "{name}"')
    someone = psycopg.connect(
        dbname=connected, host=default["HOST"] or None, port=default["PORT"] or None, user=default["USER"] or None
    )
    try:
        dropped = databases.drop_stale_postgres(default)
        assert stale in dropped and live not in dropped and connected not in dropped
        assert not databases.database_exists(default, stale)
        assert databases.database_exists(default, live) and databases.database_exists(default, connected)
        # the end-of-run check sees the open connection, ends it, and the database can go
        left = databases.leftover_connections(default, connected)
        assert len(left) == 1
        assert databases.leftover_connections(default, connected, wait=5) == []
    finally:
        someone.close()
        with databases.admin_connect(default) as admin:
            for name in (live, connected):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
