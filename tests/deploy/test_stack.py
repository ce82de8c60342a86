"""The CI stage of issue 11 §4: the production stack on this machine, and a smoke test through it.

``tests/stack.py`` starts what the systemd units of ``deploy/`` start in production — gunicorn with
``deploy/gunicorn.conf.py`` (two worker processes), a task worker (``manage.py linli_worker``), a
fresh PostgreSQL database and a Redis of its own — with ``LINLI_DEBUG=0`` and the secrets of a
production environment file. Through it, as the TLS proxy forwards requests: sign in (CSRF, Secure
cookies), open pages, post an Open311 request with a key made by ``manage.py open311_key create``,
and run an export task to the end (start, poll its progress, download the file, open it with
openpyxl).

It runs in the SQLite pass of ``make test`` (the stack brings its own PostgreSQL database, whatever
``DATABASE_URL`` the run has), and is skipped — saying why — only when no PostgreSQL answers.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.stack import Stack, pg_available, production_stack

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
        reason="starts its own PostgreSQL database: already run in the SQLite pass",
    ),
]

CATALOGUE = """
import sys
from linli.governance.services.events import ensure_catalogue
from linli.places.models import District
ensure_catalogue(District.objects.get(code=sys.argv[1]))
"""


@dataclass
class Running:
    stack: Stack
    world: dict[str, Any]
    api_key: str


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    reason = pg_available()
    if reason:
        pytest.skip(f"the production stack needs PostgreSQL: {reason}")
    with production_stack(workers=2, task_workers=1) as stack:
        world = stack.make_world()
        stack.shell(CATALOGUE, world["district"])
        key = stack.manage("open311_key", "create", "smoke-test kiosk", "--district", world["district"])
        yield Running(stack, world, key.stdout.strip().splitlines()[-1])


def test_sign_in_behind_the_proxy_sets_secure_cookies_and_pages_answer(running: Running) -> None:
    c = running.stack.client()
    login = c.get("/accounts/login/")
    assert login.status == 200
    assert any("Secure" in raw for raw in login.headers.get_all("Set-Cookie") or []), login.headers
    c.sign_in(running.world["users"]["community_worker"])
    assert "sessionid" in c.cookies
    ids = running.world["ids"]
    for path in ("/", f"/places/community/{ids['comm_a']}/", f"/places/building/{ids['building_a']}/"):
        r = c.get(path)
        assert r.status == 200, (path, r.status, r.body[:300], running.stack.logs())
        assert "Traceback" not in r.body
    plain = running.stack.client(https=False).get("/accounts/login/")
    assert plain.status == 301 and plain.headers["Location"].startswith("https://")


def test_open311_post_with_a_key_makes_an_event(running: Running) -> None:
    c = running.stack.client()
    data = {
        "api_key": running.api_key,
        "service_code": "C0102",
        "lat": "29.5012",
        "long": "106.5012",
        "description": "路灯不亮 Street light out (smoke test)",
        "idempotency_key": "smoke-1",
    }
    r = c.request("POST", "/open311/v2/requests.json", data=data, accept="application/json")
    assert r.status == 200, (r.status, r.body[:500], running.stack.logs())
    [answer] = r.json()
    again = c.request("POST", "/open311/v2/requests.json", data=data, accept="application/json")
    assert again.status == 200 and again.json()[0]["service_request_id"] == answer["service_request_id"]
    wrong = c.request("POST", "/open311/v2/requests.json", data={**data, "api_key": "nope"}, accept="*/*")
    assert wrong.status in (400, 403), wrong.body[:300]
    stored = running.stack.shell(
        "import sys\nfrom linli.governance.models import Event\n"
        "e = Event.objects.get(pk=int(sys.argv[1]))\nprint(e.channel, e.client_key)",
        str(answer["service_request_id"]),
    )
    assert stored.split() == ["open311", "smoke-1"]


def test_an_export_task_runs_to_the_end_on_the_worker(running: Running) -> None:
    from openpyxl import load_workbook

    stack = running.stack
    if stack.worker_command is None:
        pytest.skip(f"no task worker: {stack.worker_missing}")
    c = stack.client()
    c.sign_in(running.world["users"]["community_worker"])
    path = f"/places/community/{running.world['ids']['comm_a']}/export/dwellings.xlsx"
    token = c.csrf_token(path)
    started = c.post(path, {"csrfmiddlewaretoken": token})
    assert started.status in (302, 303), (started.status, started.body[:500])
    location = started.headers["Location"]
    found = re.search(r"/runs/(\d+)/$", location)
    assert found, location
    run = found.group(1)
    page = c.get(f"/runs/{run}/")
    assert page.status == 200 and "<progress" in page.body, page.body[:500]

    deadline = time.monotonic() + 120
    seen: list[str] = []
    while True:
        progress = c.get(f"/runs/{run}/progress/", headers={"HX-Request": "true"})
        assert progress.status == 200, progress.body[:300]
        status = re.search(r'data-status="(\w+)"', progress.body)
        assert status, progress.body[:300]
        seen.append(status.group(1))
        if status.group(1) not in ("queued", "running"):
            break
        assert 'hx-trigger="every' in progress.body, "an unfinished run's progress keeps polling"
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run} not done after 120 s ({seen[-1]}):\n{progress.body[:500]}\n{stack.logs()}")
        time.sleep(0.5)
    assert seen[-1] == "done", (seen, progress.body[:800], stack.logs())
    assert "hx-trigger" not in progress.body, "a finished run's progress stops polling"
    assert f"/runs/{run}/file/" in progress.body, progress.body[:800]

    download = c.get(f"/runs/{run}/file/", accept="*/*")
    assert download.status == 200, (download.status, download.body[:300])
    assert "spreadsheetml" in download.headers["Content-Type"], download.headers["Content-Type"]
    book = load_workbook(io.BytesIO(download.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) >= 24, rows[:3]  # community A: one building of 24 dwellings, plus the header

    other = stack.client()
    other.sign_in(running.world["outsider"])
    assert other.get(f"/runs/{run}/file/", accept="*/*").status in (403, 404)
