"""Server time of the community and building pages on the demo district, target p95 ≤ 150 ms.

A subprocess (DJANGO_SETTINGS_MODULE=linli.settings, LINLI_DEBUG=1 as under `make run`) on a copy
of the demo database from ``bench_demo.demo_db()``, signed in as demo-community (force_login),
asks for /places/community/<劳动三村>/ and /places/building/<one of its buildings>/: 5 warm-ups,
then N timed requests each (Django's test client: the whole request/response cycle in-process,
no network).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bench_demo import _copy_sqlite, demo_db
from bench.common import ROOT, Result, fresh_sqlite_env, manage, percentile

TARGET_MS = 150.0

SCRIPT = r"""
import json, os, statistics, sys, time
import django
django.setup()
from django.test import Client
from django.urls import reverse
from linli.accounts.models import User
from linli.places import models as m
from linli.demo.places import LAODONG

n, warm = int(sys.argv[1]), 5
client = Client()
client.force_login(User.objects.get(username="demo-community"))
community = m.Community.objects.get(name=LAODONG)
building = m.Building.objects.filter(community=community).order_by("path").first()
from bench.common import time_pages
urls = {
    "community": reverse("places:community", args=[community.pk]),
    "building": reverse("places:building", args=[building.pk]),
}
out = time_pages(client, urls, n, warm)
print(json.dumps(out))
"""


def run(quick: bool) -> list[Result]:
    n = 20 if quick else 60
    tmp = tempfile.mkdtemp(prefix="linli-bench-pages-")
    try:
        env = fresh_sqlite_env(tmp)
        _copy_sqlite(demo_db(), Path(tmp) / "bench.sqlite3")
        env["LINLI_DEMO_PASSWORD"] = "bench-only-" + os.urandom(6).hex()
        manage(["demo_logins"], env)
        env["DJANGO_SETTINGS_MODULE"] = "linli.settings"
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(n)], env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"page bench failed:\n{proc.stderr[-3000:]}")
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results = []
    for name, label in (("community", "community page 劳动三村"), ("building", "building page")):
        ms = data[name]["ms"]
        note = f"{data[name]['url']}, median {percentile(ms, 50):.1f} ms, {n} requests, {data[name]['bytes']:,} bytes"
        results.append(Result(f"{label} server time p95", percentile(ms, 95), "ms", target=TARGET_MS, note=note))
    return results
