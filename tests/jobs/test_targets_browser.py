"""The employment targets page in Debian's chromium at 390 px (issue 14 §7): the three figures as the
district reports them, the three trend charts draw with their tables beside them, the page fits a
phone, an entry is recorded and withdrawn through the forms, and the export downloads a real .xlsx."""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from datetime import date

import pytest
from openpyxl import load_workbook

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.jobs.models import Metric, Placement, TargetEntry
from linli.jobs.services import targets as svc
from linli.jobs.services import vocabulary
from tests import factories as f
from tests.conftest import make_world
from tests.consult.test_ballots_browser import PASSWORD, login, shot
from tests.core.test_axe_browser import AXE, findings
from tests.jobs.conftest import make_employer, make_seeker
from tests.phone import OPEN_DETAILS, PHONE, fits
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser
NEW, RE, HARD = Metric.NEW_JOBS.value, Metric.REEMPLOYED.value, Metric.HARD_PLACED.value


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_targets_page_on_a_phone(live_server, transactional_db, settings, tmp_path):
    from playwright.sync_api import sync_playwright

    clock.travel("2026-11-05T10:00:00+08:00")
    vocabulary.ensure()
    w = make_world()
    officer = f.UserFactory(username="district_officer")
    officer.set_password(PASSWORD)
    officer.save()
    grant_role(w.admin, officer, Role.EMPLOYMENT_OFFICER.value, w.district)
    employer = make_employer(w.street1, "重庆精工机床有限公司", "91500107MA5U4XKX2E")
    seeker = make_seeker(w.street1, "王师傅", ["6-18-01-01"])
    Placement.objects.bulk_create(
        Placement(
            seeker=seeker,
            employer=employer,
            started_on=date(2026, 1 + i % 10, 1 + i % 28),
            path=w.comm_a.path if i % 2 else w.comm_c.path,
            registered_unemployed=i < 108,
            hard_to_employ=i >= 237,
            created_at=clock.now(),
        )
        for i in range(300)
    )
    svc.set_target(officer, w.district, 2026, NEW, 36_963)
    svc.set_target(officer, w.district, 2026, RE, 5_000)
    svc.set_target(officer, w.district, 2026, HARD, 1_800)
    svc.add_entry(officer, w.district, NEW, 31_000, date(2026, 10, 31), "区人社局10月月报")
    svc.add_entry(officer, w.street1, RE, 4_400, date(2026, 10, 31), "区人社局10月月报")
    svc.add_entry(officer, w.street2, HARD, 1_500, date(2026, 9, 30), "杨家坪街道就业台账")
    base = live_server.url
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)  # type: ignore[arg-type]
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, officer.username, "/jobs/targets/")
            assert page.inner_text("[data-testid=actual-new_jobs]") == "31,300"
            assert "完成年度目标 84.68%" in page.inner_text("[data-testid=completion-new_jobs]")
            assert page.inner_text("[data-testid=actual-reemployed]") == "4,508"
            assert page.inner_text("[data-testid=actual-hard_placed]") == "1,563"
            for metric in (NEW, RE, HARD):  # each chart draws, its numbers are in a table beside it
                page.wait_for_selector(f"[data-testid=chart-{metric}][data-ready='1'] canvas", timeout=15_000)
                assert page.locator(f"[data-testid=table-{metric}] tbody tr").count() == 12
            assert page.get_attribute(f"[data-testid=chart-{NEW}]", "aria-labelledby") == f"trend-{NEW}-h"
            assert page.locator("[data-testid=streets] [data-testid=street-row]").count() == 3  # two + district level
            fits(page)
            shot(page, "jobs-targets")
            if AXE.exists():
                assert findings(page) == []
            page.evaluate(OPEN_DETAILS)  # the tables beside the charts fit too
            fits(page)
            cells = page.locator(f"[data-testid=table-{NEW}] tbody tr").nth(9).locator("td").all_inner_texts()
            assert cells[1] == "31,300"  # cumulative by the end of October
            # an entry through the form, then withdrawn through its button
            page.select_option("#e-metric", HARD)
            page.fill("#e-count", "37")
            page.fill("#e-on", "2026-11-04")
            page.fill("#e-source", "谢家湾街道帮扶台账")
            page.click("[data-testid=entry-form] button[type=submit]")
            page.wait_for_selector("[data-testid=entries] >> text=谢家湾街道帮扶台账")
            assert page.inner_text("[data-testid=actual-hard_placed]") == "1,600"
            fits(page)
            row = page.locator("[data-testid=entry-row]", has_text="谢家湾街道帮扶台账")
            row.locator("summary").click()
            row.locator("input[name=reason]").fill("人数录错")
            row.locator("button[type=submit]").click()
            page.wait_for_selector("[data-testid=entries] >> text=人数录错")
            assert page.inner_text("[data-testid=actual-hard_placed]") == "1,563"
            # the export: its run's page, then the file
            page.click("[data-testid=export-button]")
            page.wait_for_selector("[data-testid=run-file]", timeout=30_000)
            with page.expect_download(timeout=30_000) as dl:
                page.click("[data-testid=run-file]")
            path = tmp_path / "targets.xlsx"
            dl.value.save_as(path)
            wb = load_workbook(path, read_only=True)
            summary = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
            assert summary[1][2] == 31_300 and summary[1][5] == pytest.approx(84.68)
        finally:
            browser.close()
    assert not errors, errors
    assert TargetEntry.objects.filter(withdrawn_at__isnull=False).count() == 1
