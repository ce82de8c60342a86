"""``linli.core.prepared``: the hot statements really are prepared on PostgreSQL, and nothing else is.

Django turns psycopg's prepared statements off (``prepare_threshold=None``); with that, psycopg
ignores ``prepare=True`` without a word, and the Open311 intake planned its two statements on every
request for months while the docs said otherwise. ``settings.py`` sets a threshold (unless
``LINLI_DB_PREPARE=0``); these tests read ``pg_prepared_statements`` of the connection itself.
"""

from __future__ import annotations

import pytest
from django.db import connection

from linli.core import prepared
from linli.places.models import District

pytestmark = pytest.mark.django_db


def _prepared_here() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in cur.fetchall()]


def test_rows_come_back_on_every_database() -> None:
    assert prepared.execute("SELECT %s + 1, %s", [41, "x"]) == [(42, "x")]
    assert prepared.execute("SELECT 1 WHERE 1 = %s", [2]) == []


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="prepared statements are PostgreSQL's")
def test_a_hot_statement_is_prepared_once_and_reused() -> None:
    sql = "SELECT %s::int * 2 AS linli_prepared_probe"
    assert prepared.execute(sql, [1]) == [(2,)]
    assert prepared.execute(sql, [21]) == [(42,)]
    mine = [s for s in _prepared_here() if "linli_prepared_probe" in s]
    assert len(mine) == 1, _prepared_here()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="prepared statements are PostgreSQL's")
def test_django_queries_are_not_prepared() -> None:
    before = len(_prepared_here())
    for _ in range(20):  # well past psycopg's default threshold of 5
        list(District.objects.filter(name="linli-probe"))
    assert len(_prepared_here()) == before


def test_first_loads_a_row_as_the_orm_does() -> None:
    """``prepared.first``: the instance ``Model.objects.filter(…).first()`` would give, every field
    (datetimes, the JSON of an event's attributes), or None."""
    ring = [[106.5, 29.5], [106.6, 29.5], [106.6, 29.6], [106.5, 29.5]]
    d = District.objects.create(
        name="linli-first-probe", code="linli-first", boundary={"type": "Polygon", "coordinates": [ring]}
    )
    got = prepared.first(District, "name = %s", ["linli-first-probe"])
    assert got is not None and not got._state.adding and got._state.db == "default"
    orm = District.objects.get(pk=d.pk)
    assert {f.attname: getattr(got, f.attname) for f in District._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in District._meta.concrete_fields
    }
    assert got.boundary == {"type": "Polygon", "coordinates": [ring]} and got.created_at == orm.created_at
    assert prepared.first(District, "name = %s", ["linli-first-nobody"]) is None


# --- build: an unsaved instance from attribute values, positionally -------------------------------


def test_build_gives_what_the_model_constructor_gives() -> None:
    import uuid
    from datetime import UTC, datetime

    from django.test.utils import CaptureQueriesContext

    from linli.governance.models import Category, Event, EventLog

    category = Category(pk=7, code="C9", name="井盖", kind="thing", sector="city")
    at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    given = {
        "kind": "thing",
        "channel": "open311",
        "description": "井盖破损",
        "attributes": {"cover": "broken"},
        "lat": 29.5,
        "lon": 106.5,
        "building_id": None,
        "community_id": 3,
        "street_id": 2,
        "path": "500107/001/003",
        "source": "k:1",
        "client_key": "abc",
        "created_at": at,
        "urgent": True,
    }
    fast = prepared.build(Event, {"category_id": 7, **given}, related={"category": category})
    slow = Event(category=category, **given)
    for f in Event._meta.concrete_fields:
        if f.attname == "token":  # a random default, drawn for each instance as Django draws it
            assert isinstance(fast.token, uuid.UUID) and fast.token != slow.token
            continue
        assert getattr(fast, f.attname) == getattr(slow, f.attname), f.attname
    assert fast._state.adding and fast.pk is None
    assert fast.attributes is given["attributes"]
    with CaptureQueriesContext(connection) as queries:
        assert fast.category is category  # cached as the constructor caches an object passed by name
    assert not queries.captured_queries
    other = prepared.build(Event, {"category_id": 7})
    assert other.attributes == {} and other.attributes is not fast.attributes  # a new default each time
    log = prepared.build(EventLog, {"at": at, "move": "create", "step_to": "collected", "data": {"c": 1}})
    assert log.at == at and log.event_id is None and log.data == {"c": 1}
    with pytest.raises(TypeError, match="category"):
        prepared.build(Event, {"category": category})  # attribute names only: category_id
