"""Test settings: the real settings with development secrets and a fast password hasher."""

import os

os.environ.setdefault("LINLI_DEV_SECRETS", "1")

from linli.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
