"""Phone and ID numbers in a notice's free text (its body, corrections) and in objections are masked
on the public pages and for signed-in readers without people's data at the project (department
staff), and shown as typed to the community's staff (issue 9 item 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.consult.services import notices as svc
from linli.renewal.models import Project

pytestmark = pytest.mark.django_db

PHONE, ID = "１３９ １２３４ ５６７８", "110101900307001"
MASKED_PHONE, MASKED_ID = "139****5678", "1101*******7001"


@pytest.fixture
def notice(world: Any, project: Project) -> Any:
    Project.objects.filter(pk=project.pk).update(is_public=True)
    project.refresh_from_db()
    cw = world.users["community_worker"]
    n = svc.publish_notice(cw, project, kind="plan", title="改造方案公示", body=f"有疑问请联系王某 {PHONE}。")
    svc.correct_notice(cw, n, text=f"联系人身份证号误登为 {ID}", reason="更正联系人信息,避免误会")
    svc.raise_objection(n, svc.ObjectionInput("张三", "13800138000", "1栋1-101", f"反对,请回电 {PHONE}"))
    return n


def hidden(html: str) -> bool:
    return MASKED_PHONE in html and PHONE not in html and ID not in html and "５６７８" not in html


def test_public_notice_page_and_project_panel(notice: Any) -> None:
    assert hidden(Client().get(reverse("consult:notice_public", args=[notice.pk])).content.decode())
    html = Client().get(reverse("renewal:public_project", args=[notice.project.pk])).content.decode()
    assert MASKED_PHONE in html and PHONE not in html


def test_signed_in_notice_page(world: Any, notice: Any, client_for: Any) -> None:
    url = reverse("consult:notice_detail", args=[notice.pk])
    assert hidden(client_for(world.users["department_staff"]).get(url).content.decode())
    html = client_for(world.users["community_worker"]).get(url).content.decode()
    assert f"王某 {PHONE}" in html and ID in html and f"请回电 {PHONE}" in html


def test_notices_api(world: Any, notice: Any, client_for: Any) -> None:
    """The API shows a notice's body, snapshot and corrections like the pages do: masked for a
    reader without people's data at the project (the operator of community A), as typed for the
    community's staff."""
    url = f"/api/v1/notices/{notice.pk}/"
    r = client_for(world.users["operator"]).get(url)
    assert r.status_code == 200
    dump = json.dumps(r.json(), ensure_ascii=False)
    assert MASKED_PHONE in dump and PHONE not in dump and ID not in dump and "５６７８" not in dump
    data = client_for(world.users["community_worker"]).get(url).json()
    assert PHONE in data["body"] and ID in data["corrections"][0]["text"]
