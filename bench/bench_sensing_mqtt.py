"""Sensor intake over MQTT on PostgreSQL: sustained messages/s through ``manage.py sensing_mqtt`` (two
processes in one shared-subscription group) and publish → alarm row latency (target p95 ≤ 1 s).

1. **Stack.** The production stack of ``tests/stack.py`` (PostgreSQL with the partitioned readings
   table, Redis as ``LINLI_CACHE_URL`` for the per-device rate counters, DEBUG off), a Mosquitto of
   our own (``tests/mosquittod.py``), and two ``manage.py sensing_mqtt`` processes with the same
   ``--group`` (QoS 1, manual acknowledgement after each batch commits, batches of up to
   ``--batch-ms 100``). The setup of ``bench_sensing`` writes one district, a gateway and
   ``DEVICES`` devices (half smoke detectors, half pipe sensors: every reading runs a rule), and the
   event catalogue (a critical alarm opens a grid event, as in production).
2. **Throughput.** With the two intake processes stopped (their MQTT sessions kept, as after a
   restart), ``PUBLISHERS`` processes publish ``MESSAGES`` messages at QoS 1, each one device's
   telemetry on ``v1/devices/<code>/telemetry`` in ThingsBoard's device shape (``{"ts", "values"}``,
   two channels); the broker keeps them for the two sessions. Then the intake processes start again:
   the figure is messages per second from the first one's connection until the last reading is in
   the database — the intake's own pace, not the publishers' (a Python publisher on this machine
   manages ~1,500 messages/s) — median of 3 runs, after a warm-up run that creates every device's
   rule states. Afterwards the readings stored must equal the readings sent (0 lost, 0 duplicated).
3. **Latency.** While a background publisher keeps the intake at about half the measured rate,
   ``PROBES`` times one smoke detector reports smoke (``{"smoke": 1}``, a critical threshold rule);
   the bench polls the database for its alarm row every 5 ms. p95 of publish → alarm row.

Skipped, with a note, when PostgreSQL does not answer or Mosquitto is not installed (``make bench``
installs it).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import paho.mqtt.client as paho
import psycopg

from bench.common import ROOT, Result, percentile

DEVICES = int(os.environ.get("LINLI_BENCH_MQTT_DEVICES", "10000"))
MESSAGES = int(os.environ.get("LINLI_BENCH_MQTT_MESSAGES", "60000"))
PUBLISHERS = 2
PROBES = 40
TARGET_P95_MS = 1000.0

CATALOGUE = r"""
from linli.governance.services.events import ensure_catalogue
from linli.places.models import District
print(ensure_catalogue(District.objects.get()))
"""


def _messages(codes: list[str], run: int, n: int) -> list[tuple[str, bytes]]:
    """``n`` device messages over ``codes`` in turn, each device's one second apart, every run's an
    hour back and ten minutes apart from the others'."""
    t0 = int(time.time() * 1000) - 3_600_000 + run * 600_000
    out = []
    for i in range(n):
        code = codes[i % len(codes)]
        ts = t0 + (i // len(codes)) * 1000
        if code.startswith("SMOKE"):
            values: dict[str, float] = {"smoke": 0, "battery": 80.0 - (i // len(codes)) % 10}
        else:
            values = {"pressure": round(0.3 + (i % 7) * 0.001, 4), "flow": round(10 + (i % 5) * 0.1, 2)}
        out.append((f"v1/devices/{code}/telemetry", json.dumps({"ts": ts, "values": values}).encode()))
    return out


PUBLISHER = r"""
import json, sys, time
import paho.mqtt.client as paho
host, port, path, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
with open(path, encoding="utf-8") as f:
    messages = [json.loads(line) for line in f]
client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
client.max_inflight_messages_set(1000)
client.max_queued_messages_set(0)
client.connect(host, port)
client.loop_start()
print("ready", flush=True)
sys.stdin.readline()  # "go"
t0 = time.perf_counter()
pending = []
for k, (topic, payload) in enumerate(messages):
    pending.append(client.publish(topic, payload.encode(), qos=1))
    if rate and k % 50 == 0:
        ahead = k / rate - (time.perf_counter() - t0)
        if ahead > 0:
            time.sleep(ahead)
for info in pending:
    info.wait_for_publish(timeout=600)
print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
client.disconnect()
client.loop_stop()
"""


class Publishers:
    """Publisher processes (QoS 1; ``rate`` messages/s each at most, 0: as fast as the broker takes
    them), connected and waiting; ``go()`` starts them all at once, ``wait()`` their seconds."""

    def __init__(self, port: int, parts: list[list[tuple[str, bytes]]], rate: float = 0.0) -> None:
        self.files = []
        self.procs = []
        for part in parts:
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
                for topic, payload in part:
                    f.write(json.dumps([topic, payload.decode()]) + "\n")
            self.files.append(f.name)
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", PUBLISHER, "127.0.0.1", str(port), f.name, str(rate)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for p in self.procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready", "a publisher did not connect"

    def go(self) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()

    def wait(self) -> float:
        seconds = []
        for p in self.procs:
            out, _ = p.communicate(timeout=900)
            seconds.append(json.loads(out.strip().splitlines()[-1])["seconds"])
        for name in self.files:
            os.unlink(name)
        return max(seconds)


def _count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM sensing_reading").fetchone()
        return int(row[0]) if row else 0


class Intake:
    """One ``manage.py sensing_mqtt`` process; its output read by a thread (the last lines kept)."""

    def __init__(self, env: dict[str, str], port: int, k: int) -> None:
        self.proc = _start_intake(env, port, k)
        self.lines: collections.deque[str] = collections.deque(maxlen=50)
        self.subscribed = threading.Event()
        self.connected_at = 0.0  # perf_counter() when the broker accepted it (and began to deliver)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if "connected to" in line and not self.connected_at:
                self.connected_at = time.perf_counter()
            if "subscribed" in line:
                self.subscribed.set()

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(0.2)
        return self.lines[-1] if self.lines else ""


def _start_intake(env: dict[str, str], port: int, k: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "sensing_mqtt",
            "--host=127.0.0.1",
            f"--port={port}",
            "--group=bench",
            f"--client-id=bench-intake-{k}",
            "--batch-ms=100",
            "--stats-every=3600",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _start_intakes(env: dict[str, str], port: int) -> list[Intake]:
    intakes = [Intake(env, port, k) for k in (1, 2)]
    for intake in intakes:  # both connected and subscribed
        if not intake.subscribed.wait(180):
            raise RuntimeError(f"sensing_mqtt did not subscribe: {list(intake.lines)[-5:]}")
    return intakes


def _drain_run(env: dict[str, str], port: int, dsn: str, codes: list[str], run: int, n: int) -> dict[str, Any]:
    """The intake processes stopped, ``n`` messages published (the broker keeps them for their
    sessions), the intake started again: messages/s from its connection until every reading is in
    the database — the intake's own pace, not the publishers'. Returns the running intakes too."""
    messages = _messages(codes, run, n)
    readings = sum(len(json.loads(p)["values"]) for _t, p in messages)
    before = _count(dsn)
    publishers = Publishers(port, [messages[i::PUBLISHERS] for i in range(PUBLISHERS)])
    publishers.go()
    published = publishers.wait()
    intakes = [Intake(env, port, k) for k in (1, 2)]
    last, moved = before, time.perf_counter()
    while (now := _count(dsn)) - before < readings:
        if now != last:
            last, moved = now, time.perf_counter()
        elif time.perf_counter() - moved > 60:
            break  # nothing new for a minute: the rest is lost (reported below)
        time.sleep(0.02)
    done = time.perf_counter()
    started = min(i.connected_at for i in intakes if i.connected_at) if any(i.connected_at for i in intakes) else done
    wall = max(1e-6, done - started)
    time.sleep(1.0)  # anything arriving late (a duplicate) is counted too
    stored = _count(dsn) - before
    lines = [intake.stop() for intake in intakes]
    return {
        "mps": n / wall,
        "wall": wall,
        "published_s": published,
        "readings": readings,
        "stored": stored,
        "lines": lines,
    }


def _latency(port: int, dsn: str, codes: list[str], smoke_ids: dict[str, int], rate: float) -> list[float]:
    background = _messages([c for c in codes if c.startswith("PIPE")], 4, int(rate * (PROBES * 0.4 + 5)))
    probes = [c for c in codes if c.startswith("SMOKE")][-PROBES:]
    out: list[float] = []
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    publishers = Publishers(port, [background], rate)
    with psycopg.connect(dsn, autocommit=True) as conn:
        publishers.go()
        time.sleep(2.0)  # the background load is flowing
        for code in probes:
            ts = int(time.time() * 1000)
            t0 = time.perf_counter()
            client.publish(f"v1/devices/{code}/telemetry", json.dumps({"ts": ts, "values": {"smoke": 1}}), qos=1)
            while time.perf_counter() - t0 < 30:
                row = conn.execute(
                    "SELECT 1 FROM sensing_alarm WHERE device_id = %s AND alarm_type = 'smoke'", [smoke_ids[code]]
                ).fetchone()
                if row:
                    break
                time.sleep(0.005)
            out.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.2)
        publishers.wait()
    client.disconnect()
    client.loop_stop()
    return out


def _measure(stack: Any, broker: Any, quick: bool) -> list[Result]:
    from bench.bench_sensing import SETUP

    info = json.loads(stack.shell(SETUP, str(DEVICES), timeout=900).strip().splitlines()[-1])
    stack.shell(CATALOGUE, timeout=300)
    codes: list[str] = info["devices"]
    ids = json.loads(
        stack.shell(
            "import json\nfrom linli.sensing.models import Device\n"
            "print(json.dumps(dict(Device.objects.filter(code__startswith='SMOKE').values_list('code', 'id'))))",
            timeout=300,
        )
        .strip()
        .splitlines()[-1]
    )
    dsn = stack.env["DATABASE_URL"]
    env = dict(stack.env)
    pipes = [c for c in codes if c.startswith("PIPE")]
    n = 5000 if quick else MESSAGES
    for intake in _start_intakes(env, broker.port):  # their sessions (and shared subscriptions) exist
        intake.stop()
    _drain_run(env, broker.port, dsn, pipes, 0, len(pipes))  # warm-up: every device's rule states created
    runs = [_drain_run(env, broker.port, dsn, pipes, r, n) for r in (1, 2, 3)]
    median = sorted(runs, key=lambda r: r["mps"])[1]
    intakes = _start_intakes(env, broker.port)
    try:
        latencies = _latency(broker.port, dsn, codes, ids, rate=median["mps"] / 2)
    finally:
        lines = [intake.stop() for intake in intakes]
    wrong = sum(abs(r["stored"] - r["readings"]) for r in runs)
    split = "; ".join(line[:160] for line in lines)
    return [
        Result(
            "sensing: MQTT intake, messages/s (2 sensing_mqtt in one share group, PostgreSQL, QoS 1)",
            median["mps"],
            "msg/s",
            None,
            better="higher",
            runs=[r["mps"] for r in runs],
            note=f"{n} messages of 2 readings each per run, queued at the broker, then taken in by the two "
            f"processes in {median['wall']:.1f} s ({median['mps'] * 2:.0f} readings/s); "
            f"load average {os.getloadavg()[0]:.1f}; last run: {'; '.join(x[:150] for x in runs[-1]['lines'])}",
        ),
        Result(
            "sensing: MQTT lost + duplicated readings",
            float(wrong),
            "readings",
            0,
            note=f"stored vs sent per run: {[(r['stored'], r['readings']) for r in runs]}; intake: {split}",
        ),
        Result(
            "sensing: MQTT publish → alarm row p95 (under half the sustained load)",
            percentile(latencies, 95),
            "ms",
            TARGET_P95_MS,
            runs=[statistics.median(latencies), max(latencies)],
            note=f"{len(latencies)} smoke alarms; runs = median, max; background {median['mps'] / 2:.0f} msg/s",
        ),
    ]


def run(quick: bool) -> list[Result]:
    from bench.bench_sensing import _STACK_ENV
    from tests.mosquittod import own_broker
    from tests.stack import pg_available, production_stack

    name = "sensing: MQTT intake"
    reason = pg_available()
    if reason:
        return [Result(name, float("nan"), "msg/s", None, "higher", note=f"skipped: {reason}")]
    with own_broker() as broker:
        if broker is None:
            return [Result(name, float("nan"), "msg/s", None, "higher", note="skipped: mosquitto is not installed")]
        with production_stack(workers=1, task_workers=0, db_prefix="linli_bench_mqtt", **_STACK_ENV) as stack:  # type: ignore[arg-type]
            try:
                return _measure(stack, broker, quick)
            except Exception as exc:
                return [Result(name, float("nan"), "msg/s", None, "higher", note=f"failed: {exc}"[:300])]


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run(quick=bool(os.environ.get("QUICK"))))
