"""Waiting in the browser tests under the pages' Content-Security-Policy.

Playwright's ``page.wait_for_function("…")`` polls a string of JavaScript with ``eval``, which the
policy forbids (``script-src 'self'``, no ``'unsafe-eval'``): the browser reports a violation and
the wait fails. ``wait_true`` polls the same expression with ``page.evaluate`` (run by the
debugging protocol, outside the page's policy) until it is true.
"""

from __future__ import annotations

import time
from typing import Any


def wait_true(page: Any, expression: str, timeout: float = 10_000) -> None:
    """Wait until the JavaScript ``expression`` is truthy in ``page`` (timeout in ms, as Playwright's)."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        if page.evaluate(f"() => Boolean({expression})"):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:.0f} s: {expression}")
        page.wait_for_timeout(50)
