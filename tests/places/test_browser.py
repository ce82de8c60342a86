"""The community page in a real browser: sign in, map outlines drawn, charts painted, language switch.

Drives Debian's /usr/bin/chromium through Playwright (never `playwright install`).
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import re
from typing import Any

import pytest

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.places import geometry
from tests import factories as f
from tests.browser import wait_true
from tests.conftest import make_world

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "a-long-browser-password"


@pytest.fixture
def chinese_catalogue(settings: Any) -> dict[str, str]:
    """The committed catalogue's Chinese for the strings this test reads."""
    from django.utils import translation

    settings.LINLI_MAP_TILE_URL = ""
    with translation.override("zh-hans"):
        return {"Map of compounds and grids": translation.gettext("Map of compounds and grids")}


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_community_page_draws_map_and_charts_and_switches_language(live_server, transactional_db, chinese_catalogue):
    from playwright.sync_api import sync_playwright

    heading_en = "Map of compounds and grids"
    heading_zh = chinese_catalogue[heading_en]
    assert heading_zh and heading_zh != heading_en

    w = make_world()
    w.grid_a.boundary = geometry.square(29.5012, 106.5012, 150.0)
    w.grid_a.save()
    f.BuildingFactory(compound=w.compound_a, code="02", grid=w.grid_a, lat=29.5020, lon=106.5020)
    user = f.UserFactory(username="browser_worker")
    user.set_password(PASSWORD)
    user.save()
    grant_role(w.admin, user, Role.COMMUNITY_WORKER.value, w.comm_a)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # An English browser still gets Chinese first (the site's default), and can switch.
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-US")
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live_server.url}/accounts/login/?next=/places/mine/")  # "/" is the workbench
            page.fill("#id_username", "browser_worker")
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{live_server.url}/places/mine/")
            page.click(f"a[href='/places/community/{w.comm_a.pk}/']")
            page.wait_for_url(re.compile(rf".*/places/community/{w.comm_a.pk}/$"))

            page.wait_for_selector("#map svg path", state="attached", timeout=15_000)
            page.wait_for_selector("#chart-decade canvas", state="attached", timeout=15_000)
            paths = page.eval_on_selector_all("#map svg path", "els => els.map(e => e.getAttribute('d') || '')")
            assert len(paths) >= 3, "compound, grid and at least one building"
            assert all(len(d) > 4 for d in paths)
            assert page.get_attribute("#map", "data-features") == "4"  # compound, grid, two buildings
            painted = page.evaluate("""() => {
                const c = document.querySelector('#chart-decade canvas');
                if (!c || !c.width || !c.height) return 0;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                return n; }""")
            assert painted > 100, "the bar chart painted something"
            assert page.locator("#chart-grid canvas").count() == 1
            page.screenshot(path="/tmp/linli-browser-community.png", full_page=True)

            assert page.get_attribute("html", "lang") == "zh-Hans"
            assert page.inner_text("#map-h").strip() == heading_zh
            page.click("[data-testid=lang-switch]")
            wait_true(page, "document.documentElement.lang === 'en'")
            assert page.inner_text("#map-h").strip() == heading_en
            page.wait_for_selector("#map svg path", state="attached", timeout=15_000)
            page.click("[data-testid=lang-switch]")
            wait_true(page, "document.documentElement.lang === 'zh-Hans'")
            assert page.inner_text("#map-h").strip() == heading_zh
            assert errors == []
        finally:
            browser.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_import_page_shows_row_numbered_problems_then_previews_then_imports(live_server, transactional_db, tmp_path):
    """A bad roster through the page (htmx upload): the problems table with row numbers, nothing
    written; the corrected file: a preview, still nothing written, with a doubt about a person to
    decide by keyboard; then applied, with the counts. Every step fits a 390 px phone."""
    from playwright.sync_api import sync_playwright

    from linli.places import models as m
    from tests.places.test_import_service import building, dwelling, make_xlsx

    w = make_world()
    user = f.UserFactory(username="browser_importer")
    user.set_password(PASSWORD)
    user.save()
    grant_role(w.admin, user, Role.COMMUNITY_WORKER.value, w.comm_a)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(make_xlsx([building()], [dwelling(), dwelling(number="102", area="abc")]).getvalue())
    good = tmp_path / "good.xlsx"
    renamed = dwelling(compound="0001", bld="01", unit="1", number="101", area="62.00")
    renamed.update(owner_name="吴十", owner_id_number="110101199003070011")  # 张三's ID number
    good.write_bytes(make_xlsx([building()], [dwelling(), dwelling(number="102"), renamed]).getvalue())
    before = m.Dwelling.objects.count()

    def fits(page: Any) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide in a 390 px viewport"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live_server.url}/accounts/login/?next=/places/community/{w.comm_a.pk}/import/")
            page.fill("#id_username", "browser_importer")
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_selector("[data-testid=import-form]")
            page.evaluate("window.__samePage = true")
            page.set_input_files("#id_file", str(bad))
            page.click("[data-testid=import-form] button[type=submit]")
            # a worker reads the file; its run page lists the problems by row and column
            page.wait_for_selector("[data-testid=run-errors]", timeout=15_000)
            assert page.evaluate("window.__samePage === true"), "htmx swapped the page in place (progress shown)"
            table = page.inner_text("[data-testid=run-errors]")
            assert "3" in table and "area" in table  # the bad area is on spreadsheet row 3
            assert m.Dwelling.objects.count() == before
            fits(page)
            page.click("[data-testid=run-next]")  # back to the import page
            page.wait_for_selector("[data-testid=import-form]")
            page.evaluate("window.__samePage = true")
            page.set_input_files("#id_file", str(good))
            page.click("[data-testid=import-form] button[type=submit]")
            page.wait_for_selector("[data-testid=run-next]", timeout=15_000)
            page.click("[data-testid=run-next]")  # "Continue" to the preview
            page.wait_for_selector("[data-testid=apply]", timeout=15_000)
            assert re.search(r"/places/import/\d+/$", page.url), page.url
            assert m.Dwelling.objects.count() == before, "a preview writes nothing"
            assert page.is_disabled("[data-testid=confirm]"), "a doubt about a person is open"
            fits(page)
            page.focus("[data-testid=conflict-c1] input[value=rename]")
            page.keyboard.press("Space")
            page.click("[data-testid=resolve]")
            page.wait_for_selector("[data-testid=decision-log]")
            assert page.is_enabled("[data-testid=confirm]")
            page.click("[data-testid=confirm]")
            page.wait_for_selector("[data-testid=run-next]", timeout=15_000)  # applied by a worker
            page.click("[data-testid=run-next]")
            page.wait_for_selector("[data-testid=import-result]", timeout=15_000)
            fits(page)
            assert m.Dwelling.objects.count() == before + 2
            assert m.Person.objects.get(pk=w.owner_a.pk).name == "吴十"
            assert errors == []
        finally:
            browser.close()
