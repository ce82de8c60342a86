"""Any list as an .xlsx download: bilingual bold frozen header, numbers as numbers, exact Decimals.

    write_xlsx(path, "楼栋 buildings",
               [("名称 name", lambda b: b.name), ("层数 storeys", lambda b: b.storeys)], rows, progress)

The workbook is written with openpyxl's write-only mode (rows streamed, constant memory per row).
Exports run in background tasks (docs/runs.md): a task calls ``write_workbook(path, sheets,
progress=...)`` or ``write_tables(...)`` with a file path and a callback that hears the number of
data rows written so far (every ``PROGRESS_EVERY`` rows and once at the end), and hands the file to
its run. Nothing in a web request builds a workbook any more.

This is the one writer of every .xlsx export (a test fails if another module writes workbooks).
Text is never a formula: every text cell is written as a string, and text that a spreadsheet would
run as a formula once edited or saved as CSV (OWASP's triggers ``= + - @``, tab, carriage return,
also after leading spaces, and their full-width forms ``＝ ＋ － ＠``) gets a leading apostrophe
(``neutralise``). Numbers stay numbers. The only formulas are ``Formula`` values built by Linli's
own code (the ballot export's tally), never from data.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from linli.core.errors import LinliError
from linli.core.lang import pick

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Column = tuple[str, Callable[[Any], Any]]
Progress = Callable[[int], None]  # hears the data rows written so far, over all sheets
PROGRESS_EVERY = 500

# What makes a spreadsheet read text as a formula (OWASP CSV injection), with the full-width and
# small forms that Chinese input methods type and spreadsheets fold to ASCII.
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\u2212")
CONTROL_STARTS = frozenset("\t\r\n")


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could run ``text`` as a formula."""
    if not text:
        return False
    if text[0] in CONTROL_STARTS:
        return True
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] in FORMULA_STARTS


def neutralise(text: str) -> str:
    """``text`` safe to put in a spreadsheet cell or CSV field: formula-like text gets a leading
    apostrophe (shown, never run); anything else is returned unchanged."""
    return "'" + text if is_formula_like(text) else text


class Formula(str):
    """A formula written by Linli's own code (never from data): the only text written as one."""


def _display_width(value: object) -> int:
    text = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _cell_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | Decimal | date):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    if isinstance(value, Formula):
        return value
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def write_xlsx(
    target: Any, sheet_title: str, columns: Sequence[Column], rows: Iterable[Any], progress: Progress | None = None
) -> int:
    """Write one sheet to ``target`` (path or binary stream); returns the number of data rows."""
    return write_workbook(target, [(sheet_title, columns, rows)], progress)[0]


class _Counter:
    """Counts data rows over every sheet and tells ``progress`` every ``PROGRESS_EVERY`` rows."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None and self.done % PROGRESS_EVERY == 0:
            self.progress(self.done)

    def end(self) -> None:
        if self.progress is not None:
            self.progress(self.done)


Sheet = tuple[str, Sequence[Column], Iterable[Any]]


def write_workbook(target: Any, sheets: Sequence[Sheet], progress: Progress | None = None) -> list[int]:
    """Write several sheets (title, columns, rows) to one workbook (a path or a binary stream); the
    data rows of each. ``progress`` hears the data rows written so far over all sheets."""
    wb = Workbook(write_only=True)
    counter = _Counter(progress)
    counts = [_write_sheet(wb, title, columns, rows, counter) for title, columns, rows in sheets]
    wb.save(target)
    counter.end()
    return counts


def _write_sheet(
    wb: Workbook, sheet_title: str, columns: Sequence[Column], rows: Iterable[Any], counter: _Counter
) -> int:
    ws = wb.create_sheet(title=sheet_title[:31])
    rows = iter(rows)
    head = list(itertools.islice(rows, 200))  # widths from the header and the first rows
    values_head = [[_cell_value(get(r)) for _, get in columns] for r in head]
    for i, (header, _) in enumerate(columns):
        widest = max([_display_width(header)] + [_display_width(v[i]) for v in values_head if v[i] is not None])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(60, max(8, widest + 2))
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header, _ in columns:
        cell = WriteOnlyCell(ws, value=_cell_value(header))  # headers may hold data (survey questions)
        if isinstance(cell.value, str):
            cell.data_type = "s"
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)

    def cells(values: list[Any]) -> list[Any]:
        out: list[Any] = []
        for v in values:
            if isinstance(v, Formula):
                out.append(WriteOnlyCell(ws, value=str(v)))
            elif isinstance(v, str):
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"  # text, never a formula
                out.append(cell)
            elif isinstance(v, Decimal):
                cell = WriteOnlyCell(ws, value=v)
                exp = v.as_tuple().exponent
                places = -exp if isinstance(exp, int) and exp < 0 else 0
                cell.number_format = "0." + "0" * places if places else "0"
                out.append(cell)
            else:
                out.append(v)
        return out

    n = 0
    for values in values_head:
        ws.append(cells(values))
        n += 1
        counter.tick()
    for r in rows:
        ws.append(cells([_cell_value(get(r)) for _, get in columns]))
        n += 1
        counter.tick()
    return n


@dataclass
class Table:
    """A sheet of ready rows (the first row is the bold header), for exports that are not one list
    of objects: ``widths`` by column letter, ``bold_first_column`` for label/value sheets."""

    title: str
    rows: Iterable[Sequence[Any]]
    widths: dict[str, float] = field(default_factory=dict)
    freeze: str | None = "A2"
    bold_first_column: bool = False


def write_tables(target: Any, tables: Sequence[Table], progress: Progress | None = None) -> list[int]:
    """Write ``tables`` as the sheets of one workbook; the data rows of each (``progress`` as in
    ``write_workbook``)."""
    wb = Workbook(write_only=True)
    counter = _Counter(progress)
    counts = []
    bold = Font(bold=True)
    for table in tables:
        ws = wb.create_sheet(title=table.title[:31])
        for letter, width in table.widths.items():
            ws.column_dimensions[letter].width = width
        if table.freeze:
            ws.freeze_panes = table.freeze
        n = 0
        for i, row in enumerate(table.rows):
            cells = []
            for j, raw in enumerate(row):
                value = _cell_value(raw)
                cell = WriteOnlyCell(ws, value=str(value) if isinstance(value, Formula) else value)
                if isinstance(value, str) and not isinstance(value, Formula):
                    cell.data_type = "s"  # text, never a formula
                if i == 0 or (j == 0 and table.bold_first_column):
                    cell.font = bold
                cells.append(cell)
            ws.append(cells)
            n += 1
            if i:
                counter.tick()
        counts.append(max(0, n - 1))
    wb.save(target)
    counter.end()
    return counts


@contextmanager
def temporary_file(suffix: str = ".xlsx") -> Iterator[Path]:
    """A path to write an export to, removed afterwards (the task hands the file to its run first)."""
    with tempfile.TemporaryDirectory(prefix="linli-export-") as folder:
        yield Path(folder) / f"export{suffix}"


@contextmanager
def rechecked() -> Iterator[None]:
    """The permission checks an export repeats inside its background task: a 404 or 403 there (the
    person lost the right, or the object went, after starting) fails the run with this message
    rather than a generic error."""
    try:
        yield
    except (Http404, PermissionDenied) as exc:
        raise LinliError.one(
            "no_longer_allowed",
            "不能再导出这些数据:开始之后你的权限或数据有了变化。",
            "This data can no longer be exported: your permissions or the data changed after you started.",
            403,
        ) from exc


def start_page(request: HttpRequest, title: str, back_url: str = "") -> HttpResponse:
    """The page an export's address shows on ``GET``: what it makes and the button that starts it
    (a ``POST`` to the same address, which starts the run and redirects to its progress page)."""
    export = {
        "title": title,
        "about": pick(
            "文件在后台生成:开始后会看到进度条,完成后可在任务页下载(文件保留一段时间,下载时再次核对权限)。",
            "The file is made in the background: after starting you see a progress bar, then download it "
            "from the work's page (the file is kept for a while; your permission is checked again on download).",
        ),
        "action": request.get_full_path(),
        "button": pick("开始导出", "Start the export"),
        "back_url": back_url,
        "back": pick("返回", "Back"),
    }
    return render(request, "core/export_start.html", {"export": export})
