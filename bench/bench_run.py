"""Fresh clone → `make run` serving: seconds from ``git clone`` until /accounts/login/ answers 200.

What a newcomer does: clone the repository (the committed HEAD of this checkout; uncommitted work
is not in a clone, by design), run ``make run PORT=<free port>`` in a clean environment (no
VIRTUAL_ENV, no DATABASE_URL, no LINLI_* variables), which creates .venv, installs the pinned
packages and the npm assets, migrates SQLite, loads the demo district and serves. Target ≤ 180 s.
One run (expensive); ``--quick`` skips it. Package caches of pip and npm are whatever the machine
has: say so when quoting the figure.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import ROOT, Result

TARGET_S = 180.0
TIMEOUT_S = 600.0
NAME = "fresh clone → make run serving /accounts/login/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "DATABASE_URL", "PYTHONPATH", "DJANGO_SETTINGS_MODULE", "PYTHONHOME"}
        and not k.startswith("LINLI_")
    }
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    return env


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (a local http URL we built)
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (urllib.error.URLError, OSError):
        return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def measure(source: Path = ROOT) -> tuple[float, str]:
    """Seconds from ``git clone source`` to a 200 from the login page (NaN and a reason on failure)."""
    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-run-"))
    clone = tmp / "linli"
    log_path = tmp / "make-run.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/accounts/login/"
    env = _clean_env()
    t0 = time.perf_counter()
    try:
        subprocess.run(["git", "clone", "--quiet", str(source), str(clone)], env=env, check=True, capture_output=True)
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                ["make", "run", f"PORT={port}"],
                cwd=clone,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                while time.perf_counter() - t0 < TIMEOUT_S:
                    if proc.poll() is not None:
                        tail = log_path.read_text(errors="replace")[-1500:]
                        return math.nan, f"make run exited with {proc.returncode}: …{tail.strip()[-600:]}"
                    if _status(url) == 200:
                        return time.perf_counter() - t0, f"port {port}"
                    time.sleep(1)
                return math.nan, f"no 200 from {url} within {TIMEOUT_S:.0f} s"
            finally:
                _stop(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(quick: bool) -> list[Result]:
    if quick:
        return [Result(NAME, math.nan, "s", note="skipped in --quick (one run takes minutes)")]
    seconds, note = measure()
    return [
        Result(
            NAME,
            seconds,
            "s",
            target=TARGET_S,
            runs=[] if math.isnan(seconds) else [seconds],
            note=f"1 run, committed HEAD only; {note}",
        )
    ]
