"""Test settings: the real settings with development secrets and a fast password hasher."""

import os

os.environ.setdefault("LINLI_DEV_SECRETS", "1")

from linli.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"  # one-time codes stay in memory (linli/core/sms.py)

# SQLite tests use a file, not the shared-cache in-memory database Django would pick: only a file
# has the locking (WAL, busy timeout, IMMEDIATE transactions) production has, which the
# concurrency tests exercise.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"linli-test-{os.getpid()}.sqlite3")}  # noqa: F405
