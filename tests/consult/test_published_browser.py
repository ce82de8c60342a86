"""Published records and their confirmations in a real browser at 390 px (Debian's chromium): a
staff member corrects a notice through the confirmation page, withdraws a ballot through its
confirmation page; the notice (staff and public pages, with the dated correction and the record's
fingerprint) and the withdrawn ballot fit a phone. No JavaScript errors."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from linli.consult.models import Ballot, NoticeCorrection
from linli.consult.services import notices as svc
from linli.renewal.models import Project
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, PHONE, fits, login, shot
from tests.consult.test_ballots_helpers import open_ballot, own_building
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser
REASON = "设计方案需调整,重新征求意见后另行表决"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_correcting_and_withdrawing_on_a_phone(live_server: Any, transactional_db: Any) -> None:
    from playwright.sync_api import sync_playwright

    w = make_world()
    staff = w.users["community_worker"]
    staff.set_password(PASSWORD)
    staff.save()
    project = Project.objects.create(
        compound=w.compound_a, name="劳动三村小区综合改造", created_by=staff, is_public=True
    )
    notice = svc.publish_notice(
        staff, project, kind="plan", title="改造方案公示", body="一、外墙整治。\n二、加装电梯。"
    )
    own_building(w)
    ballot = open_ballot(w, project=project, title="1栋外墙改造")
    base = live_server.url
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, staff.username, f"/consult/notices/{notice.pk}/")
            # a correction: the form, then the confirmation page saying what it does
            page.click("[data-testid=correct-box] summary")
            page.fill("#corr-text", "第二条应为“加装电梯(1、2单元)”。")
            page.fill("#corr-reason", "漏写单元号")
            page.click("[data-testid=correct]")
            page.wait_for_selector("[data-testid=confirm-page]")
            assert "不能修改或删除" in page.inner_text("[data-testid=consequences]")
            assert not NoticeCorrection.objects.exists()
            fits(page)
            shot(page, "notice-confirm-correction")
            page.click("[data-testid=confirm]")
            page.wait_for_selector("[data-testid=corrections]")
            corrections = page.inner_text("[data-testid=corrections]")
            assert "更正 (" in corrections and "Correction" not in corrections  # the page's language only
            assert NoticeCorrection.objects.count() == 1
            fits(page)
            shot(page, "notice-staff")
            page.goto(f"{base}/consult/notices/{notice.pk}/public/")
            assert "加装电梯(1、2单元)" in page.inner_text("main")
            fits(page)
            shot(page, "notice-public")
            # withdrawing: a reason, the confirmation page, then the ballot says it decides nothing
            page.goto(f"{base}/consult/ballots/{ballot.pk}/")
            page.click("[data-testid=withdraw-box] summary")
            page.fill("#withdraw-reason", REASON)
            page.click("[data-testid=withdraw]")
            page.wait_for_selector("[data-testid=confirm-page]")
            assert REASON in page.inner_text("main")
            assert Ballot.objects.get(pk=ballot.pk).status == "open"
            fits(page)
            shot(page, "ballot-confirm-withdraw")
            page.click("[data-testid=confirm]")
            page.wait_for_selector("[data-testid=withdrawn]")
            assert REASON in page.inner_text("[data-testid=withdrawn]")
            assert Ballot.objects.get(pk=ballot.pk).status == "withdrawn"
            assert page.locator("[data-testid=close]").count() == 0
            fits(page)
            shot(page, "ballot-withdrawn")
            page.goto(f"{base}/renewal/p/{project.pk}/")
            assert REASON in page.inner_text("main")
            fits(page)
        finally:
            browser.close()
    assert not errors, errors
