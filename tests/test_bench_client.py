"""The Open311 bench's Python load generator (``bench.bench_open311._Connection``): HTTP/1.1 by
hand, so what it counts must be what the server answered — status, the whole body however it
arrives, a new connection after ``Connection: close``, the same one otherwise, one new attempt
when the server drops a connection unanswered."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from bench.bench_open311 import _Connection

Handler = Callable[[socket.socket, int], None]


def _read_request(conn: socket.socket) -> bytes:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = next(
        int(v) for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")) if k.lower() == b"content-length"
    )
    while len(body) < length:
        body += conn.recv(65536)
    return body


class _Server:
    """Accepts connections on a port of its own; ``handler(conn, n)`` serves the n-th (from 0)."""

    def __init__(self, handler: Handler) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.accepted = 0
        self.bodies: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            n, self.accepted = self.accepted, self.accepted + 1
            with conn:
                self.handler(conn, n)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], _Server]]:
    servers: list[_Server] = []

    def start(handler: Handler) -> _Server:
        servers.append(_Server(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _answer(body: bytes, *, close: bool, status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body


def test_connection_close_means_a_new_connection_each_time(serve: Callable[[Handler], _Server]) -> None:
    def handler(conn: socket.socket, n: int) -> None:
        body = _read_request(conn)
        conn.sendall(_answer(b'[{"service_request_id":"%d","len":%d}]' % (n, len(body)), close=True))

    server = serve(handler)
    client = _Connection(server.port)
    assert client.post(b"a=1") == (200, b'[{"service_request_id":"0","len":3}]')
    assert client.post(b"a=12") == (200, b'[{"service_request_id":"1","len":4}]')
    assert server.accepted == 2 and client.sock is None


def test_a_kept_alive_connection_is_reused_and_a_body_in_pieces_is_read_whole(
    serve: Callable[[Handler], _Server],
) -> None:
    big = b"x" * 200_000

    def handler(conn: socket.socket, n: int) -> None:
        for i in range(3):
            _read_request(conn)
            answer = _answer(
                big if i == 1 else b"[%d]" % i, close=False, status="400 Bad Request" if i == 2 else "200 OK"
            )
            for at in range(0, len(answer), 7_001):  # the answer arrives in many small pieces
                conn.sendall(answer[at : at + 7_001])

    server = serve(handler)
    client = _Connection(server.port)
    assert client.post(b"a") == (200, b"[0]")
    assert client.post(b"b") == (200, big)
    assert client.post(b"c") == (400, b"[2]")
    assert server.accepted == 1
    client.close()


def test_a_connection_dropped_unanswered_gets_one_new_attempt(serve: Callable[[Handler], _Server]) -> None:
    def handler(conn: socket.socket, n: int) -> None:
        _read_request(conn)
        if n % 2 == 0:
            return  # closes without an answer
        conn.sendall(_answer(b"[1]", close=True))

    server = serve(handler)
    assert _Connection(server.port).post(b"a") == (200, b"[1]")
    assert server.accepted == 2


def test_a_second_drop_raises(serve: Callable[[Handler], _Server]) -> None:
    def handler(conn: socket.socket, n: int) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[1")  # cut in the middle

    server = serve(handler)
    with pytest.raises(ConnectionError, match="middle of an answer"):
        _Connection(server.port).post(b"a")
    assert server.accepted == 2


def test_an_answer_without_a_length_ends_when_the_server_closes(serve: Callable[[Handler], _Server]) -> None:
    def handler(conn: socket.socket, n: int) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nbusy")

    server = serve(handler)
    client = _Connection(server.port)
    assert client.post(b"a") == (503, b"busy")
    assert client.sock is None
