"""gunicorn's access log: the same lines for less CPU (``logger_class`` in deploy/gunicorn.conf.py).

For every request gunicorn's ``Logger.access`` builds every atom of its format language — each
request and response header and each of the ~30 WSGI environ variables, quote-escaped one by one,
and the time — although a format uses a handful of them (ours ten): a twentieth of a worker's
time in the Open311 intake (py-spy; docs/open311.md). ``Logger`` here gives ``logging`` a mapping
that makes an atom only when the format asks for it, exactly as gunicorn makes it (same values,
``"`` escaped, ``-`` for what is missing, header names in any case); an atom it does not make
itself comes from gunicorn's own full table, built then. No Django: gunicorn loads it before the
application. ``tests/deploy/test_access_log.py`` compares every atom with gunicorn's.
"""

from __future__ import annotations

import traceback
from typing import Any

from gunicorn import glogging


def _safe(value: Any) -> Any:
    return value.replace('"', '\\"') if isinstance(value, str) else value


class _Atoms(dict[str, Any]):
    """The atoms of one request, made on first use (``glogging.SafeAtoms`` semantics)."""

    def __init__(self, logger: glogging.Logger, resp: Any, req: Any, environ: dict[str, Any], took: Any) -> None:
        # never empty: logging formats with a lone mapping argument only when it is truthy
        super().__init__(l="-")
        self._args = (logger, resp, req, environ, took)
        self._full: glogging.SafeAtoms | None = None

    def __missing__(self, key: str) -> Any:
        value = self._make(key.lower() if key.startswith("{") else key)
        self[key] = value
        return value

    def _make(self, key: str) -> Any:
        logger, resp, req, environ, took = self._args
        if key == "h":
            return _safe(environ.get("REMOTE_ADDR", "-"))
        if key == "u":
            return _safe(logger._get_user(environ) or "-")
        if key == "t":
            return logger.now()
        if key == "r":
            return _safe(f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}")
        if key == "s":
            status = resp.status
            return _safe(status.split(None, 1)[0] if isinstance(status, str) else status)
        if key == "B":
            return getattr(resp, "sent", None)
        if key == "b":
            return str(resp.sent) if getattr(resp, "sent", None) is not None else "-"
        if key == "f":
            return _safe(environ.get("HTTP_REFERER", "-"))
        if key == "a":
            return _safe(environ.get("HTTP_USER_AGENT", "-"))
        if key == "M":
            return took.seconds * 1000 + int(took.microseconds / 1000)
        if key.startswith("{") and key.endswith("}i") and isinstance(getattr(req, "headers", None), list):
            name, found = key[1:-2], "-"
            for k, v in req.headers:  # the last of repeated headers, as gunicorn's table keeps it
                if k.lower() == name:
                    found = v
            return _safe(found)
        if self._full is None:  # any other atom: gunicorn's own table
            self._full = glogging.SafeAtoms(logger.atoms(resp, req, environ, took))
        return self._full[key]


class Logger(glogging.Logger):
    """gunicorn's logger; only ``access`` differs, and only in when the atoms are made."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info(self.cfg.access_log_format, _Atoms(self, resp, req, environ, request_time))
        except Exception:
            self.error(traceback.format_exc())
