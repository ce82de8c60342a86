"""The command centre in Debian's chromium: the live map draws the open events of the street, the
trend chart renders, and the export runs in the background and its page downloads a real .xlsx
(desktop and phone widths; no JavaScript errors)."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import pytest
from openpyxl import load_workbook

from linli.governance.services import events as governance_events
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, PHONE, fits, login
from tests.governance.conftest import POS, make_gov
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_command_centre_map_chart_and_export(live_server, transactional_db, settings, tmp_path):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    w = make_world()
    gov = make_gov(w)
    command = w.users["street_command"]
    command.set_password(PASSWORD)
    command.save()
    worker = w.users["grid_fulltime"]
    made = []
    for i, (code, key) in enumerate((("C0102", "a"), ("E0201", "a"), ("E0205", "b"))):
        lat, lon = POS[key]
        event, _ = governance_events.report(
            worker if key == "a" else command,
            governance_events.Report(code, lat + 0.0001 * i, lon),
            channel="grid" if key == "a" else "hotline",
        )
        made.append(event)
    governance_events.act(command, governance_events.act(command, made[0], "register"), "dispatch")
    # street 2's event must not be drawn for street 1's command centre
    governance_events.report(w.admin, governance_events.Report("E0201", *POS["c"]), channel="hotline")
    del gov
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for viewport in (PHONE, {"width": 1280, "height": 900}):
                ctx = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
                page = ctx.new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                login(page, base, command.username, "/dashboard/")
                page.wait_for_selector("#dash-map[data-features]", timeout=15_000)
                assert page.get_attribute("#dash-map", "data-features") == "3"
                assert page.locator("#dash-map path.leaflet-interactive").count() == 3
                assert "3" in page.inner_text("#map-status")
                page.wait_for_selector("#trend-chart canvas", timeout=15_000)
                # the table per grid is loaded when its <details> opens (keyboard: focus the summary, Enter)
                assert page.locator("[data-testid=open-grid]").count() == 0
                page.focus("[data-testid=lazy-grids-open] summary")
                page.keyboard.press("Enter")
                page.wait_for_selector("[data-testid=lazy-grids-open] table[data-testid=open-grid]", timeout=15_000)
                assert page.locator("[data-testid=open-grid] tbody tr").count() >= 1
                page.click("[data-testid=lazy-grids-rates] summary")
                page.wait_for_selector("[data-testid=lazy-grids-rates] table[data-testid=rates-grid]", timeout=15_000)
                if viewport is PHONE:
                    fits(page)
                page.click("[data-testid=export-link]")  # starts the run; its page polls the progress
                page.wait_for_selector("[data-testid=run-file]", timeout=30_000)
                with page.expect_download(timeout=30_000) as dl:
                    page.click("[data-testid=run-file]")
                path = tmp_path / f"export-{viewport['width']}.xlsx"
                dl.value.save_as(path)
                wb = load_workbook(path, read_only=True)
                assert len(wb.sheetnames) >= 4
                ctx.close()
        finally:
            browser.close()
    assert not errors, errors
