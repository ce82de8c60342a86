"""Shared fixtures: a small world with two streets, communities A and B, and a user per role.

world.district                          九龙坡区 500107
world.street1 ─ world.comm_a ─ world.compound_a ─ world.building_a (2 units × 6 floors × 2)
              │                 grid world.grid_a holds building_a
              └ world.comm_b ─ world.compound_b ─ world.building_b, grid world.grid_b
world.street2 ─ world.comm_c ─ world.compound_c ─ world.building_c

world.users[role]  a user holding ``role`` inside community A (or its street/district/grid);
world.outsider     a community worker of community B.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.test.testcases import LiveServerThread

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core.servers import NoDelayThreadedWSGIServer
from linli.places import models as m
from tests import factories as f

# The live server (browser and schema tests) answers kept-alive connections without a 40 ms stall
# each, as runserver does (linli/core/servers.py).
LiveServerThread.server_class = NoDelayThreadedWSGIServer


@dataclass
class World:
    district: m.District
    street1: m.Street
    street2: m.Street
    comm_a: m.Community
    comm_b: m.Community
    comm_c: m.Community
    compound_a: m.Compound
    compound_b: m.Compound
    compound_c: m.Compound
    building_a: m.Building
    building_b: m.Building
    building_c: m.Building
    grid_a: m.Grid
    grid_b: m.Grid
    dwelling_a: m.Dwelling
    dwelling_b: m.Dwelling
    owner_a: m.Person
    owner_b: m.Person
    users: dict[str, User] = field(default_factory=dict)
    outsider: Any = None
    admin: Any = None


def _fill_building(building: m.Building, units: int = 2, floors: int = 6, per_floor: int = 2) -> list[m.Dwelling]:
    out = []
    for u in range(1, units + 1):
        unit = m.Unit.objects.create(building=building, number=str(u))
        for fl in range(1, floors + 1):
            for k in range(1, per_floor + 1):
                out.append(
                    m.Dwelling.objects.create(
                        unit=unit, floor=fl, number=f"{fl}{k:02d}", area=Decimal("60.00") + fl + k
                    )
                )
    return out


def _owner(dwelling: m.Dwelling, name: str, id_number: str, phone: str) -> m.Person:
    p = m.Person(name=name)
    p.set_id_number(id_number)
    p.set_phone(phone)
    p.save()
    m.Ownership.objects.create(dwelling=dwelling, person=p)
    hh = m.Household.objects.create(dwelling=dwelling)
    m.Resident.objects.create(household=hh, person=p)
    return p


def make_world() -> World:
    district = f.DistrictFactory()
    street1 = f.StreetFactory(district=district, code="001", name="谢家湾街道")
    street2 = f.StreetFactory(district=district, code="002", name="杨家坪街道")
    comm_a = f.CommunityFactory(street=street1, code="001", name="劳动三村社区")
    comm_b = f.CommunityFactory(street=street1, code="002", name="民主村社区")
    comm_c = f.CommunityFactory(street=street2, code="001", name="西郊社区")
    compound_a = f.CompoundFactory(community=comm_a, code="0001", name="劳动三村小区", build_year=1958)
    compound_b = f.CompoundFactory(community=comm_b, code="0001", name="民主村小区", build_year=1956)
    compound_c = f.CompoundFactory(community=comm_c, code="0001", name="西郊小区", build_year=1995)
    grid_a = m.Grid.objects.create(community=comm_a, seq=1, code="500107001001001", name="劳动三村第1网格")
    grid_b = m.Grid.objects.create(community=comm_b, seq=1, code="500107001002001", name="民主村第1网格")
    building_a = f.BuildingFactory(compound=compound_a, code="01", name="1栋", grid=grid_a)
    building_b = f.BuildingFactory(compound=compound_b, code="01", name="1栋", grid=grid_b)
    building_c = f.BuildingFactory(compound=compound_c, code="01", name="1栋")
    da = _fill_building(building_a)
    db = _fill_building(building_b)
    _fill_building(building_c, units=1, floors=3, per_floor=1)
    owner_a = _owner(da[0], "张三", "110101199003070011", "13800138000")
    owner_b = _owner(db[0], "李四", "110101199003072914", "13900139000")
    w = World(
        district,
        street1,
        street2,
        comm_a,
        comm_b,
        comm_c,
        compound_a,
        compound_b,
        compound_c,
        building_a,
        building_b,
        building_c,
        grid_a,
        grid_b,
        da[0],
        db[0],
        owner_a,
        owner_b,
    )
    root = User.objects.create_superuser("root", password="a-long-test-password")
    w.admin = root
    at: dict[Role, Any] = {
        Role.DISTRICT_ADMIN: district,
        Role.STREET_COMMAND: street1,
        Role.COMMUNITY_WORKER: comm_a,
        Role.GRID_LEADER: grid_a,
        Role.GRID_FULLTIME: grid_a,
        Role.GRID_PARTTIME: grid_a,
        Role.GRID_INSTRUCTOR: grid_a,
        Role.GRID_FORCE: grid_a,
        Role.DEPARTMENT_STAFF: street1,
        Role.RESIDENT: da[0],
        Role.OPERATOR: compound_a,
    }
    for role, place in at.items():
        user = f.UserFactory(username=role.value)
        grant_role(root, user, role.value, place)
        w.users[role.value] = user
    w.outsider = f.UserFactory(username="outsider_b")
    grant_role(root, w.outsider, Role.COMMUNITY_WORKER.value, comm_b)
    return w


@pytest.fixture
def world(db: Any) -> World:
    return make_world()


@pytest.fixture
def client_for(client: Any) -> Any:
    """client_for(user) → a test client signed in as ``user``."""
    from django.test import Client

    def make(user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def project(world: World) -> Any:
    """A renovation project of compound A (all its buildings), created by A's community worker."""
    from linli.renewal.models import Project

    return Project.objects.create(
        compound=world.compound_a, name="劳动三村小区综合改造", created_by=world.users["community_worker"]
    )


RUN_AS_OF = os.environ.get("LINLI_AS_OF", "").strip()  # the day this run is "as of" (make test-dates)


def _back_to_the_run_clock() -> None:
    from linli.core import clock

    clock.reset()
    if RUN_AS_OF:
        clock.travel(RUN_AS_OF)


@pytest.fixture(autouse=True)
def _run_clock() -> Any:
    """Every test starts on the run's clock — the system clock, or noon of ``LINLI_AS_OF`` (``make
    test-dates``) — and whatever it does with ``clock.travel``/``clock.frozen`` is undone after it."""
    _back_to_the_run_clock()
    yield
    _back_to_the_run_clock()


CHROMIUM = "/usr/bin/chromium"


def cjk_fonts() -> list[str]:
    """The Chinese fonts fontconfig knows (``fc-list :lang=zh``); empty when none or no fontconfig."""
    import shutil
    import subprocess

    if not shutil.which("fc-list"):
        return []
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    return sorted({line.strip() for line in out.splitlines() if line.strip()})


@pytest.fixture(autouse=True)
def _real_chinese_font(request: Any) -> None:
    """Browser tests measure Chinese text at its real width: with chromium present and no Chinese
    font, they fail (never skip) — `make browser` installs Debian's fonts-noto-cjk."""
    if request.node.get_closest_marker("browser") is None or not os.path.exists(CHROMIUM):
        return
    if not cjk_fonts():
        pytest.fail(
            "No Chinese font: `fc-list :lang=zh` is empty. Browser tests measure text at its real width; "
            "install Debian's fonts-noto-cjk (`make browser` as root, or `sudo apt-get install fonts-noto-cjk`)."
            " / 没有中文字体:请安装 fonts-noto-cjk。",
            pytrace=False,
        )


# Every page a browser test opens must pass the Content-Security-Policy (issue 9): Chromium reports
# each refusal on the console ("... violates the following Content Security Policy directive ...")
# and fires a `securitypolicyviolation` event, which this script also puts on the console.
_CSP_WATCH = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Content Security Policy violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.documentURI + (e.sample ? " (" + e.sample + ")" : ""));
});"""


@pytest.fixture(autouse=True)
def _no_csp_violations(request: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Browser tests fail when a page broke the Content-Security-Policy. Each test starts its own
    Playwright browser; every context and page it opens gets the console listener and the script."""
    if request.node.get_closest_marker("browser") is None or not os.path.exists(CHROMIUM):
        yield
        return
    from playwright.sync_api import Browser, BrowserContext

    violations: list[str] = []

    def watch(ctx: BrowserContext) -> BrowserContext:
        ctx.add_init_script(_CSP_WATCH)
        ctx.on(
            "console",
            lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        return ctx

    new_context = Browser.new_context

    def new_context_watched(self: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        return watch(new_context(self, *args, **kwargs))

    def new_page_watched(self: Browser, *args: Any, **kwargs: Any) -> Any:
        # Browser.new_page is a page in a context of its own (closed with the browser).
        return new_context_watched(self, *args, **kwargs).new_page()

    monkeypatch.setattr(Browser, "new_context", new_context_watched)
    monkeypatch.setattr(Browser, "new_page", new_page_watched)
    request.node.csp_violations = violations  # a test that provokes one on purpose clears it
    yield
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(dict.fromkeys(violations)), pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Any:
    """In-process caches (event categories, Open311 keys and services, sensor devices, the
    job-matching indexes, the buildings snapping holds) hold rows of one test's
    database; every test starts without them."""
    from linli.governance.services.events import forget_categories
    from linli.jobs.queries import matching as jobs_matching
    from linli.open311.services import clear_caches
    from linli.places.queries import spots
    from linli.sensing.queries import intake as sensing_intake

    forget_categories()
    clear_caches()
    sensing_intake.forget()
    jobs_matching.forget()
    spots.forget()
    yield
    forget_categories()
    clear_caches()
    sensing_intake.forget()
    jobs_matching.forget()
    spots.forget()


# --- `make test-postgres` runs only the tests that touch the database (`--database-only`) ----------
# Tests that use no database (pure modules: rules, partition, loop, importing, geometry, the house
# rules …) give the same answer on every database; the SQLite pass has already run them.
_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-only",
        action="store_true",
        help="run only tests that use the database (the PostgreSQL pass of `make test`)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--database-only"):
        return
    keep, drop = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") is not None or bool(
            _DB_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --- A test database of the run's own, and nothing left connected to it (tests/databases.py) -------
def pytest_sessionstart(session: pytest.Session) -> None:
    """Remove the test databases and SQLite files of runs killed more than a day ago (never one a
    live run uses); once per run, not in each pytest-xdist worker."""
    if hasattr(session.config, "workerinput"):
        return
    from django.conf import settings

    from tests import databases

    databases.drop_stale_sqlite()
    default = settings.DATABASES["default"]
    if default["ENGINE"] == "django.db.backends.postgresql":
        try:
            databases.drop_stale_postgres(default)
        except Exception as exc:  # no server yet: the tests themselves will say so
            session.config.get_terminal_writer().line(f"(no clean-up of old test databases: {exc})")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Any:
    """pytest-django's test databases, then, before they are dropped: on PostgreSQL nobody but the
    suite itself may still be connected. A connection left open by a thread, a live server or a
    subprocess made the drop fail ("is being accessed by other users") and left the database
    behind; now the run fails and names it."""
    yield
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql":
        return
    name = settings_dict["NAME"]
    connections.close_all()  # the suite's own
    from tests import databases

    left = databases.leftover_connections(settings_dict, name)
    if left:
        pytest.fail(
            f"{len(left)} connection(s) to the test database {name} were still open at the end of the run"
            " (a thread, live server or subprocess that did not close its connection; ended now so the"
            " database can be dropped):\n"
            + "\n".join(f"  pid {p} app={a!r} state={s} since {t:%H:%M:%S} last query: {q}" for p, a, s, t, q in left),
            pytrace=False,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run's PostgreSQL test database is gone at the end (pytest-django only warns when its
    drop fails)."""
    from django.conf import settings
    from django.db import connections

    default = settings.DATABASES["default"]
    if default["ENGINE"] != "django.db.backends.postgresql" or session.config.getoption("reuse_db"):
        return
    name = connections["default"].creation._get_test_db_name()
    from tests import databases

    try:
        still_there = databases.database_exists(default, name)
    except Exception:  # no server: nothing was created
        return
    if still_there:
        session.config.get_terminal_writer().line(
            f"ERROR: the test database {name} was not dropped at the end of the run", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
