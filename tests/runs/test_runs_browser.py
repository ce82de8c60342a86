"""The run page in Debian's chromium at 390 px and at desktop width: while the work goes on the
progress bar advances (htmx polls the progress partial), then the page shows the result and the
file; it fits a phone and the Content-Security-Policy reports no violation."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest
from django.core.cache import caches

from linli.runs import services as svc
from linli.runs.models import Run
from tests.browser import wait_true
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, login
from tests.phone import PHONE, fits
from tests.places.test_browser import ARGS, CHROMIUM
from tests.runs.tasks import count_rows, start_count

pytestmark = pytest.mark.browser

BAR = "document.querySelector('[data-testid=run-bar]')"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_the_run_page_shows_progress_then_the_result(live_server: Any, transactional_db: Any, settings: Any) -> None:
    from playwright.sync_api import sync_playwright

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # queued: the test is the worker
    w = make_world()
    user = w.users["community_worker"]
    user.set_password(PASSWORD)
    user.save()
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if "Content Security Policy" in msg.text or "Refused to" in msg.text:
            errors.append(msg.text)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for viewport in (PHONE, {"width": 1280, "height": 900}):
                run = start_count(user, w.comm_a, rows=5)
                assert run.status == Run.Status.QUEUED
                ctx = browser.new_context(viewport=viewport, locale="zh-CN")
                page = ctx.new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", on_console)
                login(page, live_server.url, user.username, f"/runs/{run.pk}/")
                page.evaluate(
                    "() => { window.cspViolations = [];"
                    " document.addEventListener('securitypolicyviolation', e => window.cspViolations.push("
                    "e.violatedDirective + ' ' + e.blockedURI)); }"
                )
                assert page.get_attribute("[data-testid=run-progress]", "data-status") == "queued"
                # the worker takes it and reports rows done (as working()/progress() would)
                Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING)
                for done in (1, 3):
                    caches["progress"].set(svc.progress_key(run.pk), {"done": done, "total": 5, "note": ""})
                    wait_true(page, f"{BAR} && {BAR}.value === {done} && {BAR}.max === 5", timeout=15_000)
                assert "3" in page.inner_text("[data-testid=run-count]")
                assert page.get_attribute("[data-testid=run-count]", "aria-live") == "polite"
                if viewport is PHONE:
                    fits(page)
                count_rows.call(run_id=run.pk, rows=5)  # the work finishes
                page.wait_for_selector("[data-testid=run-result]", timeout=15_000)
                assert "数了 5 行" in page.inner_text("[data-testid=run-result]")
                assert page.get_attribute("[data-testid=run-progress]", "data-status") == "done"
                assert page.locator("[data-testid=run-file]").count() == 1
                if viewport is PHONE:
                    fits(page)
                errors.extend(page.evaluate("() => window.cspViolations"))
                ctx.close()
        finally:
            browser.close()
    assert not errors, errors
