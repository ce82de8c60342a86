"""The development server (``make run``'s ``runserver``) and the test suite's live server, without
the 40 ms stall after every answer on a kept-alive connection.

Python's ``wsgiref`` writes an answer's status line and headers in one ``send`` and its body in
another. With Nagle's algorithm on (the default for a TCP socket) the kernel holds the body until
the client acknowledges the headers, and the client, having nothing to send, delays that
acknowledgement by up to 40 ms (Linux's delayed ACK). A browser, or any client that keeps its
connection open for the next request, then waits ~40 ms on every answer: measured here, 47 ms a
request for the sign-in page over one kept-alive connection (``runserver``), and the schema check of
``tests/core/test_api_schema.py`` (2,905 requests) took 194 s instead of 59 s.

gunicorn (production) sets ``TCP_NODELAY`` on its listening socket; these servers set it on every
connection they accept, so each write goes out at once.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIServer


def no_delay(sock: socket.socket) -> None:
    """Send each write at once (``TCP_NODELAY``); a socket that is not TCP is left as it is."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer is already gone: the request fails on its own
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _NoDelay:
    """Sets ``TCP_NODELAY`` on each connection the server accepts (before a socketserver class)."""

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()  # type: ignore[misc]
        no_delay(sock)
        return sock, address


class NoDelayWSGIServer(_NoDelay, WSGIServer):
    """``runserver``'s server (``linli/core/management/commands/runserver.py``)."""


class NoDelayThreadedWSGIServer(_NoDelay, ThreadedWSGIServer):
    """The live server of the browser and schema tests (``tests/conftest.py``)."""
