"""The alarm pages in Debian's chromium, at 390 px and on a desktop: the board fits a phone, has no
serious axe-core finding, refreshes itself (a new trapped-passenger alarm appears without a reload,
the filter in the URL kept); the alarm page shows one form at a time and clears with a reason; the
command centre's map draws the alarm layer (trapped passengers in their own pane on top) with a
layer control that hides it."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps

from linli.sensing.models import Alarm
from linli.sensing.services import alarms as svc
from linli.sensing.services import devices as sensing_devices
from linli.sensing.transitions import Transition
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, login
from tests.core.test_axe_browser import AXE, findings
from tests.governance.conftest import make_gov
from tests.phone import PHONE as _PHONE
from tests.phone import fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

PHONE: Any = _PHONE
T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
DESKTOP: Any = {"width": 1280, "height": 900}


def _raise(device: Any, alarm_type: str, severity: str, s: int = 0) -> Alarm:
    svc.apply([Transition(device.pk, None, alarm_type, severity, T0 + timedelta(seconds=s), "raise", 1.0)])
    return Alarm.objects.get(device=device, alarm_type=alarm_type, cleared=False)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_alarm_board_page_and_map_layer(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    # a transactional test starts from an empty database: the default profiles (migration 0002) again
    importlib.import_module("linli.sensing.migrations.0002_default_profiles").load(apps, None)
    w = make_world()
    make_gov(w)
    command = w.users["street_command"]
    command.set_password(PASSWORD)
    command.save()
    unit = w.dwelling_a.unit
    lift = sensing_devices.create_device(None, code="LIFT-A1", profile="lift", unit=unit, name="1栋1单元电梯")
    lift2 = sensing_devices.create_device(None, code="LIFT-A2", profile="lift", building=w.building_a)
    lift3 = sensing_devices.create_device(None, code="LIFT-A3", profile="lift", building=w.building_a)
    smokes = [
        sensing_devices.create_device(None, code=f"SMOKE-{i:02d}", profile="smoke", building=w.building_b)
        for i in range(25)
    ]
    trapped = _raise(lift, "trapped", "critical")
    for i, d in enumerate(smokes):
        _raise(d, "battery_low", "warning" if i % 3 else "minor", i)
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for viewport in (PHONE, DESKTOP):
                ctx = browser.new_context(viewport=viewport, locale="zh-CN")
                page = ctx.new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                login(page, base, command.username, "/sensing/alarms/")
                band = page.locator("[data-testid=trapped-band]")
                assert band.is_visible() and f"#{trapped.pk}" in band.inner_text()
                assert page.inner_text("[data-testid=count-open]") == ("26" if viewport is PHONE else "27")
                assert page.locator("[data-testid=alarm-list] tbody tr").count() == 20  # paged
                first = page.locator("[data-testid=alarm-list] tbody tr").first
                assert "trapped" in (first.get_attribute("class") or "")  # trapped passengers first
                fits(page)
                if AXE.exists():
                    assert findings(page) == []
                page.goto(base + "/sensing/alarms/?type=trapped")
                assert page.locator("[data-testid=alarm-list] tbody tr").count() == (1 if viewport is PHONE else 2)
                # the board refreshes itself: a second lift traps passengers, the filter is kept
                if viewport is PHONE:
                    _raise(lift2, "trapped", "critical", 5)
                page.locator("[data-testid=alarm-list] tbody tr").nth(1).wait_for(timeout=25_000)
                assert page.url.endswith("?type=trapped")
                assert page.locator("[data-testid=alarm-list] tbody tr[data-pk]").count() == 2
                if viewport is DESKTOP:
                    # a keyboard user inside the list keeps their place: no refresh while focused there
                    link = page.locator("[data-testid=alarm-list] tbody tr th a").first
                    link.focus()
                    focused = link.get_attribute("id")
                    _raise(lift3, "trapped", "critical", 9)
                    page.wait_for_timeout(12_000)
                    assert page.locator("[data-testid=alarm-list] tbody tr").count() == 2
                    assert page.evaluate("document.activeElement.id") == focused
                    page.locator("h1").click()  # focus leaves the list: the next refresh comes
                    page.locator("[data-testid=alarm-list] tbody tr").nth(2).wait_for(timeout=25_000)
                ctx.close()

            # the alarm page: choose "clear", give the reason, done
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, command.username, f"/sensing/alarms/{trapped.pk}/")
            assert page.locator("#do-clear").is_hidden() and page.locator("#do-ack").is_hidden()
            page.click("[data-testid=choose-clear]")
            assert page.locator("#do-clear").is_visible() and page.locator("#do-ack").is_hidden()
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            page.fill("#clear-note", "已救出乘客,电梯停用待检")
            page.click("[data-testid=do-clear]")
            page.wait_for_selector("[data-testid=cleared]")
            assert "已救出乘客" in page.inner_text("[data-testid=history]")
            assert Alarm.objects.get(pk=trapped.pk).cleared
            ctx.close()

            # the command centre's map: the alarm layer, trapped passengers in their pane, a control
            ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, command.username, "/dashboard/")
            page.wait_for_selector("#dash-map[data-alarm-features]", timeout=15_000)
            assert page.get_attribute("#dash-map", "data-alarm-features") == "27"  # 25 smoke + lifts 2 and 3
            assert page.locator(".leaflet-trapped-pane .alarm-icon.trapped").count() == 2
            assert page.locator(".leaflet-alarms-pane .alarm-icon").count() == 25
            page.locator(".leaflet-trapped-pane .alarm-icon").last.click()  # the two lifts share a spot
            link = page.locator(".leaflet-popup-content a")
            assert (link.get_attribute("href", timeout=5_000) or "").startswith("/sensing/alarms/")
            # the layer control hides the alarms
            page.locator(".leaflet-control-layers-overlays input").nth(1).uncheck()
            assert page.locator(".alarm-icon").count() == 0
            ctx.close()
        finally:
            browser.close()
    assert not errors, errors
