"""Project pages: the staff page shows everything to runners; the public page no personal data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.consult.services import notices as consult_notices
from linli.places.models import Building
from linli.renewal import services as svc
from linli.renewal.models import Phase, Project, SupervisionReport
from tests.renewal.conftest import at_phase, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(world, project):
    cw = world.users["community_worker"]
    svc.add_item(cw, project, code="basic.external_walls", quantity=1000)
    svc.add_item(cw, project, code="enhance.meal_assistance", quantity=1)
    flat = svc.add_sample_flat(cw, project, world.dwelling_a, "厨卫改造样板间")
    now = timezone.now()
    svc.add_open_day(cw, flat, now + timedelta(days=1), now + timedelta(days=1, hours=3))
    at_phase(project, Phase.WORKS)
    for it in project.items.all():
        svc.report_progress(cw, it, 50)
    svc.submit_report(world.users["resident"], project, "张三家门口脚手架松动", photos=[png()])
    consult_notices.publish_notice(cw, project, kind="plan", title="劳动三村改造方案公示", body="改造内容:外墙、助餐。")
    consult_notices.raise_objection(
        project.notices.get(), consult_notices.ObjectionInput("张三", "13800138000", "1栋1-101", "反对加装电梯")
    )
    Building.objects.filter(pk=world.building_a.pk).update(is_historic=True)
    return project


def test_public_page_has_no_personal_data(world, full):
    r = Client().get(reverse("renewal:public_project", args=[full.pk]))
    assert r.status_code == 200
    html = r.content.decode()
    assert "劳动三村小区" in html and "外墙立面整治" in html and "50.0 %" in html
    assert "劳动三村改造方案公示" in html and reverse("consult:notice_pdf", args=[full.notices.get().pk]) in html
    assert 'name="contact"' in html  # the objection form while the period runs
    assert 'data-testid="historic-warning"' in html
    forbidden = [
        world.owner_a.name,
        world.owner_b.name,
        "110101199003070011",
        "0011",
        "13800138000",
        "138****8000",
        "脚手架松动",  # supervision reports are not public (their authors are residents)
        "反对加装电梯",  # nor are objections
    ]
    for text in forbidden:
        assert text not in html, text
    # dwelling numbers: only the sample flat's
    assert "1-101" in html  # the sample flat (dwelling_a is unit 1, number 101)
    assert "1-102" not in html


def test_staff_page_shows_items_progress_reports_and_panels(world, full):
    c = Client()
    c.force_login(world.users["community_worker"])
    html = c.get(reverse("renewal:project_detail", args=[full.pk])).content.decode()
    for text in (
        "外墙立面整治",
        "50.0 %",
        "脚手架松动",
        "progress-chart",
        "劳动三村改造方案公示",
        'aria-current="step"',
    ):
        assert text in html, text
    photo = SupervisionReport.objects.get().photos.get()
    r = c.get(reverse("renewal:photo", args=[photo.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content)[:4] == b"\x89PNG"


def test_phase_form_and_refusal_shown(world, project):
    c = Client()
    c.force_login(world.users["community_worker"])
    r = c.post(reverse("renewal:project_phase", args=[project.pk]), {"to_phase": "works"})
    assert r.status_code == 400 and "逐步推进" in r.content.decode()
    r = c.post(reverse("renewal:project_phase", args=[project.pk]), {"to_phase": "plan"})
    assert r.status_code == 302
    project.refresh_from_db()
    assert project.phase == "plan"


def test_create_form(world):
    c = Client()
    c.force_login(world.users["community_worker"])
    assert c.get(reverse("renewal:project_create")).status_code == 200
    r = c.post(
        reverse("renewal:project_create"),
        {"compound": world.compound_a.pk, "name": "新项目", "buildings": [world.building_a.pk], "is_public": "on"},
    )
    assert r.status_code == 302
    p = Project.objects.get(name="新项目")
    assert list(p.buildings.all()) == [world.building_a]
    r = c.post(reverse("renewal:project_create"), {"compound": world.compound_b.pk, "name": "越权"})
    assert r.status_code == 404 and not Project.objects.filter(name="越权").exists()
    r = c.post(
        reverse("renewal:project_create"),
        {"compound": world.compound_a.pk, "name": "错楼", "buildings": [world.building_b.pk]},
    )
    assert r.status_code == 400 and not Project.objects.filter(name="错楼").exists()


def test_report_upload_through_the_page_and_api(world, project):
    at_phase(project, Phase.WORKS)
    c = Client()
    c.force_login(world.users["grid_fulltime"])
    r = c.post(
        reverse("renewal:report_add", args=[project.pk]), {"text": "路面开裂", "photos": [png()], "client_key": "k1"}
    )
    assert r.status_code == 302
    r = c.post(
        reverse("renewal:report_add", args=[project.pk]), {"text": "路面开裂", "photos": [png()], "client_key": "k1"}
    )
    assert r.status_code == 302 and SupervisionReport.objects.count() == 1
    r = c.post(
        "/api/v1/supervision-reports/", {"project": project.pk, "text": "api", "photos": [png()], "client_key": "k2"}
    )
    assert r.status_code == 201 and r.json()["photos"][0]["width"] == 8
    r = c.post("/api/v1/supervision-reports/", {"project": project.pk, "text": "api", "client_key": "k2"})
    assert r.status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    r = c.post("/api/v1/supervision-reports/", {"project": project.pk, "text": "bad", "photos": [bad]})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "not_an_image"
    out = Client()
    out.force_login(world.outsider)
    r = out.post("/api/v1/supervision-reports/", {"project": project.pk, "text": "x", "photos": [png()]})
    assert r.status_code == 404
    assert SupervisionReport.objects.count() == 2


def test_api_create_and_items(world):
    c = Client()
    c.force_login(world.users["community_worker"])
    r = c.post(
        "/api/v1/projects/", {"compound": world.compound_a.pk, "name": "API 项目"}, content_type="application/json"
    )
    assert r.status_code == 201
    pid = r.json()["id"]
    r = c.post(
        f"/api/v1/projects/{pid}/items/", {"code": "basic.roof", "quantity": "10"}, content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["estimate"] == "1800.00"
    r = c.post(f"/api/v1/projects/{pid}/phase/", {"to_phase": "ballot"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "skip_phase"
    r = c.get(f"/api/v1/projects/{pid}/")
    assert r.json()["estimate_total"] == "1800.00" and r.json()["progress"] == "0.0"
    young = Client()
    young.force_login(world.users["district_admin"])
    r = young.post("/api/v1/projects/", {"compound": world.compound_c.pk, "name": "x"}, content_type="application/json")
    assert r.status_code == 201  # 1995: eligible
