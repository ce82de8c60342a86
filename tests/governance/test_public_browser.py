"""The public map of reported problems on a 390 px phone, with the real Chinese font: the map draws the
public problems (coloured, with a legend in words), the list below it is cards, nothing scrolls
sideways; a visitor opens a problem, "me too" leads to sign-in and back, and the +1 is counted.
axe-core finds nothing serious or critical on the three pages; no JavaScript errors."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import pytest

from linli.governance.models import Follow, Support
from linli.governance.services import events as svc
from tests.browser import wait_true
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD
from tests.core.test_axe_browser import AXE, findings
from tests.governance.conftest import POS, make_gov
from tests.phone import PHONE, fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_the_public_map_on_a_phone(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    settings.LINLI_PUBLIC_MAP_CACHE_SECONDS = 0
    w = make_world()
    gov = make_gov(w)
    command = w.users["street_command"]
    shown = []
    for code, at in (("C0102", POS["a"]), ("E0201", POS["a"]), ("C0103", POS["b"]), ("C0108", POS["b"])):
        event, _ = svc.report(command, svc.Report(code, *at, description="路灯不亮,电话13812345678"), channel="hotline")
        shown.append(event)
    svc.act(command, shown[1], "dispatch", department=gov.cg)
    svc.report(command, svc.Report("E0206", *POS["a"], description="邻居吵架"), channel="hotline")  # never public
    neighbour = w.users["resident"]
    neighbour.set_password(PASSWORD)
    neighbour.save()
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True)
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/governance/public/")
            wait_true(page, "document.getElementById('public-map').dataset.ready === '1'")
            assert page.get_attribute("#public-map", "data-features") == str(len(shown))
            assert page.locator("[data-testid=public-legend] li").all_inner_texts() == ["待处理", "处理中", "已办结"]
            rows = page.locator("[data-testid=public-list] tbody tr")
            assert rows.count() == len(shown)
            # below 600 px each row is a card: the table's header row is not shown
            assert not page.locator("[data-testid=public-list] thead").is_visible()
            assert "13812345678" not in page.content() and "邻居吵架" not in page.content()
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            # a visitor opens a problem and says "me too": sign in first, then back to the problem
            page.click(f"[data-testid=public-list] tr[data-pk='{shown[0].pk}'] th a")
            page.wait_for_url(f"**/governance/public/{shown[0].pk}/")
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            page.click("[data-testid=support-login]")
            page.fill("#id_username", neighbour.username)
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"**/governance/public/{shown[0].pk}/")
            page.click("[data-testid=support]")
            page.wait_for_selector("[data-testid=unsupport]")
            assert "1 人表示也遇到" in page.inner_text("[data-testid=support-count]")
            assert Support.objects.filter(event=shown[0], user=neighbour).count() == 1
            assert Follow.objects.filter(event=shown[0], user=neighbour).count() == 1
            fits(page)
            # 我关注的问题 lists it
            page.goto(f"{base}/governance/public/following/")
            assert page.locator(f"[data-testid=following-list] tr[data-pk='{shown[0].pk}']").count() == 1
            fits(page)
            if AXE.exists():
                assert findings(page) == []
        finally:
            browser.close()
    assert not errors, errors
