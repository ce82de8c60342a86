"""The pure roster reader: headers, values, duplicates, encodings, the template, GeoJSON checks."""

from __future__ import annotations

import io
import json
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from linli.places import importing

HEADER = (
    "社区编码 community_code,小区编码 compound_code,楼栋编码 building_code,单元 unit,房号 number,楼层 floor,面积 area"
)


def read_csv(text: str, encoding: str = "utf-8", **kw: object) -> importing.Roster:
    return importing.read_roster(io.BytesIO(text.encode(encoding)), "r.csv", **kw)  # type: ignore[arg-type]


def test_csv_with_bom_and_typed_values() -> None:
    r = read_csv(HEADER + "\n500107001001,0001,01,1,101,1,62.30\n", encoding="utf-8-sig")
    assert r.problems == []
    d = r.dwellings[0]
    assert (d.row, d.community_code, d.unit, d.number, d.floor, d.area) == (
        2,
        "500107001001",
        "1",
        "101",
        1,
        Decimal("62.30"),
    )
    assert (d.area_source, d.use, d.share, d.owner_kind) == ("register", "residential", Decimal(1), "")


@pytest.mark.parametrize(
    ("cell", "value"), [("登记", "register"), ("实测", "survey"), ("合同", "contract"), ("Survey", "survey")]
)
def test_area_source_in_either_language(cell: str, value: str) -> None:
    r = read_csv(f"社区编码,小区编码,楼栋编码,单元,房号,楼层,面积,面积来源\n500107001001,0001,01,1,101,1,62,{cell}\n")
    assert r.problems == [] and r.dwellings[0].area_source == value


@pytest.mark.parametrize(
    ("cell", "column", "fragment"),
    [
        ("0.5", "面积 area", "out of range"),
        ("5000.01", "面积 area", "out of range"),
        ("62.345", "面积 area", "decimal places"),
        ("abc", "面积 area", "not a number"),
    ],
)
def test_bad_area(cell: str, column: str, fragment: str) -> None:
    r = read_csv(HEADER + f"\n500107001001,0001,01,1,101,1,{cell}\n")
    assert [(p.row, p.column) for p in r.problems] == [(2, column)]
    assert fragment in r.problems[0].en


def test_required_value_and_unknown_choice() -> None:
    r = read_csv(HEADER + ",用途 use\n500107001001,0001,01,,101,1.5,60,仓库\n")
    where = {(p.row, p.column): p for p in r.problems}
    assert "Required" in where[(2, "单元 unit")].en
    assert "whole number" in where[(2, "楼层 floor")].en
    assert "住宅" in where[(2, "用途 use")].zh


def test_id_number_and_phone_checks() -> None:
    head = HEADER + ",产权人 owner_name,产权人身份证号 owner_id_number,产权人电话 owner_phone\n"
    ok = read_csv(head + "500107001001,0001,01,1,101,1,60,张三,11010119900307002x,023-68812345\n")
    assert ok.problems == [] and ok.dwellings[0].owner_id_number == "11010119900307002X"
    bad = read_csv(head + "500107001001,0001,01,1,101,1,60,张三,110101199003070012,1380013800\n")
    assert {p.column for p in bad.problems} == {"产权人身份证号 owner_id_number", "产权人电话 owner_phone"}
    excel_float = read_csv(head + "500107001001,0001,01,1,101,1,60,张三,1.10101E+17,\n")
    assert "text" in excel_float.problems[0].en


def test_owner_details_need_a_name() -> None:
    head = HEADER + ",产权人身份证号 owner_id_number\n"
    r = read_csv(head + "500107001001,0001,01,1,101,1,60,11010119900307002X\n")
    assert r.problems[0].code == "value" and "owner name" in r.problems[0].en


def test_duplicate_columns_and_unknown_columns_in_one_problem() -> None:
    r = read_csv("社区编码,community_code,小区编码,楼栋编码,单元,房号,楼层,面积,备注\n")
    assert len(r.problems) == 1
    p = r.problems[0]
    assert p.row == 1 and "Duplicated: community_code" in p.en and "备注" in p.en


def test_missing_columns_listed() -> None:
    r = read_csv("社区编码,小区编码,楼栋编码,房号,面积\n500107001001,0001,01,101,60\n")
    assert "单元 unit" in r.problems[0].zh and "楼层 floor" in r.problems[0].zh


def test_neither_kind() -> None:
    r = read_csv("姓名,年龄\n张三,30\n")
    assert r.problems[0].code == "columns" and "Buildings need" in r.problems[0].en


def test_blank_rows_keep_spreadsheet_numbering() -> None:
    r = read_csv(HEADER + "\n,,,,,,\n500107001001,0001,01,1,101,1,60\n\n500107001001,0001,01,1,101,1,60\n")
    assert r.dwellings[0].row == 3
    assert [(p.code, p.row) for p in r.problems] == [("duplicate", 5)]
    assert "3" in r.problems[0].zh


def test_same_id_different_names() -> None:
    head = HEADER + ",产权人 owner_name,产权人身份证号 owner_id_number\n"
    r = read_csv(
        head + "500107001001,0001,01,1,101,1,60,张三,11010119900307002X\n"
        "500107001001,0001,01,1,102,1,60,李四,11010119900307002X\n"
    )
    assert [(p.code, p.row) for p in r.problems] == [("conflict", 3)]


def test_encodings() -> None:
    text = HEADER + "\n500107001001,0001,01,一,101,1,60\n"
    assert read_csv(text, encoding="gb18030").problems[0].code == "not_utf8"
    r = importing.read_roster(io.BytesIO(text.encode("gb18030")), "r.csv", encoding="gb18030")
    assert r.problems == [] and r.dwellings[0].unit == "一"
    assert importing.read_roster(io.BytesIO(b"x"), "r.csv", encoding="latin-1").problems[0].code == "bad_file"


def test_files_that_are_not_tables() -> None:
    assert importing.read_roster(io.BytesIO(b""), "r.csv").problems[0].code == "empty"
    assert importing.read_roster(io.BytesIO(b"\n\n"), "r.csv").problems[0].code == "empty"
    assert importing.read_roster(io.BytesIO(HEADER.encode()), "r.csv").problems[0].code == "empty"
    assert importing.read_roster(io.BytesIO(b"hello"), "r.xlsx").problems[0].code == "bad_file"
    assert importing.read_roster(io.BytesIO(b"hello"), "r.xls").problems[0].code == "bad_file"
    assert importing.read_roster(io.BytesIO(b"hello"), "r.pdf").problems[0].code == "bad_file"


def test_row_limit() -> None:
    rows = "".join(f"500107001001,0001,01,1,{n},1,60\n" for n in range(101, 111))
    r = importing.read_roster(io.BytesIO((HEADER + "\n" + rows).encode()), "r.csv", max_rows=5)
    assert r.problems[0].code == "too_many_rows" and r.problems[0].row == 7


def test_template_round_trip(tmp_path: object) -> None:
    buf = io.BytesIO()
    importing.write_template(buf)
    buf.seek(0)
    wb = openpyxl.load_workbook(buf)
    assert wb.sheetnames == ["楼栋 buildings", "房屋 dwellings", "说明 instructions"]
    assert wb["房屋 dwellings"]["A1"].value == "社区编码 community_code"
    assert wb["楼栋 buildings"]["A1"].font.b
    instructions = " ".join(str(c.value) for row in wb["说明 instructions"].iter_rows() for c in row if c.value)
    assert "CSV UTF-8" in instructions and "整份" in instructions
    assert importing.EXAMPLE_MARK in instructions and "删除" in instructions
    # the example rows are refused as such, one problem each, and nothing of them is read
    buf.seek(0)
    r = importing.read_roster(buf, "template.xlsx")
    assert [(p.code, p.row, p.column) for p in r.problems] == [
        ("example_row", 2, "楼栋 buildings · 社区编码 community_code"),
        ("example_row", 2, "房屋 dwellings · 社区编码 community_code"),
    ]
    assert "示例行" in r.problems[0].zh and "example row; delete it" in r.problems[0].en
    assert r.buildings == [] and r.dwellings == [] and r.partial == []
    # the example values are marked in every code and personal-data cell: none can be a real value
    for spec in importing.SPECS:
        marked = {c.key for c in spec.columns if isinstance(c.example, str) and importing.EXAMPLE_MARK in c.example}
        assert marked == {c.key for c in spec.columns if c.type in {"code", "community", "id_number", "phone"}}
    # a person who fills the example row in with real codes has a normal row
    wb["楼栋 buildings"]["A2"] = "500107001001"
    wb["楼栋 buildings"]["B2"] = "0009"
    wb["楼栋 buildings"]["E2"] = "01"
    wb.remove(wb["房屋 dwellings"])
    out = io.BytesIO()
    wb.save(out)
    r = importing.read_roster(out, "template.xlsx")
    assert r.problems == [] and len(r.buildings) == 1 and r.buildings[0].lat == pytest.approx(29.5012)


def test_geojson_checks() -> None:
    ring = [[106.5, 29.5], [106.51, 29.5], [106.51, 29.51], [106.5, 29.51], [106.5, 29.5]]

    def doc(geom: dict[str, object], props: dict[str, object] | None = None) -> bytes:
        return json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": props or {"path": "500107/001/001"}, "geometry": geom}],
            }
        ).encode()

    feats, problems = importing.parse_boundaries(doc({"type": "Polygon", "coordinates": [ring]}))
    assert problems == [] and feats[0].centroid == pytest.approx((29.505, 106.505))
    _, problems = importing.parse_boundaries(b'{"type": ')
    assert problems[0].code == "bad_json" and "line 1" in problems[0].en
    _, problems = importing.parse_boundaries(doc({"type": "Polygon", "coordinates": [ring[:-1]]}))
    assert "closed" in problems[0].en or "at least 4" in problems[0].en
    _, problems = importing.parse_boundaries(doc({"type": "Polygon", "coordinates": [[[x, y] for y, x in ring]]}))
    assert "out of range" in problems[0].en
    _, problems = importing.parse_boundaries(
        doc({"type": "Polygon", "coordinates": [ring]}, {"kind": "street", "code": "1"})
    )
    assert "kind" in problems[0].en
    _, problems = importing.parse_boundaries(doc({"type": "LineString", "coordinates": ring}))
    assert "Polygon" in problems[0].en


# --- the lean .xlsx reader agrees with openpyxl --------------------------------------------------


def _openpyxl_rows(data: bytes) -> list[tuple[str, list[tuple[object, ...]]]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out = []
    for ws in wb.worksheets:
        ws.reset_dimensions()
        out.append((ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)]))
    return out


def _lean_rows(data: bytes) -> list[tuple[str, list[tuple[object, ...]]]]:
    return [(s.title, list(s.rows)) for s in importing._xlsx_sheets(io.BytesIO(data))]


def _strip(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    def one(r: tuple[object, ...]) -> tuple[object, ...]:
        last = max([i + 1 for i, v in enumerate(r) if v is not None] or [0])
        return tuple(r[:last])

    return [one(r) for r in rows]


def test_the_lean_xlsx_reader_reads_what_openpyxl_reads() -> None:
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "房屋 dwellings"
    ws.append(["a & b <c>", "  spaced  ", 12, 1.5, 1e20, True, False, None, "=1+1", "第二行\n换行"])
    ws["A3"] = dt.datetime(2024, 5, 6, 7, 8, 9)
    ws["B3"] = dt.date(1999, 12, 31)
    ws["C3"] = CellRichText(["rich ", TextBlock(InlineFont(b=True), "bold"), " end"])
    ws["E5"] = "after a gap"
    ws["AB6"] = -7
    other = wb.create_sheet("说明 instructions")
    other.append(["only text"])
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    expected = _openpyxl_rows(data)
    got = _lean_rows(data)
    assert [t for t, _ in got] == [t for t, _ in expected]
    for (_, rows_e), (_, rows_g) in zip(expected, got, strict=True):
        assert _strip(rows_g) == _strip(rows_e)
    assert got[0][1][0][:3] == ("a & b <c>", "  spaced  ", 12)
    assert got[0][1][2][2] == "rich bold end"
    assert len(got[0][1]) == 6 and got[0][1][3] == ()  # a missing row keeps the row numbers


def test_the_lean_xlsx_reader_reads_shared_strings_and_prefixed_sheets() -> None:
    """Excel writes shared strings (<si>, with rich-text runs); some tools prefix every element
    (<x:row>): the reader falls back to the XML parser for those."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    files = {
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="楼栋" sheetId="1" r:id="rId1"/><sheet name="P" sheetId="2" r:id="rId2"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<sst xmlns="{main}"><si><t>社区 &amp; 编码</t></si>'
        '<si><r><t>业主</t></r><r><rPr><b/></rPr><t xml:space="preserve"> 1</t></r><rPh><t>ye</t></rPh></si></sst>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{main}">'
        '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
        '<row r="3" spans="1:2"><c r="A3"><v>42</v></c><c r="B3" t="b"><v>1</v></c>'
        '<c r="C3" t="str"><f>A3</f><v>x</v></c><c r="D3" t="e"><v>#N/A</v></c></row>'
        "<row r='4'/><row r = '6'><c r='B6' t='s'><v>1</v></c></row></sheetData></worksheet>",
        "xl/worksheets/sheet2.xml": f'<x:worksheet xmlns:x="{main}"><x:sheetData><x:row r="2">'
        '<x:c r="B2" t="inlineStr"><x:is><x:t>prefixed</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    got = _lean_rows(buf.getvalue())
    assert got == [
        ("楼栋", [("社区 & 编码", None, "业主 1"), (), (42, True, "x", "#N/A"), (), (), (None, "业主 1")]),
        ("P", [(), (None, "prefixed")]),
    ]
    assert importing.count_rows(buf.getvalue(), "r.xlsx") == 0  # no <dimension>: unknown


def test_a_damaged_sheet_is_a_bad_file_not_a_crash() -> None:
    buf = io.BytesIO()
    from openpyxl import Workbook

    Workbook().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    rb"<sheetData\s*/>|<sheetData></sheetData>",
                    b'<sheetData><row r="1"><c r="A1" t="s"><v>7</v></c></row></sheetData>',
                    data,
                )
                assert b"<v>7</v>" in data
            zf.writestr(item, data)
    roster = importing.read_roster(io.BytesIO(out.getvalue()), "r.xlsx")
    assert [p.code for p in roster.problems] == ["bad_file"]
