"""The WSGI application gunicorn serves (linli/core/handlers.py): /open311/ through the lean middleware
stack, every other path through the full one — called here as gunicorn calls it."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from linli.core import handlers

pytestmark = pytest.mark.django_db


@pytest.fixture
def app() -> Iterator[handlers.PathDispatch]:
    # a real request closes old database connections at its start and end (as Django's test client,
    # keep the test's transaction open)
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield handlers.application()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def call(app: Any, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[str, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
    }
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return seen["status"], seen["headers"], content


def test_open311_goes_through_the_lean_stack_and_pages_through_the_full_one(app: Any) -> None:
    assert isinstance(app.lean, handlers.LeanHandler) and app.lean_paths == ("/open311/", "/sensing/telemetry/")
    status, headers, body = call(app, "GET", "/open311/v2/discovery.json")
    assert status.startswith("200") and b"endpoints" in body
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in headers and "Set-Cookie" not in headers  # no page, no session
    assert "Cookie" not in headers.get("Vary", "")
    status, headers, _ = call(app, "GET", "/accounts/login/")
    assert status.startswith("200")
    assert "Content-Security-Policy" in headers and "csrftoken" in headers.get("Set-Cookie", "")


def test_an_oversize_open311_body_is_a_413_in_both_stacks(app: Any, settings: Any) -> None:
    settings.LINLI_MAX_UPLOAD_BYTES = 100
    for accept in ("application/json", "text/html"):
        status, _, body = call(app, "POST", "/open311/v2/requests.json", b"x=" + b"1" * 500, accept=accept)
        assert status.startswith("413"), (accept, status)
        text = json.loads(body)["errors"][0]["zh"] if accept == "application/json" else body.decode()
        assert "过大" in text


def test_the_lean_stack_answers_in_the_default_language_whatever_the_thread_served_before(app: Any) -> None:
    from django.utils import translation

    translation.activate("en")  # as if this thread had just served an English page
    try:
        status, _, _ = call(app, "GET", "/open311/v2/discovery.json")
        assert status.startswith("200")
        assert translation.get_language() == "zh-hans"
    finally:
        translation.deactivate()
