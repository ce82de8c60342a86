"""The demo district: ``load_demo`` (generate + load ≈68k households, ≈150k people) on a fresh SQLite
database, target ≤ 60 s; then ``load_demo_consent`` (the consent story of issue 3, also part of
``make run``), target ≤ 10 s; then ``load_demo_events`` (a year of grid events, issue 4), target
≤ 10 s; all three together (the data of ``make run``) ≤ 60 s; and generation alone (pure Python,
in-process), for reference.

Each run is a subprocess on its own migrated database (``migrate`` not timed). The database of the
last run is kept under /tmp, keyed by git HEAD and the files that shape the data, so that
``bench_pages`` can reuse it (``demo_db()``).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.common import ROOT, Result, fresh_sqlite_env, manage, timed

CACHE_DIR = Path(tempfile.gettempdir()) / "linli-bench-demo-cache"
TARGET_S = 60.0
CONSENT_TARGET_S = 10.0
EVENTS_TARGET_S = 10.0


def _data_key() -> str:
    """git HEAD plus the working-tree content of everything that decides the demo database."""
    h = hashlib.sha256()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    h.update(head.stdout.strip().encode())
    files = [
        ROOT / "linli/demo/places.py",
        ROOT / "linli/demo/management/commands/load_demo.py",
        *sorted(ROOT.glob("linli/*/migrations/0*.py")),
        ROOT / "var/linli_field_keys",
    ]
    for f in files:
        if f.exists():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy (WAL included) through SQLite's backup API."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".part")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(src) as a, sqlite3.connect(tmp) as b:
        a.backup(b)
    a.close()
    b.close()
    tmp.replace(dst)


def _load_once(keep: bool) -> tuple[float, float, float]:
    """Seconds of ``load_demo``, of ``load_demo_consent`` and of ``load_demo_events`` after it (the
    cached database is the district alone, copied before the stories are loaded, as ``bench_pages``
    expects)."""
    tmp = tempfile.mkdtemp(prefix="linli-bench-demo-")
    try:
        env = fresh_sqlite_env(tmp)
        manage(["migrate", "--noinput", "-v", "0"], env)
        proc: list[subprocess.CompletedProcess[str]] = []
        seconds = timed(lambda: proc.append(manage(["load_demo"], env, check=False)))
        if proc[0].returncode != 0:
            raise RuntimeError(f"load_demo failed:\n{proc[0].stdout[-2000:]}\n{proc[0].stderr[-2000:]}")
        if keep:
            _copy_sqlite(Path(tmp) / "bench.sqlite3", CACHE_DIR / f"{_data_key()}.sqlite3")
        story: list[subprocess.CompletedProcess[str]] = []
        consent = timed(lambda: story.append(manage(["load_demo_consent"], env, check=False)))
        if story[0].returncode != 0:
            raise RuntimeError(f"load_demo_consent failed:\n{story[0].stdout[-2000:]}\n{story[0].stderr[-2000:]}")
        grid: list[subprocess.CompletedProcess[str]] = []
        events = timed(lambda: grid.append(manage(["load_demo_events"], env, check=False)))
        if grid[0].returncode != 0:
            raise RuntimeError(f"load_demo_events failed:\n{grid[0].stdout[-2000:]}\n{grid[0].stderr[-2000:]}")
        return seconds, consent, events
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def demo_db() -> Path:
    """A migrated SQLite database holding the scale-1.0 demo district (cached; built if missing)."""
    path = CACHE_DIR / f"{_data_key()}.sqlite3"
    if not path.exists():
        _load_once(keep=True)
    return path


def run(quick: bool) -> list[Result]:
    runs = 1 if quick else 3
    both = [_load_once(keep=(i == runs - 1)) for i in range(runs)]
    loads = [b[0] for b in both]
    consents = [b[1] for b in both]
    grid_events = [b[2] for b in both]
    totals = [a + b + c for a, b, c in both]

    from linli.demo import places as demo_places  # pure Python: no Django settings needed

    gens = [timed(demo_places.generate) for _ in range(runs)]
    counts = demo_places.generate().counts()
    return [
        Result(
            "demo district generate+load (≈68k households), SQLite",
            statistics.median(loads),
            "s",
            target=TARGET_S,
            runs=loads,
            note=f"{counts['households']:,} households, {counts['people']:,} people, `manage.py load_demo`",
        ),
        Result(
            "demo consent story (issue 3) load, SQLite",
            statistics.median(consents),
            "s",
            target=CONSENT_TARGET_S,
            runs=consents,
            note="`manage.py load_demo_consent` through the services (visits, survey, ballots, notices, works)",
        ),
        Result(
            "demo grid events (issue 4) load, SQLite",
            statistics.median(grid_events),
            "s",
            target=EVENTS_TARGET_S,
            runs=grid_events,
            note="`manage.py load_demo_events`: ≈4,000 events and ≈29,000 history rows over 12 months",
        ),
        Result(
            "`make run` data: load_demo + load_demo_consent + load_demo_events, SQLite",
            statistics.median(totals),
            "s",
            target=TARGET_S,
            runs=totals,
            note="the three commands of the `demo` target",
        ),
        Result(
            "demo district generation alone (pure Python)",
            statistics.median(gens),
            "s",
            runs=gens,
            note="part of the row above; no target",
        ),
    ]
