"""Work queue pages: a department's own queue ("部门报到") and the command centre's queues."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.accounts.services import grant_role
from linli.governance import loop
from linli.governance.loop import Step
from linli.governance.models import Event, EventLog, EventRequest
from linli.governance.services import events as svc
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db

DEPT_Q = reverse("governance:queue_department")
CMD_Q = reverse("governance:queue_command")


def report(world: Any, category: str = "C0102", pos: str = "a") -> Event:
    lat, lon = POS[pos]
    event, created = svc.report(
        world.users["resident"], svc.Report(category, lat, lon, description="问题"), channel="resident"
    )
    assert created
    return event


def dispatched(world: Any, category: str = "C0102", department: Any = None) -> Event:
    """A case of building A dispatched (to its routed department unless ``department``)."""
    command = world.users["street_command"]
    event = svc.act(command, report(world, category), "register")
    return svc.act(command, event, "dispatch", department=department)


def cards(html: bytes) -> set[int]:
    """Event numbers with an event card on the page."""
    import re

    return {int(x) for x in re.findall(rb'data-event="(\d+)"', html)}


def requests_on(html: bytes) -> set[int]:
    import re

    return {int(x) for x in re.findall(rb'data-request="(\d+)"', html)}


def count(html: bytes, key: str) -> int:
    import re

    m = re.search(rb'data-testid="count-' + key.encode() + rb'">(\d+)<', html)
    assert m, key
    return int(m.group(1))


# --- the department queue ---------------------------------------------------------------------------


def test_department_sees_only_what_was_dispatched_to_it(world: Any, gov: Any, client_for: Any) -> None:
    cg_case = dispatched(world, "C0102")  # street light → 城管
    gs_case = dispatched(world, "C0103")  # water main → 自来水公司
    assert cg_case.department == gov.cg and gs_case.department == gov.gs
    waiting = svc.act(world.users["street_command"], report(world, "C0102"), "register")  # not dispatched
    handling = svc.act(gov.cg_staff, dispatched(world, "C0102"), "accept")
    done = svc.act(gov.cg_staff, svc.act(gov.cg_staff, dispatched(world, "C0102"), "accept"), "report", note="已修")

    r = client_for(gov.cg_staff).get(DEPT_Q)
    assert r.status_code == 200
    html = r.content
    assert cards(html) == {cg_case.pk, handling.pk, done.pk}
    assert waiting.pk not in cards(html) and gs_case.pk not in cards(html)
    assert (count(html, "accept"), count(html, "handling"), count(html, "reported")) == (1, 1, 1)
    assert reverse("governance:queue_act", args=[cg_case.pk]).encode() in html  # the one-click accept
    assert reverse("governance:event_detail", args=[handling.pk]).encode() in html
    assert gov.cg.name.encode() in html

    r = client_for(gov.gs_staff).get(DEPT_Q)
    assert cards(r.content) == {gs_case.pk}
    # the locality office was sent nothing
    r = client_for(gov.locality_staff).get(DEPT_Q)
    assert r.status_code == 200 and cards(r.content) == set()


def test_handling_shows_overdue_first(world: Any, gov: Any, client_for: Any) -> None:
    first = svc.act(gov.cg_staff, dispatched(world), "accept")
    late = svc.act(gov.cg_staff, dispatched(world), "accept")
    Event.objects.filter(pk=late.pk).update(step_due_at=timezone.now() - timedelta(hours=1))
    html = client_for(gov.cg_staff).get(DEPT_Q).content.decode()
    section = html[html.index('data-testid="section-handling"') :]
    assert section.index(f'data-event="{late.pk}"') < section.index(f'data-event="{first.pk}"')
    assert "qcard late" in section


def test_accept_via_the_queue_and_double_submit(world: Any, gov: Any, client_for: Any) -> None:
    case = dispatched(world)
    c = client_for(gov.cg_staff)
    url = reverse("governance:queue_act", args=[case.pk])
    form = {"move": "accept", "expected_step": "dispatched", "next": DEPT_Q}
    r = c.post(url, form)
    assert r.status_code == 302 and r["Location"] == DEPT_Q
    case.refresh_from_db()
    assert case.step == Step.HANDLING and case.handler == gov.cg_staff
    page = c.get(DEPT_Q)
    assert f"#{case.pk}".encode() in page.content and b'class="messages"' in page.content
    # the same form again (a double tap): 409 with the service's message, nothing done twice
    r = c.post(url, form)
    assert r.status_code == 409
    assert "请刷新后再操作".encode() in r.content and b"reload and try again" not in r.content  # one language
    assert EventLog.objects.filter(event=case, move="accept").count() == 1


def test_accept_refused_outside_and_for_the_wrong_department(world: Any, gov: Any, client_for: Any) -> None:
    case = dispatched(world)
    form = {"move": "accept", "expected_step": "dispatched"}
    url = reverse("governance:queue_act", args=[case.pk])
    assert client_for(gov.gs_staff).post(url, form).status_code == 404
    assert client_for(world.users["community_worker"]).post(url, form).status_code == 403
    assert client_for(gov.cg_staff).post(url, {"move": "report"}).status_code == 400
    # a bad form from outside the scope is still a 404 (nothing about the case is revealed)
    assert client_for(gov.gs_staff).post(url, {"move": "nonsense"}).status_code == 404
    # dispatching is the command centre's: a department gets 403 even with the form wrong
    assert client_for(gov.cg_staff).post(url, {"move": "dispatch", "department": ""}).status_code == 403
    assert client_for(gov.cg_staff).post(reverse("governance:queue_act", args=[999999]), form).status_code == 404
    case.refresh_from_db()
    assert case.step == Step.DISPATCHED and EventLog.objects.filter(event=case, move="accept").count() == 0


def test_return_takes_the_case_out_of_the_queue(world: Any, gov: Any, client_for: Any) -> None:
    case = dispatched(world)
    req = svc.ask(gov.cg_staff, case, "return", "不属于本部门")
    staff = client_for(gov.cg_staff)
    html = staff.get(DEPT_Q).content
    assert case.pk in cards(html) and req.pk in requests_on(html) and count(html, "requests") == 1
    r = client_for(world.users["street_command"]).post(
        reverse("governance:queue_decide", args=[req.pk]), {"decision": "approve", "next": CMD_Q}
    )
    assert r.status_code == 302 and r["Location"] == CMD_Q
    case.refresh_from_db()
    assert case.step == Step.REGISTERED and case.department is None
    html = staff.get(DEPT_Q).content
    assert case.pk not in cards(html)
    assert count(html, "requests") == 0 and count(html, "decided") == 1 and req.pk in requests_on(html)
    # the decision is listed, but the case itself is no longer theirs: no link to it
    assert reverse("governance:event_detail", args=[case.pk]).encode() not in html
    # and it is back with the command centre, waiting to be dispatched
    assert case.pk in cards(client_for(world.users["street_command"]).get(CMD_Q).content)


def test_without_a_department_role_404(world: Any, gov: Any, client_for: Any) -> None:
    for user in (world.users["grid_fulltime"], world.users["department_staff"], world.users["street_command"]):
        r = client_for(user).get(DEPT_Q)
        assert r.status_code == 404
        assert "没有部门待办队列".encode() in r.content and b"no department queue" not in r.content
    # someone else's department
    r = client_for(gov.cg_staff).get(reverse("governance:queue_department_for", args=[gov.gs.pk]))
    assert r.status_code == 404 and "您不在该部门任职".encode() in r.content and b"do not work for it" not in r.content
    assert client_for(gov.cg_staff).get(CMD_Q).status_code == 403


def test_person_of_two_departments_switches_between_queues(world: Any, gov: Any, client_for: Any) -> None:
    grant_role(world.admin, gov.cg_staff, "department_staff", gov.gs)
    cg_case, gs_case = dispatched(world, "C0102"), dispatched(world, "C0103")
    c = client_for(gov.cg_staff)
    r = c.get(reverse("governance:queue_department_for", args=[gov.gs.pk]))
    assert r.status_code == 200 and cards(r.content) == {gs_case.pk}
    r = c.get(reverse("governance:queue_department_for", args=[gov.cg.pk]))
    assert cards(r.content) == {cg_case.pk}
    assert reverse("governance:queue_department_for", args=[gov.gs.pk]).encode() in r.content


# --- the command centre queue ------------------------------------------------------------------------


def test_command_queue_shows_its_own_street_only(world: Any, gov: Any, client_for: Any) -> None:
    mine = report(world, "C0102", "a")
    other = report(world, "C0102", "c")  # building C, street 2
    assert other.street == world.street2
    registered = svc.act(world.users["street_command"], report(world, "C0102", "a"), "register")
    html = client_for(world.users["street_command"]).get(CMD_Q).content
    assert mine.pk in cards(html) and registered.pk in cards(html)
    assert other.pk not in cards(html)
    assert count(html, "register") == 1 and count(html, "dispatch") == 1
    # the suggested department (services.route) is preselected in the dispatch form
    assert f'<option value="{gov.cg.pk}" selected>'.encode() in html
    html = client_for(world.users["district_admin"]).get(CMD_Q).content
    assert {mine.pk, other.pk, registered.pk} <= cards(html)
    for role in ("community_worker", "grid_fulltime", "resident", "department_staff"):
        r = client_for(world.users[role]).get(CMD_Q)
        assert r.status_code == 403, role
        assert "只有指挥中心".encode() in r.content and b"Only the command centre" not in r.content


def test_register_and_dispatch_from_the_queue(world: Any, gov: Any, client_for: Any) -> None:
    case = report(world, "C0102")
    c = client_for(world.users["street_command"])
    url = reverse("governance:queue_act", args=[case.pk])
    r = c.post(url, {"move": "register", "expected_step": "collected", "next": CMD_Q})
    assert r.status_code == 302
    # dispatched to another department than the suggested one, by choice
    r = c.post(url, {"move": "dispatch", "expected_step": "registered", "department": gov.gs.pk, "next": CMD_Q})
    assert r.status_code == 302 and r["Location"] == CMD_Q
    case.refresh_from_db()
    assert case.step == Step.DISPATCHED and case.department == gov.gs
    assert case.pk in cards(client_for(gov.gs_staff).get(DEPT_Q).content)
    # a stale form: the case has moved on
    r = c.post(url, {"move": "dispatch", "expected_step": "registered", "department": gov.cg.pk, "next": CMD_Q})
    assert r.status_code == 409 and b'data-testid="queue-error"' in r.content
    case.refresh_from_db()
    assert case.department == gov.gs


def test_dispatch_needs_a_department_and_never_leaves_the_site(world: Any, gov: Any, client_for: Any) -> None:
    case = svc.act(world.users["street_command"], report(world), "register")
    c = client_for(world.users["street_command"])
    url = reverse("governance:queue_act", args=[case.pk])
    for bad in ("", "x", "99999999"):
        r = c.post(url, {"move": "dispatch", "department": bad, "next": CMD_Q})
        assert r.status_code == 400 and "请选择派遣部门".encode() in r.content
    r = c.post(url, {"move": "dispatch", "department": gov.cg.pk, "next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == CMD_Q
    case.refresh_from_db()
    assert case.step == Step.DISPATCHED


def test_approve_and_refuse_via_the_page(world: Any, gov: Any, client_for: Any) -> None:
    one = svc.act(gov.cg_staff, dispatched(world), "accept")
    two = svc.act(gov.cg_staff, dispatched(world), "accept")
    extend = svc.ask(gov.cg_staff, one, "extend", "需要采购配件", hours=48)
    backlog = svc.ask(gov.cg_staff, two, "backlog", "需等待道路改造")
    c = client_for(world.users["street_command"])
    html = c.get(CMD_Q).content
    assert count(html, "approve") == 2 and {extend.pk, backlog.pk} <= requests_on(html)
    assert "需要采购配件".encode() in html and b'data-testid="hours"' in html
    due = one.due_at
    r = c.post(reverse("governance:queue_decide", args=[extend.pk]), {"decision": "approve", "next": CMD_Q})
    assert r.status_code == 302
    one.refresh_from_db()
    assert one.due_at == due + timedelta(hours=48) and one.extension_count == 1
    # refusing needs a reason
    url = reverse("governance:queue_decide", args=[backlog.pk])
    r = c.post(url, {"decision": "refuse", "next": CMD_Q})
    assert r.status_code == 400 and "不同意时请说明理由".encode() in r.content
    assert c.post(url, {"decision": "maybe", "note": "x"}).status_code == 400
    backlog.refresh_from_db()
    assert backlog.decision == EventRequest.Decision.PENDING
    r = c.post(url, {"decision": "refuse", "note": "请继续处置", "next": CMD_Q})
    assert r.status_code == 302
    backlog.refresh_from_db()
    two.refresh_from_db()
    assert backlog.decision == EventRequest.Decision.REFUSED and not two.backlog
    page = c.get(CMD_Q).content
    assert count(page, "approve") == 0 and b'class="messages"' in page
    # the department sees both decisions
    html = client_for(gov.cg_staff).get(DEPT_Q).content
    assert count(html, "decided") == 2 and "请继续处置".encode() in html


def test_decide_refused_to_others(world: Any, gov: Any, client_for: Any) -> None:
    case = svc.act(gov.cg_staff, dispatched(world), "accept")
    req = svc.ask(gov.cg_staff, case, "defer", "等待业主", until=timezone.now() + timedelta(days=3))
    url = reverse("governance:queue_decide", args=[req.pk])
    for user, status in (
        (gov.cg_staff, 403),  # the asking department sees the case but may not decide
        (world.users["community_worker"], 403),
        (world.users["grid_fulltime"], 403),
        (gov.gs_staff, 404),  # another department: not in its scope at all
        (world.outsider, 404),
        (world.users["resident"], 404),
    ):
        for form in ({"decision": "refuse", "note": "不行"}, {"decision": "refuse"}):
            r = client_for(user).post(url, form)
            assert r.status_code == status, (user, form, r.status_code)
    assert (
        client_for(world.users["street_command"])
        .post(reverse("governance:queue_decide", args=[999999]), {"decision": "approve"})
        .status_code
        == 404
    )
    req.refresh_from_db()
    assert req.decision == EventRequest.Decision.PENDING


def test_double_submit_on_decide_is_409_and_one_decision(world: Any, gov: Any, client_for: Any) -> None:
    case = svc.act(gov.cg_staff, dispatched(world), "accept")
    req = svc.ask(gov.cg_staff, case, "extend", "配件", hours=24)
    c = client_for(world.users["street_command"])
    url = reverse("governance:queue_decide", args=[req.pk])
    assert c.post(url, {"decision": "approve", "next": CMD_Q}).status_code == 302
    r = c.post(url, {"decision": "approve", "next": CMD_Q})
    assert r.status_code == 409
    assert "该申请已审批".encode() in r.content and b"already decided" not in r.content
    r = c.post(url, {"decision": "refuse", "note": "x", "next": CMD_Q})
    assert r.status_code == 409
    req.refresh_from_db()
    assert req.decision == EventRequest.Decision.APPROVED
    assert EventLog.objects.filter(event=case, move="extend").count() == 1
    case.refresh_from_db()
    assert case.extension_count == 1


@pytest.mark.dates
def test_overdue_escalated_backlog_and_deferred_lists(world: Any, gov: Any, client_for: Any) -> None:
    late = svc.act(gov.cg_staff, dispatched(world), "accept")
    Event.objects.filter(pk=late.pk).update(step_due_at=timezone.now() - timedelta(hours=2))
    assert svc.escalate_overdue() == 1
    on_backlog = svc.act(gov.cg_staff, dispatched(world), "accept")
    command = world.users["street_command"]
    svc.decide(command, svc.ask(gov.cg_staff, on_backlog, "backlog", "等改造"), True)
    deferred = svc.act(gov.cg_staff, dispatched(world), "accept")
    svc.decide(
        command, svc.ask(gov.cg_staff, deferred, "defer", "等业主", until=timezone.now() + timedelta(days=2)), True
    )
    html = client_for(command).get(CMD_Q).content.decode()

    def section(key: str) -> str:
        start = html.index(f'data-testid="section-{key}"')
        end = html.find('<section class="qsection"', start + 1)
        return html[start : end if end > 0 else len(html)]

    assert f'data-event="{late.pk}"' in section("late")
    assert loop.LEVEL_NAMES[loop.STREET][0] in section("late")
    assert f'data-event="{on_backlog.pk}"' in section("backlog")
    assert f'data-event="{on_backlog.pk}"' not in section("late")
    assert f'data-event="{deferred.pk}"' in section("deferred")
    assert count(html.encode(), "late") == 1


def test_queue_pages_matrix(world: Any, gov: Any, client_for: Any) -> None:
    """Every role on every queue page: the department queue for department staff (held at a
    department) only, the command queue for COMMAND holders only, the POSTs 404 outside scope and
    403 inside it without the right."""
    command_roles = {"street_command", "district_admin"}
    people = [*world.users.items(), ("outsider", world.outsider)]
    people += [("cg_staff", gov.cg_staff), ("gs_staff", gov.gs_staff), ("locality_staff", gov.locality_staff)]
    case = dispatched(world)  # to 城管
    accepted = svc.act(gov.cg_staff, dispatched(world), "accept")
    req = svc.ask(gov.cg_staff, accepted, "extend", "配件", hours=1)
    for name, user in people:
        c = client_for(user)
        r = c.get(DEPT_Q)
        assert r.status_code == (200 if name.endswith("_staff") and name != "department_staff" else 404), name
        r = c.get(CMD_Q)
        assert r.status_code == (200 if name in command_roles else 403), name
        for dept in (gov.cg, gov.gs):
            r = c.get(reverse("governance:queue_department_for", args=[dept.pk]))
            mine = (name, dept) in (("cg_staff", gov.cg), ("gs_staff", gov.gs))
            assert r.status_code == (200 if mine else 404), (name, dept.code)
        # accepting (with a stale step so nobody actually changes anything): who gets through
        # the permission check reaches the 409 of the step check
        r = c.post(reverse("governance:queue_act", args=[case.pk]), {"move": "accept", "expected_step": "handling"})
        if name in ("cg_staff", "district_admin"):  # the district administrator holds every action
            assert r.status_code == 409, name
        else:
            see = name in {"street_command", "community_worker", "grid_leader", "grid_fulltime"}
            see = see or name in {"grid_parttime", "grid_instructor", "grid_force", "department_staff", "operator"}
            assert r.status_code in ((403,) if see else (404,)), (name, r.status_code)
        r = c.post(reverse("governance:queue_decide", args=[req.pk]), {"decision": "maybe"})
        if name in command_roles:
            assert r.status_code == 400, name
        else:
            assert r.status_code in (403, 404), (name, r.status_code)
    req.refresh_from_db()
    case.refresh_from_db()
    assert req.decision == EventRequest.Decision.PENDING and case.step == Step.DISPATCHED
    assert (
        client_for(world.users["street_command"]).get(reverse("governance:queue_act", args=[case.pk])).status_code
        == 405
    )


# --- in a phone-sized browser ------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_department_queue_on_a_phone_by_keyboard(live_server: Any, transactional_db: Any, monkeypatch: Any) -> None:
    """390 px wide: cards, no sideways scrolling; the accept button is reached and pressed by keyboard."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import make_world
    from tests.governance.conftest import make_gov

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here
    world = make_world()
    gov = make_gov(world)
    case = dispatched(world)
    gov.cg_staff.set_password("a-long-browser-password")
    gov.cg_staff.save()
    shots = os.environ.get("LINLI_SHOTS", "")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{live_server.url}/accounts/login/?next={DEPT_Q}")
            page.fill("#id_username", "cg_staff")
            page.fill("#id_password", "a-long-browser-password")
            page.click("main button[type=submit]")
            page.wait_for_url(f"{live_server.url}{DEPT_Q}")
            assert page.locator(f"#q-accept [data-event='{case.pk}']").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            if shots:
                page.screenshot(path=f"{shots}/department-queue.png", full_page=True)
            page.focus("a.skip")
            for _ in range(60):  # Tab through the page to the accept button
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.dataset.testid") == f"accept-{case.pk}":
                    break
            else:
                raise AssertionError("the accept button is not reachable by keyboard")
            page.keyboard.press("Enter")
            page.wait_for_selector(f"#q-handling [data-event='{case.pk}']")
            assert page.locator(".messages").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        finally:
            browser.close()
    case.refresh_from_db()
    assert case.step == Step.HANDLING
