"""Editing a project item's estimate (quantity, unit cost, weight) — service, staff page and API —
and the public index of public projects /renewal/p/."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse

from linli.core.errors import LinliError
from linli.renewal import services
from linli.renewal.models import Project, ProjectItem
from tests.renewal.conftest import at_phase

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(project: Project) -> ProjectItem:
    return ProjectItem.objects.create(
        project=project, item_class="basic", name="外墙", quantity=Decimal("100"), unit="m²", unit_cost=Decimal("80")
    )


def _state(item: ProjectItem) -> tuple[Any, ...]:
    item.refresh_from_db()
    return (item.quantity, item.unit_cost, item.weight)


# --- service --------------------------------------------------------------------------------------


def test_update_item_changes_values_and_weight_back_to_cost_share(world, item):
    staff = world.users["community_worker"]
    services.update_item(staff, item, quantity="120.5", unit_cost="75", weight="40")
    assert _state(item) == (Decimal("120.50"), Decimal("75.00"), Decimal("40.00"))
    assert item.estimate == Decimal("9037.50")
    services.update_item(staff, item, weight=None)  # back to its share of the cost
    assert _state(item) == (Decimal("120.50"), Decimal("75.00"), None)
    services.update_item(staff, item, unit_cost="0")  # keeps quantity and weight
    assert _state(item) == (Decimal("120.50"), Decimal("0.00"), None)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"quantity": "-1"}, "negative"),
        ({"quantity": "abc"}, "not_a_number"),
        ({"unit_cost": "1.234"}, "bad_amount"),
        ({"unit_cost": "1e13"}, "bad_amount"),
        ({"unit_cost": "NaN"}, "negative"),
        ({"weight": "-5"}, "negative"),
        ({"quantity": ""}, "required"),
    ],
)
def test_update_item_refuses_bad_numbers_bilingually(world, item, kwargs, code):
    before = _state(item)
    with pytest.raises(LinliError) as exc:
        services.update_item(world.users["community_worker"], item, **kwargs)
    p = exc.value.problems[0]
    assert p.code == code and p.zh and p.en and p.zh != p.en
    assert exc.value.status == 400
    assert _state(item) == before


def test_update_item_reports_every_bad_field_and_writes_nothing(world, item):
    before = _state(item)
    with pytest.raises(LinliError) as exc:
        services.update_item(world.users["community_worker"], item, quantity="-1", unit_cost="x", weight="1.001")
    assert [p.column for p in exc.value.problems] == ["quantity", "unit_cost", "weight"]
    assert _state(item) == before


@pytest.mark.parametrize("phase", ["survey", "plan", "ballot", "notice", "works"])
def test_update_item_allowed_until_works(world, item, phase):
    at_phase(item.project, phase)
    services.update_item(world.users["community_worker"], item, quantity="3")
    assert _state(item)[0] == Decimal("3.00")


@pytest.mark.parametrize("phase", ["acceptance", "operation"])
def test_update_item_refused_from_acceptance_on(world, item, phase):
    at_phase(item.project, phase)
    item.refresh_from_db()
    before = _state(item)
    with pytest.raises(LinliError) as exc:
        services.update_item(world.users["community_worker"], item, quantity="3")
    assert exc.value.status == 409 and exc.value.problems[0].code == "estimate_locked"
    p = exc.value.problems[0]
    names = {"acceptance": ("「验收」", "“acceptance”"), "operation": ("「运营」", "“operation”")}[phase]
    assert names[0] in p.zh and names[1] in p.en  # each half names the phase in its own language
    assert _state(item) == before


def test_going_back_to_works_opens_the_estimates_again(world, item):
    staff = world.users["community_worker"]
    at_phase(item.project, "acceptance")
    services.change_phase(staff, item.project, "works", "结算发现外墙面积有误")
    services.update_item(staff, item, quantity="110")
    assert _state(item)[0] == Decimal("110.00")


def test_update_item_permissions(world, item):
    with pytest.raises(PermissionDenied):  # sees the project, may not run it
        services.update_item(world.users["grid_fulltime"], item, quantity="1")
    with pytest.raises(Http404):
        services.update_item(world.outsider, item, quantity="1")
    assert _state(item)[0] == Decimal("100.00")


# --- page -----------------------------------------------------------------------------------------


def test_item_edit_page_saves_and_shows_errors(world, item, client_for):
    c = client_for(world.users["community_worker"])
    url = reverse("renewal:item_edit", args=[item.pk])
    r = c.get(url)
    assert r.status_code == 200 and 'name="quantity"' in r.content.decode()
    detail = c.get(reverse("renewal:project_detail", args=[item.project_id])).content.decode()
    assert url in detail  # linked from the project page
    r = c.post(url, {"quantity": "-2", "unit_cost": "80", "weight": ""})
    assert r.status_code == 400 and "数量不能为负数" in r.content.decode()
    assert _state(item) == (Decimal("100.00"), Decimal("80.00"), None)
    r = c.post(url, {"quantity": "50", "unit_cost": "90.5", "weight": "25"})
    assert r.status_code == 302 and r["Location"].endswith("#items-h")
    assert _state(item) == (Decimal("50.00"), Decimal("90.50"), Decimal("25.00"))
    c.post(url, {"quantity": "50", "unit_cost": "90.5", "weight": ""})
    assert _state(item)[2] is None


def test_item_edit_page_in_english(world, item, client_for):
    c = client_for(world.users["community_worker"])
    c.cookies["django_language"] = "en"
    r = c.post(reverse("renewal:item_edit", args=[item.pk]), {"quantity": "1", "unit_cost": "abc"})
    assert r.status_code == 400 and "The unit cost must be a number." in r.content.decode()


def test_item_edit_page_locked_from_acceptance(world, item, client_for):
    at_phase(item.project, "acceptance")
    c = client_for(world.users["community_worker"])
    url = reverse("renewal:item_edit", args=[item.pk])
    r = c.get(url)
    assert r.status_code == 200 and 'data-testid="item-locked"' in r.content.decode()
    assert 'name="quantity"' not in r.content.decode()
    assert c.post(url, {"quantity": "1", "unit_cost": "1"}).status_code == 409
    assert _state(item)[0] == Decimal("100.00")


# --- API ------------------------------------------------------------------------------------------


def test_api_patch_item(world, item, client_for):
    c = client_for(world.users["community_worker"])
    url = f"/api/v1/project-items/{item.pk}/"
    r = c.patch(url, {"quantity": 12.5, "weight": "30"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["quantity"] == "12.50" and r.json()["weight"] == "30.00" and r.json()["estimate"] == "1000.00"
    r = c.patch(url, {"weight": None}, content_type="application/json")
    assert r.status_code == 200 and r.json()["weight"] is None
    r = c.patch(url, {"unit_cost": "-3", "quantity": True}, content_type="application/json")
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert {(e["code"], e.get("column")) for e in errors} == {("negative", "unit_cost"), ("required", "quantity")}
    assert all(e["zh"] and e["en"] for e in errors)
    assert _state(item)[:2] == (Decimal("12.50"), Decimal("80.00"))
    at_phase(item.project, "operation")
    r = c.patch(url, {"quantity": "1"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "estimate_locked"
    assert (
        client_for(world.users["grid_leader"])
        .patch(url, {"quantity": "1"}, content_type="application/json")
        .status_code
        == 403
    )
    assert client_for(world.outsider).patch(url, {"quantity": "1"}, content_type="application/json").status_code == 404
    assert Client().patch(url, {"quantity": "1"}, content_type="application/json").status_code in (401, 403)


# --- public index ---------------------------------------------------------------------------------


def test_public_index_lists_public_projects_and_filters(world, project):
    hidden = Project.objects.create(
        compound=world.compound_a, name="不公开的项目", created_by=world.admin, is_public=False
    )
    b = Project.objects.create(compound=world.compound_b, name="民主村项目", created_by=world.admin)
    cproj = Project.objects.create(compound=world.compound_c, name="西郊项目", created_by=world.admin)
    ProjectItem.objects.create(project=b, item_class="basic", name="屋面", unit_cost=10, progress=40)
    Project.objects.filter(pk=b.pk).update(phase="works")
    c = Client()
    url = reverse("renewal:public_index")
    html = c.get(url).content.decode()
    for p in (project, b, cproj):
        assert p.name in html and reverse("renewal:public_project", args=[p.pk]) in html
    assert hidden.name not in html
    assert "40.0 %" in html
    # no personal data: owners' names, IDs, phones, user names
    for secret in (
        "张三",
        "李四",
        "110101199003",
        "13800138000",
        "13900139000",
        "community_worker",
        world.admin.username,
    ):
        assert secret not in html, secret
    # nor masked forms of them (a bare "138" would also match ids such as value="1380" on PostgreSQL)
    assert not re.search(r"1[3-9]\d\*{4}\d{4}|\d{4}\*{10}\d{3}[\dX]", html)
    html = c.get(url, {"street": world.street2.pk}).content.decode()
    assert cproj.name in html and project.name not in html and b.name not in html
    html = c.get(url, {"community": world.comm_b.pk}).content.decode()
    assert b.name in html and project.name not in html and cproj.name not in html
    html = c.get(url, {"district": world.district.pk, "street": "bogus"}).content.decode()
    assert all(p.name in html for p in (project, b, cproj))
    # an unknown id narrows nothing and reveals nothing
    assert c.get(url, {"community": 999999}).status_code == 200


def test_public_index_is_linked_for_anonymous_visitors(world, project):
    c = Client()
    login = c.get(reverse("accounts:login")).content.decode()
    assert reverse("renewal:public_index") in login
    public = c.get(reverse("renewal:public_project", args=[project.pk])).content.decode()
    assert reverse("renewal:public_index") in public
