"""A grid worker reports a problem from a phone (Debian's chromium, 390×844 viewport).

Picks a category by keyword, taps the place on the map (no tile server: the grid outline and the
building are drawn from GeoJSON), double-clicks submit and lands on the case page at 信息收集 with
one case written. A second report takes its position from the device (granted geolocation): the
first case is offered as a possible duplicate; the new case has its own client key. Refused
geolocation shows a clear message. No JavaScript errors.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import pytest

from linli.governance.models import Event, EventLog
from tests.browser import wait_true
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, PHONE, fits, login, shot
from tests.governance.conftest import POS, make_gov
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_grid_worker_reports_from_a_phone(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    w = make_world()
    make_gov(w)
    worker = w.users["grid_fulltime"]
    worker.set_password(PASSWORD)
    worker.save()
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True)
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, worker.username, "/governance/events/new/")
            page.wait_for_selector("#pick-map[data-ready='1']", timeout=15_000)
            assert page.get_attribute("#pick-map", "data-features") == "2"  # the grid and its building
            fits(page)

            # category by keyword: one match is chosen, and its fields appear
            page.fill("#f-cat-search", "井盖")
            wait_true(page, "document.querySelector('#f-category').value === 'C0101'")
            assert page.is_visible("fieldset.attrs[data-category='C0101']")
            assert not page.is_visible("fieldset.attrs[data-category='C0104']")
            page.select_option("#attr-C0101-danger_now", "no")
            page.select_option("#attr-C0101-cover", "missing")
            page.fill("#f-description", "人行道井盖缺失")

            # refused geolocation: a clear message, nothing set
            page.click("#f-locate")
            wait_true(page, "/refused|拒绝/.test(document.querySelector('#f-where').textContent)")
            assert page.input_value("#f-lat") == ""

            # tap on the map, off the building's dot
            page.locator("#pick-map").scroll_into_view_if_needed()
            box = page.locator("#pick-map").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 30)
            wait_true(page, "document.querySelector('#f-lat').value !== ''")
            lat, lon = float(page.input_value("#f-lat")), float(page.input_value("#f-lon"))
            assert abs(lat - POS["a"][0]) < 0.003 and abs(lon - POS["a"][1]) < 0.003
            page.wait_for_selector("[data-testid=nearby]", state="attached")
            key = page.input_value("#f-client-key")
            assert key and page.evaluate("sessionStorage.getItem('linli-event-key:/governance/events/new/')") == key
            shot(page, "event-report")

            # double-click submit: one case, the case page at 信息收集
            page.dblclick("#f-submit")
            page.wait_for_url("**/governance/events/*/?reported=1")
            assert Event.objects.count() == 1
            first = Event.objects.get()
            assert (first.channel, first.client_key, first.step) == ("grid", key, "collected")
            assert first.attributes == {"danger_now": "no", "cover": "missing"}
            assert EventLog.objects.filter(event=first).count() == 1
            assert "信息收集" in page.inner_text("[data-testid=steps] [aria-current=step]")
            assert page.evaluate("sessionStorage.getItem('linli-event-key:/governance/events/new/')") is None
            page.wait_for_selector("#event-map[data-ready='1']")
            fits(page)
            shot(page, "event-detail")

            # a second report from the device's position: the first is offered as a duplicate
            ctx.grant_permissions(["geolocation"], origin=base)
            ctx.set_geolocation({"latitude": POS["a"][0] + 0.0002, "longitude": POS["a"][1], "accuracy": 12})
            page.goto(f"{base}/governance/events/new/")
            page.wait_for_selector("#pick-map[data-ready='1']")
            page.select_option("#f-category", "C0101")
            page.select_option("#attr-C0101-danger_now", "yes")
            page.select_option("#attr-C0101-cover", "broken")
            page.click("#f-locate")
            wait_true(page, "document.querySelector('#f-lat').value !== ''")
            assert abs(float(page.input_value("#f-lat")) - (POS["a"][0] + 0.0002)) < 1e-5
            page.wait_for_selector(f"[data-testid=nearby-result] a[href='/governance/events/{first.pk}/']")
            assert page.is_visible("[data-testid=nearby]")
            second_key = page.input_value("#f-client-key")
            assert second_key and second_key != key
            page.click("#f-submit")
            page.wait_for_url("**/governance/events/*/?reported=1")
            assert Event.objects.count() == 2
            assert Event.objects.exclude(pk=first.pk).get().client_key == second_key
            assert errors == []
        finally:
            browser.close()
