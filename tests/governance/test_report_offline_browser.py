"""Photos and bad signal on a phone (issue 12 §8; Debian's chromium, 390×844 viewport).

A grid worker picks a 4000×3000 photo larger than the server's limit: the page shrinks it under
the limit, stamps time and place on it and shows "已压缩 … → …"; the case keeps the stamp's time
and position. Then the signal goes: the report sent offline waits as "待发送 (离线草稿)", the form
is ready for the next one, and back online the draft is sent by itself — exactly one case, with
the draft's client key — and stays one after a reload. A report being written survives a reload
(fields, photo and client key), and a draft whose send was cut by a reload as the signal came
back is sent by the next page, still once. No JavaScript errors.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import pytest
from django.db import connections
from PIL import Image, ImageStat

from linli.core.photos import MAX_PHOTO_BYTES
from linli.governance.models import Event, EventLog, EventPhoto
from tests.browser import wait_true
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, PHONE, fits, login, shot
from tests.governance.conftest import POS, make_gov
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

NEW = "/governance/events/new/"
WAITING = "li[data-testid=draft][data-state=waiting]"
SENT = "li[data-testid=draft][data-state=sent]"


def big_photo(path: Path) -> Path:
    """A 4000×3000 JPEG over the limit, as a phone's camera makes (noise compresses badly)."""
    img = Image.frombytes("RGB", (4000, 3000), os.urandom(4000 * 3000 * 3))
    img.save(path, "JPEG", quality=95)
    assert path.stat().st_size > MAX_PHOTO_BYTES
    return path


def small_photo(path: Path) -> Path:
    Image.new("RGB", (800, 600), (90, 140, 200)).save(path, "JPEG")
    return path


def fill(page, text: str) -> None:
    page.wait_for_selector("#pick-map[data-ready='1']", timeout=15_000)
    page.select_option("#f-category", "E0201")
    page.fill("#f-description", text)
    page.click("#f-locate")
    wait_true(page, "document.querySelector('#f-lat').value !== ''")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_photos_shrunk_and_stamped_and_reports_that_survive_losing_the_signal(
    live_server, transactional_db, settings, tmp_path
):
    from playwright.sync_api import sync_playwright

    settings.LINLI_MAP_TILE_URL = ""
    w = make_world()
    make_gov(w)
    worker = w.users["grid_fulltime"]
    worker.set_password(PASSWORD)
    worker.save()
    base = live_server.url
    big, small = big_photo(tmp_path / "IMG_0001.jpg"), small_photo(tmp_path / "IMG_0002.jpg")
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", has_touch=True)
            ctx.grant_permissions(["geolocation"], origin=base)
            ctx.set_geolocation({"latitude": POS["a"][0] + 0.0001, "longitude": POS["a"][1], "accuracy": 12})
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, worker.username, NEW)

            # 1. a photo over the limit is shrunk on the phone, stamped, and accepted
            fill(page, "楼下垃圾三天没人清运")
            page.set_input_files("#f-photos", str(big))
            page.wait_for_selector("#f-photo-list li:has-text('已压缩')", timeout=30_000)
            note = page.inner_text("#f-photo-list li")
            assert "MB →" in note and ("KB" in note or note.count("MB") == 2), note
            size = page.evaluate("document.querySelector('#f-photos').files[0].size")
            kind = page.evaluate("document.querySelector('#f-photos').files[0].type")
            assert 0 < size <= MAX_PHOTO_BYTES and kind == "image/jpeg"
            assert page.evaluate("document.querySelectorAll('input[name=photo_stamp]').length") == 1
            fits(page)
            shot(page, "report-photo-shrunk")
            page.click("#f-submit")
            page.wait_for_url("**/governance/events/*/?reported=1", timeout=30_000)
            event = Event.objects.get()
            photo = EventPhoto.objects.get(event=event)
            assert max(photo.width, photo.height) <= 1600 and (photo.width, photo.height) == (1600, 1200)
            assert photo.taken_at is not None and photo.taken_accuracy == 12
            assert photo.taken_lat is not None and photo.taken_lon is not None
            assert abs(photo.taken_lat - (POS["a"][0] + 0.0001)) < 1e-5 and abs(photo.taken_lon - POS["a"][1]) < 1e-5
            # the stamp strip is drawn at the bottom: darker than the noise above it
            with Image.open(photo.image.path) as img:
                grey = img.convert("L")
                top = ImageStat.Stat(grey.crop((0, 0, 1600, 40))).mean[0]
                strip = ImageStat.Stat(grey.crop((0, 1190, 1600, 1200))).mean[0]
                if os.environ.get("LINLI_SCREENSHOTS"):
                    img.save(os.path.join(os.environ["LINLI_SCREENSHOTS"], "report-photo-stamped.jpg"))
            assert top > 100 and strip < top * 0.6, (top, strip)
            assert "±12 m" in page.inner_text("[data-testid=photo-stamp]")

            # 2. offline: the report waits on the phone, the form is ready for the next one
            page.goto(f"{base}{NEW}")
            fill(page, "井盖松动,离线上报")
            page.set_input_files("#f-photos", str(small))
            page.wait_for_selector("#f-photo-list li:has-text('已压缩')")
            # each pick adds to the photos chosen, at most six: seven are refused, the first stays
            page.set_input_files("#f-photos", [str(small)] * 6)
            page.wait_for_selector("#f-photo-list li[role=alert]:has-text('最多 6 张照片')")
            assert page.evaluate("document.querySelector('#f-photos').files.length") == 1
            key = page.input_value("#f-client-key")
            ctx.set_offline(True)
            page.click("#f-submit")
            page.wait_for_selector(WAITING)
            assert "待发送 (离线草稿)" in page.inner_text(WAITING)
            assert "没有网络" in page.inner_text("[data-testid=drafts-status]")
            assert page.input_value("#f-description") == "" and page.input_value("#f-client-key") != key
            assert page.evaluate("document.querySelector('#f-photos').files.length") == 0
            assert Event.objects.count() == 1
            fits(page)
            shot(page, "report-offline-draft")
            # back online: sent by itself, once, with the draft's key
            ctx.set_offline(False)
            page.wait_for_selector(SENT, timeout=20_000)
            second = Event.objects.get(client_key=key)
            assert Event.objects.count() == 2 and second.description == "井盖松动,离线上报"
            assert EventPhoto.objects.filter(event=second).count() == 1
            assert page.get_attribute(f"{SENT} a", "href") == f"/governance/events/{second.pk}/?reported=1"
            page.reload()
            page.wait_for_selector(SENT)
            page.wait_for_timeout(500)
            assert Event.objects.count() == 2

            # 3. a report being written survives a reload: fields, photo and client key
            page.goto(f"{base}{NEW}")
            fill(page, "路灯不亮")
            page.set_input_files("#f-photos", str(small))
            page.wait_for_selector("#f-photo-list li:has-text('已压缩')")
            key3 = page.input_value("#f-client-key")
            page.wait_for_timeout(700)  # the draft is saved 0.4 s after the last change
            page.reload()
            wait_true(page, "document.querySelector('#f-description').value === '路灯不亮'")
            assert page.input_value("#f-client-key") == key3
            assert page.input_value("#f-category") == "E0201" and page.input_value("#f-lat") != ""
            assert page.evaluate("document.querySelector('#f-photos').files.length") == 1
            assert "已恢复" in page.inner_text("[data-testid=drafts-status]")

            # 4. sent offline, then the signal returns and the page is reloaded at once: the old
            # page's send and the new page's are one case
            ctx.set_offline(True)
            page.click("#f-submit")
            page.wait_for_selector(WAITING)
            ctx.set_offline(False)
            page.reload()
            page.wait_for_selector(f"{SENT}:has-text('路灯不亮')", timeout=20_000)
            page.wait_for_timeout(500)
            assert Event.objects.filter(client_key=key3).count() == 1 and Event.objects.count() == 3

            # 5. a draft the server refuses (4xx) stays, with the server's message, to be fixed
            page.evaluate(
                """linliDrafts.put({key: "bad-1", path: "/governance/events/new/",
                    action: location.origin + "/governance/events/new/", state: "waiting",
                    fields: [["category", "nope"], ["lat", "29.5001"], ["lon", "106.5"], ["client_key", "bad-1"],
                             ["description", "坏草稿"]],
                    photos: [], label: "坏草稿", savedAt: Date.now(), tries: 0, nextAt: 0, errors: []})"""
            )
            page.reload()
            refused = "li[data-testid=draft][data-state=refused]"
            page.wait_for_selector(refused, timeout=20_000)
            assert "未知的事件类别:nope" in page.inner_text(refused)
            page.click(f"{refused} button:has-text('在表单中修改')")
            page.wait_for_selector("[data-testid=errors]")
            assert "未知的事件类别:nope" in page.inner_text("[data-testid=errors]")
            assert page.input_value("#f-description") == "坏草稿" and page.input_value("#f-client-key") == "bad-1"
            assert Event.objects.count() == 3
            assert errors == []
        finally:
            browser.close()
            connections.close_all()  # the ORM's connection of Playwright's greenlet (PostgreSQL drops the db)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_the_handlers_photo_on_the_case_page_is_shrunk_too(live_server, transactional_db, settings, tmp_path):
    """The department's "after handling" photo, over the limit, is shrunk and stamped on the phone
    and the ordinary POST of the case page's form carries it."""
    from playwright.sync_api import sync_playwright

    from linli.governance.services import events as svc

    settings.LINLI_MAP_TILE_URL = ""
    w = make_world()
    gov = make_gov(w)
    command, staff = w.users["street_command"], gov.cg_staff
    staff.set_password(PASSWORD)
    staff.save()
    event, _ = svc.report(
        w.users["resident"], svc.Report("C0102", *POS["a"], description="路灯不亮"), channel="resident"
    )
    event = svc.act(command, svc.act(command, event, "register"), "dispatch", department=gov.cg)
    event = svc.act(staff, event, "accept")
    big = big_photo(tmp_path / "IMG_0003.jpg")
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True)
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, live_server.url, staff.username, f"/governance/events/{event.pk}/")
            page.click("[data-testid=choose-report]")
            page.fill("#act-report-note", "已更换灯泡")
            page.set_input_files("#act-report-photos", str(big))
            # submitted while the photo is still being made smaller: sent once it is (the 13 MB
            # original would be refused with a 413)
            page.click("[data-testid=do-report]")
            page.wait_for_selector("ul.photos img", timeout=30_000)
            photo = EventPhoto.objects.get(event=event, stage="handle")
            assert (photo.width, photo.height) == (1600, 1200)
            assert EventLog.objects.filter(event=event, move="report").count() == 1
            assert errors == []
        finally:
            browser.close()
            connections.close_all()  # the ORM's connection of Playwright's greenlet (PostgreSQL drops the db)
