"""Notifications: fan-out of "a ballot is open" to 5,000 owners through the task queue.

A fresh SQLite database (migrated here) gets one compound of 50 buildings and 5,000 dwellings, each
with an owner and a signed-in resident (a ``resident`` grant at the dwelling). Every resident has
WeChat in their preferences (an openid), 1,000 of them also chose SMS for this kind (a phone on
their account). The SMS and WeChat backends are the in-memory ones (nothing leaves the machine; the
cost measured is Linli's, not a gateway's).

A setup process opens the ballot through ``consult.services.ballots.open_ballot`` with
``LINLI_TASKS_BACKEND=db``: its hook enqueues **one** ``notify.tasks.fan_out`` task row after the
commit. Then the clock starts and a **real** ``manage.py db_worker --batch`` process runs the queue
empty: the fan-out (5,000 inbox rows and 6,000 deliveries in bulk) and the ``send`` tasks it
enqueues (1,000 deliveries each). The figure is the wall-clock from starting the worker until it has
exited with every delivery sent — worker start-up included. Target ≤ 10 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench.common import ROOT, Result, fresh_sqlite_env, manage

OWNERS = 5_000
SMS_TOO = 1_000
TARGET_S = 10.0
NAME = f"notify: ballot opened → {OWNERS:,} owners via db_worker"


def _env() -> dict[str, str]:
    env = fresh_sqlite_env()
    env.update(
        {
            "LINLI_TASKS_BACKEND": "db",
            "LINLI_SMS_BACKEND": "linli.core.sms.LocmemBackend",
            "LINLI_WECHAT_BACKEND": "linli.notify.wechat.LocmemBackend",
            "DJANGO_SETTINGS_MODULE": "linli.settings",
        }
    )
    return env


def _self(arg: str, env: dict[str, str]) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_notify", arg],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-800:])
    out: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def measure() -> tuple[float, str]:
    env = _env()
    manage(["migrate", "--noinput"], env)
    setup = _self("--setup", env)
    t0 = time.perf_counter()
    manage(["db_worker", "--batch", "--no-startup-delay", "--no-reload"], env)
    seconds = time.perf_counter() - t0
    counts = _self("--count", env)
    ok = counts["inbox"] == OWNERS and counts["pending"] == 0 and counts["sent"] == OWNERS + SMS_TOO
    note = (
        f"setup+open_ballot {setup['open_seconds']:.1f} s (not counted); inbox {counts['inbox']}, "
        f"sent {counts['sent']}, pending {counts['pending']}, failed {counts['failed']}, tasks {counts['tasks']}; "
        "SQLite, in-memory channel backends"
    )
    return (seconds if ok else float("nan")), note


def run(quick: bool) -> list[Result]:
    try:
        seconds, note = measure()
    except Exception as exc:  # a bench reports, it does not crash the table
        return [Result(NAME, float("nan"), "s", TARGET_S, note=f"failed: {exc}"[:300])]
    return [Result(NAME, seconds, "s", TARGET_S, runs=[seconds], note=note)]


# --- inside Django, on the bench database ---------------------------------------------------------


def _setup() -> dict[str, object]:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from linli.accounts.models import RoleGrant, User
    from linli.accounts.services import grant_role
    from linli.consult.services import ballots as svc
    from linli.core import crypto
    from linli.notify.models import Preference
    from linli.places import models as m

    t0 = time.perf_counter()
    root = User.objects.create_superuser("bench-root", password=None)
    d = m.District.objects.create(code="500107", name="九龙坡区")
    s = m.Street.objects.create(district=d, code="001", name="谢家湾街道")
    c = m.Community.objects.create(street=s, code="001", name="劳动三村社区")
    comp = m.Compound.objects.create(community=c, code="0001", name="劳动三村小区", build_year=1985)
    worker = User.objects.create_user("bench-worker", password=None)
    grant_role(root, worker, "community_worker", c)
    dwellings: list[m.Dwelling] = []
    per = OWNERS // 50
    for b_no in range(50):
        b = m.Building.objects.create(compound=comp, code=f"{b_no + 1:02d}", name=f"{b_no + 1}栋", storeys=6)
        unit = m.Unit.objects.create(building=b, number="1")
        dwellings += [
            m.Dwelling(unit=unit, building=b, number=f"{k + 1:03d}", floor=k // 20 + 1, area=Decimal("60.00"))
            for k in range(per)
        ]
    dwellings = m.Dwelling.objects.bulk_create(dwellings, batch_size=1000)
    people = m.Person.objects.bulk_create([m.Person(name=f"业主{i}") for i in range(OWNERS)], batch_size=1000)
    m.Ownership.objects.bulk_create(
        [m.Ownership(dwelling=dw, person=p) for dw, p in zip(dwellings, people, strict=True)], batch_size=1000
    )
    phone = crypto.encrypt("13800138000")
    users = User.objects.bulk_create(
        [User(username=f"owner{i}", password="!", phone_enc=phone if i < SMS_TOO else "") for i in range(OWNERS)],  # noqa: S106 (an unusable password)
        batch_size=1000,
    )
    if not all(u.pk for u in users):
        users = list(User.objects.filter(username__startswith="owner").order_by("pk"))
    paths = dict(m.Building.objects.values_list("pk", "path"))
    RoleGrant.objects.bulk_create(
        [
            RoleGrant(user=u, role="resident", place_kind="dwelling", place_id=dw.pk, path=paths[dw.building_id])
            for u, dw in zip(users, dwellings, strict=True)
        ],
        batch_size=1000,
    )
    Preference.objects.bulk_create(
        [
            Preference(
                user=u,
                wechat_openid=f"o-{u.pk}",
                channels={"ballot_opened": ["sms", "wechat"]} if i < SMS_TOO else {},
            )
            for i, u in enumerate(users)
        ],
        batch_size=1000,
    )
    ballot = svc.create_ballot(
        worker,
        title="外墙改造",
        question="是否同意外墙改造方案?",
        matter="7",
        scope_kind="compound",
        scope_id=comp.pk,
        closes_at=timezone.now() + timedelta(days=14),
    )
    svc.open_ballot(worker, ballot)  # the hook enqueues one fan_out task after the commit
    return {"open_seconds": time.perf_counter() - t0, "ballot": ballot.pk}


def _count() -> dict[str, object]:
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from linli.notify.models import Delivery, Notification

    by = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")))
    return {
        "inbox": Notification.objects.filter(kind="ballot_opened").count(),
        "sent": by.get("sent", 0),
        "pending": by.get("pending", 0),
        "failed": by.get("failed", 0),
        "tasks": DBTaskResult.objects.count(),
    }


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    django.setup()
    out = _setup() if sys.argv[1] == "--setup" else _count()
    print(json.dumps(out))
