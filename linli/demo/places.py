"""The deterministic demo district (pure Python, imports no Django).

``generate(seed, scale)`` builds, as plain dataclasses, a realistic 九龙坡区 (Chongqing, GB/T 2260
code 500107): 谢家湾街道 with 14 communities and about 60,000 households (the seed article: "14
communities, 168 grids"), and 杨家坪街道 with 4 communities and about 8,000 households. Compounds sit
on hillsides within about 600 m of their community's centre, mostly built 1950s–1990s; buildings
are mostly 6–9 storey walk-ups with some lift towers; dwellings have registered floor areas;
owners and residents have valid GB 11643 ID numbers; each community is cut into grids of 300–500
households with a 1+3+N roster.

The same seed always gives the same district (one ``random.Random``, no set iteration, a fixed
reference year). ``scale`` shrinks the number of households proportionally (tests use 0.02).
``linli.demo.management.commands.load_demo`` writes the result into the database.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from linli.core.masking import id_checksum
from linli.places.codes import grid_code, number_west_to_east
from linli.places.geometry import hull_polygon
from linli.places.geometry import offset as _offset

REFERENCE_YEAR = 2024  # "now" for ages and move-in dates: fixed so that output never depends on the clock
OCCUPANCY = 0.93
GRID_MIN, GRID_MAX = 300, 500  # rules.md §4 (defaults of LINLI_GRID_MIN/MAX_HOUSEHOLDS)
GRID_MEAN = 357  # 60,000 households / 168 grids (the seed article)
MAX_BUILDING_DWELLINGS = 200  # keeps one building well inside a grid

DISTRICT = ("500107", "九龙坡区", "Jiulongpo District", 29.50, 106.50)
LAODONG = "劳动三村社区"
MINZHU = "民主村社区"

# (code, name, English, centre lat, lon, [(community, English, households at scale 1.0)])
STREETS: list[tuple[str, str, str, float, float, list[tuple[str, str, int]]]] = [
    (
        "001",
        "谢家湾街道",
        "Xiejiawan Subdistrict",
        29.5230,
        106.5240,
        [
            (LAODONG, "Laodong Sancun Community", 4600),
            (MINZHU, "Minzhucun Community", 4100),
            ("谢家湾正街社区", "Xiejiawan Zhengjie Community", 5200),
            ("华岩新城社区", "Huayan Xincheng Community", 5600),
            ("鹅公岩社区", "Egongyan Community", 3900),
            ("建设村社区", "Jianshecun Community", 4400),
            ("黄杨路社区", "Huangyanglu Community", 4000),
            ("朝田村社区", "Chaotiancun Community", 3700),
            ("文化七村社区", "Wenhua Qicun Community", 4300),
            ("红育坡社区", "Hongyupo Community", 3500),
            ("华福路社区", "Huafulu Community", 4200),
            ("袁家岗社区", "Yuanjiagang Community", 4500),
            ("金象社区", "Jinxiang Community", 3800),
            ("大公馆社区", "Dagongguan Community", 4200),
        ],
    ),
    (
        "002",
        "杨家坪街道",
        "Yangjiaping Subdistrict",
        29.5060,
        106.5105,
        [
            ("西郊社区", "Xijiao Community", 2300),
            ("直港大道社区", "Zhigang Dadao Community", 1900),
            ("团结路社区", "Tuanjielu Community", 2100),
            ("兴胜路社区", "Xingshenglu Community", 1700),
        ],
    ),
]

# Residence-registration prefixes of Chongqing's central districts (GB/T 2260, 5001xx).
ID_REGIONS = ["500107"] * 10 + ["500103", "500104", "500105", "500106", "500108", "500109", "500112", "500113"]
SURNAMES = (
    "陈李王张刘杨黄周何罗谭唐吴赵徐胡郭邓冉向彭曾谢肖蒋熊袁余邹杜田"
    "廖程付朱马梁林韩秦龙冯夏游蔡魏任钟秦汪石叶卢苏雷姚文江"
)
GIVEN_M = "建国志强伟军勇明华平刚德林成国庆明亮宏俊杰涛斌鹏飞浩宇轩晨阳文博子豪天佑家兴永福"
GIVEN_F = "秀英桂兰玉珍淑芬丽娟敏静霞艳红燕梅琳婷雪颖欣怡雨涵思佳梓萱可馨诗琪晓丽春兰小琴"
PHONE_PREFIX = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "177",
    "180",
    "181",
    "183",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
ROADS = (
    "谢家湾正街",
    "黄杨路",
    "劳动路",
    "民主村路",
    "鹅公岩路",
    "建设路",
    "朝田村路",
    "华福路",
    "袁家岗路",
    "红育坡路",
    "文化七村路",
    "杨家坪正街",
    "西郊路",
    "直港大道",
    "团结路",
    "兴胜路",
    "珠江路",
    "谢家湾支路",
)
WORK_UNITS = (
    "建设厂",
    "重庆钢铁厂",
    "空压厂",
    "铁路局",
    "市政二公司",
    "西南铝",
    "重庆电机厂",
    "长安厂",
    "机床厂",
    "第二棉纺厂",
    "轮船公司",
    "邮电局",
    "建工三公司",
    "自来水公司",
)
ESTATE_WORDS = (
    "和平",
    "幸福",
    "阳光",
    "锦绣",
    "康乐",
    "华庭",
    "金色",
    "翠湖",
    "滨江",
    "鹏程",
    "新华",
    "东升",
    "嘉园",
    "怡景",
    "丽景",
    "瑞丰",
    "祥和",
    "富华",
    "龙腾",
    "九龙",
)
DEVELOPERS = ("华宇", "龙湖", "协信", "隆鑫", "金科", "渝开发", "九龙", "巴渝", "融汇", "中渝")
FORCE_AFFILIATIONS = (
    "党员",
    "党员",
    "楼栋长",
    "楼栋长",
    "快递小哥",
    "商户",
    "城管队员",
    "志愿者",
    "物业管家",
    "退休教师",
)
INSTRUCTOR_UNITS = ("街道办事处", "派出所", "社区卫生服务中心", "司法所")


@dataclass(slots=True)
class DemoPerson:
    name: str
    kind: str = "person"  # person | developer (matches Person.Kind)
    id_number: str = ""
    phone: str = ""
    birth_year: int | None = None


@dataclass(slots=True)
class DemoHousehold:
    owner_occupied: bool
    moved_in: date
    residents: list[tuple[int, str]]  # (index into DemoDistrict.people, Resident.Relation value)


@dataclass(slots=True)
class DemoDwelling:
    number: str
    floor: int
    area: Decimal
    area_source: str = "register"
    use: str = "residential"
    owners: list[tuple[int, Decimal]] = field(default_factory=list)  # (person index, share)
    household: DemoHousehold | None = None


@dataclass(slots=True)
class DemoUnit:
    number: str
    dwellings: list[DemoDwelling]


@dataclass(slots=True)
class DemoBuilding:
    code: str
    name: str
    lat: float
    lon: float
    storeys: int
    building_kind: str  # walkup | midrise | tower
    build_year: int
    has_lift: bool
    units: list[DemoUnit]
    grid_seq: int = 0  # 0 = no grid

    @property
    def households(self) -> int:
        return sum(1 for u in self.units for d in u.dwellings if d.household is not None)


@dataclass(slots=True)
class DemoCompound:
    code: str
    name: str
    address: str
    build_year: int
    is_historic: bool
    lat: float
    lon: float
    boundary: dict
    buildings: list[DemoBuilding]


@dataclass(slots=True)
class DemoGridMember:
    role: str  # GridMember.Role value
    name: str
    affiliation: str
    phone: str


@dataclass(slots=True)
class DemoGrid:
    seq: int
    code: str
    name: str
    boundary: dict
    households: int
    members: list[DemoGridMember]


@dataclass(slots=True)
class DemoCommunity:
    code: str
    name: str
    name_en: str
    lat: float
    lon: float
    boundary: dict
    compounds: list[DemoCompound]
    grids: list[DemoGrid]


@dataclass(slots=True)
class DemoStreet:
    code: str
    name: str
    name_en: str
    lat: float
    lon: float
    boundary: dict
    communities: list[DemoCommunity]


@dataclass(slots=True)
class DemoDistrict:
    code: str
    name: str
    name_en: str
    lat: float
    lon: float
    boundary: dict
    streets: list[DemoStreet]
    people: list[DemoPerson]
    seed: int
    scale: float

    def communities(self) -> list[DemoCommunity]:
        return [c for s in self.streets for c in s.communities]

    def compounds(self) -> list[DemoCompound]:
        return [cp for c in self.communities() for cp in c.compounds]

    def buildings(self) -> list[DemoBuilding]:
        return [b for cp in self.compounds() for b in cp.buildings]

    def dwellings(self) -> list[DemoDwelling]:
        return [d for b in self.buildings() for u in b.units for d in u.dwellings]

    def counts(self) -> dict[str, int]:
        """Row counts per table, as load_demo writes them."""
        dwellings = self.dwellings()
        households = [d.household for d in dwellings if d.household is not None]
        grids = [g for c in self.communities() for g in c.grids]
        return {
            "districts": 1,
            "streets": len(self.streets),
            "communities": len(self.communities()),
            "compounds": len(self.compounds()),
            "buildings": len(self.buildings()),
            "units": sum(len(b.units) for b in self.buildings()),
            "dwellings": len(dwellings),
            "people": len(self.people),
            "ownerships": sum(len(d.owners) for d in dwellings),
            "households": len(households),
            "residents": sum(len(h.residents) for h in households),
            "grids": len(grids),
            "grid_members": sum(len(g.members) for g in grids),
        }


# --- geometry (plain lat/lon maths; a few hundred metres, so a flat approximation is fine) -----------


def _ring_latlons(polygon: dict) -> list[tuple[float, float]]:
    return [(p[1], p[0]) for p in polygon["coordinates"][0]]


# --- grids -------------------------------------------------------------------------------------------


def band_order(points: list[tuple[float, float]], band_deg: float = 0.0015) -> list[int]:
    """Indices of (lat, lon) points read like a page in bands of latitude (≈170 m): north→south,
    alternating west→east and east→west so that consecutive points stay close together."""

    def key(i: int) -> tuple[int, float]:
        band = -math.floor(points[i][0] / band_deg)
        return band, points[i][1] if band % 2 == 0 else -points[i][1]

    return sorted(range(len(points)), key=key)


def cut_into_grids(
    weights: list[int], lo: int = GRID_MIN, hi: int = GRID_MAX, mean: int = GRID_MEAN
) -> list[list[int]]:
    """Cut a sequence (buildings in ``band_order``) into consecutive groups whose weights
    (households) each lie in [lo, hi], as close to ``mean`` as possible.

    Picks the number of groups nearest ``total / mean`` that admits a valid cut and places the cut
    points by dynamic programming (least squared deviation from the average group). A community
    with fewer than ``lo`` households is one grid; if no cut satisfies the band (a single building
    heavier than ``hi``), falls back to a plain greedy accumulation.
    """
    n = len(weights)
    if n == 0:
        return []
    total = sum(weights)
    if total < lo:
        return [list(range(n))]
    prefix = [0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    k_min, k_max = math.ceil(total / hi), total // lo
    k_want = min(max(round(total / mean), k_min), k_max) if k_min <= k_max else k_min
    tried = sorted(range(k_min, k_max + 1), key=lambda k: (abs(k - k_want), k))
    for k in tried:
        groups = _dp_cut(prefix, k, lo, hi)
        if groups is not None:
            return groups
    return _greedy_cut(weights, hi)


def _dp_cut(prefix: list[int], k: int, lo: int, hi: int) -> list[list[int]] | None:
    n = len(prefix) - 1
    avg = prefix[n] / k
    inf = float("inf")
    # cost[j][i]: best cost of cutting the first i items into j groups; back[j][i]: start of group j
    cost = [[inf] * (n + 1) for _ in range(k + 1)]
    back = [[-1] * (n + 1) for _ in range(k + 1)]
    cost[0][0] = 0.0
    for j in range(1, k + 1):
        prev, cur, bk = cost[j - 1], cost[j], back[j]
        for i in range(1, n + 1):
            best, arg = inf, -1
            s = i - 1
            while s >= 0:
                w = prefix[i] - prefix[s]
                if w > hi:
                    break
                if w >= lo and prev[s] < inf:
                    c = prev[s] + (w - avg) ** 2
                    if c < best:
                        best, arg = c, s
                s -= 1
            cur[i], bk[i] = best, arg
    if cost[k][n] == inf:
        return None
    groups: list[list[int]] = []
    i = n
    for j in range(k, 0, -1):
        s = back[j][i]
        groups.append(list(range(s, i)))
        i = s
    groups.reverse()
    return groups


def _greedy_cut(weights: list[int], hi: int) -> list[list[int]]:
    groups: list[list[int]] = [[]]
    acc = 0
    for i, w in enumerate(weights):
        if groups[-1] and acc + w > hi:
            groups.append([])
            acc = 0
        groups[-1].append(i)
        acc += w
    return groups


# --- people --------------------------------------------------------------------------------------------


class People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: list[DemoPerson] = []
        self._ids: set[str] = set()

    def name(self, male: bool) -> str:
        r = self.rng
        chars = GIVEN_M if male else GIVEN_F
        given = r.choice(chars) if r.random() < 0.3 else r.choice(chars) + r.choice(chars)
        return r.choice(SURNAMES) + given

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIX) + f"{self.rng.randrange(10**8):08d}"

    def id_number(self, birth_year: int, male: bool) -> str:
        r = self.rng
        while True:
            seq = r.randrange(500) * 2 + (1 if male else 0)  # GB 11643: odd = male, even = female
            first17 = f"{r.choice(ID_REGIONS)}{birth_year:04d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{seq:03d}"
            value = first17 + id_checksum(first17)
            if value not in self._ids:
                self._ids.add(value)
                return value

    def add(self, birth_year: int, male: bool | None = None) -> int:
        if male is None:
            male = self.rng.random() < 0.5
        age = REFERENCE_YEAR - birth_year
        self.people.append(
            DemoPerson(
                name=self.name(male),
                id_number=self.id_number(birth_year, male),
                phone=self.phone() if age >= 14 else "",
                birth_year=birth_year,
            )
        )
        return len(self.people) - 1

    def add_developer(self, name: str) -> int:
        self.people.append(DemoPerson(name=name, kind="developer"))
        return len(self.people) - 1


# --- the generator -------------------------------------------------------------------------------------


def _build_year(r: random.Random) -> int:
    decade = r.choices((1950, 1960, 1970, 1980, 1990, 2000), weights=(8, 7, 12, 30, 30, 13))[0]
    return decade + r.randrange(10)


def _area(r: random.Random, year: int, tower: bool) -> float:
    if tower:
        lo, hi = 70, 140
    elif year < 1980:
        lo, hi = 40, 65
    elif year < 1990:
        lo, hi = 48, 88
    elif year < 2000:
        lo, hi = 58, 115
    else:
        lo, hi = 65, 135
    return r.uniform(lo, hi)


def _building(r: random.Random, code: int, lat: float, lon: float, year: int) -> DemoBuilding:
    tower = year >= 1993 and r.random() < (0.35 if year >= 2000 else 0.15)
    if tower:
        storeys = r.randint(18, 33)
        units = r.randint(1, 2)
        per_floor = min(r.randint(2, 4), MAX_BUILDING_DWELLINGS // (storeys * units))
        kind, lift = "tower", True
    else:
        storeys = r.randint(3, 5) if year < 1965 else r.randint(6, 9)
        units = r.randint(2, 4)
        per_floor = r.randint(2, 4)
        kind = "walkup" if storeys <= 7 else "midrise"
        lift = r.random() < 0.06  # a lift added to a walk-up (加装电梯)
    shop_floor = not tower and year >= 1978 and r.random() < 0.12
    units_out: list[DemoUnit] = []
    for u in range(1, units + 1):
        bases = [_area(r, year, tower) for _ in range(per_floor)]
        dwellings: list[DemoDwelling] = []
        for fl in range(1, storeys + 1):
            for k in range(1, per_floor + 1):
                commercial = shop_floor and fl == 1 and u == 1
                if commercial:
                    area = r.uniform(22, 120)
                else:
                    area = min(140.0, max(40.0, bases[k - 1] + (r.uniform(-1.5, 1.5) if r.random() < 0.2 else 0)))
                source = r.choices(("register", "survey", "contract"), weights=(90, 7, 3))[0]
                dwellings.append(
                    DemoDwelling(
                        number=f"{fl:02d}{k:02d}",
                        floor=fl,
                        area=Decimal(f"{area:.2f}"),
                        area_source=source,
                        use="commercial" if commercial else "residential",
                    )
                )
        units_out.append(DemoUnit(str(u), dwellings))
    return DemoBuilding(
        code=f"{code:02d}",
        name=f"{code}栋",
        lat=round(lat, 6),
        lon=round(lon, 6),
        storeys=storeys,
        building_kind=kind,
        build_year=year,
        has_lift=lift,
        units=units_out,
    )


def _compound_name(r: random.Random, community: str, year: int, n: int, used: set[str]) -> str:
    base = community.removesuffix("社区")
    for _ in range(50):
        if n == 1 and base.endswith("村"):
            name = base
        elif year < 1985 and r.random() < 0.6:
            name = f"{r.choice(WORK_UNITS)}{r.choice(('宿舍', '家属区', '职工宿舍'))}"
        elif year < 1995 and r.random() < 0.4:
            name = base + r.choice(("小区", "宿舍") if base.endswith("村") else ("新村", "小区", "宿舍"))
        elif year < 1995:
            name = r.choice(ESTATE_WORDS) + r.choice(("小区", "新村", "苑"))
        else:
            name = f"{r.choice(ESTATE_WORDS)}{r.choice(('花园', '苑', '华庭', '名都', '家园'))}"
        if name not in used:
            used.add(name)
            return name
        n += 1
    name = f"{base}{n}号小区"
    used.add(name)
    return name


def _roster(r: random.Random, people: People, street: str, community: str) -> list[DemoGridMember]:
    def m(role: str, aff: str) -> DemoGridMember:
        return DemoGridMember(role=role, name=people.name(r.random() < 0.5), affiliation=aff, phone=people.phone())

    short = community.removesuffix("社区")
    members = [
        m("leader", f"{short}社区党委"),
        m("fulltime", f"{short}社区"),
        m("parttime", f"{short}社区"),
        m("parttime", f"{short}社区"),
        m("instructor", f"{street.removesuffix('街道')}{r.choice(INSTRUCTOR_UNITS)}"),
    ]
    members += [m("force", r.choice(FORCE_AFFILIATIONS)) for _ in range(r.randint(3, 6))]
    return members


def _occupy(r: random.Random, people: People, dw: DemoDwelling, year: int, owners_here: list[int]) -> None:
    """Owner(s) and, for ~93% of residential dwellings, a household of 1–4 residents."""
    occupied = r.random() < OCCUPANCY
    owner_occupied = occupied and r.random() < 0.82
    earliest = max(year, 1988)
    if owner_occupied:
        head_by = r.randint(1938, 1998)
        head = people.add(head_by)
        residents: list[tuple[int, str]] = [(head, "head")]
        size = r.choices((1, 2, 3, 4), weights=(30, 40, 20, 10))[0]
        spouse = None
        if size >= 2:
            spouse = people.add(min(REFERENCE_YEAR - 20, head_by + r.randint(-5, 5)))
            residents.append((spouse, "spouse"))
        for _ in range(size - 2):
            if head_by < 1960 and r.random() < 0.5:
                residents.append((people.add(head_by + r.randint(22, 35)), "child"))
            elif head_by > 1975 and r.random() < 0.35:
                residents.append((people.add(max(1930, head_by - r.randint(24, 34))), "parent"))
            else:
                residents.append((people.add(min(REFERENCE_YEAR - 1, head_by + r.randint(22, 38))), "child"))
        if spouse is not None and r.random() < 0.25:
            dw.owners = [(head, Decimal("0.5")), (spouse, Decimal("0.5"))]
        else:
            dw.owners = [(head, Decimal(1))]
        owners_here.append(head)
        moved = date(
            r.randint(min(earliest, REFERENCE_YEAR - 1), REFERENCE_YEAR - 1), r.randint(1, 12), r.randint(1, 28)
        )
        dw.household = DemoHousehold(True, moved, residents)
        return
    # Rented out or empty: the owner lives elsewhere, sometimes an owner of another dwelling here.
    if owners_here and r.random() < 0.15:
        owner = r.choice(owners_here)
    else:
        owner = people.add(r.randint(1940, 1995))
        owners_here.append(owner)
    dw.owners = [(owner, Decimal(1))]
    if occupied:
        size = r.choices((1, 2, 3, 4), weights=(40, 35, 18, 7))[0]
        head_by = r.randint(1965, 2003)
        residents = [(people.add(head_by), "head")]
        relations = ("spouse", "child", "other")
        for i in range(size - 1):
            rel = relations[min(i, 2)] if r.random() < 0.8 else "other"
            if rel == "child":
                born = min(REFERENCE_YEAR - 1, head_by + r.randint(22, 35))
            else:
                born = head_by + r.randint(-3, 3)
            residents.append((people.add(born), rel))
        moved = date(r.randint(max(earliest, 2012), REFERENCE_YEAR - 1), r.randint(1, 12), r.randint(1, 28))
        dw.household = DemoHousehold(False, moved, residents)


def generate(seed: int = 2024, scale: float = 1.0) -> DemoDistrict:
    """The demo district for ``seed``; ``scale`` multiplies the number of households."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    r = random.Random(seed)
    people = People(r)
    d_code, d_name, d_en, d_lat, d_lon = DISTRICT
    streets: list[DemoStreet] = []
    for s_code, s_name, s_en, s_lat, s_lon, comms in STREETS:
        side = math.ceil(math.sqrt(len(comms)))
        spacing = 1250.0
        communities: list[DemoCommunity] = []
        for ci, (c_name, c_en, c_households) in enumerate(comms):
            row, col = divmod(ci, side)
            north = (side - 1) / 2 * spacing - row * spacing + r.uniform(-200, 200)
            east = col * spacing - (side - 1) / 2 * spacing + r.uniform(-200, 200)
            c_lat, c_lon = _offset(s_lat, s_lon, north, east)
            communities.append(
                _community(
                    r, people, s_name, f"{ci + 1:03d}", c_name, c_en, c_lat, c_lon, c_households * scale, d_code, s_code
                )
            )
        pts = [p for c in communities for p in _ring_latlons(c.boundary)]
        streets.append(
            DemoStreet(s_code, s_name, s_en, round(s_lat, 6), round(s_lon, 6), hull_polygon(pts, 60), communities)
        )
    pts = [p for s in streets for p in _ring_latlons(s.boundary)]
    return DemoDistrict(d_code, d_name, d_en, d_lat, d_lon, hull_polygon(pts, 400), streets, people.people, seed, scale)


def _community(
    r: random.Random,
    people: People,
    street: str,
    code: str,
    name: str,
    name_en: str,
    lat: float,
    lon: float,
    households: float,
    d_code: str,
    s_code: str,
) -> DemoCommunity:
    target_dwellings = max(1, round(households / OCCUPANCY))
    compounds: list[DemoCompound] = []
    used_names: set[str] = set()
    made = 0
    while made < target_dwellings:
        n = len(compounds) + 1
        if name == MINZHU and n == 1:
            year, historic = 1953 + r.randrange(5), True
        elif name == LAODONG and n == 1:
            year, historic = 1956 + r.randrange(6), False
        else:
            year = _build_year(r)
            historic = year < 1960 and r.random() < 0.3
        if n == 1 and name in (MINZHU, LAODONG):
            cp_name = name.removesuffix("社区")
            used_names.add(cp_name)
        else:
            cp_name = _compound_name(r, name, year, n, used_names)
        dist = 600 * math.sqrt(r.random()) * 0.85
        ang = r.uniform(0, 2 * math.pi)
        cp_lat, cp_lon = _offset(lat, lon, dist * math.cos(ang), dist * math.sin(ang))
        want = r.randint(200, 1400)
        theta = r.uniform(0, math.pi)  # the hillside contour the rows follow
        buildings: list[DemoBuilding] = []
        cp_made = 0
        while cp_made < want and made + cp_made < target_dwellings and len(buildings) < 60:
            i = len(buildings)
            row, col = divmod(i, 5)
            along, across = (col - 2) * 38.0 + r.uniform(-6, 6), (row - 1) * 32.0 + r.uniform(-5, 5)
            north = along * math.cos(theta) - across * math.sin(theta)
            east = along * math.sin(theta) + across * math.cos(theta)
            b_lat, b_lon = _offset(cp_lat, cp_lon, north, east)
            b_year = year if r.random() < 0.85 else min(REFERENCE_YEAR - 1, year + r.randint(0, 6))
            b = _building(r, i + 1, b_lat, b_lon, b_year)
            buildings.append(b)
            cp_made += sum(len(u.dwellings) for u in b.units)
        road = r.choice(ROADS)
        cp = DemoCompound(
            code=f"{n:04d}",
            name=cp_name,
            address=f"九龙坡区{street}{road}{r.randint(1, 300)}号",
            build_year=year,
            is_historic=historic,
            lat=round(cp_lat, 6),
            lon=round(cp_lon, 6),
            boundary=hull_polygon([(b.lat, b.lon) for b in buildings], 22),
            buildings=buildings,
        )
        _people_of_compound(r, people, cp, n)
        compounds.append(cp)
        made += cp_made
    grids = _grids(r, people, street, name, compounds, d_code, s_code, code)
    pts = [p for cp in compounds for p in _ring_latlons(cp.boundary)]
    return DemoCommunity(code, name, name_en, round(lat, 6), round(lon, 6), hull_polygon(pts, 30), compounds, grids)


def _people_of_compound(r: random.Random, people: People, cp: DemoCompound, n: int) -> None:
    residential = [d for b in cp.buildings for u in b.units for d in u.dwellings if d.use == "residential"]
    # A few dwellings the developer (or, for old compounds, the work unit's housing office) never sold.
    if cp.build_year < 1985:
        dev_name = f"{r.choice(WORK_UNITS)}房产管理处"
    else:
        dev_name = f"重庆{r.choice(DEVELOPERS)}房地产开发有限公司"
    k = min(r.randint(1, 4), max(1, len(residential) // 8)) if residential else 0
    unsold = set(r.sample(range(len(residential)), k))
    developer = people.add_developer(dev_name) if k else -1
    owners_here: list[int] = []
    for i, dw in enumerate(residential):
        if i in unsold:
            dw.owners = [(developer, Decimal(1))]
        else:
            _occupy(r, people, dw, cp.build_year, owners_here)
    for b in cp.buildings:
        for u in b.units:
            for dw in u.dwellings:
                if dw.use == "commercial":
                    dw.owners = [(people.add(r.randint(1955, 1995)), Decimal(1))]


def _grids(
    r: random.Random,
    people: People,
    street: str,
    community: str,
    compounds: list[DemoCompound],
    d_code: str,
    s_code: str,
    c_code: str,
) -> list[DemoGrid]:
    buildings = [b for cp in compounds for b in cp.buildings]
    order = band_order([(b.lat, b.lon) for b in buildings])
    ordered = [buildings[i] for i in order]
    groups = cut_into_grids([b.households for b in ordered])
    members = [[ordered[i] for i in g] for g in groups]
    centres = [(sum(b.lat for b in g) / len(g), sum(b.lon for b in g) / len(g)) for g in members]
    seqs = number_west_to_east(centres)
    grids: list[DemoGrid] = []
    for seq, g in sorted(zip(seqs, members, strict=True), key=lambda t: t[0]):
        for b in g:
            b.grid_seq = seq
        grids.append(
            DemoGrid(
                seq=seq,
                code=grid_code(d_code, s_code, c_code, seq),
                name=f"{community}第{seq}网格",
                boundary=hull_polygon([(b.lat, b.lon) for b in g], 18),
                households=sum(b.households for b in g),
                members=_roster(r, people, street, community),
            )
        )
    return grids
