"""The WSGI application: a lean middleware stack for machine endpoints, the full one for everything else.

Open311 clients (apps, kiosks, partner systems, ``/open311/``) authenticate with an api_key in the
request, never with a session, a CSRF token or a language cookie, and get XML or JSON, never a page.
The full stack (``settings.MIDDLEWARE``) spends about a sixth of such a request's CPU on what they
never use: reading the session and the user, the language, the messages, the CSP header of a page,
WhiteNoise's static lookup, the lockout (docs/open311.md "Where the time of one POST goes").

``application`` sends a request whose path starts with one of ``settings.LINLI_LEAN_PATHS`` through
a second Django handler built from ``settings.LINLI_LEAN_MIDDLEWARE`` (security headers, the body
limit, X-Frame-Options, Content-Length), every other request through the full one. Both handlers
are ordinary Django ``WSGIHandler`` objects: the same URLs, views, signals and error handling.

The test client builds its own handler from ``settings.MIDDLEWARE``; ``tests/core/test_handlers.py``
calls this application as gunicorn does, and the production-stack test posts through gunicorn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

StartResponse = Callable[..., Any]


class LeanMiddleware:
    """Mixin for a Django handler class: build the chain from ``settings.LINLI_LEAN_MIDDLEWARE``
    instead of ``settings.MIDDLEWARE`` (``LeanHandler`` here; the tests' client handler too)."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE; show it the lean list while it does
        # (once, at start-up, before any request is served). override_settings is Django's public
        # way to present other settings for a while; nothing else reads MIDDLEWARE then.
        from django.test.utils import override_settings

        with override_settings(MIDDLEWARE=list(settings.LINLI_LEAN_MIDDLEWARE)):
            super().load_middleware(is_async)  # type: ignore[misc]


class LeanHandler(LeanMiddleware, WSGIHandler):
    """The WSGI handler of the lean stack."""


class PathDispatch:
    """Requests under one of ``lean_paths`` go to the ``lean`` handler, the rest to ``full``."""

    def __init__(self, full: Any, lean: Any, lean_paths: Iterable[str]) -> None:
        self.full = full
        self.lean = lean
        self.lean_paths = tuple(lean_paths)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        if self.lean_paths and environ.get("PATH_INFO", "").startswith(self.lean_paths):
            return self.lean(environ, start_response)
        return self.full(environ, start_response)


def application() -> PathDispatch:
    """The site's WSGI application (``linli/wsgi.py``); call after ``django.setup()``."""
    return PathDispatch(
        WSGIHandler(),
        LeanHandler(),
        settings.LINLI_LEAN_PATHS,
    )
