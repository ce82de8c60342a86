"""No 500 from any id or number (issue 9, item 2): every API list × bad limits and filters, every
API path id, ids in JSON bodies, and ids and numbers in page URLs and query strings all go through
the one bounded parser (``linli.core.ids``) and answer a 400 or the 404 of a missing object."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.generics import GenericAPIView

from linli.api_urls import router

HUGE = "99999999999999999999"  # > 2**64
BAD_LIMITS = [HUGE, "-1", "abc", "1e3", "100001"]
BAD_PATH_IDS = ["null%2Cnull", HUGE, "9223372036854775808", "-1", "1.5", "%EF%BC%91"]  # last: full-width 1


def _lists() -> list[str]:
    """Every paginated API list, from the router itself (a new one is covered without editing here)."""
    out = []
    for prefix, viewset, _basename in router.registry:
        if issubclass(viewset, GenericAPIView) and hasattr(viewset, "list") and viewset.pagination_class is not None:
            out.append(prefix)
    return out


def _details() -> list[str]:
    return [prefix for prefix, viewset, _b in router.registry if hasattr(viewset, "retrieve")]


def test_the_sweep_sees_the_lists() -> None:
    assert {"people", "residents", "ownerships", "ballots", "visits", "grants"} <= set(_lists())


@pytest.mark.parametrize("prefix", _lists())
def test_every_list_refuses_a_bad_limit_with_a_400(world: Any, client_for: Any, prefix: str) -> None:
    c = client_for(world.admin)
    for bad in BAD_LIMITS:
        r = c.get(f"/api/v1/{prefix}/?limit={bad}")
        assert r.status_code == 400, (prefix, bad, r.status_code)
        assert r.json()["errors"][0]["code"] == "bad_parameter"
    assert c.get(f"/api/v1/{prefix}/?offset={HUGE}").status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/ballots/?project=3196006828015637642608640",  # issue 9: a 500 on SQLite
        "/api/v1/visits/?building=-50823800185887267948253960447459328",  # issue 9: a 500 on SQLite
        f"/api/v1/visits/?project={HUGE}",
        f"/api/v1/visits/?dwelling={HUGE}",
        f"/api/v1/ballots/?project={HUGE}",
        "/api/v1/ballots/?project=abc",
        f"/api/v1/buildings/?community={HUGE}",
        f"/api/v1/dwellings/?grid={HUGE}",
        f"/api/v1/ownerships/?building={HUGE}",
        f"/api/v1/residents/?dwelling={HUGE}",
        f"/api/v1/imports/?community={HUGE}",
        f"/api/v1/survey-answers/?survey={HUGE}",
        "/api/v1/surveys/?project=",  # make fuzz: an empty integer filter listed everything
        "/api/v1/visits/?building=",
    ],
)
def test_filters_with_numbers_no_database_holds_are_a_400(world: Any, client_for: Any, url: str) -> None:
    r = client_for(world.admin).get(url)
    assert r.status_code == 400, (url, r.status_code)
    assert r.json()["errors"][0]["code"] == "bad_parameter"


@pytest.mark.parametrize("prefix", _details())
def test_every_path_id_that_is_not_an_id_is_the_404_of_a_missing_one(world: Any, client_for: Any, prefix: str) -> None:
    c = client_for(world.admin)
    missing = c.get(f"/api/v1/{prefix}/987654321/")
    assert missing.status_code == 404
    for bad in BAD_PATH_IDS:
        r = c.get(f"/api/v1/{prefix}/{bad}/")
        assert r.status_code == 404, (prefix, bad, r.status_code)
        assert r.json()["errors"][0]["code"] == "not_found", (prefix, bad)


def test_delete_of_a_grant_named_null_null_is_a_404(world: Any, client_for: Any) -> None:
    """issue 9: ``DELETE /api/v1/grants/null%2Cnull/`` was a 500."""
    r = client_for(world.admin).delete("/api/v1/grants/null%2Cnull/")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "not_found"
    r = client_for(world.admin).delete(f"/api/v1/grants/{HUGE}/")
    assert r.status_code == 404


def test_ids_in_action_paths_are_read_the_same_way(world: Any, client_for: Any, project: Any) -> None:
    c = client_for(world.admin)
    for bad in (HUGE, "9223372036854775808"):
        assert c.get(f"/api/v1/consensus/{project.pk}/buildings/{bad}/").status_code == 404
        assert c.post(f"/api/v1/projects/{bad}/phase/", {}, content_type="application/json").status_code == 404


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/projects/", {"compound": 10**30, "name": "x"}),
        ("/api/v1/projects/", {"compound": 1, "name": "x", "buildings": [10**30]}),
        ("/api/v1/projects/", {"compound": -(10**30), "name": "x"}),
        (
            "/api/v1/ballots/",
            {"title": "t", "question": "q", "matter": "other", "scope_kind": "building", "scope_id": 10**25},
        ),
        ("/api/v1/visits/", {"project": 10**25, "dwelling": 1, "attitude": "support"}),
        ("/api/v1/surveys/", {"project": 10**25, "title": "t", "opens_on": "2026-01-01", "closes_on": "2026-02-01"}),
        ("/api/v1/notices/", {"project": 1, "kind": "plan", "title": "t", "body": "b", "ballot": 10**25}),
        ("/api/v1/grants/", {"username": "x", "role": "resident", "place_kind": "dwelling", "place_id": 10**25}),
        ("/api/v1/owner-verification/start/", {"dwelling": 10**25, "id_number": "1"}),
        ("/api/v1/owner-accounts/unlock/", {"person": 10**25, "dwelling": 1}),
    ],
)
def test_ids_in_json_bodies_no_database_holds_are_a_400(world: Any, client_for: Any, url: str, body: dict) -> None:
    r = client_for(world.admin).post(url, body, content_type="application/json")
    assert r.status_code == 400, (url, r.status_code, r.content[:300])
    assert {e["code"] for e in r.json()["errors"]} & {"max_value", "min_value"}


@pytest.mark.parametrize(
    "url",
    [
        f"/renewal/{HUGE}/",
        "/renewal/9223372036854775808/",
        f"/renewal/p/{HUGE}/",
        f"/consult/ballots/{HUGE}/",
        f"/consult/ballots/compound/{HUGE}/",
    ],
)
def test_page_path_ids_no_database_holds_are_a_404(world: Any, client_for: Any, url: str) -> None:
    assert client_for(world.admin).get(url).status_code == 404


def test_page_query_and_form_numbers_never_500(world: Any, client_for: Any, project: Any) -> None:
    c = client_for(world.admin)
    huge_neg = "-50823800185887267948253960447459328"
    for url in (
        f"/consult/projects/{project.pk}/visits/?building={huge_neg}&unit={HUGE}",
        f"/governance/events/?grid={HUGE}",
        f"/renewal/p/?district={HUGE}&page={HUGE}",
        f"/consult/ballots/?project={HUGE}",
    ):
        assert c.get(url).status_code < 500, url
    r = c.post(
        "/renewal/new/",
        {"compound": world.compound_a.pk, "name": "改造", "buildings": [HUGE], "kind": "renovation"},
    )
    assert r.status_code == 400
    r = c.post(f"/renewal/{project.pk}/reports/", {"item": HUGE, "text": "漏水"})
    assert r.status_code < 500


@pytest.mark.parametrize(
    "url", ["/api/v1/ballots/?status=AAA", "/api/v1/ballots/?scope_kind=x", "/api/v1/visits/?attitude=AAA"]
)
def test_a_filter_outside_its_enum_is_a_400(world: Any, client_for: Any, url: str) -> None:
    r = client_for(world.admin).get(url)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "bad_parameter"
    assert client_for(world.admin).get(url.split("=")[0] + "=").status_code == 200
