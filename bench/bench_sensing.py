"""Sensor intake over HTTP on PostgreSQL with two app processes, rules on: readings/s, nothing lost
or doubled under retries; and the rule state of 172,000 channels: memory and restore time.

1. **Intake.** The production stack of ``tests/stack.py`` (gunicorn with deploy/gunicorn.conf.py, 2
   workers × ``LINLI_BENCH_THREADS`` (4) threads, PostgreSQL with the partitioned readings table,
   Redis as ``LINLI_CACHE_URL`` — the token generations and the per-device rate counters —, DEBUG
   off). A setup process writes one district, a gateway and ``DEVICES`` devices (half smoke
   detectors: smoke + battery, two threshold rules; half pipe sensors: pressure + flow, three
   threshold rules and a rate rule), so every reading runs at least one rule. ``CLIENTS`` client
   processes, each the gateway of its own slice of devices, POST pre-built gateway-shape JSON batches
   of ``BATCH`` readings (``{"<device>": [{"ts", "values"}, …]}``) to ``/sensing/telemetry/`` over a
   keep-alive connection; batteries dip below 20 % and recover now and then (alarms raised and
   cleared through ``alarms.apply``). **One batch in five is sent twice** (a retry after a lost
   answer): the replay must report every reading as a duplicate. A warm-up run first touches every
   device (its rule states are created then); then 3 timed runs.
   Afterwards, in the database: the number of readings stored equals the number of distinct
   readings sent (0 lost, 0 duplicated), and every answer was 200 with nothing rejected or dropped.
   The headline counts readings *stored* per second (replays are not counted, though they cost
   work); median of the 3 runs. CPU per reading by group (gunicorn workers, their PostgreSQL
   backends, Redis, clients) is measured from /proc, as in bench_open311.
2. **Rule state.** ``STATE_CHANNELS`` (172,000) channels with one rule state each (a state after a
   few readings, as the pipeline writes it) inserted with SQL; then a fresh process loads every state
   with ``queries.intake.load_states()`` — the function and dictionary the pipeline reads states
   with — and reports the seconds and the memory it took (RSS growth and tracemalloc's peak).
3. **Offline sweep** over all those devices (182,000): every device online and heard from a minute
   ago (the sweep of every minute: one query, nothing to do), then one in a hundred silent for a day
   (locked, ticked, set offline; ``alarms.apply`` stubbed to measure the sweep's own cost).

Skipped, with a note, when PostgreSQL does not answer on ``LINLI_STACK_PG``.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import random
import statistics
import time
from typing import Any

from bench.common import Result, percentile

CLIENTS = int(os.environ.get("LINLI_BENCH_SENSING_CLIENTS", "4"))
BATCH = int(os.environ.get("LINLI_BENCH_SENSING_BATCH", "1000"))  # readings per POST
DEVICES = int(os.environ.get("LINLI_BENCH_SENSING_DEVICES", "10000"))
STATE_CHANNELS = 172_000
TARGET = 30_000.0
REPLAY_EVERY = 5  # one batch in five is sent twice
PER_DEVICE = 5  # timestamps per device in one batch (two keys each: 10 readings)

_STACK_ENV = {
    "LINLI_SSL_REDIRECT": "0",
    "LINLI_HSTS_SECONDS": "0",
    "LINLI_SECURE_COOKIES": "0",
    "LINLI_DB_CONN_MAX_AGE": "600",
    "LINLI_LOG_LEVEL": "WARNING",
}


# --- setup (inside Django, on the bench database) ----------------------------------------------------

SETUP = r"""
import json, sys
from linli.places import models as m
from linli.sensing.models import Channel, Device, DeviceProfile
from linli.sensing.services.devices import issue_gateway, place_fields
n = int(sys.argv[1])
d = m.District.objects.create(code="500107", name="九龙坡区")
s = m.Street.objects.create(district=d, code="001", name="谢家湾街道")
c = m.Community.objects.create(street=s, code="001", name="劳动三村社区")
buildings = []
for k in range(10):
    comp = m.Compound.objects.create(community=c, code=f"{k + 1:04d}", name=f"小区{k + 1}", build_year=1985)
    for b in range(20):
        buildings.append(m.Building.objects.create(compound=comp, code=f"{b + 1:02d}", name=f"{b + 1}栋", storeys=6,
                                                   lat=29.5 + k * 0.001, lon=106.5 + b * 0.001))
gateway, token = issue_gateway(None, "bench gateway", d)
profiles = {p.code: p for p in DeviceProfile.objects.prefetch_related("channels")}
where = [place_fields(building=b) for b in buildings]
devices = []
for i in range(n):
    kind = "smoke" if i % 2 == 0 else "pipe"
    dev = Device(code=f"{kind.upper()}-{i:06d}", profile=profiles[kind], gateway=gateway)
    for field, value in where[i % len(where)].items():
        setattr(dev, field, value)
    devices.append(dev)
Device.objects.bulk_create(devices, batch_size=2000)
specs = {code: list(p.channels.all()) for code, p in profiles.items()}
channels = [Channel(device=dev, spec=spec, key=spec.key) for dev in devices for spec in specs[dev.profile.code]]
Channel.objects.bulk_create(channels, batch_size=5000)
print(json.dumps({"token": token, "devices": [dev.code for dev in devices]}))
"""

STATES = r"""
import json, sys
from django.db import connection
from linli.sensing import rules
from linli.sensing.models import DeviceProfile, ProfileRule
n = int(sys.argv[1])
smoke = DeviceProfile.objects.get(code="smoke")
rule = ProfileRule.objects.get(profile=smoke, channel_key="battery")
# a state as the pipeline writes it: the battery rule after a few readings
state, _ = rules.run(rules.threshold(below=rule.below, clear_at=rule.clear_at), None,
                     [(1_764_000_000 + i, 80.0 - i) for i in range(5)])
spec = smoke.channels.get(key="battery")
with connection.cursor() as cur:
    cur.execute("SELECT coalesce(max(id), 0) FROM sensing_device")
    base = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO sensing_device (code, name, profile_id, community_id, grid_id, path, lat, lon, gateway_id,"
        " token_prefix, token_hash, active, installed_on, last_seen_at, online, created_at, unit_id, building_id,"
        " compound_id)"
        " SELECT 'STATE-' || g, '', %s, community_id, grid_id, path, lat, lon, NULL, '', '', TRUE, NULL, NULL, FALSE,"
        " now(), NULL, building_id, compound_id FROM generate_series(1, %s) g,"
        " (SELECT community_id, grid_id, path, lat, lon, building_id, compound_id FROM sensing_device LIMIT 1) one",
        [smoke.pk, n],
    )
    cur.execute(
        "INSERT INTO sensing_channel (device_id, spec_id, key, last_value, last_at)"
        " SELECT id, %s, 'battery', NULL, NULL FROM sensing_device WHERE id > %s",
        [spec.pk, base],
    )
    cur.execute(
        "INSERT INTO sensing_rulestate (device_id, channel_id, rule_id, state, updated_at)"
        " SELECT c.device_id, c.id, %s, %s::jsonb, now() FROM sensing_channel c WHERE c.device_id > %s",
        [rule.pk, json.dumps(state), base],
    )
    cur.execute("ANALYZE sensing_rulestate")
    cur.execute("SELECT count(*) FROM sensing_rulestate")
    print(json.dumps({"states": cur.fetchone()[0]}))
"""

RESTORE = r"""
import gc, json, os, resource, time, tracemalloc
from django.db import connection
from linli.sensing.queries import intake as q
def rss():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
connection.ensure_connection()
gc.collect()
before = rss()
t0 = time.perf_counter()
states = q.load_states()
seconds = time.perf_counter() - t0
grown = rss() - before
tracemalloc.start()
again = q.load_states()
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
assert len(again) == len(states)
print(json.dumps({"states": len(states), "seconds": seconds, "rss": grown, "peak": peak,
                  "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


SWEEP = r"""
import json, time
from datetime import timedelta
from django.db import connection
from linli.core import clock
from linli.sensing.services import intake
from linli.sensing.services import alarms
alarms.apply = lambda transitions: len(transitions)  # the sweep's own cost, not the alarm rows'
now = clock.now()
with connection.cursor() as cur:  # every device online, heard from a minute ago; one in a hundred silent for a day
    cur.execute("UPDATE sensing_device SET online = TRUE, last_seen_at = %s", [now - timedelta(minutes=1)])
    cur.execute("UPDATE sensing_device SET last_seen_at = %s WHERE id %% 100 = 0", [now - timedelta(days=1)])
    cur.execute("SELECT count(*) FROM sensing_device")
    devices = cur.fetchone()[0]
t0 = time.perf_counter()
gone = intake.sweep(now)
first = time.perf_counter() - t0
t0 = time.perf_counter()
again = intake.sweep(now)
quiet = time.perf_counter() - t0
print(json.dumps({"devices": devices, "gone": gone, "first": first, "again": again, "quiet": quiet}))
"""


# --- the load -------------------------------------------------------------------------------------


def _bodies(codes: list[str], run: int, batches: int, seed: int) -> list[tuple[bytes, int, bool]]:
    """``batches`` gateway-shape bodies of about ``BATCH`` readings over ``codes`` in turn; each
    device's readings one second apart, a run's timestamps apart from every other run's (and inside
    the hours the roll-up redoes, so none counts as late)."""
    rng = random.Random(seed)
    per_batch = max(1, BATCH // (2 * PER_DEVICE))
    t0 = int(time.time() * 1000) - 3_600_000 + run * 600_000  # an hour ago, ten minutes later each run
    step: dict[str, int] = {}
    out = []
    at = 0
    for b in range(batches):
        payload: dict[str, list[dict[str, Any]]] = {}
        for _ in range(per_batch):
            code = codes[at % len(codes)]
            at += 1
            k = step.get(code, 0)
            step[code] = k + PER_DEVICE
            items = []
            for j in range(PER_DEVICE):
                ts = t0 + (k + j) * 1000
                if code.startswith("SMOKE"):
                    dip = rng.random() < 0.002
                    items.append({"ts": ts, "values": {"smoke": 0, "battery": 15.0 if dip else 80.0 - j}})
                else:
                    items.append(
                        {
                            "ts": ts,
                            "values": {
                                "pressure": round(0.3 + rng.uniform(-0.003, 0.003), 4),
                                "flow": round(10 + rng.uniform(-1, 1), 2),
                            },
                        }
                    )
            payload[code] = items
        n = sum(len(i["values"]) for items in payload.values() for i in items)
        out.append((json.dumps(payload).encode(), n, b % REPLAY_EVERY == REPLAY_EVERY - 1))
    return out


def _client(args: tuple[int, str, list[tuple[bytes, int, bool]], Any]) -> dict[str, Any]:
    port, token, bodies, start = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Connection": "keep-alive"}
    latencies: list[float] = []
    stats: dict[str, Any] = {"stored": 0, "posted": 0, "bad": 0, "replay_wrong": 0, "first_error": ""}

    def post(body: bytes) -> tuple[int, dict[str, Any]]:
        nonlocal conn
        for attempt in range(2):
            try:
                t0 = time.perf_counter()
                conn.request("POST", "/sensing/telemetry/", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                latencies.append((time.perf_counter() - t0) * 1000)
                try:
                    answer = json.loads(data)
                except ValueError:
                    answer = {"raw": data[:200].decode(errors="replace")}
                return resp.status, answer
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    start.wait()
    t_start = time.perf_counter()
    cpu0 = time.process_time()
    for body, n, replay in bodies:
        sends = 2 if replay else 1
        for s in range(sends):
            status, answer = post(body)
            stats["posted"] += n
            ok = status == 200 and answer.get("rejected") == 0 and answer.get("dropped") == 0
            if not ok:
                stats["bad"] += 1
                stats["first_error"] = stats["first_error"] or f"{status} {str(answer)[:300]}"
                continue
            if s == 0:
                stats["stored"] += int(answer["accepted"])
                if answer["accepted"] + answer["duplicates"] != n:
                    stats["bad"] += 1
            elif answer["accepted"] != 0 or answer["duplicates"] != n:
                stats["replay_wrong"] += 1
    conn.close()
    return {
        **stats,
        "seconds": time.perf_counter() - t_start,
        "cpu": time.process_time() - cpu0,
        "latencies": latencies,
    }


def _one_run(port: int, token: str, slices: list[list[str]], run: int, batches: int) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    start = ctx.Manager().Event()
    parts = [(port, token, _bodies(codes, run, batches, seed=run * 100 + i), start) for i, codes in enumerate(slices)]
    unique = sum(n for part in parts for _b, n, _r in part[2])
    with ctx.Pool(len(slices)) as pool:
        pending = pool.map_async(_client, parts)
        time.sleep(1.0)
        t0 = time.perf_counter()
        start.set()
        outs = pending.get(timeout=1800)
        wall = time.perf_counter() - t0
    stored = sum(o["stored"] for o in outs)
    posted = sum(o["posted"] for o in outs)
    return {
        "rps": stored / wall,
        "posted_rps": posted / wall,
        "stored": stored,
        "posted": posted,
        "unique": unique,
        "wall": wall,
        "bad": sum(o["bad"] for o in outs),
        "replay_wrong": sum(o["replay_wrong"] for o in outs),
        "first_error": next((o["first_error"] for o in outs if o["first_error"]), ""),
        "p95": percentile([x for o in outs for x in o["latencies"]], 95),
        "client_cpu": sum(o["cpu"] for o in outs),
    }


def _count_readings(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM sensing_reading").fetchone()
        assert row is not None
        return int(row[0])


def _probe(stack: Any) -> Any:
    """CPU by group of the processes serving the load (bench_open311's Probe on this database)."""
    from bench import bench_open311

    class Probe(bench_open311.Probe):
        def _db_pids(self) -> list[tuple[int, int]]:
            import psycopg

            with psycopg.connect(stack.env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
                rows = c.execute(
                    "SELECT pid, coalesce(client_port, 0) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    [stack.database],
                ).fetchall()
            return [(int(r[0]), int(r[1])) for r in rows]

    return Probe(stack.web.pid, [w.pid for w in stack.task_workers], stack.env.get("LINLI_CACHE_URL", ""))


def _intake(stack: Any, quick: bool) -> list[Result]:
    name = "sensing: HTTP batch intake, readings stored/s (PostgreSQL, gunicorn -w 2, rules on)"
    info = json.loads(stack.shell(SETUP, str(DEVICES), timeout=900).strip().splitlines()[-1])
    codes: list[str] = info["devices"]
    slices = [codes[i::CLIENTS] for i in range(CLIENTS)]
    per_batch_devices = max(1, BATCH // (2 * PER_DEVICE))
    warm = max(1, len(slices[0]) // per_batch_devices)  # every device once
    _one_run(stack.port, info["token"], slices, 0, warm)
    batches = 10 if quick else int(os.environ.get("LINLI_BENCH_SENSING_BATCHES", "60"))
    probe = _probe(stack)
    runs = []
    for r in (1, 2, 3):
        before = probe.snap()
        load0 = os.getloadavg()[0]
        out = _one_run(stack.port, info["token"], slices, r, batches)
        cpu = type(probe).delta(before, probe.snap())
        out["cpu_us"] = {g: v / max(1, out["posted"]) * 1e6 for g, v in cpu.items()}
        out["load"] = (load0 + os.getloadavg()[0]) / 2
        runs.append(out)
    rows = _count_readings(stack.env["DATABASE_URL"])
    sent_unique = sum(r["unique"] for r in runs) + sum(
        n for part in [_bodies(c, 0, warm, seed=i) for i, c in enumerate(slices)] for _b, n, _r in part
    )
    lost = max(0, sent_unique - rows)
    duplicated = max(0, rows - sent_unique)
    bad = sum(r["bad"] for r in runs)
    replay_wrong = sum(r["replay_wrong"] for r in runs)
    ordered = sorted(runs, key=lambda r: r["rps"])
    median = ordered[1]
    loads = ", ".join(f"{r['load']:.1f}" for r in runs)
    note = (
        f"{CLIENTS} clients, batches of {BATCH} readings, {median['stored']} stored + "
        f"{median['posted'] - median['stored']} replayed in the median run ({median['wall']:.1f} s); "
        f"{DEVICES} devices; load average {loads}"
        + (f"; bad answers {bad} (first: {next(r['first_error'] for r in runs if r['first_error'])})" if bad else "")
    )
    groups = list(median["cpu_us"])
    per = {g: statistics.median(r["cpu_us"][g] for r in runs) for g in groups}
    client_us = statistics.median(r["client_cpu"] / max(1, r["posted"]) * 1e6 for r in runs)
    intake_us = per.get("web", 0) + per.get("db", 0) + per.get("redis", 0)
    return [
        Result(name, median["rps"], "readings/s", TARGET, better="higher", runs=[r["rps"] for r in runs], note=note),
        Result(
            "sensing: HTTP intake, readings answered/s (replays included)",
            median["posted_rps"],
            "readings/s",
            None,
            better="higher",
            runs=[r["posted_rps"] for r in runs],
        ),
        Result("sensing: HTTP intake p95 per batch (median run)", median["p95"], "ms", None),
        Result(
            "sensing: lost + duplicated readings under retries",
            float(lost + duplicated + replay_wrong),
            "readings",
            0,
            note=f"lost {lost}, duplicated {duplicated}, replays not reported as duplicates {replay_wrong}; "
            f"{rows} rows for {sent_unique} distinct readings sent",
        ),
        Result(
            "sensing: CPU per reading answered, intake (workers + their PG backends + Redis)",
            intake_us,
            "µs",
            None,
            note=", ".join(f"{g} {v:.1f}" for g, v in per.items()) + f"; load generator {client_us:.1f} µs",
        ),
        Result(
            "sensing: readings/s two idle cores would answer (2 s / intake + client CPU per reading)",
            2e6 / (intake_us + client_us) if intake_us + client_us else float("nan"),
            "readings/s",
            TARGET,
            better="higher",
            note=f"the intake alone: {2e6 / intake_us:.0f} readings/s" if intake_us else "",
        ),
    ]


def _states(stack: Any) -> list[Result]:
    made = json.loads(stack.shell(STATES, str(STATE_CHANNELS), timeout=900).strip().splitlines()[-1])
    runs = [json.loads(stack.shell(RESTORE, timeout=600).strip().splitlines()[-1]) for _ in range(3)]
    secs = statistics.median(r["seconds"] for r in runs)
    rss = statistics.median(r["rss"] for r in runs) / 2**20
    peak = statistics.median(r["peak"] for r in runs) / 2**20
    return [
        Result(
            f"sensing: rule states restored after a restart ({made['states']} states)",
            secs,
            "s",
            10,
            runs=[r["seconds"] for r in runs],
            note="queries.intake.load_states(): one query into the pipeline's dict",
        ),
        Result(
            f"sensing: memory of {made['states']} rule states in one process (RSS growth)",
            rss,
            "MB",
            1024,
            runs=[r["rss"] / 2**20 for r in runs],
            note=f"tracemalloc peak {peak:.0f} MB",
        ),
    ]


def _sweep(stack: Any) -> list[Result]:
    out = json.loads(stack.shell(SWEEP, timeout=900).strip().splitlines()[-1])
    assert out["again"] == 0, out
    return [
        Result(
            f"sensing: offline sweep, {out['devices']} devices, none silent (every minute)",
            out["quiet"] * 1000,
            "ms",
            None,
            note="one query for the candidates",
        ),
        Result(
            f"sensing: offline sweep, {out['gone']} of {out['devices']} devices silent",
            out["first"] * 1000,
            "ms",
            None,
            note="locked, ticked, set offline and handed to alarms.apply (stubbed here) in chunks of 1,000",
        ),
    ]


def run(quick: bool) -> list[Result]:
    from tests.stack import pg_available, production_stack

    reason = pg_available()
    if reason:
        return [
            Result(
                "sensing: HTTP batch intake", float("nan"), "readings/s", TARGET, "higher", note=f"skipped: {reason}"
            )
        ]
    threads = os.environ.get("LINLI_BENCH_THREADS", "4")
    results: list[Result] = []
    with production_stack(
        workers=2,
        task_workers=0,
        db_prefix="linli_bench_sensing",
        LINLI_WEB_THREADS=threads,
        **_STACK_ENV,  # type: ignore[arg-type]  # every other keyword is an environment variable
    ) as stack:
        try:
            results += _intake(stack, quick)
        except Exception as exc:
            results.append(
                Result(
                    "sensing: HTTP batch intake",
                    float("nan"),
                    "readings/s",
                    TARGET,
                    "higher",
                    note=f"failed: {exc}"[:300],
                )
            )
        results += _states(stack)
        results += _sweep(stack)
    return results


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run(quick=bool(os.environ.get("QUICK"))))
