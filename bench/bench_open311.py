"""Open311 POST intake on PostgreSQL with two app processes: requests/s, p95, nothing lost or doubled.

1. A fresh PostgreSQL database ``linli_bench_open311`` (created and dropped here, migrated with
   ``manage.py migrate``); a setup process writes one district (one street, two communities, 400
   buildings 50 m apart in 20 compounds), the default event catalogue and one api key.
2. The production stack of ``tests/stack.py`` (gunicorn with deploy/gunicorn.conf.py, 2 workers ×
   ``LINLI_BENCH_THREADS`` (4) threads, PostgreSQL, Redis as ``LINLI_CACHE_URL``, a task worker;
   persistent database connections), DEBUG off. ``LINLI_BENCH_STACK=0`` (or no tests/stack.py):
   ``gunicorn -w 2 -k gthread`` started here, with a Redis from tests/redisd.py.
3. The load: ``wrk`` (C, 2 threads, 8 connections, a Lua script) when installed — ``make bench``
   installs Debian's package — else eight Python client processes, one connection each, HTTP/1.1
   written by hand (``http.client`` cost four times wrk's CPU a request, taken from the server on
   the same two cores). For ``LINLI_BENCH_SECONDS`` (10) a run, they POST ``requests.json`` form
   bodies (lat/long near a building, the required attributes, a description, an
   ``idempotency_key``). One request in ten is a retry after a "lost response": sent, its answer
   thrown away, sent again with the same key; one key in fifty is sent by every client at about
   the same moment. Every answer must be 200 and every retry must get the first id.
4. Afterwards, in the database: every acknowledged id exists with its key (0 lost) and each key
   has exactly one event (0 duplicated).

requests/s counts HTTP requests answered (retries included), median of 3 runs; p95 is the
latency of one request in the median run. Target ≥ 500 requests/s. The client runs on the same
machine as the server and the database, so it competes with them for CPU (the note gives the load
average at the end: other work on the machine lowers the figure). Skipped, with a note,
when PostgreSQL does not answer on ``LINLI_BENCH_PG`` (default postgres://postgres@127.0.0.1:5432/).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus, urlencode

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


_FIXED = urlencode(
    {
        "service_code": "C0101",
        "attribute[danger_now]": "no",
        "attribute[cover]": "broken",
        "description": "井盖破损,请尽快处理。 Manhole cover broken.",
        "device_id": "bench",
    }
)
_HEAD = (
    "POST /open311/v2/requests.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: {length}\r\n\r\n"
)


class _Connection:
    """One client connection, HTTP/1.1 by hand: the load generator shares the server's two cores,
    and ``http.client`` (its header objects, its buffered reader) cost ~0.35 ms of CPU a request,
    four times what wrk costs — CPU the server then does not get. The answer is read as far as its
    ``Content-Length``; a ``Connection: close`` (the production config closes after each answer)
    means a new connection for the next request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def post(self, body: bytes) -> tuple[int, bytes]:
        """Send once; a connection the server closed before answering gets one new attempt (the
        idempotency key makes the repeat safe); a second failure raises."""
        request = _HEAD.format(port=self.port, length=len(body)).encode() + body
        for attempt in range(2):
            try:
                return self._exchange(request)
            except OSError:
                self.close()
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = self.sock
        sock.sendall(request)
        buf = b""
        while (end := buf.find(b"\r\n\r\n")) < 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection before answering")
            buf += chunk
        lines = buf[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, close = -1, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = "close" in value.lower()
        body = buf[end + 4 :]
        while length < 0 or len(body) < length:  # no length: the body ends when the server closes
            chunk = sock.recv(65536)
            if not chunk:
                if length < 0:
                    close = True
                    break
                raise ConnectionError("the server closed the connection in the middle of an answer")
            body += chunk
        if close or length < 0:
            self.close()
        return status, body if length < 0 else body[:length]


def _client(args: tuple[int, str, int, int, list[list[float]], float, object]) -> dict[str, object]:
    """One client process: POST until ``seconds`` after the start signal, one request at a time."""
    port, api_key, run, me, spots, seconds, start = args
    rng = random.Random(run * 1000 + me)
    conn = _Connection(port)
    fixed = f"api_key={quote_plus(api_key)}&{_FIXED}"
    acked: dict[str, str] = {}
    mismatched = errors = sent = 0
    latencies: list[float] = []
    first_error = ""

    def post(body: bytes) -> tuple[int, bytes]:
        nonlocal sent
        t0 = time.perf_counter()
        out = conn.post(body)
        latencies.append((time.perf_counter() - t0) * 1000)
        sent += 1
        return out

    start.wait()  # type: ignore[attr-defined]
    t_start = time.perf_counter()
    deadline = t_start + seconds
    cpu_start = time.process_time()
    i = 0
    while time.perf_counter() < deadline:
        i += 1
        # one key in fifty is sent by every client at about the same moment
        client_key = f"r{run}-s-{i}" if i % 50 == 7 else f"r{run}-c{me}-{i}"
        lat, lon = rng.choice(spots)
        body = (
            f"{fixed}&lat={lat + rng.uniform(-0.0001, 0.0001):.6f}&long={lon + rng.uniform(-0.0001, 0.0001):.6f}"
            f"&idempotency_key={client_key}"
        ).encode()
        if i % 10 == 3:  # the first answer is "lost": the client sends the same request again
            post(body)
        status, data = post(body)
        if status != 200:
            errors += 1
            first_error = first_error or f"{status} {data[:200]!r}"
            continue
        rid = json.loads(data)[0]["service_request_id"]
        if client_key in acked and acked[client_key] != rid:
            mismatched += 1
        acked[client_key] = rid
    took = time.perf_counter() - t_start
    cpu = time.process_time() - cpu_start
    conn.close()
    return {
        "cpu": cpu,
        "acked": acked,
        "sent": sent,
        "errors": errors,
        "mismatched": mismatched,
        "latencies": latencies,
        "seconds": took,
        "first_error": first_error,
    }


def _one_run(port: int, api_key: str, spots: list[list[float]], run: int, seconds: float) -> dict[str, object]:
    """CLIENTS processes for ``seconds`` each; requests/s over the time until the last one stopped."""
    ctx = mp.get_context("fork")
    start = ctx.Manager().Event()
    parts = [(port, api_key, run, me, spots, seconds, start) for me in range(CLIENTS)]
    with ctx.Pool(CLIENTS) as pool:
        pending = pool.map_async(_client, parts)
        time.sleep(1.0)
        start.set()
        outs = pending.get(timeout=900)
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
        # each process counts from the start signal to its last answer: the slowest sets the time
        "rps": sent / max(float(o["seconds"]) for o in outs),  # type: ignore[arg-type]
        "p95": percentile(latencies, 95),
        "sent": sent,
        "errors": sum(int(o["errors"]) for o in outs),  # type: ignore[call-overload]
        "first_error": next((o["first_error"] for o in outs if o["first_error"]), ""),
        "mismatched": mismatched,
        "acked": acked,
        "ids": set(acked.values()),
        "client_cpu": sum(float(o["cpu"]) for o in outs),  # type: ignore[arg-type]
    }


# --- wrk: the load generator in C, when installed (apt-get install wrk) ---------------------------

_WRK_LUA = r"""
-- POST requests.json with a fresh idempotency key each; one in ten re-sends the previous body (a
-- retry after a lost answer); one in fifty uses a key every thread sends at about the same moment.
local threads = {}
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end
local spots = SPOTS
local headers = {["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"}
local fixed = "api_key=" .. APIKEY .. "&service_code=C0101&attribute%5Bdanger_now%5D=no"
  .. "&attribute%5Bcover%5D=broken&device_id=bench"
  .. "&description=%E4%BA%95%E7%9B%96%E7%A0%B4%E6%8D%9F+Manhole+cover+broken."
function init(args)
  counter = 0
  ids = {}
  bad = 0
  first_bad = ""
  last = nil
  math.randomseed(tid * 7919)
end
function request()
  counter = counter + 1
  if last ~= nil and counter % 10 == 4 then
    local b = last
    last = nil
    return wrk.format("POST", "/open311/v2/requests.json", headers, b)
  end
  local s = spots[math.random(#spots)]
  local key
  if counter % 50 == 7 then key = RUN .. "-s-" .. counter else key = RUN .. "-" .. tid .. "-" .. counter end
  local body = fixed .. string.format("&lat=%.6f&long=%.6f", s[1] + (math.random() - 0.5) * 0.0002,
    s[2] + (math.random() - 0.5) * 0.0002) .. "&idempotency_key=" .. key
  last = body
  return wrk.format("POST", "/open311/v2/requests.json", headers, body)
end
function response(status, headers, body)
  if status == 200 then
    local id = string.match(body, '"service_request_id"%s*:%s*"?(%d+)')
    if id then ids[#ids + 1] = id else bad = bad + 1 end
  else
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body, 1, 200) end
  end
end
function done(summary, latency, requests)
  local all = {}
  local bads = 0
  local first = ""
  for _, t in ipairs(threads) do
    for _, id in ipairs(t:get("ids")) do all[#all + 1] = id end
    bads = bads + t:get("bad")
    if first == "" then first = t:get("first_bad") end
  end
  local f = io.open(OUT, "w")
  f:write(string.format('{"requests": %d, "seconds": %.6f, "p95_ms": %.3f, "bad": %d, "socket_errors": %d, ',
    summary.requests, summary.duration / 1e6, latency:percentile(95) / 1000, bads,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  f:write('"first_bad": "' .. string.gsub(first, '[^%w %-_:.]', '?') .. '", "ids": [' .. table.concat(all, ",") .. ']}')
  f:close()
end
"""


def _wrk() -> str | None:
    return os.environ.get("LINLI_BENCH_WRK") or shutil.which("wrk")


def _wrk_run(port: int, api_key: str, spots: list[list[float]], run: int, seconds: int) -> dict[str, object]:
    """One run of wrk (2 threads, CLIENTS connections, ``seconds``); its own CPU from wait4()."""
    import tempfile

    exe = _wrk()
    assert exe
    with tempfile.TemporaryDirectory(prefix="linli-wrk-") as tmp:
        out = Path(tmp) / "out.json"
        lua = (
            f"SPOTS = {{{','.join(f'{{{a!r},{b!r}}}' for a, b in spots)}}}\n"
            f"APIKEY = {json.dumps(api_key)}\nRUN = {json.dumps(f'w{run}-{secrets.token_hex(3)}')}\n"
            f"OUT = {json.dumps(str(out))}\n" + _WRK_LUA
        )
        script = Path(tmp) / "post.lua"
        script.write_text(lua)
        argv = [exe, "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
        proc = subprocess.Popen([*argv, f"http://127.0.0.1:{port}/"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = proc.stdout.read().decode() if proc.stdout else ""
        if proc.returncode or not out.exists():
            stderr = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"wrk failed ({proc.returncode}): {stdout[-300:]} {stderr[-300:]}")
        data = json.loads(out.read_text())
    errors = int(data["bad"]) + int(data["socket_errors"])
    return {
        "rps": data["requests"] / data["seconds"],
        "p95": float(data["p95_ms"]),
        "sent": int(data["requests"]),
        "errors": errors,
        "first_error": data["first_bad"] or (f"{data['socket_errors']} socket errors" if errors else ""),
        "mismatched": 0,
        "acked": {},
        "ids": {str(i) for i in data["ids"]},
        "client_cpu": usage.ru_utime + usage.ru_stime,
    }


# --- CPU per request: utime + stime of every process that serves the load --------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int, *, system_only: bool = False) -> float | None:
    """CPU seconds (user + system, or system only; all threads) of a live process, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[12]) + (0 if system_only else int(fields[11]))) / _TICK
    except (OSError, IndexError, ValueError):
        return None


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine so far, from /proc/stat (idle and iowait are idle)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in (task / "children").read_text().split()]
    return out


def _local_ports(pids: list[int]) -> set[int]:
    """Local TCP ports of the sockets the processes hold (to tell their PostgreSQL backends)."""
    inodes: set[str] = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            with contextlib.suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[9] in inodes:
                    ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def _redis_pid(cache_url: str) -> int | None:
    """The redis-server listening on the cache URL's port (it rewrites its command line to
    ``redis-server 127.0.0.1:<port>``)."""
    port = cache_url.rsplit(":", 1)[-1].split("/")[0] if cache_url else ""
    if not port.isdigit():
        return None
    for d in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"redis-server" in cmd.split(b" ")[0] and re.search(rb"[: ]" + port.encode() + rb"\b", cmd):
            return int(d.name)
    return None


WEB_SYS = "web_sys"  # a part of "web", shown apart: not added to any sum


class Probe:
    """CPU of the processes serving the load, by group: gunicorn workers ("web"), the PostgreSQL
    backends of the bench database ("db"), Redis, task workers ("tasks"), and apart the workers'
    system (kernel) CPU alone ("web_sys", a part of "web"). ``snap()`` before and after
    a run; a process born during the run counts from 0, one that died during it is missed (with
    persistent connections and no worker restarts — LINLI_WEB_MAX_REQUESTS — neither happens)."""

    def __init__(self, web_master: int, task_pids: list[int], cache_url: str) -> None:
        self.web_master, self.task_pids = web_master, task_pids
        self.redis = _redis_pid(cache_url)

    def _db_pids(self) -> list[tuple[int, int]]:
        """(backend pid, client port) of the bench database's backends."""
        import psycopg

        with psycopg.connect(PG_BASE.rstrip("/") + "/postgres", autocommit=True) as c:
            rows = c.execute(
                "SELECT pid, coalesce(client_port, 0) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [DB_NAME],
            ).fetchall()
        return [(int(r[0]), int(r[1])) for r in rows]

    def snap(self) -> dict[str, dict[int, float]]:
        web = _children(self.web_master)
        web_ports = _local_ports(web)
        db = self._db_pids()
        groups = {
            "web": web,
            # the backends serving the web workers' connections; the others (task workers) apart
            "db": [pid for pid, port in db if port in web_ports],
            "redis": [self.redis] if self.redis else [],
            "tasks": self.task_pids,
            "tasks_db": [pid for pid, port in db if port not in web_ports],
        }
        out = {g: {p: c for p in pids if (c := _proc_cpu(p)) is not None} for g, pids in groups.items()}
        out[WEB_SYS] = {p: c for p in web if (c := _proc_cpu(p, system_only=True)) is not None}
        return out

    @staticmethod
    def delta(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        return {g: sum(c - before[g].get(p, 0.0) for p, c in after[g].items()) for g in after}


def _verify(ids: set[str]) -> tuple[int, int, int]:
    """(lost, duplicated, events) from the database: an acknowledged id without its event is lost; a
    key with more than one event is duplicated."""
    import psycopg

    with psycopg.connect(PG_BASE.rstrip("/") + f"/{DB_NAME}") as conn:
        rows = conn.execute(
            "SELECT client_key, id FROM governance_event WHERE channel = 'open311' AND client_key <> ''"
        ).fetchall()
    by_key: dict[str, int] = {}
    for key, _pk in rows:
        by_key[key] = by_key.get(key, 0) + 1
    duplicated = sum(n - 1 for n in by_key.values())
    present = {str(pk) for _key, pk in rows}
    lost = sum(1 for rid in ids if rid not in present)
    return lost, duplicated, len(rows)


def _measure(
    port: int, info: dict[str, object], quick: bool, probe: Probe | None
) -> tuple[list[dict[str, object]], int, int, int, str]:
    """Warm up, then 3 runs (wrk when installed and LINLI_BENCH_CLIENT is not "python", else the Python
    clients), each with the CPU of every group per request."""
    key, spots = info["key"], info["spots"]
    use_wrk = bool(_wrk()) and os.environ.get("LINLI_BENCH_CLIENT", "") != "python"
    if use_wrk:
        seconds = 4 if quick else int(os.environ.get("LINLI_BENCH_SECONDS", "10"))
        _wrk_run(port, key, spots, 0, 2)  # type: ignore[arg-type]  # warm-up: caches, connections

        def one(r: int) -> dict[str, object]:
            return _wrk_run(port, key, spots, r, seconds)  # type: ignore[arg-type]

        client = f"wrk (2 threads, {CLIENTS} connections, {seconds} s a run)"
    else:
        seconds = 4 if quick else int(os.environ.get("LINLI_BENCH_SECONDS", "10"))
        _one_run(port, key, spots, 0, 2)  # type: ignore[arg-type]  # warm-up: caches, connections

        def one(r: int) -> dict[str, object]:
            return _one_run(port, key, spots, r, seconds)  # type: ignore[arg-type]

        client = f"Python clients ({CLIENTS} processes, one connection each, {seconds} s a run)"
    idle: dict[str, float] = {}
    if probe:  # what the processes spend without load (pollers, heartbeats), per second: subtracted
        quiet, t0 = probe.snap(), time.perf_counter()
        time.sleep(3)
        idle = {g: v / (time.perf_counter() - t0) for g, v in Probe.delta(quiet, probe.snap()).items()}
    runs = []
    for r in (1, 2, 3):
        before = probe.snap() if probe else None
        t0 = time.perf_counter()
        load0 = os.getloadavg()[0]
        ticks0 = _machine_ticks()
        out = one(r)
        ticks1 = _machine_ticks()
        out["busy"] = (ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1])
        if probe and before is not None:
            cpu = Probe.delta(before, probe.snap())
            took = time.perf_counter() - t0
            out["cpu_ms"] = {
                g: max(0.0, v - idle.get(g, 0.0) * took) / int(out["sent"]) * 1000  # type: ignore[call-overload]
                for g, v in cpu.items()
            }
        out["client_ms"] = float(out["client_cpu"]) / int(out["sent"]) * 1000  # type: ignore[arg-type, call-overload]
        out["load"] = (load0 + os.getloadavg()[0]) / 2
        runs.append(out)
    ids: set[str] = set()
    for done in runs:
        ids |= done["ids"]  # type: ignore[arg-type]
    lost, duplicated, n_events = _verify(ids)
    return runs, lost, duplicated, n_events, client


_STACK_ENV = {
    # plain HTTP on 127.0.0.1, no TLS proxy in front: no redirect, no HSTS
    "LINLI_SSL_REDIRECT": "0",
    "LINLI_HSTS_SECONDS": "0",
    "LINLI_SECURE_COOKIES": "0",
    "LINLI_DB_CONN_MAX_AGE": "600",
    "LINLI_LOG_LEVEL": "WARNING",
}


def _on_stack(quick: bool) -> tuple[list[dict[str, object]], int, int, int, str]:
    """The production stack of tests/stack.py: gunicorn (deploy/gunicorn.conf.py, 2 workers) +
    PostgreSQL + Redis (LINLI_CACHE_URL) + a task worker."""
    global DB_NAME, PG_BASE
    from tests.stack import production_stack

    worker_class = os.environ.get("LINLI_BENCH_WORKER_CLASS", "gthread")
    threads = os.environ.get("LINLI_BENCH_THREADS") or ("1" if worker_class == "sync" else "4")
    with production_stack(
        workers=2,
        task_workers=1,
        db_prefix="linli_bench_open311",
        LINLI_WEB_THREADS=threads,
        LINLI_WEB_WORKER_CLASS=worker_class,
        **_STACK_ENV,
    ) as stack:
        DB_NAME, PG_BASE = stack.database, stack.env["DATABASE_URL"].rsplit("/", 1)[0] + "/"
        out = stack.shell("from bench.bench_open311 import _setup\n_setup()\n")
        info = json.loads(out.strip().splitlines()[-1])
        probe = Probe(stack.web.pid, [w.pid for w in stack.task_workers], stack.env.get("LINLI_CACHE_URL", ""))
        runs, lost, duplicated, n_events, client = _measure(stack.port, info, quick, probe)
        return runs, lost, duplicated, n_events, f"production stack (tests/stack.py); {client}"


def _own_gunicorn(quick: bool) -> tuple[list[dict[str, object]], int, int, int, str]:
    """Without tests/stack.py: a database, a Redis (tests/redisd.py) and gunicorn started here."""
    from tests.redisd import server_url

    conn = _admin_connect()
    with conn:  # type: ignore[attr-defined]
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')  # type: ignore[attr-defined]
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')  # type: ignore[attr-defined]
    server = None
    try:
        with server_url() as cache_url:
            env = _env()
            if cache_url:
                env["LINLI_CACHE_URL"] = cache_url
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
            probe = Probe(server.pid, [], cache_url or "")
            runs, lost, duplicated, n_events, client = _measure(port, info, quick, probe)
            how = "gunicorn -w 2 started by the bench" + (", Redis" if cache_url else ", no Redis")
            return runs, lost, duplicated, n_events, f"{how}; {client}"
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        with _admin_connect() as conn:  # type: ignore[attr-defined]
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def bench_intake(quick: bool) -> list[Result]:
    name = "open311: POST requests.json, PostgreSQL, gunicorn -w 2"
    try:
        _admin_connect().close()  # type: ignore[attr-defined]
    except Exception as exc:
        note = f"skipped: PostgreSQL does not answer ({type(exc).__name__})"
        return [Result(name, float("nan"), "req/s", TARGET, better="higher", note=note)]
    use_stack = os.environ.get("LINLI_BENCH_STACK", "1") != "0" and (ROOT / "tests" / "stack.py").exists()
    try:
        runs, lost, duplicated, n_events, how = _on_stack(quick) if use_stack else _own_gunicorn(quick)
    except Exception as exc:
        return [Result(name, float("nan"), "req/s", TARGET, better="higher", note=f"failed: {exc}"[:200])]
    ids: set[str] = set()
    for r in runs:
        ids |= r["ids"]  # type: ignore[arg-type]
    ordered = sorted(runs, key=lambda r: float(r["rps"]))  # type: ignore[arg-type]
    median = ordered[1]
    errors = sum(int(r["errors"]) for r in runs)  # type: ignore[call-overload]
    mismatched = sum(int(r["mismatched"]) for r in runs)  # type: ignore[call-overload]
    loads = ", ".join(f"{float(r['load']):.1f}" for r in runs)  # type: ignore[arg-type]
    note = f"{how}; {median['sent']} requests in the median run; load average during the runs {loads}; "
    note += f"non-200 {errors}" + (
        f" (first: {next(r['first_error'] for r in runs if r['first_error'])})" if errors else ""
    )
    results = [
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
            f"{len(ids)} ids acknowledged, {n_events} events",
        ),
    ]
    results += _cpu_results(runs)
    return results


def _cpu_results(runs: list[dict[str, object]]) -> list[Result]:
    """CPU per request by group (median over the runs) and what two idle cores would serve: the
    figure the machine's other load barely changes (docs/open311.md "Where the time goes")."""
    if not all("cpu_ms" in r for r in runs):
        return []

    def med(fn: object) -> float:
        return statistics.median(fn(r) for r in runs)  # type: ignore[operator]

    groups = list(runs[0]["cpu_ms"])  # type: ignore[call-overload]
    per = {g: med(lambda r, g=g: r["cpu_ms"][g]) for g in groups}
    intake = ("web", "db", "redis")
    server = med(lambda r: sum(r["cpu_ms"][g] for g in intake))
    background = med(lambda r: sum(v for g, v in r["cpu_ms"].items() if g not in (*intake, WEB_SYS)))
    client = med(lambda r: r["client_ms"])
    parts = ", ".join(
        f"{g} {v:.2f}" + (f" (of which system {per[WEB_SYS]:.2f})" if g == "web" and WEB_SYS in per else "")
        for g, v in per.items()
        if g != WEB_SYS
    )
    busy = ", ".join(f"{float(r['busy']) * 100:.0f}" for r in runs if "busy" in r)  # type: ignore[arg-type]
    return [
        Result(
            "open311: CPU per request, intake (gunicorn workers + their PG backends + Redis)",
            server,
            "ms",
            None,
            runs=[sum(r["cpu_ms"][g] for g in intake) for r in runs],  # type: ignore[index]
            note=f"{parts} (tasks: the roll-up refresh the events trigger); load generator {client:.2f} ms",
        ),
        Result(
            "open311: req/s two idle cores would serve (2000 ms / intake + client CPU)",
            2000 / (server + client),
            "req/s",
            TARGET,
            better="higher",
            note=f"with the task worker's share too: {2000 / (server + client + background):.0f} req/s; "
            f"the intake alone {2000 / server:.0f} req/s; the machine was busy {busy} % of each run "
            "(below ~90 % the runs were not CPU-bound)",
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


# --- where the time goes: CPU per request by phase (python -m bench.bench_open311 --phases) --------

_PHASES = r"""
import io, json, os, random, statistics, sys, time
from urllib.parse import urlencode
import django
django.setup()
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection, transaction
from django.http import QueryDict
from linli.governance.services import events
from linli.open311 import queries as q, services as svc, views
info = json.loads(sys.argv[1])
from linli.core.handlers import application
app = application()  # what gunicorn serves: /open311/ through the lean middleware stack
rng = random.Random(1)
seq = [0]
def form():
    seq[0] += 1
    lat, lon = rng.choice(info["spots"])
    return {"api_key": info["key"], "service_code": "C0101", "lat": f"{lat:.6f}", "long": f"{lon:.6f}",
            "attribute[danger_now]": "no", "attribute[cover]": "broken", "description": "井盖破损 cover broken",
            "idempotency_key": f"ph{os.getpid()}-{seq[0]}-{time.time()}", "device_id": "bench"}
def environ(f):
    body = urlencode(f).encode()
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/open311/v2/requests.json", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
def ok(status, headers, exc=None):
    assert status.startswith("200"), status
def whole():
    r = app(environ(form()), ok); b"".join(r); r.close()
def view():
    assert views.requests(WSGIRequest(environ(form())), "json").status_code == 200
def generations():
    with q.fresh():
        pass
def report():
    f = form()
    with q.fresh():
        s = q.service("C0101")
    events.report(None, events.Report(category=s.category, lat=f["lat"], lon=f["long"], description=f["description"],
                  attributes={"danger_now": "no", "cover": "broken"}, client_key=f["idempotency_key"]),
                  channel="open311", source="k:phases", actor_label="phases")
def retry():  # a tenth of the bench's load: the key is taken, the answer is the first event
    with q.fresh():
        s = q.service("C0101")
    lat, lon = info["spots"][0]
    event, created = events.report(None, events.Report(category=s.category, lat=lat, lon=lon, description="retry",
                                   attributes={"danger_now": "no", "cover": "broken"}, client_key="ph-retry"),
                                   channel="open311", source="k:phases", actor_label="phases")
    assert event.pk
def round_trip():
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT 1")
TICK = os.sysconf("SC_CLK_TCK")
with connection.cursor() as c:  # this process's PostgreSQL backend, whose CPU /proc shows too
    c.execute("SELECT pg_backend_pid()")
    BACKEND = c.fetchone()[0]
def backend_cpu():
    try:
        with open(f"/proc/{BACKEND}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:  # the database runs on another machine
        return float("nan")
def cpu(fn):
    for _ in range(20):
        fn()
    batches = []
    d = backend_cpu()
    for _ in range(7):
        t = time.thread_time()
        for _ in range(60):
            fn()
        batches.append((time.thread_time() - t) / 60 * 1e6)
    return statistics.median(batches), (backend_cpu() - d) / 420 * 1e6
PHASES = (("whole WSGI request", whole), ("view (no middleware)", view), ("generations (Redis MGET)", generations),
          ("events.report", report), ("events.report, a retry", retry), ("BEGIN; SELECT 1; COMMIT", round_trip))
print(f"{'':28s} {'this process':>15s} {'its PostgreSQL backend':>24s}")
print(f"(this process: median of 7 batches of 60; the backend: all 420 together, ticks of {1e6 / TICK:.0f} us)")
for name, fn in PHASES:
    web, db = cpu(fn)
    print(f"{name:28s} {web:8.0f} us CPU {db:14.0f} us CPU")
# A/B in one process, batches interleaved (the machine's load drifts alike for both): the report as
# it was before the intake work (ORM inserts of the event and its history, the whole box to Python)
# against the current one.
fast_insert, fast_box = events._insert_with_log, events._buildings_in_box
def orm_insert(event, logs):
    event.save()
    for entry in logs:
        entry.event = event
        entry.save()
def whole_box(s, n, w, e, within, near=None):
    return fast_box(s, n, w, e, within)
def before():
    events._insert_with_log, events._buildings_in_box = orm_insert, whole_box
    try:
        report()
    finally:
        events._insert_with_log, events._buildings_in_box = fast_insert, fast_box
def ab(first, second):  # median CPU (us) of each, 9 interleaved batches of 40: the load drifts alike
    a, b = [], []
    for _ in range(9):
        for fn, out in ((first, a), (second, b)):
            t = time.thread_time()
            for _ in range(40):
                fn()
            out.append((time.thread_time() - t) / 40 * 1e6)
    return statistics.median(a), statistics.median(b)
for _ in range(20):
    before(); report()
a, b = ab(before, report)
print(f"events.report A/B: before {a:.0f} us, after {b:.0f} us CPU"
      " (median of 9 interleaved batches of 40)")
# the same for a retry: before, the INSERT failed on the unique key (an error on the server, an
# exception here) and the first event was read by the ORM; now ON CONFLICT DO NOTHING and one
# prepared SELECT
import re
new_sql, fast_replay = events._INSERT_SQL[0], events._replay
old_sql = re.sub(r"ON CONFLICT .*? DO NOTHING ", "", new_sql)
def orm_replay(source, client_key):
    return events.Event.objects.filter(source=source, client_key=client_key).first() if client_key else None
def retry_before():
    events._INSERT_SQL[0], events._replay = old_sql, orm_replay
    try:
        retry()
    finally:
        events._INSERT_SQL[0], events._replay = new_sql, fast_replay
a, b = ab(retry_before, retry)
print(f"a retry, A/B: before {a:.0f} us, after {b:.0f} us CPU"
      " (median of 9 interleaved batches of 40)")
# snapping from the buildings in this process's memory (places.queries.spots) against asking the
# database, in whole requests (the index is used outside transactions, as on the production stack)
from linli.places.queries import spots
real_index = spots.index
def snap_by_database():
    spots.index = lambda: None
    try:
        whole()
    finally:
        spots.index = real_index
a, b = ab(snap_by_database, whole)
print(f"whole request, snapping A/B: by the database {a:.0f} us, in memory"
      f" {b:.0f} us CPU (median of 9 interleaved batches of 40)")
if os.environ.get("LINLI_BENCH_PROFILE"):  # the functions that take the time of whole requests
    import cProfile, pstats
    prof = cProfile.Profile(time.thread_time)  # CPU of this thread, not the waits
    prof.enable()
    for _ in range(300):
        whole()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(70)
print(f"load average {os.getloadavg()[0]:.1f}")
"""


def phases() -> None:
    """CPU per request by phase, in one process on a scratch database with Redis (docs/open311.md)."""
    from tests.redisd import server_url

    with _admin_connect() as conn:  # type: ignore[attr-defined]
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    try:
        with server_url() as cache_url:
            env = _env()
            env["LINLI_CACHE_URL"] = cache_url or ""
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
            info = setup.stdout.strip().splitlines()[-1]
            subprocess.run(
                [sys.executable, "-c", _PHASES, info], env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, check=True
            )
    finally:
        with _admin_connect() as conn:  # type: ignore[attr-defined]
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    if "--setup" in sys.argv:
        sys.path.insert(0, str(ROOT))
        _setup()
    elif "--phases" in sys.argv:
        phases()
    else:
        for r in run("--quick" in sys.argv):
            print(r)
