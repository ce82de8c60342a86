"""The kiosk in Debian's chromium (issue 14 §5): a known seeker completes the whole pass — start, ID
number on the on-screen keypad, the SMS code, a category, a job, the CV from a few taps, the slip —
at a kiosk's portrait screen (1080×1920) and at 390 px, counting every tap (clicks and keypad
presses); every screen fits; then, left alone, the screen goes back to the start with nothing of
the person left, and the server's session is gone."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import re
from typing import Any

import pytest
from django.contrib.sessions.models import Session

from linli.core.sms import LocmemBackend
from linli.jobs.models import Application
from tests.browser import wait_true
from tests.jobs.conftest import make_posting
from tests.phone import PHONE as _PHONE
from tests.phone import fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

KIOSK: Any = {"width": 1080, "height": 1920}
PHONE: Any = _PHONE
ID = "110101199003070011"
MAX_TAPS = 45  # start + ID 18 + OK + code 6 + OK + category, job, apply, 3 CV taps, send = 34


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_the_whole_kiosk_pass_and_the_idle_end(
    live_server: Any, transactional_db: Any, jobs: Any, settings: Any
) -> None:
    from playwright.sync_api import sync_playwright

    settings.LINLI_KIOSK_IDLE_SECONDS = 60
    second = make_posting(jobs.employer, "铣工", ["6-18-01-02"])
    postings = {"kiosk": jobs.posting, "phone": second}
    LocmemBackend.outbox.clear()
    errors: list[str] = []
    base = live_server.url

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for label, viewport in (("kiosk", KIOSK), ("phone", PHONE)):
                ctx = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True)
                page = ctx.new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                taps = 0

                def tap(testid: str, page: Any = page) -> None:
                    nonlocal taps
                    taps += 1
                    page.click(f"[data-testid='{testid}']")

                def screen(name: str, page: Any = page) -> None:
                    wait_true(page, f"document.body.dataset.screen === '{name}'")
                    fits(page)

                page.goto(f"{base}/kiosk/")
                screen("home")
                tap("kiosk-start")
                screen("id")
                for ch in ID:
                    tap(f"key-{ch}")
                assert page.input_value("[data-testid=id-input]") == ID
                tap("id-submit")
                screen("code")
                code = re.search(r"\b(\d{6})\b", LocmemBackend.outbox[-1][1])
                assert code
                for ch in code.group(1):
                    tap(f"key-{ch}")
                tap("code-submit")
                screen("categories")
                assert "王师傅" in page.inner_text("main")
                tap("cat-manufacturing")
                screen("jobs")
                posting = postings[label]
                tap(f"job-{posting.pk}")
                screen("job")
                tap("job-apply")
                screen("skills")
                tap("skills-submit")  # the seeker's own skills come ticked
                screen("years")
                tap("years-3-10")
                screen("hours")
                tap("hours-40")
                screen("send")
                assert "3" in page.inner_text("[data-testid=cv]")
                tap("send-submit")
                screen("slip")
                app = Application.objects.get(posting=posting, seeker=jobs.seeker)
                assert page.inner_text("[data-testid=slip-number]") == app.number and app.channel == "kiosk"
                assert taps <= MAX_TAPS, f"{label}: {taps} taps"
                assert taps == 34, f"{label}: {taps} taps"
                # the slip prints alone
                page.emulate_media(media="print")
                assert not page.is_visible("[data-testid=kiosk-finish]") and page.is_visible("[data-testid=slip]")
                page.emulate_media(media="screen")

                # left alone: back to the start, nothing left, the server's session gone
                session_key = next(c["value"] for c in ctx.cookies() if c["name"] == "sessionid")
                assert Session.objects.filter(session_key=session_key).exists()
                settings.LINLI_KIOSK_IDLE_SECONDS = 3
                page.goto(f"{base}/kiosk/jobs/")
                screen("categories")
                wait_true(page, "!document.getElementById('k-idle').hidden", timeout=5_000)
                assert page.is_visible("[data-testid=kiosk-continue]")
                page.wait_for_url(f"{base}/kiosk/", timeout=10_000)
                page.wait_for_load_state()
                screen("home")
                assert "王师傅" not in page.content() and app.number not in page.content()
                assert not Session.objects.filter(session_key=session_key).exists()
                page.go_back()
                page.wait_for_load_state()
                assert "王师傅" not in page.content()
                page.goto(f"{base}/kiosk/slips/{app.pk}/")
                screen("home")
                settings.LINLI_KIOSK_IDLE_SECONDS = 60
                ctx.close()
        finally:
            browser.close()
    assert not errors, errors
