"""Server time of the building consensus page with 1,000 visits logged, target p95 ≤ 150 ms.

A subprocess (DJANGO_SETTINGS_MODULE=linli.settings, LINLI_DEBUG=1 as under `make run`) on a
fresh SQLite database: one compound, one building of 100 dwellings (4 units × 5 floors × 5), a
project, 1,000 visits spread over 60 days (support rising as in 邢家桥, 23 % → 100 %), signed in
as a community worker (force_login). 5 warm-ups, then N timed requests of
/consult/projects/<p>/consensus/building/<b>/ (Django's test client: the whole request/response
cycle in-process, no network). Also times the project summary page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile

from bench.common import ROOT, Result, fresh_sqlite_env, manage, percentile

TARGET_MS = 150.0

SCRIPT = r"""
import datetime as dt, json, random, sys, time
import django
django.setup()
from decimal import Decimal
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from linli.accounts.models import User
from linli.accounts.services import grant_role
from linli.consult.models import Visit
from linli.places import models as m
from linli.renewal.models import Project

n, warm = int(sys.argv[1]), 5
rng = random.Random(23)
root = User.objects.create_superuser("bench-root", password="bench-root-password-x")
d = m.District.objects.create(code="500107", name="九龙坡区")
s = m.Street.objects.create(district=d, code="001", name="谢家湾街道")
c = m.Community.objects.create(street=s, code="001", name="劳动三村社区")
cp = m.Compound.objects.create(community=c, code="0001", name="邢家桥小区", build_year=1985)
g = m.Grid.objects.create(community=c, seq=1, code="500107001001001", name="第1网格")
b = m.Building.objects.create(compound=cp, code="01", name="1栋", storeys=5, grid=g)
dwellings = []
for u in range(1, 5):
    unit = m.Unit.objects.create(building=b, number=str(u))
    for fl in range(1, 6):
        for k in range(1, 6):
            dwellings.append(m.Dwelling(unit=unit, building=b, number=f"{fl}{k:02d}", floor=fl, area=Decimal("62.50")))
m.Dwelling.objects.bulk_create(dwellings)
dwellings = list(m.Dwelling.objects.filter(building=b))
worker = User.objects.create_user("bench-worker", password="bench-worker-password-x")
grant_role(root, worker, "community_worker", c)
p = Project.objects.create(compound=cp, name="邢家桥小区改造", created_by=worker)
now = timezone.now()
Project.objects.filter(pk=p.pk).update(created_at=now - dt.timedelta(days=61))
visits = []
for i in range(1000):
    day = i * 60 / 1000  # spread over 60 days, support rising with time
    share = 0.23 + 0.77 * (day / 60)
    r = rng.random()
    att = "support" if r < share else "undecided" if r < share + (1 - share) / 2 else "oppose"
    visits.append(Visit(project=p, dwelling=rng.choice(dwellings), visitor=worker, attitude=att,
                        visited_at=now - dt.timedelta(days=60 - day), reasons=["cost"] if att != "support" else []))
Visit.objects.bulk_create(visits)
client = Client()
client.force_login(worker)
from bench.common import time_pages
urls = {
    "building": reverse("consult:visit_building", args=[p.pk, b.pk]),
    "project": reverse("consult:visit_project", args=[p.pk]),
}
out = time_pages(client, urls, n, warm)
print(json.dumps(out))
"""


def run(quick: bool) -> list[Result]:
    n = 20 if quick else 60
    tmp = tempfile.mkdtemp(prefix="linli-bench-visits-")
    try:
        env = fresh_sqlite_env(tmp)
        manage(["migrate", "--noinput", "-v", "0"], env)
        env["DJANGO_SETTINGS_MODULE"] = "linli.settings"
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(n)], env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"visits bench failed:\n{proc.stderr[-3000:]}")
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results = []
    for name, label in (
        ("building", "building consensus page, 1,000 visits"),
        ("project", "project consensus page, 1,000 visits"),
    ):
        ms = data[name]["ms"]
        note = f"{data[name]['url']}, median {percentile(ms, 50):.1f} ms, {n} requests, {data[name]['bytes']:,} bytes"
        results.append(Result(f"{label}: server p95", percentile(ms, 95), "ms", target=TARGET_MS, note=note))
    return results
