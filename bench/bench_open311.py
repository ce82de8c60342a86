"""Open311 POST intake on PostgreSQL with two app processes: requests/s, p95, nothing lost or doubled.

1. A fresh PostgreSQL database ``linli_bench_open311`` (created and dropped here, migrated with
   ``manage.py migrate``); a setup process writes one district (one street, two communities, 400
   buildings 50 m apart in 20 compounds), the default event catalogue and one api key.
2. ``gunicorn -w 2 -k gthread`` (two processes, keep-alive connections, persistent database
   connections: ``LINLI_DB_CONN_MAX_AGE=600``) on 127.0.0.1, DEBUG off.
3. Client processes, each with its own keep-alive ``http.client`` connection, POST
   ``requests.json`` form bodies (lat/long near a building, the required attributes, a
   description, an ``idempotency_key``). One request in ten is a retry after a "lost response":
   sent, its answer thrown away, sent again with the same key; one in fifty keys is also sent by
   another client process at about the same moment. Every answer must be 200 and every retry
   must get the first id.
4. Afterwards, in the database: every acknowledged id exists with its key (0 lost) and each key
   has exactly one event (0 duplicated).

requests/s counts HTTP requests answered (retries included), median of 3 runs; p95 is the
latency of one request in the median run. Target ≥ 500 requests/s. The client runs on the same
machine as the server and the database, so it competes with them for CPU. Skipped, with a note,
when PostgreSQL does not answer on ``LINLI_BENCH_PG`` (default postgres://postgres@127.0.0.1:5432/).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from cryptography.fernet import Fernet

from bench.common import ROOT, Result, manage, percentile

PG_BASE = os.environ.get("LINLI_BENCH_PG", "postgres://postgres@127.0.0.1:5432/")
DB_NAME = "linli_bench_open311"
CLIENTS = 8
TARGET = 500.0


def _admin_connect() -> object:
    import psycopg

    return psycopg.connect(PG_BASE.rstrip("/") + "/postgres", autocommit=True, connect_timeout=3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Production mode has no switch to generate secrets: this run makes its own, the same for every
# process it starts (manage commands and gunicorn).
_SECRETS = {
    "LINLI_SECRET_KEY": os.environ.get("LINLI_SECRET_KEY") or secrets.token_urlsafe(50),
    "LINLI_FIELD_KEYS": os.environ.get("LINLI_FIELD_KEYS") or Fernet.generate_key().decode(),
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": PG_BASE.rstrip("/") + f"/{DB_NAME}",
            "DJANGO_SETTINGS_MODULE": "linli.settings",
            "LINLI_DEBUG": "0",
            **_SECRETS,
            # plain HTTP on 127.0.0.1, no TLS proxy in front: no redirect, no HSTS
            "LINLI_SSL_REDIRECT": "0",
            "LINLI_HSTS_SECONDS": "0",
            "LINLI_SECURE_COOKIES": "0",
            "LINLI_DB_CONN_MAX_AGE": "600",
            "LINLI_VAR_DIR": str(ROOT / "var"),
            "LINLI_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _gunicorn() -> list[str]:
    exe = Path(sys.executable).with_name("gunicorn")
    return [str(exe)] if exe.exists() else [shutil.which("gunicorn") or "gunicorn"]


def _wait_up(port: int, timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/open311/v2/discovery.json")
            if c.getresponse().status == 200:
                c.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


# --- client ----------------------------------------------------------------------------------------


def _client(args: tuple[int, str, list[tuple[str, bool]], list[list[float]], object]) -> dict[str, object]:
    port, api_key, jobs, spots, start = args
    rng = random.Random(hash(jobs[0][0]) if jobs else 0)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Connection": "keep-alive"}
    acked: dict[str, str] = {}
    mismatched = errors = 0
    latencies: list[float] = []
    first_error = ""

    def post(body: str) -> tuple[int, bytes]:
        nonlocal conn
        for attempt in range(2):
            try:
                t0 = time.perf_counter()
                conn.request("POST", "/open311/v2/requests.json", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                latencies.append((time.perf_counter() - t0) * 1000)
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                return resp.status, data
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    start.wait()  # type: ignore[attr-defined]
    t_start = time.perf_counter()
    sent = 0
    for client_key, retry in jobs:
        lat, lon = rng.choice(spots)
        body = urlencode(
            {
                "api_key": api_key,
                "service_code": "C0101",
                "lat": f"{lat + rng.uniform(-0.0001, 0.0001):.6f}",
                "long": f"{lon + rng.uniform(-0.0001, 0.0001):.6f}",
                "attribute[danger_now]": "no",
                "attribute[cover]": "broken",
                "description": "井盖破损,请尽快处理。 Manhole cover broken.",
                "idempotency_key": client_key,
                "device_id": "bench",
            }
        )
        if retry:  # the first answer is "lost": the client sends the same request again
            post(body)
            sent += 1
        status, data = post(body)
        sent += 1
        if status != 200:
            errors += 1
            first_error = first_error or f"{status} {data[:200]!r}"
            continue
        rid = json.loads(data)[0]["service_request_id"]
        if client_key in acked and acked[client_key] != rid:
            mismatched += 1
        acked[client_key] = rid
    seconds = time.perf_counter() - t_start
    conn.close()
    return {
        "acked": acked,
        "sent": sent,
        "errors": errors,
        "mismatched": mismatched,
        "latencies": latencies,
        "seconds": seconds,
        "first_error": first_error,
    }


def _jobs(run: int, per_client: int) -> list[list[tuple[str, bool]]]:
    out: list[list[tuple[str, bool]]] = [[] for _ in range(CLIENTS)]
    for c in range(CLIENTS):
        for i in range(per_client):
            key = f"r{run}-c{c}-{i}"
            out[c].append((key, i % 10 == 3))
            if i % 50 == 7:  # the same key from another client process, at about the same moment
                out[(c + 1) % CLIENTS].append((key, False))
    return out


def _one_run(port: int, api_key: str, spots: list[list[float]], run: int, per_client: int) -> dict[str, object]:
    ctx = mp.get_context("fork")
    start = ctx.Manager().Event()
    parts = [(port, api_key, jobs, spots, start) for jobs in _jobs(run, per_client)]
    with ctx.Pool(CLIENTS) as pool:
        pending = pool.map_async(_client, parts)
        time.sleep(1.0)
        t0 = time.perf_counter()
        start.set()
        outs = pending.get(timeout=900)
        wall = time.perf_counter() - t0
    acked: dict[str, str] = {}
    mismatched = sum(int(o["mismatched"]) for o in outs)  # type: ignore[call-overload]
    for o in outs:
        for k, v in o["acked"].items():  # type: ignore[attr-defined]
            if k in acked and acked[k] != v:
                mismatched += 1
            acked[k] = v
    latencies = [x for o in outs for x in o["latencies"]]  # type: ignore[attr-defined]
    sent = sum(int(o["sent"]) for o in outs)  # type: ignore[call-overload]
    return {
        "rps": sent / wall,
        "p95": percentile(latencies, 95),
        "sent": sent,
        "errors": sum(int(o["errors"]) for o in outs),  # type: ignore[call-overload]
        "first_error": next((o["first_error"] for o in outs if o["first_error"]), ""),
        "mismatched": mismatched,
        "acked": acked,
    }


def _verify(acked: dict[str, str]) -> tuple[int, int, int]:
    """(lost, duplicated, events) from the database."""
    import psycopg

    with psycopg.connect(PG_BASE.rstrip("/") + f"/{DB_NAME}") as conn:
        rows = conn.execute(
            "SELECT client_key, id FROM governance_event WHERE channel = 'open311' AND client_key <> ''"
        ).fetchall()
    by_key: dict[str, list[int]] = {}
    for key, pk in rows:
        by_key.setdefault(key, []).append(pk)
    duplicated = sum(len(v) - 1 for v in by_key.values())
    lost = sum(1 for k, rid in acked.items() if int(rid) not in by_key.get(k, []))
    return lost, duplicated, len(rows)


def bench_intake(quick: bool) -> list[Result]:
    name = "open311: POST requests.json, PostgreSQL, gunicorn -w 2"
    try:
        conn = _admin_connect()
    except Exception as exc:
        note = f"skipped: PostgreSQL does not answer ({type(exc).__name__})"
        return [Result(name, float("nan"), "req/s", TARGET, better="higher", note=note)]
    with conn:  # type: ignore[attr-defined]
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')  # type: ignore[attr-defined]
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')  # type: ignore[attr-defined]
    env = _env()
    server = None
    try:
        manage(["migrate", "--noinput"], env)
        setup = subprocess.run(
            [sys.executable, "-m", "bench.bench_open311", "--setup"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        info = json.loads(setup.stdout.strip().splitlines()[-1])
        port = _free_port()
        threads = os.environ.get("LINLI_BENCH_THREADS", "4")
        server = subprocess.Popen(
            [
                *_gunicorn(),
                "-w",
                "2",
                "-k",
                "gthread",
                "--threads",
                threads,
                "--keep-alive",
                "30",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "linli.wsgi:application",
            ],
            env=env,
            cwd=ROOT,
        )
        _wait_up(port)
        per_client = 60 if quick else 400
        _one_run(port, info["key"], info["spots"], 0, 30)  # warm-up: caches, connections
        runs = [_one_run(port, info["key"], info["spots"], r, per_client) for r in (1, 2, 3)]
        acked: dict[str, str] = {}
        for r in runs:
            acked.update(r["acked"])  # type: ignore[arg-type]
        lost, duplicated, n_events = _verify(acked)
    except Exception as exc:
        return [Result(name, float("nan"), "req/s", TARGET, better="higher", note=f"failed: {exc}"[:200])]
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        with _admin_connect() as conn:  # type: ignore[attr-defined]
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    ordered = sorted(runs, key=lambda r: float(r["rps"]))  # type: ignore[arg-type]
    median = ordered[1]
    errors = sum(int(r["errors"]) for r in runs)  # type: ignore[call-overload]
    mismatched = sum(int(r["mismatched"]) for r in runs)  # type: ignore[call-overload]
    note = f"{CLIENTS} client processes, keep-alive; {median['sent']} requests a run; non-200 {errors}" + (
        f" (first: {next(r['first_error'] for r in runs if r['first_error'])})" if errors else ""
    )
    return [
        Result(
            name,
            float(median["rps"]),  # type: ignore[arg-type]
            "req/s",
            TARGET,
            better="higher",
            runs=[float(r["rps"]) for r in runs],  # type: ignore[arg-type]
            note=note,
        ),
        Result("open311: POST p95 latency (median run)", float(median["p95"]), "ms", None, note=note),  # type: ignore[arg-type]
        Result(
            "open311: lost + duplicated under retries",
            float(lost + duplicated + mismatched),
            "events",
            0,
            note=f"lost {lost}, duplicated {duplicated}, retry answered another id {mismatched}; "
            f"{len(acked)} keys acknowledged, {n_events} events",
        ),
    ]


def run(quick: bool) -> list[Result]:
    return bench_intake(quick)


# --- setup (inside Django, on the bench database) -------------------------------------------------


def _setup() -> None:
    import django

    django.setup()
    from linli.governance.services.events import ensure_catalogue
    from linli.open311.services import issue_key
    from linli.places import models as m

    d = m.District.objects.create(code="500107", name="九龙坡区")
    s = m.Street.objects.create(district=d, code="001", name="谢家湾街道")
    communities = [
        m.Community.objects.create(street=s, code=f"{i + 1:03d}", name=n)
        for i, n in enumerate(("劳动三村社区", "民主村社区"))
    ]
    lat0, lon0 = 29.5000, 106.5000
    dlat, dlon = 50 / 111_320, 50 / (111_320 * 0.8703)  # 50 m at 29.5° N
    spots = []
    for c in range(20):
        comm = communities[c // 10]
        comp = m.Compound.objects.create(community=comm, code=f"{c + 1:04d}", name=f"小区{c + 1}", build_year=1985)
        for b in range(20):
            row, col = c, b
            lat, lon = lat0 + row * dlat, lon0 + col * dlon
            m.Building.objects.create(
                compound=comp, code=f"{b + 1:02d}", name=f"{b + 1}栋", storeys=6, lat=lat, lon=lon
            )
            spots.append([lat, lon])
    ensure_catalogue(d)
    _key, raw = issue_key("bench client", d)
    print(json.dumps({"key": raw, "spots": spots}))


if __name__ == "__main__":
    if "--setup" in sys.argv:
        sys.path.insert(0, str(ROOT))
        _setup()
    else:
        for r in run("--quick" in sys.argv):
            print(r)
