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


def _race(*calls: Any) -> list[Any]:
    """Run the calls at the same moment, each in its own thread (and database connection)."""
    outcomes: list[Any] = []
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> None:
        try:
            barrier.wait()
            outcomes.append(call())
        except Exception as exc:  # LinliError is the expected refusal; anything else fails below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == len(calls)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_workers_confirm_the_same_preview():
    """Exactly one confirmation applies; the other is told, in both languages, that it already was
    (409), and nothing is written twice."""
    from linli.places.services import apply_preview, preview_roster

    w = make_world()
    blds = [building(code="01")]
    dws = [
        dwelling(number=f"{fl}0{k}", owner_name=f"业主{fl}{k}", owner_id_number=valid_id(fl * 10 + k))
        for fl in range(1, 6)
        for k in range(1, 3)
    ]
    preview = preview_roster(w.users["community_worker"], make_xlsx(blds, dws), "r.xlsx", community=w.comm_a)
    second_worker = w.users["district_admin"]
    outcomes = _race(
        lambda: apply_preview(w.users["community_worker"], preview.pk),
        lambda: apply_preview(second_worker, preview.pk),
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1, outcomes
    [e] = errors
    assert isinstance(e, LinliError) and e.status == 409, e
    assert (
        e.problems[0].code == "already_applied" and "已由" in e.problems[0].zh and "already applied" in e.problems[0].en
    )
    assert m.Dwelling.objects.filter(building__compound__code="0002", building__community=w.comm_a).count() == 10
    assert m.Person.objects.filter(name__startswith="业主").count() == 10
    assert m.Ownership.objects.filter(person__name__startswith="业主").count() == 10
    assert m.ImportPreview.objects.get(pk=preview.pk).status == "applied"


@pytest.mark.django_db(transaction=True)
def test_two_previews_of_one_community_confirmed_at_once():
    """Two files planned from the same data: the first to commit wins, the other sees that the data
    changed under it (409) and writes nothing."""
    from linli.places.services import apply_preview, preview_roster

    w = make_world()
    user = w.users["community_worker"]
    one = preview_roster(user, make_xlsx([building(code="01")], [dwelling(area="70.00")]), "a.xlsx", community=w.comm_a)
    two = preview_roster(user, make_xlsx([building(code="01")], [dwelling(area="80.00")]), "b.xlsx", community=w.comm_a)
    outcomes = _race(lambda: apply_preview(user, one.pk), lambda: apply_preview(user, two.pk))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], LinliError) and errors[0].status == 409, errors[0]
    assert errors[0].problems[0].code in {"db_changed", "conflict"}, errors[0].problems
    areas = list(
        m.Dwelling.objects.filter(building__compound__code="0002", building__community=w.comm_a).values_list(
            "area", flat=True
        )
    )
    assert len(areas) == 1 and str(areas[0]) in {"70.00", "80.00"}
    statuses = sorted(m.ImportPreview.objects.values_list("status", flat=True))
    assert statuses == ["applied", "pending"]
