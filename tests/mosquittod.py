"""A Mosquitto of our own for the MQTT tests and the bench: ``mosquitto`` on a free port of 127.0.0.1
(MQTT 5, anonymous, nothing saved to disk), stopped again at the end. ``None`` when no ``mosquitto``
is installed (tests skip with a reason; ``make test`` installs it like chromium)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ports import free_port

BINARY_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    log: Path  # the broker's log (read it when a test fails)


def binary() -> str | None:
    return shutil.which("mosquitto") or next((p for p in BINARY_PATHS if os.path.exists(p)), None)


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when an MQTT broker accepts a connection there (a CONNECT answered by a CONNACK)."""
    # MQTT 3.1.1 CONNECT, clean session, keep-alive 10 s, client id "probe"
    connect = bytes([0x10, 17, 0, 4, *b"MQTT", 4, 2, 0, 10, 0, 5, *b"probe"])
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(connect)
            ack = s.recv(4)
            s.sendall(bytes([0xE0, 0]))  # DISCONNECT
            return len(ack) >= 2 and ack[0] == 0x20
    except OSError:
        return False


@contextlib.contextmanager
def own_broker(max_queued: int = 100_000, port: int = 0) -> Iterator[Broker | None]:
    """A ``mosquitto`` of our own on ``port`` (default a free one); ``None`` when none is installed."""
    exe = binary()
    if exe is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="linli-mosquitto-") as tmp:
        port = port or free_port()
        conf = Path(tmp) / "mosquitto.conf"
        log = Path(tmp) / "mosquitto.log"
        conf.write_text(
            "\n".join(
                [
                    f"listener {port} 127.0.0.1",
                    "allow_anonymous true",
                    "persistence false",
                    f"max_queued_messages {max_queued}",
                    "max_inflight_messages 0",
                    "log_dest stderr",
                    "log_type error",
                    "log_type warning",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        with log.open("wb") as err:
            proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 10
            while not answers("127.0.0.1", port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto did not start on port {port}: {log.read_text(errors='replace')}")
                time.sleep(0.05)
            yield Broker("127.0.0.1", port, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- pytest fixtures (import them by name into a test module) -------------------------------------


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with own_broker() as found:
        if found is None:
            pytest.skip("mosquitto is not installed (make test installs it: apt-get install mosquitto)")
        yield found
