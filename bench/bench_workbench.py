"""The workbench (工作台) on the demo district: p95 of every list and of the whole page, per role,
target ≤ 150 ms each (issue 12, "Measured in `make bench`").

The scratch database is the demo district (``bench_demo.demo_db()``) with its consultation story
(``load_demo_consent``: visits, surveys, ballots, notices) and its year of grid events
(``load_demo_events``), and the demo logins. A subprocess (``linli.settings``, LINLI_DEBUG=1 as under
`make run`) signs in as each demo role — demo-grid, demo-street, demo-dept, demo-community,
demo-resident, demo-admin — and times, N times each after warm-ups, every list function of
``linli/workbench/queries`` that role's page calls (each with a fresh user object, so the grants
are read again as on a request), then the whole page through Django's test client.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench.bench_demo import _copy_sqlite, demo_db
from bench.common import Result, fresh_sqlite_env, manage, percentile, script_json

TARGET_MS = 150.0
ROLES = ("demo-grid", "demo-street", "demo-dept", "demo-community", "demo-resident", "demo-admin")

SCRIPT = r"""
import json, sys, time
import django
django.setup()
from django.test import Client
from django.urls import reverse
from django.utils import translation
from linli.accounts.models import User
from linli.core import clock
from linli.workbench import permissions, views
from linli.workbench.queries import command, community, department, district, grid, resident

n, warm = int(sys.argv[1]), 3
roles = sys.argv[2].split(",")
LISTS = {
    "command": [command.urgent, command.to_register, command.to_dispatch, command.to_approve, command.late],
    "grid": [grid.to_verify, grid.returned, grid.not_visited, grid.my_open_reports],
    "community": [community.open_ballots, community.visits_due, community.notices_with_objections],
    "resident": [resident.ballots_to_vote, resident.my_reports, resident.notices_for_me],
    "district": [district.projects_by_phase, district.open_cases, district.turnout],
}
DEPT = [department.to_accept, department.to_handle, department.due_soon, department.late]


def fresh(name):
    return User.objects.get(username=name)


def timed(fn, k):
    for _ in range(warm):
        fn()
    out = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


out = {}
translation.activate("zh-hans")
for name in roles:
    user = fresh(name)
    now = clock.now()
    sections = permissions.sections_of(user)
    lists = {}
    counts = {}
    for section in sections:
        if section == "department":
            for dept in department.departments(user):
                for fn in DEPT:
                    key = f"department.{fn.__name__}"
                    lists[key] = timed(lambda fn=fn, dept=dept: fn(fresh(name), dept, now), n)
                    counts[key] = fn(user, dept, now).count
        else:
            for fn in LISTS[section]:
                key = f"{section}.{fn.__name__}"
                lists[key] = timed(lambda fn=fn: fn(fresh(name), now), n)
                counts[key] = fn(user, now).count
    client = Client()
    client.force_login(user)
    page = timed(lambda: client.get(reverse("workbench:home")), n)
    r = client.get(reverse("workbench:home"))
    assert r.status_code == 200, (name, r.status_code)
    out[name] = {"sections": sections, "lists": lists, "counts": counts, "page": page, "bytes": len(r.content)}
print(json.dumps(out))
"""


def run(quick: bool) -> list[Result]:
    n = 10 if quick else 40
    tmp = tempfile.mkdtemp(prefix="linli-bench-workbench-")
    try:
        env = fresh_sqlite_env(tmp)
        _copy_sqlite(demo_db(), Path(tmp) / "bench.sqlite3")
        manage(["migrate", "--noinput", "-v", "0"], env)
        manage(["load_demo_consent"], env)
        manage(["load_demo_events"], env)
        env["LINLI_DEMO_PASSWORD"] = "bench-only-" + os.urandom(6).hex()
        manage(["demo_logins"], env)
        env["DJANGO_SETTINGS_MODULE"] = "linli.settings"
        data = script_json("workbench", SCRIPT, [str(n), ",".join(ROLES)], env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results_of(data, n)


def results_of(data: dict, n: int) -> list[Result]:
    results = []
    for role, d in data.items():
        for key, ms in d["lists"].items():
            note = f"{n} calls, median {percentile(ms, 50):.1f} ms, count {d['counts'][key]:,}"
            results.append(Result(f"workbench {role} {key} p95", percentile(ms, 95), "ms", TARGET_MS, note=note))
        ms = d["page"]
        shown = ", ".join(d["sections"]) or "—"
        note = f"sections {shown}; {n} requests, median {percentile(ms, 50):.1f} ms, {d['bytes']:,} bytes"
        results.append(Result(f"workbench {role} whole page p95", percentile(ms, 95), "ms", TARGET_MS, note=note))
    return results
