"""log_visit: scope (404 outside, 403 without VISIT), the dwelling must be the project's, times,
tags, append-only idempotency by client_key (also under concurrency)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.utils import timezone

from linli.consult import vocab
from linli.consult.models import Visit
from linli.consult.services import visits as svc
from linli.core.errors import LinliError
from linli.renewal.models import Project
from tests import factories as f

pytestmark = pytest.mark.django_db


def codes(exc: pytest.ExceptionInfo[LinliError]) -> set[str]:
    return {p.code for p in exc.value.problems}


def test_grid_worker_logs_a_visit_in_their_grid(world, project):
    user = world.users["grid_fulltime"]
    v = svc.log_visit(user, project, world.dwelling_a, attitude="undecided", reasons=["cost", "noise", "cost"])
    assert v.pk and v.visitor == user and v.attitude == "undecided"
    assert v.reasons == ["cost", "noise"]  # vocabulary order, each once
    assert not svc.was_replayed(v)


@pytest.mark.parametrize("role", ["community_worker", "street_command", "district_admin", "grid_leader"])
def test_staff_in_scope_may_log(world, project, role):
    assert svc.log_visit(world.users[role], project, world.dwelling_a, attitude="support").pk


def test_grid_worker_cannot_log_outside_their_grid(world):
    other = Project.objects.create(compound=world.compound_b, name="民主村改造", created_by=world.admin)
    with pytest.raises(Http404):
        svc.log_visit(world.users["grid_fulltime"], other, world.dwelling_b, attitude="support")
    assert not Visit.objects.exists()


@pytest.mark.parametrize("role", ["grid_force", "resident", "department_staff", "operator"])
def test_roles_without_visit_are_refused(world, project, role):
    with pytest.raises(PermissionDenied):
        svc.log_visit(world.users[role], project, world.dwelling_a, attitude="support")


def test_outsider_gets_404(world, project):
    with pytest.raises(Http404):
        svc.log_visit(world.outsider, project, world.dwelling_a, attitude="support")


def test_dwelling_must_belong_to_the_project(world, project):
    # building_c is in another compound: the district admin sees it, the project does not hold it
    d = world.building_c.dwellings.first()
    with pytest.raises(LinliError) as exc:
        svc.log_visit(world.users["district_admin"], project, d, attitude="support")
    assert "dwelling_not_in_project" in codes(exc)


def test_project_listing_buildings_limits_its_dwellings(world, project):
    b2 = f.BuildingFactory(compound=world.compound_a, code="02", name="2栋", grid=world.grid_a)
    unit = b2.units.create(number="1")
    from linli.places.models import Dwelling

    d2 = Dwelling.objects.create(unit=unit, number="101", floor=1, area="55.00")
    project.buildings.add(b2)
    with pytest.raises(LinliError) as exc:
        svc.log_visit(world.users["community_worker"], project, world.dwelling_a, attitude="support")
    assert "dwelling_not_in_project" in codes(exc)
    assert svc.log_visit(world.users["community_worker"], project, d2, attitude="support").pk


@pytest.mark.dates
def test_future_and_before_project_are_refused(world, project):
    user = world.users["community_worker"]
    with pytest.raises(LinliError) as exc:
        svc.log_visit(
            user, project, world.dwelling_a, attitude="support", visited_at=timezone.now() + dt.timedelta(hours=1)
        )
    assert "visit_in_future" in codes(exc)
    # within the 5-minute clock skew: accepted
    assert svc.log_visit(
        user, project, world.dwelling_a, attitude="support", visited_at=timezone.now() + dt.timedelta(minutes=3)
    )
    with pytest.raises(LinliError) as exc:
        svc.log_visit(
            user, project, world.dwelling_a, attitude="support", visited_at=project.created_at - dt.timedelta(days=2)
        )
    assert "visit_before_project" in codes(exc)


@pytest.mark.dates
def test_unknown_tag_bad_attitude_and_next_visit_in_past(world, project):
    user = world.users["community_worker"]
    with pytest.raises(LinliError) as exc:
        svc.log_visit(user, project, world.dwelling_a, attitude="maybe", reasons=["cost", "free_money"])
    assert {"bad_attitude", "unknown_reason"} <= codes(exc)
    with pytest.raises(LinliError) as exc:
        svc.log_visit(
            user,
            project,
            world.dwelling_a,
            attitude="oppose",
            next_visit_on=timezone.localdate() - dt.timedelta(days=1),
        )
    assert "next_visit_in_past" in codes(exc)
    assert not Visit.objects.exists()


def test_vocabulary_is_bilingual_and_has_the_seed_reasons():
    assert vocab.label("wants_demolition") == "要拆迁补偿"
    assert vocab.label("low_floor_no_lift", "en") == "low floor, doesn't need a lift"
    for code in ("wants_demolition", "cost", "low_floor_no_lift", "noise", "distrust", "parking", "other"):
        assert code in vocab.BY_CODE
    assert all(r.zh and r.en for r in vocab.REASONS)


def test_same_client_key_returns_the_first_visit(world, project):
    user = world.users["grid_fulltime"]
    a = svc.log_visit(user, project, world.dwelling_a, attitude="support", client_key="k-1")
    b = svc.log_visit(user, project, world.dwelling_a, attitude="oppose", client_key="k-1")
    assert a.pk == b.pk and b.attitude == "support" and svc.was_replayed(b)
    assert Visit.objects.count() == 1
    # another visitor may use the same key (keys are per phone/user)
    c = svc.log_visit(world.users["grid_leader"], project, world.dwelling_a, attitude="oppose", client_key="k-1")
    assert c.pk != a.pk


def test_client_key_reused_for_another_dwelling_is_a_conflict(world, project):
    user = world.users["grid_fulltime"]
    svc.log_visit(user, project, world.dwelling_a, attitude="support", client_key="k-2")
    other = world.building_a.dwellings.exclude(pk=world.dwelling_a.pk).first()
    with pytest.raises(LinliError) as exc:
        svc.log_visit(user, project, other, attitude="support", client_key="k-2")
    assert exc.value.status == 409


def test_visits_are_append_only():
    assert not hasattr(svc, "edit_visit") and not hasattr(svc, "delete_visit")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_make_one_visit():
    from tests.conftest import make_world

    w = make_world()
    project = Project.objects.create(compound=w.compound_a, name="并发", created_by=w.admin)
    user = w.users["grid_fulltime"]
    barrier = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            results.append(svc.log_visit(user, project, w.dwelling_a, attitude="support", client_key="same-key"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(results) == 2 and results[0].pk == results[1].pk
    assert Visit.objects.filter(client_key="same-key").count() == 1
