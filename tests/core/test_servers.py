"""runserver and the tests' live server send each write at once (linli/core/servers.py): without
``TCP_NODELAY`` every answer on a kept-alive connection waited ~40 ms for the client's delayed ACK."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
from django.core.management import get_commands, load_command_class
from django.core.servers.basehttp import WSGIRequestHandler
from django.test.testcases import LiveServerThread

from linli.core.servers import NoDelayThreadedWSGIServer, NoDelayWSGIServer, no_delay


@pytest.mark.parametrize("server_class", [NoDelayWSGIServer, NoDelayThreadedWSGIServer])
def test_every_accepted_connection_sends_at_once(server_class: Any) -> None:
    server = server_class(("127.0.0.1", 0), WSGIRequestHandler)
    try:
        client = socket.create_connection(server.server_address[:2], timeout=5)
        try:
            accepted, _ = server.get_request()
            try:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            finally:
                accepted.close()
        finally:
            client.close()
    finally:
        server.server_close()


def test_a_socket_that_is_not_tcp_is_left_alone() -> None:
    a, b = socket.socketpair()
    try:
        no_delay(a)  # no error: AF_UNIX has no TCP_NODELAY
    finally:
        a.close()
        b.close()


def test_manage_py_runserver_is_ours_and_serves_static_files() -> None:
    from django.contrib.staticfiles.management.commands.runserver import Command as StaticFilesRunserver

    assert get_commands()["runserver"] == "linli.core"
    command = load_command_class("linli.core", "runserver")
    assert isinstance(command, StaticFilesRunserver) and command.server_cls is NoDelayWSGIServer


def test_the_live_server_of_the_tests_is_the_same(live_server: Any) -> None:
    assert LiveServerThread.server_class is NoDelayThreadedWSGIServer
    assert isinstance(live_server.thread.httpd, NoDelayThreadedWSGIServer)
    assert any(t is live_server.thread for t in threading.enumerate())
