"""The default catalogue of grid event categories and of the departments that handle them (pure data).

Two classes, after the urban-management classification standard CJ/T 214 (数字化城市管理信息系统
管理部件和事件): 部件 *components* — things with an owner (a manhole cover, a street light, a gas
pipe) — and 事件 *events* — things that happen (rubbish piled up, a dispute, a blocked fire lane).
Each category belongs to one of Chongqing's four sectors (一中心四板块一网格, seed 004 / rules.md §4).

Responsibility (open311.md): a component goes first to its owner (``owner``), then the locality; an
event first to the locality, then ``owner``; with no clear owner the locality takes it (属地兜底).

A district edits categories and routing rules in the admin; ``ensure_catalogue()`` in the services
writes this table once, then never overwrites a district's changes. Time limits are hours; the
defaults of ``loop.DEFAULT_LIMITS`` apply where a category says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    COMPONENT = "component"  # 部件
    INCIDENT = "incident"  # 事件


class Sector(StrEnum):
    PARTY = "party"  # 党的建设
    ECONOMY = "economy"  # 经济发展
    LIVELIHOOD = "livelihood"  # 民生服务
    SAFETY = "safety"  # 平安法治


KIND_NAMES = {Kind.COMPONENT: ("部件", "Component"), Kind.INCIDENT: ("事件", "Incident")}
SECTOR_NAMES = {
    Sector.PARTY: ("党的建设", "Party building"),
    Sector.ECONOMY: ("经济发展", "Economic development"),
    Sector.LIVELIHOOD: ("民生服务", "Livelihood services"),
    Sector.SAFETY: ("平安法治", "Safety and rule of law"),
}


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    zh: str
    en: str
    kind: str  # functional | owner
    phone: str = ""


# District-wide departments and component owners of a Chongqing district (illustrative names).
DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec("CG", "区城市管理局", "District Urban Management Bureau", "functional", "023-12319"),
    DepartmentSpec("ZJ", "区住房城乡建委", "District Housing and Construction Commission", "functional"),
    DepartmentSpec("SJ", "区市场监管局", "District Market Regulation Bureau", "functional", "023-12315"),
    DepartmentSpec("YJ", "区应急管理局", "District Emergency Management Bureau", "functional"),
    DepartmentSpec("MZ", "区民政局", "District Civil Affairs Bureau", "functional"),
    DepartmentSpec("RS", "区人力社保局", "District Human Resources and Social Security Bureau", "functional"),
    DepartmentSpec("HB", "区生态环境局", "District Ecology and Environment Bureau", "functional"),
    DepartmentSpec("GA", "区公安分局", "District Public Security Sub-bureau", "functional"),
    DepartmentSpec("GS", "自来水公司", "Water supply company", "owner"),
    DepartmentSpec("RQ", "燃气公司", "Gas company", "owner"),
    DepartmentSpec("GD", "供电公司", "Power supply company", "owner"),
    DepartmentSpec("TX", "通信运营商", "Telecom operators", "owner"),
)


@dataclass(frozen=True)
class Attribute:
    """An Open311 service-definition attribute (GeoReport v2 ``services/{code}``)."""

    code: str
    zh: str
    en: str
    datatype: str = "singlevaluelist"  # string number datetime text singlevaluelist multivaluelist
    required: bool = False
    values: tuple[tuple[str, str, str], ...] = ()  # (key, zh, en)


@dataclass(frozen=True)
class CategorySpec:
    code: str
    zh: str
    en: str
    kind: Kind
    sector: Sector
    owner: str = ""  # department code; "" = the locality
    limits: dict[str, float] = field(default_factory=dict)
    keywords: str = ""
    attributes: tuple[Attribute, ...] = ()


_YES_NO = (("yes", "是", "yes"), ("no", "否", "no"))
_DANGER = Attribute("danger_now", "是否有人身危险", "Is anyone in danger now?", required=True, values=_YES_NO)

C, E = Kind.COMPONENT, Kind.INCIDENT
P, EC, L, S = Sector.PARTY, Sector.ECONOMY, Sector.LIVELIHOOD, Sector.SAFETY

CATEGORIES: tuple[CategorySpec, ...] = (
    # 部件 — components, with their owners
    CategorySpec(
        "C0101",
        "井盖缺失或破损",
        "Manhole cover missing or broken",
        C,
        S,
        "CG",
        {"accept": 1, "handle": 24},
        "井盖,窨井",
        (
            _DANGER,
            Attribute(
                "cover",
                "井盖情况",
                "State of the cover",
                required=True,
                values=(("missing", "缺失", "missing"), ("broken", "破损", "broken"), ("loose", "松动", "loose")),
            ),
        ),
    ),
    CategorySpec("C0102", "路灯不亮", "Street light out", C, L, "CG", {"handle": 72}, "路灯,照明"),
    CategorySpec("C0103", "供水管道漏水", "Water main leaking", C, L, "GS", {"accept": 1, "handle": 24}, "漏水,水管"),
    CategorySpec(
        "C0104",
        "燃气设施隐患",
        "Gas installation hazard",
        C,
        S,
        "RQ",
        {"register": 0.5, "dispatch": 0.5, "accept": 0.5, "handle": 12},
        "燃气,漏气",
        (_DANGER,),
    ),
    CategorySpec("C0105", "电力设施损坏", "Power installation damaged", C, S, "GD", {"handle": 48}, "电线,配电箱"),
    CategorySpec("C0106", "通信线缆杂乱(飞线)", "Tangled telecom cables", C, L, "TX", {"handle": 168}, "飞线,光缆"),
    CategorySpec("C0107", "消防设施损坏", "Fire equipment damaged", C, S, "YJ", {"handle": 48}, "消防栓,灭火器"),
    CategorySpec("C0108", "公共座椅、健身器材损坏", "Bench or fitness equipment broken", C, L, "", {}, "健身器材"),
    CategorySpec(
        "C0109", "楼道、外墙破损(老旧小区)", "Stairwell or facade damaged", C, L, "ZJ", {"handle": 168}, "外墙"
    ),
    CategorySpec("C0110", "电梯故障", "Lift out of order", C, S, "SJ", {"accept": 1, "handle": 24}, "电梯,困人"),
    # 事件 — incidents, first to the locality
    CategorySpec("E0201", "垃圾堆积", "Rubbish piled up", E, L, "CG", {"handle": 24}, "垃圾,清运"),
    CategorySpec("E0202", "占道经营", "Street vending blocking the way", E, EC, "CG", {"handle": 24}, "摊贩"),
    CategorySpec("E0203", "违章搭建", "Illegal construction", E, S, "CG", {"handle": 240}, "违建"),
    CategorySpec(
        "E0204",
        "消防通道堵塞",
        "Fire lane blocked",
        E,
        S,
        "YJ",
        {"register": 0.5, "dispatch": 0.5, "accept": 1, "handle": 12},
        "消防通道,占用",
    ),
    CategorySpec("E0205", "噪声扰民", "Noise nuisance", E, L, "HB", {"handle": 48}, "噪音"),
    CategorySpec("E0206", "邻里矛盾纠纷", "Dispute between neighbours", E, S, "", {"handle": 120}, "纠纷,调解"),
    CategorySpec("E0207", "物业服务纠纷", "Dispute with property management", E, L, "ZJ", {"handle": 168}, "物业"),
    CategorySpec("E0208", "高空抛物", "Objects thrown from height", E, S, "GA", {"handle": 48}, "高空抛物"),
    CategorySpec("E0209", "困难群众帮扶", "A household in hardship", E, L, "MZ", {"handle": 120}, "低保,救助"),
    CategorySpec("E0210", "独居老人关爱", "Elderly person living alone needs care", E, L, "MZ", {"handle": 48}, "老人"),
    CategorySpec("E0211", "就业求助", "Help finding work", E, EC, "RS", {"handle": 168}, "就业,招聘"),
    CategorySpec("E0212", "欠薪求助", "Unpaid wages", E, EC, "RS", {"handle": 120}, "欠薪,工资"),
    CategorySpec(
        "E0213", "小微企业、个体户服务诉求", "Small-business request", E, EC, "SJ", {"handle": 120}, "营业执照"
    ),
    CategorySpec("E0214", "党员联系群众诉求", "Request via a party member", E, P, "", {"handle": 168}, "党员"),
    CategorySpec("E0215", "社区议事建议", "Proposal for the community", E, P, "", {"handle": 240}, "议事,建议"),
    CategorySpec("E0216", "其他", "Other", E, L, "", {}, "其他"),
)


def by_code() -> dict[str, CategorySpec]:
    return {c.code: c for c in CATEGORIES}
