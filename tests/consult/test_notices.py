"""Public notices: period, objections (only during it, encrypted contact, flow), PDF, pages."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from linli.consult.models import Notice, Objection
from linli.consult.queries import notices as q
from linli.consult.services import notices as svc
from linli.core import crypto
from linli.core.errors import LinliError

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(world, project):
    return svc.publish_notice(
        world.users["community_worker"],
        project,
        kind="plan",
        title="劳动三村小区改造方案公示",
        body="一、外墙整治。\n二、加装电梯。",
    )


@pytest.mark.dates
def test_default_period_and_settings(world, project, settings):
    n = svc.publish_notice(world.users["community_worker"], project, kind="plan", title="t", body="b")
    assert n.days == 15 and q.ends_on(n) == n.starts_on + timedelta(days=14)
    settings.LINLI_NOTICE_DAYS = 7
    n2 = svc.publish_notice(world.users["community_worker"], project, kind="result", title="t", body="b")
    assert n2.days == 7
    n3 = svc.publish_notice(world.users["community_worker"], project, kind="result", title="t", body="b", days=30)
    assert n3.days == 30


@pytest.mark.dates
def test_publish_refusals(world, project):
    cw = world.users["community_worker"]
    with pytest.raises(LinliError) as e:
        svc.publish_notice(cw, project, kind="x", title="", body="", days=0)
    assert {p.code for p in e.value.problems} == {"bad_kind", "bad_title", "bad_body", "bad_days"}
    with pytest.raises(LinliError):
        svc.publish_notice(cw, project, kind="plan", title="t", body="b", starts_on=svc.today() - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        svc.publish_notice(world.users["grid_leader"], project, kind="plan", title="t", body="b")
    assert not Notice.objects.exists()


@pytest.mark.dates
def test_objection_only_during_the_period(notice):
    data = svc.ObjectionInput("王五", "13912345678", "1栋2单元301", "不同意方案")
    before, last, after = (
        notice.starts_on - timedelta(days=1),
        q.ends_on(notice),
        q.ends_on(notice) + timedelta(days=1),
    )
    for day in (before, after):
        with pytest.raises(LinliError) as e:
            svc.raise_objection(notice, data, on=day)
        assert e.value.status == 409 and "公示期" in e.value.problems[0].zh and "period" in e.value.problems[0].en
    o = svc.raise_objection(notice, data, on=last)
    assert o.contact_masked == "139****5678" and "13912345678" not in o.contact_enc
    assert crypto.decrypt(o.contact_enc) == "13912345678"
    assert Objection.objects.count() == 1


def test_objection_sizes_and_rate(notice, settings):
    with pytest.raises(LinliError) as e:
        svc.raise_objection(notice, svc.ObjectionInput("", "", "x" * 101, "y" * 2001))
    assert {p.code for p in e.value.problems} == {"bad_name", "bad_contact", "bad_dwelling", "bad_text"}
    settings.LINLI_OBJECTION_RATE_PER_HOUR = 2
    from django.core.cache import cache

    cache.clear()
    data = svc.ObjectionInput("a", "1", "", "t")
    svc.raise_objection(notice, data, client_ip="10.0.0.9")
    svc.raise_objection(notice, data, client_ip="10.0.0.9")
    with pytest.raises(LinliError) as e:
        svc.raise_objection(notice, data, client_ip="10.0.0.9")
    assert e.value.status == 429
    assert Objection.objects.count() == 2


def test_objection_flow(world, notice):
    o = svc.raise_objection(notice, svc.ObjectionInput("王五", "13912345678", "", "不同意"))
    cw = world.users["community_worker"]
    with pytest.raises(PermissionDenied):
        svc.move_objection(world.users["operator"], o, "negotiating")
    svc.move_objection(cw, o, "negotiating", "已约谈")
    with pytest.raises(LinliError):
        svc.move_objection(cw, o, "received")
    with pytest.raises(LinliError) as e:
        svc.move_objection(cw, o, "closed")
    assert e.value.problems[0].code == "response_required"
    svc.move_objection(cw, o, "mediation", "街道调解")
    svc.move_objection(cw, o, "closed", "调解达成一致")
    o.refresh_from_db()
    assert o.status == "closed" and "已约谈" in o.response and "调解达成一致" in o.response
    with pytest.raises(LinliError):
        svc.move_objection(cw, o, "closed", "again")
    # every step is on the record, in order, with who and what was said; refused moves left none
    steps = list(o.changes.values_list("from_status", "to_status", "response", "by"))
    assert steps == [
        ("received", "negotiating", "已约谈", cw.pk),
        ("negotiating", "mediation", "街道调解", cw.pk),
        ("mediation", "closed", "调解达成一致", cw.pk),
    ]


def test_public_objection_form_with_csrf(world, notice):
    c = Client(enforce_csrf_checks=True)
    page = c.get(reverse("renewal:public_project", args=[notice.project_id]))
    token = page.cookies["csrftoken"].value
    url = reverse("consult:notice_object", args=[notice.pk])
    assert c.post(url, {"name": "王五", "contact": "13912345678", "text": "反对"}).status_code == 403  # no token
    r = c.post(url, {"name": "王五", "contact": "13912345678", "text": "反对", "csrfmiddlewaretoken": token})
    assert r.status_code == 302
    r = c.post(url, {"name": "", "contact": "", "text": "", "csrfmiddlewaretoken": token})
    assert r.status_code == 400 and "请填写姓名" in r.content.decode()
    assert Objection.objects.count() == 1
    staff = Client()
    staff.force_login(world.users["community_worker"])
    html = staff.get(reverse("consult:notice_detail", args=[notice.pk])).content.decode()
    assert "139****5678" in html and "13912345678" not in html


def test_pdf_is_a_pdf_with_the_chinese_title(notice, tmp_path):
    r = Client().get(reverse("consult:notice_pdf", args=[notice.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and b"STSong-Light" in r.content and b"/A4" not in r.content[:0]
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed: text extraction not checked")
    path = tmp_path / "n.pdf"
    path.write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    compact = "".join(text.split())
    assert "劳动三村小区改造方案公示" in compact
    assert "加装电梯" in compact and "公示期" in compact and "劳动三村社区居民委员会" in compact


def test_api(world, project, notice):
    c = Client()
    c.force_login(world.users["community_worker"])
    r = c.post(
        "/api/v1/notices/",
        {"project": project.pk, "kind": "result", "title": "结果公示", "body": "通过", "days": 10},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["days"] == 10 and r.json()["state"] == "running"
    o = svc.raise_objection(notice, svc.ObjectionInput("王五", "13912345678", "", "不同意"))
    r = c.get(f"/api/v1/objections/?notice={notice.pk}")
    assert [x["contact_masked"] for x in r.json()["results"]] == ["139****5678"]
    r = c.post(f"/api/v1/objections/{o.pk}/move/", {"status": "closed"}, content_type="application/json")
    assert r.status_code == 400
    r = c.post(
        f"/api/v1/objections/{o.pk}/move/", {"status": "closed", "response": "已答复"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    g = Client()
    g.force_login(world.users["grid_leader"])
    assert g.get(f"/api/v1/notices/{notice.pk}/").status_code == 200
    assert g.get(f"/api/v1/objections/{o.pk}/").status_code == 404
