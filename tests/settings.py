"""Test settings: the real settings with secrets generated for this run and a fast password hasher."""

import os
import secrets

from cryptography.fernet import Fernet

# Production refuses to start without its secrets (there is no switch to generate them): a test run
# makes its own, in the environment, so subprocesses it starts (servers, commands) share them.
os.environ.setdefault("LINLI_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("LINLI_FIELD_KEYS", Fernet.generate_key().decode())

from linli.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
# The test client and live server speak plain HTTP; production's redirect to HTTPS is tested in a
# real production process (tests/core/test_production.py).
SECURE_SSL_REDIRECT = False
LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"  # one-time codes stay in memory (linli/core/sms.py)

# Each run has a test database of its own (tests/databases.py): test_<db>_<pid>_<epoch> on
# PostgreSQL, so two runs on one server never share (or drop) each other's; pytest-xdist workers
# add _gw0, _gw1 …. SQLite tests use a file, not the shared-cache in-memory database Django would
# pick: only a file has the locking (WAL, busy timeout, IMMEDIATE transactions) production has,
# which the concurrency tests exercise.
from tests import databases as _test_databases  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": _test_databases.sqlite_path()}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": _test_databases.pg_test_name(DATABASES["default"]["NAME"])}  # noqa: F405
    # A test database is thrown away: its commits need not wait for the disk (the transactional
    # and concurrency tests commit thousands of times). Locking and visibility are unchanged.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _pg_options["options"] = (_pg_options.get("options", "") + " -c synchronous_commit=off").strip()

# Background work (linli/runs, docs/runs.md): tasks run inline (ImmediateBackend) unless the
# environment asks for the database backend — the real-worker tests start `db_worker` subprocesses
# with LINLI_TASKS_BACKEND=db and switch this process with override_settings. Progress and result
# files live in one temporary folder per test run, shared with those subprocesses via the environment.
if os.environ.get("LINLI_TASKS_BACKEND", "") != "db":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
import tempfile as _tempfile  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

os.environ.setdefault("LINLI_TEST_RUNS_DIR", _tempfile.mkdtemp(prefix="linli-test-runs-"))
LINLI_RUN_DIR = _Path(os.environ["LINLI_TEST_RUNS_DIR"]) / "files"
LINLI_NOTICE_PDF_DIR = _Path(os.environ["LINLI_TEST_RUNS_DIR"]) / "notice-pdfs"
CACHES["progress"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
    "LOCATION": str(_Path(os.environ["LINLI_TEST_RUNS_DIR"]) / "progress"),
}
