"""The inbox and the preferences in a real browser at 390 px with the Chinese font: they fit
(``tests/phone.fits``), "mark read" and "mark all read" work, the badge follows, and the language
switch gives an English page."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from linli.core import clock
from linli.notify.models import Notification
from tests import factories as f
from tests.browser import wait_true
from tests.phone import fits
from tests.places.test_browser import ARGS, CHROMIUM, PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_inbox_and_preferences_on_a_phone(live_server: Any, transactional_db: Any) -> None:
    from playwright.sync_api import sync_playwright

    user = f.UserFactory(username="browser_inbox")
    user.set_password(PASSWORD)
    user.save()
    Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                kind="notice_published" if i % 2 else "urgent",
                urgent=not i % 2,
                title_zh=f"公示:劳动三村小区综合改造方案(第 {i} 期)外墙整治、雨污分流、加装电梯",
                title_en=f"Notice for your building: phase {i} of the renovation plan",
                body_zh="公示期 15 天,如有异议请在公示期内提出。",
                body_en="15 days; object within them.",
                url="/notify/preferences/",
                created_at=clock.now(),
            )
            for i in range(23)
        ]
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live_server.url}/accounts/login/?next=/notify/")
            page.fill("#id_username", "browser_inbox")
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{live_server.url}/notify/")
            fits(page)
            assert page.locator("[data-testid=notification]").count() == 20
            assert (page.text_content("[data-testid=inbox-unread]") or "").strip().startswith("23")  # in the menu
            page.locator("[data-testid=mark-read]").first.click()
            wait_true(page, "document.querySelector('[data-testid=inbox-unread]').textContent.trim().startsWith('22')")
            page.click("[data-testid=read-all]")
            wait_true(page, "!document.querySelector('[data-testid=inbox-unread]')")
            assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 0
            page.click("[data-testid=notify-preferences-link]")
            page.wait_for_url(f"{live_server.url}/notify/preferences/")
            fits(page)
            page.fill("[data-testid=quiet-start]", "22:00")
            page.fill("[data-testid=quiet-end]", "07:00")
            page.click("[data-testid=save-prefs]")
            page.wait_for_url(f"{live_server.url}/notify/preferences/")
            assert page.input_value("[data-testid=quiet-start]") == "22:00"
            page.click("[data-testid=lang-switch]")
            wait_true(page, "document.documentElement.lang === 'en'")
            assert "Quiet hours" in page.inner_text("main")
            fits(page)
            page.goto(f"{live_server.url}/notify/?page=2")
            fits(page)
            assert page.locator("[data-testid=notification]").count() == 3
            assert errors == []
        finally:
            browser.close()
