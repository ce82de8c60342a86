"""What every benchmark shares: medians of several runs, a target beside each figure.

A benchmark module is ``bench/bench_<name>.py`` with a function ``run(quick: bool) -> list[Result]``.
``make bench`` (``python -m bench``) runs them all and prints one table; ``python -m bench NAME``
runs those whose module name contains NAME. ``quick`` asks for fewer runs (used in smoke tests).
Figures are wall-clock on the machine at hand: quote medians, never single runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    name: str
    value: float
    unit: str
    target: float | None = None
    better: str = "lower"  # or "higher"
    runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.better == "lower" else self.value >= self.target


def median_of(fn: Callable[[], float], runs: int) -> tuple[float, list[float]]:
    values = [fn() for _ in range(runs)]
    return statistics.median(values), values


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def fresh_sqlite_env(tmp: str | None = None) -> dict[str, str]:
    """Environment for a Django subprocess on its own empty SQLite database."""
    tmp = tmp or tempfile.mkdtemp(prefix="linli-bench-")
    env = dict(os.environ)
    env.update(
        {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "LINLI_DEBUG": "1", "LINLI_VAR_DIR": str(ROOT / "var")}
    )
    return env


def manage(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=check
    )


def script_json(what: str, script: str, args: list[str], env: dict[str, str]) -> Any:
    """Run ``script`` (Python source) in a fresh interpreter with ``args`` and ``env`` from the project
    root; return the JSON of its last line of output, or fail with the end of its errors."""
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} bench failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_table(results: list[Result]) -> None:
    rows = [("benchmark", "median", "target", "ok", "runs", "note")]
    for r in results:
        tgt = "—" if r.target is None else f"{'≤' if r.better == 'lower' else '≥'} {r.target:g} {r.unit}"
        ok = {True: "yes", False: "NO", None: ""}[r.ok]
        runs = ", ".join(f"{v:.3g}" for v in r.runs)
        rows.append((r.name, f"{r.value:.4g} {r.unit}", tgt, ok, runs, r.note))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def time_pages(client: object, urls: dict[str, str], n: int, warm: int = 5) -> dict[str, dict[str, object]]:
    """Server time of pages through Django's test client, inside a bench subprocess: ``warm``
    untimed requests, then ``n`` timed ones per URL (ms). Each must answer 200."""
    out: dict[str, dict[str, object]] = {}
    for name, url in urls.items():
        for _ in range(warm):
            r = client.get(url)  # type: ignore[attr-defined]
            assert r.status_code == 200, (url, r.status_code)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = client.get(url)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        out[name] = {"url": url, "ms": times, "bytes": len(r.content)}
    return out
