"""The device list (map, counts chart) and the lift page in Debian's chromium at 390 px: they fit a
phone, the map draws the devices and the chart draws; the lift page flags an overdue maintenance
in words and records a visit."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps

from linli.core import clock
from linli.places import models as places_models
from linli.sensing.models import Channel, Device, Lift, Reading
from linli.sensing.services import devices as svc
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, login
from tests.core.test_axe_browser import AXE, findings
from tests.phone import PHONE, fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_device_list_and_lift_page_fit_a_phone(live_server, transactional_db, settings):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    importlib.import_module("linli.sensing.migrations.0002_default_profiles").load(apps, None)
    w = make_world()
    worker = w.users["community_worker"]
    worker.set_password(PASSWORD)
    worker.save()
    unit, _ = places_models.Unit.objects.get_or_create(building=w.building_a, number="1")
    lift_dev = svc.create_device(
        None, code="LIFT-A1-长编号-0001", profile="lift", unit=unit, name="劳动三村1栋1单元电梯"
    )
    lift = Lift.objects.create(
        device=lift_dev,
        register_no="梯11渝BA0001",
        maintenance_company="重庆某某电梯维修保养工程有限公司",
        maintenance_phone="023-68001234",
        insurer="某某财产保险股份有限公司重庆分公司",
        policy_no="PDZA202650010700000001",
        operator="某某电梯金融服务运营有限公司",
        contract_no="HT-2026-LD3C-0001",
        last_maintained_on=clock.today() - timedelta(days=20),
    )
    for i in range(12):
        svc.create_device(None, code=f"SMOKE-A-{i:02d}", profile="smoke", building=w.building_a, name=f"1栋{i}层烟感")
    pipe = svc.create_device(None, code="PIPE-A", profile="pipe", compound=w.compound_a)
    Device.objects.filter(code__startswith="SMOKE-A-0").update(online=True, last_seen_at=clock.now())
    pressure = Channel.objects.get(device=pipe, key="pressure")
    now = clock.now()
    Reading.objects.bulk_create(
        [Reading(channel=pressure, ts=now - timedelta(minutes=5 * i), value=0.3 + (i % 7) / 50) for i in range(200)]
    )
    base = live_server.url
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN")  # type: ignore[arg-type]
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, worker.username, f"/sensing/places/community/{w.comm_a.pk}/devices/")
            page.wait_for_selector("#device-map[data-ready='1']")
            assert page.get_attribute("#device-map", "data-features") == "14"
            page.wait_for_selector(".dchart[data-kind=bars][data-ready='1']")
            assert page.locator("[data-testid=devices] tbody tr").count() == 14
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            page.goto(f"{base}/sensing/devices/{pipe.pk}/")
            page.wait_for_selector("#chart-pressure[data-ready='1']")
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            page.goto(f"{base}/sensing/lifts/{lift.pk}/")
            due = page.inner_text("[data-testid=due]")
            assert "逾期 5 天" in due
            fits(page)
            if AXE.exists():
                assert findings(page) == []
            page.fill("#m-done", clock.today().isoformat())
            page.fill("#m-note", "半月维保:曳引机、门系统检查")
            page.click("[data-testid=maintenance-form] button[type=submit]")
            page.wait_for_selector("[data-testid=visits] >> text=半月维保")
            assert "逾期" not in page.inner_text("[data-testid=due]")
            fits(page)
            page.goto(f"{base}/sensing/lifts/")
            fits(page)
            # the import: upload → the worker's run → the preview (fits) → confirm → the device list
            page.goto(f"{base}/sensing/import/community/{w.comm_a.pk}/")
            fits(page)
            code = w.comm_a.path.strip("/").replace("/", "")
            csv = f"设备编号,设备类型,社区编码,小区编码,楼栋编码\nSMOKE-NEW-1,smoke,{code},0001,01\n"
            page.set_input_files("#f-file", files=[{"name": "d.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
            page.click("[data-testid=upload-form] button[type=submit]")
            page.wait_for_selector("[data-testid=run-next]")
            page.click("[data-testid=run-next]")
            page.wait_for_selector("[data-testid=preview]")
            assert page.inner_text("[data-testid=new-devices]") == "1"
            fits(page)
            page.click("[data-testid=confirm-form] button[type=submit]")
            page.wait_for_selector("[data-testid=run-next]")
            page.click("[data-testid=run-next]")
            page.wait_for_selector("[data-testid=devices] >> text=SMOKE-NEW-1")
        finally:
            browser.close()
    assert not errors, errors
    assert Lift.objects.get(pk=lift.pk).last_maintained_on == clock.today()
    assert isinstance(Lift.objects.get(pk=lift.pk).last_maintained_on, date)
