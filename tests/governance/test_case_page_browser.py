"""The case page on a 390 px phone shows one action form at a time (issue 12 §3): the moves as a list
of buttons, the chosen one's form below — without a reload with JavaScript, through ``?move=``
without it. Real Chinese font, no sideways scrolling, no JavaScript errors."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import pytest

from linli.governance.models import EventLog
from linli.governance.services import events as svc
from tests.browser import wait_true
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, PHONE, fits, login
from tests.governance.conftest import POS, make_gov
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

VISIBLE_FORMS = "Array.from(document.querySelectorAll('form.act')).filter(f => f.offsetParent !== null).map(f => f.id)"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_one_action_form_at_a_time_on_a_phone(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    w = make_world()
    gov = make_gov(w)
    command = w.users["street_command"]
    command.set_password(PASSWORD)
    command.save()
    event, _ = svc.report(
        w.users["resident"], svc.Report("C0102", *POS["a"], description="路灯不亮"), channel="resident"
    )
    event = svc.act(command, svc.act(command, event, "register"), "dispatch", department=gov.cg)
    url = f"/governance/events/{event.pk}/"
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True)
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, command.username, url)
            fits(page)
            choices = page.eval_on_selector_all("[data-testid=move-list] a", "xs => xs.map(x => x.dataset.move)")
            assert len(choices) >= 4 and "act-note" in choices and "act-urgent" in choices
            assert page.evaluate(VISIBLE_FORMS) == []  # no form until one is chosen
            one = page.evaluate("document.documentElement.scrollHeight")
            every = page.evaluate(
                "(() => { document.querySelectorAll('form.act').forEach(f => f.hidden = false);"
                " const h = document.documentElement.scrollHeight;"
                " document.querySelectorAll('form.act').forEach(f => f.hidden = true); return h; })()"
            )
            assert every - one > 150 * (len(choices) - 1), (one, every)

            # choose "note": its form appears without a reload, the focus moves to it
            page.evaluate("window.__still = 1")
            page.click("[data-testid=choose-note]")
            wait_true(page, "document.getElementById('act-note').offsetParent !== null")
            assert page.evaluate(VISIBLE_FORMS) == ["act-note"]
            assert page.evaluate("window.__still") == 1 and "move=note" in page.url
            assert page.get_attribute("[data-testid=choose-note]", "aria-expanded") == "true"
            assert page.evaluate("document.activeElement.id") == "act-note-h"
            fits(page)
            # another choice replaces it
            page.click("[data-testid=choose-urgent]")
            wait_true(page, "document.getElementById('act-urgent').offsetParent !== null")
            assert page.evaluate(VISIBLE_FORMS) == ["act-urgent"]
            assert page.get_attribute("[data-testid=choose-note]", "aria-expanded") == "false"
            page.fill("#act-urgent-note", "电线垂落,有人受伤危险")
            page.click("[data-testid=do-urgent]")
            page.wait_for_selector("[data-testid=urgent]")
            assert EventLog.objects.filter(event=event, move="urgent").count() == 1
            fits(page)

            # without JavaScript: ?move= shows that form and only it
            plain = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
            page2 = plain.new_page()
            login(page2, base, command.username, url)
            assert page2.is_visible("[data-testid=move-list]")
            assert not page2.is_visible("#act-void")
            page2.click("[data-testid=choose-void]")
            page2.wait_for_url("**move=void**")
            assert page2.is_visible("#act-void") and not page2.is_visible("#act-note")
            plain.close()
        finally:
            browser.close()
    assert errors == []


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_hotline_desk_finds_a_building_by_typing(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    from tests import factories as f

    settings.LINLI_MAP_TILE_URL = ""
    w = make_world()
    make_gov(w)
    compound = f.CompoundFactory(community=w.comm_a, code="0002", name="瑞丰新村", address="劳动路 12 号")
    wanted = [f.BuildingFactory(compound=compound, code=f"0{n}", name=f"{n}栋") for n in (1, 2)][1]
    command = w.users["street_command"]
    command.set_password(PASSWORD)
    command.save()
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True).new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, live_server.url, command.username, "/governance/events/hotline/")
            assert page.eval_on_selector_all("#f-building option", "os => os.length") == 1  # no list of all
            page.fill("#f-place-q", "瑞丰 2栋")
            # one building found: chosen at once, said in the live region
            wait_true(page, f"document.querySelector('#f-building').value === '{wanted.pk}'")
            assert "1" in page.text_content("#f-place-status")
            assert "瑞丰新村 2栋" in page.text_content("#f-where")
            page.fill("#f-place-q", "瑞丰")
            wait_true(page, "document.querySelectorAll('#f-building option').length === 3")
            assert page.input_value("#f-building") == str(wanted.pk)  # the choice is kept
            fits(page)
        finally:
            browser.close()
    assert errors == []
