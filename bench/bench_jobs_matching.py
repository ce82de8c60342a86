"""就近帮 matching (issue 14, "Measured in make bench"): ``top()`` over 1,000,000 postings, p95 ≤ 10 ms on
one core, build ≤ 30 s, ≤ 1 GB; the best 10 for 100,000 seekers ≤ 60 s (the nightly push).

A fresh interpreter (one thread: the index uses one core) generates a seeded city and measures:

* **the city:** postings and seekers around 29.53 N 106.50 E, positions Gaussian (σ 8 km) clipped to
  a 40 × 40 km square, so that ~30 % of the postings lie within 10 km of a query (printed: the mean
  share within 10 km of 50 seekers); a vocabulary of 300 skill codes with Zipf popularity (1/rank),
  1–5 draws a person (duplicates merge); postings pay 3,000–15,000 + 500–6,000 yuan/month (≤ 20,000),
  seekers want a log-normal wage around 6,000 (3,000–20,000); hours 20–60 a week, most 40–48.
* **build:** ``build()`` of the 1,000,000 mappings; the memory figure is the growth of the resident set
  over the build (``/proc/self/statm``; the generated mappings themselves are the caller's) and the
  whole process's peak is in the note.
* **top():** 2,000 seekers (``--quick``: 300) one after another, wall-clock per call, after 20 warm-ups.
* **batch:** ``top_many()`` of 100,000 seekers (``--quick``: 10,000, scaled ×10 in the note).
* **talent():** 500 postings against an index of the 100,000 seekers (``--quick``: 20,000).
* **add/remove:** 10,000 new postings added one by one, then removed.
* **exact:** a few queries (``--quick``: 1) compared with a naive Python scan of every posting with
  ``score()`` — the same list, float for float.

The machine at hand may be shared: wall-clock figures include waiting for a CPU that other work holds,
so ``top()`` and the batch are reported twice, as the process's own CPU time (what one core needs) and
as wall clock (with the load average in the note).
"""

from __future__ import annotations

import math
import os

from bench.common import ROOT, Result, script_json

TARGET_P95_MS = 10.0
TARGET_BUILD_S = 30.0
TARGET_MB = 1024.0
TARGET_BATCH_S = 60.0

SCRIPT = r"""
import json, math, os, resource, sys, time
import numpy as np
from bench.bench_jobs_matching import people
from linli.core.geo import metres
from linli.jobs.matching import Match, build, score, talent

n_post, n_top, n_batch, n_talent_seekers, n_exact = (int(a) for a in sys.argv[1:6])

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def clock():
    return time.perf_counter(), time.process_time()

out = {}
t = time.perf_counter()
postings = people(n_post, seed=1)
out["gen_s"] = time.perf_counter() - t
before = rss_mb()
w, c = clock()
index = build(postings)
out["build_s"], out["build_cpu_s"] = time.perf_counter() - w, time.process_time() - c
out["index_mb"] = rss_mb() - before
seekers = people(max(n_batch, n_top, n_talent_seekers), seed=2, seeker=True)

lat = np.array([p["lat"] for p in postings])
lon = np.array([p["lon"] for p in postings])
shares = []
for s in seekers[:50]:
    dy = (lat - s["lat"]) * 111_195.0
    dx = (lon - s["lon"]) * 111_195.0 * math.cos(math.radians(s["lat"]))
    shares.append(float(np.mean(dx * dx + dy * dy <= 1e8)))
out["share_10km"] = sum(shares) / len(shares)

for s in seekers[:20]:
    index.top(s, 10, 10_000)
walls, cpus, found = [], [], 0
for s in seekers[:n_top]:
    w, c = clock()
    got = index.top(s, 10, 10_000)
    walls.append((time.perf_counter() - w) * 1000)
    cpus.append((time.process_time() - c) * 1000)
    found += len(got)
out["top_ms"], out["top_cpu_ms"], out["top_found"] = walls, cpus, found / n_top

w, c = clock()
batch = index.top_many(seekers[:n_batch], 10, 10_000)
out["batch_s"], out["batch_cpu_s"] = time.perf_counter() - w, time.process_time() - c
out["batch_n"] = n_batch
out["batch_empty"] = sum(1 for b in batch if not b)

seekers_index = build(seekers[:n_talent_seekers])
walls = []
for p in postings[:500]:
    w = time.perf_counter()
    talent(p, seekers_index, 10, 10_000)
    walls.append((time.perf_counter() - w) * 1000)
out["talent_ms"] = walls

extra = people(10_000, seed=3)
for p in extra:
    p["id"] += 10_000_000
w = time.perf_counter()
for p in extra:
    index.add(p)
out["add_us"] = (time.perf_counter() - w) / len(extra) * 1e6
w = time.perf_counter()
for p in extra:
    index.remove(p["id"])
out["remove_us"] = (time.perf_counter() - w) / len(extra) * 1e6

same = 0
for s in seekers[:n_exact]:
    naive = []
    for p in postings:
        d = metres(s["lat"], s["lon"], p["lat"], p["lon"])
        if d <= 10_000:
            v = score(s, p, d)
            if v > 0:
                naive.append(Match(p["id"], v, d))
    naive.sort(key=lambda m: (-m.score, m.posting_id))
    same += naive[:10] == index.top(s, 10, 10_000)
out["exact"], out["exact_n"] = same, n_exact
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def people(n: int, seed: int, seeker: bool = False) -> list[dict]:
    """``n`` seeded postings (or seekers) of the bench city (see the module docstring)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    vocab = 300
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    codes = [f"{i:04d}" for i in range(vocab)]
    xy = rng.normal(0.0, 8.0, size=(n, 2)).clip(-20.0, 20.0)  # km
    lat = 29.53 + xy[:, 1] / 111.195
    lon = 106.50 + xy[:, 0] / (111.195 * np.cos(np.radians(29.53)))
    nsk = rng.integers(1, 6, size=n)
    draws = rng.choice(vocab, size=(n, 5), p=p)
    if seeker:
        wmin = rng.lognormal(np.log(6000), 0.35, size=n).clip(3000, 20000).round(-2)
        wmax = (wmin * rng.uniform(1.1, 1.6, size=n)).clip(None, 20000).round(-2)
    else:
        wmin = rng.uniform(3000, 15000, size=n).round(-2)
        wmax = (wmin + rng.uniform(500, 6000, size=n)).clip(None, 20000).round(-2)
    hours = rng.choice(
        [20, 24, 30, 36, 40, 44, 48, 54, 60], size=n, p=[0.05, 0.05, 0.08, 0.1, 0.3, 0.15, 0.15, 0.07, 0.05]
    )
    cols = zip(
        lat.tolist(),
        lon.tolist(),
        nsk.tolist(),
        draws.tolist(),
        wmin.astype(int).tolist(),
        wmax.astype(int).tolist(),
        hours.tolist(),
        strict=True,
    )
    return [
        {"id": i, "lat": la, "lon": lo, "skills": {codes[c] for c in dr[:k]}, "wage_min": a, "wage_max": b, "hours": h}
        for i, (la, lo, k, dr, a, b, h) in enumerate(cols)
    ]


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(q / 100 * (len(s) - 1))))]


def run(quick: bool) -> list[Result]:
    n_post = 1_000_000
    n_top, n_batch, n_seekers, n_exact = (300, 10_000, 20_000, 1) if quick else (2000, 100_000, 100_000, 3)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    args = [str(v) for v in (n_post, n_top, n_batch, n_seekers, n_exact)]
    try:
        out = script_json("jobs matching", SCRIPT, args, env)
    except RuntimeError as exc:
        name = "jobs matching: top() p95, 1,000,000 postings"
        return [Result(name, float("nan"), "ms", TARGET_P95_MS, note=str(exc)[-200:])]
    scale = 100_000 / out["batch_n"]
    batch_s = out["batch_s"] * scale
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return [
        Result(
            "jobs matching: top() p95 CPU time, 1,000,000 postings",
            _pct(out["top_cpu_ms"], 95),
            "ms",
            TARGET_P95_MS,
            note=(
                f"one thread; p50 {_pct(out['top_cpu_ms'], 50):.2f} ms; the process's own CPU time, without"
                " waiting for a CPU shared with other work"
            ),
        ),
        Result(
            "jobs matching: top() p95 wall clock, 1,000,000 postings",
            _pct(out["top_ms"], 95),
            "ms",
            TARGET_P95_MS,
            note=(
                f"{n_top} seekers, k=10, 10 km; p50 {_pct(out['top_ms'], 50):.2f} ms,"
                f" p99 {_pct(out['top_ms'], 99):.2f} ms;"
                f" CPU p95 {_pct(out['top_cpu_ms'], 95):.2f} ms; {out['top_found']:.1f} matches a seeker;"
                f" {100 * out['share_10km']:.0f} % of postings within 10 km of a seeker; load average {load:.1f}"
            ),
        ),
        Result(
            "jobs matching: build() 1,000,000 postings",
            out["build_s"],
            "s",
            TARGET_BUILD_S,
            note=f"CPU {out['build_cpu_s']:.1f} s; generating the mappings took {out['gen_s']:.1f} s",
        ),
        Result(
            "jobs matching: index memory, 1,000,000 postings",
            out["index_mb"],
            "MB",
            TARGET_MB,
            note=f"resident-set growth over build(); whole process peak {out['peak_mb']:.0f} MB with the mappings",
        ),
        Result(
            "jobs matching: best 10 for 100,000 seekers, CPU time",
            out["batch_cpu_s"] * scale,
            "s",
            TARGET_BATCH_S,
            note=(
                f"top_many(), one thread; {out['batch_n']:,} seekers measured"
                + (f", ×{scale:g}" if scale != 1 else "")
                + f"; {out['batch_empty']} seekers without a match"
            ),
        ),
        Result(
            "jobs matching: best 10 for 100,000 seekers, wall clock",
            batch_s,
            "s",
            TARGET_BATCH_S,
            note=f"the same run; load average {load:.1f} on {os.cpu_count()} CPUs",
        ),
        Result(
            f"jobs matching: talent() p95, {n_seekers:,} seekers",
            _pct(out["talent_ms"], 95),
            "ms",
            None,
            note=f"500 postings, k=10, 10 km; p50 {_pct(out['talent_ms'], 50):.2f} ms",
        ),
        Result(
            "jobs matching: add() + remove() one posting",
            out["add_us"] + out["remove_us"],
            "µs",
            None,
            note=f"add {out['add_us']:.0f} µs, remove {out['remove_us']:.0f} µs, 10,000 each, no rebuild",
        ),
        Result(
            "jobs matching: top() equals the naive scan",
            out["exact"],
            "queries",
            out["exact_n"],
            better="higher",
            note=f"of {out['exact_n']}, over all 1,000,000 postings with score()",
        ),
    ]
