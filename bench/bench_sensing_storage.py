"""Sensor storage on PostgreSQL: what a reading costs on disk, and how fast the hourly jobs are
(issue 13 §6; the figures behind docs/operations.md "Sensor data").

A fresh database ``linli_bench_storage`` (created and dropped here, migrated with ``manage.py
migrate``, so the table is the partitioned one of migration 0003). Into one day's partition go
2,000,000 readings (200,000 with ``--quick``): 20,000 channels × 100 minutes, one reading a minute
each with a jitter of a few seconds, inserted in time order (as they arrive) through the partitioned
table with the intake's ``INSERT … ON CONFLICT (channel_id, ts) DO NOTHING`` in batches of 10,000.
Measured: ``pg_total_relation_size`` of that partition (heap + primary key + BRIN) per row, multiplied
out to 172,000 channels × 1,440 readings a day; the roll-up of those hours (``storage.rollup``) in raw
rows per second and the roll-ups' bytes per row; ``retention`` dropping the day (DETACH + DROP).
Skipped, with a note, when PostgreSQL does not answer on ``LINLI_BENCH_PG``.
"""

from __future__ import annotations

import os
from typing import Any

from bench.common import ROOT, Result, manage, script_json

PG_BASE = os.environ.get("LINLI_BENCH_PG", "postgres://postgres@127.0.0.1:5432/")
DB_NAME = "linli_bench_storage"
DISTRICT_ROWS_PER_DAY = 172_000 * 1440

SCRIPT = r"""
import json, sys, time
from datetime import UTC, datetime, timedelta
import django
django.setup()
from django.db import connection
from django.test.utils import override_settings
from linli.sensing.services import storage

channels, minutes = int(sys.argv[1]), int(sys.argv[2])
day = datetime(2026, 3, 2, tzinfo=UTC)
storage.ensure_partitions(days_ahead=0, now=day)
part = storage.RAW.name(day)
t0 = time.perf_counter()
with connection.cursor() as cur:
    step = max(1, 10_000 // channels)  # minutes per batch of about 10,000 readings
    for m0 in range(0, minutes, step):
        cur.execute(
            "INSERT INTO sensing_reading (channel_id, ts, value) "
            "SELECT c * 7 + 3, %s + make_interval(mins => m, secs => (c %% 5) + random()), 20 + 5 * random() "
            "FROM generate_series(%s, %s) m, generate_series(1, %s) c ORDER BY 2 "
            "ON CONFLICT (channel_id, ts) DO NOTHING",
            [day, m0, min(minutes, m0 + step) - 1, channels],
        )
    insert_s = time.perf_counter() - t0
    cur.execute(f'VACUUM ANALYZE "{part}"')
    cur.execute(
        "SELECT COUNT(*), pg_relation_size(%s), pg_indexes_size(%s), pg_total_relation_size(%s) FROM " + f'"{part}"',
        [part, part, part],
    )
    rows, heap, indexes, total = cur.fetchone()
now = day + timedelta(days=1, hours=3)  # the whole day closed: the roll-up passes it, retention may drop it
t0 = time.perf_counter()
done = storage.rollup(now=now)
rollup_s = time.perf_counter() - t0
hpart = storage.HOURLY.name(day)
with connection.cursor() as cur:
    cur.execute(f'VACUUM ANALYZE "{hpart}"')
    cur.execute("SELECT COUNT(*), pg_total_relation_size(%s) FROM " + f'"{hpart}"', [hpart])
    hrows, htotal = cur.fetchone()
with override_settings(LINLI_SENSING_RAW_DAYS=1):
    t0 = time.perf_counter()
    gone = storage.retention(now=now + timedelta(days=3))
    drop_s = time.perf_counter() - t0
assert part in gone.dropped, gone
print(json.dumps({"rows": rows, "heap": heap, "indexes": indexes, "total": total, "insert_s": insert_s,
                  "rollup_s": rollup_s, "rolled_rows": done.rows, "hours": done.hours,
                  "hrows": hrows, "htotal": htotal, "drop_s": drop_s}))
"""


def _admin() -> Any:
    import psycopg

    return psycopg.connect(PG_BASE.rstrip("/") + "/postgres", autocommit=True, connect_timeout=3)


def run(quick: bool) -> list[Result]:
    try:
        conn = _admin()
    except Exception as exc:  # no server: skipped with a note
        return [Result("sensing storage: bytes per reading (PostgreSQL)", 0, "B", note=f"skipped: {exc}")]
    channels, minutes = (20_000, 10) if quick else (20_000, 100)
    try:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": PG_BASE.rstrip("/") + f"/{DB_NAME}",
                "LINLI_DEBUG": "1",
                "DJANGO_SETTINGS_MODULE": "linli.settings",
                "PYTHONPATH": str(ROOT),
            }
        )
        manage(["migrate", "-v0"], env)
        got = script_json("sensing storage", SCRIPT, [str(channels), str(minutes)], env)
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.close()
    per_row = got["total"] / got["rows"]
    per_day_gb = per_row * DISTRICT_ROWS_PER_DAY / 1e9
    hourly_per_row = got["htotal"] / max(1, got["hrows"])
    hourly_year_gb = hourly_per_row * 172_000 * 24 * 365 / 1e9
    n = f"{got['rows']:,} readings of {channels:,} channels"
    return [
        Result(
            "sensing storage: bytes per raw reading (heap + pk + BRIN)",
            per_row,
            "B",
            note=f"{n}; heap {got['heap'] / got['rows']:.1f} B, indexes {got['indexes'] / got['rows']:.1f} B",
        ),
        Result(
            "sensing storage: a district's raw day (172,000 ch × 1/min)",
            per_day_gb,
            "GB",
            note=f"× 30 days = {per_day_gb * 30:,.0f} GB",
        ),
        Result(
            "sensing storage: insert through the partitioned table",
            got["rows"] / got["insert_s"],
            "rows/s",
            better="higher",
            note="INSERT … ON CONFLICT DO NOTHING, 10,000 a statement, one session",
        ),
        Result(
            "sensing storage: hourly roll-up",
            got["rows"] / got["rollup_s"],
            "raw rows/s",
            better="higher",
            note=f"{got['hours']} hours, {got['rolled_rows']:,} roll-up rows; a district hour is 10.3 M raw rows",
        ),
        Result(
            "sensing storage: bytes per hourly roll-up row",
            hourly_per_row,
            "B",
            note=f"a district year (172,000 ch × 8,760 h) = {hourly_year_gb:,.0f} GB",
        ),
        Result("sensing storage: retention drops a day partition", got["drop_s"] * 1000, "ms", target=1000),
    ]
