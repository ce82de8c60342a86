"""Ballots: the rule engine on a 10,000-dwelling roll, and 500 concurrent vote submissions on
PostgreSQL.

1. ``rules.decide`` on 10,000 dwellings (5,000 owners: each holds two, 80 % vote): median of
   many runs, target ≤ 50 ms.
2. A fresh PostgreSQL database ``linli_bench_ballots`` (created and dropped here with psycopg,
   migrated with ``manage.py migrate``); a worker process sets up one building with 500 owners,
   opens a ballot, then 8 processes (each its own database connection) fire 600 ``cast_vote``
   calls at once: one per owner, 50 of them sent twice with the same client key (a double tap
   from two processes at the same moment), 50 owners changing their vote. Counted afterwards:
   Vote rows (must be 500: lost = missing owners), VoteRecord rows (must equal the 550 distinct
   submissions: more = duplicated), and every owner's current vote equal to their last record.
   Votes are entered through the staff (paper) channel; the locking path is the online one's.
   Skipped, with a note, when PostgreSQL does not answer on ``LINLI_BENCH_PG``
   (default postgres://postgres@127.0.0.1:5432/).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from decimal import Decimal

from bench.common import ROOT, Result, manage, median_of

PG_BASE = os.environ.get("LINLI_BENCH_PG", "postgres://postgres@127.0.0.1:5432/")
DB_NAME = "linli_bench_ballots"
OWNERS = 500
WORKERS = 8


def _roll(n: int = 10_000) -> tuple[list[dict[str, object]], dict[str, str]]:
    rng = random.Random(278)
    dwellings = [{"id": i, "owner": f"p:{i // 2}", "area": Decimal(rng.randint(3000, 15000)) / 100} for i in range(n)]
    votes = {f"p:{i}": rng.choice(("yes", "yes", "no", "abstain")) for i in range(n // 2) if rng.random() < 0.8}
    return dwellings, votes


def bench_decide(quick: bool) -> Result:
    sys.path.insert(0, str(ROOT))
    from linli.consult.rules import decide

    dwellings, votes = _roll()

    def once() -> float:
        t0 = time.perf_counter()
        decide(7, dwellings, votes)
        return (time.perf_counter() - t0) * 1000

    once()  # warm-up
    value, runs = median_of(once, 5 if quick else 31)
    return Result(
        "ballots: decide() on 10,000 dwellings", value, "ms", 50, runs=runs[:7], note=f"median of {len(runs)}"
    )


# --- PostgreSQL concurrency ------------------------------------------------------------------------


def _admin_connect() -> object:
    import psycopg

    return psycopg.connect(PG_BASE.rstrip("/") + "/postgres", autocommit=True, connect_timeout=3)


def bench_concurrent(quick: bool) -> Result:
    name = f"ballots: {OWNERS} concurrent vote submissions on PostgreSQL"
    try:
        conn = _admin_connect()
    except Exception as exc:
        return Result(name, float("nan"), "lost", 0, note=f"skipped: PostgreSQL does not answer ({type(exc).__name__})")
    with conn:  # type: ignore[attr-defined]
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')  # type: ignore[attr-defined]
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')  # type: ignore[attr-defined]
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": PG_BASE.rstrip("/") + f"/{DB_NAME}",
            "LINLI_DEBUG": "1",
            "LINLI_DB_CONN_MAX_AGE": "0",
            "LINLI_VAR_DIR": str(ROOT / "var"),
        }
    )
    try:
        manage(["migrate", "--noinput"], env)
        proc = subprocess.run(
            [sys.executable, "-m", "bench.bench_ballots", "--pg-worker"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            return Result(name, float("nan"), "lost", 0, note="failed: " + proc.stderr.strip().splitlines()[-1][:120])
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        with _admin_connect() as conn:  # type: ignore[attr-defined]
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    note = (
        f"{out['calls']} calls by {WORKERS} processes in {out['seconds']:.2f} s; "
        f"lost {out['lost']}, duplicated {out['duplicated']}, votes {out['votes']}/{OWNERS}, "
        f"records {out['records']}/{out['submissions']}, mismatched {out['mismatched']}"
    )
    bad = out["lost"] + out["duplicated"] + out["mismatched"]
    return Result(name, float(bad), "lost+dup", 0, note=note)


def run(quick: bool) -> list[Result]:
    return [bench_decide(quick), bench_concurrent(quick)]


# --- the worker process (inside Django, on the bench database) -------------------------------------


def _setup() -> tuple[int, int, list[str]]:
    from datetime import timedelta

    from django.utils import timezone

    from linli.accounts.models import User
    from linli.accounts.services import grant_role
    from linli.consult.services import ballots as svc
    from linli.places import models as m

    root = User.objects.create_superuser("bench-root", password=None)
    d = m.District.objects.create(code="500107", name="九龙坡区")
    s = m.Street.objects.create(district=d, code="001", name="谢家湾街道")
    c = m.Community.objects.create(street=s, code="001", name="劳动三村社区")
    comp = m.Compound.objects.create(community=c, code="0001", name="劳动三村小区", build_year=1958)
    b = m.Building.objects.create(compound=comp, code="01", name="1栋", storeys=25)
    worker = User.objects.create_user("bench-worker", password=None)
    grant_role(root, worker, "community_worker", c)
    people = m.Person.objects.bulk_create([m.Person(name=f"业主{i}") for i in range(OWNERS)])
    dwellings = []
    for u in range(10):
        unit = m.Unit.objects.create(building=b, number=str(u + 1))
        for k in range(OWNERS // 10):
            dwellings.append(
                m.Dwelling(
                    unit=unit,
                    building=b,
                    number=f"{k // 2 + 1}{k % 2 + 1:02d}",
                    floor=k // 2 + 1,
                    area=Decimal("72.50") + k,
                )
            )
    dwellings = m.Dwelling.objects.bulk_create(dwellings)
    m.Ownership.objects.bulk_create(
        [m.Ownership(dwelling=dw, person=p) for dw, p in zip(dwellings, people, strict=True)]
    )
    ballot = svc.create_ballot(
        worker,
        title="加装电梯以外的外墙改造",
        question="是否同意?",
        matter="7",
        scope_kind="building",
        scope_id=b.pk,
        closes_at=timezone.now() + timedelta(days=1),
    )
    svc.open_ballot(worker, ballot)
    keys = sorted({f"p:{p.pk}" for p in people})
    return ballot.pk, worker.pk, keys


def _fire(args: tuple[int, int, list[tuple[str, str, str]], object]) -> int:
    import django
    from django.db import connection

    django.setup()
    from linli.accounts.models import User
    from linli.consult.models import Ballot
    from linli.consult.services import ballots as svc

    ballot_id, user_id, jobs, start = args
    user = User.objects.get(pk=user_id)
    ballot = Ballot.objects.get(pk=ballot_id)
    start.wait()  # type: ignore[attr-defined]
    for key, choice, client_key in jobs:
        svc.cast_vote(user, ballot, choice=choice, owner_key=key, channel="paper", client_key=client_key)
    connection.close()
    return len(jobs)


def _worker() -> None:
    import multiprocessing as mp

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    django.setup()
    from django.db import connections

    from linli.consult.models import Vote, VoteRecord

    ballot_id, user_id, keys = _setup()
    rng = random.Random(500)
    jobs: list[tuple[str, str, str]] = []
    for i, k in enumerate(keys):
        jobs.append((k, rng.choice(("yes", "no", "abstain")), f"{k}-1"))
        if i % 10 == 0:
            jobs.append((k, jobs[-1][1], f"{k}-1"))  # double tap: the same submission again
        if i % 10 == 5:
            jobs.append((k, rng.choice(("yes", "no")), f"{k}-2"))  # a changed vote
    rng.shuffle(jobs)
    submissions = len({(k, ck) for k, _, ck in jobs})
    connections.close_all()
    ctx = mp.get_context("spawn")
    start = ctx.Manager().Event()
    parts = [(ballot_id, user_id, jobs[i::WORKERS], start) for i in range(WORKERS)]
    with ctx.Pool(WORKERS) as pool:
        pending = pool.map_async(_fire, parts)
        time.sleep(3)  # let every process start and connect
        t0 = time.perf_counter()
        start.set()
        done = sum(pending.get(timeout=600))
        seconds = time.perf_counter() - t0
    votes = list(Vote.objects.filter(ballot_id=ballot_id).values_list("owner_key", "choice"))
    records = list(
        VoteRecord.objects.filter(ballot_id=ballot_id).order_by("at", "id").values_list("owner_key", "choice")
    )
    last: dict[str, str] = {}
    for k, c in records:
        last[k] = c
    current = dict(votes)
    lost = (len(keys) - len(current)) + max(0, submissions - len(records))
    duplicated = (len(votes) - len(current)) + max(0, len(records) - submissions)
    mismatched = sum(1 for k, c in current.items() if last.get(k) != c)
    print(
        json.dumps(
            {
                "calls": done,
                "seconds": seconds,
                "votes": len(votes),
                "records": len(records),
                "submissions": submissions,
                "lost": lost,
                "duplicated": duplicated,
                "mismatched": mismatched,
            }
        )
    )


if __name__ == "__main__":
    if "--pg-worker" in sys.argv:
        sys.path.insert(0, str(ROOT))
        _worker()
    else:
        from bench.common import print_table

        print_table(run(quick="--quick" in sys.argv))
