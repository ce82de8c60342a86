from __future__ import annotations

import pytest

from linli.accounts.models import AccessLog, RoleGrant

pytestmark = pytest.mark.django_db


def test_me_lists_own_grants(world, client_for):
    r = client_for(world.users["community_worker"]).get("/api/v1/me/")
    assert r.status_code == 200
    assert [g["role"] for g in r.json()["grants"]] == ["community_worker"]


def test_anonymous_api_is_refused_bilingually(client, world):
    r = client.get("/api/v1/communities/")
    assert r.status_code in (401, 403)
    err = r.json()["errors"][0]
    assert err["zh"] and err["en"]


def test_community_worker_grants_a_grid_worker_in_scope_only(world, client_for):
    c = client_for(world.users["community_worker"])
    r = c.post(
        "/api/v1/grants/",
        {"username": "outsider_b", "role": "grid_parttime", "place_kind": "grid", "place_id": world.grid_a.pk},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    # outside their community: the grid of B is not found for them
    r = c.post(
        "/api/v1/grants/",
        {"username": "outsider_b", "role": "grid_parttime", "place_kind": "grid", "place_id": world.grid_b.pk},
        content_type="application/json",
    )
    assert r.status_code == 404
    # a role stronger than their own is refused
    r = c.post(
        "/api/v1/grants/",
        {"username": "outsider_b", "role": "district_admin", "place_kind": "district", "place_id": world.district.pk},
        content_type="application/json",
    )
    assert r.status_code in (400, 403, 404)
    assert not RoleGrant.objects.filter(user=world.outsider, role="district_admin").exists()


def test_grant_bad_input(world, client_for):
    c = client_for(world.users["community_worker"])
    for body in (
        {},
        {"username": "nobody", "role": "grid_parttime", "place_kind": "grid", "place_id": 1},
        {"username": "outsider_b", "role": "pope", "place_kind": "grid", "place_id": world.grid_a.pk},
        {"username": "outsider_b", "role": "grid_leader", "place_kind": "grid", "place_id": "x"},
        {"username": "outsider_b", "role": "grid_leader", "place_kind": "community", "place_id": world.comm_a.pk},
    ):
        r = c.post("/api/v1/grants/", body, content_type="application/json")
        assert r.status_code == 400, (body, r.content)
        assert all(e["zh"] and e["en"] for e in r.json()["errors"])
    r = c.post("/api/v1/grants/", "{not json", content_type="application/json")
    assert r.status_code == 400


def test_revoke_keeps_the_record(world, client_for):
    c = client_for(world.users["community_worker"])
    g = RoleGrant.objects.get(user=world.users["grid_leader"])
    assert c.delete(f"/api/v1/grants/{g.pk}/").status_code == 204
    g.refresh_from_db()
    assert g.revoked_at is not None
    assert client_for(world.outsider).delete(f"/api/v1/grants/{g.pk}/").status_code == 404


def test_people_are_masked_and_reveal_is_logged(world, client_for):
    c = client_for(world.users["community_worker"])
    people = c.get("/api/v1/people/").json()["results"]
    assert [p["name"] for p in people] == ["张三"]
    assert people[0]["id_number_masked"] == "1101**********0011"
    assert "110101199003070011" not in c.get("/api/v1/people/").content.decode()
    url = f"/api/v1/people/{world.owner_a.pk}/reveal/"
    assert c.post(url, {"field": "id_number"}, content_type="application/json").status_code == 400
    assert c.post(url, {"field": "id_number", "reason": "x"}, content_type="application/json").status_code == 400
    r = c.post(url, {"field": "id_number", "reason": "核实业主身份"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["value"] == "110101199003070011"
    log = AccessLog.objects.get(what="reveal_id")
    assert log.user == world.users["community_worker"] and log.reason == "核实业主身份"
    assert log.path == world.building_a.path
    # out of scope → 404; in scope without REVEAL → 403
    assert (
        client_for(world.outsider)
        .post(url, {"field": "phone", "reason": "看看"}, content_type="application/json")
        .status_code
        == 404
    )
    assert (
        client_for(world.users["grid_parttime"])
        .post(url, {"field": "phone", "reason": "联系业主"}, content_type="application/json")
        .status_code
        == 403
    )
    assert AccessLog.objects.filter(what__startswith="reveal").count() == 1


def test_filters_and_bad_parameters(world, client_for):
    c = client_for(world.users["street_command"])
    r = c.get(f"/api/v1/buildings/?community={world.comm_b.pk}")
    assert [b["id"] for b in r.json()["results"]] == [world.building_b.pk]
    r = c.get("/api/v1/buildings/?community=abc")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "bad_parameter"
    assert c.get("/api/v1/communities/?q=劳动").json()["count"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/buildings/?community=abc",
        "/api/v1/buildings/?community=-1",
        "/api/v1/buildings/?community=99999999999999999999999",
        "/api/v1/projects/?compound=abc",
        "/api/v1/supervision-reports/?project=1.5",
        "/api/v1/notices/?project=x",
        "/api/v1/objections/?notice=x",
        "/api/v1/surveys/?project=x",
        "/api/v1/survey-answers/?survey=x",
        "/api/v1/survey-answers/?dwelling=%E4%B8%80",
    ],
)
def test_every_list_filter_refuses_a_bad_number_the_same_way(world, client_for, url):
    """One helper (core.api.int_param) for every API list filter: a bilingual 400, never ignored."""
    r = client_for(world.admin).get(url)
    assert r.status_code == 400, (url, r.status_code)
    error = r.json()["errors"][0]
    assert error["code"] == "bad_parameter" and "须为整数" in error["zh"] and "integer" in error["en"]


def test_schema_and_docs_are_served_without_cdn(world, client_for):
    c = client_for(world.users["community_worker"])
    schema = c.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/communities/" in schema.content
    docs = c.get("/api/v1/docs/").content.decode()
    assert "cdn" not in docs.lower() and "/static/drf_spectacular_sidecar/" in docs
