"""The alarm board with 10,000 open alarms in scope: p95 ≤ 300 ms (issue 13, "Measured in `make bench`").

A scratch database (SQLite, and PostgreSQL when it answers on ``LINLI_BENCH_PG``, default
postgres://postgres@127.0.0.1:5432/) holds one district of 2 streets × 10 communities × 5 compounds
× 10 buildings (1,000 buildings, one grid per community), ``DEVICES`` devices of the default
profiles spread over them, ``OPEN`` open alarms (every severity, trapped passengers among the
lifts, some acknowledged) and ``CLOSED`` cleared ones (the history a board also filters over),
written with bulk inserts, then ``ANALYZE`` (as autovacuum would after such a load). A subprocess
(``linli.settings``, LINLI_DEBUG=1 as under `make run`) signs in as a district administrator (all
10,000 in scope: a path filter on the district) and as a street command centre (street 1's share),
and times through Django's test client, N requests each after warm-ups: the board as opened, the
board filtered (one severity, only unacknowledged), a later page, the htmx refresh (the live part
alone), an alarm's page, and the map layer's JSON.
The figure is the p95 of each; the note gives the median and the size of the answer.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from bench.common import ROOT, Result, fresh_sqlite_env, manage, percentile, script_json

TARGET_MS = 300.0
OPEN = 10_000
CLOSED = 20_000
DEVICES = 12_000
PG_BASE = os.environ.get("LINLI_BENCH_PG", "postgres://postgres@127.0.0.1:5432/")
PG_DB = "linli_bench_board"

BUILD = r"""
import random, sys
from datetime import timedelta
import django
django.setup()
from django.db import connection, transaction
from linli.accounts.models import User
from linli.accounts.services import grant_role
from linli.core import clock
from linli.places.models import Building, Community, Compound, District, Grid, Street
from linli.sensing.models import Alarm, AlarmLog, Device, DeviceProfile, priority

n_open, n_closed, n_devices = (int(a) for a in sys.argv[1:4])
rng = random.Random(13)
now = clock.now()
TYPES = {
    "lift": ["trapped", "door_zone", "lift_fault", "offline"],
    "smoke": ["smoke", "battery_low", "offline"],
    "pipe": ["pressure_low", "pressure_high", "pressure_jump", "flow_high"],
    "camera": ["threshold", "offline"],
}
SEV = ["critical", "major", "minor", "warning"]


def alarm(device, t, sev, at, **kw):
    pk, _kind, comm, grid, path = device
    return Alarm(device_id=pk, alarm_type=t, severity=sev, priority=priority(t, sev), value=1.0, started_at=at,
                 last_at=at, community_id=comm, grid_id=grid, path=path, **kw)


with transaction.atomic():
    district = District.objects.create(code="500107", name="九龙坡区", lat=29.5, lon=106.5)
    buildings = []
    for s in range(2):
        street = Street.objects.create(district=district, code=f"{s + 1:03d}", name=f"街道{s + 1}")
        for c in range(10):
            comm = Community.objects.create(street=street, code=f"{c + 1:03d}", name=f"社区{s + 1}-{c + 1}")
            code = f"500107{s + 1:03d}{c + 1:03d}001"
            grid = Grid.objects.create(community=comm, seq=1, code=code, name=f"{comm.name}第1网格")
            for k in range(5):
                comp = Compound.objects.create(community=comm, code=f"{k + 1:04d}", name=f"小区{k + 1}")
                for b in range(10):
                    lat, lon = 29.45 + rng.random() * 0.1, 106.45 + rng.random() * 0.1
                    buildings.append(Building.objects.create(
                        compound=comp, code=f"{b + 1:02d}", name=f"{b + 1}栋", grid=grid, storeys=6, lat=lat, lon=lon
                    ))
    profiles = {p.kind: p for p in DeviceProfile.objects.all()}
    kinds = ["lift"] * 2 + ["smoke"] * 5 + ["pipe"] * 2 + ["camera"]
    devices = []
    for i in range(n_devices):
        b = buildings[i % len(buildings)]
        devices.append(Device(
            code=f"D{i:06d}", profile=profiles[kinds[i % len(kinds)]], building=b, compound_id=b.compound_id,
            community_id=b.community_id, grid_id=b.grid_id, path=b.path, lat=b.lat, lon=b.lon,
        ))
    Device.objects.bulk_create(devices, batch_size=2000)
    devices = list(Device.objects.values_list("pk", "profile__kind", "community_id", "grid_id", "path"))
    alarms, used, i = [], set(), 0
    while len(alarms) < n_open:
        device = devices[i % len(devices)]
        i += 1
        t = rng.choice(TYPES[device[1]])
        if (device[0], t) in used:
            continue
        used.add((device[0], t))
        sev = "critical" if t in ("trapped", "smoke") else rng.choice(SEV[1:])
        at = now - timedelta(seconds=rng.randint(0, 7 * 86400))
        acked = rng.random() < 0.3
        alarms.append(alarm(device, t, sev, at, repeats=rng.randint(0, 20), acknowledged=acked,
                            acknowledged_at=at if acked else None))
    for j in range(n_closed):
        device = devices[j % len(devices)]
        at = now - timedelta(seconds=rng.randint(7 * 86400, 90 * 86400))
        alarms.append(alarm(device, rng.choice(TYPES[device[1]]), rng.choice(SEV), at, cleared=True,
                            cleared_at=at + timedelta(minutes=5), acknowledged=True, acknowledged_at=at))
    Alarm.objects.bulk_create(alarms, batch_size=2000)
    street1 = Street.objects.get(code="001").path
    first = Alarm.objects.filter(cleared=False, path__startswith=street1).order_by("priority", "-started_at").first()
    AlarmLog.objects.bulk_create([AlarmLog(alarm=first, kind="repeated", at=now - timedelta(seconds=k))
                                  for k in range(200)])
    root = User.objects.create_superuser("bench-root", password="bench-only-password-1")
    admin = User.objects.create_user("bench-admin", password="bench-only-password-1")
    grant_role(root, admin, "district_admin", district)
    street = User.objects.create_user("bench-street", password="bench-only-password-1")
    grant_role(root, street, "street_command", Street.objects.get(code="001"))
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")  # what autovacuum does after a load on PostgreSQL (and sqlite_stat1 on SQLite)
print('{"ok": true}')
"""

TIME = r"""
import json, sys
import django
django.setup()
from django.test import Client
from django.urls import reverse
from linli.accounts.models import User
from linli.sensing.queries.alarms import alarms_of
from bench.common import time_pages

n = int(sys.argv[1])
out = {}
for name in ("bench-admin", "bench-street"):
    user = User.objects.get(username=name)
    scope = alarms_of(user).filter(cleared=False)
    first = scope.order_by("priority", "-started_at").first()
    client = Client()
    client.force_login(user)
    board = reverse("sensing:alarm_board")
    urls = {
        "board": board,
        "board filtered": board + "?severity=major&unack=1",
        "board page 50": board + "?page=50",
        "board htmx refresh": board + "?type=offline",
        "alarm page": reverse("sensing:alarm_detail", args=[first.pk]),
        "map layer JSON": reverse("sensing:alarm_map"),
    }
    htmx = Client(HTTP_HX_REQUEST="true")
    htmx.force_login(User.objects.get(username=name))
    timed = time_pages(client, {k: v for k, v in urls.items() if "htmx" not in k}, n)
    timed.update(time_pages(htmx, {k: v for k, v in urls.items() if "htmx" in k}, n))
    out[name] = {"pages": timed, "in_scope": scope.count()}
print(json.dumps(out))
"""


def _results(db: str, data: dict, n: int) -> list[Result]:
    results = []
    for who, d in data.items():
        for page, t in d["pages"].items():
            ms = t["ms"]
            note = f"{n} requests, median {percentile(ms, 50):.1f} ms, {t['bytes']:,} bytes"
            note += f", {d['in_scope']:,} open in scope"
            results.append(Result(f"alarm board {db} {who} {page} p95", percentile(ms, 95), "ms", TARGET_MS, note=note))
    return results


def _measure(db: str, env: dict[str, str], n: int) -> list[Result]:
    done = manage(["migrate", "--noinput", "-v", "0"], env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"alarm board bench: migrate failed on {db}:\n{done.stderr[-3000:]}")
    env = {**env, "DJANGO_SETTINGS_MODULE": "linli.settings", "PYTHONPATH": str(ROOT)}
    script_json("alarm board build", BUILD, [str(OPEN), str(CLOSED), str(DEVICES)], env)
    return _results(db, script_json("alarm board", TIME, [str(n)], env), n)


def run(quick: bool) -> list[Result]:
    n = 10 if quick else 40
    tmp = tempfile.mkdtemp(prefix="linli-bench-board-")
    try:
        results = _measure("SQLite", fresh_sqlite_env(tmp), n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results + run_pg(n)


def run_pg(n: int) -> list[Result]:
    try:
        import psycopg

        admin = psycopg.connect(PG_BASE.rstrip("/") + "/postgres", autocommit=True, connect_timeout=3)
    except Exception as exc:  # any failure to connect: skipped with the reason
        return [Result("alarm board PostgreSQL: skipped", 0.0, "ms", note=f"no server at {PG_BASE}: {exc}")]
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DB}")
        env = fresh_sqlite_env()
        env["DATABASE_URL"] = PG_BASE.rstrip("/") + "/" + PG_DB
        return _measure("PostgreSQL", env, n)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        admin.close()
