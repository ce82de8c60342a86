"""The phone page in a real browser at 390 px: sign in as a grid worker, pick a dwelling, tap
支持 / 观望 / 反对 and a reason chip, save, see the success message — and it takes seconds."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import time

import pytest

from linli.consult.models import Visit
from linli.renewal.models import Project
from tests.conftest import make_world
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser
PASSWORD = "a-long-browser-password"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_grid_worker_logs_visits_on_a_phone(live_server, transactional_db):
    from playwright.sync_api import sync_playwright

    w = make_world()
    user = w.users["grid_fulltime"]
    user.set_password(PASSWORD)
    user.save()
    project = Project.objects.create(compound=w.compound_a, name="劳动三村小区综合改造", created_by=w.admin)
    d = w.dwelling_a

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live_server.url}/accounts/login/?next=/consult/projects/{project.pk}/visits/new/")
            page.fill("#id_username", user.username)
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"**/consult/projects/{project.pk}/visits/new/")
            started = time.perf_counter()
            page.click("a.button:has-text('1单元')")
            page.click(f"a[href$='?dwelling={d.pk}']")
            for attitude in ("oppose", "undecided", "support"):  # a change of mind before saving
                page.click(f"[data-testid=att-{attitude}]")
            page.click("[data-testid=reason-saw_sample_flat]")
            assert page.is_checked("#att-support") and page.is_checked("#r-saw_sample_flat")
            page.click("[data-testid=submit-visit]")
            page.wait_for_selector("[data-testid=visit-done]")
            elapsed = time.perf_counter() - started
            assert d.number in page.inner_text("[data-testid=visit-done]")
            # the page fits the phone: nothing wider than the viewport
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            # next dwelling, keyboard only: Tab to 反对 and pick it with the space bar
            page.click("[data-testid=next-dwelling]")
            page.wait_for_selector("[data-testid=att-oppose]")
            page.focus("#att-oppose")
            page.keyboard.press("Space")
            page.click("[data-testid=reason-cost]")
            page.click("[data-testid=submit-visit]")
            page.wait_for_selector("[data-testid=visit-done]")
            if os.environ.get("LINLI_SCREENSHOTS"):
                page.screenshot(path=os.path.join(os.environ["LINLI_SCREENSHOTS"], "visit-phone.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
    first, second = Visit.objects.order_by("id")
    assert (first.dwelling_id, first.attitude, first.reasons) == (d.pk, "support", ["saw_sample_flat"])
    assert second.attitude == "oppose" and second.reasons == ["cost"]
    assert elapsed < 30
