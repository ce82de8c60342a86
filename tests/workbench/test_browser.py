"""The workbench in chromium at 390 px and on a desktop, in Chinese, for the grid worker, the command
centre and the resident of the demo (their first page after signing in): it fits, each section and
its lists are there, and a row's link opens the page it names."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from tests.conftest import CHROMIUM, cjk_fonts
from tests.crawl import PASSWORD, load_demo_site
from tests.phone import PHONE, fits
from tests.places.test_browser import ARGS

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
WHO = {"demo-grid": "grid", "demo-street": "command", "demo-resident": "resident"}


@pytest.fixture
def demo_site(transactional_db: Any, settings: Any, monkeypatch: Any) -> list[str]:
    return load_demo_site(settings, monkeypatch)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_workbench_at_390px_and_desktop(live_server: Any, demo_site: list[str]) -> None:
    from django.db import connection
    from playwright.sync_api import sync_playwright

    if connection.vendor != "sqlite":
        pytest.skip("the layout does not depend on the database: measured in the SQLite run")
    assert cjk_fonts(), "fc-list :lang=zh is empty: install fonts-noto-cjk (make browser)"
    base = live_server.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for who, section in WHO.items():
                for viewport in (PHONE, DESKTOP):
                    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
                    page = ctx.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    page.goto(base + "/accounts/login/")
                    page.fill("#id_username", who)
                    page.fill("#id_password", PASSWORD)
                    page.click("main button[type=submit]")
                    page.wait_for_url(f"{base}/")  # people land on the workbench
                    assert page.locator("main h1").inner_text() == "工作台"
                    sec = page.locator(f"[data-testid=wb-{section}]")
                    assert sec.count() == 1, (who, page.content()[:2000])
                    assert sec.locator(".wb-list").count() >= 3
                    # every list carries its count; the section's heading is reachable by its label
                    for card in sec.locator(".wb-list").all():
                        assert card.locator(".wb-count").inner_text().strip()
                    fits(page)
                    links = sec.locator(".wb-rows a")
                    if viewport is PHONE and links.count():
                        href = links.first.get_attribute("href")
                        links.first.click()
                        page.wait_for_load_state()
                        assert page.url.split("#")[0].endswith(href.split("?")[0].split("#")[0]) or href in page.url
                        assert not page.locator("text=Server Error").count()
                    assert not errors, errors
                    ctx.close()
        finally:
            browser.close()
