"""Visit pages and reads: the phone page per role, the consensus pages, the support series (with
hypothesis), query-count bounds, the API, the matrix of routes × roles, and the panel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.accounts.models import AccessLog
from linli.consult import consensus
from linli.consult.models import Attitude, Visit
from linli.consult.panels.visits import panel
from linli.consult.queries import visits as q
from linli.consult.services.visits import log_visit
from linli.places import models as m
from linli.renewal.models import Project
from tests.accounts.test_permission_matrix import roles, visible, where

pytestmark = pytest.mark.django_db


def backdate(project: Project, days: int) -> None:
    Project.objects.filter(pk=project.pk).update(created_at=timezone.now() - dt.timedelta(days=days))
    project.refresh_from_db()


def key_of(html: str) -> str:
    found = re.search(r'name="client_key" value="([0-9a-f]+)"', html)
    assert found, "no client_key in the form"
    return found.group(1)


# --- the phone page ---------------------------------------------------------------------------


def test_grid_worker_logs_a_visit_from_the_phone_page(world, project, client_for):
    c = client_for(world.users["grid_fulltime"])
    url = reverse("consult:visit_new", args=[project.pk])
    # one building, so the picker starts at its units
    r = c.get(url)
    assert r.status_code == 200 and "1单元" in r.content.decode()
    r = c.get(f"{url}?unit={world.dwelling_a.unit_id}")
    assert f"?dwelling={world.dwelling_a.pk}" in r.content.decode()
    r = c.get(f"{url}?dwelling={world.dwelling_a.pk}")
    html = r.content.decode()
    assert r.status_code == 200 and 'value="support"' in html and 'value="cost"' in html
    key = key_of(html)
    form = {"dwelling": world.dwelling_a.pk, "attitude": "undecided", "reasons": ["cost", "noise"], "client_key": key}
    r = c.post(f"{url}?dwelling={world.dwelling_a.pk}", form)
    assert r.status_code == 303
    visit = Visit.objects.get()
    assert visit.attitude == "undecided" and visit.reasons == ["cost", "noise"] and visit.client_key == key
    r = c.get(r["Location"])
    html = r.content.decode()
    assert 'data-testid="visit-done"' in html and world.dwelling_a.number in html
    assert 'data-testid="next-dwelling"' in html
    # a double tap (same key) returns the same visit, no duplicate
    r = c.post(f"{url}?dwelling={world.dwelling_a.pk}", form)
    assert r.status_code == 303 and Visit.objects.count() == 1


def test_phone_page_shows_errors_and_keeps_the_key(world, project, client_for):
    c = client_for(world.users["grid_fulltime"])
    url = reverse("consult:visit_new", args=[project.pk]) + f"?dwelling={world.dwelling_a.pk}"
    r = c.post(url, {"dwelling": world.dwelling_a.pk, "attitude": "", "client_key": "abc123"})
    assert r.status_code == 400 and 'value="abc123"' in r.content.decode()
    assert not Visit.objects.exists()


def test_grid_worker_cannot_log_on_building_b(world, project, client_for):
    c = client_for(world.users["grid_fulltime"])
    url = reverse("consult:visit_new", args=[project.pk])
    assert c.get(f"{url}?dwelling={world.dwelling_b.pk}").status_code == 404
    r = c.post(f"{url}?dwelling={world.dwelling_b.pk}", {"attitude": "support", "dwelling": world.dwelling_b.pk})
    assert r.status_code == 404
    other = Project.objects.create(compound=world.compound_b, name="民主村改造", created_by=world.admin)
    assert c.get(reverse("consult:visit_new", args=[other.pk])).status_code == 404
    assert not Visit.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("grid_force", 403), ("resident", 403), ("operator", 403)])
def test_roles_without_visit_cannot_open_the_phone_page(world, project, client_for, role, status):
    c = client_for(world.users[role])
    url = reverse("consult:visit_new", args=[project.pk])
    assert c.get(url).status_code == status
    r = c.post(f"{url}?dwelling={world.dwelling_a.pk}", {"attitude": "support", "dwelling": world.dwelling_a.pk})
    assert r.status_code in (403, 404)
    assert not Visit.objects.exists()


def test_outsider_gets_404(world, project, client_for):
    c = client_for(world.outsider)
    assert c.get(reverse("consult:visit_new", args=[project.pk])).status_code == 404
    assert c.get(reverse("consult:visit_project", args=[project.pk])).status_code == 404


# --- reads ----------------------------------------------------------------------------------------


@pytest.mark.dates
def test_latest_visit_is_the_attitude_and_series_runs_day_by_day(world, project):
    backdate(project, 10)
    user = world.users["community_worker"]
    d1, d2 = list(world.building_a.dwellings.order_by("id"))[:2]
    now = timezone.now()
    log_visit(user, project, d1, attitude="oppose", visited_at=now - dt.timedelta(days=5))
    log_visit(user, project, d1, attitude="undecided", visited_at=now - dt.timedelta(days=3))
    log_visit(user, project, d2, attitude="support", visited_at=now - dt.timedelta(days=3))
    log_visit(user, project, d1, attitude="support", visited_at=now - dt.timedelta(days=1))
    data = q.building_consensus(project, world.building_a)
    states = {s.id: s for s in data.states}
    assert states[d1.pk].attitude == "support" and states[d1.pk].visits == 3
    con = data.consensus
    assert (con.dwellings, con.support, con.oppose, con.visits) == (24, 2, 0, 4)
    assert con.support_pct == consensus.pct(2, 24) and con.support_pct_visited == 100
    assert len(con.series) == 6  # from the first visit's day to today
    assert [p.support for p in con.series] == [0, 0, 1, 1, 2, 2]
    assert [p.oppose for p in con.series] == [1, 1, 0, 0, 0, 0]
    assert con.series[-1].support_pct == con.support_pct
    stale = data.stale(2)
    assert d1.pk not in {s.id for s in stale} and d2.pk in {s.id for s in stale}
    assert stale[0].last_visit is None  # never visited first


ATT = st.sampled_from(list(Attitude.values))


@pytest.mark.dates
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 23), st.integers(0, 40 * 24), ATT), min_size=1, max_size=60))
def test_last_day_of_the_series_equals_the_latest_visits(world, project, visits):
    Visit.objects.all().delete()
    backdate(project, 45)
    dwellings = list(world.building_a.dwellings.order_by("id"))
    user = world.users["community_worker"]
    now = timezone.now()
    objs = [
        Visit(
            project=project,
            dwelling=dwellings[i],
            visitor=user,
            visited_at=now - dt.timedelta(hours=h),
            attitude=a,
        )
        for i, h, a in visits
    ]
    Visit.objects.bulk_create(objs)
    data = q.building_consensus(project, world.building_a)
    latest: dict[int, str] = {}
    for v in Visit.objects.filter(project=project).order_by("visited_at", "id"):
        latest[v.dwelling_id] = v.attitude
    support = sum(1 for a in latest.values() if a == "support")
    assert data.consensus.support == support
    assert data.consensus.series[-1].support_pct == consensus.pct(support, len(dwellings))
    assert all(0 <= p.support_pct <= 100 for p in data.consensus.series)
    days = [p.day for p in data.consensus.series]
    assert days == sorted(days) and len(set(days)) == len(days)
    assert days[-1] == timezone.localdate()


def test_building_page_per_role(world, project, client_for):
    backdate(project, 3)
    log_visit(world.users["grid_fulltime"], project, world.dwelling_a, attitude="oppose", reasons=["distrust"])
    url = reverse("consult:visit_building", args=[project.pk, world.building_a.pk])
    r = client_for(world.users["grid_fulltime"]).get(url + "?days=7")
    html = r.content.decode()
    assert r.status_code == 200
    assert "不信任" in html and 'data-testid="watch-table"' in html
    assert "张*" in html and "张三" not in html  # owners masked (VIEW_PEOPLE), never in clear
    assert AccessLog.objects.filter(what="view_people").exists()
    assert client_for(world.users["grid_force"]).get(url).status_code == 403
    assert client_for(world.users["department_staff"]).get(url).status_code == 403
    assert client_for(world.outsider).get(url).status_code == 404
    # building_c is not in the project
    assert (
        client_for(world.admin)
        .get(reverse("consult:visit_building", args=[project.pk, world.building_c.pk]))
        .status_code
        == 404
    )
    summary = client_for(world.users["department_staff"]).get(reverse("consult:visit_project", args=[project.pk]))
    assert summary.status_code == 200 and "张" not in summary.content.decode()
    assert "one household disagrees" in summary.content.decode() or "一户" in summary.content.decode()


def test_query_counts_are_bounded(world, project, client_for, django_assert_max_num_queries):
    backdate(project, 60)
    dwellings = list(world.building_a.dwellings.all())
    user = world.users["community_worker"]
    now = timezone.now()
    Visit.objects.bulk_create(
        Visit(
            project=project,
            dwelling=dwellings[i % len(dwellings)],
            visitor=user,
            visited_at=now - dt.timedelta(hours=(i * 7) % (59 * 24)),
            attitude=Attitude.values[i % 3],
            reasons=["cost"],
        )
        for i in range(600)
    )
    c = client_for(user)
    with django_assert_max_num_queries(16):
        assert c.get(reverse("consult:visit_building", args=[project.pk, world.building_a.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert c.get(reverse("consult:visit_project", args=[project.pk])).status_code == 200
    with django_assert_max_num_queries(6):
        q.building_consensus(project, world.building_a)
    with django_assert_max_num_queries(4):
        q.project_consensus(project)


def test_panel_has_no_personal_data_for_the_public(world, project):
    assert panel(project, None) is None  # nothing logged yet: nothing shown publicly
    log_visit(world.users["grid_fulltime"], project, world.dwelling_a, attitude="oppose", note="张三说不信任")
    p = panel(project, None)
    assert p is not None and p.context["public"] and all(r["url"] is None for r in p.context["rows"])
    from django.template.loader import render_to_string

    html = render_to_string(p.template, p.context)
    assert "张" not in html and world.dwelling_a.number not in html
    staff = panel(project, world.users["community_worker"])
    assert staff is not None and staff.context["links"]["log"]


# --- API ---------------------------------------------------------------------------------------------


def test_api_create_is_idempotent_and_scoped(world, project, client_for):
    c = client_for(world.users["grid_fulltime"])
    body = {"project": project.pk, "dwelling": world.dwelling_a.pk, "attitude": "support", "client_key": "phone-1"}
    r1 = c.post("/api/v1/visits/", body, content_type="application/json")
    r2 = c.post("/api/v1/visits/", {**body, "attitude": "oppose"}, content_type="application/json")
    assert (r1.status_code, r2.status_code) == (201, 200) and r1.json()["id"] == r2.json()["id"]
    assert r2.json()["attitude"] == "support"
    bad = c.post("/api/v1/visits/", {**body, "client_key": "", "reasons": ["nope"]}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "unknown_reason"
    out = c.post("/api/v1/visits/", {**body, "dwelling": world.dwelling_b.pk}, content_type="application/json")
    assert out.status_code == 404
    r = client_for(world.users["grid_force"]).post("/api/v1/visits/", body, content_type="application/json")
    assert r.status_code == 403
    summary = c.get(f"/api/v1/consensus/{project.pk}/").json()
    assert summary["support"] == 1 and summary["buildings"][0]["dwellings"] == 24
    b = c.get(f"/api/v1/consensus/{project.pk}/buildings/{world.building_a.pk}/?days=3").json()
    assert b["support"] == 1 and len(b["dwellings"]) == 24 and len(b["series"]) == 1
    assert (
        client_for(world.users["grid_force"])
        .get(f"/api/v1/consensus/{project.pk}/buildings/{world.building_a.pk}/")
        .status_code
        == 403
    )


# --- the matrix -----------------------------------------------------------------------------------


def test_visit_matrix(world, project, client_for):
    """Every visit route × every role against the oracle of the permission matrix: the project
    summary follows the project's visibility; the building page and logging need VISIT (a role
    that sees the place but may not visit gets 403); visits are read with VISIT or VIEW_PEOPLE."""
    backdate(project, 2)
    project_b = Project.objects.create(compound=world.compound_b, name="民主村改造", created_by=world.admin)
    va = log_visit(world.admin, project, world.dwelling_a, attitude="support")
    vb = log_visit(world.admin, project_b, world.dwelling_b, attitude="oppose")
    visit_roles = {
        "district_admin",
        "street_command",
        "community_worker",
        "grid_leader",
        "grid_fulltime",
        "grid_parttime",
        "grid_instructor",
        "outsider",
    }
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        for proj, bld, dw, visit in (
            (project, world.building_a, world.dwelling_a, va),
            (project_b, world.building_b, world.dwelling_b, vb),
        ):
            at_b, at_d, at_c = where(world, bld), where(world, dw), where(world, proj.compound)
            seen_project = visible(role, at_c) or visible(role, at_b) or visible(role, at_d)
            may_visit_b = role in visit_roles and visible(role, at_b)
            expect = {
                "consult:visit_project": 200 if seen_project else 404,
                "consult:visit_building": 200 if may_visit_b else 403 if seen_project else 404,
                "consult:visit_new": 200
                if role in visit_roles and visible(role, at_d)
                else 403
                if seen_project
                else 404,
            }
            urls = {
                "consult:visit_project": reverse("consult:visit_project", args=[proj.pk]),
                "consult:visit_building": reverse("consult:visit_building", args=[proj.pk, bld.pk]),
                "consult:visit_new": reverse("consult:visit_new", args=[proj.pk]),
            }
            for name, url in urls.items():
                got = c.get(url).status_code
                if got != expect[name]:
                    failures.append(f"{role} {name} {proj} → {got}, expected {expect[name]}")
            api_c = c.get(f"/api/v1/consensus/{proj.pk}/").status_code
            if api_c != expect["consult:visit_project"]:
                failures.append(f"{role} api consensus {proj} → {api_c}")
            api_b = c.get(f"/api/v1/consensus/{proj.pk}/buildings/{bld.pk}/").status_code
            if api_b != expect["consult:visit_building"]:
                failures.append(f"{role} api consensus building {proj} → {api_b}")
            readable = (role in visit_roles or role in {"resident"}) and visible(role, at_d, people=True)
            got_v = c.get(f"/api/v1/visits/{visit.pk}/").status_code
            if got_v != (200 if readable else 404):
                failures.append(f"{role} api visit {visit.pk} → {got_v}")
            listed = {v["id"] for v in c.get("/api/v1/visits/?limit=100").json()["results"]}
            if (visit.pk in listed) != readable:
                failures.append(f"{role} visit list {visit.pk}")
    assert not failures, "\n".join(failures)


def test_units_and_buildings_picker_with_two_buildings(world, project, client_for):
    b2 = m.Building.objects.create(compound=world.compound_a, code="02", name="2栋", grid=world.grid_a, storeys=3)
    u = m.Unit.objects.create(building=b2, number="1")
    m.Dwelling.objects.create(unit=u, number="101", floor=1, area="50.00")
    c = client_for(world.users["grid_fulltime"])
    r = c.get(reverse("consult:visit_new", args=[project.pk]))
    html = r.content.decode()
    assert "2栋" in html and f"?building={b2.pk}" in html
    # a building with one unit goes straight to its dwellings
    r = c.get(reverse("consult:visit_new", args=[project.pk]) + f"?building={b2.pk}")
    assert "?dwelling=" in r.content.decode()
