"""The case page's one form at a time, as the server renders it (issue 12 §3): the moves as a list of
links; ``?move=`` shows that form and hides the others; a refused form comes back open; a move the
user may not take is never opened."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from linli.governance.services import events as svc
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db


def shown_forms(html: str) -> list[str]:
    """Ids of the action and request forms not hidden."""
    return [
        m.group(1)
        for m in re.finditer(r'<form [^>]*id="((?:act|ask)-[a-z_]+)"([^>]*)>', html)
        if " hidden" not in m.group(2)
    ]


def test_one_form_at_a_time(world: Any, gov: Any, client_for: Any) -> None:
    command = world.users["street_command"]
    event, _ = svc.report(world.users["resident"], svc.Report("C0102", *POS["a"]), channel="resident")
    event = svc.act(command, event, "register")
    c = client_for(command)
    url = reverse("governance:event_detail", args=[event.pk])
    html = c.get(url).content.decode()
    links = re.findall(r'data-testid="choose-([a-z_-]+)"', html)
    assert {"dispatch", "void", "note", "urgent", "whistle"} <= set(links)
    assert shown_forms(html) == []
    assert 'href="?move=dispatch#act-dispatch"' in html
    assert shown_forms(c.get(url, {"move": "dispatch"}).content.decode()) == ["act-dispatch"]
    assert shown_forms(c.get(url, {"move": "nonsense"}).content.decode()) == []
    assert shown_forms(c.get(url, {"move": "accept"}).content.decode()) == []  # not this user's move
    # a refused form comes back open with its message
    r = c.post(
        reverse("governance:event_act", args=[event.pk]), {"move": "void", "note": "", "expected_step": event.step}
    )
    assert r.status_code == 400 and shown_forms(r.content.decode()) == ["act-void"]


def test_a_department_chooses_its_requests_too(world: Any, gov: Any, client_for: Any) -> None:
    command = world.users["street_command"]
    event, _ = svc.report(world.users["resident"], svc.Report("C0102", *POS["a"]), channel="resident")
    event = svc.act(gov.cg_staff, svc.act(command, svc.act(command, event, "register"), "dispatch"), "accept")
    c = client_for(gov.cg_staff)
    url = reverse("governance:event_detail", args=[event.pk])
    html = c.get(url).content.decode()
    assert 'data-testid="choose-report"' in html and 'data-testid="choose-ask-extend"' in html
    assert shown_forms(c.get(url, {"move": "ask-extend"}).content.decode()) == ["ask-extend"]
    r = c.post(reverse("governance:event_ask", args=[event.pk]), {"kind": "extend", "hours": "0", "reason": "x"})
    assert r.status_code == 400 and shown_forms(r.content.decode()) == ["ask-extend"]


def test_the_only_move_is_open_at_once(world: Any, gov: Any, client_for: Any) -> None:
    # the reporter of a closed case has one thing to do: evaluate it
    command, resident = world.users["street_command"], world.users["resident"]
    event, _ = svc.report(resident, svc.Report("C0102", *POS["a"]), channel="resident")
    event = svc.act(command, svc.act(command, event, "register"), "dispatch")
    event = svc.act(gov.cg_staff, svc.act(gov.cg_staff, event, "accept"), "report", note="已修")
    event = svc.act(world.users["grid_fulltime"], event, "verify_pass")
    html = client_for(resident).get(reverse("governance:event_detail", args=[event.pk])).content.decode()
    assert shown_forms(html) == ["act-evaluate"]
