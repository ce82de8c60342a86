"""Irreversible actions on grid events ask first and say what they do (issue 8): voiding a case,
closing it after verification, and approving a department's request to void it — from the case
page and from the command queue. A POST without ``confirm=1`` answers with the confirmation page
and changes nothing; the same POST with ``confirm=1`` does it. (Publishing a grid division:
tests/governance/test_division.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from linli.governance.loop import Step
from linli.governance.models import Event, EventLog, EventRequest
from linli.governance.services import events as svc
from tests.governance.test_events_pages import act, hotline_event, url

pytestmark = pytest.mark.django_db


def state(event: Event) -> tuple[Any, ...]:
    e = Event.objects.get(pk=event.pk)
    return e.step, e.duplicate_of_id, EventLog.objects.filter(event=e).count()


def test_voiding_asks_first(world: Any, gov: Any, client_for: Any) -> None:
    first, second = hotline_event(world), hotline_event(world)
    command = client_for(world.users["street_command"])
    before = state(second)
    r = act(command, second, "void", note="重复上报", duplicate_of=str(first.pk))
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html
    assert "作废后案件终结" in html and "不能重新打开" in html and "重复上报" in html
    # the confirmation carries the same fields again, with confirm=1
    for field in ('name="move" value="void"', f'name="duplicate_of" value="{first.pk}"', 'name="confirm" value="1"'):
        assert field in html
    assert state(second) == before
    assert act(command, second, "void", note="重复上报", duplicate_of=str(first.pk), confirm="1").status_code == 302
    assert Event.objects.get(pk=second.pk).step == Step.VOIDED


def test_voiding_without_a_reason_is_refused_without_asking(world: Any, gov: Any, client_for: Any) -> None:
    event = hotline_event(world)
    before = state(event)
    r = act(client_for(world.users["street_command"]), event, "void")
    html = r.content.decode()
    assert r.status_code == 400 and "作废原因" in html and 'data-testid="confirm-page"' not in html
    assert state(event) == before


def _reported(world: Any, gov: Any, client_for: Any) -> Event:
    event = hotline_event(world, category="C0102")
    command = client_for(world.users["street_command"])
    assert act(command, event, "dispatch", department=str(gov.cg.pk)).status_code == 302
    staff = client_for(gov.cg_staff)
    assert act(staff, event, "accept").status_code == 302
    assert act(staff, event, "report", note="换了灯泡").status_code == 302
    return Event.objects.get(pk=event.pk)


def test_closing_a_case_asks_first_and_offers_the_photos_again(world: Any, gov: Any, client_for: Any) -> None:
    event = _reported(world, gov, client_for)
    wc = client_for(world.users["grid_fulltime"])
    page = wc.get(url("event_detail", event.pk)).content.decode()
    assert 'id="act-verify_pass-confirm" name="confirm" value="1" required' in page  # inline, on the form
    before = state(event)
    r = act(wc, event, "verify_pass", note="已修好")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html and "结案后案件终结" in html
    assert 'enctype="multipart/form-data"' in html and 'name="photos"' in html
    assert state(event) == before
    assert act(wc, event, "verify_pass", note="已修好", confirm="1").status_code == 302
    assert Event.objects.get(pk=event.pk).step == Step.CLOSED


def _void_request(world: Any, gov: Any, client_for: Any) -> tuple[Event, EventRequest]:
    event = hotline_event(world, category="C0102")
    act(client_for(world.users["street_command"]), event, "dispatch", department=str(gov.cg.pk))
    act(client_for(gov.cg_staff), event, "accept")
    req = svc.ask(gov.cg_staff, Event.objects.get(pk=event.pk), "void", "已有人修好")
    return Event.objects.get(pk=event.pk), req


def test_approving_a_void_on_the_case_page_asks_first(world: Any, gov: Any, client_for: Any) -> None:
    event, req = _void_request(world, gov, client_for)
    command = client_for(world.users["street_command"])
    before = state(event)
    r = command.post(url("event_decide", event.pk), {"request": req.pk, "approve": "1"})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html and "已有人修好" in html
    assert EventRequest.objects.get(pk=req.pk).decision == "pending" and state(event) == before
    r = command.post(url("event_decide", event.pk), {"request": req.pk, "approve": "1", "confirm": "1"})
    assert r.status_code == 302 and Event.objects.get(pk=event.pk).step == Step.VOIDED


def test_approving_a_void_from_the_queue_asks_first(world: Any, gov: Any, client_for: Any) -> None:
    event, req = _void_request(world, gov, client_for)
    command = client_for(world.users["street_command"])
    queue = url("queue_command")
    before = state(event)
    r = command.post(url("queue_decide", req.pk), {"decision": "approve", "next": queue})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html and f'href="{queue}"' in html
    assert EventRequest.objects.get(pk=req.pk).decision == "pending" and state(event) == before
    r = command.post(url("queue_decide", req.pk), {"decision": "approve", "next": queue, "confirm": "1"})
    assert r.status_code == 302 and Event.objects.get(pk=event.pk).step == Step.VOIDED
    # someone who may not decide is refused before anything is asked
    _event2, req2 = _void_request(world, gov, client_for)
    r = client_for(gov.cg_staff).post(url("queue_decide", req2.pk), {"decision": "approve"})
    assert r.status_code == 403 and EventRequest.objects.get(pk=req2.pk).decision == "pending"
