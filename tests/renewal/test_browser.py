"""A renovation project in a real browser (Debian's chromium, 390 px phone viewport).

A community worker creates a project through the form, adds a catalogue item and a free item,
edits an estimate, moves the project phase by phase to works and reports progress; an anonymous
visitor finds it on the public index and sees items and progress but no personal data; a grid
worker sends a supervision report with a photo (a JPEG made with Pillow) from the phone layout and
sees its thumbnail. The database is checked at each step; no JavaScript errors.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import io
from decimal import Decimal

import pytest
from PIL import Image

from linli.renewal.models import PhaseChange, ProgressReport, Project, ReportPhoto, SupervisionReport
from tests.browser import wait_true
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, PHONE, fits, login, shot
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 120, 40)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_project_from_form_to_public_page_and_supervision_photo(live_server, transactional_db):
    from playwright.sync_api import sync_playwright

    w = make_world()
    staff = w.users["community_worker"]
    grid = w.users["grid_fulltime"]
    for u in (staff, grid):
        u.set_password(PASSWORD)
        u.save()
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            sp = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            sp.on("pageerror", lambda e: errors.append(str(e)))
            # 1. create the project through the form
            login(sp, base, staff.username, "/renewal/new/")
            sp.select_option("#f-compound", str(w.compound_a.pk))
            sp.fill("#f-name", "劳动三村小区综合改造")
            sp.fill("#f-summary", "外墙、屋面和管网改造。")
            fits(sp)
            shot(sp, "renewal-form")
            sp.click("form.card button[type=submit]")
            sp.wait_for_url("**/renewal/*/")
            project = Project.objects.get(name="劳动三村小区综合改造")
            assert project.compound_id == w.compound_a.pk and project.phase == "survey" and project.is_public

            # 2. items: one from the catalogue, one free
            sp.select_option("#it-code", "basic.water_supply")
            sp.fill("#it-qty", "2")
            sp.click("form[action$='/items/'] button[type=submit]")
            sp.wait_for_selector(".messages")
            sp.fill("#it-name", "楼道扶手")
            sp.select_option("#it-class", "improve")
            sp.fill("#it-qty", "10")
            sp.fill("#it-cost", "300")
            sp.click("form[action$='/items/'] button[type=submit]")
            sp.wait_for_selector(".messages")
            water, rail = project.items.order_by("id")
            assert (water.name, water.quantity, water.unit_cost) == ("供水管网改造", Decimal("2.00"), Decimal("2500"))
            assert (rail.item_class, rail.quantity, rail.unit_cost) == ("improve", Decimal("10.00"), Decimal("300"))

            # 3. edit an estimate (a bad number first: the bilingual refusal, nothing changed)
            sp.click(f"[data-testid=item-edit-{rail.pk}]")
            sp.wait_for_selector("#ie-qty")
            sp.fill("#ie-qty", "-1")
            sp.click("[data-testid=item-save]")
            sp.wait_for_selector("[data-testid=item-errors]")
            assert "数量不能为负数" in sp.inner_text("[data-testid=item-errors]")
            rail.refresh_from_db()
            assert rail.quantity == Decimal("10.00")
            fits(sp)
            shot(sp, "renewal-item-edit")
            sp.fill("#ie-qty", "12")
            sp.fill("#ie-weight", "20")
            sp.click("[data-testid=item-save]")
            sp.wait_for_url(f"**/renewal/{project.pk}/#items-h")
            rail.refresh_from_db()
            assert (rail.quantity, rail.weight) == (Decimal("12.00"), Decimal("20.00"))

            # 4. phases: survey → plan → ballot → notice → works, one step at a time
            for expected in ("plan", "ballot", "notice", "works"):
                sp.click("form[action$='/phase/'] button[type=submit]")
                sp.wait_for_selector(".messages")
                project.refresh_from_db()
                assert project.phase == expected
            assert PhaseChange.objects.filter(project=project).count() == 5

            # 5. progress of the water pipes: 60 %
            sp.fill(f"#pg-{water.pk}", "60")
            sp.click(f"form[action$='/items/{water.pk}/progress/'] button[type=submit]")
            sp.wait_for_selector(".messages")
            water.refresh_from_db()
            assert water.progress == 60 and ProgressReport.objects.filter(item=water, progress=60).exists()
            progress_text = sp.inner_text("[data-testid=progress]")
            fits(sp)
            shot(sp, "renewal-detail-staff")

            # 6. anyone, without signing in: the public index, then the project's public page
            ap = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            ap.on("pageerror", lambda e: errors.append(str(e)))
            ap.goto(f"{base}/accounts/login/")
            ap.click("[data-testid=menu-button]")  # on a phone the navigation is behind the menu
            ap.click("[data-testid=public-projects-link]")
            ap.wait_for_url("**/renewal/p/")
            fits(ap)
            shot(ap, "renewal-public-index")
            ap.click(f"a[href='/renewal/p/{project.pk}/']")
            ap.wait_for_selector("[data-testid=progress]")
            text = ap.inner_text("main")
            assert "供水管网改造" in text and "楼道扶手" in text
            assert ap.inner_text("[data-testid=progress]") == progress_text
            assert "60 %" in text
            html = ap.content()
            for secret in ("张三", "李四", "13800138000", "110101", staff.username, grid.username, "root"):
                assert secret not in html, secret
            assert ap.locator("form[action$='/progress/']").count() == 0
            fits(ap)
            shot(ap, "renewal-public")

            # 7. a grid worker on a phone sends a supervision report with a photo
            gp = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            gp.on("pageerror", lambda e: errors.append(str(e)))
            login(gp, base, grid.username, f"/renewal/{project.pk}/")
            gp.fill("#rp-text", "3单元外墙脚手架未挂安全网。")
            gp.set_input_files("#rp-photos", files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
            gp.click("form[action$='/reports/'] button[type=submit]")
            gp.wait_for_selector(".thumbs img")
            report = SupervisionReport.objects.get(project=project)
            assert report.reporter_id == grid.pk and report.text.startswith("3单元") and report.client_key
            photo = ReportPhoto.objects.get(report=report)
            assert (photo.width, photo.height) == (64, 48)
            img = gp.locator(".thumbs img").first
            img.scroll_into_view_if_needed()
            wait_true(gp, "document.querySelector('.thumbs img').complete")
            assert gp.evaluate("document.querySelector('.thumbs img').naturalWidth") == 64
            assert img.bounding_box()["width"] >= 44
            fits(gp)
            shot(gp, "renewal-report-phone")
        finally:
            browser.close()
    assert not errors, errors
