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

# SQLite tests use a file, not the shared-cache in-memory database Django would pick: only a file
# has the locking (WAL, busy timeout, IMMEDIATE transactions) production has, which the
# concurrency tests exercise.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"linli-test-{os.getpid()}.sqlite3")}  # noqa: F405
