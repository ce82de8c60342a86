"""linli/core/drf.py: the API's pagination — limit capped, limit and offset read with the one
bounded parser, a bad value refused with a bilingual 400 (issue 9, items 2 and "limit has no cap")."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings


@pytest.mark.parametrize(
    "query",
    [
        "limit=150000",  # issue 9: returned 138,076 people
        "limit=501",
        "limit=99999999999999999999",  # issue 9: a 500 on PostgreSQL
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "offset=-1",
        "offset=99999999999999999999",
        "offset=x",
    ],
)
def test_a_limit_or_offset_out_of_bounds_is_a_bilingual_400(world: Any, client_for: Any, query: str) -> None:
    r = client_for(world.users["street_command"]).get(f"/api/v1/people/?{query}")
    assert r.status_code == 400, (query, r.status_code)
    error = r.json()["errors"][0]
    assert error["code"] == "bad_parameter" and "须为整数" in error["zh"] and "integer" in error["en"]


def test_the_cap_is_the_setting_and_a_page_within_it_is_served(world: Any, client_for: Any) -> None:
    c = client_for(world.users["street_command"])
    assert len(c.get("/api/v1/people/?limit=500").json()["results"]) == 2
    with override_settings(LINLI_API_MAX_LIMIT=1):
        assert c.get("/api/v1/people/?limit=2").status_code == 400
        page = c.get("/api/v1/people/?limit=1&offset=1").json()
        assert page["count"] == 2 and len(page["results"]) == 1
        # the default page size never exceeds the cap
        assert len(c.get("/api/v1/people/").json()["results"]) == 1
    assert c.get("/api/v1/people/?offset=9223372036854775807").json()["results"] == []


def test_the_schema_declares_the_bounds(world: Any, client_for: Any) -> None:
    schema = client_for(world.admin).get("/api/v1/schema/?format=json").json()
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/people/"]["get"]["parameters"]}
    assert params["limit"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert params["offset"]["minimum"] == 0 and params["offset"]["maximum"] == 2**63 - 1
