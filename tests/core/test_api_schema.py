"""The OpenAPI schema of /api/v1/ tells the truth: schemathesis runs the whole schema against a live
server (a real HTTP server on the test database) as two roles and its checks must pass.

Checks (docs/api.md): ``not_a_server_error`` (no 5xx from any input), ``status_code_conformance``
(every status answered is documented), ``content_type_conformance``, ``response_schema_conformance``
(bodies match), ``negative_data_rejection`` (input the schema calls invalid is refused with a 4xx)
and ``positive_data_acceptance`` (input the schema calls valid is not refused as malformed).

Expected-status choices for ``positive_data_acceptance`` — a schema-valid request may still answer:
  2xx; 403 (the role may not do this here); 404 (a well-formed id that does not exist or is outside
  the caller's scope — the two are indistinguishable on purpose); 409 (the object's state forbids
  it: a closed ballot, an applied import, a grant to oneself); 410 (an expired one-time code); 429
  (throttled, or an SMS limit); 503 (the SMS gateway is unavailable). Never 400: a 400 to input the
  schema calls valid means the schema is missing a constraint.
``negative_data_rejection`` accepts any 4xx the house answers (400, 401, 403, 404, 405, 409, 413,
415, 429): e.g. a negative id in a path is a 404, exactly like a missing one.

Generation: deterministic (fixed seed), no NUL characters in strings (DRF refuses them in every
text field with a 400; the schema says so in docs/api.md rather than in every pattern).

The bounded run (a few examples per operation) runs in ``make test``; ``make fuzz`` runs the same
test with ``LINLI_FUZZ_EXAMPLES`` (more examples per operation, the coverage phase on every
operation, and the stateful phase).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES") or "2")
FULL = bool(os.environ.get("LINLI_FUZZ_EXAMPLES"))
SEED = int(os.environ.get("LINLI_FUZZ_SEED") or "20261130")
PASSWORD = "a-long-test-password"  # tests/factories.py UserFactory

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)
POSITIVE_STATUSES = ["2xx", "403", "404", "409", "410", "429", "503"]
# Writes whose rules depend on the stored data or on today's date, which no schema can state: for
# these a 400 with the rule's own code (e.g. ``closes_in_past``) is also a legitimate answer to
# schema-valid input. Everything the schema CAN state (types, bounds, lengths, enums) it states.
RULES = {
    ("POST", "/api/v1/ballots/"): "closes_at in the future; the scope fits the project",
    ("POST", "/api/v1/ballots/{id}/lift/"): "only a lift ballot; occupied dwellings before opening",
    ("POST", "/api/v1/ballots/{id}/vote/"): "the owner is on the roll; proxy and replacing votes need a reason",
    ("POST", "/api/v1/grants/"): "the username names an active account",
    ("POST", "/api/v1/imports/"): "the file is a well-formed roster or boundary file",
    ("POST", "/api/v1/imports/{id}/resolve/"): "the decisions name the preview's conflicts",
    ("POST", "/api/v1/notices/"): "starts_on not in the past; the ballot is of the project",
    ("POST", "/api/v1/objections/{id}/move/"): "forward only; closing needs a response",
    ("POST", "/api/v1/owner-accounts/"): "an existing account; the person owns the dwelling; the document matches",
    ("POST", "/api/v1/owner-accounts/unlock/"): "the person owns the dwelling",
    ("POST", "/api/v1/owner-verification/start/"): "the ID number matches an owner of the dwelling",
    ("POST", "/api/v1/owner-verification/confirm/"): "the code matches the challenge",
    ("POST", "/api/v1/projects/"): "the buildings are of the compound; an eligibility override needs a reason",
    ("POST", "/api/v1/projects/{id}/items/"): "a catalogue code, or a name and a class",
    ("POST", "/api/v1/projects/{id}/phase/"): "a different phase, one step forward (or back with a note)",
    ("PATCH", "/api/v1/project-items/{id}/"): "quantity, unit cost and weight as non-negative decimals",
    ("POST", "/api/v1/project-items/{id}/progress/"): "progress does not go back",
    ("POST", "/api/v1/supervision-reports/"): "the item is of the project",
    ("POST", "/api/v1/surveys/"): "opens_on not after closes_on",
    ("POST", "/api/v1/surveys/{id}/answer/"): "the survey is open today; the wanted items are of the project",
    ("POST", "/api/v1/visits/"): "visited_at between the project's start and now; the next visit after it",
}
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "409", "413", "415", "429"]


def openapi_document() -> dict[str, Any]:
    """The schema exactly as ``/api/v1/schema/`` serves it (as JSON)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


SHARED = {("query", "limit"), ("query", "offset"), ("path", "id")}  # the one paginator, the one id parser


def shared_parameters_only(document: dict[str, Any]) -> list[str]:
    """The GET operations that read nothing but the paginator's ``limit``/``offset`` or the path's ``id``:
    a plain list or a plain detail. The bounded run leaves them out of the coverage phase — their
    boundaries are those of the one paginator and the one id parser, which the coverage phase still
    walks on every list with filters and every action on an ``{id}``, and which tests/core/test_inputs.py
    sweeps on every list and every detail; the fuzzing phase still runs every check on them as both
    roles, and ``make fuzz`` runs the coverage phase on them too."""
    out = []
    for path, item in document["paths"].items():
        op = item.get("get")
        if op and "requestBody" not in op and {(p["in"], p["name"]) for p in op.get("parameters", [])} <= SHARED:
            out.append(path)
    return sorted(out)


def run_schemathesis(base_url: str, username: str, *, coverage: bool = True) -> list[str]:
    """Run the phases that fit the budget over the whole schema as ``username``; the failures, one
    readable paragraph each (check, operation, message, a curl line, the answer)."""
    import schemathesis
    from schemathesis import engine
    from schemathesis.engine import Status, events

    checks: dict[str, Any] = {"enabled": False}
    for name in CHECKS:
        checks[name] = {"enabled": True}
    checks["positive_data_acceptance"]["expected-statuses"] = POSITIVE_STATUSES
    checks["negative_data_rejection"]["expected-statuses"] = NEGATIVE_STATUSES
    generation = {"max-examples": EXAMPLES, "deterministic": True, "allow-x00": False, "database": "none"}
    document = openapi_document()
    plain = [] if FULL else shared_parameters_only(document)
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "request-timeout": 60,
            "auth": {"basic": {"username": username, "password": PASSWORD}},
            "generation": generation,
            "checks": checks,
            "phases": {
                "examples": {"enabled": True},
                # unexpected methods (405) are Django's business, not the schema's
                "coverage": {"enabled": coverage, "unexpected-methods": []},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": FULL},
            },
            "operations": [
                {
                    # by name: "include-method" and "include-path" together would match either
                    "include-name": f"{method} {path}",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_STATUSES, "400"]}},
                }
                for method, path in RULES
            ]
            + [{"include-name": f"GET {path}", "phases": {"coverage": {"enabled": False}}} for path in plain],
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    out: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    cases: dict[str, int] = {}
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases[event.phase.value] = cases.get(event.phase.value, 0) + len(event.recorder.cases)
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.status != Status.FAILURE or node.failure_info is None:
                        continue
                    failure = node.failure_info.failure
                    key = (node.name, event.recorder.label, failure.title)
                    if key in seen:
                        continue
                    seen.add(key)
                    steps = "\n".join(s.curl for s in node.failure_info.steps) or node.failure_info.code_sample
                    answer = ""
                    if node.failure_info.steps:
                        response = event.recorder.find_response(case_id=node.failure_info.steps[-1].case_id)
                        if response is not None:
                            answer = f"\n→ {response.status_code} {response.content[:300]!r}"
                    out.append(
                        f"[{node.name}] {event.recorder.label}: {failure.title}\n{failure.message}\n{steps}{answer}"
                    )
        elif isinstance(event, events.NonFatalError):
            out.append(f"[error] {event.label}: {event.info.title}\n{event.info.message}")
        elif isinstance(event, events.FatalError):
            out.append(f"[fatal] {event.exception!r}")
    print(f"schemathesis as {username}: requests per phase {cases}")
    return out


def _some_data(world: Any) -> None:
    """A project, its items, a ballot and a notice, so that small ids reach real rows."""
    from linli.consult.models import Ballot
    from linli.renewal.models import Project

    project = Project.objects.create(
        compound=world.compound_a, name="劳动三村小区综合改造", created_by=world.users["community_worker"]
    )
    project.buildings.add(world.building_a)
    Ballot.objects.create(
        project=project,
        title="加装电梯",
        question="是否同意?",
        matter=Ballot.Matter.values[0],
        scope_kind=Ballot.ScopeKind.values[0],
        scope_id=world.building_a.pk,
        created_by=world.users["community_worker"],
    )


# The bounded run (make test) spends its budget on the coverage phase (every boundary of every
# parameter and field, ~2,700 requests; not the plain lists and details, shared_parameters_only) as
# the community worker, who may write in community A, and fuzzes every operation as both roles;
# ``make fuzz`` runs every phase on every operation as both.
ROLES = {"community_worker": True, "street_command": FULL}


@pytest.mark.parametrize("role", list(ROLES))
def test_the_api_does_what_its_schema_says(role: str, live_server: Any, transactional_db: Any) -> None:
    from django.db import connection

    from tests.conftest import make_world

    world = make_world()
    _some_data(world)
    # The coverage phase (~2,700 requests, about 3 minutes) runs in the SQLite pass of `make test`; the
    # PostgreSQL pass fuzzes every operation as both roles (the bad numbers that broke PostgreSQL —
    # a huge ?limit= — are also checked on every list in both passes by tests/core/test_inputs.py),
    # and `DATABASE_URL=postgres://… make fuzz` runs every phase there.
    coverage = ROLES[role] and (FULL or connection.vendor == "sqlite")
    failures = run_schemathesis(live_server.url, world.users[role].username, coverage=coverage)
    assert not failures, f"{len(failures)} schemathesis failures as {role}:\n\n" + "\n\n".join(failures)


# --- what the schema says, checked directly (each was wrong before; issue 9 item 3) ----------------


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def _ok(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    content = document["paths"][path][method]["responses"]["200"]["content"]
    return next(iter(content.values()))["schema"]


def test_me_is_one_object_and_project_items_a_plain_list(document: dict[str, Any]) -> None:
    assert _ok(document, "get", "/api/v1/me/") == {"$ref": "#/components/schemas/Me"}
    items = _ok(document, "get", "/api/v1/projects/{id}/items/")
    assert items["type"] == "array"
    params = document["paths"]["/api/v1/projects/{id}/items/"]["get"].get("parameters", [])
    assert {p["name"] for p in params} == {"id"}  # no limit/offset: it is not paginated


def test_every_operation_documents_the_house_errors(document: dict[str, Any]) -> None:
    assert document["components"]["schemas"]["Errors"]["required"] == ["errors"]
    for path, item in document["paths"].items():
        assert "{format}" not in path
        for method, op in item.items():
            codes = set(op["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            if op.get("parameters") or "requestBody" in op:
                assert "400" in codes, (method, path)
            if "{id}" in path:
                assert "404" in codes, (method, path)
            error = op["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Errors"}


def test_ids_and_filters_are_bounded_and_lists_name_only_the_filters_they_read(document: dict[str, Any]) -> None:
    from linli.core.ids import MAX_ID

    for path, item in document["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                if p["in"] == "path" or p["schema"].get("type") == "integer":
                    assert p["schema"]["type"] == "integer" and p["schema"]["maximum"] <= MAX_ID, (method, path, p)
    # /buildings/ reads compound, community and grid, not unit or dwelling (they were documented)
    names = {p["name"] for p in document["paths"]["/api/v1/buildings/"]["get"]["parameters"]}
    assert names == {"compound", "community", "grid", "q", "limit", "offset"}
    assert "parameters" not in document["paths"]["/api/v1/units/{id}/"]["get"] or {
        p["name"] for p in document["paths"]["/api/v1/units/{id}/"]["get"]["parameters"]
    } == {"id"}


def test_basic_auth_is_documented(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"


@pytest.mark.parametrize(
    "url", ["/api/v1/ballots/?status=AAA", "/api/v1/ballots/?scope_kind=x", "/api/v1/visits/?attitude=AAA"]
)
def test_an_enum_filter_refuses_an_unknown_value(world: Any, client_for: Any, url: str) -> None:
    r = client_for(world.users["community_worker"]).get(url)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "bad_parameter"


@pytest.mark.parametrize("url", ["/api/v1/me.json", "/api/v1/consensus/1/buildings/1.json", "/api/v1/buildings.json"])
def test_no_format_suffix_routes(world: Any, client_for: Any, url: str) -> None:
    """The router's ".json" twins are gone: /api/v1/me.json was a 500 (a view without ``format``)."""
    r = client_for(world.users["community_worker"]).get(url)
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("days", ["0", "3651", "9223372036854775808", "x"])
def test_consensus_days_outside_its_documented_bounds_is_refused(
    world: Any, project: Any, client_for: Any, days: str
) -> None:
    """``?days=`` was clamped silently (a 200) although the schema bounds it 1…3650 (found on
    PostgreSQL, where the run reached a building of the project)."""
    c = client_for(world.users["community_worker"])
    url = f"/api/v1/consensus/{project.pk}/buildings/{world.building_a.pk}/"
    assert c.get(url, {"days": "30"}).status_code == 200
    r = c.get(url, {"days": days})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "bad_parameter"
