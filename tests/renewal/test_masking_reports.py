"""Phone and ID numbers typed into supervision reports and other free text of a project are masked
for whoever may not see people's data at the project (department staff, market operators, the
public page) and shown as typed to the community's staff (issue 9 item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.renewal import services as svc
from linli.renewal.models import Phase, Project
from tests.renewal.conftest import at_phase

pytestmark = pytest.mark.django_db

PHONE, ID = "+86 139 1234 5678", "11010519491231002x"
MASKED_PHONE, MASKED_ID = "139****5678", "1101**********002X"


@pytest.fixture
def works(world: Any, project: Project) -> Project:
    cw = world.users["community_worker"]
    Project.objects.filter(pk=project.pk).update(summary=f"项目联系人电话 {PHONE}", is_public=True)
    svc.add_sample_flat(cw, project, world.dwelling_a, f"样板间钥匙找王师傅 {PHONE}")
    at_phase(project, Phase.WORKS)
    report, _ = svc.submit_report(world.users["resident"], project, f"脚手架松动,我的电话 {PHONE},身份证 {ID}")
    svc.answer_report(cw, report, f"已联系施工方,回电 {PHONE}", resolve=False)
    project.refresh_from_db()
    return project


def test_project_page(world: Any, works: Project, client_for: Any) -> None:
    url = reverse("renewal:project_detail", args=[works.pk])
    for role in ("department_staff", "operator"):
        html = client_for(world.users[role]).get(url).content.decode()
        assert MASKED_PHONE in html and MASKED_ID in html, role
        assert "1234 5678" not in html and "19491231" not in html, role
    html = client_for(world.users["community_worker"]).get(url).content.decode()
    assert f"我的电话 {PHONE}" in html and ID in html and f"回电 {PHONE}" in html


def test_public_page(works: Project) -> None:
    html = Client().get(reverse("renewal:public_project", args=[works.pk])).content.decode()
    assert MASKED_PHONE in html and "1234 5678" not in html


def test_api(world: Any, works: Project, client_for: Any) -> None:
    url = f"/api/v1/supervision-reports/?project={works.pk}"
    [row] = client_for(world.users["department_staff"]).get(url).json()["results"]
    assert MASKED_PHONE in row["text"] and MASKED_ID in row["text"] and MASKED_PHONE in row["answer"]
    assert "1234 5678" not in row["text"] + row["answer"]
    [row] = client_for(world.users["community_worker"]).get(url).json()["results"]
    assert PHONE in row["text"] and ID in row["text"]
