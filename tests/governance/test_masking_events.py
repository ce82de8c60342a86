"""Phone and ID numbers typed into a grid event's free text (description, address, notes, a
department's request reason) are masked for whoever may not see people's data at the event —
department staff — and shown as typed to the command centre (issue 9 item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from linli.governance.models import Event
from linli.governance.services import events as svc
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db

PHONE, ID = "139-1234-5678", "500107 19560610 5992"
TEXT = f"楼道灯坏了,请联系 {PHONE},身份证 {ID}"
MASKED_PHONE, MASKED_ID = "139****5678", "5001**********5992"


def case(world: Any, gov: Any) -> Event:
    lat, lon = POS["a"]
    event, _ = svc.report(
        world.users["resident"],
        svc.Report("C0102", lat, lon, description=TEXT, address=f"劳动三村1栋 电话{PHONE}"),
        channel="resident",
    )
    command = world.users["street_command"]
    event = svc.act(command, svc.act(command, event, "register"), "dispatch", department=gov.cg)
    return svc.act(gov.cg_staff, event, "accept")


def shows_typed(html: str) -> bool:
    return PHONE in html and ID in html


def shows_masked(html: str) -> bool:
    return MASKED_PHONE in html and MASKED_ID in html and "12345678" not in html and "19560610" not in html


def test_event_page(world: Any, gov: Any, client_for: Any) -> None:
    event = case(world, gov)
    svc.ask(gov.cg_staff, event, "extend", f"需要联系住户 {PHONE} 才能入户", hours=24)
    url = reverse("governance:event_detail", args=[event.pk])
    staff = client_for(gov.cg_staff).get(url).content.decode()
    assert shows_masked(staff) and PHONE not in staff
    command = client_for(world.users["street_command"]).get(url).content.decode()
    assert shows_typed(command)


def test_history_notes(world: Any, gov: Any, client_for: Any) -> None:
    event = svc.act(gov.cg_staff, case(world, gov), "report", note=f"已修好,住户 {PHONE} 确认")
    url = reverse("governance:event_detail", args=[event.pk])
    staff = client_for(gov.cg_staff).get(url).content.decode()
    assert MASKED_PHONE in staff and PHONE not in staff
    assert PHONE in client_for(world.users["street_command"]).get(url).content.decode()


def test_department_queue_and_command_queue(world: Any, gov: Any, client_for: Any) -> None:
    event = case(world, gov)
    svc.ask(gov.cg_staff, event, "extend", f"住户 {PHONE} 不在家", hours=24)
    staff = client_for(gov.cg_staff).get(reverse("governance:queue_department")).content.decode()
    assert f"event-{event.pk}" in staff
    assert MASKED_PHONE in staff and PHONE not in staff and "19560610" not in staff
    command = client_for(world.users["street_command"]).get(reverse("governance:queue_command")).content.decode()
    assert f"{PHONE} 不在家" in command  # the request card, as typed
