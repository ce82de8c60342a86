"""A ballot from start to result in a real browser (Debian's chromium, 390 px phone viewport).

A community worker creates a ballot on a small compound (four owners), opens it from its staff
page; an owner signs in on a phone, finds it under "My ballots", votes 同意 and sees their vote
but no totals (hidden until close); staff enter a paper vote for a second owner and a proxy vote
for a third (refused without a reason first); staff close it and the result page shows the
verdict with the exact fractions. The database is checked at each step; no JavaScript errors.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.consult.models import Ballot, Vote, VoteRecord
from linli.core import clock
from linli.places import models as m
from tests import factories as f
from tests.conftest import make_world
from tests.phone import PHONE, fits  # the shared measuring of a 390 px phone (other browser tests import it from here)
from tests.places.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser
PASSWORD = "a-long-browser-password"


def shot(page: Any, name: str) -> None:
    """With LINLI_SCREENSHOTS=<dir>: the page at 390 px and at 1280 px."""
    out = os.environ.get("LINLI_SCREENSHOTS")
    if not out:
        return
    size = page.viewport_size
    page.screenshot(path=os.path.join(out, f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=os.path.join(out, f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(size)


def small_compound(w: Any) -> dict[str, Any]:
    compound = f.CompoundFactory(community=w.comm_a, code="0009", name="小院", build_year=1985)
    building = f.BuildingFactory(compound=compound, code="01", name="1栋", grid=w.grid_a)
    unit = m.Unit.objects.create(building=building, number="1")
    owners = []
    for i in range(1, 5):
        d = m.Dwelling.objects.create(unit=unit, floor=i, number=f"{i}01", area=Decimal("60.00"))
        p = m.Person.objects.create(name=f"业主{i}")
        m.Ownership.objects.create(dwelling=d, person=p)
        owners.append((d, p))
    return {"compound": compound, "owners": owners}


def login(page: Any, base: str, username: str, nxt: str) -> None:
    page.goto(f"{base}/accounts/login/?next={nxt}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{nxt}")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_ballot_from_opening_to_result_on_phones(live_server, transactional_db):
    from playwright.sync_api import sync_playwright

    w = make_world()
    small = small_compound(w)
    (d1, p1), (_d2, p2), (_d3, p3), _ = small["owners"]
    staff = w.users["community_worker"]
    owner = f.UserFactory(username="owner_one")
    grant_role(w.admin, owner, Role.RESIDENT.value, d1)
    f.owner_account(owner, p1, by=staff)  # verified as the owner (a grant alone gives no vote)
    for u in (staff, owner):
        u.set_password(PASSWORD)
        u.save()
    base = live_server.url
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # 1. staff create the ballot (results hidden) and open it from its staff page
            sp = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            sp.on("pageerror", lambda e: errors.append(str(e)))
            new_url = f"/consult/ballots/compound/{small['compound'].pk}/new/"
            login(sp, base, staff.username, new_url)
            sp.fill("#title", "加装休闲座椅")
            sp.fill("#question", "是否同意在院内加装休闲座椅?")
            sp.select_option("#matter", "9")
            sp.select_option("#scope_kind", "compound")
            # closes in two hours (sessions last eight: the clock moves past it below)
            closes = timezone.localtime(clock.now()) + timedelta(hours=2)
            sp.fill("#closes_at", closes.strftime("%Y-%m-%dT%H:%M"))
            sp.check("input[name=hide_results]")
            sp.click("form.form-grid button[type=submit]")
            sp.wait_for_selector("[data-testid=open]")
            ballot = Ballot.objects.get(title="加装休闲座椅")
            assert ballot.status == "draft" and ballot.hide_results and ballot.scope_kind == "compound"
            fits(sp)
            shot(sp, "ballot-draft")
            sp.click("[data-testid=open]")  # asks first: the roll is frozen
            sp.wait_for_selector("[data-testid=confirm-page]")
            assert "4" in sp.inner_text("[data-testid=consequences]")
            ballot.refresh_from_db()
            assert ballot.status == "draft"
            fits(sp)
            shot(sp, "ballot-confirm-open")
            sp.click("[data-testid=confirm]")
            sp.wait_for_selector("[data-testid=close]")
            ballot.refresh_from_db()
            assert ballot.status == "open" and ballot.roll.count() == 4 and ballot.roll_digest

            # 2. the owner votes 同意 on a phone and sees their vote, no totals
            op = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            op.on("pageerror", lambda e: errors.append(str(e)))
            login(op, base, owner.username, "/")
            op.click("[data-testid=menu-button]")  # on a phone the navigation is behind the menu
            op.click("nav.mainnav a[href='/consult/ballots/']")
            op.wait_for_url("**/consult/ballots/")
            shot(op, "ballot-mine")
            op.click(f"a[href='/consult/ballots/{ballot.pk}/']")
            op.wait_for_selector("form.vote-form")
            assert op.locator("[data-testid=verdict]").count() == 0
            op.check("input[name=choice][value=yes]")
            assert op.locator("label.opt:has(input[value=yes])").bounding_box()["height"] >= 44
            op.click("form.vote-form button[type=submit]")
            op.wait_for_selector("[data-testid=my-vote]")
            assert "同意" in op.inner_text("[data-testid=my-vote]")
            assert op.locator("[data-testid=verdict]").count() == 0  # hidden until close
            assert "表决结束前不公布统计结果" in op.inner_text("main")
            fits(op)
            shot(op, "ballot-owner-voted")
            v = Vote.objects.get(ballot=ballot, owner_key=f"p:{p1.pk}")
            assert (v.choice, v.channel) == ("yes", "online")

            # 3. staff enter a paper vote for owner 2, a proxy vote for owner 3 (a reason is required)
            sp.reload()
            sp.select_option("#owner_key", f"p:{p2.pk}")
            sp.select_option("#channel", "paper")
            sp.select_option("#choice", "yes")
            sp.click("section[aria-labelledby=enter-h] button[type=submit]")
            sp.wait_for_selector(".messages")
            assert Vote.objects.get(ballot=ballot, owner_key=f"p:{p2.pk}").channel == "paper"
            sp.select_option("#owner_key", f"p:{p3.pk}")
            sp.select_option("#channel", "proxy")
            sp.select_option("#choice", "no")
            sp.click("section[aria-labelledby=enter-h] button[type=submit]")
            sp.wait_for_selector("[role=alert]")  # refused: no reason
            assert not Vote.objects.filter(ballot=ballot, owner_key=f"p:{p3.pk}").exists()
            sp.select_option("#owner_key", f"p:{p3.pk}")
            sp.select_option("#channel", "proxy")
            sp.select_option("#choice", "no")
            sp.fill("#reason", "业主年迈行动不便,电话委托")
            sp.click("section[aria-labelledby=enter-h] button[type=submit]")
            sp.wait_for_selector(".messages")
            v3 = Vote.objects.get(ballot=ballot, owner_key=f"p:{p3.pk}")
            assert (v3.choice, v3.channel, v3.reason) == ("no", "proxy", "业主年迈行动不便,电话委托")
            assert VoteRecord.objects.filter(ballot=ballot).count() == 3
            roll = sp.inner_text("[data-testid=roll]")
            assert "业主年迈行动不便" in roll
            fits(sp)
            shot(sp, "ballot-staff-open")

            # 4. before its closing time, 3 of 4 owners having voted, counting is refused
            sp.click("[data-testid=close]")
            sp.wait_for_selector("[role=alert]")
            assert "3/4" in sp.inner_text("[role=alert]")
            ballot.refresh_from_db()
            assert ballot.status == "open"
            # after it, staff close (asked first, with the figures); the result: 3/4 took part
            # (≥ 2/3), 2/3 of them said yes (> 1/2)
            clock.travel(ballot.closes_at + timedelta(minutes=1))
            sp.goto(f"{base}/consult/ballots/{ballot.pk}/")
            sp.click("[data-testid=close]")
            sp.wait_for_selector("[data-testid=confirm-page]")
            assert "3/4" in sp.inner_text("[data-testid=consequences]")
            fits(sp)
            shot(sp, "ballot-confirm-close")
            sp.click("[data-testid=confirm]")
            sp.wait_for_selector("[data-testid=verdict]")
            ballot.refresh_from_db()
            assert ballot.status == "closed" and ballot.result["approved"] is True
            assert ballot.result["participating_owners"]["fraction"] == "3/4"
            assert ballot.result["approving_owners"]["fraction"] == "2/3"
            verdict = sp.locator("[data-testid=verdict]")
            assert "通过" in verdict.inner_text() and "yes" in (verdict.get_attribute("class") or "")
            bars = sp.inner_text(".bars")
            assert "3 / 4 人 (75%)" in bars and "2 / 3 人 (66.7%)" in bars  # figures read "x / y 人 (p%)"
            assert sp.locator("[data-testid=close]").count() == 0
            fits(sp)
            shot(sp, "ballot-staff-closed")

            # 5. the owner now sees the result and can no longer vote
            op.reload()
            assert op.locator("form.vote-form").count() == 0
            assert re.search(r"通过", op.inner_text("[data-testid=verdict]"))
            assert "3 / 4 人 (75%)" in op.inner_text(".bars")
            shot(op, "ballot-owner-closed")
        finally:
            browser.close()
    assert not errors, errors
    assert Vote.objects.filter(ballot=ballot).count() == 3


def test_two_forms_sent_in_one_second_are_two_votes(world, client_for):
    """Regression: the forms' client_key was a timestamp in seconds, so a second paper ballot
    entered within the same second was taken for a retry of the first and silently dropped."""
    small = small_compound(world)
    from tests.consult.test_ballots_helpers import open_ballot

    ballot = open_ballot(world, matter="9", scope_kind="compound", scope_id=small["compound"].pk)
    c = client_for(world.users["community_worker"])
    url = f"/consult/ballots/{ballot.pk}/"
    keys = [re.search(r'name="client_key" value="([^"]+)"', c.get(url).content.decode()).group(1) for _ in "ab"]
    assert keys[0] != keys[1]
    for (_d, person), key in zip(small["owners"][:2], keys, strict=True):
        r = c.post(
            f"{url}enter/", {"owner_key": f"p:{person.pk}", "channel": "paper", "choice": "yes", "client_key": key}
        )
        assert r.status_code == 302
    assert Vote.objects.filter(ballot=ballot).count() == 2
    # the same form sent twice is still one submission
    c.post(
        f"{url}enter/",
        {"owner_key": f"p:{small['owners'][2][1].pk}", "channel": "paper", "choice": "no", "client_key": keys[0]},
    )
    assert Vote.objects.filter(ballot=ballot).count() == 2
