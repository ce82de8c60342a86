"""The WSGI application gunicorn and runserver serve (linli/core/handlers.py: a lean middleware stack
for the Open311 endpoints, the full one for pages and the API)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
django.setup(set_prefix=False)

from linli.core.handlers import application as _application  # noqa: E402  (after django.setup)

application = _application()
