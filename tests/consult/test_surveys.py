"""Needs surveys: opening (CONSULT), answering (VISIT at the door, or a resident's own dwelling),
items of the project only, within the dates, re-answer replaces; results by building and unit;
the .xlsx export; the API; and the matrix of survey routes × roles."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from linli.consult.models import Survey, SurveyAnswer
from linli.consult.queries.surveys import survey_results
from linli.consult.services.surveys import answer_survey, create_survey
from linli.core.errors import LinliError
from linli.renewal.models import Project, ProjectItem
from tests import exports as bg
from tests.accounts.test_permission_matrix import roles, visible, where

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(project):
    return [
        ProjectItem.objects.create(project=project, item_class="basic", name="雨污分流"),
        ProjectItem.objects.create(project=project, item_class="improve", name="停车位"),
        ProjectItem.objects.create(project=project, item_class="enhance", name="加装电梯"),
    ]


@pytest.fixture
def survey(world, project):
    today = timezone.localdate()
    return create_survey(world.users["community_worker"], project, "改造需求调查", today, today + dt.timedelta(days=14))


def test_only_consult_opens_a_survey(world, project):
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        create_survey(world.users["grid_fulltime"], project, "x", today, today)
    with pytest.raises(Http404):
        create_survey(world.outsider, project, "x", today, today)
    with pytest.raises(LinliError) as exc:
        create_survey(world.users["community_worker"], project, "", today, today - dt.timedelta(days=1))
    assert {p.code for p in exc.value.problems} == {"title_required", "closes_before_opens"}


def test_answers_by_staff_and_resident_and_refusals(world, project, survey, items):
    other = world.building_a.dwellings.exclude(pk=world.dwelling_a.pk).first()
    a = answer_survey(world.users["grid_fulltime"], survey, other, [items[0].pk, items[1].pk], "要停车")
    assert set(a.wanted.values_list("pk", flat=True)) == {items[0].pk, items[1].pk}
    # re-answer replaces
    a2 = answer_survey(world.users["community_worker"], survey, other, [str(items[2].pk)], "")
    assert a2.pk == a.pk and list(a2.wanted.values_list("pk", flat=True)) == [items[2].pk]
    assert SurveyAnswer.objects.count() == 1
    # the resident answers for their own dwelling, not for a neighbour's
    assert answer_survey(world.users["resident"], survey, world.dwelling_a, [items[1].pk]).pk
    with pytest.raises(Http404):
        answer_survey(world.users["resident"], survey, other, [items[1].pk])
    with pytest.raises(PermissionDenied):
        answer_survey(world.users["grid_force"], survey, other, [])
    with pytest.raises(Http404):
        answer_survey(world.outsider, survey, other, [])
    # items of another project are refused
    p2 = Project.objects.create(compound=world.compound_b, name="b", created_by=world.admin)
    stray = ProjectItem.objects.create(project=p2, item_class="basic", name="外墙")
    with pytest.raises(LinliError) as exc:
        answer_survey(world.users["community_worker"], survey, other, [stray.pk])
    assert exc.value.problems[0].code == "item_not_in_project"
    # dwelling outside the project
    with pytest.raises(LinliError) as exc:
        answer_survey(world.admin, survey, world.dwelling_b, [])
    assert exc.value.problems[0].code == "dwelling_not_in_project"


@pytest.mark.dates
def test_answers_only_within_the_dates(world, project, items):
    today = timezone.localdate()
    past = create_survey(world.admin, project, "旧", today - dt.timedelta(days=9), today - dt.timedelta(days=2))
    future = create_survey(world.admin, project, "新", today + dt.timedelta(days=2), today + dt.timedelta(days=9))
    for s, code in ((past, "survey_closed"), (future, "survey_not_open")):
        with pytest.raises(LinliError) as exc:
            answer_survey(world.users["community_worker"], s, world.dwelling_a, [items[0].pk])
        assert exc.value.problems[0].code == code


def test_results_by_building_and_unit(world, project, survey, items):
    ds = list(world.building_a.dwellings.order_by("unit__number", "floor", "number"))
    user = world.users["community_worker"]
    answer_survey(user, survey, ds[0], [items[0].pk, items[1].pk])
    answer_survey(user, survey, ds[1], [items[1].pk])
    answer_survey(user, survey, ds[-1], [])
    res = survey_results(survey)
    assert res.total.dwellings == 24 and res.total.answered == 3
    assert res.total.wanted == {items[0].pk: 1, items[1].pk: 2}
    units = [r for r in res.rows if r.level == "unit"]
    assert [(u.label, u.answered) for u in units] == [("1", 2), ("2", 1)]
    cells = dict(zip([i["id"] for i in res.items], units[0].cells(res.items), strict=True))
    assert cells[items[1].pk] == {"count": 2, "pct": 100} and cells[items[0].pk]["pct"] == 50


def test_pages_results_answer_and_export(world, project, survey, items, client_for):
    c = client_for(world.users["grid_fulltime"])
    url = reverse("consult:survey_answer", args=[survey.pk])
    r = c.post(url, {"dwelling": world.dwelling_a.pk, "items": [items[1].pk], "comment": "停车难"})
    assert r.status_code == 303 and SurveyAnswer.objects.get().comment == "停车难"
    r = c.get(reverse("consult:survey_detail", args=[survey.pk]))
    assert r.status_code == 200 and 'data-testid="results-table"' in r.content.decode()
    # the grid worker may not export (no EXPORT); the grid leader and community worker may
    assert c.get(reverse("consult:survey_export", args=[survey.pk])).status_code == 403
    assert bg.start(c, reverse("consult:survey_export", args=[survey.pk])).status_code == 403
    _run, r = bg.export_file(
        client_for(world.users["community_worker"]), reverse("consult:survey_export", args=[survey.pk])
    )
    assert _run.filename == f"需求调查-{survey.pk}.xlsx"
    ws = load_workbook(io.BytesIO(bg.content(r))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "层级 level" and rows[-1][3] == 1  # total answered
    # opening a survey from the page
    c2 = client_for(world.users["community_worker"])
    r = c2.post(
        reverse("consult:survey_list", args=[project.pk]),
        {"title": "第二轮", "opens_on": "2025-01-01", "closes_on": "2025-01-31"},
    )
    assert r.status_code == 303 and Survey.objects.filter(title="第二轮").exists()
    assert c.post(reverse("consult:survey_list", args=[project.pk]), {"title": "x"}).status_code == 403


def test_api_surveys(world, project, survey, items, client_for):
    c = client_for(world.users["grid_fulltime"])
    r = c.post(
        f"/api/v1/surveys/{survey.pk}/answer/",
        {"dwelling": world.dwelling_a.pk, "wanted": [items[0].pk]},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["wanted"] == [items[0].pk]
    res = c.get(f"/api/v1/surveys/{survey.pk}/results/").json()
    assert res["total"]["answered"] == 1 and res["total"]["items"][0]["count"] == 1
    assert c.get("/api/v1/survey-answers/").json()["count"] == 1
    body = {"project": project.pk, "title": "t", "opens_on": "2025-01-01", "closes_on": "2025-01-02"}
    assert c.post("/api/v1/surveys/", body, content_type="application/json").status_code == 403
    r = client_for(world.users["community_worker"]).post("/api/v1/surveys/", body, content_type="application/json")
    assert r.status_code == 201


def test_survey_matrix(world, project, survey, items, client_for):
    """Surveys follow their project's visibility; answering needs VISIT or the resident's own
    dwelling; export needs EXPORT; answers are read with VISIT or VIEW_PEOPLE."""
    p_b = Project.objects.create(compound=world.compound_b, name="民主村改造", created_by=world.admin)
    today = timezone.localdate()
    s_b = create_survey(world.admin, p_b, "民主村调查", today, today)
    ans_a = answer_survey(world.admin, survey, world.dwelling_a, [items[0].pk])
    ans_b = answer_survey(world.admin, s_b, world.dwelling_b, [])
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
    export_roles = {"district_admin", "street_command", "community_worker", "grid_leader", "outsider"}
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        for s, proj, dw, ans in ((survey, project, world.dwelling_a, ans_a), (s_b, p_b, world.dwelling_b, ans_b)):
            at_c, at_d = where(world, proj.compound), where(world, dw)
            at_b = where(world, dw.building)
            seen = visible(role, at_c) or visible(role, at_b) or visible(role, at_d)
            answers = (role in visit_roles and visible(role, at_d)) or (role == "resident" and at_d.dwelling == "a")
            expect = {
                reverse("consult:survey_list", args=[proj.pk]): 200 if seen else 404,
                reverse("consult:survey_detail", args=[s.pk]): 200 if seen else 404,
                reverse("consult:survey_answer", args=[s.pk]): 200 if answers else 403 if seen else 404,
                reverse("consult:survey_export", args=[s.pk]): 200
                if seen and role in export_roles
                else 403
                if seen
                else 404,
                f"/api/v1/surveys/{s.pk}/": 200 if seen else 404,
                f"/api/v1/surveys/{s.pk}/results/": 200 if seen else 404,
            }
            for url, want in expect.items():
                got = c.get(url).status_code
                if got != want:
                    failures.append(f"{role} {url} → {got}, expected {want}")
            readable = (role in visit_roles or role == "resident") and visible(role, at_d, people=True)
            got = c.get(f"/api/v1/survey-answers/{ans.pk}/").status_code
            if got != (200 if readable else 404):
                failures.append(f"{role} answer {ans.pk} → {got}")
    assert not failures, "\n".join(failures)


def test_survey_results_feed_the_project_pages(world, project, survey, items, client_for):
    """The project's staff page and its public page show which items residents asked for,
    most wanted first, as aggregates only."""
    ds = list(world.building_a.dwellings.order_by("unit__number", "floor", "number"))
    user = world.users["community_worker"]
    answer_survey(user, survey, ds[0], [items[0].pk, items[1].pk])
    answer_survey(user, survey, ds[1], [items[1].pk])
    staff = client_for(user).get(reverse("renewal:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="survey-panel"' in staff
    section = staff[staff.index('data-testid="survey-panel"') :]
    assert section.index("停车位") < section.index("雨污分流") < section.index("加装电梯"), "most wanted first"
    assert reverse("consult:survey_detail", args=[survey.pk]) in staff
    from django.test import Client

    anonymous = Client().get(reverse("renewal:public_project", args=[project.pk])).content.decode()
    assert 'data-testid="survey-panel"' in anonymous and "2 / 24" not in anonymous
    assert reverse("consult:survey_detail", args=[survey.pk]) not in anonymous
    assert world.owner_a.name not in anonymous


def test_a_survey_says_whether_it_has_ended_or_is_not_open_yet(world, project, survey, client_for):
    today = timezone.localdate()
    early = create_survey(world.users["community_worker"], project, "下月调查", today, today + dt.timedelta(days=40))
    Survey.objects.filter(pk=early.pk).update(opens_on=today + dt.timedelta(days=10))
    Survey.objects.filter(pk=survey.pk).update(
        opens_on=today - dt.timedelta(days=30), closes_on=today - dt.timedelta(days=1)
    )
    c = client_for(world.users["community_worker"])
    listing = c.get(reverse("consult:survey_list", args=[project.pk])).content.decode()
    assert listing.count(">已结束<") == 1 and listing.count(">未开放<") == 1
    ended = c.get(reverse("consult:survey_detail", args=[survey.pk])).content.decode()
    assert ">已结束<" in ended and ">未开放<" not in ended
    assert ">未开放<" in c.get(reverse("consult:survey_detail", args=[early.pk])).content.decode()
    answer = client_for(world.users["grid_fulltime"]).get(reverse("consult:survey_answer", args=[survey.pk]))
    assert "本次调查已结束" in answer.content.decode()
    c.cookies["django_language"] = "en"
    listing = c.get(reverse("consult:survey_list", args=[project.pk])).content.decode()
    assert listing.count(">ended<") == 1 and listing.count(">not yet open<") == 1 and "已结束" not in listing
