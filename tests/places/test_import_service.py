"""Importing rosters and boundaries into the database: all or nothing, scoped, deduplicated."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from linli.accounts.models import AccessLog
from linli.core.crypto import lookup_hash
from linli.core.errors import LinliError
from linli.core.masking import id_checksum
from linli.places import importing
from linli.places import models as m
from linli.places.services import import_boundaries, import_roster

A = "500107001001"  # community A (world.comm_a) as a 12-digit statistical code
B = "500107001002"
C = "500107002001"


def valid_id(seed: int, year: int = 1970) -> str:
    first17 = f"500107{year}0101{seed % 1000:03d}"
    return first17 + id_checksum(first17)


def building(comm: str = A, compound: str = "0002", code: str = "01", **kw: Any) -> dict[str, Any]:
    row = {
        "community_code": comm,
        "compound_code": compound,
        "compound_name": f"新建小区{compound}",
        "compound_build_year": 1990,
        "building_code": code,
        "building_name": f"{int(code)}栋",
        "storeys": 7,
        "building_kind": "步梯",
        "has_lift": "否",
        "build_year": 1990,
        "lat": 29.51,
        "lon": 106.52,
    }
    row.update(kw)
    return row


def dwelling(
    comm: str = A, compound: str = "0002", bld: str = "01", unit: str = "1", number: str = "101", **kw: Any
) -> dict[str, Any]:
    row = {
        "community_code": comm,
        "compound_code": compound,
        "building_code": bld,
        "unit": unit,
        "number": number,
        "floor": int(number[:-2]),
        "area": "62.35",
        "area_source": "登记",
        "use": "住宅",
        "owner_name": "",
        "owner_kind": "",
        "owner_id_number": "",
        "owner_phone": "",
        "share": "",
        "occupied": "",
        "owner_occupied": "",
    }
    row.update(kw)
    return row


def _headers(spec: importing.SheetSpec, rows: list[dict[str, Any]], style: str) -> list[str]:
    keys = list(rows[0]) if rows else [c.key for c in spec.columns]
    cols = {c.key: c for c in spec.columns}
    if style == "zh":
        return [cols[k].zh if k in cols else k for k in keys]
    if style == "en":
        return keys
    return [cols[k].header if k in cols else k for k in keys]


def make_xlsx(
    buildings: list[dict[str, Any]] | None = None, dwellings: list[dict[str, Any]] | None = None, style: str = "both"
) -> io.BytesIO:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for spec, rows in ((importing.BUILDINGS, buildings), (importing.DWELLINGS, dwellings)):
        if rows is None:
            continue
        ws = wb.create_sheet(spec.title)
        ws.append(_headers(spec, rows, style))
        for r in rows:
            ws.append(list(r.values()))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def make_csv(
    rows: list[dict[str, Any]],
    spec: importing.SheetSpec = importing.DWELLINGS,
    encoding: str = "utf-8-sig",
    style: str = "both",
) -> io.BytesIO:
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(_headers(spec, rows, style))
    for r in rows:
        w.writerow(list(r.values()))
    return io.BytesIO(text.getvalue().encode(encoding))


def tree(n_dwellings: int = 4) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    bs = [building(code="01"), building(code="02")]
    ds = [dwelling(bld="01", unit="1", number=f"{fl}0{k}") for fl in (1, 2) for k in (1, 2)][:n_dwellings]
    return bs, ds


COUNTED = (m.Compound, m.Building, m.Unit, m.Dwelling, m.Person, m.Ownership, m.Household, m.Resident)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED} | {
        "log": AccessLog.objects.filter(what="import").count()
    }


def refused(world: Any, buf: io.BytesIO, name: str = "r.xlsx", user: Any = None, **kw: Any) -> list[Any]:
    before = counts()
    with pytest.raises(LinliError) as exc:
        import_roster(user or world.users["community_worker"], buf, name, **kw)
    assert counts() == before, "a refused file must write nothing"
    assert exc.value.problems
    return exc.value.problems


# --- good files -------------------------------------------------------------------------------------


def test_good_import_creates_the_tree(world: Any) -> None:
    bs, ds = tree()
    ds[0].update(
        owner_name="王五", owner_id_number=valid_id(1), owner_phone="13912345678", occupied="是", owner_occupied="是"
    )
    ds[1].update(owner_kind="开发商")
    before = counts()
    result = import_roster(world.users["community_worker"], make_xlsx(bs, ds), "roster.xlsx")
    assert result.created["compounds"] == 1
    assert result.created["buildings"] == 2
    assert result.created["dwellings"] == 4
    assert result.created["units"] == 1
    comp = m.Compound.objects.get(community=world.comm_a, code="0002")
    assert comp.path == "500107/001/001/0002/"
    b1 = m.Building.objects.get(compound=comp, code="01")
    assert (b1.path, b1.community_id, b1.storeys, b1.has_lift) == ("500107/001/001/0002/01/", world.comm_a.pk, 7, False)
    d = m.Dwelling.objects.get(unit__building=b1, unit__number="1", number="101")
    assert d.building_id == b1.pk and d.area == Decimal("62.35") and d.area_source == "register" and d.floor == 1
    owner = m.Person.objects.get(id_number_hash=lookup_hash(valid_id(1)))
    assert owner.name == "王五" and owner.phone_masked == "139****5678" and owner.id_number_masked.startswith("5001")
    assert owner._id_number() == valid_id(1)
    assert m.Resident.objects.filter(person=owner, household__dwelling=d, relation="head").exists()
    dev = m.Ownership.objects.get(dwelling__number="102", dwelling__unit__building=b1).person
    assert dev.kind == "developer"
    after = counts()
    assert after["Dwelling"] == before["Dwelling"] + 4
    assert after["log"] == before["log"] + 1
    log = AccessLog.objects.filter(what="import").latest("at")
    assert log.path == world.comm_a.path and log.user == world.users["community_worker"]


def test_reimport_updates_not_duplicates(world: Any) -> None:
    bs, ds = tree()
    ds[0].update(owner_name="王五", owner_id_number=valid_id(1))
    ds[2].update(owner_name="赵六")  # no ID number: matched by name on the same dwelling
    user = world.users["community_worker"]
    import_roster(user, make_xlsx(bs, ds), "r.xlsx")
    first = counts()
    bs[0]["storeys"] = 8
    bs[0]["building_name"] = "一栋"
    ds[0]["area"] = "63.10"
    result = import_roster(user, make_xlsx(bs, ds), "r.xlsx")
    assert {k: v for k, v in counts().items() if k != "log"} == {k: v for k, v in first.items() if k != "log"}
    assert result.created["dwellings"] == 0 and result.updated["dwellings"] == 1
    assert result.unchanged["dwellings"] == 3
    assert result.updated["buildings"] == 1
    b = m.Building.objects.get(compound__code="0002", code="01", community=world.comm_a)
    assert (b.storeys, b.name) == (8, "一栋")
    assert m.Dwelling.objects.get(unit__building=b, number="101").area == Decimal("63.10")


def test_reimport_existing_world_dwellings_by_code(world: Any) -> None:
    """Dwellings of a building already in the database need no buildings sheet."""
    ds = [dwelling(compound="0001", bld="01", unit="1", number="101", area="99.99")]
    before = counts()
    result = import_roster(world.users["community_worker"], make_csv(ds), "d.csv")
    assert result.updated["dwellings"] == 1 and result.created["dwellings"] == 0
    assert counts()["Dwelling"] == before["Dwelling"]
    world.dwelling_a.refresh_from_db()
    assert world.dwelling_a.area == Decimal("99.99")


def test_owner_of_several_dwellings_is_one_person(world: Any) -> None:
    bs, ds = tree()
    for d in ds[:3]:
        d.update(owner_name="钱七", owner_id_number=valid_id(7))
    ds[3].update(owner_kind="developer")
    ds2 = [dwelling(bld="02", number="101", owner_kind="开发商")]
    import_roster(world.users["community_worker"], make_xlsx(bs, ds + ds2), "r.xlsx")
    p = m.Person.objects.get(id_number_hash=lookup_hash(valid_id(7)))
    assert p.ownerships.count() == 3
    devs = m.Person.objects.filter(kind="developer")
    assert devs.count() == 1, "one developer per compound"
    assert devs.get().ownerships.count() == 2
    # the same buyer in a later file, with the ID number of an existing person: still one person
    more = [dwelling(bld="02", number="102", owner_name="钱七", owner_id_number=valid_id(7))]
    import_roster(world.users["community_worker"], make_csv(more), "more.csv")
    assert m.Person.objects.filter(id_number_hash=lookup_hash(valid_id(7))).count() == 1
    assert p.ownerships.count() == 4


def test_headers_in_one_language_and_csv_buildings(world: Any) -> None:
    bs, ds = tree()
    import_roster(world.users["community_worker"], make_csv(bs, importing.BUILDINGS, style="zh"), "b.csv")
    result = import_roster(world.users["community_worker"], make_csv(ds, style="en", encoding="utf-8"), "d.csv")
    assert result.created["dwellings"] == 4
    assert m.Building.objects.filter(compound__code="0002").count() == 2


def test_gb18030_csv_needs_the_option(world: Any) -> None:
    bs, _ = tree()
    data = make_csv(bs, importing.BUILDINGS, encoding="gb18030").getvalue()
    problems = refused(world, io.BytesIO(data), "b.csv")
    assert problems[0].code == "not_utf8"
    assert "CSV UTF-8" in problems[0].zh and "CSV UTF-8" in problems[0].en
    result = import_roster(world.users["community_worker"], io.BytesIO(data), "b.csv", encoding="gb18030")
    assert result.created["buildings"] == 2
    assert m.Compound.objects.get(code="0002", community=world.comm_a).name == "新建小区0002"


# --- refused files --------------------------------------------------------------------------------------


def test_wrong_columns(world: Any) -> None:
    rows = [{"community_code": A, "compound_code": "0002", "building_code": "01", "room": "101", "area": "60"}]
    problems = refused(world, make_csv(rows), "d.csv")
    assert len(problems) == 1 and problems[0].code == "columns" and problems[0].row == 1
    assert "房号 number" in problems[0].zh and "room" in problems[0].zh and "Missing" in problems[0].en
    assert "单元 unit" in problems[0].zh


def test_bad_numbers_are_reported_by_row_and_column(world: Any) -> None:
    bs, ds = tree()
    ds[1]["area"] = "62.355"
    ds[2]["floor"] = "二"
    ds[3]["area"] = "0"
    bs[1]["storeys"] = 0
    problems = refused(world, make_xlsx(bs, ds))
    where = {(p.row, p.column) for p in problems}
    assert (3, "房屋 dwellings · 面积 area") in where
    assert (4, "房屋 dwellings · 楼层 floor") in where
    assert (5, "房屋 dwellings · 面积 area") in where
    assert (3, "楼栋 buildings · 层数 storeys") in where


def test_duplicate_dwellings_name_both_rows(world: Any) -> None:
    bs, ds = tree()
    ds.append(dict(ds[1]))
    problems = refused(world, make_xlsx(bs, ds))
    dup = [p for p in problems if p.code == "duplicate"]
    assert len(dup) == 1 and dup[0].row == 6 and "3" in dup[0].zh and "row 3" in dup[0].en


def test_unknown_building(world: Any) -> None:
    bs, ds = tree()
    ds[2]["building_code"] = "09"
    problems = refused(world, make_xlsx(bs, ds))
    assert [(p.code, p.row) for p in problems] == [("unknown_building", 4)]


def test_unknown_and_out_of_scope_community_look_the_same(world: Any) -> None:
    bs, ds = tree()
    unknown = refused(world, make_csv([dwelling(comm="500107009009")]), "d.csv")
    out_of_scope = refused(world, make_csv([dwelling(comm=B, compound="0001", bld="01")]), "d.csv")
    assert unknown[0].code == out_of_scope[0].code == "unknown_community"
    assert unknown[0].row == out_of_scope[0].row == 2
    assert unknown[0].zh.replace("500107009009", "X") == out_of_scope[0].zh.replace(B, "X")
    # the outsider (community B's worker) cannot import into A either
    refused(world, make_xlsx(bs, ds), user=world.outsider)
    # a street command centre can see A but may not edit it
    problems = refused(world, make_xlsx(bs, ds), user=world.users["street_command"])
    assert problems[0].code == "not_allowed"


def test_the_page_community_only(world: Any) -> None:
    bs, ds = tree()
    problems = refused(world, make_xlsx(bs, ds), user=world.admin, community=world.comm_b)
    assert {p.code for p in problems} == {"other_community"}


def test_invalid_id_checksum(world: Any) -> None:
    bs, ds = tree()
    bad = valid_id(3)[:-1] + ("0" if valid_id(3)[-1] != "0" else "1")
    ds[0].update(owner_name="孙八", owner_id_number=bad)
    problems = refused(world, make_xlsx(bs, ds))
    assert [(p.row, p.column) for p in problems] == [(2, "房屋 dwellings · 产权人身份证号 owner_id_number")]
    assert "GB 11643" in problems[0].zh


def test_building_code_clash_leading_zero(world: Any) -> None:
    """Excel turned "01" into 1: the building already exists as 01 — refuse, do not add a twin."""
    rows = [
        building(compound="0001", code="1", building_name="1栋", compound_name="劳动三村小区", compound_build_year=1958)
    ]
    problems = refused(world, make_csv(rows, importing.BUILDINGS), "b.csv")
    assert problems[0].code == "code_clash" and problems[0].row == 2


def test_empty_header_only_and_not_a_spreadsheet(world: Any) -> None:
    assert refused(world, io.BytesIO(b""), "r.csv")[0].code == "empty"
    assert refused(world, make_csv([]), "r.csv")[0].code == "empty"
    header_only = make_xlsx([], [])
    assert refused(world, header_only)[0].code == "empty"
    p = refused(world, io.BytesIO(b"%PDF-1.4 this is no spreadsheet" * 10), "r.xlsx")[0]
    assert p.code == "bad_file" and ".xlsx" in p.zh
    zipped = io.BytesIO(b"PK\x03\x04" + b"\x00" * 100)
    assert refused(world, zipped, "r.xlsx")[0].code == "bad_file"


def test_problems_stop_at_200(world: Any) -> None:
    ds = [dwelling(unit=str(n), number="101", area="x") for n in range(300)]
    problems = refused(world, make_csv(ds), "d.csv")
    assert len(problems) == importing.MAX_PROBLEMS + 1
    # 300 bad areas and, in the same round, 300 rows of a building that does not exist
    assert problems[-1].code == "too_many_problems" and "400" in problems[-1].en


@pytest.mark.slow
def test_twenty_megabyte_file_is_refused_clearly(world: Any, tmp_path: Any) -> None:
    path = tmp_path / "big.csv"
    row = dwelling(owner_name="某某某" * 10, number="101")
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(_headers(importing.DWELLINGS, [row], "both"))
        n = 0
        while fh.tell() < 20 * 1024 * 1024:
            n += 1
            row["unit"] = str(n // 1000)
            row["number"] = f"{n % 1000 + 100}"
            w.writerows([list(row.values())])
    before = counts()
    with path.open("rb") as fh, pytest.raises(LinliError) as exc:
        import_roster(world.users["community_worker"], fh, "big.csv")
    assert counts() == before
    assert exc.value.problems[0].code == "too_many_rows"
    assert "拆分" in exc.value.problems[0].zh


# --- boundaries -------------------------------------------------------------------------------------


def square(lon: float, lat: float, d: float = 0.001) -> list[list[list[float]]]:
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def fc(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feat(props: dict[str, Any], coords: Any, kind: str = "Polygon") -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coords}}


def test_boundaries_set_outline_and_missing_centre(world: Any) -> None:
    world.compound_a.lat = world.compound_a.lon = None
    world.compound_a.save()
    data = fc(
        feat({"kind": "compound", "path": world.compound_a.path}, square(106.5, 29.5)),
        feat({"kind": "grid", "code": world.grid_a.code}, [square(106.5, 29.5), square(106.51, 29.51)], "MultiPolygon"),
        feat({"kind": "community", "code": A}, square(106.49, 29.49, 0.01)),
    )
    counts_ = import_boundaries(world.users["community_worker"], data)
    assert counts_ == {"compound": 1, "grid": 1, "community": 1}
    world.compound_a.refresh_from_db()
    assert world.compound_a.boundary["type"] == "Polygon"
    assert world.compound_a.lat == pytest.approx(29.5005) and world.compound_a.lon == pytest.approx(106.5005)
    world.grid_a.refresh_from_db()
    assert world.grid_a.boundary["type"] == "MultiPolygon"
    world.comm_a.refresh_from_db()
    assert world.comm_a.lat == 29.50  # already known: kept


@pytest.mark.parametrize(
    ("data", "code", "text"),
    [
        (b"{not json", "bad_json", "JSON"),
        (b'{"type": "Feature"}', "bad_geojson", "FeatureCollection"),
        (
            fc(feat({"path": "500107/001/001/0001"}, [[[106.5, 29.5], [106.6, 29.5], [106.6, 29.6], [106.5, 29.6]]])),
            "boundary",
            "closed",
        ),
        (fc(feat({"path": "500107/001/001/0001"}, square(29.5, 106.5))), "boundary", "out of range"),
        (fc(feat({"path": "500107/001/001/0001"}, [[106.5, 29.5]], "Point")), "boundary", "Polygon"),
        (fc(feat({"path": "500107/001/002/0001"}, square(106.5, 29.5))), "unknown_place", "scope"),
    ],
)
def test_bad_boundaries_write_nothing(world: Any, data: bytes, code: str, text: str) -> None:
    good = feat({"kind": "building", "path": world.building_a.path}, square(106.5, 29.5))
    if data.startswith(b'{"type": "FeatureCollection"'):
        doc = json.loads(data)
        doc["features"].insert(0, good)
        data = json.dumps(doc).encode()
    with pytest.raises(LinliError) as exc:
        import_boundaries(world.users["community_worker"], data)
    assert exc.value.problems[0].code == code
    assert text in exc.value.problems[0].en
    world.building_a.refresh_from_db()
    assert world.building_a.boundary is None
