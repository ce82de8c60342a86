"""linli/accounts/audit.py: every API read of people's data writes one access-log row, like
the pages and exports do (issue 9, item 6: a street account pulled every person with no row)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.accounts.audit import rows_in, scope_path
from linli.accounts.models import AccessLog


@pytest.mark.parametrize("prefix", ["people", "residents", "ownerships", "grid-members", "visits", "survey-answers"])
def test_a_street_account_reading_a_roster_list_is_logged(world: Any, client_for: Any, prefix: str) -> None:
    user = world.users["street_command"]
    before = AccessLog.objects.count()
    r = client_for(user).get(f"/api/v1/{prefix}/?limit=5", REMOTE_ADDR="203.0.113.7")
    assert r.status_code == 200
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.latest("id")
    rows = len(r.json()["results"])
    assert row.user == user and row.what == AccessLog.What.VIEW_PEOPLE and row.ip == "203.0.113.7"
    assert row.path == world.comm_a.street.path  # the place scope the account reads under
    assert row.reason == f"API /api/v1/{prefix}/?limit=5 · {rows} rows"


def test_the_people_list_as_in_the_issue(world: Any, client_for: Any) -> None:
    c = client_for(world.users["street_command"])
    c.get("/api/v1/people/")
    c.get("/api/v1/residents/")
    c.get("/api/v1/ownerships/")
    logged = AccessLog.objects.filter(user=world.users["street_command"], what=AccessLog.What.VIEW_PEOPLE)
    assert [r.reason.split(" ")[1] for r in logged.order_by("id")] == [
        "/api/v1/people/",
        "/api/v1/residents/",
        "/api/v1/ownerships/",
    ]
    assert "2 rows" in logged.order_by("id").first().reason


def test_one_person_read_names_the_object(world: Any, client_for: Any) -> None:
    user = world.users["community_worker"]
    r = client_for(user).get(f"/api/v1/people/{world.owner_a.pk}/")
    assert r.status_code == 200
    row = AccessLog.objects.latest("id")
    assert (row.object_type, row.object_id, row.what) == ("places.Person", str(world.owner_a.pk), "view_people")
    assert "· 1 rows" in row.reason


def test_refused_and_non_personal_reads_write_nothing(world: Any, client_for: Any) -> None:
    before = AccessLog.objects.count()
    c = client_for(world.users["community_worker"])
    assert c.get(f"/api/v1/people/{world.owner_b.pk}/").status_code == 404  # out of scope
    assert c.get("/api/v1/buildings/").status_code == 200  # no personal data
    assert c.get("/api/v1/people/?limit=abc").status_code == 400
    assert AccessLog.objects.count() == before


def test_rows_in_and_scope_path(world: Any) -> None:
    assert rows_in({"count": 9, "results": [1, 2]}) == 2
    assert rows_in([1, 2, 3]) == 3
    assert rows_in({"count": 2, "votes": [1, 2]}) == 2
    assert rows_in({"id": 1}) == 1
    assert scope_path(world.users["community_worker"], "view_people") == world.comm_a.path
    assert scope_path(world.admin, "view_people") == ""
