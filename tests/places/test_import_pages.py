"""The import preview pages and API: who may see, decide, confirm and cancel; the page flow;
refusals rendered in both languages with nothing written; personal data masked."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from linli.accounts.models import AccessLog
from linli.core import clock
from linli.places import models as m
from linli.places import services as svc
from tests.accounts.test_permission_matrix import roles, visible, where
from tests.places.test_import_preview import OWNER_A_ID, a_row, roster_state
from tests.places.test_import_service import make_csv, make_xlsx, tree

EDIT_ROLES = {"district_admin", "community_worker"}  # in community A (the outsider edits B only)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    clock.reset()
    yield
    clock.reset()


def _upload(buf: io.BytesIO, name: str) -> Any:
    buf.name = name
    buf.seek(0)
    return buf


def fresh(world: Any, rows: list[dict[str, Any]] | None = None) -> m.ImportPreview:
    rows = rows if rows is not None else [a_row(area="65.00")]
    return svc.preview_roster(world.users["community_worker"], make_csv(rows), "d.csv", community=world.comm_a)


def test_import_preview_matrix(world: Any, client_for: Any) -> None:
    """Pages and API of a preview of community A, for every role: outside the scope 404, inside
    without EDIT 403, with EDIT allowed — whoever uploaded it."""
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        seen = visible(role, where(world, world.comm_a))
        allowed = role in EDIT_ROLES
        read = 200 if allowed else 403 if seen else 404
        write = 303 if allowed else 403 if seen else 404
        preview = fresh(world)
        r = c.get(reverse("places:io_preview", args=[preview.pk]))
        if r.status_code != read:
            failures.append(f"{role} GET preview → {r.status_code}, expected {read}")
        r = c.get(f"/api/v1/imports/{preview.pk}/")
        if r.status_code != (200 if allowed else 404):  # the API hides what one may not act on
            failures.append(f"{role} API GET preview → {r.status_code}")
        listed = {row["id"] for row in c.get("/api/v1/imports/").json()["results"]}
        if (preview.pk in listed) != allowed:
            failures.append(f"{role} API list shows the preview: {preview.pk in listed}")
        for name in ("io_preview_cancel", "io_preview_confirm"):
            p = fresh(world) if name == "io_preview_confirm" else preview
            before = m.ImportPreview.objects.get(pk=p.pk).status
            r = c.post(reverse(f"places:{name}", args=[p.pk]))
            if r.status_code != write:
                failures.append(f"{role} POST {name} → {r.status_code}, expected {write}")
            if not allowed and m.ImportPreview.objects.get(pk=p.pk).status != before:
                failures.append(f"{role} POST {name} changed the preview")
            m.ImportPreview.objects.filter(pk=p.pk).update(status="cancelled")
        conflict = fresh(world, [a_row(owner_name="吴十")])
        r = c.post(reverse("places:io_preview_resolve", args=[conflict.pk]), {"c1": "stop"})
        if r.status_code != write:
            failures.append(f"{role} POST resolve → {r.status_code}, expected {write}")
        r = c.post(f"/api/v1/imports/{conflict.pk}/cancel/")
        if r.status_code != (404 if not allowed else 409):  # allowed: it was stopped just above
            failures.append(f"{role} API cancel → {r.status_code}")
        m.ImportPreview.objects.filter(pk__in=[preview.pk, conflict.pk]).update(status="cancelled")
    assert not failures, "\n".join(failures)


def test_page_flow_with_a_conflict(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    r = c.post(
        reverse("places:io_import", args=[world.comm_a.pk]),
        {"file": _upload(make_csv([a_row(owner_name="吴十")]), "d.csv")},
    )
    assert r.status_code == 303 and r["Location"].startswith("/runs/")  # a worker reads the file
    run = c.get(r["Location"])
    assert run.status_code == 200 and 'data-status="done"' in run.content.decode()
    preview = m.ImportPreview.objects.get()
    url = reverse("places:io_preview", args=[preview.pk])
    assert url in run.content.decode()  # "Continue" to the preview
    progress = c.get(r["Location"] + "progress/", HTTP_HX_REQUEST="true")
    assert progress["HX-Redirect"] == url and "hx-trigger" not in progress.content.decode()
    logs = AccessLog.objects.filter(what="view_people").count()
    html = c.get(url).content.decode()
    assert 'data-testid="conflict-c1"' in html and "吴十" in html and "张三" in html
    assert OWNER_A_ID not in html and world.owner_a.id_number_masked in html, "masked"
    assert 'data-testid="decide-first"' in html and "disabled" in html.split('data-testid="confirm"')[1][:40]
    assert AccessLog.objects.filter(what="view_people").count() == logs + 1, "showing owners is logged"
    # confirming without a decision: refused, shown in the page's language, nothing written
    before = roster_state()
    r = c.post(reverse("places:io_preview_confirm", args=[preview.pk]))
    assert r.status_code == 409 and roster_state() == before
    html = r.content.decode()
    assert "人员冲突未确认" in html and "not decided yet" not in html
    # decide on the page, then confirm
    r = c.post(reverse("places:io_preview_resolve", args=[preview.pk]), {"c1": "rename"})
    assert r.status_code == 303
    html = c.get(url).content.decode()
    assert 'data-testid="decide-first"' not in html and "吴十" in html
    assert 'data-testid="decision-log"' in html and "community_worker" in html
    r = c.post(reverse("places:io_preview_confirm", args=[preview.pk]))
    assert r.status_code == 303 and r["Location"].startswith("/runs/")
    assert 'data-status="done"' in c.get(r["Location"]).content.decode()
    world.owner_a.refresh_from_db()
    assert world.owner_a.name == "吴十"


def test_cancel_on_the_page(world: Any, client_for: Any) -> None:
    c = client_for(world.users["district_admin"])
    preview = fresh(world)
    before = roster_state()
    r = c.post(reverse("places:io_preview_cancel", args=[preview.pk]))
    assert r.status_code == 303 and roster_state() == before
    html = c.get(r["Location"]).content.decode()
    assert 'data-testid="preview-cancelled"' in html and 'data-testid="confirm"' not in html
    r = c.post(reverse("places:io_preview_confirm", args=[preview.pk]))
    assert r.status_code == 409 and "取消" in r.content.decode() and "cancelled" in r.content.decode()


def test_import_page_lists_recent_uploads_and_refusals_show_the_good_rows(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    preview = fresh(world)
    page = c.get(reverse("places:io_import", args=[world.comm_a.pk])).content.decode()
    assert 'data-testid="recent-previews"' in page and reverse("places:io_preview", args=[preview.pk]) in page
    bs, ds = tree()
    ds[0]["area"] = "abc"
    r = c.post(reverse("places:io_import", args=[world.comm_a.pk]), {"file": _upload(make_xlsx(bs, ds), "r.xlsx")})
    assert r.status_code == 303  # read by a worker: its run lists every problem by row and column
    html = c.get(r["Location"]).content.decode()
    assert 'data-status="failed"' in html and 'data-testid="run-errors"' in html
    assert m.ImportPreview.objects.count() == 1


def test_english_page(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    preview = fresh(world, [a_row(area="66.00", owner_name="吴十")])
    html = c.get(reverse("places:io_preview", args=[preview.pk])).content.decode()
    assert "尚未写入任何数据" in html and "确认导入" in html and "同一人" in html
    assert "Nothing has been written yet." not in html
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = c.get(reverse("places:io_preview", args=[preview.pk])).content.decode()
    assert "Nothing has been written yet." in html and "Apply these changes" in html and "The same person" in html
    assert "uploaded: " in html or "uploaded " in html


# --- API --------------------------------------------------------------------------------------------


def _run_of(c: Any, r: Any) -> dict[str, Any]:
    """The run a 202 points to (the ImmediateBackend of the tests has already finished it)."""
    assert r.status_code == 202, r.content
    assert r["Location"].endswith(f"/api/v1/runs/{r.json()['run']}/") and r.json()["api"] == r["Location"]
    run = c.get(r["Location"])
    assert run.status_code == 200, run.content
    return run.json()


def test_api_two_steps(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    before = roster_state()
    r = c.post(
        "/api/v1/imports/",
        {"community": world.comm_a.pk, "file": _upload(make_csv([a_row(owner_name="吴十")]), "d.csv")},
    )
    run = _run_of(c, r)
    assert run["status"] == "done" and run["kind"] == "places.import" and run["file"] is None
    assert roster_state() == before
    pid = run["result"]["preview"]
    body = c.get(f"/api/v1/imports/{pid}/").json()
    assert body["status"] == "pending" and body["plan"]["conflicts"][0]["kind"] == "id_name"
    assert OWNER_A_ID not in c.get(f"/api/v1/imports/{pid}/").content.decode()
    r = c.post(f"/api/v1/imports/{pid}/confirm/")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "unresolved_conflicts"
    assert roster_state() == before
    r = c.post(f"/api/v1/imports/{pid}/resolve/", {"decisions": {"c1": "rename"}}, content_type="application/json")
    assert r.status_code == 200 and r.json()["resolutions"] == {"c1": "rename"}
    run = _run_of(c, c.post(f"/api/v1/imports/{pid}/confirm/"))
    assert run["status"] == "done" and run["errors"] == []
    body = c.get(f"/api/v1/imports/{pid}/").json()
    assert body["status"] == "applied" and body["result"]["counts"]["people"]["changed"] == 1
    r = c.post(f"/api/v1/imports/{pid}/confirm/")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "already_applied"
    assert r.json()["errors"][0]["zh"] and r.json()["errors"][0]["en"]
    # the runs are the starter's alone
    assert c.get("/api/v1/runs/").json()["results"][0]["id"] == run["id"]
    other = client_for(world.users["street_command"])
    assert other.get(f"/api/v1/runs/{run['id']}/").status_code == 404
    assert run["id"] not in {x["id"] for x in other.get("/api/v1/runs/").json()["results"]}


def test_api_refused_upload_and_cancel(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    bs, ds = tree()
    ds[0]["area"] = "abc"
    r = c.post("/api/v1/imports/", {"community": world.comm_a.pk, "file": _upload(make_xlsx(bs, ds), "r.xlsx")})
    run = _run_of(c, r)
    assert run["status"] == "failed" and run["message"]["zh"] and run["message"]["en"]
    assert run["errors"][0]["row"] == 2 and "area" in run["errors"][0]["column"]
    assert run["result"]["counts"]["dwellings"]["created"] == 3 and m.ImportPreview.objects.count() == 0
    r = c.post("/api/v1/imports/", {"community": world.comm_b.pk, "file": _upload(make_csv([a_row()]), "d.csv")})
    assert r.status_code == 404
    r = c.post(
        "/api/v1/imports/", {"community": world.comm_a.pk, "file": _upload(make_csv([a_row(area="67")]), "d.csv")}
    )
    pid = _run_of(c, r)["result"]["preview"]
    before = roster_state()
    r = c.post(f"/api/v1/imports/{pid}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and roster_state() == before


def test_schema_documents_the_import_endpoints(world: Any, client_for: Any) -> None:
    schema = client_for(world.users["community_worker"]).get("/api/v1/schema/").content.decode()
    for path in ("/api/v1/imports/", "/api/v1/imports/{id}/confirm/", "/api/v1/imports/{id}/cancel/"):
        assert path in schema
    assert "/api/v1/runs/{id}/" in schema and "RunAccepted" in schema and "multipart/form-data" in schema
    assert "Location" in schema


def test_api_confirming_someone_elses_preview_without_the_right(world: Any, client_for: Any) -> None:
    preview = fresh(world)
    before = roster_state()
    for user, status in ((world.outsider, 404), (world.users["street_command"], 404), (world.users["resident"], 404)):
        r = client_for(user).post(f"/api/v1/imports/{preview.pk}/confirm/")
        assert r.status_code == status
        error = r.json()["errors"][0]
        assert error["zh"] and error["en"] and error["zh"] != error["en"]
    # the page answers 403 to a role that sees the community but may not edit it
    r = client_for(world.users["street_command"]).post(reverse("places:io_preview_confirm", args=[preview.pk]))
    assert r.status_code == 403
    assert roster_state() == before and m.ImportPreview.objects.get(pk=preview.pk).status == "pending"


def test_import_roster_enqueue_starts_the_same_run(world: Any, tmp_path: Any) -> None:
    """``manage.py import_roster FILE --enqueue --place PATH`` hands the file to a worker (the
    tests' ImmediateBackend runs it at once) and prints the run; without --place it refuses."""
    from django.core.management import CommandError, call_command

    from linli.runs.models import Run

    path = tmp_path / "d.csv"
    path.write_bytes(make_csv([a_row(area="66.00")]).getvalue())
    user = world.users["community_worker"].username
    out = io.StringIO()
    before = roster_state()
    call_command("import_roster", str(path), "--user", user, "--enqueue", "--place", world.comm_a.path, stdout=out)
    run = Run.objects.get()
    assert f"run {run.pk} done" in out.getvalue() and reverse("runs:detail", args=[run.pk]) in out.getvalue()
    preview = m.ImportPreview.objects.get(pk=run.result["preview"])
    assert preview.status == "pending" and preview.community_id == world.comm_a.pk and roster_state() == before
    with pytest.raises(CommandError):
        call_command("import_roster", str(path), "--user", user, "--enqueue", "--place", "9/9/")
