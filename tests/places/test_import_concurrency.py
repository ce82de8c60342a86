"""Two people import the same roster at the same moment: nothing is duplicated, nothing is half
written, and the one who loses a race is told to try again (409) — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from linli.core.errors import LinliError
from linli.places import models as m
from linli.places.services import import_roster
from tests.conftest import make_world
from tests.places.test_import_service import building, dwelling, make_xlsx, valid_id


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_one_roster():
    w = make_world()
    user = w.users["community_worker"]
    blds = [building(code=f"{i:02d}") for i in range(1, 5)]
    dws = [
        dwelling(
            bld=f"{i:02d}",
            number=f"{fl}0{k}",
            owner_name=f"业主{i}{fl}{k}",
            owner_id_number=valid_id(i * 100 + fl * 10 + k),
        )
        for i in range(1, 5)
        for fl in range(1, 6)
        for k in range(1, 3)
    ]
    payload = make_xlsx(blds, dws).getvalue()
    outcomes: list[Any] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        import io

        try:
            barrier.wait()
            outcomes.append(import_roster(user, io.BytesIO(payload), "roster.xlsx"))
        except LinliError as exc:
            outcomes.append(exc)
        except Exception as exc:  # anything else is a failure of the test, reported below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 2
    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, LinliError)], outcomes
    errors = [o for o in outcomes if isinstance(o, LinliError)]
    assert len(errors) <= 1, errors
    for e in errors:
        assert e.status in (409, 503) and e.problems[0].zh and e.problems[0].en
    # exactly one copy of everything
    assert m.Building.objects.filter(compound__community=w.comm_a, compound__code="0002").count() == 4
    assert m.Dwelling.objects.filter(building__compound__code="0002", building__community=w.comm_a).count() == 40
    assert m.Person.objects.filter(name__startswith="业主").count() == 40
    assert m.Ownership.objects.filter(person__name__startswith="业主").count() == 40
