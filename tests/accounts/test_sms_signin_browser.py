"""Sign in with an SMS code and reset a forgotten password in a real browser (Debian's chromium,
390 px phone viewport), by keyboard: every page fits the phone, the phone number is shown masked,
no JavaScript errors. The test reads the codes from the in-memory SMS outbox."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import re
from typing import Any

import pytest

from linli.accounts.models import User
from linli.core.sms import LocmemBackend
from tests import factories as f
from tests.accounts.test_verification_browser import fits
from tests.phone import PHONE
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser
NUMBER = "13800138000"
NEW = "a-brand-new-passphrase"


def code() -> str:
    return re.search(r"\b(\d{6})\b", LocmemBackend.outbox[-1][1]).group(1)  # type: ignore[union-attr]


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_sms_sign_in_and_password_reset_on_a_phone_by_keyboard(live_server: Any, transactional_db: Any, settings: Any):
    from playwright.sync_api import sync_playwright

    settings.LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"
    settings.LINLI_OTP_RESEND_SECONDS = 0  # a reset code, then a sign-in code, within the minute
    LocmemBackend.outbox.clear()
    user = f.UserFactory(username="zhao")
    user.set_password("an-old-long-password")
    user.set_phone(NUMBER)
    user.save()
    base = live_server.url
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            p = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            p.on("pageerror", lambda e: errors.append(str(e)))
            # 1. forgot the password: number → code + new password twice → sign in with it
            p.goto(f"{base}/accounts/login/")
            fits(p, "signin")
            p.focus("[data-testid=password-reset-link]")
            p.keyboard.press("Enter")
            p.wait_for_selector("#phone")
            fits(p, "password-reset-phone")
            p.focus("#phone")
            p.keyboard.type(NUMBER)
            p.keyboard.press("Enter")
            p.wait_for_selector("#code")
            assert "138****8000" in p.inner_text("main") and NUMBER not in p.content()
            fits(p, "password-reset-code")
            p.fill("#code", code())
            p.fill("#new_password1", NEW)
            p.fill("#new_password2", NEW + "-typo")
            p.keyboard.press("Enter")
            p.wait_for_selector("[role=alert]")
            assert "两次输入的新密码不一致" in p.inner_text("[role=alert]")
            fits(p, "password-reset-mismatch")
            p.fill("#new_password1", NEW)
            p.fill("#new_password2", NEW)
            p.focus("#new_password2")
            p.keyboard.press("Enter")
            p.wait_for_url("**/accounts/login/")
            assert "密码已修改" in p.inner_text(".messages")
            assert User.objects.get(pk=user.pk).check_password(NEW)
            p.fill("#id_username", "zhao")
            p.fill("#id_password", NEW)
            p.keyboard.press("Enter")
            p.wait_for_selector("header .who", state="attached")
            # sign out, then 2. sign in with a code instead of the password
            p.locator("details.menu summary").click()
            p.locator("header form[action='/accounts/logout/'] button").click()
            p.goto(f"{base}/accounts/login/?next=/accounts/me/")
            p.focus("[data-testid=signin-sms-link]")
            p.keyboard.press("Enter")
            p.wait_for_selector("#phone")
            fits(p, "signin-sms-phone")
            p.focus("#phone")
            p.keyboard.type(NUMBER)
            p.keyboard.press("Enter")
            p.wait_for_selector("#code")
            fits(p, "signin-sms-code")
            right = code()
            p.focus("#code")
            p.keyboard.type("000000" if right != "000000" else "111111")
            p.keyboard.press("Enter")
            p.wait_for_selector("[role=alert]")
            assert "验证码不正确" in p.inner_text("[role=alert]")
            fits(p, "signin-sms-wrong")
            p.fill("#code", right)
            p.focus("#code")
            p.keyboard.press("Enter")
            p.wait_for_url("**/accounts/me/")
            assert "138****8000" in p.inner_text("[data-testid=account-section]")
            fits(p, "me-signing-in")
            # 3. 长辈模式 from the header, kept for the account
            p.focus("[data-testid=elder-switch]")
            p.keyboard.press("Enter")
            p.wait_for_selector("html.elder")
            assert User.objects.get(pk=user.pk).large_text is True
            assert p.get_attribute("[data-testid=elder-switch]", "aria-pressed") == "true"
        finally:
            browser.close()
    assert errors == []
