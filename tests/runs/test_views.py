"""Run pages: only the person who started a run, while still allowed its action on its target,
sees it and its file (everyone else 404); the progress partial stops polling when done; an expired
file is a bilingual 410."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from linli.accounts.models import RoleGrant
from linli.core import clock
from linli.runs import services as svc
from linli.runs.models import Run
from tests.accounts.test_permission_matrix import roles
from tests.runs.tasks import start_count

pytestmark = pytest.mark.django_db


def _run(world: Any, **kwargs: Any) -> Run:
    return start_count(world.users["community_worker"], world.comm_a, **kwargs)


def test_run_pages_matrix(world: Any, client_for: Any) -> None:
    run = _run(world, rows=5)
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        want = 200 if user == world.users["community_worker"] else 404
        for name in ("runs:detail", "runs:progress", "runs:file"):
            r = c.get(reverse(name, args=[run.pk]))
            if r.status_code != want:
                failures.append(f"{role} {name} → {r.status_code}, expected {want}")
        r = c.get(reverse("runs:list"))
        if r.status_code != 200 or ((reverse("runs:detail", args=[run.pk]) in r.content.decode()) != (want == 200)):
            failures.append(f"{role} runs:list")
    assert not failures, "\n".join(failures)
    assert client_for(world.users["community_worker"]).get("/runs/99999999/").status_code == 404


def test_run_api_matrix(world: Any, client_for: Any) -> None:
    """GET /api/v1/runs/{id}/ and the list: the starter only; anyone else 404 / not listed."""
    run = _run(world, rows=5)
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        mine = user == world.users["community_worker"]
        r = c.get(f"/api/v1/runs/{run.pk}/")
        if r.status_code != (200 if mine else 404):
            failures.append(f"{role} GET run → {r.status_code}")
        elif mine:
            body = r.json()
            if (body["status"], body["done"], body["total"]) != ("done", 5, 5) or not body["file"]:
                failures.append(f"{role} GET run body {body}")
        listed = {x["id"] for x in c.get("/api/v1/runs/").json()["results"]}
        if (run.pk in listed) != mine:
            failures.append(f"{role} list shows the run: {run.pk in listed}")
    assert not failures, "\n".join(failures)
    c = client_for(world.users["community_worker"])
    assert c.get("/api/v1/runs/99999999/").status_code == 404
    assert c.post(f"/api/v1/runs/{run.pk}/").status_code == 405


def test_the_starter_who_lost_the_permission_sees_nothing(world: Any, client_for: Any) -> None:
    run = _run(world, rows=2)
    user = world.users["community_worker"]
    RoleGrant.objects.filter(user=user).delete()
    from linli.accounts.permissions import forget_grants

    forget_grants(user)
    assert client_for(user).get(reverse("runs:file", args=[run.pk])).status_code == 404


def test_done_page_and_file(world: Any, client_for: Any) -> None:
    run = _run(world, rows=3)
    c = client_for(world.users["community_worker"])
    html = c.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "<progress" in html and 'data-status="done"' in html and "hx-trigger" not in html
    assert "数了 3 行" in html and reverse("runs:file", args=[run.pk]) in html
    r = c.get(reverse("runs:file", args=[run.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"a,b\n1,2\n"
    assert 'filename="rows.csv"' in r["Content-Disposition"]
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "counted 3 rows" in c.get(reverse("runs:detail", args=[run.pk])).content.decode()


def test_a_running_run_polls_and_shows_rows_done(world: Any, client_for: Any) -> None:
    run = _run(world, rows=3)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, done=1, total=3)
    from django.core.cache import caches

    caches["progress"].set(svc.progress_key(run.pk), {"done": 2, "total": 3, "note": ""})
    html = client_for(world.users["community_worker"]).get(reverse("runs:progress", args=[run.pk])).content.decode()
    assert (
        'hx-trigger="every 1s"' in html and 'value="2"' in html and 'max="3"' in html and 'aria-live="polite"' in html
    )


def test_an_expired_file_is_gone(world: Any, client_for: Any) -> None:
    run = _run(world, rows=2)
    c = client_for(world.users["community_worker"])
    Run.objects.filter(pk=run.pk).update(expires_at=clock.now() - timedelta(minutes=1))
    r = c.get(reverse("runs:file", args=[run.pk]))
    assert r.status_code == 410
    assert "已经删除" in r.content.decode() and "deleted" not in r.content.decode()  # the page's language only
    c.cookies["django_language"] = "en"
    r = c.get(reverse("runs:file", args=[run.pk]))
    assert r.status_code == 410 and "deleted" in r.content.decode() and "已经删除" not in r.content.decode()
    c.cookies["django_language"] = "zh-hans"
    assert svc.expire() == 1
    assert c.get(reverse("runs:file", args=[run.pk])).status_code == 410
    assert 'data-testid="run-file-gone"' in c.get(reverse("runs:detail", args=[run.pk])).content.decode()


def test_errors_are_paged(world: Any, client_for: Any) -> None:
    run = _run(world, rows=1)
    errors = [{"row": i, "column": "面积", "zh": f"第{i}行错", "en": f"bad {i}"} for i in range(2, 252)]
    Run.objects.filter(pk=run.pk).update(status=Run.Status.FAILED, errors=errors)
    c = client_for(world.users["community_worker"])
    html = c.get(reverse("runs:detail", args=[run.pk]) + "?page=3").content.decode()
    assert "第202行错" in html and "第201行错" not in html
    assert c.get(reverse("runs:detail", args=[run.pk]) + "?page=abc").status_code == 200
