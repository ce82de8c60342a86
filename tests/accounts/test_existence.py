"""Out-of-scope ids answer exactly like missing ids (issue 9, item 8: creating a project with another
community's building id answered with that building's name; a missing id answered differently).

For every API write that takes related ids, and the page forms that do, the same request is sent
once with the id of an object outside the caller's scope and once with an id no object has; the
answers must be the same status and the same body, apart from the id itself."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linli.consult.models import Survey
from linli.renewal.models import Project, ProjectItem
from tests import factories as f

MISSING = 987654321


@pytest.fixture
def others(world: Any) -> dict[str, Any]:
    """Objects of community B (outside community A's worker's scope)."""
    project_b = Project.objects.create(compound=world.compound_b, name="民主村改造", created_by=world.admin)
    item_b = ProjectItem.objects.create(project=project_b, item_class="basic", name="屋面", unit="m2")
    # an id that cannot be mistaken for any other number on a page
    far = f.BuildingFactory(pk=876543219, compound=world.compound_b, code="99", name="民主村99栋")
    return {"project_b": project_b, "item_b": item_b, "building_far": far}


def _same(a: Any, b: Any, out_id: int) -> None:
    def norm(r: Any, the_id: int) -> str:
        text = r.content.decode()
        text = re.sub(r'(csrfmiddlewaretoken" value="|nonce=")[^"]*', r"\1", text)
        return re.sub(rf"(?<!\w){the_id}(?!\w)", "ID", text)

    assert a.status_code == b.status_code, (a.status_code, b.status_code, a.content[:300], b.content[:300])
    assert a.status_code < 500
    assert norm(a, out_id) == norm(b, MISSING)


def _api_cases(world: Any, project: Any, survey: Any) -> list[tuple[str, Any, int]]:
    """(url, body with the id as ``{ID}``, out-of-scope id)."""
    w = world
    return [
        (
            "/api/v1/projects/",
            lambda i: {"compound": w.compound_a.pk, "name": "改造", "buildings": [i]},
            w.building_b.pk,
        ),
        ("/api/v1/projects/", lambda i: {"compound": i, "name": "改造"}, w.compound_b.pk),
        (
            "/api/v1/ballots/",
            lambda i: {"title": "t", "question": "q", "matter": "7", "scope_kind": "building", "scope_id": i},
            w.building_b.pk,
        ),
        (
            "/api/v1/ballots/",
            lambda i: {
                "project": i,
                "title": "t",
                "question": "q",
                "matter": "7",
                "scope_kind": "building",
                "scope_id": w.building_a.pk,
            },
            "project_b",
        ),
        ("/api/v1/visits/", lambda i: {"project": project.pk, "dwelling": i, "attitude": "support"}, w.dwelling_b.pk),
        ("/api/v1/visits/", lambda i: {"project": i, "dwelling": w.dwelling_a.pk, "attitude": "support"}, "project_b"),
        (
            "/api/v1/surveys/",
            lambda i: {"project": i, "title": "t", "opens_on": "2026-01-01", "closes_on": "2026-02-01"},
            "project_b",
        ),
        (f"/api/v1/surveys/{survey.pk}/answer/", lambda i: {"dwelling": i}, w.dwelling_b.pk),
        ("/api/v1/notices/", lambda i: {"project": i, "kind": "plan", "title": "t", "body": "b"}, "project_b"),
        ("/api/v1/supervision-reports/", lambda i: {"project": i, "text": "漏水"}, "project_b"),
        ("/api/v1/supervision-reports/", lambda i: {"project": project.pk, "text": "漏水", "item": i}, "item_b"),
        (
            "/api/v1/grants/",
            lambda i: {"username": "outsider_b", "role": "resident", "place_kind": "dwelling", "place_id": i},
            w.dwelling_b.pk,
        ),
        ("/api/v1/owner-accounts/unlock/", lambda i: {"person": w.owner_a.pk, "dwelling": i}, w.dwelling_b.pk),
        (
            "/api/v1/owner-verification/start/",
            lambda i: {"dwelling": i, "id_number": "110101199003072914"},
            w.dwelling_b.pk,
        ),
    ]


def test_api_writes_answer_out_of_scope_ids_like_missing_ones(
    world: Any, client_for: Any, project: Any, others: dict[str, Any]
) -> None:
    survey = Survey.objects.create(
        project=project,
        title="需求调查",
        opens_on=dt.date(2026, 1, 1),
        closes_on=dt.date(2036, 1, 1),
        created_by=world.admin,
    )
    c = client_for(world.users["community_worker"])
    for url, body, out in _api_cases(world, project, survey):
        out_id = others[out].pk if isinstance(out, str) else out
        a = c.post(url, body(out_id), content_type="application/json")
        b = c.post(url, body(MISSING), content_type="application/json")
        try:
            _same(a, b, out_id)
        except AssertionError as exc:
            raise AssertionError(f"{url} {body('ID')}: {exc}") from exc


def test_the_import_upload_answers_another_community_like_a_missing_one(world: Any, client_for: Any) -> None:
    c = client_for(world.users["community_worker"])

    def upload(community: int) -> Any:
        f = SimpleUploadedFile("r.csv", "楼栋,单元,房号\n".encode(), content_type="text/csv")
        return c.post("/api/v1/imports/", {"community": community, "file": f, "kind": "roster"})

    _same(upload(world.comm_b.pk), upload(MISSING), world.comm_b.pk)


def test_the_project_form_answers_another_communitys_building_like_a_missing_one(
    world: Any, client_for: Any, others: dict[str, Any]
) -> None:
    """The defect as found: the answer named the other community's building."""
    c = client_for(world.users["community_worker"])
    form = {"compound": world.compound_a.pk, "name": "改造", "kind": "renovation"}
    a = c.post("/renewal/new/", {**form, "buildings": [others["building_far"].pk]})
    b = c.post("/renewal/new/", {**form, "buildings": [MISSING]})
    _same(a, b, others["building_far"].pk)
    assert others["building_far"].name not in a.content.decode()
    api = client_for(world.users["community_worker"]).post(
        "/api/v1/projects/", {**form, "buildings": [others["building_far"].pk]}, content_type="application/json"
    )
    assert others["building_far"].name not in api.content.decode()


def test_the_ballot_form_answers_another_communitys_building_like_a_missing_one(
    world: Any, client_for: Any, others: dict[str, Any]
) -> None:
    c = client_for(world.users["community_worker"])
    url = f"/consult/ballots/compound/{world.compound_a.pk}/new/"
    form = {"title": "t", "question": "q", "matter": "7", "scope_kind": "building"}
    a = c.post(url, {**form, "building": others["building_far"].pk})
    b = c.post(url, {**form, "building": MISSING})
    _same(a, b, others["building_far"].pk)
