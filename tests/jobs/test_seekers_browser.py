"""jobs:seeker_me in Debian's chromium at 390 px: a signed-in person registers as a job seeker —
skills from the grouped picker, wage, hours, distance, a point tapped on the map, "employers may find
me" — saves, reloads and sees it all kept; the page fits a phone and axe finds nothing serious."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import pytest

from linli.jobs.models import Seeker
from linli.jobs.services import vocabulary
from tests import factories as f
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, login
from tests.core.test_axe_browser import AXE, findings
from tests.phone import PHONE, fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_my_profile_on_a_phone(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    vocabulary.ensure()
    w = make_world()
    w.street1.lat, w.street1.lon = 29.53, 106.51
    w.street1.save()
    user = f.UserFactory(username="jobhunter")
    user.set_password(PASSWORD)
    user.save()
    base = live_server.url
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")  # type: ignore[arg-type]
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, user.username, "/jobs/me/")
            fits(page)
            page.fill("[data-testid=f-name]", "周师傅")
            page.fill("[data-testid=f-phone]", "139 1234 5678")
            page.check("[data-testid='skill-6-18-01-01']")  # 制造技工 is open first
            page.click(".skill-group:has([data-testid='skill-4-03-02-01']) summary")
            page.check("[data-testid='skill-4-03-02-01']")
            page.fill("[data-testid=f-wage-min]", "5000")
            page.fill("[data-testid=f-wage-max]", "8000")
            page.fill("[data-testid=f-hours]", "44")
            page.fill("[data-testid=f-travel]", "6")
            page.select_option("[data-testid=f-street]", str(w.street1.pk))
            page.wait_for_selector("#seeker-map[data-picker='1']")
            page.locator("#seeker-map").click(position={"x": 180, "y": 120})
            assert page.input_value("#f-lat") and page.input_value("#f-lon")
            page.check("[data-testid=f-discoverable]")
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            page.click("[data-testid=save]")
            page.wait_for_url("**/jobs/me/")
            page.wait_for_selector("[data-testid=summary]")
            seeker = Seeker.objects.get(user=user)
            assert (
                seeker.discoverable and seeker.travel_m == 6000 and (seeker.wage_min, seeker.wage_max) == (5000, 8000)
            )
            assert abs(seeker.lat - 29.53) < 0.05 and abs(seeker.lon - 106.51) < 0.05
            page.reload()
            assert page.input_value("[data-testid=f-name]") == "周师傅"
            assert page.is_checked("[data-testid='skill-6-18-01-01']") and page.is_checked(
                "[data-testid='skill-4-03-02-01']"
            )
            assert page.input_value("[data-testid=f-wage-max]") == "8000"
            assert page.input_value("[data-testid=f-travel]") == "6"
            assert page.is_checked("[data-testid=f-discoverable]")
            assert "139****5678" in page.inner_text("#f-phone-help")
            assert "中式烹调师" in page.inner_text("[data-testid=my-skills]")
            fits(page)
            # a wage range upside down: a clear error, nothing changed
            page.fill("[data-testid=f-wage-min]", "9000")
            page.click("[data-testid=save]")
            page.wait_for_selector("[data-testid=errors]")
            assert "下限高于上限" in page.inner_text("[data-testid=errors]")
            assert Seeker.objects.get(user=user).wage_min == 5000
        finally:
            browser.close()
    assert errors == []
