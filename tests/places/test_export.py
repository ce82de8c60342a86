"""The import page and the .xlsx exports: permission, bilingual problems, masked personal data."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse

from linli.accounts.models import AccessLog
from linli.core.exports import write_xlsx
from linli.places import models as m
from linli.runs.models import Run
from tests import exports as bg
from tests.places.test_import_service import building, counts, dwelling, make_xlsx, tree, valid_id


def _upload(buf: io.BytesIO, name: str) -> Any:
    buf.name = name
    buf.seek(0)
    return buf


def test_import_page_get_and_good_post(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    url = reverse("places:io_import", args=[world.comm_a.pk])
    page = c.get(url)
    assert page.status_code == 200
    assert reverse("places:io_template").encode() in page.content
    assert b'data-testid="two-steps"' in page.content
    bs, ds = tree()
    before = counts()
    r = c.post(url, {"what": "roster", "file": _upload(make_xlsx(bs, ds), "roster.xlsx")})
    assert r.status_code == 303 and r["Location"].startswith("/runs/"), "a worker reads the file"
    preview = m.ImportPreview.objects.get()
    run = c.get(r["Location"]).content.decode()
    assert 'data-status="done"' in run and reverse("places:io_preview", args=[preview.pk]) in run
    assert counts() == before, "uploading writes nothing but the preview"
    page = c.get(reverse("places:io_preview", args=[preview.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="nothing-written"' in html and 'data-testid="consequences"' in html
    assert "新建小区0002 1栋 1-101" in html and 'data-testid="confirm"' in html
    r = c.post(reverse("places:io_preview_confirm", args=[preview.pk]))
    assert r.status_code == 303 and r["Location"].startswith("/runs/"), "a worker applies it"
    assert 'data-status="done"' in c.get(r["Location"]).content.decode()
    page = c.get(reverse("places:io_preview", args=[preview.pk]))
    assert b'data-testid="import-result"' in page.content and b'data-testid="confirm"' not in page.content
    assert m.Dwelling.objects.filter(building__compound__code="0002", building__community=world.comm_a).count() == 4


def test_import_page_bad_file_lists_problems_in_both_languages(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    bs, ds = tree()
    ds[2]["area"] = "62.345"
    before = counts()
    r = c.post(reverse("places:io_import", args=[world.comm_a.pk]), {"file": _upload(make_xlsx(bs, ds), "roster.xlsx")})
    assert r.status_code == 303  # read by a worker: its run lists every problem by row and column
    html = c.get(r["Location"]).content.decode()
    assert 'data-status="failed"' in html and 'data-testid="run-errors"' in html
    assert "小数位数过多" in html and '<td class="num" data-label="行">4</td>' in html
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = c.get(r["Location"]).content.decode()
    assert "too many decimal places" in english, "the English page has the English text"
    assert counts() == before and not m.ImportPreview.objects.exists()


def test_import_page_other_community_rows_refused(world: Any, client_for: Any) -> None:
    c = client_for(world.admin)
    r = c.post(
        reverse("places:io_import", args=[world.comm_b.pk]),
        {"file": _upload(make_xlsx([building()], [dwelling()]), "roster.xlsx")},
    )
    assert r.status_code == 303
    html = c.get(r["Location"]).content.decode()
    assert 'data-status="failed"' in html and "不是本页的社区" in html


def test_outsider_gets_404_on_import_and_export(world: Any, client_for: Any) -> None:
    c = client_for(world.outsider)
    assert c.get(reverse("places:io_import", args=[world.comm_a.pk])).status_code == 404
    assert (
        c.post(
            reverse("places:io_import", args=[world.comm_a.pk]), {"file": _upload(make_xlsx(*tree()), "r.xlsx")}
        ).status_code
        == 404
    )
    for what in ("buildings", "dwellings", "residents", "grids"):
        assert c.get(reverse("places:io_export", args=["community", world.comm_a.pk, what])).status_code == 404
    assert c.get(reverse("places:io_export", args=["community", world.comm_b.pk, "buildings"])).status_code == 200


def test_roles_without_edit_or_export(world: Any, client_for: Any) -> None:
    force = client_for(world.users["grid_force"])
    assert force.get(reverse("places:io_export", args=["grid", world.grid_a.pk, "residents"])).status_code in {403, 404}
    assert force.get(reverse("places:io_export", args=["grid", world.grid_a.pk, "buildings"])).status_code in {403, 404}
    street = client_for(world.users["street_command"])
    assert street.get(reverse("places:io_import", args=[world.comm_a.pk])).status_code == 403
    assert (
        client_for(world.users["community_worker"])
        .get(reverse("places:io_export", args=["dwelling", world.dwelling_a.pk, "residents"]))
        .status_code
        == 404
    )
    assert (
        client_for(world.users["community_worker"])
        .get(reverse("places:io_export", args=["community", world.comm_a.pk, "secrets"]))
        .status_code
        == 404
    )


def _sheet(c: Any, url: str) -> list[tuple[Any, ...]]:
    """Start the export at ``url`` (POST), let its task run, download the run's file, read it."""
    _run, response = bg.export_file(c, url)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(bg.workbook(response).worksheets[0].iter_rows(values_only=True))


def test_residents_export_is_masked_and_logged(world: Any, client_for: Any) -> None:
    c = client_for(world.users["grid_leader"])
    before = AccessLog.objects.filter(what="export").count()
    rows = _sheet(c, reverse("places:io_export", args=["grid", world.grid_a.pk, "residents"]))
    header, data = rows[0], rows[1:]
    assert "证件号(打码) ID number (masked)" in header
    text = repr(data)
    assert "张三" in text and "李四" not in text  # grid A only
    assert world.owner_a.id_number_masked in text and world.owner_a._id_number() not in text
    assert world.owner_a._phone() not in text and world.owner_a.phone_masked in text
    log = AccessLog.objects.filter(what="export").latest("at")
    assert AccessLog.objects.filter(what="export").count() == before + 1
    assert log.user == world.users["grid_leader"] and log.object_type == "places.Grid"


def test_dwellings_export_round_trips_through_import(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    rows = _sheet(c, reverse("places:io_export", args=["community", world.comm_a.pk, "dwellings"]))
    assert rows[0][0] == "社区编码 community_code" and len(rows) == 1 + 24
    assert rows[1][0] == "500107001001"
    assert isinstance(rows[1][6], int | float) and Decimal(str(rows[1][6])) == world.dwelling_a.area
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "房屋 dwellings"
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    before = counts()
    r = c.post(reverse("places:io_import", args=[world.comm_a.pk]), {"file": _upload(buf, "back.xlsx")})
    assert r.status_code == 303, r.content.decode()[-2000:]
    preview = m.ImportPreview.objects.get()
    assert preview.plan["created"] == preview.plan["changed"] == preview.plan["removed"] == []
    assert preview.plan["counts"]["dwellings"]["unchanged"] == 24
    r = c.post(reverse("places:io_preview_confirm", args=[preview.pk]))
    assert r.status_code == 303
    assert {k: v for k, v in counts().items() if k != "log"} == {k: v for k, v in before.items() if k != "log"}


def test_buildings_and_grids_exports(world: Any, client_for: Any) -> None:
    c = client_for(world.users["district_admin"])
    rows = _sheet(c, reverse("places:io_export", args=["district", world.district.pk, "buildings"]))
    assert len(rows) == 1 + 3 and rows[1][6] == 6
    grids = _sheet(c, reverse("places:io_export", args=["street", world.street1.pk, "grids"]))
    assert [g[0] for g in grids[1:]] == [world.grid_a.code, world.grid_b.code]
    assert grids[1][4] == 24  # dwellings in grid A


def test_template_download(world: Any, client_for: Any) -> None:
    r = client_for(world.users["community_worker"]).get(reverse("places:io_template"))
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:2] == ["楼栋 buildings", "房屋 dwellings"]


def test_upload_above_the_limit_gets_413(world: Any, client_for: Any, settings: Any) -> None:
    settings.LINLI_MAX_UPLOAD_BYTES = 1024 * 1024
    before = counts()
    big = io.BytesIO(b"x" * (1024 * 1024 + 10))
    r = client_for(world.users["community_worker"]).post(
        reverse("places:io_import", args=[world.comm_a.pk]), {"file": _upload(big, "big.csv")}
    )
    assert r.status_code == 413
    html = r.content.decode()
    assert "上传内容过大" in html and "too large" not in html  # a Chinese page speaks Chinese only
    assert counts() == before


def test_boundaries_through_the_page(world: Any, client_for: Any) -> None:
    import json

    ring = [[106.5, 29.5], [106.501, 29.5], [106.501, 29.501], [106.5, 29.501], [106.5, 29.5]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"path": world.building_a.path},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    c = client_for(world.users["community_worker"])
    url = reverse("places:io_import", args=[world.comm_a.pk])
    r = c.post(url, {"what": "boundaries", "file": _upload(io.BytesIO(json.dumps(doc).encode()), "b.geojson")})
    assert r.status_code == 303 and r["Location"].startswith("/runs/")
    world.building_a.refresh_from_db()
    assert world.building_a.boundary is None
    preview = m.ImportPreview.objects.get()
    page = c.get(reverse("places:io_preview", args=[preview.pk])).content.decode()
    assert preview.kind == "boundaries" and "Polygon" in page
    assert c.post(reverse("places:io_preview_confirm", args=[preview.pk])).status_code == 303
    world.building_a.refresh_from_db()
    assert world.building_a.boundary["type"] == "Polygon"
    r = c.post(url, {"what": "boundaries", "file": _upload(io.BytesIO(b"{oops"), "b.geojson")})
    assert r.status_code == 303
    html = c.get(r["Location"]).content.decode()
    assert 'data-status="failed"' in html and "JSON" in html


def test_write_xlsx_types_and_formula_safety(tmp_path: Any) -> None:
    out = tmp_path / "x.xlsx"
    rows = [{"a": "=cmd|' /C calc'!A0", "b": Decimal("62.35"), "c": 3, "d": None, "e": "中文\x07"}]
    cols = [(f"{zh} {k}", lambda r, k=k: r[k]) for zh, k in zip("甲乙丙丁戊", "abcde", strict=True)]
    write_xlsx(str(out), "表 sheet", cols, rows)
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    # text, never a formula, with the apostrophe OWASP recommends (linli.core.exports.neutralise)
    assert ws["A2"].data_type == "s" and ws["A2"].value == "'=cmd|' /C calc'!A0"
    assert ws["B2"].value == 62.35 and ws["B2"].number_format == "0.00"
    assert ws["C2"].value == 3 and ws["D2"].value is None and ws["E2"].value == "中文"
    assert ws.column_dimensions["A"].width > 8


def test_import_command(world: Any, tmp_path: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    good = tmp_path / "good.xlsx"
    good.write_bytes(make_xlsx(*tree()).getvalue())
    out = io.StringIO()
    call_command("import_roster", str(good), user="community_worker", quiet=True, stdout=out)
    assert "dwellings" in out.getvalue() and "+4" in out.getvalue()
    bs, ds = tree()
    ds[0].update(owner_name="王五", owner_id_number=valid_id(1)[:-1] + "X" if valid_id(1)[-1] != "X" else "0")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(make_xlsx(bs, ds).getvalue())
    err = io.StringIO()
    before = counts()
    with pytest.raises(CommandError):
        call_command("import_roster", str(bad), user="community_worker", quiet=True, stderr=err)
    assert "第 2 行" in err.getvalue() and "Row 2" in err.getvalue()
    assert counts() == before
    tpl = tmp_path / "t.xlsx"
    call_command("roster_template", str(tpl), stdout=io.StringIO())
    assert openpyxl.load_workbook(tpl).sheetnames[-1] == "说明 instructions"


def test_compounds_export_is_scoped_and_counts(world: Any, client_for: Any) -> None:
    c = client_for(world.users["street_command"])
    rows = _sheet(c, reverse("places:io_export", args=["street", world.street1.pk, "compounds"]))
    header, body = rows[0], rows[1:]
    assert "小区名称 compound_name" in header
    names = {row[header.index("小区名称 compound_name")] for row in body}
    assert names == {world.compound_a.name, world.compound_b.name}  # street 2's compound is not there
    a = next(row for row in body if row[header.index("小区名称 compound_name")] == world.compound_a.name)
    assert a[header.index("房屋数 dwellings")] == world.building_a.dwellings.count()
    assert a[header.index("按年代可改造 eligible by age")] == "是"
    # the community worker of B exports only B's compound, even asked for the whole street
    url = reverse("places:io_export", args=["street", world.street1.pk, "compounds"])
    assert client_for(world.outsider).get(url).status_code == 404
    assert bg.start(client_for(world.outsider), url).status_code == 404 and not Run.objects.filter(user=world.outsider)


def test_export_runs_in_the_background_and_the_file_is_guarded(world: Any, client_for: Any, settings: Any) -> None:
    """GET shows the button (nothing started); POST starts a run → its page shows the rows done and
    the download; another person gets a 404 on the run and its file; the starter who lost the right
    too; after expiry the file is a bilingual 410; the residents export is logged once, by the task."""
    from datetime import timedelta

    from django.utils import timezone

    leader = world.users["grid_leader"]
    c = client_for(leader)
    url = reverse("places:io_export", args=["grid", world.grid_a.pk, "residents"])
    page = c.get(url)
    assert page.status_code == 200 and b'data-testid="export-start"' in page.content and not Run.objects.exists()
    before = AccessLog.objects.filter(what="export").count()
    run, _file = bg.export_file(c, url)
    assert AccessLog.objects.filter(what="export").count() == before + 1
    assert run.kind == "places.export" and run.user == leader and run.total == run.done > 0
    assert run.filename.endswith(".xlsx") and world.grid_a.code in run.filename
    detail = c.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert f"{run.done}" in detail and "<progress" in detail
    other = client_for(world.users["community_worker"])  # may export the same place, but it is not theirs
    assert other.get(reverse("runs:detail", args=[run.pk])).status_code == 404
    assert other.get(reverse("runs:file", args=[run.pk])).status_code == 404
    Run.objects.filter(pk=run.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    gone = c.get(reverse("runs:file", args=[run.pk]))
    assert gone.status_code == 410 and "小时" in gone.content.decode() and "hours" not in gone.content.decode()
    leader.grants.update(revoked_at=timezone.now())
    from linli.accounts.permissions import forget_grants

    forget_grants(leader)
    assert client_for(leader).get(reverse("runs:file", args=[run.pk])).status_code == 404


def test_export_task_rechecks_the_permission(world: Any, client_for: Any, monkeypatch: Any) -> None:
    """A run whose starter lost the right before a worker took it fails with a clear message and
    writes no file and no log entry."""
    from django.utils import timezone

    from linli.accounts.permissions import forget_grants
    from linli.runs import services as runs_services

    queued: list[tuple[Any, ...]] = []
    real_enqueue = runs_services._enqueue
    monkeypatch.setattr(runs_services, "_enqueue", lambda *args: queued.append(args))  # a worker takes it later
    leader = world.users["grid_leader"]
    c = client_for(leader)
    url = reverse("places:io_export", args=["grid", world.grid_a.pk, "residents"])
    before = AccessLog.objects.filter(what="export").count()
    run = bg.started_run(bg.start(c, url))
    leader.grants.update(revoked_at=timezone.now())
    forget_grants(leader)
    for args in queued:
        real_enqueue(*args)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and not run.file
    assert "permissions" in run.message_en and "权限" in run.message_zh
    assert AccessLog.objects.filter(what="export").count() == before
