"""Device import (issue 13 §1): upload → preview → confirm, all or nothing, every row error by row
and column, re-import idempotent, oversize and malformed files refused cleanly."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from linli.core.errors import LinliError
from linli.places import models as places_models
from linli.places.importing import Problems
from linli.runs.models import Run
from linli.sensing.models import Channel, Device, Lift
from linli.sensing.services import devices as sensing_devices
from linli.sensing.services import imports as svc

HEADER = [
    "device_code",
    "profile",
    "name",
    "community_code",
    "compound_code",
    "building_code",
    "unit",
    "lat",
    "lon",
    "gateway",
    "installed_on",
    "register_no",
    "maintenance_company",
    "maintenance_phone",
    "insurer",
    "policy_no",
    "operator",
    "contract_no",
    "commissioned_on",
    "last_maintained_on",
]


def comm_code(c: places_models.Community) -> str:
    return c.path.strip("/").replace("/", "")


def row(**kw: Any) -> dict[str, Any]:
    return kw


def csv_bytes(rows: list[dict[str, Any]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    for r in rows:
        out.write(",".join(str(r.get(h, "") if r.get(h) is not None else "") for h in header) + "\n")
    return out.getvalue().encode()


def xlsx_bytes(rows: list[dict[str, Any]], header: list[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append([r.get(h) for h in header])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def good(world: Any) -> list[dict[str, Any]]:
    places_models.Unit.objects.get_or_create(building=world.building_a, number="1")
    a = comm_code(world.comm_a)
    return [
        row(
            device_code="SM-1",
            profile="smoke",
            name="1栋烟感",
            community_code=a,
            compound_code="0001",
            building_code="01",
        ),
        row(
            device_code="LIFT-1",
            profile="lift",
            community_code=a,
            compound_code="0001",
            building_code="01",
            unit="1",
            register_no="梯11渝BA0101",
            maintenance_company="某电梯公司",
            maintenance_phone="023-68001234",
            insurer="某保险",
            policy_no="PL-1",
            operator="某运营",
            contract_no="HT-1",
            commissioned_on="2025-12-01",
            last_maintained_on="2026/1/5",
            installed_on="2025-11-30",
        ),
        row(device_code="PIPE-1", profile="pipe", community_code=a, compound_code="0001"),
        row(device_code="CAM-1", profile="camera", community_code=a, lat="29.51", lon="106.52"),
    ]


def plan(world: Any, data: bytes, name: str = "devices.csv", user: Any = None, place: Any = None) -> svc.Plan:
    return svc.plan(user or world.users["community_worker"], place or world.comm_a, data, name)


def problems_of(world: Any, data: bytes, name: str = "devices.csv", **kw: Any) -> list[tuple[int | None, str, str]]:
    with pytest.raises(LinliError) as e:
        plan(world, data, name, **kw)
    assert e.value.status == 400
    return [(p.row, p.column or "", p.code) for p in e.value.problems]


def _upload(c: Any, world: Any, data: bytes, name: str = "devices.xlsx") -> Run:
    """Upload on the page: a worker (the immediate backend in tests) reads it; 303 to its run."""
    url = reverse("sensing:device_import", args=["community", world.comm_a.pk])
    r = c.post(url, {"file": SimpleUploadedFile(name, data), "encoding": "utf-8"})
    run = Run.objects.latest("pk")
    assert r.status_code == 303 and r["Location"] == reverse("runs:detail", args=[run.pk])
    return run


def test_happy_path_preview_confirm_and_reimport(world, good, client_for):
    c = client_for(world.users["community_worker"])
    url = reverse("sensing:device_import", args=["community", world.comm_a.pk])
    assert c.get(url).status_code == 200
    run = _upload(c, world, xlsx_bytes(good))
    assert run.status == Run.Status.DONE and run.result["go"]
    assert "新增设备" in c.get(reverse("runs:detail", args=[run.pk])).content.decode()
    r = c.get(run.result["url"])
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="preview"' in html
    assert re.search(r'data-testid="new-devices">4<', html) and re.search(r'data-testid="new-lifts">1<', html)
    assert "LIFT-1" in html
    assert not Device.objects.exists()  # a preview writes nothing
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    confirm = reverse("sensing:device_import_confirm", args=["community", world.comm_a.pk])
    done = c.post(confirm, form)
    applied = Run.objects.latest("pk")
    assert done.status_code == 303 and applied.status == Run.Status.DONE, applied.errors
    assert applied.result["url"] == reverse("sensing:place_devices", args=["community", world.comm_a.pk])
    assert set(Device.objects.values_list("code", flat=True)) == {"SM-1", "LIFT-1", "PIPE-1", "CAM-1"}
    lift_dev = Device.objects.get(code="LIFT-1")
    assert lift_dev.unit is not None and lift_dev.unit.number == "1"
    assert lift_dev.path == world.building_a.path and lift_dev.grid_id == world.grid_a.pk
    assert str(lift_dev.installed_on) == "2025-11-30"
    assert Channel.objects.filter(device=lift_dev).count() == 5
    lift = Lift.objects.get(device=lift_dev)
    assert (lift.register_no, lift.maintenance_phone, lift.contract_no) == ("梯11渝BA0101", "023-68001234", "HT-1")
    assert str(lift.last_maintained_on) == "2026-01-05" and str(lift.commissioned_on) == "2025-12-01"
    cam = Device.objects.get(code="CAM-1")
    assert (cam.lat, cam.lon, cam.path) == (29.51, 106.52, world.comm_a.path)
    assert Device.objects.get(code="PIPE-1").path == world.compound_a.path
    # the same confirm again (double submit, retry): 409 at once, nothing started, nothing written twice
    runs = Run.objects.count()
    again = c.post(confirm, form)
    assert again.status_code == 409 and Run.objects.count() == runs
    assert Device.objects.count() == 4 and Lift.objects.count() == 1
    # re-importing the same file: everything unchanged; a changed name is one change
    assert plan(world, xlsx_bytes(good), "d.xlsx").counts() == {
        "new_devices": 0,
        "changed_devices": 0,
        "unchanged_devices": 4,
        "new_lifts": 0,
        "changed_lifts": 0,
    }
    good[0]["name"] = "新名称"
    good[1]["insurer"] = "另一家保险"
    counts = plan(world, xlsx_bytes(good), "d.xlsx").counts()
    assert (counts["changed_devices"], counts["changed_lifts"], counts["unchanged_devices"]) == (2, 1, 2)


def test_csv_and_chinese_headers(world, good):
    header = [next(c.zh for c in svc.COLUMNS if c.key == h) for h in HEADER]
    data = csv_bytes(good, HEADER).decode().split("\n", 1)[1]
    text = ",".join(header) + "\n" + data
    p = svc.plan(world.users["community_worker"], world.comm_a, text.encode("gb18030"), "d.csv", "gb18030")
    assert p.new_devices == 4 and p.new_lifts == 1


def _with(good: list[dict[str, Any]], i: int, **kw: Any) -> bytes:
    rows = [dict(r) for r in good]
    rows[i].update(kw)
    return csv_bytes(rows)


@pytest.mark.parametrize(
    ("i", "change", "column", "code"),
    [
        (0, {"device_code": "has space"}, "设备编号 device_code", "bad_device_code"),
        (0, {"device_code": "a/b"}, "设备编号 device_code", "bad_device_code"),
        (0, {"device_code": ""}, "设备编号 device_code", "value"),
        (0, {"profile": "toaster"}, "设备类型 profile", "unknown_profile"),
        (0, {"community_code": "999999999999"}, "社区编码 community_code", "unknown_community"),
        (0, {"compound_code": "9999"}, "小区编码 compound_code", "unknown_compound"),
        (0, {"building_code": "99"}, "楼栋编码 building_code", "unknown_building"),
        (1, {"unit": "9"}, "单元 unit", "unknown_unit"),
        (0, {"compound_code": "", "building_code": ""}, "小区编码 compound_code", "no_place"),
        (0, {"compound_code": ""}, "小区编码 compound_code", "building_needs_compound"),
        (2, {"unit": "1"}, "楼栋编码 building_code", "unit_needs_building"),
        (3, {"lon": ""}, "经度 lon", "lat_lon_pair"),
        (3, {"lat": "106.5", "lon": "29.5"}, "纬度 lat", "value"),
        (0, {"installed_on": "2025-13-40"}, "安装日期 installed_on", "value"),
        (0, {"gateway": "nope"}, "网关 gateway", "unknown_gateway"),
        (1, {"register_no": ""}, "使用登记证编号 register_no", "lift_field"),
        (1, {"maintenance_company": ""}, "维保单位 maintenance_company", "lift_field"),
        (1, {"building_code": "", "unit": ""}, "楼栋编码 building_code", "lift_place"),
        (0, {"insurer": "某保险"}, "保险公司 insurer", "not_a_lift"),
        (2, {"device_code": "LIFT-1"}, "设备编号 device_code", "duplicate_in_file"),  # the later row
        (0, {"device_code": f"{svc.EXAMPLE}-X"}, "设备编号 device_code", "example_row"),
    ],
)
def test_every_row_error_has_row_and_column(world, good, i, change, column, code):
    found = problems_of(world, _with(good, i, **change))
    assert (i + 2, column, code) in found, found
    assert not Device.objects.exists()


def test_errors_against_the_database(world, good, sensors):
    # a device code that exists with another profile; a register number of another lift
    Lift.objects.create(device=sensors.lift, register_no="梯11渝BA0101", maintenance_company="x")
    found = problems_of(world, _with(good, 0, device_code="LIFT-A1"))
    assert (2, "设备类型 profile", "profile_changed") in found
    assert (3, "使用登记证编号 register_no", "register_taken") in found
    # a code taken by a device outside the worker's scope (community C) is "taken", nothing more
    found = problems_of(world, _with(good, 0, device_code="SMOKE-C"))
    assert (2, "设备编号 device_code", "code_taken") in found
    # a community outside the worker's scope reads like an unknown one
    found = problems_of(world, _with(good, 0, community_code=comm_code(world.comm_b)))
    assert (2, "社区编码 community_code", "unknown_community") in found
    # the gateway by name or token prefix
    Lift.objects.all().delete()
    rows = [dict(r) for r in good]
    rows[0]["gateway"] = sensors.gateway.name
    rows[2]["gateway"] = sensors.gateway.prefix
    p = plan(world, csv_bytes(rows))
    assert {e["code"]: e["fields"]["gateway_id"] for e in p.entries}["PIPE-1"] == sensors.gateway.pk


def test_duplicate_register_numbers_in_the_file(world, good):
    rows = [dict(r) for r in good]
    rows.append({**good[1], "device_code": "LIFT-2"})
    found = problems_of(world, csv_bytes(rows))
    assert (6, "使用登记证编号 register_no", "duplicate_in_file") in found


def test_header_problems(world, good):
    assert problems_of(world, csv_bytes(good, [h for h in HEADER if h != "profile"]))[0][2] == "columns"
    assert problems_of(world, csv_bytes(good, [*HEADER, "colour"]))[0][2] == "columns"
    assert problems_of(world, csv_bytes([], HEADER))[0][2] == "empty"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("d.xlsx", b"this is not a zip", "bad_file"),
        ("d.xls", b"\xd0\xcf\x11\xe0", "bad_file"),
        ("d.pdf", b"%PDF", "bad_file"),
        ("d.csv", b"", "empty"),
        ("d.csv", b"\x00\x01\x02binary", "bad_file"),
        ("d.csv", "设备编号,设备类型\n".encode("gb18030"), "not_utf8"),
        ("d.xlsx", b"PK\x03\x04broken", "bad_file"),
    ],
)
def test_malformed_files_are_refused(world, name, data, code):
    assert problems_of(world, data, name)[0][2] == code


def test_atomic_all_or_nothing(world, good, monkeypatch):
    # one bad row: nothing at all is planned to be written
    assert problems_of(world, _with(good, 3, profile="nope"))
    assert not Device.objects.exists()
    # a failure while writing (after the devices, with the channels): the whole import is rolled back
    preview = svc.preview(world.users["community_worker"], world.comm_a, csv_bytes(good), "d.csv")
    real = sensing_devices.add_channels

    def failing(devices: list[Device], batch: int = 2000) -> int:
        assert Device.objects.count() == 4  # the devices are in, inside the transaction
        raise RuntimeError("disk full")

    monkeypatch.setattr(sensing_devices, "add_channels", failing)
    with pytest.raises(RuntimeError):
        svc.confirm(
            world.users["community_worker"], world.comm_a, preview.token, "d.csv", preview.sha256, preview.digest
        )
    assert not Device.objects.exists() and not Lift.objects.exists() and not Channel.objects.exists()
    monkeypatch.setattr(sensing_devices, "add_channels", real)
    # the file is still there: confirming again now works
    svc.confirm(world.users["community_worker"], world.comm_a, preview.token, "d.csv", preview.sha256, preview.digest)
    assert Device.objects.count() == 4 and Channel.objects.count() == 5 + 2 + 2 + 1


def test_confirm_refuses_another_file_or_a_changed_database(world, good, sensors):
    worker = world.users["community_worker"]
    preview = svc.preview(worker, world.comm_a, csv_bytes(good), "d.csv")
    with pytest.raises(LinliError) as e:
        svc.confirm(worker, world.comm_a, preview.token, "d.csv", "0" * 64, preview.digest)
    assert e.value.problems[0].code == "file_changed"
    sensing_devices.create_device(None, code="SM-1", profile="smoke", building=world.building_b)  # taken meanwhile
    with pytest.raises(LinliError) as e:
        svc.confirm(worker, world.comm_a, preview.token, "d.csv", preview.sha256, preview.digest)
    assert e.value.status == 400  # the file now has a problem: SM-1 belongs to community B
    assert Device.objects.filter(code__in=["LIFT-1", "PIPE-1", "CAM-1"]).count() == 0
    with pytest.raises(LinliError) as e:
        svc.confirm(worker, world.comm_a, "../../etc", "d.csv", preview.sha256, preview.digest)
    assert e.value.status == 410


def test_a_changed_plan_is_refused(world, good):
    worker = world.users["community_worker"]
    preview = svc.preview(worker, world.comm_a, csv_bytes(good), "d.csv")
    sensing_devices.create_device(None, code="SM-1", profile="smoke", building=world.building_a, name="已有")
    with pytest.raises(LinliError) as e:
        svc.confirm(worker, world.comm_a, preview.token, "d.csv", preview.sha256, preview.digest)
    assert e.value.problems[0].code == "db_changed" and e.value.status == 409
    assert Device.objects.count() == 1


def test_the_page_lists_problems_in_its_language(world, good, client_for):
    c = client_for(world.users["community_worker"])
    run = _upload(c, world, _with(good, 0, profile="toaster"), "d.csv")
    assert run.status == Run.Status.FAILED
    html = c.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "未知的设备类型" in html and "设备类型 profile" in html
    c.cookies["django_language"] = "en"
    run = _upload(c, world, _with(good, 0, profile="toaster"), "d.csv")
    html = c.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "Unknown device profile" in html and "未知的设备类型" not in html
    url = reverse("sensing:device_import", args=["community", world.comm_a.pk])
    assert c.post(url, {}).status_code == 400  # no file
    assert not Device.objects.exists()


def test_the_preview_is_only_for_its_uploader(world, good, client_for):
    """The preview page: the uploader only (runs are their starter's), 404 for everyone else; and
    only under its own place."""
    mine = client_for(world.users["community_worker"])
    run = _upload(mine, world, csv_bytes(good), "d.csv")
    url = run.result["url"]
    assert mine.get(url).status_code == 200
    for user in [world.users["district_admin"], world.outsider, world.users["grid_leader"], world.admin]:
        assert client_for(user).get(url).status_code in {404, 403}, user
    other = reverse("sensing:device_import_preview", args=["community", world.comm_b.pk, run.pk])
    assert mine.get(other).status_code == 404
    failed = _upload(mine, world, _with(good, 0, profile="toaster"), "d.csv")
    assert (
        mine.get(reverse("sensing:device_import_preview", args=["community", world.comm_a.pk, failed.pk])).status_code
        == 404
    )


@override_settings(LINLI_MAX_UPLOAD_BYTES=2000)
def test_an_oversize_upload_is_413(world, good, client_for):
    c = client_for(world.users["community_worker"])
    url = reverse("sensing:device_import", args=["community", world.comm_a.pk])
    big = csv_bytes(good * 40)
    r = c.post(url, {"file": SimpleUploadedFile("d.csv", big)})
    assert r.status_code == 413
    assert not Device.objects.exists()


def test_too_many_rows(world, good, monkeypatch):
    monkeypatch.setattr(svc, "MAX_ROWS", 3)
    assert "too_many_rows" in {p[2] for p in problems_of(world, csv_bytes(good))}


def test_the_template_reads_back(world):
    data = svc.template_bytes()
    problems = Problems()
    rows = svc.read_rows(data, "devices-template.xlsx", None, problems)
    assert rows == [] and [p.code for p in problems.items] == ["example_row"]  # headers all recognised


def test_a_district_import_takes_rows_of_several_communities(world, good):
    rows = [dict(r) for r in good]
    places_models.Unit.objects.get_or_create(building=world.building_b, number="1")
    rows.append(row(device_code="SM-B", profile="smoke", community_code=comm_code(world.comm_b), compound_code="0001"))
    p = svc.plan(world.users["district_admin"], world.district, csv_bytes(rows), "d.csv")
    assert p.new_devices == 5
    # the community worker of A may not import B's row, even from A's page
    found = problems_of(world, csv_bytes(rows))
    assert (6, "社区编码 community_code", "unknown_community") in found
