"""The Content-Security-Policy in a real browser (issue 9 item 10).

Every browser test fails on a CSP violation (tests/conftest.py ``_no_csp_violations``); this one
checks that the listener really sees one, and that the pages with other people's scripts — the
Swagger and Redoc API docs, the Django admin — and an htmx page work under the policy.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from tests.conftest import CHROMIUM, make_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}"),
]

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
PASSWORD = "a-long-test-password"  # tests/factories.py UserFactory


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_pages_with_other_peoples_scripts_work_under_the_policy(live_server, transactional_db, request):
    from playwright.sync_api import sync_playwright

    w = make_world()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            _sign_in(page, live_server.url, "root")
            policy = page.goto(f"{live_server.url}/").headers.get("content-security-policy", "")
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]

            # The listener sees a violation: an inline script written into the page is refused.
            page.evaluate("""() => { const s = document.createElement('script');
                s.textContent = 'window.__inline_ran = true'; document.body.appendChild(s); }""")
            page.wait_for_timeout(200)
            assert page.evaluate("window.__inline_ran === undefined")
            assert request.node.csp_violations, "the CSP listener recorded the refused inline script"
            request.node.csp_violations.clear()

            # htmx search (the indicator style is in site.css, not injected by htmx).
            page.goto(f"{live_server.url}/places/?q=劳动")
            page.wait_for_load_state("networkidle")

            page.goto(f"{live_server.url}/api/v1/docs/")
            page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
            page.goto(f"{live_server.url}/api/v1/redoc/")
            page.wait_for_load_state("networkidle")
            assert page.evaluate("() => typeof window.Redoc") == "object", "Redoc's script ran"
            page.goto(f"{live_server.url}/admin/")
            page.wait_for_selector("#content", timeout=10_000)
            page.goto(f"{live_server.url}/admin/places/building/{w.building_a.pk}/change/")
            page.wait_for_selector("#content form", timeout=10_000)
            assert errors == []
        finally:
            browser.close()
