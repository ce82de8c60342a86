"""The nearby-jobs page in Debian's chromium at 390 px (issue 14 §3): the map draws the home and one
marker per job of the list, the list is there (the map's text alternative), changing the distance or
the kind of work updates both, the page fits a phone and axe-core finds nothing serious."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from linli.jobs.queries import matching as q
from linli.jobs.services import vocabulary
from tests import factories as f
from tests.browser import wait_true
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, login
from tests.core.test_axe_browser import findings
from tests.jobs.conftest import LAT, LON, make_employer, make_posting, make_seeker
from tests.phone import PHONE as _PHONE
from tests.phone import fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

PHONE: Any = _PHONE


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_nearby_jobs_on_a_phone(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    vocabulary.ensure()  # a transactional test starts from an empty database
    q.connect_signals()
    q.forget()
    w = make_world()
    user = f.UserFactory(username="seeker1")
    user.set_password(PASSWORD)
    user.save()
    employer = make_employer(w.street1, "重庆精工机床有限公司", "91500107MA5U4XKX2E")
    seeker = make_seeker(w.street1, "王师傅", ["6-18-01-01", "4-03-02-01"], user=user, travel_m=10_000)
    near = [
        make_posting(employer, f"数控车工{i}", ["6-18-01-01"], lat=LAT + 0.004 * i, lon=LON + 0.003)
        for i in range(1, 4)
    ]
    far = [make_posting(employer, f"车工学徒{i}", ["6-18-01-01"], lat=LAT + 0.07, lon=LON + 0.01 * i) for i in range(2)]
    cook = make_posting(employer, "中餐厨师", ["4-03-02-01"], lat=LAT - 0.01, lon=LON)
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, user.username, "/jobs/nearby/")
            wait_true(page, "document.querySelector('#nearby-map').dataset.ready === '1'")
            items = page.locator("[data-testid=nearby-list] > li")
            assert items.count() == len(near) + len(far) + 1
            assert page.locator("#nearby-map").get_attribute("data-markers") == str(items.count())
            assert page.locator("#nearby-map .job-marker").count() == items.count()
            assert page.locator("#nearby-map path.leaflet-interactive").count() >= 2  # the circle and the home
            # best first: the nearest lathe job leads; each row links to the posting
            assert "数控车工1" in items.nth(0).inner_text()
            assert page.locator("[data-testid=job-link]").first.get_attribute("href") == f"/jobs/postings/{near[0].pk}/"
            fits(page)
            assert findings(page) == []
            # a marker opens its popup with a link to the job
            page.locator("#nearby-map .job-marker").first.click()
            wait_true(page, "document.querySelector('.leaflet-popup-content a') !== null")
            # a smaller distance: the page updates itself (no button press)
            with page.expect_navigation():
                page.select_option("[data-testid=nearby-radius]", "3")
            assert "radius=3" in page.url
            wait_true(page, "document.querySelector('#nearby-map').dataset.ready === '1'")
            assert items.count() == len(near) + 1
            assert page.locator("#nearby-map .job-marker").count() == items.count()
            assert not any(p.title in page.inner_text("[data-testid=nearby-list]") for p in far)
            # one kind of work, chosen by its tile
            with page.expect_navigation():
                page.locator("label.cat:has([data-testid=cat-catering])").click()
            assert "category=catering" in page.url and "radius=3" in page.url
            wait_true(page, "document.querySelector('#nearby-map').dataset.ready === '1'")
            assert items.count() == 1 and cook.title in items.nth(0).inner_text()
            assert page.locator("#nearby-map .job-marker").count() == 1
            fits(page)
            ctx.close()
        finally:
            browser.close()
    assert not errors, errors
    assert seeker.pk
