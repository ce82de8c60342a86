"""Test databases of their own, and nothing left behind (issue 11 §5).

Every pytest run names its test database after the run — ``test_<db>_<pid>_<epoch>`` on
PostgreSQL, ``linli-test-<pid>_<epoch>.sqlite3`` in the temporary folder on SQLite, plus ``_gw0`` …
per pytest-xdist worker — so two runs on one server never meet (tests/settings.py). The run id
is put in the environment (``LINLI_TEST_RUN``) so xdist workers and the subprocesses a test starts
share it.

At the end of the session (tests/conftest.py, ``django_db_setup``) an admin connection asks
``pg_stat_activity`` who is still connected to the test database besides the suite's own
connection: such a connection is a leak (a thread, server or subprocess that did not close its
connection — it made ``DROP DATABASE`` fail with "is being accessed by other users"). The check
names each one, ends it so the database can still be dropped, and fails the run.

At the start of a run, test databases and SQLite files that killed runs left behind are removed:
only those more than a day old, whose run's process is gone, and (PostgreSQL) to which nobody is
connected. A database of a live run is never touched.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
import time
from typing import Any

# test_<base>_<pid>_<epoch>[_gwN]
NAME_RE = re.compile(r"^test_.+_(?P<pid>\d+)_(?P<epoch>\d{9,11})(?:_gw\d+)?$")
SQLITE_RE = re.compile(r"linli-test-(?P<pid>\d+)_(?P<epoch>\d{9,11})")
STALE_AFTER = 24 * 3600  # seconds


def run_id() -> str:
    """This run's id, ``<pid>_<epoch>``: made once by the first process, inherited by the rest."""
    return os.environ.setdefault("LINLI_TEST_RUN", f"{os.getpid()}_{int(time.time())}")


def pg_test_name(base: str) -> str:
    """The PostgreSQL test database name of this run (≤ 63 bytes with an xdist suffix)."""
    safe = re.sub(r"[^a-z0-9_]", "_", (base or "linli").lower())[:24]
    return f"test_{safe}_{run_id()}"


def sqlite_path() -> str:
    return os.path.join(tempfile.gettempdir(), f"linli-test-{run_id()}.sqlite3")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's live process
        return True
    return True


def is_stale(pid: int, epoch: int, now: float | None = None) -> bool:
    """A run that started more than a day ago and whose process is gone."""
    return (now or time.time()) - epoch > STALE_AFTER and not _pid_alive(pid)


def admin_connect(settings_dict: dict[str, Any]) -> Any:
    """An autocommit connection to the server's ``postgres`` database, outside Django."""
    import psycopg

    return psycopg.connect(
        dbname="postgres",
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        autocommit=True,
        connect_timeout=5,
        application_name="linli-tests-admin",
    )


def others_connected(admin: Any, name: str) -> list[tuple[Any, ...]]:
    """Connections to ``name`` but the asking one: (pid, application, state, since, last query)."""
    return admin.execute(
        "SELECT pid, application_name, state, backend_start, left(query, 200) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        [name],
    ).fetchall()


def leftover_connections(settings_dict: dict[str, Any], name: str, wait: float = 15.0) -> list[tuple[Any, ...]]:
    """Who is still connected to the test database ``name`` once the suite closed its own
    connections; a backend may take a moment to go after its client closed, so this waits up
    to ``wait`` seconds for the list to empty. Whatever is left is ended (so the database can be
    dropped) and returned."""
    with admin_connect(settings_dict) as admin:
        deadline = time.monotonic() + wait
        rows = others_connected(admin, name)
        while rows and time.monotonic() < deadline:
            time.sleep(0.1)
            rows = others_connected(admin, name)
        for row in rows:
            admin.execute("SELECT pg_terminate_backend(%s)", [row[0]])
        return rows


def database_exists(settings_dict: dict[str, Any], name: str) -> bool:
    with admin_connect(settings_dict) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def drop_stale_postgres(settings_dict: dict[str, Any]) -> list[str]:
    """Drop test databases of killed runs (see the module's docstring); their names."""
    dropped = []
    with admin_connect(settings_dict) as admin:
        names = [r[0] for r in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'")]
        for name in names:
            found = NAME_RE.match(name)
            if not found or not is_stale(int(found["pid"]), int(found["epoch"])):
                continue
            if others_connected(admin, name):
                continue
            try:
                # Refused (and so left alone) if somebody connected meanwhile.
                admin.execute(f'DROP DATABASE "{name}"')
            except Exception:  # noqa: S112 — someone else's business now
                continue
            dropped.append(name)
    return dropped


def drop_stale_sqlite(folder: str | None = None) -> list[str]:
    """Remove SQLite test files (and their -wal/-shm/-journal) of killed runs; their paths."""
    removed = []
    for path in glob.glob(os.path.join(folder or tempfile.gettempdir(), "linli-test-*.sqlite3*")):
        found = SQLITE_RE.search(os.path.basename(path))
        if found and is_stale(int(found["pid"]), int(found["epoch"])):
            try:
                os.remove(path)
            except OSError:
                continue
            removed.append(path)
    return removed
