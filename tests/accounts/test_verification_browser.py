"""Owner verification in a real browser (Debian's chromium, 390 px phone viewport), by keyboard.

An owner whose account only sees their dwelling opens their ballot, is offered "Verify that you
are the owner", types the ID number and the code from the text message (the test reads it from the
in-memory SMS outbox) without touching the mouse, and votes. A community worker opens the owner
page from the roll, verifies another owner's account in person and revokes it (asked first).
Every page fits 390 px; no JavaScript errors.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import re
from typing import Any

import pytest

from linli.accounts.models import OwnerAccount
from linli.accounts.services import grant_role
from linli.consult.models import Vote
from linli.core.sms import LocmemBackend
from tests import factories as f
from tests.conftest import make_world
from tests.consult.test_ballots_helpers import open_ballot, own_building
from tests.phone import PHONE
from tests.phone import fits as phone_fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser
PASSWORD = "a-long-browser-password"
ID_A = "110101199003070011"


def fits(page: Any, name: str = "") -> None:
    """The shared phone check (tests.phone.fits), with every <details> closed and then opened."""
    for open_details in (False, True):
        page.evaluate(f"() => document.querySelectorAll('details').forEach(d => d.open = {str(open_details).lower()})")
        phone_fits(page)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = false)")
    out = os.environ.get("LINLI_SCREENSHOTS")
    if out and name:  # LINLI_SCREENSHOTS=<dir>: the page at 390 px
        page.screenshot(path=os.path.join(out, f"{name}-390.png"), full_page=True)


def login(page: Any, base: str, username: str, nxt: str) -> None:
    page.goto(f"{base}/accounts/login/?next={nxt}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{nxt}")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_owner_verifies_by_keyboard_and_worker_verifies_in_person_on_phones(live_server, transactional_db):
    from playwright.sync_api import sync_playwright

    LocmemBackend.outbox.clear()
    w = make_world()
    own = own_building(w)
    ballot = open_ballot(w)
    resident, worker = w.users["resident"], w.users["community_worker"]
    buyer_account = f.UserFactory(username="wang-wu")
    grant_role(w.admin, buyer_account, "resident", own["dwellings"][1])
    for u in (resident, worker):
        u.set_password(PASSWORD)
        u.save()
    base = live_server.url
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # 1. the owner: ballot page → verify → ID number → code → vote, all by keyboard
            op = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            op.on("pageerror", lambda e: errors.append(str(e)))
            login(op, base, resident.username, f"/consult/ballots/{ballot.pk}/")
            assert op.locator("form.vote-form").count() == 0
            assert "我是业主" in op.inner_text("[data-testid=verify-prompt]")
            fits(op, "owner-ballot-verify-prompt")
            op.focus("[data-testid=verify-link]")
            op.keyboard.press("Enter")
            op.wait_for_selector("#id_number")
            fits(op, "owner-verify-id")
            op.focus("#id_number")
            op.keyboard.type(ID_A)
            op.keyboard.press("Enter")
            op.wait_for_selector("#code")
            assert "138****8000" in op.inner_text("main") and "13800138000" not in op.content()
            fits(op, "owner-verify-code")
            code = re.search(r"验证码 (\d{6})", LocmemBackend.outbox[-1][1]).group(1)
            op.focus("#code")
            op.keyboard.type("000000" if code != "000000" else "111111")
            op.keyboard.press("Enter")
            op.wait_for_selector("[role=alert]")
            assert "还可以再试 4 次" in op.inner_text("[role=alert]")
            fits(op, "owner-verify-wrong-code")
            op.focus("#code")
            op.keyboard.type(code)
            op.keyboard.press("Enter")
            op.wait_for_url(f"**/consult/ballots/{ballot.pk}/")
            op.wait_for_selector("form.vote-form")
            fits(op, "owner-ballot-vote")
            op.focus("input[name=choice][value=yes]")
            op.keyboard.press("Space")
            op.keyboard.press("Enter")
            op.wait_for_selector("[data-testid=my-vote]")
            v = Vote.objects.get(ballot=ballot)
            assert (v.owner_key, v.channel, v.entered_by_id) == (f"p:{w.owner_a.pk}", "online", resident.pk)
            op.goto(f"{base}/accounts/me/")
            assert "张三" in op.inner_text("[data-testid=owner-section]")
            fits(op, "owner-me")

            # 2. a worker: the roll shows how 张三 was verified; verify 王五's account in person
            sp = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            sp.on("pageerror", lambda e: errors.append(str(e)))
            login(sp, base, worker.username, f"/consult/ballots/{ballot.pk}/")
            assert "短信验证码" in sp.inner_text("[data-testid=roll]")
            fits(sp, "worker-roll")
            buyer_row = sp.locator("[data-testid=roll] tr", has_text="王五")
            buyer_row.locator("[data-testid=verify-in-person]").click()
            sp.wait_for_selector(f"[data-testid=owner-{own['buyer'].pk}]")
            fits(sp, "worker-owner-page")
            box = sp.locator(f"[data-testid=owner-{own['buyer'].pk}]")
            box.locator("summary").click()
            box.locator("input[name=username]").fill("wang-wu")
            box.locator("select[name=document_kind]").select_option("household")
            box.locator("input[name=document_number]").fill("1101011980")
            box.locator("input[name=seen]").check()
            box.locator("[data-testid=in-person-form] button[type=submit]").click()
            sp.wait_for_selector(".messages")
            row = OwnerAccount.objects.get(person=own["buyer"], revoked_at__isnull=True)
            assert (row.user, row.verified_by, row.document_kind) == (buyer_account, worker, "household")
            assert "wang-wu" in sp.inner_text(f"[data-testid=owner-{own['buyer'].pk}]")
            fits(sp, "worker-verified")
            # revoke: asked first, then done
            box = sp.locator(f"[data-testid=owner-{own['buyer'].pk}]")
            box.locator("details summary", has_text="撤销").click()
            box.locator("textarea[name=reason]").fill("业主来电:不是本人账号")
            box.locator("[data-testid=revoke]").click()
            sp.wait_for_selector("[data-testid=confirm-page]")
            assert "wang-wu" in sp.inner_text("[data-testid=consequences]")
            fits(sp, "worker-revoke-confirm")
            row.refresh_from_db()
            assert row.revoked_at is None
            sp.click("[data-testid=confirm]")
            sp.wait_for_selector(".messages")
            row.refresh_from_db()
            assert row.revoked_at is not None and row.revoke_reason == "业主来电:不是本人账号"
            fits(sp, "worker-revoked")
        finally:
            browser.close()
    assert not errors, errors
    LocmemBackend.outbox.clear()
