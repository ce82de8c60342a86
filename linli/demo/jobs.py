"""The demo's nearby employment (issue 14 §8; pure Python, imports no Django).

``plan(world, now, seed, sizes)`` decides, for the demo district, everything the jobs app holds a
year into its life — ``load_demo_jobs`` writes it with bulk inserts:

* **Employers** around the district's homes (≈ 2,600 at the default size): shops, restaurants,
  property companies, workshops, care homes … by category; most verified, 20 awaiting verification,
  a few rejected or suspended; **192 key enterprises** (重点企业, seed 004) with a service officer.
  Credit codes are valid GB 32100 codes (``linli.jobs.creditcode.check_char``).
* **Postings**: ≈ 5,000 live (open, verified employer, closing date ahead), plus the past year's
  expired, closed and filled ones and some drafts; wages 3,000–12,000 yuan, 20–60 hours a week.
* **Seekers** (≥ 20,000 by default; ``sizes.seekers``): near a home of the district, with skills of
  the vocabulary (the categories weighted as a street's job seekers are), experience, wanted wage,
  hours, how far they travel; ≈ 22 % registered unemployed, ≈ 7 % hard to employ; ≈ 40 %
  discoverable. Names, valid ID numbers and phones come from the places demo's generators.
* **A year of applications and hires** up to ``now``: each hire an application that went through
  the steps the services take (apply or invite → accept, interview, hire) and a ``Placement``;
  declined, withdrawn and still open applications beside them.
* **Employment figures**: the platform's placements plus monthly entries by staff (区人社局月报,
  街道劳动保障服务所台账) so that the district's year to date reads like seed 004 —
  31,300 new urban jobs = 84.68 % of the year's target, 4,508 re-employed, 1,563 hard-to-employ
  placed — scaled by how far the year has gone (``SEED_REFERENCE``: the figures are those of
  the end of November); targets for the district and its streets.
* **The machine-tool plant** (seed 004): a remote plant ~17 km out (``PLANT_AT``) whose talent search
  within 30 km found 5 senior technicians and 8 workers in one month; a third posting still open.
* **Key-enterprise service requests** over the year: most closed and rated, some open, a few overdue.
* The demo logins' stories: ``demo-seeker`` (applications in several states and an invitation),
  ``demo-employer`` (a verified workshop near the demo street with live postings and applicants,
  and the plant's recruiter) and ``demo-jobs`` (the demo street's employment officer).

Everything follows from ``seed`` and ``now`` (one ``random.Random`` per part; no set iteration):
the same seed, sizes and ``now`` give the same rows.
"""

from __future__ import annotations

import bisect
import calendar
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from linli.core.geo import metres
from linli.demo.places import ROADS, People
from linli.jobs import creditcode

# --- the seed's figures ----------------------------------------------------------------------------------

#: Seed 004's year-to-date figures of the district and the share of the year's target reached.
SEED_FIGURES = {"new_jobs": 31_300, "reemployed": 4_508, "hard_placed": 1_563}
SEED_COMPLETION = {"new_jobs": 0.8468, "reemployed": 0.9016, "hard_placed": 0.8683}
#: The figures are "1–11 月" (January to November) figures: they hold as of 30 November.
SEED_REFERENCE = (11, 30)
#: New jobs by month (share of a year): slow around the Spring Festival, busy in spring and July.
MONTH_WEIGHTS = (0.07, 0.05, 0.10, 0.095, 0.09, 0.085, 0.095, 0.085, 0.085, 0.075, 0.085, 0.085)
#: The streets' share of the district's figures (the district's other streets and towns are in its
#: own entries) and how far each street is with its targets.
DEMO_STREET_SHARE, OTHER_STREET_SHARE = 0.20, 0.09
STREET_COMPLETION = (0.8863, 0.8211, 0.8540, 0.9012)

KEY_ENTERPRISES = 192
PENDING_EMPLOYERS = 20
PLANT_AT = (29.4100, 106.4000)  # the remote machine-tool plant (陶家, ≈ 17 km south-west of 谢家湾)
PLANT_NAME = "重庆陶家数控机床厂"
DEMO_EMPLOYER_NAME = "重庆谢家湾精密机械有限公司"
PLANT_SKILLS = ("6-18-01-01", "6-18-01-02", "6-18-01-08")  # 车工, 铣工, 数控机床操作调整工
DEMO_SEEKER_SKILLS = ("6-18-01-01", "6-18-01-08")
DEMO_SEEKER_ID = "500107198805120136"  # valid (GB 11643 check digit), made up: the kiosk sign-in
DEMO_SEEKER_PHONE = "13800000021"
DEMO_EMPLOYER_PHONE = "13800000022"
DEMO_JOBS_PHONE = "13800000023"
SENIOR_HIRES, WORKER_HIRES = 5, 8

METRICS = ("new_jobs", "reemployed", "hard_placed")

# --- categories: how common, what they pay, who employs ---------------------------------------------

#: category → (share of seekers, share of postings, wage floor, wage ceiling, usual hours)
CATEGORY_TRAITS: dict[str, tuple[float, float, int, int, int]] = {
    "manufacturing": (0.11, 0.10, 4500, 12000, 48),
    "catering": (0.13, 0.16, 3500, 8000, 54),
    "housekeeping": (0.11, 0.09, 3200, 7000, 44),
    "care": (0.07, 0.07, 3800, 7500, 48),
    "logistics": (0.11, 0.11, 4500, 9500, 54),
    "retail": (0.10, 0.12, 3200, 6500, 44),
    "security": (0.08, 0.08, 3300, 6000, 56),
    "construction": (0.06, 0.05, 5000, 11000, 50),
    "driving": (0.05, 0.04, 5000, 10000, 52),
    "office": (0.06, 0.05, 3800, 8000, 40),
    "community": (0.03, 0.03, 3200, 5500, 40),
    "ecommerce": (0.04, 0.05, 3800, 9000, 44),
    "repair": (0.03, 0.03, 4500, 9500, 46),
    "beauty": (0.02, 0.02, 3500, 9000, 48),
}
DEFAULT_TRAITS = (0.03, 0.03, 3500, 8000, 44)

#: category → (industry, name patterns: {road} {place} {surname} {word}, share of 个体工商户)
EMPLOYER_KINDS: dict[str, tuple[str, tuple[str, ...], float]] = {
    "manufacturing": (
        "制造业",
        (
            "重庆{word}机械制造有限公司",
            "重庆{place}精密零部件有限公司",
            "重庆{word}汽摩配件有限公司",
            "{place}{word}五金加工厂",
        ),
        0.1,
    ),
    "catering": (
        "住宿和餐饮业",
        (
            "{surname}记火锅店",
            "{road}{word}小面馆",
            "重庆{word}餐饮管理有限公司",
            "{place}老{surname}家常菜馆",
            "{word}江湖菜",
        ),
        0.6,
    ),
    "housekeeping": (
        "居民服务业",
        ("重庆{word}家政服务有限公司", "{place}{word}保洁服务部", "重庆{word}洗涤服务有限公司"),
        0.3,
    ),
    "care": (
        "卫生和社会工作",
        ("{place}社区养老服务中心", "重庆{word}养老服务有限公司", "{place}{word}托育中心", "重庆{word}护理院"),
        0.1,
    ),
    "logistics": (
        "交通运输、仓储和邮政业",
        ("重庆{word}物流有限公司", "{place}快递服务站", "重庆{word}供应链管理有限公司"),
        0.2,
    ),
    "retail": (
        "批发和零售业",
        ("{place}{word}超市", "{road}{word}便利店", "重庆{word}商贸有限公司", "{word}大药房{place}店"),
        0.5,
    ),
    "security": ("租赁和商务服务业", ("重庆{word}物业管理有限公司", "重庆{word}保安服务有限公司"), 0.0),
    "construction": (
        "建筑业",
        ("重庆{word}建筑工程有限公司", "重庆{word}装饰工程有限公司", "{place}{word}装修队"),
        0.2,
    ),
    "driving": (
        "交通运输、仓储和邮政业",
        ("重庆{word}运输有限公司", "重庆{word}客运有限公司", "{word}搬家服务部"),
        0.2,
    ),
    "office": (
        "租赁和商务服务业",
        ("重庆{word}企业管理咨询有限公司", "重庆{word}人力资源有限公司", "重庆{word}财务代理有限公司"),
        0.0,
    ),
    "community": (
        "居民服务业",
        ("{place}社区综合服务站", "重庆{word}社会工作服务中心", "重庆{word}环境服务有限公司"),
        0.0,
    ),
    "ecommerce": (
        "信息传输、软件和信息技术服务业",
        ("重庆{word}电子商务有限公司", "重庆{word}网络科技有限公司", "重庆{word}客户服务有限公司"),
        0.1,
    ),
    "repair": (
        "居民服务业",
        ("{place}{word}家电维修部", "重庆{word}汽车维修有限公司", "{road}{word}电动车修理店"),
        0.6,
    ),
    "beauty": ("居民服务业", ("{place}{word}美发店", "重庆{word}美容有限公司", "{word}足浴{place}店"), 0.6),
}
WORDS = (
    "渝江", "山城", "嘉陵", "九龙", "谢家湾", "杨家坪", "黄桷", "鹅岭", "华岩", "巴渝", "天成",
    "聚福", "鑫源", "恒达", "顺心", "佳美", "和睦", "邻里", "安居", "兴隆", "长江", "宏图", "新桥", "锦绣",
)  # fmt: skip
PLACES = ("谢家湾", "杨家坪", "黄杨路", "华岩", "鹅公岩", "袁家岗", "直港", "西郊", "劳动三村", "建设村")
SURNAMES = "陈李王张刘杨黄周何罗谭唐吴赵徐胡郭邓冉向彭曾谢"
TITLE_SUFFIXES = ("", "", "", "(长白班)", "(熟手优先)", "(可培训上岗)", "(包工作餐)", "(就近上班)", "学徒")
DESCRIPTIONS = (
    "五险一金,双休或轮休,工作地点就在附近,欢迎周边居民报名。",
    "包工作餐,月休四天,试用期一个月,表现好可提前转正。",
    "有相关经验者优先,无经验可带薪培训,按时足额发放工资。",
    "长期稳定岗位,按国家规定缴纳社会保险,节假日加班按规定支付加班费。",
)
EXPERIENCE_LINES = (
    "在{place}做过{years}年{skill},能吃苦,服从安排。",
    "{skill}{years}年经验,持证上岗,家住附近,希望就近工作。",
    "曾在{place}一带从事{skill}工作,做事认真细致。",
    "做过{years}年{skill},想找离家近、时间稳定的工作。",
)
DECLINE_BY_EMPLOYER = ("岗位已招满,感谢关注。", "经验与岗位要求不符。", "面试未通过。", "")
DECLINE_BY_SEEKER = ("通勤时间太长。", "工资与期望不符。", "已在别处找到工作。", "上班时间不合适。", "")
WITHDRAW_NOTES = ("家里有事,暂不考虑。", "已找到其他工作。", "")
SERVICE_TITLES: dict[str, tuple[str, ...]] = {
    "recruitment": ("春季招聘用工对接", "招聘{n}名一线操作工", "组织专场招聘会", "急招{n}名季节性用工"),
    "social_security": ("新员工参保登记", "社保减员办理", "社会保险费缓缴咨询", "工伤保险认定材料指导"),
    "subsidy": ("申请吸纳就业补贴", "稳岗返还申领", "社会保险补贴申请", "一次性扩岗补助申领"),
    "training": ("员工职业技能培训", "安全生产培训对接", "以工代训补贴申请", "新员工岗前培训"),
    "other": ("劳动用工政策咨询", "劳动合同范本咨询", "员工宿舍租赁对接"),
}
SERVICE_RESULTS = (
    "已按要求办结,相关材料已反馈企业。",
    "已对接完成,企业确认无其他需求。",
    "已协调区人社局办理完毕,结果已告知企业。",
)
RATING_NOTES = ("响应及时,办事高效。", "专员很耐心,谢谢!", "", "", "时间稍长,总体满意。")


# --- what the generator reads (the loader builds it from the database) ----------------------------------


@dataclass(frozen=True, slots=True)
class Home:
    """A residential building of the district: where seekers live and employers sit."""

    building: int
    lat: float
    lon: float
    street: int  # Street id
    community: int  # Community id
    households: int


@dataclass(frozen=True, slots=True)
class StreetInfo:
    id: int
    code: str
    name: str
    path: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class SkillInfo:
    code: str
    name: str
    name_en: str
    category: str


@dataclass(frozen=True, slots=True)
class World:
    district_id: int
    district_path: str
    district_name: str
    streets: tuple[StreetInfo, ...]  # the demo street first
    homes: tuple[Home, ...]
    demo_community: int  # 劳动三村社区: demo-seeker and demo-employer live and work there
    skills: tuple[SkillInfo, ...]


@dataclass(frozen=True, slots=True)
class Sizes:
    seekers: int = 20_000
    employers: int = 2_600
    live_postings: int = 5_000
    requests: int = 360  # key-enterprise service requests over the year

    @classmethod
    def small(cls, seekers: int = 400) -> Sizes:
        """Proportionate counts for ``seekers`` (tests, quick demos)."""
        return cls(
            seekers=seekers,
            employers=max(60, seekers * 13 // 100),
            live_postings=max(40, seekers // 4),
            requests=max(20, seekers * 18 // 1000),
        )


# --- what it plans ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class PUser:
    username: str
    display_name: str
    phone: str = ""
    login: bool = False  # a demo login (with the demo password); else no usable password


@dataclass(slots=True)
class POfficer:
    username: str
    street: int  # Street id (employment_officer there)


@dataclass(slots=True)
class PEmployer:
    name: str
    credit_code: str
    industry: str
    size: str
    address: str
    lat: float
    lon: float
    street: int
    status: str
    created_at: datetime
    category: str
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""
    status_note: str = ""
    verified_at: datetime | None = None
    verified_by: str | None = None  # officer username
    key_enterprise: bool = False
    officer: str | None = None
    story: str = ""  # "plant", "demo" or ""


@dataclass(slots=True)
class PMember:
    employer: int
    username: str
    role: str  # owner | recruiter
    added_at: datetime


@dataclass(slots=True)
class PPosting:
    employer: int
    title: str
    description: str
    category: str
    skills: tuple[str, ...]
    headcount: int
    wage_min: int
    wage_max: int
    hours: int
    address: str
    lat: float
    lon: float
    street: int
    closes_on: date
    status: str
    created_by: str | None
    created_at: datetime
    published_at: datetime | None
    hired: int = 0
    story: str = ""  # "senior", "workers", "plant-open", "demo" or ""


@dataclass(slots=True)
class PSeeker:
    name: str
    id_number: str
    phone: str
    birth_year: int
    education: str
    lat: float
    lon: float
    street: int
    skills: tuple[str, ...]
    experience_years: int
    experience: str
    wage_min: int
    wage_max: int
    hours: int
    travel_m: int
    registered_unemployed: bool
    hard_to_employ: bool
    discoverable: bool
    status: str
    source: str
    created_at: datetime
    updated_at: datetime
    username: str = ""  # an online seeker's account
    story: str = ""


@dataclass(slots=True)
class PStep:
    kind: str
    from_status: str
    to_status: str
    actor: str | None  # username
    side: str
    note: str
    at: datetime


@dataclass(slots=True)
class PApplication:
    posting: int
    seeker: int
    status: str
    channel: str
    invited: bool
    created_at: datetime
    steps: list[PStep]
    cv: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    interview_at: datetime | None = None
    contact_released_at: datetime | None = None
    number: str = ""

    @property
    def updated_at(self) -> datetime:
        return self.steps[-1].at


@dataclass(slots=True)
class PPlacement:
    application: int | None
    seeker: int
    employer: int
    started_on: date
    street: int
    registered_unemployed: bool
    hard_to_employ: bool
    created_by: str | None
    created_at: datetime


@dataclass(slots=True)
class PTarget:
    year: int
    place_kind: str  # district | street
    place_id: int
    path: str
    metric: str
    target: int
    set_by: str
    set_at: datetime


@dataclass(slots=True)
class PEntry:
    path: str
    metric: str
    count: int
    on: date
    source: str
    entered_by: str
    entered_at: datetime


@dataclass(slots=True)
class PServiceStep:
    kind: str
    actor: str | None
    note: str
    at: datetime


@dataclass(slots=True)
class PRequest:
    employer: int
    number: str
    kind: str
    title: str
    detail: str
    status: str
    officer: str | None
    filed_by: str
    filed_at: datetime
    due_at: datetime
    steps: list[PServiceStep]
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    result: str = ""
    satisfaction: int | None = None
    satisfaction_note: str = ""


@dataclass(slots=True)
class Plan:
    seed: int
    now: datetime
    users: list[PUser]
    officers: list[POfficer]
    employers: list[PEmployer]
    members: list[PMember]
    postings: list[PPosting]
    seekers: list[PSeeker]
    applications: list[PApplication]
    placements: list[PPlacement]
    targets: list[PTarget]
    entries: list[PEntry]
    requests: list[PRequest]
    goals: dict[str, int]  # the district's year-to-date figures the entries complete
    story: dict[str, int] = field(default_factory=dict)  # indexes: demo seeker, demo employer, plant, postings


# --- helpers ---------------------------------------------------------------------------------------------


def _at(day: date, hour: int, minute: int, tz: Any) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def _jitter(r: random.Random, lat: float, lon: float, metres_: float) -> tuple[float, float]:
    """A point up to ``metres_`` from (lat, lon), uniformly in the disc."""
    d = metres_ * math.sqrt(r.random())
    a = r.random() * 2 * math.pi
    dlat = d * math.cos(a) / 111_320
    dlon = d * math.sin(a) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def year_share(day: date) -> float:
    """The share of a year's new jobs found by the end of ``day`` (``MONTH_WEIGHTS``, linear in a month)."""
    done = sum(MONTH_WEIGHTS[: day.month - 1])
    return done + MONTH_WEIGHTS[day.month - 1] * day.day / calendar.monthrange(day.year, day.month)[1]


def goals_for(today: date) -> dict[str, int]:
    """The district's year-to-date figures on ``today`` (up to yesterday's end): seed 004's, scaled
    by how far the year is against ``SEED_REFERENCE`` — on 1 December exactly the seed's figures."""
    ref = year_share(date(today.year, *SEED_REFERENCE))
    through = max(today - timedelta(days=1), date(today.year, 1, 1))  # reported up to yesterday
    return {k: round(v * year_share(through) / ref) for k, v in SEED_FIGURES.items()}


def target_for(actual: int, completion: float) -> int:
    """A yearly target at which ``actual`` reads as ``completion`` (to the hundredth of a percent)."""
    want = round(completion * 100, 2)
    base = max(1, round(actual / completion)) if actual else 1
    for t in sorted(range(max(1, base - 3), base + 4), key=lambda t: abs(t - base)):
        if round(actual * 100 / t, 2) == want:
            return t
    return base


def _weighted(r: random.Random, items: Sequence[Any], cum: list[float]) -> Any:
    return items[bisect.bisect_right(cum, r.random() * cum[-1])]


def _cumulative(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _name(r: random.Random, category: str, road: str) -> tuple[str, str, bool]:
    industry, patterns, solo = EMPLOYER_KINDS.get(category, ("其他服务业", ("重庆{word}服务有限公司",), 0.2))
    pattern = r.choice(patterns)
    name = pattern.format(word=r.choice(WORDS), place=r.choice(PLACES), road=road, surname=r.choice(SURNAMES))
    individual = "有限公司" not in name and r.random() < max(solo, 0.5)
    return name, industry, individual


def _credit_code(r: random.Random, individual: bool, used: set[str]) -> str:
    """A valid GB 32100 code: 9 (market regulation) + 1 (enterprise) or 2 (个体工商户), Jiulongpo's
    division code, an organisation code ``MA…``, and the check character."""
    while True:
        body = "MA" + "".join(r.choice(creditcode.ALPHABET) for _ in range(7))
        first17 = ("92" if individual else "91") + "500107" + body
        code = first17 + creditcode.check_char(first17)
        if code not in used:
            used.add(code)
            return code


# --- the plan --------------------------------------------------------------------------------------------


class _Planner:
    def __init__(self, world: World, now: datetime, seed: int, sizes: Sizes, due: Callable[[str, datetime], datetime]):
        self.w, self.now, self.seed, self.sizes, self.due = world, now, seed, sizes, due
        self.tz = now.tzinfo
        self.today = now.date()
        self.users: list[PUser] = []
        self.officers: list[POfficer] = []
        self.employers: list[PEmployer] = []
        self.members: list[PMember] = []
        self.postings: list[PPosting] = []
        self.seekers: list[PSeeker] = []
        self.apps: list[PApplication] = []
        self.placements: list[PPlacement] = []
        self.pairs: set[tuple[int, int]] = set()
        self.hired_seekers: set[int] = set()
        self.story: dict[str, int] = {}
        self.owner: dict[int, str] = {}  # employer → its owner member's username
        self.skill = {s.code: s for s in world.skills}
        self.by_category: dict[str, list[str]] = {}
        for s in world.skills:
            self.by_category.setdefault(s.category, []).append(s.code)
        self.categories = [c for c in CATEGORY_TRAITS if c in self.by_category] + sorted(
            c for c in self.by_category if c not in CATEGORY_TRAITS
        )
        self.street = {s.id: s for s in world.streets}
        self.demo_street = world.streets[0].id
        self.homes = world.homes
        self.home_cum = _cumulative([h.households for h in world.homes])
        self.demo_homes = [h for h in world.homes if h.community == world.demo_community] or list(world.homes[:5])

    # -- people and places --

    def traits(self, category: str) -> tuple[float, float, int, int, int]:
        return CATEGORY_TRAITS.get(category, DEFAULT_TRAITS)

    def home(self, r: random.Random) -> Home:
        return _weighted(r, self.homes, self.home_cum)

    def user(self, username: str, display: str, phone: str = "", login: bool = False) -> str:
        self.users.append(PUser(username, display, phone, login))
        return username

    def past(self, r: random.Random, lo_days: float, hi_days: float) -> datetime:
        """A moment between ``hi_days`` and ``lo_days`` ago, in working hours."""
        day = self.today - timedelta(days=int(lo_days + (hi_days - lo_days) * r.random()))
        at = _at(day, r.randint(8, 18), r.randrange(60), self.tz)
        return min(at, self.now - timedelta(minutes=5))

    def officers_of(self) -> None:
        for n, s in enumerate(self.w.streets):
            count = 4 if n == 0 else 2
            for k in range(count):
                name = "demo-jobs" if (n == 0 and k == 0) else f"jobs-officer-{s.code}-{k + 1}"
                if name != "demo-jobs":
                    self.user(name, f"{s.name}就业服务专员{k + 1}")
                self.officers.append(POfficer(name, s.id))
        self.user("demo-jobs", "演示·就业服务专员", DEMO_JOBS_PHONE, login=True)

    def officer_at(self, r: random.Random, street: int) -> str:
        here = [o.username for o in self.officers if o.street == street] or [self.officers[0].username]
        return r.choice(here)

    # -- employers --

    def employers_of(self) -> None:
        r = random.Random(self.seed * 7 + 1)
        people = People(random.Random(self.seed * 7 + 2))
        used: set[str] = set()
        n = max(self.sizes.employers, 10)
        cat_cum = _cumulative([self.traits(c)[1] for c in self.categories])
        pending = set(r.sample(range(n), min(PENDING_EMPLOYERS, n // 10)))
        others = [i for i in range(n) if i not in pending]
        rejected = set(r.sample(others, min(12, n // 50)))
        suspended = set(r.sample([i for i in others if i not in rejected], min(6, n // 100)))
        for i in range(n):
            category = _weighted(r, self.categories, cat_cum)
            h = self.home(r)
            lat, lon = _jitter(r, h.lat, h.lon, 350)
            road = r.choice(ROADS)
            name, industry, individual = _name(r, category, road)
            code = _credit_code(r, individual, used)
            size = "micro" if individual else r.choices(["micro", "small", "medium", "large"], [35, 45, 16, 4])[0]
            created = self.past(r, 20, 1100) if i not in pending else self.past(r, 0, 12)
            status = (
                "pending"
                if i in pending
                else "rejected"
                if i in rejected
                else "suspended"
                if i in suspended
                else "verified"
            )
            e = PEmployer(
                name=name,
                credit_code=code,
                industry=industry,
                size=size,
                address=f"{self.w.district_name}{road}{r.randint(1, 320)}号",
                lat=lat,
                lon=lon,
                street=h.street,
                status=status,
                created_at=created,
                category=category,
                contact_name=people.name(r.random() < 0.5),
                contact_phone=people.phone(),
                description=f"{industry}·{name},位于{road}附近。",
            )
            if status != "pending":
                e.verified_at = created + timedelta(days=r.randint(1, 5), hours=r.randint(0, 6))
                e.verified_by = self.officer_at(r, h.street)
            if status == "rejected":
                e.verified_at, e.verified_by = None, None
                e.status_note = r.choice(("营业执照信息与统一社会信用代码不一致。", "经营地址不在本区。"))
            if status == "suspended":
                e.status_note = "存在拖欠工资投诉,核查期间暂停发布岗位。"
            self.employers.append(e)
            owner = self.user(f"jobs-e-{i + 1:05d}", e.contact_name)
            self.members.append(PMember(i, owner, "owner", created))
            self.owner[i] = owner
        # 192 key enterprises (重点企业): the larger verified companies, each with its street's officer
        candidates = [
            i for i, e in enumerate(self.employers) if e.status == "verified" and e.size in ("small", "medium", "large")
        ]
        candidates.sort(key=lambda i: ({"large": 0, "medium": 1, "small": 2}[self.employers[i].size], i))
        want = KEY_ENTERPRISES - 2 if n >= 1000 else max(4, n // 12)  # the two stories' are key too
        for i in candidates[:want]:
            e = self.employers[i]
            e.key_enterprise = True
            e.officer = self.officer_at(r, e.street)

    def story_employers(self) -> None:
        r = random.Random(self.seed * 7 + 3)
        people = People(random.Random(self.seed * 7 + 4))
        used = {e.credit_code for e in self.employers}
        # demo-employer's workshop, near 劳动三村 on the demo street
        h = self.demo_homes[len(self.demo_homes) // 2]
        lat, lon = _jitter(r, h.lat, h.lon, 200)
        created = self.past(r, 400, 700)
        demo = PEmployer(
            name=DEMO_EMPLOYER_NAME,
            credit_code=_credit_code(r, False, used),
            industry="制造业",
            size="medium",
            address=f"{self.w.district_name}劳动路{r.randint(10, 99)}号",
            lat=lat,
            lon=lon,
            street=self.demo_street,
            status="verified",
            created_at=created,
            category="manufacturing",
            contact_name="演示·用人单位",
            contact_phone=DEMO_EMPLOYER_PHONE,
            description="精密零部件加工,车、铣、磨、数控加工及装配,员工多为周边社区居民。",
            verified_at=created + timedelta(days=2),
            verified_by="demo-jobs",
            key_enterprise=True,
            officer="demo-jobs",
            story="demo",
        )
        self.story["demo_employer"] = len(self.employers)
        self.employers.append(demo)
        self.user("demo-employer", "演示·用人单位", DEMO_EMPLOYER_PHONE, login=True)
        self.members.append(PMember(self.story["demo_employer"], "demo-employer", "owner", created))
        self.owner[self.story["demo_employer"]] = "demo-employer"
        # the remote machine-tool plant of seed 004 (远郊的机床厂): attached to the nearest street
        plat, plon = PLANT_AT
        nearest = min(self.w.streets, key=lambda s: (metres(plat, plon, s.lat, s.lon), s.id))
        created = self.past(r, 500, 900)
        plant = PEmployer(
            name=PLANT_NAME,
            credit_code=_credit_code(r, False, used),
            industry="制造业",
            size="large",
            address=f"{self.w.district_name}陶家镇机床产业园18号",
            lat=plat,
            lon=plon,
            street=nearest.id,
            status="verified",
            created_at=created,
            category="manufacturing",
            contact_name=people.name(True),
            contact_phone=people.phone(),
            description="数控机床整机制造,远郊厂区,提供员工宿舍和上下班通勤车(覆盖谢家湾、杨家坪)。",
            verified_at=created + timedelta(days=3),
            verified_by=self.officer_at(r, nearest.id),
            key_enterprise=True,
            officer=self.officer_at(r, nearest.id),
            story="plant",
        )
        self.story["plant"] = len(self.employers)
        self.employers.append(plant)
        owner = self.user("jobs-plant-hr", f"{PLANT_NAME}人事部")
        self.members.append(PMember(self.story["plant"], owner, "owner", created))
        self.owner[self.story["plant"]] = owner
        # demo-employer also recruits for the plant (the account that ran its talent search)
        self.members.append(PMember(self.story["plant"], "demo-employer", "recruiter", self.now - timedelta(days=40)))

    # -- postings --

    def posting_skills(self, r: random.Random, category: str) -> tuple[str, ...]:
        codes = self.by_category.get(category) or [s.code for s in self.w.skills]
        k = min(len(codes), r.choices([1, 2, 3], [55, 35, 10])[0])
        return tuple(r.sample(codes, k))

    def wage(self, r: random.Random, category: str, bump: float = 0.0) -> tuple[int, int]:
        _, _, lo, hi, _ = self.traits(category)
        base = lo + (hi - lo) * min(1.0, r.random() ** 1.6 + bump)
        wmin = max(3000, min(11000, int(base / 100) * 100))
        wmax = min(12000, wmin + r.choice((500, 1000, 1000, 1500, 2000, 3000)))
        return wmin, wmax

    def hours(self, r: random.Random, category: str) -> int:
        usual = self.traits(category)[4]
        return max(
            20, min(60, usual + r.choice((-8, -4, 0, 0, 0, 4, 6)) if r.random() > 0.08 else r.choice((20, 24, 30)))
        )

    def posting(self, r: random.Random, ei: int, published: datetime | None, closes_on: date, status: str) -> PPosting:
        e = self.employers[ei]
        category = e.category if r.random() < 0.85 else r.choice(self.categories)
        skills = self.posting_skills(r, category)
        title = self.skill[skills[0]].name + r.choice(TITLE_SUFFIXES)
        big = e.size in ("medium", "large")
        wmin, wmax = self.wage(r, category)
        created = (published or self.past(r, 0, 20)) - timedelta(hours=r.randint(1, 40))
        return PPosting(
            employer=ei,
            title=title,
            description=r.choice(DESCRIPTIONS),
            category=self.skill[skills[0]].category,
            skills=skills,
            headcount=r.choice((1, 1, 2, 2, 3, 5)) * (r.choice((2, 3, 4)) if big else 1),
            wage_min=wmin,
            wage_max=wmax,
            hours=self.hours(r, category),
            address=e.address,
            lat=e.lat,
            lon=e.lon,
            street=e.street,
            closes_on=closes_on,
            status=status,
            created_by=self.owner[ei],
            created_at=max(created, e.verified_at or e.created_at) if status != "draft" else created,
            published_at=published,
        )

    def after_verified(self, r: random.Random, ei: int, at: datetime) -> datetime:
        """``at``, or a little after the employer's verification when that came later (no posting
        goes live before it)."""
        verified = self.employers[ei].verified_at or at
        if at > verified:
            return at
        return min(self.now - timedelta(minutes=30), verified + timedelta(hours=r.randint(2, 72)))

    def postings_of(self) -> None:
        r = random.Random(self.seed * 7 + 5)
        verified = [i for i, e in enumerate(self.employers) if e.status == "verified" and not e.story]
        weights = _cumulative([4.0 if self.employers[i].key_enterprise else 1.0 for i in verified])
        today = self.today
        for _ in range(self.sizes.live_postings):
            ei = _weighted(r, verified, weights)
            published = self.after_verified(r, ei, self.past(r, 0, 75))
            closes = max(today + timedelta(days=1), published.date() + timedelta(days=r.randint(30, 120)))
            self.postings.append(self.posting(r, ei, published, min(closes, today + timedelta(days=300)), "open"))
        # the past year's postings: closing dates gone by (hires come from them); status set after the hires
        for _ in range(self.sizes.live_postings * 7 // 10):
            ei = _weighted(r, verified, weights)
            published = self.after_verified(r, ei, self.past(r, 40, 400))
            closes = published.date() + timedelta(days=r.randint(25, 90))
            if closes >= today:
                closes = today - timedelta(days=r.randint(1, 10))
            self.postings.append(self.posting(r, ei, published, closes, "open"))
        # drafts (of pending employers too: they cannot publish before verification)
        for k in range(max(10, self.sizes.live_postings // 30)):
            pool = [i for i, e in enumerate(self.employers) if e.status == "pending"] if k % 3 == 0 else verified
            if not pool:
                pool = verified
            ei = r.choice(pool)
            self.postings.append(self.posting(r, ei, None, today + timedelta(days=r.randint(20, 60)), "draft"))
        # a suspended employer's postings stay open but are not live
        for ei in [i for i, e in enumerate(self.employers) if e.status == "suspended"]:
            self.postings.append(self.posting(r, ei, self.past(r, 5, 40), today + timedelta(days=30), "open"))

    def story_postings(self) -> None:
        plant, demo = self.story["plant"], self.story["demo_employer"]
        opened = self.now - timedelta(days=33)

        def make(ei: int, title: str, skills: tuple[str, ...], head: int, wage: tuple[int, int], hours: int,
                 published: datetime, closes: date, story: str, desc: str) -> int:  # fmt: skip
            e = self.employers[ei]
            self.postings.append(
                PPosting(
                    employer=ei, title=title, description=desc, category=self.skill[skills[0]].category,
                    skills=tuple(s for s in skills if s in self.skill), headcount=head, wage_min=wage[0],
                    wage_max=wage[1], hours=hours, address=e.address, lat=e.lat, lon=e.lon, street=e.street,
                    closes_on=closes, status="open", created_by=self.owner[ei],
                    created_at=published - timedelta(hours=3), published_at=published, story=story,
                )
            )  # fmt: skip
            return len(self.postings) - 1

        self.story["senior"] = make(
            plant, "高级技师(数控车/铣)", PLANT_SKILLS, SENIOR_HIRES, (9000, 12000), 44, opened,
            self.today + timedelta(days=27), "senior",
            "高级技师职业资格(或同等技能),熟悉数控车床、铣床编程与调整,带徒传艺;厂车接送,提供宿舍。",
        )  # fmt: skip
        self.story["workers"] = make(
            plant, "机床操作工(车/铣/数控)", PLANT_SKILLS, WORKER_HIRES, (5500, 7500), 48, opened,
            self.today + timedelta(days=27), "workers",
            "会操作普通车床、铣床或数控机床,能看懂简单图纸;新人带薪培训一个月;厂车接送。",
        )  # fmt: skip
        self.story["plant_open"] = make(
            plant, "数控车床操作工(二期扩招)", ("6-18-01-08", "6-18-01-01"), 6, (6000, 8500), 48,
            self.now - timedelta(days=5, hours=2), self.today + timedelta(days=55), "plant-open",
            "二期产线投产扩招:数控车床操作,两班倒,厂车接送(谢家湾、杨家坪发车)。",
        )  # fmt: skip
        demo_posts = [
            ("数控车工", ("6-18-01-08", "6-18-01-01"), 3, (6000, 8500), 44),
            ("普通车工", ("6-18-01-01",), 2, (5000, 7000), 44),
            ("焊工(持证)", ("6-18-02-04",), 2, (6000, 9000), 48),
            ("装配钳工", ("6-20-01-01",), 2, (5000, 7000), 44),
        ]
        ids = []
        for k, (title, skills, head, wage, hours) in enumerate(demo_posts):
            ids.append(
                make(
                    demo, title, skills, head, wage, hours, self.now - timedelta(days=14 - 3 * k, hours=k),
                    self.today + timedelta(days=40 + 5 * k), "demo",
                    "离劳动三村步行十分钟,长白班,五险一金,包午餐;欢迎周边社区居民报名。",
                )
            )  # fmt: skip
        self.story["demo_postings"] = ids[0]
        self._demo_postings = ids

    # -- seekers --

    def seeker(self, r: random.Random, people: People, category: str | None = None, **over: Any) -> PSeeker:
        if category is None:
            category = _weighted(r, self.categories, self._seek_cum)
        h = over.pop("home", None) or self.home(r)
        lat, lon = _jitter(r, h.lat, h.lon, 150)
        birth = over.pop("birth_year", None) or r.randint(self.today.year - 60, self.today.year - 20)
        male = r.random() < 0.52
        age = self.today.year - birth
        codes = self.by_category.get(category) or [s.code for s in self.w.skills]
        skills = list(r.sample(codes, min(len(codes), r.choices([1, 2, 3], [45, 40, 15])[0])))
        if r.random() < 0.15:
            other = self.by_category.get(r.choice(self.categories)) or codes
            extra = r.choice(other)
            if extra not in skills:
                skills.append(extra)
        years = max(0, min(age - 18, int(r.expovariate(1 / 7))))
        wmin, wmax = self.wage(r, category, bump=min(0.3, years / 60))
        wmin = max(3000, wmin - r.choice((0, 500, 1000)))
        wmax = max(wmin + 500, min(12000, wmax))
        unemployed = r.random() < 0.22
        hard = r.random() < (0.25 if unemployed else 0.017)
        source = r.choices(["online", "kiosk", "desk", "import"], [55, 15, 25, 5])[0]
        created = self.past(r, 0, 720) if r.random() < 0.7 else self.past(r, 0, 120)
        first = self.skill[skills[0]].name
        experience = r.choice(EXPERIENCE_LINES).format(place=r.choice(PLACES), years=max(1, years), skill=first)
        s = PSeeker(
            name=people.name(male),
            id_number=people.id_number(birth, male),
            phone=people.phone(),
            birth_year=birth,
            education=r.choices(
                ["primary", "junior", "senior", "college", "bachelor"],
                [6, 34, 36, 15, 9] if age > 40 else [1, 15, 34, 30, 20],
            )[0],
            lat=lat,
            lon=lon,
            street=h.street,
            skills=tuple(skills),
            experience_years=years,
            experience=experience if years else "",
            wage_min=wmin,
            wage_max=wmax,
            hours=self.hours(r, category),
            travel_m=r.choice((2000, 3000, 5000, 5000, 8000, 10_000, 10_000, 15_000, 20_000)),
            registered_unemployed=unemployed,
            hard_to_employ=hard,
            discoverable=r.random() < 0.40,
            status="paused" if r.random() < 0.05 else "seeking",
            source=source,
            created_at=created,
            updated_at=created,
        )
        for key, value in over.items():
            setattr(s, key, value)
        if s.source == "online" and not s.username:
            s.username = f"jobs-s-{len(self.seekers) + 1:06d}"
            self.user(s.username, s.name)
        return s

    def seekers_of(self) -> None:
        r = random.Random(self.seed * 7 + 8)
        people = People(random.Random(self.seed * 7 + 9))
        people._ids.add(DEMO_SEEKER_ID)  # demo-seeker's own (fixed) number: never given to another
        self._seek_cum = _cumulative([self.traits(c)[0] for c in self.categories])
        self._people = people
        # demo-seeker first (its ID number is fixed: the kiosk's sign-in)
        h = self.demo_homes[0]
        demo = self.seeker(
            r, people, "manufacturing", home=h, birth_year=1988, username="demo-seeker", story="demo",
            skills=tuple(c for c in DEMO_SEEKER_SKILLS if c in self.skill), discoverable=True, status="seeking",
            source="online", experience_years=9, wage_min=6000, wage_max=8000, hours=44, travel_m=10_000,
            registered_unemployed=True, hard_to_employ=False, education="senior",
            created_at=self.now - timedelta(days=45),
        )  # fmt: skip
        demo.name, demo.id_number, demo.phone = "刘建国", DEMO_SEEKER_ID, DEMO_SEEKER_PHONE
        demo.experience = (
            "在建设厂做过9年车工,会操作数控车床(FANUC系统),持车工高级工证书。\n家住劳动三村,想在附近上班。"
        )
        demo.updated_at = demo.created_at
        self.user("demo-seeker", "演示·求职者", DEMO_SEEKER_PHONE, login=True)
        self.story["demo_seeker"] = 0
        self.seekers.append(demo)
        # the plant's candidates: discoverable machinists of the district (seniors and workers)
        plant_skills = [c for c in PLANT_SKILLS if c in self.skill]
        self._plant_pool: list[int] = []
        for k in range(24):
            senior = k < 9
            s = self.seeker(
                r, people, "manufacturing", discoverable=True, status="seeking",
                birth_year=r.randint(1966, 1984) if senior else r.randint(1985, 2000),
                skills=tuple(r.sample(plant_skills, min(len(plant_skills), 3 if senior else r.choice((1, 2))))),
                created_at=self.now - timedelta(days=r.randint(60, 600)), story="plant",
            )  # fmt: skip
            s.experience_years = r.randint(18, 30) if senior else r.randint(2, 10)
            s.education = r.choice(("senior", "college")) if senior else r.choice(("junior", "senior"))
            s.wage_min, s.wage_max = (8500, 12000) if senior else (5000, 7500)
            s.hours, s.travel_m = 44 if senior else 48, 30_000
            s.experience = (
                f"{s.experience_years}年车铣加工经验,高级技师,会数控编程,带过徒弟。" if senior else s.experience
            )
            s.updated_at = s.created_at
            self._plant_pool.append(len(self.seekers))
            self.seekers.append(s)
        while len(self.seekers) < self.sizes.seekers:
            self.seekers.append(self.seeker(r, people))

    # -- applications --

    def app(
        self, pi: int, si: int, at: datetime, *, invited: bool = False, channel: str | None = None, message: str = ""
    ) -> PApplication:
        """An application as ``services.applications`` creates it: invited (the employer's step) or
        applied (the seeker's, releasing the contact)."""
        s, p = self.seekers[si], self.postings[pi]
        employer_user = self.member_for(p)
        if invited:
            step = PStep("invite", "", "invited", employer_user, "employer", message, at)
            a = PApplication(pi, si, "invited", "online", True, at, [step], message=message)
        else:
            channel = channel or ("online" if s.username else "kiosk" if s.source == "kiosk" else "desk")
            actor, side = (
                (s.username, "seeker") if channel == "online" else (None, "seeker") if channel == "kiosk" else (
                    self.officer_at(random.Random(si), s.street), "staff")
            )  # fmt: skip
            step = PStep("apply", "", "applied", actor, side, message, at)
            a = PApplication(pi, si, "applied", channel, False, at, [step], cv=self.cv(si), message=message)
            a.contact_released_at = at
        self.pairs.add((pi, si))
        self.apps.append(a)
        return a

    def member_for(self, p: PPosting) -> str | None:
        """Who takes the employer's steps: demo-employer on the stories' postings (it ran the plant's
        talent search), the owner member elsewhere."""
        return "demo-employer" if p.story else self.owner[p.employer]

    def cv(self, si: int) -> dict[str, Any]:
        s = self.seekers[si]
        skills = sorted(s.skills)
        return {
            "name": s.name,
            "skills": [{"code": c, "name": self.skill[c].name, "name_en": self.skill[c].name_en} for c in skills],
            "experience_years": s.experience_years,
            "education": s.education,
            "hours": s.hours,
            "wage_min": s.wage_min,
            "wage_max": s.wage_max,
            "text": s.experience,
        }

    def accept(self, a: PApplication, at: datetime, message: str = "") -> None:
        s = self.seekers[a.seeker]
        actor = s.username or None
        a.steps.append(PStep("accept", a.status, "applied", actor, "seeker", message, at))
        a.status, a.cv, a.contact_released_at = "applied", self.cv(a.seeker), at
        if message:
            a.message = message

    def interview(self, a: PApplication, at: datetime, when: datetime) -> None:
        a.steps.append(PStep("interview", a.status, "interview", self.member_for(self.postings[a.posting]),
                             "employer", f"{when:%Y-%m-%d %H:%M}", at))  # fmt: skip
        a.status, a.interview_at = "interview", when

    def hire(self, ai: int, at: datetime, started: date) -> None:
        a = self.apps[ai]
        p, s = self.postings[a.posting], self.seekers[a.seeker]
        who = self.member_for(p)
        a.steps.append(PStep("hire", a.status, "hired", who, "employer", f"{started:%Y-%m-%d}", at))
        a.status = "hired"
        p.hired += 1
        s.status, s.updated_at = "employed", max(s.updated_at, at)
        self.hired_seekers.add(a.seeker)
        self.placements.append(
            PPlacement(ai, a.seeker, p.employer, started, s.street, s.registered_unemployed, s.hard_to_employ, who, at)
        )

    def end(self, a: PApplication, kind: str, at: datetime, side: str, note: str) -> None:
        to = "declined" if kind == "decline" else "withdrawn"
        if side == "employer":
            actor: str | None = self.member_for(self.postings[a.posting])
        elif side == "seeker":
            actor = self.seekers[a.seeker].username or None
        else:
            actor = self.officer_at(random.Random(a.seeker), self.seekers[a.seeker].street)
        a.steps.append(PStep(kind, a.status, to, actor, side, note, at))
        a.status = to

    def published(self, p: PPosting) -> datetime:
        assert p.published_at is not None, "a published posting"
        return p.published_at

    def later(self, a: PApplication, hours: int) -> datetime:
        """``hours`` after the application's last step, and before now."""
        return min(self.now - timedelta(minutes=10), a.steps[-1].at + timedelta(hours=hours))

    def open_window(self, p: PPosting) -> tuple[datetime, datetime] | None:
        if p.published_at is None or p.status == "draft":
            return None
        end = min(self.now - timedelta(hours=1), _at(p.closes_on, 18, 0, self.tz))
        return (p.published_at + timedelta(hours=1), end) if end > p.published_at + timedelta(hours=1) else None

    def applications_of(self) -> None:
        r = random.Random(self.seed * 7 + 10)
        story = {self.story["senior"], self.story["workers"], self.story["plant_open"], *self._demo_postings}
        usable = [
            i for i, p in enumerate(self.postings)
            if i not in story and p.published_at is not None and self.employers[p.employer].status == "verified"
        ]  # fmt: skip
        by_skill: dict[str, list[int]] = {}
        for i in usable:
            for c in self.postings[i].skills:
                by_skill.setdefault(c, []).append(i)

        def near(si: int, pool: list[int], t: datetime | None, room: bool) -> int | None:
            s = self.seekers[si]
            best, best_d = None, math.inf
            for c in r.sample(pool, min(12, len(pool))):
                if (c, si) in self.pairs:
                    continue
                p = self.postings[c]
                # a live posting keeps a place open (it stays live); a past one may fill up
                if room and p.hired >= (p.headcount - 1 if p.closes_on >= self.today else p.headcount):
                    continue
                if t is not None:
                    win = self.open_window(p)
                    if win is None or not (win[0] <= t - timedelta(days=3) and t <= win[1] + timedelta(days=20)):
                        continue
                d = metres(s.lat, s.lon, p.lat, p.lon)
                if d < best_d:
                    best, best_d = c, d
            return best

        # hires over the past year, by month as new jobs come (MONTH_WEIGHTS)
        n_hires = round(len(self.seekers) * 0.18)
        day_weights = []
        days = [self.today - timedelta(days=k) for k in range(365)]
        for d in days:
            day_weights.append(MONTH_WEIGHTS[d.month - 1] / calendar.monthrange(d.year, d.month)[1])
        day_cum = _cumulative(day_weights)
        seekers = [i for i, s in enumerate(self.seekers) if not s.story and s.status == "seeking"]
        r.shuffle(seekers)
        for si in seekers[:n_hires]:
            day = _weighted(r, days, day_cum)
            hired_at = min(_at(day, r.randint(9, 17), r.randrange(60), self.tz), self.now - timedelta(minutes=30))
            s = self.seekers[si]
            pool: list[int] = []
            for c in s.skills:
                pool += by_skill.get(c, [])
            pi = near(si, pool, hired_at, room=True) if pool else None
            if pi is None:
                continue
            p = self.postings[pi]
            win = self.open_window(p)
            assert win is not None
            start, latest = win[0], min(win[1], hired_at - timedelta(days=2))
            if latest <= start:
                continue
            applied_at = start + (latest - start) * r.uniform(0.3, 1.0)
            if s.created_at >= applied_at:  # registered before applying
                s.created_at = s.updated_at = applied_at - timedelta(days=r.randint(1, 30), hours=r.randint(0, 8))
            invited = s.discoverable and r.random() < 0.3
            a = self.app(pi, si, applied_at, invited=invited)
            if invited:
                self.accept(a, applied_at + timedelta(hours=r.randint(2, 40)))
            iv_at = a.steps[-1].at + timedelta(hours=r.randint(3, 48))
            when = _at((iv_at + timedelta(days=r.randint(1, 4))).date(), r.choice((9, 10, 14, 15)), 0, self.tz)
            if iv_at < hired_at and when < hired_at:
                self.interview(a, iv_at, when)
            started = min(self.today, hired_at.date() + timedelta(days=r.choice((0, 1, 3, 7))))
            self.hire(len(self.apps) - 1, max(hired_at, a.steps[-1].at + timedelta(hours=2)), started)
        # other applications: declined and withdrawn ones of the past, and open ones on live postings
        for si in [i for i, s in enumerate(self.seekers) if not s.story]:
            if r.random() > 0.35:
                continue
            s = self.seekers[si]
            pool = [p for c in s.skills for p in by_skill.get(c, [])]
            if not pool:
                continue
            for _ in range(r.choice((1, 1, 2, 3))):
                pi = near(si, pool, None, room=False)
                if pi is None:
                    break
                p = self.postings[pi]
                win = self.open_window(p)
                if win is None:
                    continue
                start = max(win[0], s.created_at + timedelta(hours=1))
                if start >= win[1]:
                    continue
                at = start + (win[1] - start) * r.random()
                is_live = p.closes_on >= self.today and p.status == "open"
                invited = s.discoverable and s.status == "seeking" and r.random() < 0.2
                a = self.app(pi, si, at, invited=invited)
                roll = r.random()
                if invited and is_live and roll < 0.45:
                    continue  # still waiting for the seeker's answer
                if invited and roll < 0.6:
                    self.end(a, "decline", self.later(a, r.randint(2, 72)), "seeker", r.choice(DECLINE_BY_SEEKER))
                    continue
                if invited:
                    self.accept(a, self.later(a, r.randint(2, 48)))
                roll = r.random()
                if is_live and roll < 0.45:
                    continue  # applied, waiting for the employer
                if is_live and roll < 0.65:
                    iv = self.later(a, r.randint(4, 72))
                    self.interview(a, iv, _at((iv + timedelta(days=r.randint(1, 5))).date(), 10, 0, self.tz))
                    continue
                if roll < 0.85 or s.status == "employed":
                    if r.random() < 0.5:
                        self.interview(a, self.later(a, r.randint(4, 72)), self.later(a, r.randint(80, 160)))
                    self.end(
                        a, "decline", self.later(a, r.randint(100, 300)), "employer", r.choice(DECLINE_BY_EMPLOYER)
                    )
                else:
                    self.end(a, "withdraw", self.later(a, r.randint(4, 120)), "seeker", r.choice(WITHDRAW_NOTES))

    def story_applications(self) -> None:
        r = random.Random(self.seed * 7 + 11)
        now = self.now
        # the plant: a month of talent search (30 km) and invitations; 5 seniors and 8 workers hired
        pool = list(self._plant_pool)
        seniors, workers = pool[:9], pool[9:]
        for pi, group, hires in (
            (self.story["senior"], seniors, SENIOR_HIRES),
            (self.story["workers"], workers, WORKER_HIRES),
        ):
            for k, si in enumerate(group):
                first = now - timedelta(days=31 - k, hours=r.randint(0, 5))
                invited = k % 4 != 3  # most from the talent search; a few applied themselves
                msg = "您好,我厂在陶家镇,有厂车接送谢家湾、杨家坪,诚邀您来面试。" if invited else ""
                a = self.app(pi, si, first, invited=invited, message=msg)
                if invited:
                    self.accept(a, first + timedelta(hours=r.randint(3, 30)), "可以,周末方便面试。")
                if k < hires:
                    iv = a.steps[-1].at + timedelta(hours=r.randint(5, 30))
                    when = _at((iv + timedelta(days=2)).date(), 10, 0, self.tz)
                    self.interview(a, iv, when)
                    hired_at = min(now - timedelta(hours=2), when + timedelta(days=r.randint(2, 6)))
                    self.hire(len(self.apps) - 1, hired_at, min(self.today, hired_at.date() + timedelta(days=3)))
                elif k % 2:
                    self.end(a, "decline", a.steps[-1].at + timedelta(days=2), "employer", "岗位已招满,感谢关注。")
                else:
                    self.end(a, "withdraw", a.steps[-1].at + timedelta(days=1), "seeker", "路程太远,不考虑了。")
        # the plant's open posting: two applications and an invitation this week
        rest = [si for si in pool if si not in self.hired_seekers]
        po = self.story["plant_open"]
        for k, si in enumerate(rest[:3]):
            self.app(po, si, now - timedelta(days=4 - k, hours=3), invited=k == 2,
                     message="二期扩招,欢迎报名,厂车接送。" if k == 2 else "")  # fmt: skip
        # demo-employer's workshop: applicants in every state (from seekers nearby with the skills)
        demo_seeker = self.story["demo_seeker"]
        locals_ = sorted(
            (i for i, s in enumerate(self.seekers) if not s.story and s.status == "seeking" and s.skills),
            key=lambda i: (metres(self.seekers[i].lat, self.seekers[i].lon,
                                  self.employers[self.story["demo_employer"]].lat,
                                  self.employers[self.story["demo_employer"]].lon), i),
        )[:60]  # fmt: skip
        it: Iterator[int] = iter(locals_)
        for n, pi in enumerate(self._demo_postings):
            p = self.postings[pi]
            for k in range(5):
                nxt = next(it, None)
                if nxt is None:
                    break
                si = nxt
                a = self.app(pi, si, self.published(p) + timedelta(days=k + 1, hours=2))
                if k == 1:
                    iv = a.steps[-1].at + timedelta(hours=20)
                    self.interview(a, iv, _at(self.today + timedelta(days=2), 10, 0, self.tz))
                elif k == 2 and n == 0:
                    iv = a.steps[-1].at + timedelta(hours=10)
                    self.interview(a, iv, iv + timedelta(days=1))
                    self.hire(len(self.apps) - 1, iv + timedelta(days=2), self.today)
                elif k == 3:
                    self.end(a, "decline", a.steps[-1].at + timedelta(days=1), "employer", "经验与岗位要求不符。")
        # demo-seeker: applied, an interview, declined, withdrawn — and demo-employer's invitation
        s = self.seekers[demo_seeker]
        live = sorted(
            (i for i, p in enumerate(self.postings)
             if not p.story and p.status == "open" and p.closes_on >= self.today and p.published_at
             and self.employers[p.employer].status == "verified"),
            key=lambda i: (not set(self.postings[i].skills) & set(s.skills),
                           metres(s.lat, s.lon, self.postings[i].lat, self.postings[i].lon), i),
        )  # fmt: skip
        # nearby postings with the seeker's skills first, then the workshop's, then any nearby
        shared = [i for i in live[:4] if set(self.postings[i].skills) & set(s.skills)]
        others = list(dict.fromkeys(shared + self._demo_postings[1:] + live))
        plan = [("applied", 3), ("interview", 8), ("declined", 20), ("withdrawn", 15)]
        for (state, days), pi in zip(plan, others, strict=False):
            p = self.postings[pi]
            at = max(self.published(p) + timedelta(hours=2), now - timedelta(days=days, hours=2))
            at = min(at, now - timedelta(hours=6))
            a = self.app(pi, demo_seeker, at, channel="online", message="我家就在附近,可随时面试。")
            if state == "interview":
                self.interview(a, at + timedelta(hours=3), _at(self.today + timedelta(days=2), 14, 30, self.tz))
            elif state == "declined":
                self.interview(a, at + timedelta(hours=5), at + timedelta(days=2))
                self.end(
                    a,
                    "decline",
                    min(now - timedelta(hours=1), at + timedelta(days=3)),
                    "employer",
                    "岗位已招满,感谢关注。",
                )
            elif state == "withdrawn":
                self.end(
                    a, "withdraw", min(now - timedelta(hours=1), at + timedelta(days=1)), "seeker", "已找到更近的工作。"
                )
        self.app(self._demo_postings[0], demo_seeker, now - timedelta(hours=20), invited=True,
                 message="刘师傅您好,我们在劳动路,步行十分钟,想请您来试试数控车工岗位。")  # fmt: skip
        del r

    def finish_postings(self) -> None:
        r = random.Random(self.seed * 7 + 12)
        for p in self.postings:
            if p.status == "draft":
                continue
            if p.hired >= p.headcount:
                p.status = "filled"
            elif p.closes_on < self.today and r.random() < 0.4:
                p.status = "closed"

    def numbers(self) -> None:
        """Slip numbers as the service gives them: ``JY`` + the day + the day's sequence."""
        order = sorted(range(len(self.apps)), key=lambda i: (self.apps[i].created_at, i))
        seq: dict[date, int] = {}
        for i in order:
            a = self.apps[i]
            day = a.created_at.astimezone(self.tz).date()
            seq[day] = seq.get(day, 0) + 1
            a.number = f"JY{day:%Y%m%d}-{seq[day]:04d}"

    # -- figures --

    def figures(self) -> tuple[list[PTarget], list[PEntry], dict[str, int]]:
        year = self.today.year
        goals = goals_for(self.today)
        set_at = _at(date(year, 1, 6), 10, 0, self.tz)
        set_by = self.officers[0].username
        months = [m for m in range(1, 13) if date(year, m, calendar.monthrange(year, m)[1]) <= self.today]
        placed: dict[tuple[int, int, str], int] = {}  # (street, month, metric) → platform placements
        for p in self.placements:
            if p.started_on.year != year:
                continue
            for metric, on in (
                ("new_jobs", True),
                ("reemployed", p.registered_unemployed),
                ("hard_placed", p.hard_to_employ),
            ):
                if on:
                    key = (p.street, p.started_on.month, metric)
                    placed[key] = placed.get(key, 0) + 1
        entries: list[PEntry] = []
        street_actual: dict[tuple[int, str], int] = {}
        ref = year_share(self.today) or 1.0
        for n, s in enumerate(self.w.streets):
            share = DEMO_STREET_SHARE if n == 0 else OTHER_STREET_SHARE
            for metric in METRICS:
                for m in months:
                    goal = round(goals[metric] * share * MONTH_WEIGHTS[m - 1] / ref)
                    count = goal - placed.get((s.id, m, metric), 0)
                    if count > 0:
                        last = date(year, m, calendar.monthrange(year, m)[1])
                        entries.append(PEntry(
                            s.path, metric, count, last,
                            f"{s.name}劳动保障服务所台账({year}年{m}月,平台外就业登记)", set_by,
                            _at(min(self.today, last + timedelta(days=3)), 16, 0, self.tz),
                        ))  # fmt: skip
                total = sum(v for (st, _m, me), v in placed.items() if st == s.id and me == metric)
                total += sum(e.count for e in entries if e.path == s.path and e.metric == metric)
                street_actual[(s.id, metric)] = total
        for metric in METRICS:
            under = sum(street_actual[(s.id, metric)] for s in self.w.streets)
            rest = goals[metric] - under
            if rest <= 0:
                continue
            if months:
                weights = [MONTH_WEIGHTS[m - 1] for m in months]
                shares = [rest * w / sum(weights) for w in weights]
                counts = [int(x) for x in shares]
                for k in sorted(range(len(months)), key=lambda k: (counts[k] - shares[k], k))[: rest - sum(counts)]:
                    counts[k] += 1
                for m, c in zip(months, counts, strict=True):
                    if c > 0:
                        last = date(year, m, calendar.monthrange(year, m)[1])
                        entries.append(PEntry(
                            self.w.district_path, metric, c, last, f"区人社局月报({year}年{m}月,全区其他街镇)",
                            set_by, _at(min(self.today, last + timedelta(days=5)), 11, 0, self.tz),
                        ))  # fmt: skip
            else:
                entries.append(PEntry(self.w.district_path, metric, rest, self.today,
                                      f"区人社局快报({year}年1月上旬,全区其他街镇)", set_by, self.now))  # fmt: skip
        targets = [
            PTarget(year, "district", self.w.district_id, self.w.district_path, metric,
                    target_for(goals[metric], SEED_COMPLETION[metric]), set_by, set_at)
            for metric in METRICS
        ]  # fmt: skip
        for n, s in enumerate(self.w.streets):
            done = STREET_COMPLETION[n % len(STREET_COMPLETION)]
            for metric in METRICS:
                actual = street_actual[(s.id, metric)]
                targets.append(
                    PTarget(year, "street", s.id, s.path, metric, target_for(max(actual, 1), done), set_by, set_at)
                )
        return targets, entries, goals

    # -- key-enterprise service requests --

    def requests_of(self) -> list[PRequest]:
        r = random.Random(self.seed * 7 + 13)
        keys = [i for i, e in enumerate(self.employers) if e.key_enterprise and e.status == "verified"]
        out: list[PRequest] = []
        kinds = list(SERVICE_TITLES)
        demo = self.story["demo_employer"]
        plan: list[tuple[int, datetime, str]] = []
        for _ in range(self.sizes.requests):
            plan.append((r.choice(keys), self.past(r, 0, 360), r.choices(kinds, [30, 30, 20, 15, 5])[0]))
        plan += [
            (demo, self.now - timedelta(days=60), "recruitment"),
            (demo, self.now - timedelta(days=6), "subsidy"),
            (demo, self.now - timedelta(hours=20), "social_security"),
        ]
        plan.sort(key=lambda t: (t[1], t[0]))
        seq: dict[date, int] = {}
        for ei, filed_at, kind in plan:
            e = self.employers[ei]
            filed_by = self.member_for_employer(ei)
            officer = e.officer or self.officer_at(r, e.street)
            due = self.due(kind, filed_at)
            day = filed_at.date()
            seq[day] = seq.get(day, 0) + 1
            title = r.choice(SERVICE_TITLES[kind]).format(n=r.choice((5, 8, 10, 20, 30)))
            req = PRequest(
                employer=ei, number=f"FW{day:%Y%m%d}-{seq[day]:04d}", kind=kind, title=title,
                detail=f"{e.name}:{title}。请专员联系{e.contact_name or '我司人事'},谢谢。", status="filed",
                officer=e.officer, filed_by=filed_by, filed_at=filed_at, due_at=due,
                steps=[PServiceStep("file", filed_by, "", filed_at)],
            )  # fmt: skip
            span = (due - filed_at).total_seconds()
            age = (self.now - filed_at).total_seconds()
            overdue_case = r.random() < 0.04
            # how long it takes: mostly within the deadline, some late, a few still open and overdue
            take = span * (r.uniform(0.2, 0.95) if r.random() < 0.88 else r.uniform(1.05, 1.8))
            if overdue_case and age > span:
                take = age * 2  # still open past its deadline
            accepted = filed_at + timedelta(seconds=min(take * 0.2, 86400 * 1.5) + 1800)
            if self.now - filed_at < timedelta(days=2) and r.random() < 0.5:
                accepted = self.now + timedelta(hours=1)  # filed lately: still waiting to be accepted
            if accepted >= self.now:
                out.append(req)
                continue
            if r.random() < 0.03:
                req.status, req.closed_at = "rejected", accepted
                req.steps.append(
                    PServiceStep("reject", officer, "不属于本街道受理范围,已告知企业向区人社局申请。", accepted)
                )
                out.append(req)
                continue
            req.status, req.accepted_at, req.officer = "accepted", accepted, officer
            req.steps.append(PServiceStep("accept", officer, "已受理,专员将电话联系企业。", accepted))
            progress = filed_at + timedelta(seconds=take * 0.6)
            if progress < self.now and progress > accepted:
                req.status = "working"
                req.steps.append(PServiceStep("progress", officer, "材料已收齐,正在办理。", progress))
            closed = filed_at + timedelta(seconds=take)
            if closed >= self.now:
                out.append(req)
                continue
            req.status, req.closed_at, req.result = "closed", closed, r.choice(SERVICE_RESULTS)
            req.steps.append(PServiceStep("close", officer, req.result, closed))
            rated = closed + timedelta(hours=r.randint(2, 72))
            if rated < self.now and r.random() < 0.85:
                late = closed > due
                req.satisfaction = r.choices([5, 4, 3, 2], [55, 30, 10, 5] if not late else [20, 35, 30, 15])[0]
                req.satisfaction_note = r.choice(RATING_NOTES)
                req.steps.append(
                    PServiceStep("rate", filed_by, f"{req.satisfaction} · {req.satisfaction_note}".rstrip(" ·"), rated)
                )
            out.append(req)
        return out

    def member_for_employer(self, ei: int) -> str:
        return self.owner[ei]


def plan(
    world: World,
    now: datetime,
    seed: int = 2024,
    sizes: Sizes | None = None,
    due: Callable[[str, datetime], datetime] | None = None,
) -> Plan:
    """The demo's jobs (module docstring). ``now`` is aware (the site's time zone); ``due(kind,
    filed_at)`` gives a service request's deadline (the loader passes ``services.enterprise.due_at_for``;
    by default three days)."""
    if not world.streets or not world.homes or not world.skills:
        raise ValueError("the demo's jobs need a district with streets, homes and the skills vocabulary")
    sizes = sizes or Sizes()
    p = _Planner(world, now, seed, sizes, due or (lambda _kind, at: at + timedelta(days=3)))
    p.officers_of()
    p.employers_of()
    p.story_employers()
    p.postings_of()
    p.story_postings()
    p.seekers_of()
    p.story_applications()
    p.applications_of()
    p.finish_postings()
    p.numbers()
    targets, entries, goals = p.figures()
    requests = p.requests_of()
    return Plan(
        seed=seed,
        now=now,
        users=p.users,
        officers=p.officers,
        employers=p.employers,
        members=p.members,
        postings=p.postings,
        seekers=p.seekers,
        applications=p.apps,
        placements=p.placements,
        targets=targets,
        entries=entries,
        requests=requests,
        goals=goals,
        story=dict(p.story),
    )


def summary(p: Plan) -> dict[str, int]:
    live = sum(1 for x in p.postings if x.status == "open" and x.closes_on >= p.now.date()
               and p.employers[x.employer].status == "verified")  # fmt: skip
    return {
        "employers": len(p.employers),
        "key_enterprises": sum(1 for e in p.employers if e.key_enterprise),
        "postings": len(p.postings),
        "live_postings": live,
        "seekers": len(p.seekers),
        "discoverable": sum(1 for s in p.seekers if s.discoverable),
        "applications": len(p.applications),
        "steps": sum(len(a.steps) for a in p.applications),
        "placements": len(p.placements),
        "entries": len(p.entries),
        "requests": len(p.requests),
    }
