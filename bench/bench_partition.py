"""Grid division: divide() on 500 / 3,000 / 20,000 generated buildings (issue 4, item 1).

Layouts come from tests/governance/test_partition.py ``layout(n)`` (hillside communities around
29.50 N 106.50 E, 20–200 households a building, ~0.4 % towers over 500). For each size: median
wall-clock time of divide(), share of grids in [300, 500] (forced singletons over 500 excluded),
contiguity, household-weighted mean distance to the grid centre; for 20,000 also the peak RSS of a
fresh subprocess that imports, generates and divides (ru_maxrss, so it includes the interpreter,
numpy and scipy). A plain greedy region growing (~20 lines, below) runs on the same data as a
baseline for band share and distance.

PySAL spopt MaxPHeuristic (threshold 300) runs on the same layouts in its own virtualenv
(``.venv-spopt`` from ``requirements/bench-spopt.txt``, created here on first use; skipped with a
note when it cannot be installed) through ``bench/spopt_maxp.py``, each size with a time limit
(``SPOPT_TIMEOUT_S``): the issue asks for spopt only where it finishes within a few minutes.
Contiguity is judged for every method by ``evaluate()``'s rule (Delaunay edges up to 350 m): MaxP's
regions are connected in the full Delaunay graph, whose longer edges jump across gaps a grid worker
would have to walk around, so some of its grids count as split.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile

from bench.common import ROOT, Result, median_of, timed
from linli.governance.partition import divide, evaluate
from tests.governance.test_partition import layout

SIZES = (500, 3000, 20000)
TARGET_S_20K = 1.0
TARGET_BAND_PCT = 99.5
TARGET_MB = 500.0
SPOPT_TIMEOUT_S = int(os.environ.get("LINLI_BENCH_SPOPT_TIMEOUT", "300"))
SPOPT_VENV = ROOT / ".venv-spopt"

MEMORY_SCRIPT = r"""
import json, resource, sys
from linli.governance.partition import divide
from tests.governance.test_partition import layout
b = layout(int(sys.argv[1]))
divide(b)
print(json.dumps({"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def greedy_baseline(buildings: list[dict], lo: int = 300) -> list[list]:
    """Plain region growing: seed anywhere, add nearest unassigned neighbour until ≥ lo (no repair)."""
    from scipy.spatial import cKDTree

    grids: list[list] = []
    by_comm: dict = {}
    for b in buildings:
        by_comm.setdefault(b["community"], []).append(b)
    for bs in by_comm.values():
        pts = [(b["lon"] * 96_900, b["lat"] * 110_570) for b in bs]
        tree = cKDTree(pts)
        free = [True] * len(bs)
        for s in range(len(bs)):
            if not free[s]:
                continue
            free[s], g, tot = False, [s], bs[s]["households"]
            for j in tree.query(pts[s], k=min(len(bs), 40))[1][1:]:
                if tot >= lo:
                    break
                if free[j]:
                    free[j], tot = False, tot + bs[j]["households"]
                    g.append(j)
            grids.append([bs[i]["id"] for i in g])
    return grids


def spopt_python() -> tuple[str | None, str]:
    """The spopt virtualenv's python, creating it on first use; (None, why) when not possible."""
    py = SPOPT_VENV / "bin" / "python"
    if py.exists():
        return str(py), ""
    print("== creating .venv-spopt for the spopt comparison (once) ==", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(SPOPT_VENV)], check=True, timeout=120)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "-r", str(ROOT / "requirements" / "bench-spopt.txt")],
            check=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"spopt could not be installed ({exc.__class__.__name__})"
    return str(py), ""


def run_spopt(py: str, buildings: list[dict], timeout: int) -> tuple[dict | None, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(buildings, fh)
        path = fh.name
    try:
        proc = subprocess.run(
            [py, str(ROOT / "bench" / "spopt_maxp.py"), path], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, f"spopt did not finish within {timeout} s"
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        return None, "spopt failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:120]
    return json.loads(proc.stdout.strip().splitlines()[-1]), ""


def run(quick: bool) -> list[Result]:
    runs = 1 if quick else 5
    results: list[Result] = []
    py, why_not = spopt_python()
    for n in SIZES:
        buildings = layout(n)
        grids = divide(buildings)  # warm-up (scipy import)

        def once(b: list[dict] = buildings) -> float:
            return timed(lambda: divide(b))

        t, values = median_of(once, runs)
        rep = evaluate(buildings, grids)
        base = greedy_baseline(buildings)
        brep = evaluate(buildings, base)
        results.append(
            Result(
                f"partition: divide() {n:,} buildings",
                t,
                "s",
                TARGET_S_20K if n == 20000 else None,
                runs=values,
                note=f"{rep.grids} grids, {rep.forced_singletons} towers alone",
            )
        )
        results.append(
            Result(
                f"partition: % grids in band, {n:,}",
                100 * rep.share_in_band,
                "%",
                TARGET_BAND_PCT,
                better="higher",
                note=f"{rep.undersized} under, {rep.oversized} over; greedy baseline {100 * brep.share_in_band:.1f} %",
            )
        )
        results.append(
            Result(
                f"partition: all grids contiguous, {n:,}",
                1.0 if rep.all_contiguous else 0.0,
                "bool",
                1.0,
                better="higher",
                note="complete" if rep.complete else "INCOMPLETE cover",
            )
        )
        results.append(
            Result(
                f"partition: weighted mean distance to centre, {n:,}",
                rep.mean_distance_m,
                "m",
                brep.mean_distance_m if math.isfinite(brep.mean_distance_m) else None,
                note=f"target: ≤ greedy baseline ({brep.mean_distance_m:.1f} m)",
            )
        )
        if py is None or (quick and n > 3000):
            results.append(
                Result(f"partition: spopt MaxP {n:,}", math.nan, "s", None, note=why_not or "skipped in --quick")
            )
            continue
        sp, why = run_spopt(py, buildings, SPOPT_TIMEOUT_S)
        if sp is None:
            results.append(Result(f"partition: spopt MaxP {n:,}", math.nan, "s", None, note=why))
            continue
        srep = evaluate(buildings, sp["grids"])
        hh = {b["id"]: b["households"] for b in buildings}
        largest = max(sum(hh[i] for i in g) for g in sp["grids"])
        results.append(
            Result(
                f"partition: spopt MaxP {n:,} (same layout)",
                sp["seconds"],
                "s",
                None,
                note=(
                    f"{100 * srep.share_in_band:.1f} % in band, largest grid {largest} hh, "
                    f"{'contiguous' if srep.all_contiguous else 'some grids split by the 350 m rule'}, "
                    f"mean distance {srep.mean_distance_m:.1f} m, peak {sp['maxrss_kb'] / 1024:.0f} MB"
                ),
            )
        )
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, "20000"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    mb = json.loads(proc.stdout.strip().splitlines()[-1])["maxrss_kb"] / 1024
    results.append(
        Result(
            "partition: peak RSS, 20,000 (whole process)",
            mb,
            "MB",
            TARGET_MB,
            note="spopt's own peak is in its row above",
        )
    )
    return results
