"""Every renewal route and every notice route, with every role, inside and outside its scope.

The oracle is written here in plain terms, not from linli.accounts.permissions:
- a project of compound A is seen by the district admin, street-1 command and department staff,
  A's community worker, A's grid roles (the project covers their grid's buildings), A's resident
  (their dwelling is in it) and A's operator; B's project by the district admin, street 1 and the
  outsider (B's community worker);
- running projects and notices (CONSULT) is for the district admin, the street command centre
  and community workers (a part of a project, such as an item or an objection, is judged by its
  project); in the API, objections are listed to those alone;
- outside the scope: 404; inside without the right: 403; anonymous: only the public pages.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.consult.models import Notice, NoticeCorrection, Objection
from linli.renewal.models import Project, ProjectItem, ReportPhoto, SampleFlat, SupervisionReport
from tests.renewal.conftest import png

pytestmark = pytest.mark.django_db

SEES = {
    "a": {
        "district_admin",
        "street_command",
        "department_staff",
        "community_worker",
        "grid_leader",
        "grid_fulltime",
        "grid_parttime",
        "grid_instructor",
        "grid_force",
        "resident",
        "operator",
    },
    "b": {"district_admin", "street_command", "department_staff", "outsider"},
}
RUNS = {
    "a": {"district_admin", "street_command", "community_worker"},
    "b": {"district_admin", "street_command", "outsider"},
}


def expect(role: str, where: str, allowed: set[str], seen: dict[str, set[str]] | None = None, ok: int = 200) -> int:
    seen = seen or SEES
    if role not in seen[where]:
        return 404
    return ok if role in allowed else 403


@pytest.fixture
def setup(world: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, compound, dwelling in (
        ("a", world.compound_a, world.dwelling_a),
        ("b", world.compound_b, world.dwelling_b),
    ):
        p = Project.objects.create(compound=compound, name=f"项目{key}", created_by=world.admin, phase="works")
        item = ProjectItem.objects.create(project=p, item_class="basic", name="外墙", unit_cost=10)
        flat = SampleFlat.objects.create(project=p, dwelling=dwelling)
        rep = SupervisionReport.objects.create(project=p, reporter=world.admin, text="x")
        photo = ReportPhoto(report=rep, width=8, height=6)
        photo.image.save("t.png", png(), save=True)
        notice = Notice.objects.create(
            project=p, kind="plan", title="方案公示", body="正文", starts_on="2000-01-01", published_by=world.admin
        )
        obj = Objection.objects.create(notice=notice, name="王五", text="反对")
        out[key] = {"p": p, "item": item, "flat": flat, "rep": rep, "photo": photo, "notice": notice, "obj": obj}
    return out


def roles(world: Any) -> dict[str, Any]:
    return {**world.users, "outsider": world.outsider}


PAGES_HERE = {
    "renewal:project_list": "any signed-in user: their scoped list",
    "renewal:project_create": "test_create_and_catalogue_pages",
    "renewal:catalogue": "test_create_and_catalogue_pages",
    "renewal:project_detail": "test_page_matrix",
    "renewal:project_phase": "test_page_matrix",
    "renewal:item_add": "test_page_matrix",
    "renewal:item_progress": "test_page_matrix",
    "renewal:item_edit": "test_page_matrix",
    "renewal:sample_flat_add": "test_page_matrix",
    "renewal:open_day_add": "test_page_matrix",
    "renewal:report_add": "test_page_matrix",
    "renewal:report_answer": "test_page_matrix",
    "renewal:photo": "test_page_matrix",
    "renewal:public_project": "test_public_routes",
    "renewal:public_index": "test_public_routes",
    "consult:notice_new": "test_page_matrix",
    "consult:notice_detail": "test_page_matrix",
    "consult:notice_objection_move": "test_page_matrix",
    "consult:notice_correct": "test_page_matrix",
    "consult:notice_public": "test_public_routes",
    "consult:notice_object": "test_public_routes",
    "consult:notice_pdf": "test_public_routes",
}
API_HERE = {
    "project": "test_api_matrix",
    "project-item": "test_api_matrix (GET, PATCH)",
    "supervision-report": "test_api_matrix",
    "catalogue": "test_api_matrix (any signed-in user; the district must be theirs)",
    "notice": "test_api_matrix",
    "objection": "test_api_matrix",
}


def test_page_matrix(world, setup):
    failures = []
    for role, user in roles(world).items():
        c = Client()
        c.force_login(user)
        for key, o in setup.items():
            p = o["p"]
            checks = [
                ("GET", reverse("renewal:project_detail", args=[p.pk]), {}, expect(role, key, SEES[key])),
                ("GET", reverse("renewal:photo", args=[o["photo"].pk]), {}, expect(role, key, SEES[key])),
                # invalid input: a runner gets the bilingual 400, nothing changes
                (
                    "POST",
                    reverse("renewal:project_phase", args=[p.pk]),
                    {"to_phase": ""},
                    expect(role, key, RUNS[key], ok=400),
                ),
                ("POST", reverse("renewal:item_add", args=[p.pk]), {"name": ""}, expect(role, key, RUNS[key], ok=400)),
                (
                    "POST",
                    reverse("renewal:item_progress", args=[o["item"].pk]),
                    {"progress": "x"},
                    expect(role, key, RUNS[key], ok=400),
                ),
                ("GET", reverse("renewal:item_edit", args=[o["item"].pk]), {}, expect(role, key, RUNS[key])),
                (
                    "POST",
                    reverse("renewal:item_edit", args=[o["item"].pk]),
                    {"quantity": "-1", "unit_cost": "x"},
                    expect(role, key, RUNS[key], ok=400),
                ),
                (
                    "POST",
                    reverse("renewal:sample_flat_add", args=[p.pk]),
                    {"dwelling": o["flat"].dwelling_id, "description": "x" * 5000},
                    expect(role, key, RUNS[key], ok=400),
                ),
                (
                    "POST",
                    reverse("renewal:open_day_add", args=[o["flat"].pk]),
                    {},
                    expect(role, key, RUNS[key], ok=400),
                ),
                # anyone who sees the project may report (empty text → 400)
                (
                    "POST",
                    reverse("renewal:report_add", args=[p.pk]),
                    {"text": ""},
                    expect(role, key, SEES[key], ok=400),
                ),
                (
                    "POST",
                    reverse("renewal:report_answer", args=[o["rep"].pk]),
                    {"answer": ""},
                    expect(role, key, RUNS[key], ok=400),
                ),
                ("GET", reverse("consult:notice_new", args=[p.pk]), {}, expect(role, key, RUNS[key])),
                ("GET", reverse("consult:notice_detail", args=[o["notice"].pk]), {}, expect(role, key, SEES[key])),
                (
                    "POST",
                    reverse("consult:notice_objection_move", args=[o["obj"].pk]),
                    {"status": "bogus"},
                    expect(role, key, RUNS[key], ok=400),
                ),
                # a correction without a reason: a runner gets the bilingual 400, nothing is appended
                (
                    "POST",
                    reverse("consult:notice_correct", args=[o["notice"].pk]),
                    {"text": "更正", "reason": "", "confirm": "1"},
                    expect(role, key, RUNS[key], ok=400),
                ),
            ]
            for method, url, data, expected in checks:
                r = c.get(url) if method == "GET" else c.post(url, data)
                if r.status_code != expected:
                    failures.append(f"{role} {method} {url} → {r.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)
    assert not NoticeCorrection.objects.exists()
    assert not ProjectItem.objects.filter(name="").exists()
    assert set(ProjectItem.objects.values_list("quantity", "unit_cost")) == {(1, 10)}
    assert set(Project.objects.values_list("phase", flat=True)) == {"works"}
    assert not SampleFlat.objects.filter(description__startswith="xxx").exists()


def test_create_and_catalogue_pages(world):
    runners = {"district_admin", "street_command", "community_worker", "outsider"}
    catalogue_ok = runners  # the district admin views the district; the others run projects in it
    for role, user in roles(world).items():
        c = Client()
        c.force_login(user)
        assert c.get(reverse("renewal:project_list")).status_code == 200, role
        assert c.get(reverse("renewal:project_create")).status_code == (200 if role in runners else 403), role
        assert c.get(reverse("renewal:catalogue")).status_code == (200 if role in catalogue_ok else 404), role


def test_anonymous_sees_only_public_pages(world, setup):
    c = Client()
    o = setup["a"]
    for url in (
        reverse("renewal:project_list"),
        reverse("renewal:project_create"),
        reverse("renewal:catalogue"),
        reverse("renewal:project_detail", args=[o["p"].pk]),
        reverse("renewal:photo", args=[o["photo"].pk]),
        reverse("renewal:item_edit", args=[o["item"].pk]),
        reverse("consult:notice_detail", args=[o["notice"].pk]),
        reverse("consult:notice_new", args=[o["p"].pk]),
    ):
        r = c.get(url)
        assert r.status_code == 302 and "/accounts/login" in r["Location"], url
    assert c.post(reverse("renewal:report_add", args=[o["p"].pk]), {"text": "x"}).status_code == 302
    assert not SupervisionReport.objects.filter(text="x", project=o["p"]).exclude(pk=o["rep"].pk).exists()


def test_public_routes(world, setup):
    c = Client()
    o = setup["a"]
    assert c.get(reverse("renewal:public_project", args=[o["p"].pk])).status_code == 200
    index = c.get(reverse("renewal:public_index"))
    assert index.status_code == 200 and o["p"].name in index.content.decode()
    assert c.get(reverse("consult:notice_public", args=[o["notice"].pk])).status_code == 200
    assert c.get(reverse("consult:notice_pdf", args=[o["notice"].pk])).status_code == 200
    # the notice period of 2000 has ended: refused with 409
    assert c.post(reverse("consult:notice_object", args=[o["notice"].pk]), {"name": "x"}).status_code == 409
    Project.objects.filter(pk=o["p"].pk).update(is_public=False)
    for url in (
        reverse("renewal:public_project", args=[o["p"].pk]),
        reverse("consult:notice_public", args=[o["notice"].pk]),
        reverse("consult:notice_pdf", args=[o["notice"].pk]),
    ):
        assert c.get(url).status_code == 404, url
    staff = Client()
    staff.force_login(world.users["community_worker"])
    assert staff.get(reverse("consult:notice_pdf", args=[o["notice"].pk])).status_code == 200  # staff still print it
    assert c.post(reverse("consult:notice_object", args=[o["notice"].pk]), {"name": "x"}).status_code == 404


def test_api_matrix(world, setup):
    failures = []
    for role, user in roles(world).items():
        c = Client()
        c.force_login(user)
        for key, o in setup.items():
            rows = [
                (f"/api/v1/projects/{o['p'].pk}/", SEES[key]),
                (f"/api/v1/projects/{o['p'].pk}/items/", SEES[key]),
                (f"/api/v1/project-items/{o['item'].pk}/", SEES[key]),
                (f"/api/v1/supervision-reports/{o['rep'].pk}/", SEES[key]),
                (f"/api/v1/notices/{o['notice'].pk}/", SEES[key]),
                (f"/api/v1/objections/{o['obj'].pk}/", RUNS[key]),
            ]
            for url, allowed in rows:
                expected = 200 if role in allowed else 404
                r = c.get(url)
                if r.status_code != expected:
                    failures.append(f"{role} GET {url} → {r.status_code}, expected {expected}")
            # writes: a runner is refused for bad input (400), a viewer 403, others 404
            r = c.post(
                f"/api/v1/projects/{o['p'].pk}/phase/",
                {"to_phase": "survey", "note": ""},
                content_type="application/json",
            )
            exp = expect(role, key, RUNS[key], ok=400)
            if r.status_code != exp:
                failures.append(f"{role} phase {key} → {r.status_code}, expected {exp}")
            r = c.patch(f"/api/v1/project-items/{o['item'].pk}/", {"quantity": "-1"}, content_type="application/json")
            if r.status_code != exp:
                failures.append(f"{role} item PATCH {key} → {r.status_code}, expected {exp}")
        listed = {row["id"] for row in c.get("/api/v1/projects/?limit=100").json()["results"]}
        for key, o in setup.items():
            if (o["p"].pk in listed) != (role in SEES[key]):
                failures.append(f"{role} list projects {key}")
        if c.get("/api/v1/catalogue/").status_code != 200:
            failures.append(f"{role} catalogue")
    assert not failures, "\n".join(failures)
    assert Client().get("/api/v1/projects/").status_code in (401, 403)
