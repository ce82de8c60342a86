"""The nearby-jobs page and the talent search on the demo data: p95 ≤ 150 ms (issue 14, "Measured in
`make bench`").

A scratch SQLite database gets the demo district (``load_demo --scale`` ``SCALE``: the homes seekers
and employers sit at; the jobs figures do not depend on it) and the demo's jobs at their default
size (``load_demo_jobs``: 20,000 seekers, ≈ 2,600 employers, ≈ 5,000 live postings; ``--quick``:
5,000 seekers), then ``ANALYZE``. A subprocess (``linli.settings``, LINLI_DEBUG=1 as under
`make run`) signs in through Django's test client and times, after warm-ups (the first request
builds the process's matching indexes):

* **nearby jobs** (``jobs:nearby``) as ``demo-seeker`` — as opened (their travel distance), at 5 km,
  at 20 km, one category — and as ``OTHERS`` other seekers with accounts, as opened;
* **talent search** (``jobs:talent``) as ``demo-employer`` on the machine-tool plant's open posting
  at 30 km (the seed's case) and 50 km, and on the demo workshop's posting at 10 km.

Each figure is the p95 of the requests of one run (server time, ms); the bench runs ``RUNS`` times and
reports the median p95 beside the target, with every run's p95.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile

from bench.common import ROOT, Result, fresh_sqlite_env, manage, percentile, script_json

TARGET_MS = 150.0
SCALE = "0.2"
OTHERS = 20
RUNS = 3

TIME = r"""
import json, random, sys
import django
django.setup()
from django.db import connection
from django.test import Client
from django.urls import reverse
from linli.accounts.models import User
from linli.demo import jobs as demo_jobs
from linli.jobs.models import Employer, Posting, Seeker
from bench.common import time_pages

n, others = int(sys.argv[1]), int(sys.argv[2])
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
out = {}

def measure(group, user, urls):
    client = Client()
    client.force_login(user)
    timed = time_pages(client, urls, n)
    out.setdefault(group, []).extend(t for page in timed.values() for t in page["ms"])
    out.setdefault(group + " bytes", []).extend(page["bytes"] for page in timed.values())

nearby = reverse("jobs:nearby")
measure("nearby demo-seeker", User.objects.get(username="demo-seeker"), {
    "as opened": nearby, "5 km": nearby + "?radius=5", "20 km": nearby + "?radius=20",
    "category": nearby + "?radius=10&category=manufacturing",
})
rng = random.Random(5)
ids = sorted(Seeker.objects.filter(user__isnull=False, status="seeking").exclude(user__username="demo-seeker")
             .values_list("user_id", flat=True))
for uid in rng.sample(ids, min(others, len(ids))):
    measure("nearby other seekers", User.objects.get(pk=uid), {"as opened": nearby})
plant = Employer.objects.get(name=demo_jobs.PLANT_NAME)
open_post = plant.postings.get(status="open")
workshop = Posting.objects.filter(employer__name=demo_jobs.DEMO_EMPLOYER_NAME, status="open").order_by("pk").first()
talent = lambda p: reverse("jobs:talent", args=[p.pk])
measure("talent demo-employer", User.objects.get(username="demo-employer"), {
    "plant 30 km": talent(open_post) + "?radius=30", "plant 50 km": talent(open_post) + "?radius=50",
    "workshop 10 km": talent(workshop) + "?radius=10",
})
out["seekers"] = Seeker.objects.count()
from linli.core import clock
out["live"] = Posting.objects.filter(status="open", employer__status="verified", closes_on__gte=clock.today()).count()
print(json.dumps(out))
"""


def run(quick: bool) -> list[Result]:
    n = 10 if quick else 30
    seekers = "5000" if quick else "20000"
    tmp = tempfile.mkdtemp(prefix="linli-bench-jobs-")
    try:
        env = fresh_sqlite_env(tmp)
        for args in (
            ["migrate", "--noinput", "-v", "0"],
            ["load_demo", "--scale", SCALE, "-v", "0"],
            ["load_demo_jobs", "--seekers", seekers, "-v", "0"],
        ):
            done = manage(args, env, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"jobs pages bench: {args[0]} failed:\n{done.stderr[-3000:]}")
        env = {**env, "DJANGO_SETTINGS_MODULE": "linli.settings", "PYTHONPATH": str(ROOT)}
        runs = [script_json("jobs pages", TIME, [str(n), str(OTHERS)], env) for _ in range(1 if quick else RUNS)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results = []
    for group in ("nearby demo-seeker", "nearby other seekers", "talent demo-employer"):
        p95s = [percentile(r[group], 95) for r in runs]
        medians = [percentile(r[group], 50) for r in runs]
        note = (
            f"{len(runs[0][group])} requests a run, median {statistics.median(medians):.1f} ms, "
            f"≤ {max(runs[0][group + ' bytes']):,} bytes; {runs[0]['seekers']:,} seekers, "
            f"{runs[0]['live']:,} live postings"
        )
        results.append(Result(f"jobs {group} p95", statistics.median(p95s), "ms", TARGET_MS, runs=p95s, note=note))
    return results
