"""Reading and checking roster spreadsheets (pure Python: no Django).

A roster comes as the shipped .xlsx template (sheets "楼栋 buildings" and "房屋 dwellings", plus
"说明 instructions" which is ignored on import) or as a .csv holding one of the two kinds, told
apart by its header. Headers are bilingual ("社区编码 community_code"); either half alone is
accepted too. Every problem is a :class:`linli.core.errors.Problem` with the 1-based row number a
spreadsheet shows (the header is row 1) and the column's header, so a person can find and fix it.

``read_roster`` turns a file into typed rows plus problems; ``linli.places.services`` resolves the
rows against the database and writes them, all or nothing. ``parse_boundaries`` does the same for
a GeoJSON FeatureCollection of outlines. ``write_template`` writes the template people fill in.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, BinaryIO

from linli.core.errors import Problem
from linli.core.masking import is_valid_id_number, is_valid_phone, normalise_id_number

MAX_PROBLEMS = 200
MAX_ROWS = 100_000  # per sheet; a bigger roster is split by community (and reads faster that way)

# Latitude/longitude of mainland China and its islands, with a margin: a swapped pair (lat 106)
# or a coordinate in another datum's units fails here instead of drawing a building in the sea.
LAT_RANGE = (3.0, 54.0)
LON_RANGE = (73.0, 136.0)

# The template's example rows carry this marker in every code and personal-data cell. No real code
# (digits, letters, '-') or ID number can contain it, so an example row can never match real data,
# and a file that still holds one is refused with that reason (``example_row``).
EXAMPLE_MARK = "示例EXAMPLE"
_EXAMPLE_RE = re.compile(r"示例|example", re.IGNORECASE)
_EXAMPLE_TYPES = frozenset({"code", "community", "id_number", "phone"})

_CODE_RE = re.compile(r"^[0-9A-Za-z\-]{1,20}$")
_COMMUNITY_RE = re.compile(r"^[0-9A-Za-z\-/]{1,80}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_INT_RE = re.compile(r"^[+-]?\d+(\.0*)?$")

# --------------------------------------------------------------------------------------------------
# Column specification


@dataclass(frozen=True)
class Column:
    key: str  # the English name, also the attribute of the typed row
    zh: str
    type: str  # text | code | community | int | decimal | float | choice | bool | id_number | phone
    required: bool = False
    lo: float | int | Decimal | None = None
    hi: float | int | Decimal | None = None
    places: int | None = None  # decimals: at most this many decimal places
    max_len: int = 100
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()  # value, accepted spellings (lower case)
    aliases: tuple[str, ...] = ()
    example: object = None
    note_zh: str = ""
    note_en: str = ""

    @property
    def header(self) -> str:
        return f"{self.zh} {self.key}"

    def choice_text(self) -> str:
        return " / ".join(
            f"{value}({spellings[1]})" if len(spellings) > 1 else value for value, spellings in self.choices
        )


def _choices(*items: tuple[str, tuple[str, ...]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((value, (value, *spellings)) for value, spellings in items)


AREA_SOURCES = _choices(
    ("register", ("登记", "不动产登记", "产权登记", "登记面积", "产权面积")),
    ("survey", ("实测", "测绘", "实测面积")),
    ("contract", ("合同", "合同面积", "预售")),
)
USES = _choices(
    ("residential", ("住宅", "居住")), ("commercial", ("商业", "商铺", "门面", "商服")), ("other", ("其他", "其它"))
)
OWNER_KINDS = _choices(
    ("person", ("个人", "自然人")),
    ("developer", ("开发商", "开发商未售", "未售")),
    ("organisation", ("单位", "机构", "organization", "公房")),
)
BUILDING_KINDS = _choices(
    ("walkup", ("步梯", "步梯楼", "walk-up", "多层")),
    ("midrise", ("中高层", "小高层", "mid-rise")),
    ("tower", ("高层",)),
    ("other", ("其他", "其它")),
)
_YES = {"是", "有", "y", "yes", "true", "1", "√", "✓", "t"}
_NO = {"否", "无", "没有", "n", "no", "false", "0", "×", "f"}

_COMMUNITY = Column(
    "community_code",
    "社区编码",
    "community",
    True,
    aliases=("社区代码",),
    example=f"{EXAMPLE_MARK}-社区",
    note_zh="12 位统计区划代码(区县 6 位 + 街道 3 位 + 社区 3 位),或路径 500107/001/001",
    note_en="12-digit statistical code (district 6 + street 3 + community 3), or the path 500107/001/001",
)
_COMPOUND = Column(
    "compound_code",
    "小区编码",
    "code",
    True,
    aliases=("小区代码",),
    example=f"{EXAMPLE_MARK}-小区",
    note_zh="社区内唯一,1–20 位字母、数字或 -;请设为文本格式以保留前导 0",
    note_en="unique in the community; 1-20 letters, digits or '-'; keep the cell as text so leading zeros survive",
)
_BUILDING = Column(
    "building_code",
    "楼栋编码",
    "code",
    True,
    aliases=("楼栋代码", "楼号"),
    example=f"{EXAMPLE_MARK}-楼栋",
    note_zh="小区内唯一,设为文本格式",
    note_en="unique in the compound; keep as text",
)

BUILDING_COLUMNS: tuple[Column, ...] = (
    _COMMUNITY,
    _COMPOUND,
    Column(
        "compound_name",
        "小区名称",
        "text",
        True,
        aliases=("小区",),
        example="示例小区(导入前删除本行) example compound",
    ),
    Column("compound_build_year", "小区建成年份", "int", lo=1900, hi=2100, example=1958),
    _BUILDING,
    Column("building_name", "楼栋名称", "text", True, aliases=("楼栋",), example="示例楼 example building"),
    Column("storeys", "层数", "int", True, lo=1, hi=120, aliases=("楼层数", "总层数"), example=6),
    Column(
        "building_kind",
        "楼栋类型",
        "choice",
        choices=BUILDING_KINDS,
        example="步梯",
        note_zh="空白为步梯",
        note_en="blank = walkup",
    ),
    Column("has_lift", "有无电梯", "bool", aliases=("电梯",), example="否", note_zh="是/否", note_en="yes/no"),
    Column("build_year", "楼栋建成年份", "int", lo=1900, hi=2100, aliases=("建成年份",), example=1958),
    Column(
        "lat",
        "纬度",
        "float",
        lo=LAT_RANGE[0],
        hi=LAT_RANGE[1],
        aliases=("latitude",),
        example=29.5012,
        note_zh="WGS-84 十进制度,与经度同填或同空",
        note_en="WGS-84 decimal degrees; give both or neither",
    ),
    Column("lon", "经度", "float", lo=LON_RANGE[0], hi=LON_RANGE[1], aliases=("longitude",), example=106.5012),
)

DWELLING_COLUMNS: tuple[Column, ...] = (
    _COMMUNITY,
    _COMPOUND,
    _BUILDING,
    Column("unit", "单元", "text", True, max_len=10, aliases=("单元号",), example="1"),
    Column(
        "number",
        "房号",
        "text",
        True,
        max_len=12,
        aliases=("门牌号", "户号"),
        example="101",
        note_zh="单元内唯一",
        note_en="unique in the unit",
    ),
    Column("floor", "楼层", "int", True, lo=-10, hi=120, aliases=("所在楼层",), example=1),
    Column(
        "area",
        "面积",
        "decimal",
        True,
        lo=Decimal(1),
        hi=Decimal(5000),
        places=2,
        aliases=("建筑面积", "登记面积", "面积m2", "面积(m²)"),
        example="62.35",
        note_zh="专有部分建筑面积,平方米,1–5000,最多 2 位小数",
        note_en="exclusive floor area in m², 1-5000, at most 2 decimal places",
    ),
    Column(
        "area_source",
        "面积来源",
        "choice",
        choices=AREA_SOURCES,
        example="登记",
        note_zh="登记(不动产登记)优先,无则实测,再无则合同;空白为登记",
        note_en="register first, else survey, else contract (rules §1); blank = register",
    ),
    Column(
        "use",
        "用途",
        "choice",
        choices=USES,
        aliases=("房屋用途",),
        example="住宅",
        note_zh="空白为住宅",
        note_en="blank = residential",
    ),
    Column(
        "owner_name", "产权人", "text", aliases=("产权人姓名", "业主", "业主姓名"), example="示例业主 example owner"
    ),
    Column(
        "owner_kind",
        "产权人类型",
        "choice",
        choices=OWNER_KINDS,
        example="个人",
        note_zh="开发商未售房屋填“开发商”,同一小区合并为一个产权人",
        note_en="unsold dwellings: developer; one developer owner per compound",
    ),
    Column(
        "owner_id_number",
        "产权人身份证号",
        "id_number",
        aliases=("身份证号", "证件号", "身份证号码"),
        example=f"{EXAMPLE_MARK}-身份证号",
        note_zh="18 位,校验位按 GB 11643;设为文本格式;同一证件号为同一人",
        note_en="18 characters, GB 11643 checksum; keep as text; one ID number = one person",
    ),
    Column("owner_phone", "产权人电话", "phone", aliases=("联系电话", "电话", "手机"), example=f"{EXAMPLE_MARK}-电话"),
    Column(
        "share",
        "产权份额",
        "decimal",
        lo=Decimal("0.0001"),
        hi=Decimal(1),
        places=4,
        aliases=("份额",),
        example="1",
        note_zh="0–1,空白为 1",
        note_en="0-1, blank = 1",
    ),
    Column(
        "occupied",
        "是否有人居住",
        "bool",
        aliases=("有人居住",),
        example="是",
        note_zh="是/否;空白为不变",
        note_en="yes/no; blank = leave as is",
    ),
    Column(
        "owner_occupied",
        "业主自住",
        "bool",
        aliases=("自住",),
        example="是",
        note_zh="是/否;自住时产权人登记为户主",
        note_en="yes/no; if yes the owner is the head of household",
    ),
)


@dataclass(frozen=True)
class SheetSpec:
    kind: str  # buildings | dwellings
    title: str
    columns: tuple[Column, ...]

    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]


BUILDINGS = SheetSpec("buildings", "楼栋 buildings", BUILDING_COLUMNS)
DWELLINGS = SheetSpec("dwellings", "房屋 dwellings", DWELLING_COLUMNS)
SPECS = (BUILDINGS, DWELLINGS)
INSTRUCTIONS_TITLE = "说明 instructions"


def _norm(text: object) -> str:
    return re.sub(r"[\s_\-()()::/.]+", "", str(text)).lower()


def _aliases(spec: SheetSpec) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for col in spec.columns:
        for name in (col.header, col.zh, col.key, *col.aliases):
            out.setdefault(_norm(name), col)
    return out


_ALIASES = {spec.kind: _aliases(spec) for spec in SPECS}

# --------------------------------------------------------------------------------------------------
# Typed rows


@dataclass(slots=True)
class BuildingRow:
    row: int
    community_code: str
    compound_code: str
    compound_name: str
    compound_build_year: int | None
    building_code: str
    building_name: str
    storeys: int
    building_kind: str
    has_lift: bool
    build_year: int | None
    lat: float | None
    lon: float | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.community_code, self.compound_code, self.building_code)


@dataclass(slots=True)
class DwellingRow:
    row: int
    community_code: str
    compound_code: str
    building_code: str
    unit: str
    number: str
    floor: int
    area: Decimal
    area_source: str
    use: str
    owner_name: str
    owner_kind: str
    owner_id_number: str
    owner_phone: str
    share: Decimal
    occupied: bool | None
    owner_occupied: bool | None

    @property
    def building_key(self) -> tuple[str, str, str]:
        return (self.community_code, self.compound_code, self.building_code)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.community_code, self.compound_code, self.building_code, self.unit, self.number)

    @property
    def has_owner(self) -> bool:
        return bool(self.owner_name or self.owner_id_number or self.owner_kind == "developer")


@dataclass(slots=True)
class PartialRow:
    """A row with a cell problem whose codes could still be read: it is never written, but it takes
    part in every check across rows (duplicates, unknown buildings, floor above the storeys, the
    community's scope), so that all problems of a file come in one round."""

    row: int
    kind: str  # buildings | dwellings
    community_code: str
    compound_code: str
    building_code: str
    unit: str = ""
    number: str = ""
    floor: int | None = None
    storeys: int | None = None

    @property
    def building_key(self) -> tuple[str, str, str]:
        return (self.community_code, self.compound_code, self.building_code)

    @property
    def key(self) -> tuple[str, ...]:
        if self.kind == "buildings":
            return self.building_key
        return (*self.building_key, self.unit, self.number)


@dataclass
class Roster:
    buildings: list[BuildingRow] = field(default_factory=list)
    dwellings: list[DwellingRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # kind → sheet title as found in the file
    partial: list[PartialRow] = field(default_factory=list)  # rows with cell problems, for the checks

    def partial_of(self, kind: str) -> list[PartialRow]:
        return [p for p in self.partial if p.kind == kind]


class Problems:
    """A list of problems that stops growing at ``limit`` and says how many more there were."""

    def __init__(self, limit: int = MAX_PROBLEMS):
        self.items: list[Problem] = []
        self.limit = limit
        self.more = 0

    def add(self, problem: Problem) -> None:
        if len(self.items) < self.limit:
            self.items.append(problem)
        else:
            self.more += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.add(p)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items) + self.more

    def final(self) -> list[Problem]:
        if not self.more:
            return list(self.items)
        return [
            *self.items,
            Problem(
                "too_many_problems",
                f"……另有 {self.more} 个问题未列出,请先改正以上问题。",
                f"… and {self.more} more problems not listed; fix the ones above first.",
            ),
        ]


# --------------------------------------------------------------------------------------------------
# Cell values


class CellError(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_cell(col: Column, value: object) -> Any:
    """The typed value of one cell, ``None`` if empty; raises CellError with both languages."""
    text = _text(value)
    if text == "":
        if col.required:
            raise CellError("必填,不能为空。", "Required; the cell is empty.")
        return None
    t = col.type
    if t == "text":
        if len(text) > col.max_len:
            raise CellError(f"过长(最多 {col.max_len} 个字符)。", f"Too long (at most {col.max_len} characters).")
        return text
    if t == "code":
        if not _CODE_RE.match(text):
            raise CellError(
                f"编码“{text}”无效:须为 1–20 位字母、数字或 -。",
                f"Code {text!r} is not valid: use 1-20 letters, digits or '-'.",
            )
        return text
    if t == "community":
        text = text.strip("/")
        if not _COMMUNITY_RE.match(text):
            raise CellError(f"社区编码“{text}”无效。", f"Community code {text!r} is not valid.")
        return text
    if t == "int":
        if (isinstance(value, float) and not value.is_integer()) or not _INT_RE.match(text):
            raise CellError(f"“{text}”不是整数。", f"{text!r} is not a whole number.")
        n = int(Decimal(text))
        if col.lo is not None and col.hi is not None and not (col.lo <= n <= col.hi):
            raise CellError(f"{n} 超出范围({col.lo}–{col.hi})。", f"{n} is out of range ({col.lo}-{col.hi}).")
        return n
    if t == "decimal":
        try:
            d = Decimal(repr(value) if isinstance(value, float) else text.replace(",", ""))
        except InvalidOperation:
            raise CellError(f"“{text}”不是数字。", f"{text!r} is not a number.") from None
        if not d.is_finite():
            raise CellError(f"“{text}”不是数字。", f"{text!r} is not a number.")
        places = col.places or 0
        if d != d.quantize(Decimal(1).scaleb(-places)):
            raise CellError(
                f"{text} 小数位数过多(最多 {places} 位)。", f"{text} has too many decimal places (at most {places})."
            )
        if col.lo is not None and col.hi is not None and not (Decimal(col.lo) <= d <= Decimal(col.hi)):
            raise CellError(f"{text} 超出范围({col.lo}–{col.hi})。", f"{text} is out of range ({col.lo}-{col.hi}).")
        return d.quantize(Decimal(1).scaleb(-places))
    if t == "float":
        try:
            x = float(value) if isinstance(value, int | float) else float(text)
        except ValueError:
            raise CellError(f"“{text}”不是数字。", f"{text!r} is not a number.") from None
        if not math.isfinite(x) or (col.lo is not None and col.hi is not None and not (col.lo <= x <= col.hi)):
            raise CellError(
                f"{text} 超出范围({col.lo}–{col.hi}),经纬度是否填反?",
                f"{text} is out of range ({col.lo}-{col.hi}); are latitude and longitude swapped?",
            )
        return x
    if t == "choice":
        low = text.lower()
        for choice, spellings in col.choices:
            if low in spellings:
                return choice
        raise CellError(f"“{text}”不是可选值:{col.choice_text()}。", f"{text!r} is not one of: {col.choice_text()}.")
    if t == "bool":
        low = text.lower()
        if low in _YES:
            return True
        if low in _NO:
            return False
        raise CellError(f"“{text}”应为 是 或 否。", f"{text!r} should be yes (是) or no (否).")
    if t == "id_number":
        number = normalise_id_number(text)
        if not is_valid_id_number(number):
            hint_zh = ";该单元格可能被 Excel 转成了数字,请设为文本" if re.search(r"[eE]\+|\.", text) else ""
            hint_en = "; Excel may have turned the cell into a number, keep it as text" if hint_zh else ""
            raise CellError(
                f"身份证号无效(18 位,校验位不符 GB 11643){hint_zh}。",
                f"Not a valid ID number (18 characters, GB 11643 checksum){hint_en}.",
            )
        return number
    if t == "phone":
        phone = text.replace(" ", "")
        if not (is_valid_phone(phone) or _LANDLINE_RE.match(phone)):
            raise CellError(
                f"电话“{text}”无效(11 位手机号或 023-12345678)。",
                f"Phone {text!r} is not valid (11-digit mobile or 023-12345678).",
            )
        return phone
    raise AssertionError(t)


# --------------------------------------------------------------------------------------------------
# Reading files


@dataclass
class Sheet:
    title: str
    rows: Iterator[tuple[Any, ...]]  # from the header row on; row 1 first


def _bad_file(zh: str, en: str) -> Problem:
    return Problem("bad_file", zh, en)


def _read_bytes(stream: BinaryIO | IO[bytes]) -> bytes:
    if hasattr(stream, "seek"):
        stream.seek(0)
    data = stream.read()
    return data if isinstance(data, bytes) else bytes(data)


NOT_UTF8 = (
    "文件不是 UTF-8 编码。请在 Excel 中“另存为”选择“CSV UTF-8(逗号分隔)”后重新上传,或选择 GB18030 编码导入。",
    'The file is not UTF-8. In Excel use "Save As" → "CSV UTF-8 (Comma delimited)" and upload again, '
    "or choose the GB18030 encoding.",
)


def open_sheets(stream: BinaryIO | IO[bytes], filename: str, encoding: str | None = None) -> list[Sheet]:
    """The sheets of an .xlsx or the one table of a .csv; raises ValueError(Problem) if unreadable."""
    name = filename.lower()
    if name.endswith(".xls") or name.endswith(".et"):
        raise FileProblem(
            _bad_file(
                "不支持旧版 .xls 文件,请在 Excel 中另存为 .xlsx 后上传。",
                "Old .xls files are not supported; save it as .xlsx in Excel and upload again.",
            )
        )
    if name.endswith(".csv") or name.endswith(".txt"):
        return [_csv_sheet(_read_bytes(stream), filename, encoding)]
    if not name.endswith((".xlsx", ".xlsm")):
        raise FileProblem(_bad_file("只能导入 .xlsx 或 .csv 文件。", "Only .xlsx or .csv files can be imported."))
    if hasattr(stream, "seek"):
        stream.seek(0)
    head = stream.read(4)
    if hasattr(stream, "seek"):
        stream.seek(0)
    if head != b"PK\x03\x04":
        raise FileProblem(
            _bad_file(
                "文件不是有效的 .xlsx 表格(可能已损坏,或只是改了扩展名)。",
                "The file is not a valid .xlsx spreadsheet (damaged, or only renamed).",
            )
        )
    try:
        return _xlsx_sheets(stream)  # every row as it is really there (a stored size may be wrong)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError) as exc:
        raise FileProblem(
            _bad_file(
                "文件不是有效的 .xlsx 表格(无法打开)。",
                f"The file is not a valid .xlsx spreadsheet ({type(exc).__name__}).",
            )
        ) from None


def count_rows(data: bytes, filename: str) -> int:
    """About how many data rows a roster file has, cheaply (for a progress bar's total before it is
    read): the sizes .xlsx sheets declare (<dimension>), or the lines of a .csv; 0 if unknown."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        total = 0
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for name in zf.namelist():
                    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                        with zf.open(name) as f:
                            m = _DIMENSION_RE.search(f.read(4096))
                        if m:
                            total += max(0, int(m.group(1)) - 1)
        except (zipfile.BadZipFile, OSError, ValueError, KeyError):
            return 0
        return total
    return max(0, data.count(b"\n") - 1)


_DIMENSION_RE = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


# --- a lean .xlsx reader -------------------------------------------------------------------------
# openpyxl's read-only mode builds a Python object tree per cell (descriptors, Text objects): about
# 40 s for a 60,000-row roster on this machine, most of an import. The importer needs only the
# values, so the sheets are read here with the standard library's C XML parser straight from the
# zip (≈8x faster), with openpyxl's rules for values: shared and inline strings (rich-text runs
# joined, phonetic runs left out), numbers as int unless they have a '.' or an exponent, booleans,
# formula results (data only), ISO dates, and numbers in a date style as datetimes. Rows keep their
# numbers (missing rows come as empty tuples), cells their columns (gaps are None).
# Untrusted XML: the standard library's expat (≥ 2.4) refuses entity-expansion bombs and the
# ElementTree parser never fetches external entities, the same parser openpyxl uses; a damaged or
# hostile part raises ValueError, which the importer reports as a bad file.

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_WORKSHEET_REL = "/worksheet"
_C, _ROW, _V, _IS, _T, _R = (_MAIN + x for x in ("c", "row", "v", "is", "t", "r"))
_COL_RE = re.compile(r"[A-Z]+")


def _col_index(ref: str) -> int:
    """0-based column of a cell reference ("A1" → 0, "AB7" → 27)."""
    m = _COL_RE.match(ref)
    if m is None:
        raise ValueError(f"bad cell reference {ref!r}")
    n = 0
    for ch in m.group():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _rich_text(node: Any) -> str:
    """The text of an <si> or <is>: its <t>, then the <t> of each <r> run (no phonetic <rPh>)."""
    parts = []
    for child in node:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            t = child.find(_T)
            if t is not None and t.text:
                parts.append(t.text)
    return "".join(parts)


def _shared_strings(zf: zipfile.ZipFile, path: str) -> list[str]:
    from xml.etree.ElementTree import iterparse

    strings: list[str] = []
    si = _MAIN + "si"
    with zf.open(path) as f:
        for _, node in iterparse(f):  # noqa: S314 (see _MAIN)
            if node.tag == si:
                strings.append(_rich_text(node).replace("x005F_", ""))
                node.clear()
    return strings


def _date_styles(zf: zipfile.ZipFile, path: str | None) -> tuple[frozenset[int], frozenset[int]]:
    """Style ids whose number format is a date (and of those, a duration: [h]:mm)."""
    if path is None:
        return frozenset(), frozenset()
    from xml.etree.ElementTree import fromstring

    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    root = fromstring(zf.read(path))  # noqa: S314
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    for nf in root.iter(_MAIN + "numFmt"):
        try:
            formats[int(nf.get("numFmtId", ""))] = nf.get("formatCode", "")
        except ValueError:
            continue
    dates: set[int] = set()
    durations: set[int] = set()
    xfs = root.find(_MAIN + "cellXfs")
    for i, xf in enumerate(xfs if xfs is not None else ()):
        fmt = formats.get(int(xf.get("numFmtId", "0") or 0), "")
        if fmt and is_date_format(fmt):
            dates.add(i)
            if is_timedelta_format(fmt):
                durations.add(i)
    return frozenset(dates), frozenset(durations)


def _part(base: str, target: str) -> str:
    import posixpath

    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _xlsx_sheets(stream: BinaryIO | IO[bytes]) -> list[Sheet]:
    """The worksheets of an .xlsx, in the workbook's order, each with a lazy iterator of rows."""
    from xml.etree.ElementTree import ParseError, fromstring

    zf = zipfile.ZipFile(stream)
    try:
        workbook = fromstring(zf.read("xl/workbook.xml"))  # noqa: S314
        rels = fromstring(zf.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    except ParseError as exc:
        raise ValueError(str(exc)) from None
    by_id: dict[str, tuple[str, str]] = {}
    strings_path = styles_path = None
    for rel in rels.iter(_PKG_REL):
        kind, target = rel.get("Type", ""), _part("xl/workbook.xml", rel.get("Target", ""))
        by_id[rel.get("Id", "")] = (kind, target)
        if kind.endswith("/sharedStrings"):
            strings_path = target
        elif kind.endswith("/styles"):
            styles_path = target
    pr = workbook.find(_MAIN + "workbookPr")
    date1904 = pr is not None and pr.get("date1904", "").lower() in ("1", "true")
    strings = _shared_strings(zf, strings_path) if strings_path else []
    dates, durations = _date_styles(zf, styles_path)
    sheets = []
    for sheet in workbook.iter(_MAIN + "sheet"):
        kind, target = by_id.get(sheet.get(_DOC_REL, ""), ("", ""))
        if kind.endswith(_WORKSHEET_REL):
            rows = _xlsx_rows(zf, target, _Book(strings, dates, durations, date1904))
            sheets.append(Sheet(sheet.get("name", ""), rows))
    return sheets


class _Book:
    """What reading a cell's value needs from the workbook: shared strings and date styles."""

    def __init__(self, strings: list[str], dates: frozenset[int], durations: frozenset[int], date1904: bool):
        self.strings, self.dates, self.durations, self.date1904 = strings, dates, durations, date1904

    def value(self, t: str | None, s: str | None, raw: str | None) -> Any:
        """A cell's value from its type ``t``, style ``s`` and the text of its <v> (openpyxl's rules)."""
        if not raw:
            return None
        if t is None or t == "n":
            value: Any = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
            if s and int(s) in self.dates:
                value = _excel_date(value, self.date1904, int(s) in self.durations)
            return value
        if t == "s":
            return self.strings[int(raw)]
        if t == "b":
            return bool(int(raw))
        if t == "d":
            from datetime import datetime

            return datetime.fromisoformat(raw.rstrip("Z"))
        return raw  # "str" (a formula's text) and "e" (an error like #N/A) stay text


def _xlsx_rows(zf: zipfile.ZipFile, path: str, book: _Book) -> Iterator[tuple[Any, ...]]:
    with zf.open(path) as f:
        head = f.read(4096)
    # The fast reader knows the plain form every common writer uses (Excel, WPS, LibreOffice,
    # openpyxl): UTF-8, no namespace prefix on the sheet's elements. Anything else: the XML parser.
    plain = _PLAIN_SHEET_RE.search(head) is not None and _OTHER_ENCODING_RE.search(head) is None
    try:
        yield from (_xlsx_rows_fast if plain else _xlsx_rows_parsed)(zf, path, book)
    except (IndexError, UnicodeDecodeError) as exc:  # a damaged sheet: the importer reports a bad file
        raise ValueError(str(exc)) from None


_PLAIN_SHEET_RE = re.compile(rb"^(?:\xef\xbb\xbf)?(?:<\?xml[^>]*\?>\s*)?<worksheet\b")
_OTHER_ENCODING_RE = re.compile(rb"^[^>]*encoding=[\"'](?!utf-8|UTF-8)")
# One match per cell (value, inline string, or anything else in group 4), row start or row end.
_CELL_RE = re.compile(
    r"<c\b([^>]*?)(?:/>|>(?:<v>([^<]*)</v>|<is><t(?: [^>]*)?>([^<]*)</t></is>|(.*?))</c>)|(</row>)|<row\b([^>]*)>",
    re.S,
)
_ATTR_RE = re.compile(r'(?:^|\s)([rst])="([^"]*)"')
_ATTR_QUOTED_RE = re.compile(r"""(?:^|\s)([rst])\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attrs(text: str) -> dict[str, str]:
    """The r, s and t attributes of a <c> or <row> (double quotes as every writer uses; single
    quotes and spaces around '=' are valid XML too)."""
    if "'" not in text and " =" not in text and "= " not in text:
        return dict(_ATTR_RE.findall(text))
    return {k: a or b for k, a, b in _ATTR_QUOTED_RE.findall(text)}


def _xml_text(text: str) -> str:
    if "&" in text:
        import html

        text = html.unescape(text)
    return text.replace("\r\n", "\n") if "\r" in text else text


def _xlsx_rows_fast(zf: zipfile.ZipFile, path: str, book: _Book) -> Iterator[tuple[Any, ...]]:
    """Rows by one regular expression over the sheet's XML, read 1 MB at a time (cut after a
    ``</row>``); a cell in an unusual form (rich text, a formula …) goes through the XML parser."""
    from xml.etree.ElementTree import ParseError, fromstring

    expected = 1
    cells: list[Any] = []
    col = -1
    rest = b""
    with zf.open(path) as f:
        while True:
            chunk = f.read(1 << 20)
            buf = rest + chunk
            if chunk:
                cut = buf.rfind(b"</row>")
                if cut < 0:
                    rest = buf
                    continue
                piece, rest = buf[: cut + 6], buf[cut + 6 :]
            else:
                piece, rest = buf, b""
            for m in _CELL_RE.finditer(piece.decode("utf-8")):
                attrs, v, inline, other, row_end, row_attrs = m.groups()
                if attrs is not None:
                    a = _attrs(attrs)
                    ref = a.get("r")
                    col = _col_index(ref) if ref else col + 1
                    t = a.get("t")
                    if inline is not None:
                        value: Any = _xml_text(inline) if t == "inlineStr" else None
                    elif v is not None:
                        value = book.value(t, a.get("s"), _xml_text(v))
                    elif other:
                        try:
                            el = fromstring(f'<c xmlns="{_MAIN[1:-1]}" {attrs}>{other}</c>')  # noqa: S314
                        except ParseError as exc:
                            raise ValueError(str(exc)) from None
                        value = _cell_of(el, book)
                    else:
                        value = None
                    if col >= len(cells):
                        cells.extend([None] * (col - len(cells) + 1))
                    cells[col] = value
                elif row_end is not None or (row_attrs is not None and row_attrs.rstrip().endswith("/")):
                    r = _attrs(row_attrs).get("r") if row_attrs is not None else None
                    if row_attrs is not None:  # <row r="5"/>: an empty row
                        cells, col = [], -1
                    n = int(r) if r else expected
                    while expected < n:
                        expected += 1
                        yield ()
                    expected = n + 1
                    yield tuple(cells)
                    cells, col = [], -1
                else:  # <row r="…">: remember its number for the </row>
                    r = _attrs(row_attrs or "").get("r")
                    if r:
                        n = int(r)
                        while expected < n:
                            expected += 1
                            yield ()
            if not chunk:
                return


def _cell_of(el: Any, book: _Book) -> Any:
    t = el.get("t")
    if t == "inlineStr":
        node = el.find(_IS)
        return _rich_text(node) if node is not None else None
    return book.value(t, el.get("s"), el.findtext(_V))


def _xlsx_rows_parsed(zf: zipfile.ZipFile, path: str, book: _Book) -> Iterator[tuple[Any, ...]]:
    from xml.etree.ElementTree import ParseError, iterparse

    expected = 1  # the next row number
    cells: list[Any] = []
    col = -1
    try:
        with zf.open(path) as f:
            for _, el in iterparse(f):  # noqa: S314
                tag = el.tag
                if tag == _C:
                    ref = el.get("r")
                    col = _col_index(ref) if ref else col + 1
                    value = _cell_of(el, book)
                    if col >= len(cells):
                        cells.extend([None] * (col - len(cells) + 1))
                    cells[col] = value
                elif tag == _ROW:
                    r = el.get("r")
                    n = int(r) if r else expected
                    while expected < n:
                        expected += 1
                        yield ()
                    expected = n + 1
                    yield tuple(cells)
                    cells, col = [], -1
                    el.clear()
    except ParseError as exc:
        raise ValueError(str(exc)) from None


def _excel_date(value: float, date1904: bool, duration: bool) -> Any:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    try:
        return from_excel(value, CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900, timedelta=duration)
    except (OverflowError, ValueError):
        return "#VALUE!"


class FileProblem(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.en)
        self.problem = problem


def _csv_sheet(data: bytes, filename: str, encoding: str | None) -> Sheet:
    enc = (encoding or "utf-8").lower().replace("_", "-")
    if enc in {"gbk", "gb2312", "gb18030", "cp936"}:
        enc = "gb18030"
    elif enc in {"utf-8", "utf8", "utf-8-sig"}:
        enc = "utf-8-sig"
    else:
        raise FileProblem(
            _bad_file(
                f"不支持的编码“{encoding}”(可选 UTF-8 或 GB18030)。",
                f"Unsupported encoding {encoding!r} (UTF-8 or GB18030).",
            )
        )
    if b"\x00" in data[:4096]:
        raise FileProblem(
            _bad_file(
                "文件不是文本格式的 CSV(可能是 UTF-16 或二进制文件)。",
                "The file is not a text CSV (UTF-16 or binary?).",
            )
        )
    try:
        text = data.decode(enc)
    except UnicodeDecodeError:
        raise FileProblem(Problem("not_utf8", *NOT_UTF8)) from None
    first = text.split("\n", 1)[0]
    delimiter = ","
    if first.count(",") == 0:
        if first.count("\t") > 0:
            delimiter = "\t"
        elif first.count(";") > 0:
            delimiter = ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return Sheet(filename, (tuple(r) for r in reader))


def _blank(row: tuple[Any, ...]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _kind_of(title: str, header: list[str]) -> SheetSpec | None:
    low = title.lower()
    if "instruction" in low or "说明" in title:
        return None
    for spec in SPECS:
        if spec.kind in low or spec.title.split()[0] in title:
            return spec
    scores = []
    for spec in SPECS:
        aliases = _ALIASES[spec.kind]
        cols = {aliases[_norm(h)] for h in header if h and _norm(h) in aliases}
        only_here = [c for c in cols if c not in (BUILDING_COLUMNS if spec is DWELLINGS else DWELLING_COLUMNS)]
        scores.append((len(only_here), len(cols), spec))
    scores.sort(key=lambda s: (s[0], s[1]), reverse=True)
    best = scores[0]
    return best[2] if best[0] > 0 else None


def _expected(spec: SheetSpec, sep: str = "、") -> tuple[str, str]:
    req = sep.join(c.header for c in spec.required())
    opt = sep.join(c.header for c in spec.columns if not c.required)
    return req, opt


def _map_header(spec: SheetSpec, header: list[Any], where: str) -> tuple[list[tuple[int, Column]], list[Problem]]:
    aliases = _ALIASES[spec.kind]
    positions: list[tuple[int, Column]] = []
    seen: dict[str, int] = {}
    unknown: list[str] = []
    dup: list[str] = []
    for i, h in enumerate(header):
        text = _text(h)
        if not text:
            continue
        col = aliases.get(_norm(text))
        if col is None:
            unknown.append(text)
        elif col.key in seen:
            dup.append(text)
        else:
            seen[col.key] = i
            positions.append((i, col))
    missing = [c.header for c in spec.required() if c.key not in seen]
    if not (missing or unknown or dup):
        return positions, []
    req, opt = _expected(spec)
    req_en, opt_en = _expected(spec, ", ")
    zh = [f"{where}列名不符合模板。"]
    en = [f"{where}The columns do not match the template."]
    if missing:
        zh.append(f"缺少:{'、'.join(missing)}。")
        en.append(f"Missing: {', '.join(missing)}.")
    if unknown:
        zh.append(f"无法识别:{'、'.join(unknown)}。")
        en.append(f"Not recognised: {', '.join(unknown)}.")
    if dup:
        zh.append(f"重复:{'、'.join(dup)}。")
        en.append(f"Duplicated: {', '.join(dup)}.")
    zh.append(f"必需列:{req};可选列:{opt}。请下载模板对照。")
    en.append(f"Required: {req_en}. Optional: {opt_en}. Download the template to compare.")
    return positions, [Problem("columns", "".join(zh), " ".join(en), row=1)]


def read_roster(
    stream: BinaryIO | IO[bytes],
    filename: str,
    *,
    encoding: str | None = None,
    max_rows: int = MAX_ROWS,
    progress: Callable[[int], None] | None = None,
    problems: Problems | None = None,
) -> Roster:
    """Read and check a roster file. ``progress(rows_read)`` is called every 1000 rows.

    Problems go to ``roster.problems`` (capped, with "and N more"); pass ``problems`` to keep
    collecting into the same list afterwards (the service adds what the database says)."""
    roster = Roster()
    problems = Problems() if problems is None else problems
    try:
        sheets = open_sheets(stream, filename, encoding)
    except FileProblem as exc:
        problems.add(exc.problem)
        roster.problems = problems.final()
        return roster
    multi = len(sheets) > 1
    for sheet in sheets:
        # progress counts the rows of every sheet read so far (one bar for the whole file)
        base = len(roster.buildings) + len(roster.dwellings) + len(roster.partial)
        report = (lambda n, base=base: progress(base + n)) if progress is not None else None
        try:
            _read_sheet(sheet, roster, problems, multi, max_rows, report)
        except FileProblem as exc:
            problems.add(exc.problem)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, csv.Error) as exc:
            problems.add(
                _bad_file(
                    f"读取“{sheet.title}”时出错,文件可能已损坏。",
                    f"Could not read {sheet.title!r} ({type(exc).__name__}); the file may be damaged.",
                )
            )
    if not problems and not roster.labels:
        req_b, _ = _expected(BUILDINGS)
        req_d, _ = _expected(DWELLINGS)
        problems.add(
            Problem(
                "columns",
                f"文件中找不到楼栋或房屋表。楼栋表须有列:{req_b};房屋表须有列:{req_d}。",
                f"No buildings or dwellings table found. Buildings need: {_expected(BUILDINGS, ', ')[0]}. "
                f"Dwellings need: {_expected(DWELLINGS, ', ')[0]}.",
                row=1,
            )
        )
    elif not problems and not roster.buildings and not roster.dwellings:
        problems.add(Problem("empty", "文件只有表头,没有数据行。", "The file has a header but no data rows."))
    _check_duplicates(roster, problems)
    roster.problems = problems.final()
    return roster


def _read_sheet(
    sheet: Sheet, roster: Roster, problems: Problems, multi: bool, max_rows: int, progress: Callable[[int], None] | None
) -> None:
    header: list[Any] | None = None
    header_row = 0
    rows = enumerate(sheet.rows, start=1)
    for n, row in rows:
        if not _blank(row):
            header, header_row = list(row), n
            break
    if header is None:
        if not multi:
            raise FileProblem(Problem("empty", "文件是空的。", "The file is empty."))
        return
    spec = _kind_of(sheet.title if multi else "", [_text(h) for h in header])
    if spec is None:
        if multi:
            return  # instructions, or a sheet of the person's own (notes, lookups): not ours to judge
        req_b, _ = _expected(BUILDINGS)
        req_d, _ = _expected(DWELLINGS)
        problems.add(
            Problem(
                "columns",
                f"无法识别表头,既不是楼栋表也不是房屋表。楼栋表须有列:{req_b};房屋表须有列:{req_d}。",
                "The header is neither a buildings nor a dwellings table. Buildings need: "
                f"{_expected(BUILDINGS, ', ')[0]}. Dwellings need: {_expected(DWELLINGS, ', ')[0]}.",
                row=header_row,
            )
        )
        return
    if spec.kind in roster.labels:
        problems.add(
            Problem(
                "duplicate_sheet",
                f"有两个{spec.title}表:“{roster.labels[spec.kind]}”和“{sheet.title}”。",
                f"Two {spec.kind} sheets: {roster.labels[spec.kind]!r} and {sheet.title!r}.",
            )
        )
        return
    roster.labels[spec.kind] = sheet.title if multi else spec.title
    where = f"“{sheet.title}”表:" if multi else ""
    positions, col_problems = _map_header(spec, header, where)
    if col_problems:
        problems.extend([Problem(p.code, p.zh, p.en, header_row) for p in col_problems])
        return
    prefix = f"{spec.title} · " if multi else ""
    labels = {col.key: prefix + col.header for _, col in positions}
    present = {col.key for _, col in positions}
    absent = [c for c in spec.columns if c.key not in present]
    marked = [(i, col) for i, col in positions if col.type in _EXAMPLE_TYPES]  # where an example shows
    make = _make_building if spec is BUILDINGS else _make_dwelling
    out: list[Any] = roster.buildings if spec is BUILDINGS else roster.dwellings
    count = 0
    for n, row in rows:
        if _blank(row):
            continue
        count += 1
        if count > max_rows:
            problems.add(
                Problem(
                    "too_many_rows",
                    f"{where}超过 {max_rows} 行,请按社区拆分文件后分别导入。",
                    f"{where}More than {max_rows} rows; split the file by community and import each.",
                    row=n,
                )
            )
            return
        width = len(row)
        example = _example_column(marked, row, width)
        if example is not None:
            problems.add(
                Problem(
                    "example_row",
                    f"这是模板的示例行,请删除此行(示例行标有“{EXAMPLE_MARK}”)。",
                    f"This is the template's example row; delete it (example rows are marked {EXAMPLE_MARK}).",
                    row=n,
                    column=labels[example.key],
                )
            )
            continue
        values: dict[str, Any] = {c.key: None for c in absent}
        bad_keys: set[str] = set()
        for i, col in positions:
            try:
                values[col.key] = parse_cell(col, row[i] if i < width else None)
            except CellError as err:
                problems.add(Problem("value", err.zh, err.en, row=n, column=labels[col.key]))
                values[col.key] = None
                bad_keys.add(col.key)
        if not bad_keys:
            record, row_problems = make(n, values, labels)
            if row_problems:
                problems.extend(row_problems)
                partial = _partial(spec, n, values)
                if partial is not None:
                    roster.partial.append(partial)
            else:
                out.append(record)
        else:
            # The row is not imported, but its other checks still run now, not in a second round.
            _, row_problems = make(n, values, labels)
            problems.extend(p for p in row_problems if not (p.column and _column_key(p.column) in bad_keys))
            partial = _partial(spec, n, values)
            if partial is not None:
                roster.partial.append(partial)
        if progress is not None and count % 1000 == 0:
            progress(count)


def _example_column(marked: list[tuple[int, Column]], row: tuple[Any, ...], width: int) -> Column | None:
    """The first code or personal-data column of ``row`` holding the template's example marker."""
    for i, col in marked:
        if i < width:
            value = row[i]
            if isinstance(value, str) and _EXAMPLE_RE.search(value):
                return col
    return None


def _column_key(label: str) -> str:
    """The column key at the end of a label such as "房屋 dwellings · 面积 area"."""
    return label.rsplit(" ", 1)[-1]


_KEYS = {
    "buildings": ("community_code", "compound_code", "building_code"),
    "dwellings": ("community_code", "compound_code", "building_code", "unit", "number"),
}


def _partial(spec: SheetSpec, n: int, v: dict[str, Any]) -> PartialRow | None:
    """A row that is not imported but whose codes were read: kept for the checks across rows."""
    if any(v.get(k) is None for k in _KEYS[spec.kind]):
        return None
    if spec is BUILDINGS:
        return PartialRow(
            n, "buildings", v["community_code"], v["compound_code"], v["building_code"], storeys=v["storeys"]
        )
    return PartialRow(
        n,
        "dwellings",
        v["community_code"],
        v["compound_code"],
        v["building_code"],
        unit=v["unit"],
        number=v["number"],
        floor=v["floor"],
    )


def _make_building(n: int, v: dict[str, Any], labels: dict[str, str]) -> tuple[BuildingRow, list[Problem]]:
    problems = []
    if (v["lat"] is None) != (v["lon"] is None):
        problems.append(
            Problem(
                "value",
                "纬度和经度须同时填写或同时留空。",
                "Give both latitude and longitude, or neither.",
                row=n,
                column=labels.get("lat") or labels.get("lon"),
            )
        )
    return BuildingRow(
        n,
        v["community_code"],
        v["compound_code"],
        v["compound_name"],
        v["compound_build_year"],
        v["building_code"],
        v["building_name"],
        v["storeys"],
        v["building_kind"] or "walkup",
        bool(v["has_lift"]),
        v["build_year"],
        v["lat"],
        v["lon"],
    ), problems


def _make_dwelling(n: int, v: dict[str, Any], labels: dict[str, str]) -> tuple[DwellingRow, list[Problem]]:
    problems = []
    kind = v["owner_kind"] or ("person" if (v["owner_name"] or v["owner_id_number"]) else "")
    if kind in {"person", "organisation"} and not v["owner_name"]:
        problems.append(
            Problem(
                "value",
                "填写了产权人信息,但缺少产权人姓名。",
                "Owner details given but no owner name.",
                row=n,
                column=labels.get("owner_name", "owner_name"),
            )
        )
    if not kind and (v["owner_phone"] or v["share"] is not None or v["owner_occupied"]):
        problems.append(
            Problem(
                "value",
                "填写了电话、份额或自住,但没有产权人。",
                "Phone, share or owner-occupied given but no owner.",
                row=n,
                column=labels.get("owner_name", "owner_name"),
            )
        )
    if v["owner_occupied"] and v["occupied"] is False:
        problems.append(
            Problem(
                "value",
                "“业主自住”为是,但“是否有人居住”为否。",
                "Owner-occupied is yes but occupied is no.",
                row=n,
                column=labels.get("occupied"),
            )
        )
    return DwellingRow(
        n,
        v["community_code"],
        v["compound_code"],
        v["building_code"],
        v["unit"],
        v["number"],
        v["floor"],
        v["area"],
        v["area_source"] or "register",
        v["use"] or "residential",
        v["owner_name"] or "",
        kind,
        v["owner_id_number"] or "",
        v["owner_phone"] or "",
        v["share"] if v["share"] is not None else Decimal(1),
        v["occupied"],
        v["owner_occupied"],
    ), problems


def _check_duplicates(roster: Roster, problems: Problems) -> None:
    b_label = roster.labels.get("buildings", "")
    d_label = roster.labels.get("dwellings", "")
    seen_b: dict[tuple[str, ...], BuildingRow | PartialRow] = {}
    compounds: dict[tuple[str, str], BuildingRow] = {}
    all_b: list[BuildingRow | PartialRow] = [*roster.buildings, *roster.partial_of("buildings")]
    for b in sorted(all_b, key=lambda x: x.row):
        first = seen_b.setdefault(b.key, b)
        if first is not b:
            problems.add(
                Problem(
                    "duplicate",
                    f"与第 {first.row} 行是同一楼栋(社区 {b.community_code}、小区 "
                    f"{b.compound_code}、楼栋 {b.building_code})。",
                    f"Same building as row {first.row} (community {b.community_code}, compound "
                    f"{b.compound_code}, building {b.building_code}).",
                    row=b.row,
                    column=b_label or None,
                )
            )
        if isinstance(b, PartialRow):
            continue
        c = compounds.setdefault((b.community_code, b.compound_code), b)
        if c is not b and (
            c.compound_name != b.compound_name
            or (
                b.compound_build_year is not None
                and c.compound_build_year is not None
                and c.compound_build_year != b.compound_build_year
            )
        ):
            problems.add(
                Problem(
                    "conflict",
                    f"小区 {b.compound_code} 的名称或建成年份与第 {c.row} 行不一致。",
                    f"Compound {b.compound_code} has a different name or build year than in row {c.row}.",
                    row=b.row,
                    column=b_label or None,
                )
            )
    seen_d: dict[tuple[str, ...], int] = {}
    people: dict[str, tuple[str, int]] = {}
    all_d: list[DwellingRow | PartialRow] = [*roster.dwellings, *roster.partial_of("dwellings")]
    for d in sorted(all_d, key=lambda x: x.row):
        first_row = seen_d.setdefault(d.key, d.row)
        if first_row != d.row:
            problems.add(
                Problem(
                    "duplicate",
                    f"与第 {first_row} 行是同一房屋({d.building_code} 栋 {d.unit} 单元 {d.number})。",
                    f"Same dwelling as row {first_row} (building {d.building_code}, unit {d.unit}, number {d.number}).",
                    row=d.row,
                    column=d_label or None,
                )
            )
        if isinstance(d, PartialRow):
            continue
        if d.owner_id_number:
            name, row = people.setdefault(d.owner_id_number, (d.owner_name, d.row))
            if name != d.owner_name:
                problems.add(
                    Problem(
                        "conflict",
                        f"同一身份证号在第 {row} 行的产权人是“{name}”,此处是“{d.owner_name}”。",
                        f"The same ID number belongs to {name!r} in row {row} but {d.owner_name!r} here.",
                        row=d.row,
                        column=d_label or None,
                    )
                )


# --------------------------------------------------------------------------------------------------
# Boundaries (GeoJSON)

BOUNDARY_KINDS = ("community", "compound", "building", "grid")


@dataclass(slots=True)
class BoundaryFeature:
    number: int  # 1-based position in the FeatureCollection
    kind: str | None
    code: str
    path: str
    geometry: dict[str, Any]
    centroid: tuple[float, float]  # (lat, lon)


def _feature_problem(n: int, zh: str, en: str) -> Problem:
    return Problem("boundary", f"第 {n} 个要素:{zh}", f"Feature {n}: {en}")


def _check_ring(ring: object) -> tuple[str, str] | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return ("环至少需要 4 个坐标(首尾相同)。", "a ring needs at least 4 positions (first = last).")
    for pos in ring:
        if (
            not isinstance(pos, list)
            or len(pos) < 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in pos[:2])
        ):
            return ("坐标须为 [经度, 纬度] 数字。", "positions must be [lon, lat] numbers.")
        lon, lat = pos[0], pos[1]
        if not (LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
            return (
                f"坐标 [{lon}, {lat}] 超出范围(经度 {LON_RANGE[0]}–{LON_RANGE[1]},纬度 {LAT_RANGE[0]}–"
                f"{LAT_RANGE[1]});顺序应为 [经度, 纬度]。",
                f"position [{lon}, {lat}] is out of range (lon {LON_RANGE[0]}-{LON_RANGE[1]}, lat "
                f"{LAT_RANGE[0]}-{LAT_RANGE[1]}); the order is [lon, lat].",
            )
    if ring[0][:2] != ring[-1][:2]:
        return ("环未闭合:首尾坐标须相同。", "the ring is not closed: the first and last positions must be equal.")
    return None


def _ring_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    """(signed area, centroid lon, centroid lat) of a closed ring, planar (fine at compound scale)."""
    a = cx = cy = 0.0
    x0, y0 = ring[0][0], ring[0][1]
    for (x1, y1), (x2, y2) in zip(
        ((p[0] - x0, p[1] - y0) for p in ring[:-1]), ((p[0] - x0, p[1] - y0) for p in ring[1:]), strict=True
    ):
        cross = x1 * y2 - x2 * y1
        a += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if abs(a) < 1e-18:
        xs = [p[0] for p in ring[:-1]]
        ys = [p[1] for p in ring[:-1]]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return a / 2, x0 + cx / (3 * a), y0 + cy / (3 * a)


def geometry_centroid(geometry: dict[str, Any]) -> tuple[float, float]:
    """(lat, lon) of a Polygon/MultiPolygon: area-weighted over the outer rings."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    total = sx = sy = 0.0
    fallback: tuple[float, float] | None = None
    for poly in polygons:
        area, x, y = _ring_centroid(poly[0])
        fallback = fallback or (y, x)
        total += abs(area)
        sx += abs(area) * x
        sy += abs(area) * y
    if total == 0:
        assert fallback is not None
        return fallback
    return sy / total, sx / total


def parse_boundaries(data: bytes | str) -> tuple[list[BoundaryFeature], list[Problem]]:
    problems = Problems()
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        where = f"第 {exc.lineno} 行第 {exc.colno} 列" if isinstance(exc, json.JSONDecodeError) else ""
        where_en = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        return [], [Problem("bad_json", f"文件不是有效的 JSON{where}。", f"The file is not valid JSON{where_en}.")]
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        return [], [
            Problem(
                "bad_geojson",
                "须为 GeoJSON FeatureCollection(含 features 数组)。",
                "Expected a GeoJSON FeatureCollection with a features array.",
            )
        ]
    if not doc["features"]:
        return [], [Problem("empty", "FeatureCollection 中没有要素。", "The FeatureCollection has no features.")]
    out: list[BoundaryFeature] = []
    seen: dict[tuple[str | None, str, str], int] = {}
    for n, feat in enumerate(doc["features"], start=1):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.add(_feature_problem(n, "不是 Feature。", "not a Feature."))
            continue
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        kind = props.get("kind")
        code = _text(props.get("code"))
        path = _text(props.get("path")).strip("/")
        if kind is not None and kind not in BOUNDARY_KINDS:
            problems.add(
                _feature_problem(
                    n, f"kind 须为 {'/'.join(BOUNDARY_KINDS)}。", f"kind must be one of {', '.join(BOUNDARY_KINDS)}."
                )
            )
            continue
        if not path and not (kind in {"grid", "community"} and code):
            problems.add(
                _feature_problem(
                    n,
                    "properties 中须有 path(如 500107/001/001/0001),或 kind 为 grid/community 时给出 code。",
                    "properties need a path (e.g. 500107/001/001/0001), or a code when kind is grid or community.",
                )
            )
            continue
        geom = feat.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") not in {"Polygon", "MultiPolygon"}:
            problems.add(
                _feature_problem(
                    n, "几何类型须为 Polygon 或 MultiPolygon。", "the geometry must be a Polygon or MultiPolygon."
                )
            )
            continue
        coords = geom.get("coordinates")
        polys = [coords] if geom["type"] == "Polygon" else coords
        error: tuple[str, str] | None = None
        if not isinstance(polys, list) or not polys:
            error = ("缺少坐标。", "coordinates are missing.")
        else:
            for poly in polys:
                if not isinstance(poly, list) or not poly:
                    error = ("多边形缺少环。", "a polygon has no rings.")
                    break
                for ring in poly:
                    error = _check_ring(ring)
                    if error:
                        break
                if error:
                    break
        if error:
            problems.add(_feature_problem(n, *error))
            continue
        key = (kind, code, path)
        if key in seen:
            problems.add(
                _feature_problem(n, f"与第 {seen[key]} 个要素是同一地点。", f"same place as feature {seen[key]}.")
            )
            continue
        seen[key] = n
        clean = {"type": geom["type"], "coordinates": coords}
        out.append(BoundaryFeature(n, kind, code, path, clean, geometry_centroid(clean)))
    return out, problems.final()


# --------------------------------------------------------------------------------------------------
# The template


def write_template(target: str | IO[bytes]) -> None:
    """Write the roster template (.xlsx): buildings, dwellings, instructions; one example row each."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for n, spec in enumerate(SPECS):
        ws = wb.active if n == 0 else wb.create_sheet()
        assert ws is not None
        ws.title = spec.title
        for i, col in enumerate(spec.columns, start=1):
            cell = ws.cell(row=1, column=i, value=col.header)
            cell.font = bold
            if col.required:
                cell.fill = fill
            example = ws.cell(row=2, column=i, value=col.example)
            letter = cell.column_letter
            ws.column_dimensions[letter].width = max(12, _width(col.header) + 2)
            if col.type in {"code", "community", "id_number", "phone", "text"}:
                example.number_format = "@"
                for r in range(2, 2001):  # the first 2000 rows keep codes as text (leading zeros, IDs)
                    ws.cell(row=r, column=i).number_format = "@"
        ws.freeze_panes = "A2"
    ws = wb.create_sheet(INSTRUCTIONS_TITLE)
    lines: list[tuple[str, ...]] = [
        ("邻里 房屋台账导入模板", "Linli roster import template"),
        (
            "“楼栋 buildings”表每行一栋楼;“房屋 dwellings”表每行一套房屋。",
            "One building per row in “楼栋 buildings”, one dwelling per row in “房屋 dwellings”.",
        ),
        (
            f"第 2 行是示例,编码和证件号都标有“{EXAMPLE_MARK}”,不可能与真实数据相符:导入前请删除此行;"
            "仍含示例行的文件会被整份拒绝。",
            f"Row 2 is an example: its codes and ID number are marked “{EXAMPLE_MARK}” and can never match "
            "real data. Delete it before importing; a file that still holds it is refused.",
        ),
        (
            "黄色表头为必填列。列名可以只写中文或只写英文。也可分别保存为 CSV UTF-8 文件导入。",
            "Yellow headers are required. A header may be Chinese or English alone. Each sheet may also be "
            "imported as a CSV UTF-8 file.",
        ),
        (
            "整份文件一起检查:任何一行有错,整份文件不导入,并按行号列出所有问题。重复导入同一编码会更新而不是新增。",
            "The whole file is checked at once: any error rejects the whole file, with every problem listed by "
            "row. Importing the same codes again updates instead of adding.",
        ),
        (
            "上传后先显示预览:将新增、修改(逐项旧值 → 新值)和删除的内容;确认后才写入。"
            "文件不会改动任何人的姓名,也不会合并两个人:证件号与姓名不符时须由工作人员逐一确认。",
            "An upload first shows a preview of what would be created, changed (old → new, field by field) "
            "and removed; nothing is written until it is confirmed. A file never renames or merges people: "
            "an ID number with a different name must be decided by a worker, one by one.",
        ),
        (
            "面积按不动产登记面积,无则实测面积,再无则合同面积(最高法建筑物区分所有权解释第 8 条)。",
            "Area: the registered area, else surveyed, else contract (SPC interpretation Art. 8).",
        ),
        (
            "身份证号和电话加密保存,页面和导出只显示打码后的号码。",
            "ID numbers and phones are stored encrypted; pages and exports show them masked.",
        ),
        (),
        ("表 sheet", "列 column", "类型 type", "必填 required", "说明", "notes"),
    ]
    types = {
        "text": "文本 text",
        "code": "编码 code",
        "community": "编码 code",
        "int": "整数 integer",
        "decimal": "数字 number",
        "float": "数字 number",
        "choice": "选项 choice",
        "bool": "是/否 yes/no",
        "id_number": "身份证号 ID number",
        "phone": "电话 phone",
    }
    for spec in SPECS:
        for col in spec.columns:
            note_zh, note_en = col.note_zh, col.note_en
            if col.type == "choice":
                note_zh = f"{col.choice_text()}。{note_zh}"
                note_en = f"{col.choice_text()}. {note_en}"
            if col.lo is not None and col.type in {"int", "decimal", "float"}:
                note_zh = f"{col.lo}–{col.hi}。{note_zh}"
                note_en = f"{col.lo}-{col.hi}. {note_en}"
            lines.append(
                (spec.title, col.header, types[col.type], "是 yes" if col.required else "否 no", note_zh, note_en)
            )
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if r == 1 or (line and line[0] == "表 sheet"):
                cell.font = bold
    for letter, width in zip("ABCDEF", (40, 28, 16, 12, 50, 50), strict=True):
        ws.column_dimensions[letter].width = width
    wb.save(target)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
