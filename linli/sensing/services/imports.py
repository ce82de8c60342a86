"""Device import from .xlsx/.csv (issue 13 §1): upload → preview → confirm, all or nothing.

A file lists one device per row: its code, profile, place (a building by community + compound +
building code and optionally a unit, a compound, or a point lat/lon in a community), name, gateway,
install date and, for lifts, the register number 使用登记证, maintenance company, insurer, operator
and contract. The cells are read with the roster importer's own pure helpers
(``places.importing``: ``open_sheets``, ``Column``, ``parse_cell``, ``Problems``) and every problem
is reported by row and column in both languages, all at once.

``check(user, place, data, filename)`` reads and resolves the whole file and plans it without
writing (the preview: new / changed / unchanged devices and lifts). ``apply(...)`` plans again from
the same bytes and writes the plan in one transaction; a row already imported is unchanged, so a
second confirm (a double submit, a retry) writes nothing twice. The file waits between the two
steps encrypted in the runs' staging area (``runs.services.stage``), known by an unguessable token.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction

from linli.accounts.permissions import authorize, can, scoped
from linli.core import generations
from linli.core.errors import LinliError, Problem
from linli.core.types import User
from linli.places import importing
from linli.places.importing import CellError, Column, FileProblem, Problems
from linli.places.models import Building, Community, Compound, District, Street, Unit
from linli.places.services import community_keys
from linli.runs import services as runs_services
from linli.runs.models import Run
from linli.sensing.models import Device, DeviceKind, DeviceProfile, Gateway, Lift
from linli.sensing.permissions import EDIT_DEVICES
from linli.sensing.services import devices as sensing_devices

MAX_ROWS = 20_000  # devices per file (read and written by a background worker)
PREVIEW_ROWS = 200  # rows listed on the preview page
CHUNK = 900  # values per IN (…) lookup (SQLite's parameter limit)
_BAD_CODE = re.compile(r"[\s/+#]")
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
EXAMPLE = importing.EXAMPLE_MARK

COLUMNS: tuple[Column, ...] = (
    Column(
        "device_code",
        "设备编号",
        "text",
        True,
        max_len=64,
        aliases=("设备号", "设备ID", "deviceid", "code"),
        example=f"{EXAMPLE}-LIFT-001",
        note_zh="1–64 个字符,不含空格和 / + #;与网关上报数据中的编号一致",
        note_en="1-64 characters without spaces, / + or #; the code the gateway reports",
    ),
    Column(
        "profile",
        "设备类型",
        "text",
        True,
        max_len=40,
        aliases=("类型", "设备类型编码", "profile_code", "kind"),
        example="lift",
        note_zh="设备类型编码(lift 电梯、smoke 烟感、pipe 管网、camera 摄像头,或后台新增的类型)",
        note_en="the profile's code (lift, smoke, pipe, camera, or one added in the admin)",
    ),
    Column("name", "设备名称", "text", max_len=100, aliases=("名称",), example="1栋1单元电梯"),
    Column(
        "community_code",
        "社区编码",
        "community",
        True,
        aliases=("社区代码",),
        example=f"{EXAMPLE}-社区",
        note_zh="12 位统计区划代码,或路径 500107/001/001",
        note_en="12-digit statistical code, or the path 500107/001/001",
    ),
    Column(
        "compound_code",
        "小区编码",
        "code",
        aliases=("小区代码",),
        example="0001",
        note_zh="设于小区或楼栋时必填",
        note_en="needed for a compound or a building",
    ),
    Column(
        "building_code",
        "楼栋编码",
        "code",
        aliases=("楼栋代码",),
        example="01",
        note_zh="设于楼栋或单元时必填",
        note_en="needed for a building or a unit",
    ),
    Column(
        "unit",
        "单元",
        "text",
        max_len=10,
        aliases=("单元号",),
        example="1",
        note_zh="电梯所在单元(须已在名册中)",
        note_en="the lift's unit (already in the roster)",
    ),
    Column(
        "lat",
        "纬度",
        "float",
        lo=importing.LAT_RANGE[0],
        hi=importing.LAT_RANGE[1],
        note_zh="不在楼栋、小区时填写经纬度(WGS-84),须成对",
        note_en="a point of its own (WGS-84): both or neither",
    ),
    Column("lon", "经度", "float", lo=importing.LON_RANGE[0], hi=importing.LON_RANGE[1]),
    Column(
        "gateway",
        "网关",
        "text",
        max_len=100,
        aliases=("网关名称",),
        note_zh="网关名称或令牌前缀;空 = 设备自有令牌",
        note_en="the gateway's name or token prefix; empty = the device's own token",
    ),
    Column(
        "installed_on",
        "安装日期",
        "date",
        aliases=("安装时间",),
        example="2024-05-01",
        note_zh="YYYY-MM-DD",
        note_en="YYYY-MM-DD",
    ),
    Column(
        "register_no",
        "使用登记证编号",
        "text",
        max_len=40,
        aliases=("使用登记证", "登记证编号", "注册代码"),
        example=f"{EXAMPLE}-梯11渝",
        note_zh="电梯必填,全区唯一",
        note_en="required for lifts; unique",
    ),
    Column(
        "maintenance_company", "维保单位", "text", max_len=120, aliases=("维保公司",), example="重庆某电梯维保有限公司"
    ),
    Column("maintenance_phone", "维保电话", "text", max_len=30, aliases=("维保单位电话",), example="023-68001234"),
    Column("insurer", "保险公司", "text", max_len=120, aliases=("承保公司",)),
    Column("policy_no", "保单号", "text", max_len=60, aliases=("保险单号",)),
    Column("operator", "运营方", "text", max_len=120, aliases=("金融服务运营方", "运营单位")),
    Column("contract_no", "合同编号", "text", max_len=60, aliases=("合同号",)),
    Column("commissioned_on", "投用日期", "date", aliases=("投入使用日期",)),
    Column("last_maintained_on", "最近维保日期", "date", aliases=("上次维保日期",)),
)
LIFT_KEYS = (
    "register_no",
    "maintenance_company",
    "maintenance_phone",
    "insurer",
    "policy_no",
    "operator",
    "contract_no",
    "commissioned_on",
    "last_maintained_on",
)
LIFT_FIELDS = LIFT_KEYS  # the Lift fields a row sets (same names)


def _norm(text: object) -> str:
    return re.sub(r"[\s_\-()()::/.]+", "", str(text)).lower()


def _aliases() -> dict[str, Column]:
    out: dict[str, Column] = {}
    for col in COLUMNS:
        for name in (col.header, col.zh, col.key, *col.aliases):
            out.setdefault(_norm(name), col)
    return out


_ALIASES = _aliases()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: object) -> date | None:
    """A date cell: an Excel date, or text 2024-05-01 / 2024/5/1 / 2024年5月1日."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = _DATE_RE.match(_cell_text(value))
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    text = _cell_text(value)
    raise CellError(f"“{text}”不是日期(应为 YYYY-MM-DD)。", f"{text!r} is not a date (use YYYY-MM-DD).")


def parse(col: Column, value: object) -> Any:
    if col.type == "date":
        return parse_date(value)
    return importing.parse_cell(col, value)


@dataclass
class Row:
    n: int  # the row number a spreadsheet shows
    v: dict[str, Any]


@dataclass
class Plan:
    """What the file would do; ``entries`` are the rows to write, in file order."""

    new_devices: int = 0
    changed_devices: int = 0
    unchanged_devices: int = 0
    new_lifts: int = 0
    changed_lifts: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "new_devices": self.new_devices,
            "changed_devices": self.changed_devices,
            "unchanged_devices": self.unchanged_devices,
            "new_lifts": self.new_lifts,
            "changed_lifts": self.changed_lifts,
        }

    def digest(self) -> str:
        """A fingerprint of the plan: confirm refuses when the file or the database now plans otherwise."""
        text = json.dumps([{k: v for k, v in e.items() if k != "obj"} for e in self.entries], default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _refuse(problems: Problems, status: int = 400) -> LinliError:
    """A file that cannot be imported: every problem by row and column (nothing written)."""
    return LinliError(problems.final(), status)


def read_rows(data: bytes, filename: str, encoding: str | None, problems: Problems) -> list[Row]:
    """The data rows of the first device table in the file, typed; cell problems go to ``problems``."""
    try:
        sheets = importing.open_sheets(io.BytesIO(data), filename, encoding)
    except FileProblem as exc:
        problems.add(exc.problem)
        return []
    for sheet in sheets:
        title = sheet.title.lower()
        if "instruction" in title or "说明" in sheet.title:
            continue
        try:
            return _read_sheet(sheet, problems)
        except FileProblem as exc:
            problems.add(exc.problem)
            return []
        except (ValueError, TypeError, KeyError, OSError) as exc:
            problems.add(
                Problem(
                    "bad_file",
                    "读取文件时出错,文件可能已损坏。",
                    f"Could not read the file ({type(exc).__name__}); it may be damaged.",
                )
            )
            return []
    problems.add(Problem("empty", "文件是空的。", "The file is empty."))
    return []


def _read_sheet(sheet: importing.Sheet, problems: Problems) -> list[Row]:
    rows_iter = enumerate(sheet.rows, start=1)
    header: list[Any] | None = None
    header_row = 1
    for n, row in rows_iter:
        if any(_cell_text(v) for v in row):
            header, header_row = list(row), n
            break
    if header is None:
        raise FileProblem(Problem("empty", "文件是空的。", "The file is empty."))
    positions: list[tuple[int, Column]] = []
    seen: set[str] = set()
    unknown: list[str] = []
    for i, h in enumerate(header):
        text = _cell_text(h)
        if not text:
            continue
        col = _ALIASES.get(_norm(text))
        if col is None or col.key in seen:
            unknown.append(text)
            continue
        seen.add(col.key)
        positions.append((i, col))
    missing = [c.header for c in COLUMNS if c.required and c.key not in seen]
    if missing or unknown:
        zh = "列名不符合模板。"
        en = "The columns do not match the template."
        if missing:
            zh += f"缺少:{'、'.join(missing)}。"
            en += f" Missing: {', '.join(missing)}."
        if unknown:
            zh += f"无法识别或重复:{'、'.join(unknown)}。"
            en += f" Not recognised or repeated: {', '.join(unknown)}."
        zh += "请下载模板对照。"
        en += " Download the template to compare."
        problems.add(Problem("columns", zh, en, row=header_row))
        return []
    labels = {col.key: col.header for _, col in positions}
    out: list[Row] = []
    count = 0
    for n, row in rows_iter:
        if not any(_cell_text(v) for v in row):
            continue
        count += 1
        if count > MAX_ROWS:
            problems.add(
                Problem(
                    "too_many_rows",
                    f"超过 {MAX_ROWS} 行,请按街道或社区拆分文件后分别导入。",
                    f"More than {MAX_ROWS} rows; split the file by street or community.",
                    row=n,
                )
            )
            return []
        v: dict[str, Any] = {c.key: None for c in COLUMNS}
        example = False
        bad = False
        for i, col in positions:
            raw = row[i] if i < len(row) else None
            if isinstance(raw, str) and EXAMPLE in raw:
                example = True
                problems.add(
                    Problem(
                        "example_row",
                        f"这是模板的示例行,请删除此行(示例行标有“{EXAMPLE}”)。",
                        f"This is the template's example row; delete it (example rows are marked {EXAMPLE}).",
                        row=n,
                        column=labels[col.key],
                    )
                )
                break
            try:
                v[col.key] = parse(col, raw)
            except CellError as err:
                problems.add(Problem("value", err.zh, err.en, row=n, column=labels[col.key]))
                bad = True
        if example:
            continue
        _check_row(n, v, labels, problems)
        if not bad:
            out.append(Row(n, v))
    if count == 0:
        problems.add(Problem("empty", "文件只有表头,没有数据行。", "The file has a header but no data rows."))
    return out


def _col(labels: dict[str, str], key: str) -> str:
    return labels.get(key) or next(c.header for c in COLUMNS if c.key == key)


def _check_row(n: int, v: dict[str, Any], labels: dict[str, str], problems: Problems) -> None:
    """The checks of one row that need no database."""
    code = v.get("device_code")
    if code and _BAD_CODE.search(code):
        problems.add(
            Problem(
                "bad_device_code",
                "设备编号不能含空格和 / + #。",
                "A device code cannot contain spaces, / + or #.",
                row=n,
                column=_col(labels, "device_code"),
            )
        )
    if (v.get("lat") is None) != (v.get("lon") is None):
        problems.add(
            Problem(
                "lat_lon_pair",
                "纬度和经度须同时填写或同时留空。",
                "Give both latitude and longitude, or neither.",
                row=n,
                column=_col(labels, "lat" if v.get("lat") is None else "lon"),
            )
        )
    if v.get("unit") and not v.get("building_code"):
        problems.add(
            Problem(
                "unit_needs_building",
                "填写单元时须填写楼栋编码。",
                "A unit needs its building code.",
                row=n,
                column=_col(labels, "building_code"),
            )
        )
    if v.get("building_code") and not v.get("compound_code"):
        problems.add(
            Problem(
                "building_needs_compound",
                "填写楼栋编码时须填写小区编码。",
                "A building code needs its compound code.",
                row=n,
                column=_col(labels, "compound_code"),
            )
        )
    if not v.get("compound_code") and v.get("lat") is None and v.get("lon") is None:
        problems.add(
            Problem(
                "no_place",
                "请填写小区(及楼栋、单元)编码,或经纬度。",
                "Give the compound (and building, unit) code, or a latitude and longitude.",
                row=n,
                column=_col(labels, "compound_code"),
            )
        )


# --- resolving against the database --------------------------------------------------------------


def _profiles() -> dict[str, DeviceProfile]:
    out: dict[str, DeviceProfile] = {}
    for p in DeviceProfile.objects.all():
        for key in (p.code, p.name, p.name_en):
            if key:
                out.setdefault(key.strip().lower(), p)
    return out


def _p(code: str, zh: str, en: str, n: int, key: str) -> Problem:
    return Problem(code, zh, en, row=n, column=_col({}, key))


def plan(user: User, place: Any, data: bytes, filename: str, encoding: str | None = None) -> Plan:
    """Read, check and resolve the whole file; raises ``ImportProblems`` (400) with every problem.
    Rows must lie below ``place`` (the import page's district, street or community) in communities
    where the user may EDIT devices."""
    authorize(user, EDIT_DEVICES, place)
    problems = Problems()
    rows = read_rows(data, filename, encoding, problems)
    if not rows and not problems:
        problems.add(Problem("empty", "文件只有表头,没有数据行。", "The file has a header but no data rows."))
    # duplicates inside the file
    first_code: dict[str, int] = {}
    first_reg: dict[str, int] = {}
    for r in rows:
        code = r.v["device_code"]
        if code in first_code:
            problems.add(
                _p(
                    "duplicate_in_file",
                    f"设备编号 {code} 与第 {first_code[code]} 行重复。",
                    f"Device code {code} repeats row {first_code[code]}.",
                    r.n,
                    "device_code",
                )
            )
        else:
            first_code[code] = r.n
        reg = r.v.get("register_no")
        if reg:
            if reg in first_reg:
                problems.add(
                    _p(
                        "duplicate_in_file",
                        f"使用登记证编号 {reg} 与第 {first_reg[reg]} 行重复。",
                        f"Register number {reg} repeats row {first_reg[reg]}.",
                        r.n,
                        "register_no",
                    )
                )
            else:
                first_reg[reg] = r.n
    profiles = _profiles()
    by_key: dict[str, Community] = {}
    for c in Community.objects.filter(path__startswith=place.path).only("id", "code", "name", "path"):
        for k in community_keys(c):
            by_key.setdefault(k, c)
    allowed: dict[int, bool] = {}
    compounds = {(c.community_id, c.code): c for c in Compound.objects.filter(path__startswith=place.path)}
    buildings = {
        (b.compound_id, b.code): b
        for b in Building.objects.filter(path__startswith=place.path).select_related("compound")
    }
    codes = list(first_code)
    existing: dict[str, Device] = {}
    editable: set[str] = set()
    lifts: dict[int, Lift] = {}
    reg_owner: dict[str, str] = {}
    for i in range(0, len(codes), CHUNK):
        chunk = codes[i : i + CHUNK]
        existing.update({d.code: d for d in Device.objects.filter(code__in=chunk).select_related("profile")})
        editable.update(
            scoped(user, EDIT_DEVICES, Device.objects.filter(code__in=chunk)).values_list("code", flat=True)
        )
        lifts.update({lift.device_id: lift for lift in Lift.objects.filter(device__code__in=chunk)})
    regs = list(first_reg)
    for i in range(0, len(regs), CHUNK):
        chunk = regs[i : i + CHUNK]
        reg_owner.update(Lift.objects.filter(register_no__in=chunk).values_list("register_no", "device__code"))
    units = {(u.building_id, u.number): u for u in Unit.objects.filter(building__path__startswith=place.path)}
    district_id = _district_id(place)
    gateways = list(Gateway.objects.filter(district_id=district_id, active=True))
    result = Plan()
    for r in rows:
        v, n = r.v, r.n
        before = len(problems)
        profile = profiles.get(str(v["profile"]).strip().lower())
        if profile is None:
            problems.add(
                _p(
                    "unknown_profile",
                    f"未知的设备类型“{v['profile']}”(可选:{'、'.join(sorted({p.code for p in profiles.values()}))})。",
                    f"Unknown device profile {v['profile']!r} "
                    f"(one of: {', '.join(sorted({p.code for p in profiles.values()}))}).",
                    n,
                    "profile",
                )
            )
        comm = by_key.get(str(v["community_code"]).strip("/"))
        if comm is not None and comm.pk not in allowed:
            allowed[comm.pk] = can(user, EDIT_DEVICES, comm)
        if comm is None or not allowed[comm.pk]:
            problems.add(
                _p(
                    "unknown_community",
                    f"社区编码 {v['community_code']} 不存在,或不在您的管辖范围内。",
                    f"Community code {v['community_code']} does not exist or is not within your scope.",
                    n,
                    "community_code",
                )
            )
            continue
        compound = building = unit = None
        if v["compound_code"]:
            compound = compounds.get((comm.pk, v["compound_code"]))
            if compound is None:
                problems.add(
                    _p(
                        "unknown_compound",
                        f"社区内没有小区编码 {v['compound_code']}。",
                        f"No compound {v['compound_code']} in this community.",
                        n,
                        "compound_code",
                    )
                )
                continue
        if v["building_code"] and compound is not None:
            building = buildings.get((compound.pk, v["building_code"]))
            if building is None:
                problems.add(
                    _p(
                        "unknown_building",
                        f"小区内没有楼栋编码 {v['building_code']}。",
                        f"No building {v['building_code']} in this compound.",
                        n,
                        "building_code",
                    )
                )
                continue
        if v["unit"] and building is not None:
            unit = units.get((building.pk, v["unit"]))
            if unit is None:
                problems.add(
                    _p(
                        "unknown_unit",
                        f"楼栋内没有单元 {v['unit']}(请先在名册中导入)。",
                        f"No unit {v['unit']} in this building (import it with the roster first).",
                        n,
                        "unit",
                    )
                )
                continue
        gateway = None
        if v["gateway"]:
            gateway = next((g for g in gateways if v["gateway"] in (g.name, g.prefix)), None)
            if gateway is None:
                problems.add(
                    _p(
                        "unknown_gateway",
                        f"本区没有名称或令牌前缀为“{v['gateway']}”的网关。",
                        f"No gateway named {v['gateway']!r} (or with that token prefix) in this district.",
                        n,
                        "gateway",
                    )
                )
        is_lift = profile is not None and profile.kind == DeviceKind.LIFT
        if is_lift:
            for key, zh, en in (
                ("register_no", "电梯须填写使用登记证编号。", "A lift needs its register number."),
                ("maintenance_company", "电梯须填写维保单位。", "A lift needs its maintenance company."),
            ):
                if not v[key]:
                    problems.add(_p("lift_field", zh, en, n, key))
            if v["unit"] is None and building is None:
                problems.add(
                    _p(
                        "lift_place",
                        "电梯须设在楼栋(或单元)。",
                        "A lift must be at a building (or a unit).",
                        n,
                        "building_code",
                    )
                )
            reg = v.get("register_no")
            if reg and reg_owner.get(reg, v["device_code"]) != v["device_code"]:
                problems.add(
                    _p(
                        "register_taken",
                        f"使用登记证编号 {reg} 已属于另一部电梯。",
                        f"Register number {reg} belongs to another lift.",
                        n,
                        "register_no",
                    )
                )
        elif profile is not None:
            filled = [k for k in LIFT_KEYS if v.get(k)]
            if filled:
                problems.add(
                    _p(
                        "not_a_lift",
                        "只有电梯可填写使用登记证、维保、保险和合同等列。",
                        "Only lifts take the register number, maintenance, insurance and contract columns.",
                        n,
                        filled[0],
                    )
                )
        old = existing.get(v["device_code"])
        if old is not None:
            if old.code not in editable:
                problems.add(
                    _p(
                        "code_taken",
                        f"设备编号 {v['device_code']} 已被占用。",
                        f"Device code {v['device_code']} is already taken.",
                        n,
                        "device_code",
                    )
                )
            elif profile is not None and old.profile_id != profile.pk:
                problems.add(
                    _p(
                        "profile_changed",
                        f"设备 {v['device_code']} 已登记为“{old.profile.name}”,不能改为其他类型。",
                        f"Device {v['device_code']} is a {old.profile.name_en or old.profile.name}; "
                        "its profile cannot change.",
                        n,
                        "profile",
                    )
                )
        if len(problems) > before or profile is None:
            continue
        try:
            where = sensing_devices.place_fields(
                unit=unit, building=building, compound=compound, community=comm, lat=v["lat"], lon=v["lon"]
            )
        except LinliError as exc:
            problems.extend(Problem(p.code, p.zh, p.en, row=n, column=_col({}, "compound_code")) for p in exc.problems)
            continue
        fields = {
            "name": v["name"] or "",
            "gateway_id": gateway.pk if gateway is not None else None,
            "installed_on": v["installed_on"],
            "unit_id": unit.pk if unit is not None else None,
            "building_id": building.pk if building is not None else None,
            "compound_id": where.get("compound_id") or (compound.pk if compound is not None else None),
            "community_id": comm.pk,
            "grid_id": where.get("grid_id"),
            "path": where["path"],
            "lat": where.get("lat"),
            "lon": where.get("lon"),
        }
        entry: dict[str, Any] = {"row": n, "code": v["device_code"], "profile": profile.code, "fields": fields}
        if old is None:
            entry["action"] = "create"
            result.new_devices += 1
        else:
            changes = {k: val for k, val in fields.items() if getattr(old, k) != val}
            entry["action"] = "update" if changes else "same"
            entry["fields"] = changes
            entry["device"] = old.pk
            if changes:
                result.changed_devices += 1
            else:
                result.unchanged_devices += 1
        if is_lift:
            lift_fields = {k: (v[k] if v[k] is not None else _blank(k)) for k in LIFT_FIELDS}
            old_lift = lifts.get(old.pk) if old is not None else None
            if old_lift is None:
                entry["lift"] = "create"
                entry["lift_fields"] = lift_fields
                result.new_lifts += 1
            else:
                lift_changes = {k: val for k, val in lift_fields.items() if getattr(old_lift, k) != val}
                if lift_changes:
                    entry["lift"] = "update"
                    entry["lift_fields"] = lift_changes
                    result.changed_lifts += 1
                    if entry["action"] == "same":
                        entry["action"] = "update"
                        result.unchanged_devices -= 1
                        result.changed_devices += 1
        result.entries.append(entry)
    if problems:
        raise _refuse(problems)
    return result


def _blank(key: str) -> Any:
    return None if key in {"commissioned_on", "last_maintained_on"} else ""


def _district_id(place: Any) -> int:
    if isinstance(place, District):
        return place.pk
    if isinstance(place, Street):
        return place.district_id
    return Community.objects.filter(pk=place.pk).values_list("street__district_id", flat=True).get()


# --- the two steps ------------------------------------------------------------------------------


@dataclass
class Preview:
    token: str
    filename: str
    sha256: str
    digest: str
    plan: Plan


def preview(user: User, place: Any, data: bytes, filename: str, encoding: str | None = None) -> Preview:
    """Check the whole file and keep it (encrypted) for the confirmation; nothing else is written."""
    planned = plan(user, place, data, filename, encoding)
    token = runs_services.stage(data)
    return Preview(token, filename[:200], hashlib.sha256(data).hexdigest(), planned.digest(), planned)


def file_sha256(token: str) -> str:
    """The sha256 of a staged file (the preview records it; confirm checks it)."""
    return hashlib.sha256(runs_services.staged(token)).hexdigest()


def _staged_file(token: str, sha256: str) -> bytes:
    """The previewed file, if it is still staged and is the one previewed (409 otherwise)."""
    if not token.isalnum() or len(token) > 64:
        raise LinliError.one(
            "no_input", "找不到上传的文件,请重新上传。", "The uploaded file is gone; upload it again.", 410
        )
    try:
        data = runs_services.staged(token)
    except LinliError:
        raise LinliError.one(
            "already_applied",
            "该文件已导入或已过期。如需再次导入,请重新上传。",
            "This file was already imported, or it expired; upload it again to import it.",
            409,
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise LinliError.one("file_changed", "文件与预览时不同,请重新上传。", "The file is not the one previewed.", 409)
    return data


def confirm(
    user: User, place: Any, token: str, filename: str, sha256: str, digest: str, encoding: str | None = None
) -> Plan:
    """Apply a previewed file in one transaction, if it is the same file and still plans the same.
    A file already applied is gone from the staging area: 409, nothing written twice."""
    data = _staged_file(token, sha256)
    with transaction.atomic():
        planned = plan(user, place, data, filename, encoding)
        if planned.digest() != digest:
            raise LinliError.one(
                "db_changed",
                "预览之后设备数据已有变化,请重新上传以查看新的预览。",
                "The devices changed since the preview; upload the file again to see a new preview.",
                409,
            )
        _write(planned)
    runs_services.unstage(token)
    return planned


# --- the same two steps in a background worker (docs/runs.md), as the roster import does ----------


def start_preview(user: User, kind: str, place: Any, data: bytes, filename: str, encoding: str | None = None) -> Run:
    """Keep the upload (encrypted) and let a worker read and check it into a preview
    (``tasks.read_devices``); the browser follows the run's progress and lands on the preview."""
    from linli.sensing import tasks

    authorize(user, EDIT_DEVICES, place)
    token = runs_services.stage(data)
    return runs_services.start(
        user,
        "sensing.import",
        tasks.read_devices,
        action=EDIT_DEVICES,
        target=place,
        title_zh=f"读取设备文件 {filename}",
        title_en=f"Reading the device file {filename}",
        token=token,
        filename=filename[:200],
        encoding=encoding or "",
        place_kind=kind,
        place_id=place.pk,
    )


def start_apply(
    user: User, kind: str, place: Any, token: str, filename: str, sha256: str, digest: str, encoding: str | None = None
) -> Run:
    """Let a worker write a previewed file (``tasks.apply_devices``: ``confirm`` there). A file no
    longer staged (already imported, a double submit) or not the one previewed is refused at once
    (409), nothing started."""
    from linli.sensing import tasks

    authorize(user, EDIT_DEVICES, place)
    _staged_file(token, sha256)
    return runs_services.start(
        user,
        "sensing.import",
        tasks.apply_devices,
        action=EDIT_DEVICES,
        target=place,
        title_zh=f"导入设备 {filename}",
        title_en=f"Importing the devices of {filename}",
        token=token,
        filename=filename[:200],
        sha256=sha256,
        digest=digest,
        encoding=encoding or "",
        place_kind=kind,
        place_id=place.pk,
    )


def counts_lines(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The counts as the run page shows them (``runs.queries.summary``)."""
    names = {
        "new_devices": ("新增设备", "new devices"),
        "changed_devices": ("变更设备", "changed devices"),
        "unchanged_devices": ("未变设备", "unchanged devices"),
        "new_lifts": ("新增电梯", "new lifts"),
        "changed_lifts": ("变更电梯", "changed lifts"),
    }
    return [{"zh": names[k][0], "en": names[k][1], "value": v} for k, v in counts.items()]


def _write(planned: Plan, batch: int = 1000) -> None:
    """The plan's writes, in bulk: new devices, their channels and lifts; then each changed row."""
    profiles = {p.code: p for p in DeviceProfile.objects.all()}
    creates = [e for e in planned.entries if e["action"] == "create"]
    devices = [Device(code=e["code"], profile=profiles[e["profile"]], **e["fields"]) for e in creates]
    Device.objects.bulk_create(devices, batch_size=batch)
    sensing_devices.add_channels(devices)
    ids = {d.code: d.pk for d in devices}
    Lift.objects.bulk_create(
        [Lift(device_id=ids[e["code"]], **e["lift_fields"]) for e in creates if e.get("lift") == "create"],
        batch_size=batch,
    )
    for e in planned.entries:
        if e["action"] == "create":
            continue
        if e["fields"]:
            Device.objects.filter(pk=e["device"]).update(**e["fields"])
        if e.get("lift") == "create":
            Lift.objects.create(device_id=e["device"], **e["lift_fields"])
        elif e.get("lift") == "update":
            Lift.objects.filter(pk=e["device"]).update(**e["lift_fields"])
    generations.bump("sensing-devices")  # bulk writes send no signal: the intake's device cache reloads


# --- the template -------------------------------------------------------------------------------


def template_bytes() -> bytes:
    """The .xlsx people fill in: one sheet of devices (row 2 an example to delete) and instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "设备 devices"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i, value=col.header)
        cell.font = bold
        if col.required:
            cell.fill = fill
        example = ws.cell(row=2, column=i, value=col.example)
        ws.column_dimensions[cell.column_letter].width = max(14, len(col.header) + 6)
        if col.type in {"text", "code", "community"}:
            example.number_format = "@"
            for r in range(3, 1002):
                ws.cell(row=r, column=i).number_format = "@"
    ws.freeze_panes = "A2"
    info = wb.create_sheet("说明 instructions")
    lines = [
        ("邻里 设备导入模板", "Linli device import template"),
        ("每行一台设备。黄色表头为必填列。", "One device per row. Yellow headers are required."),
        (
            f"第 2 行是示例(标有“{EXAMPLE}”),导入前请删除。",
            f"Row 2 is an example (marked “{EXAMPLE}”): delete it before importing.",
        ),
        (
            "位置:社区编码 + 小区编码(+ 楼栋编码 + 单元),或社区编码 + 经纬度。",
            "Place: community + compound code (+ building code + unit), or community + latitude/longitude.",
        ),
        (
            "电梯(设备类型 lift)须填写使用登记证编号和维保单位;其他设备不填电梯各列。",
            "Lifts (profile lift) need a register number and a maintenance company; other devices leave those empty.",
        ),
        (
            "再次导入同一设备编号会更新其名称、位置和电梯信息;设备类型不能更改。",
            "Importing a device code again updates its name, place and lift data; its profile cannot change.",
        ),
    ]
    for r, (zh, en) in enumerate(lines, start=1):
        info.cell(row=r, column=1, value=zh)
        info.cell(row=r, column=2, value=en)
    for r, col in enumerate(COLUMNS, start=len(lines) + 2):
        info.cell(row=r, column=1, value=col.header)
        info.cell(row=r, column=2, value=f"{col.note_zh} {col.note_en}".strip())
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
