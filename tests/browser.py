"""Waiting in the browser tests under the pages' Content-Security-Policy.

Playwright's ``page.wait_for_function("…")`` polls a string of JavaScript with ``eval``, which the
policy forbids (``script-src 'self'``, no ``'unsafe-eval'``): the browser reports a violation and
the wait fails. ``wait_true`` polls the same expression with ``page.evaluate`` (run by the
debugging protocol, outside the page's policy) until it is true. While the page is between two
documents the expression may throw (``document.body`` is null before the new body is parsed, or the
context is destroyed mid-call): that counts as "not yet", and the last error is reported if the
time runs out.
"""

from __future__ import annotations

import time
from typing import Any


def wait_true(page: Any, expression: str, timeout: float = 10_000) -> None:
    """Wait until the JavaScript ``expression`` is truthy in ``page`` (timeout in ms, as Playwright's)."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout / 1000
    last = ""
    while True:
        try:
            if page.evaluate(f"() => Boolean({expression})"):
                return
            last = ""
        except Error as error:  # between two documents: try again
            last = f" (last error: {error.message.splitlines()[0]})"
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:.0f} s: {expression}{last}")
        page.wait_for_timeout(50)
