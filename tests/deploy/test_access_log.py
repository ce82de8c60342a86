"""linli/core/accesslog.py: gunicorn's access log lines, made lazily, equal gunicorn's own for every
atom of its format language (and for the format deploy/gunicorn.conf.py sets)."""

from __future__ import annotations

import base64
import datetime
import logging
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from linli.core import accesslog

ROOT = Path(__file__).resolve().parents[2]
OURS = re.search(r"access_log_format = '(.*)'", (ROOT / "deploy" / "gunicorn.conf.py").read_text()).group(1)  # type: ignore[union-attr]
EVERY = " | ".join(
    f"%({a})s" for a in ("h", "l", "u", "t", "r", "s", "m", "U", "q", "H", "b", "B", "f", "a", "T", "D", "M", "L", "p")
)
HEADERS = (
    "%({x-forwarded-for}i)s %({X-Forwarded-For}i)s %({user-agent}i)s %({absent}i)s"
    " %({content-type}o)s %({server_name}e)s"
)


def _request(**over: Any) -> tuple[Any, Any, dict[str, Any], datetime.timedelta]:
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "POST",
        "RAW_URI": '/open311/v2/requests.json?q="x"',
        "PATH_INFO": "/open311/v2/requests.json",
        "QUERY_STRING": 'q="x"',
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "linli.example.gov.cn",
        "HTTP_USER_AGENT": 'client "7" 中文',
        "HTTP_REFERER": "https://example.org/",
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"ann:secret").decode(),
        **over,
    }
    req = SimpleNamespace(
        headers=[
            ("X-FORWARDED-FOR", "203.0.113.9"),
            ("USER-AGENT", environ["HTTP_USER_AGENT"]),
            ("X-FORWARDED-FOR", "203.0.113.10"),  # repeated: the last counts, as in gunicorn's table
        ]
    )
    resp = SimpleNamespace(status="200 OK", sent=1234, headers=[("Content-Type", "application/json")])
    return resp, req, environ, datetime.timedelta(seconds=1, microseconds=234567)


def _loggers(fmt: str) -> tuple[glogging.Logger, accesslog.Logger]:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", fmt)
    theirs, mine = glogging.Logger(cfg), accesslog.Logger(cfg)
    for logger in (theirs, mine):
        logger.now = lambda: "[01/Dec/2026:13:00:00 +0000]"  # type: ignore[method-assign]  # one clock for both
    return theirs, mine


@pytest.mark.parametrize("fmt", [OURS, EVERY, HEADERS])
@pytest.mark.parametrize(
    "over",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer x", "HTTP_REFERER": None},  # no user, no referer
        {"HTTP_USER_AGENT": None, "REMOTE_ADDR": None},
    ],
)
def test_every_atom_is_what_gunicorn_writes(fmt: str, over: dict[str, Any]) -> None:
    theirs, mine = _loggers(fmt)
    resp, req, environ, took = _request(**over)
    environ = {k: v for k, v in environ.items() if v is not None}
    expected = fmt % glogging.SafeAtoms(theirs.atoms(resp, req, environ, took))
    assert fmt % accesslog._Atoms(mine, resp, req, environ, took) == expected
    resp.status, resp.sent = 404, None  # an int status, nothing sent
    expected = fmt % glogging.SafeAtoms(theirs.atoms(resp, req, environ, took))
    assert fmt % accesslog._Atoms(mine, resp, req, environ, took) == expected


def test_the_line_reaches_the_access_log(caplog: pytest.LogCaptureFixture) -> None:
    theirs, mine = _loggers(OURS)  # both write to the logger "gunicorn.access"
    resp, req, environ, took = _request()
    lines = []
    for logger in (theirs, mine):
        logger.access_log.propagate = True
        try:
            with caplog.at_level(logging.INFO, logger="gunicorn.access"):
                caplog.clear()
                logger.access(resp, req, environ, took)
                lines.append({r.getMessage() for r in caplog.records if r.name == "gunicorn.access"})
        finally:
            logger.access_log.propagate = False
    assert lines[0] == lines[1] and len(lines[1]) == 1
    assert next(iter(lines[1])).startswith('203.0.113.10 127.0.0.1 ann [01/Dec/2026:13:00:00 +0000] "POST ')


def test_the_deploy_config_uses_it() -> None:
    text = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    assert 'logger_class = "linli.core.accesslog.Logger"' in text
