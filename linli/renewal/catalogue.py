"""The default catalogue of renovation items (pure Python, no Django).

Classes and items follow 国务院办公厅《关于全面推进城镇老旧小区改造工作的指导意见》
国办发〔2020〕23号, part 二(二) "明确改造内容" (rules.md §3): 基础类 (basic: safety and the
necessities), 完善类 (improvement: convenience and daily needs), 提升类 (enhancement: public
services). A few items name what seed 000 describes in Chongqing (retaining walls, flammable
awnings, hidden cables, pocket parks, shared gardens, community canteens); they are marked ``seed``.

Unit costs are REFERENCE VALUES chosen for first estimates, not prices from any published schedule
(*unverified*): a district overrides them with its own catalogue entries (same code), and every
project item keeps the unit cost it was planned with.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DefaultItem:
    code: str
    item_class: str  # "basic" | "improve" | "enhance"
    name: str
    name_en: str
    unit: str
    unit_cost: Decimal  # yuan per unit, reference value
    source: str = "国办发〔2020〕23号"


def _d(value: str) -> Decimal:
    return Decimal(value)


B, I, E = "basic", "improve", "enhance"  # noqa: E741 (the three classes, short for the table)
SEED = "seed 000 (Chongqing)"

DEFAULT_ITEMS: tuple[DefaultItem, ...] = (
    # 基础类: 供水、排水、供电、弱电、道路、供气、供热、消防、安防、生活垃圾分类、移动通信等
    # 公共设施, and 屋面、外墙、楼梯等公共部位维修 (国办发〔2020〕23号 二(二)1).
    DefaultItem("basic.water_supply", B, "供水管网改造", "Water supply pipes", "户", _d("2500")),
    DefaultItem("basic.drainage", B, "排水及雨污分流", "Drainage and storm/sewage separation", "米", _d("600")),
    DefaultItem("basic.power", B, "供电线路改造", "Power supply lines", "户", _d("1800")),
    DefaultItem("basic.telecom", B, "弱电及通信线路规整", "Telecom lines tidied", "栋", _d("30000")),
    DefaultItem("basic.roads", B, "小区道路修缮", "Compound roads", "平方米", _d("220")),
    DefaultItem("basic.gas", B, "供气管道改造", "Gas pipes", "户", _d("3000")),
    DefaultItem("basic.heating", B, "供热设施改造", "Heating", "户", _d("4000")),
    DefaultItem("basic.fire_safety", B, "消防设施完善", "Fire safety", "栋", _d("60000")),
    DefaultItem("basic.security", B, "安防监控设施", "Security and surveillance", "项", _d("150000")),
    DefaultItem("basic.waste_sorting", B, "生活垃圾分类设施", "Waste sorting stations", "处", _d("20000")),
    DefaultItem("basic.mobile_coverage", B, "移动通信覆盖", "Mobile coverage", "项", _d("50000")),
    DefaultItem("basic.roof", B, "屋面防水修缮", "Roofs (waterproofing)", "平方米", _d("180")),
    DefaultItem("basic.external_walls", B, "外墙立面整治", "External walls and facades", "平方米", _d("150")),
    DefaultItem("basic.stairs", B, "楼梯间及公共部位修缮", "Stairwells and common parts", "栋", _d("40000")),
    DefaultItem("basic.retaining_walls", B, "挡土墙排危整治", "Retaining walls made safe", "米", _d("3000"), SEED),
    DefaultItem("basic.awnings", B, "易燃雨棚拆除更换", "Flammable awnings replaced", "户", _d("800"), SEED),
    DefaultItem("basic.cables", B, "架空线缆入地", "Overhead cables put underground", "米", _d("400"), SEED),
    # 完善类: 环境及配套设施、建筑节能改造、有条件的加装电梯、无障碍和适老化改造、停车库(场)、
    # 电动自行车及汽车充电设施、智能快件箱、文化休闲和体育健身设施、物业用房 (二(二)2).
    DefaultItem("improve.environment", I, "环境整治及绿化", "Environment and greening", "平方米", _d("120")),
    DefaultItem("improve.energy_saving", I, "建筑节能改造", "Building energy saving", "平方米", _d("260")),
    DefaultItem("improve.lift", I, "加装电梯", "Lift added (where feasible)", "部", _d("600000")),
    DefaultItem("improve.barrier_free", I, "无障碍设施", "Barrier-free access", "处", _d("15000")),
    DefaultItem("improve.age_friendly", I, "适老化改造", "Age-friendly works", "户", _d("5000")),
    DefaultItem("improve.parking", I, "停车位及停车场", "Parking", "个", _d("12000")),
    DefaultItem("improve.ev_charging", I, "电动汽车及电动自行车充电设施", "EV and e-bike charging", "个", _d("6000")),
    DefaultItem("improve.parcel_boxes", I, "智能快件箱", "Parcel lockers", "组", _d("20000")),
    DefaultItem("improve.fitness", I, "体育健身设施", "Fitness and sports facilities", "处", _d("80000")),
    DefaultItem("improve.culture", I, "文化休闲设施", "Culture and leisure facilities", "处", _d("60000")),
    DefaultItem("improve.property_rooms", I, "物业管理用房", "Property-management rooms", "平方米", _d("3000")),
    DefaultItem("improve.playground", I, "儿童游乐场地", "Playground", "处", _d("100000"), SEED),
    DefaultItem("improve.walkways", I, "步道及坡道", "Walkways and ramps", "米", _d("500"), SEED),
    # 提升类: 社区综合服务设施、卫生服务站、幼儿园、周界防护等智能感知设施、养老、托育、助餐、
    # 家政保洁、便民市场、便利店、邮政快递末端综合服务站 (二(二)3).
    DefaultItem("enhance.service_centre", E, "社区综合服务设施", "Community service centre", "平方米", _d("4000")),
    DefaultItem("enhance.clinic", E, "社区卫生服务站", "Community clinic", "处", _d("500000")),
    DefaultItem("enhance.nursery", E, "幼儿园", "Nursery school", "处", _d("2000000")),
    DefaultItem("enhance.sensing", E, "周界防护等智能感知设施", "Perimeter and smart sensing", "项", _d("200000")),
    DefaultItem("enhance.elderly_care", E, "养老服务设施", "Elderly care", "处", _d("800000")),
    DefaultItem("enhance.childcare", E, "托育服务设施", "Childcare", "处", _d("600000")),
    DefaultItem(
        "enhance.meal_assistance", E, "社区助餐(老年食堂)", "Meal assistance (community canteen)", "处", _d("300000")
    ),
    DefaultItem("enhance.housekeeping", E, "家政保洁服务点", "Housekeeping services", "处", _d("50000")),
    DefaultItem("enhance.market", E, "便民市场", "Neighbourhood market", "处", _d("1000000")),
    DefaultItem("enhance.convenience_store", E, "便利店", "Convenience store", "处", _d("150000")),
    DefaultItem("enhance.parcel_station", E, "邮政快递末端综合服务站", "Post and parcel station", "处", _d("100000")),
    DefaultItem("enhance.pocket_park", E, "口袋公园", "Pocket park", "处", _d("300000"), SEED),
    DefaultItem("enhance.shared_garden", E, "共享花园", "Shared garden", "处", _d("80000"), SEED),
)

CLASSES: tuple[str, ...] = (B, I, E)


def by_code() -> dict[str, DefaultItem]:
    return {item.code: item for item in DEFAULT_ITEMS}


def effective(
    defaults: list[DefaultItem] | tuple[DefaultItem, ...], overrides: list[DefaultItem], retired: set[str]
) -> list[DefaultItem]:
    """The catalogue a district uses: defaults, each replaced by the district's entry of the same
    code, plus the district's own codes, minus the codes it retired; ordered by class then code."""
    merged = {d.code: d for d in defaults}
    merged.update({o.code: o for o in overrides})
    out = [item for code, item in merged.items() if code not in retired]
    return sorted(out, key=lambda i: (CLASSES.index(i.item_class) if i.item_class in CLASSES else 9, i.code))
