"""The admin of grid events: changelists open for the superuser; events, history and requests are
read-only; categories and routing rules are checked before they are saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from linli.governance.admin import RoutingRuleForm, attribute_problems
from linli.governance.models import Category, Event, EventLog, EventRequest, RoutingRule
from linli.governance.services import events as svc
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db

MODELS = ("category", "routingrule", "event", "eventlog", "eventrequest")


def _case(world: Any, gov: Any) -> Event:
    command = world.users["street_command"]
    event, _ = svc.report(
        world.users["resident"], svc.Report("C0102", *POS["a"], reporter_phone="13812345678"), channel="resident"
    )
    event = svc.act(command, svc.act(command, event, "register"), "dispatch")
    svc.ask(gov.cg_staff, event, "extend", "等配件", hours=24)
    RoutingRule.objects.create(category=Category.objects.get(code="E0201"), path=world.comm_a.path, department=gov.cg)
    return event


def test_changelists_open_for_the_superuser(world: Any, gov: Any, client_for: Any) -> None:
    event = _case(world, gov)
    c = client_for(world.admin)
    for name in MODELS:
        r = c.get(reverse(f"admin:governance_{name}_changelist"))
        assert r.status_code == 200, name
    r = c.get(reverse("admin:governance_event_change", args=[event.pk]))
    assert r.status_code == 200
    assert event.reporter_phone_enc not in r.content.decode()
    assert c.get(reverse("admin:governance_category_change", args=[Category.objects.first().pk])).status_code == 200


def test_events_history_and_requests_are_read_only(world: Any, gov: Any, client_for: Any) -> None:
    event = _case(world, gov)
    c = client_for(world.admin)
    for name in ("event", "eventlog", "eventrequest"):
        assert c.get(reverse(f"admin:governance_{name}_add")).status_code == 403, name
    log = EventLog.objects.filter(event=event).first()
    req = EventRequest.objects.get()
    for name, pk in (("event", event.pk), ("eventlog", log.pk), ("eventrequest", req.pk)):
        assert c.get(reverse(f"admin:governance_{name}_delete", args=[pk])).status_code == 403, name
        # a POST to the change page does not change anything
        c.post(reverse(f"admin:governance_{name}_change", args=[pk]), {"step": "closed", "decision": "approved"})
    event.refresh_from_db()
    assert event.step == "dispatched" and EventRequest.objects.get().decision == "pending"
    assert EventLog.objects.filter(event=event).count() == 3


def test_category_limits_and_attributes_checked(world: Any, gov: Any, client_for: Any) -> None:
    c = client_for(world.admin)
    cat = Category.objects.get(code="C0102")
    url = reverse("admin:governance_category_change", args=[cat.pk])
    base = {
        "code": cat.code,
        "name": cat.name,
        "name_en": cat.name_en,
        "kind": cat.kind,
        "sector": cat.sector,
        "owner": cat.owner_id,
        "keywords": "",
        "description": "",
        "active": "on",
        "order": 1,
        "attributes": "[]",
    }
    r = c.post(url, {**base, "limits": '{"handle": -3}'})
    assert r.status_code == 200 and "Invalid time limits" in r.content.decode()
    r = c.post(url, {**base, "limits": "{}", "attributes": '[{"code": "x"}]'})
    assert r.status_code == 200 and "Invalid attributes" in r.content.decode()
    cat.refresh_from_db()
    assert cat.limits == {"handle": 72}
    r = c.post(url, {**base, "limits": '{"handle": 36}'})
    assert r.status_code == 302
    cat.refresh_from_db()
    assert cat.limits == {"handle": 36}
    assert c.get(reverse("admin:governance_category_delete", args=[cat.pk])).status_code == 403


def test_attribute_definitions_of_the_default_catalogue_are_valid(world: Any, gov: Any) -> None:
    for cat in Category.objects.all():
        assert attribute_problems(cat.attributes) == [], cat.code
    assert attribute_problems("x") == ["attributes must be a list"]
    assert len(attribute_problems([{"code": "a", "zh": "甲", "en": "A", "datatype": "singlevaluelist"}])) == 1


def test_routing_rule_form(world: Any, gov: Any) -> None:
    rubbish = Category.objects.get(code="E0201")
    loc2 = svc.locality_for(world.street2)[0]

    def form(user: Any, path: str, dept: Any) -> RoutingRuleForm:
        f = RoutingRuleForm({"category": rubbish.pk, "path": path, "department": dept.pk, "note": ""})
        f.user = user
        return f

    ok = form(world.admin, world.comm_a.path.rstrip("/"), gov.cg)
    assert ok.is_valid(), ok.errors
    assert ok.cleaned_data["path"] == world.comm_a.path
    assert "path" in form(world.admin, "500107/999/", gov.cg).errors  # no such place
    assert "department" in form(world.admin, world.comm_a.path, loc2).errors  # street 2's office
    # a community worker of A edits rules in A only
    worker = world.users["community_worker"]
    assert form(worker, world.comm_a.path, gov.cg).is_valid()
    assert "path" in form(worker, world.comm_b.path, gov.cg).errors
