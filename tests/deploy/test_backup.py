"""Backups lose nothing: ``deploy/backup.sh`` (pg_dump -Fc), then the restore steps of
docs/operations.md "Backups" into a fresh database, compared table by table.

A PostgreSQL database is filled through the app (the demo loaders: places, people with encrypted ID
numbers and phones, a consent story with ballots and notices, grid events with their history),
dumped by the nightly script (which also runs its off-machine copy hook), restored with
``pg_restore --no-owner --exit-on-error`` into a new database, and compared: every table's row count
and an md5 of all its rows (as text, in a fixed order), every sequence's position (new rows after a
restore must not collide with old ids), every index and constraint. Then the encrypted fields are
decrypted in the restored database with the same ``LINLI_FIELD_KEYS`` — every value equal to the
original's, each ID number agreeing with its keyed hash — and are unreadable with another key.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import (
    ROOT,
    create_database,
    database_url,
    django_shell,
    drop_database,
    manage,
    pg_available,
    stack_env,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
        reason="makes its own PostgreSQL databases: already run in the SQLite pass",
    ),
]

TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
SEQUENCES = "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
INDEXES = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
CONSTRAINTS = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
)

DECRYPT = """
import hashlib, json
from django.apps import apps
from linli.core import crypto
from linli.places.models import Person

digest, n = hashlib.sha256(), 0
for model in apps.get_models():
    for field in [f.name for f in model._meta.concrete_fields if f.name.endswith("_enc")]:
        for pk, token in model.objects.order_by("pk").values_list("pk", field):
            if not token:
                continue
            if isinstance(token, (bytes, memoryview)):
                value = crypto.decrypt_bytes(bytes(token)).hex()
            else:
                value = crypto.decrypt(token)
            digest.update(f"{model._meta.label}.{field}.{pk}={value}\\n".encode())
            n += 1
bad = sum(
    1 for p in Person.objects.exclude(id_number_enc="")
    if crypto.lookup_hash(crypto.decrypt(p.id_number_enc)) != p.id_number_hash
)
print("DECRYPTED=" + json.dumps({"values": n, "digest": digest.hexdigest(), "hash_mismatches": bad}))
"""


# raw readings of the last ~2 days (today's partition, older days in the default partition) and
# hourly roll-ups; readings keep no foreign key (partitioned table), so plain ids do
READINGS = """
INSERT INTO sensing_reading (channel_id, ts, value)
  SELECT c, now() - make_interval(mins => m * 17), m FROM generate_series(1, 5) c, generate_series(1, 160) m;
INSERT INTO sensing_readinghour (channel_id, hour, n, min_value, max_value, sum_value)
  SELECT c, date_trunc('hour', now()) - make_interval(hours => h), 60, 0, 1, 30
  FROM generate_series(1, 5) c, generate_series(1, 48) h;
"""


def _connect(name: str) -> Any:
    import psycopg

    return psycopg.connect(database_url(name), autocommit=True)


def snapshot(name: str) -> dict[str, Any]:
    """Everything a restore must bring back, from the database ``name``."""
    with _connect(name) as conn:
        tables = [t for (t,) in conn.execute(TABLES).fetchall()]
        rows = {}
        for table in tables:
            count, md5 = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: S608 (names from pg_tables)
            ).fetchone()
            rows[table] = (count, md5)
        return {
            "rows": rows,
            "sequences": conn.execute(SEQUENCES).fetchall(),
            "indexes": conn.execute(INDEXES).fetchall(),
            "constraints": conn.execute(CONSTRAINTS).fetchall(),
        }


def restore(dump: Path, database: str) -> None:
    """docs/operations.md "Backups": ``pg_restore`` into an empty database, stopping at any error."""
    r = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={database_url(database)}", str(dump)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr


def decrypted(env: dict[str, str]) -> dict[str, Any]:
    out = django_shell(env, DECRYPT)
    line = next(x for x in out.splitlines() if x.startswith("DECRYPTED="))
    result: dict[str, Any] = json.loads(line[len("DECRYPTED=") :])
    return result


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    reason = pg_available()
    if reason:
        pytest.skip(f"the backup round trip needs PostgreSQL: {reason}")
    tmp = tmp_path_factory.mktemp("backup")
    name = create_database("linli_deploy_backup")
    try:
        env = stack_env(tmp, name)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "load_demo", "--scale", "0.02", "-v", "0", timeout=600)
        manage(env, "load_demo_consent", "-v", "0", timeout=600)
        manage(env, "load_demo_events", "--events", "300", "-v", "0", timeout=600)
        with _connect(name) as conn:  # sensor readings in their day partitions and hourly roll-ups
            conn.execute(READINGS)
        # (on PostgreSQL the parent table counts the rows of all its partitions)
        assert snapshot(name)["rows"]["sensing_readinghour"][0] == 5 * 48
        yield name, env, tmp
    finally:
        drop_database(name)


def test_backup_script_and_restore_lose_nothing(filled: tuple[str, dict[str, str], Path]) -> None:
    name, env, tmp = filled
    backups, offsite = tmp / "backups", tmp / "offsite"
    offsite.mkdir()
    stale = backups / "linli-2000-01-01T000000.dump"
    backups.mkdir()
    stale.write_bytes(b"old")
    os.utime(stale, (946684800, 946684800))  # 2000-01-01: older than LINLI_BACKUP_KEEP_DAYS
    run = subprocess.run(
        [str(ROOT / "deploy" / "backup.sh")],
        env={
            **env,
            "LINLI_BACKUP_DIR": str(backups),
            "LINLI_BACKUP_KEEP_DAYS": "30",
            "LINLI_BACKUP_COPY": f"cp -t {offsite}",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [dump] = sorted(backups.glob("linli-*.dump"))
    assert not stale.exists(), "dumps older than the kept days are deleted"
    assert not list(backups.glob(".*partial")), "no half-written file is left"
    assert (offsite / dump.name).read_bytes() == dump.read_bytes(), "the copy hook got the file"
    assert oct(dump.stat().st_mode & 0o777) == oct(0o600), "the dump is readable by its owner only"

    before = snapshot(name)
    restored = create_database("linli_deploy_restored")
    try:
        restore(dump, restored)
        after = snapshot(restored)
        assert after["rows"] == before["rows"]
        assert after["sequences"] == before["sequences"]
        assert after["indexes"] == before["indexes"]
        assert after["constraints"] == before["constraints"]
        # the app's data is really there, not two empty databases compared
        rows = {t: c for t, (c, _) in before["rows"].items()}
        assert rows["places_person"] > 100 and rows["places_dwelling"] > 100, rows
        assert rows["governance_event"] >= 300, rows
        assert sum(c for t, c in rows.items() if t.startswith("governance_event") and t != "governance_event") > 300
        assert sum(c for t, c in rows.items() if t.startswith("consult_ballot")) > 0, rows

        original = decrypted(env)
        back = decrypted({**env, "DATABASE_URL": database_url(restored)})
        assert original["values"] > 200 and original["hash_mismatches"] == 0, original
        assert back == original

        from cryptography.fernet import Fernet

        other_key = {**env, "DATABASE_URL": database_url(restored), "LINLI_FIELD_KEYS": Fernet.generate_key().decode()}
        refused = django_shell(other_key, DECRYPT, check=False)
        assert "cannot be decrypted with the configured LINLI_FIELD_KEYS" in refused, refused[-500:]
    finally:
        drop_database(restored)


def test_backup_without_raw_readings(filled: tuple[str, dict[str, str], Path]) -> None:
    """``LINLI_BACKUP_SKIP_READINGS=1`` leaves only the raw readings' rows out (docs/operations.md
    "Sensor data"): every other table, the roll-ups included, comes back whole."""
    name, env, tmp = filled
    backups = tmp / "backups-no-readings"
    run = subprocess.run(
        [str(ROOT / "deploy" / "backup.sh")],
        env={**env, "LINLI_BACKUP_DIR": str(backups), "LINLI_BACKUP_SKIP_READINGS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [dump] = sorted(backups.glob("linli-*.dump"))
    before = snapshot(name)["rows"]
    raw = {t for t in before if t == "sensing_reading" or t.startswith("sensing_reading_")}
    assert before["sensing_reading"][0] == 5 * 160, "the readings were there to leave out"
    restored = create_database("linli_deploy_restored")
    try:
        restore(dump, restored)
        after = snapshot(restored)["rows"]
        assert set(after) == set(before), "every table, partitions included, is restored"
        assert all(after[t][0] == 0 for t in raw), {t: after[t] for t in raw}
        assert {t: v for t, v in after.items() if t not in raw} == {t: v for t, v in before.items() if t not in raw}
    finally:
        drop_database(restored)

    bad = subprocess.run(
        [str(ROOT / "deploy" / "backup.sh")],
        env={**env, "LINLI_BACKUP_DIR": str(backups), "LINLI_BACKUP_SKIP_READINGS": "maybe"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "LINLI_BACKUP_SKIP_READINGS" in bad.stderr
