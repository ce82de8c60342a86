"""Renewal services: eligibility, buildings, items and estimates, phases, progress, sample flats.
Every refusal is bilingual and leaves nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from linli.core.errors import LinliError
from linli.renewal import queries as q
from linli.renewal import services as svc
from linli.renewal.models import OpenDay, Phase, PhaseChange, ProgressReport, Project, ProjectItem, SampleFlat
from tests import factories as f
from tests.renewal.conftest import at_phase

pytestmark = pytest.mark.django_db


def codes(exc: pytest.ExceptionInfo[LinliError]) -> set[str]:
    for p in exc.value.problems:
        assert p.zh and p.en and p.zh != p.en
    return {p.code for p in exc.value.problems}


def test_create_for_an_eligible_compound_records_the_first_phase(world):
    cw = world.users["community_worker"]
    p = svc.create_project(cw, world.compound_a, "劳动三村综合改造", buildings=[world.building_a])
    assert p.phase == Phase.SURVEY and list(p.buildings.all()) == [world.building_a]
    assert not p.eligibility_override
    assert PhaseChange.objects.get(project=p).to_phase == Phase.SURVEY


def test_a_building_of_another_compound_is_refused_without_its_name(world):
    """The error names no building: one of another community may be outside the caller's scope
    (issue 9 item 8: out of scope answers like missing)."""
    cw = world.users["community_worker"]
    with pytest.raises(LinliError) as e:
        svc.create_project(cw, world.compound_a, "劳动三村综合改造", buildings=[world.building_a, world.building_c])
    assert codes(e) == {"building_not_in_compound"}
    text = str(e.value.as_dict())
    assert world.building_c.name not in text and world.compound_c.name not in text
    assert not Project.objects.exists()


def test_younger_compound_needs_override_with_reason(world):
    young = f.CompoundFactory(community=world.comm_a, build_year=2005)
    cw = world.users["community_worker"]
    with pytest.raises(LinliError) as e:
        svc.create_project(cw, young, "新小区改造")
    assert "not_eligible" in codes(e)
    with pytest.raises(LinliError) as e:
        svc.create_project(cw, young, "新小区改造", eligibility_override=True, eligibility_reason="  ")
    assert "not_eligible" in codes(e)
    assert not Project.objects.exists() and not PhaseChange.objects.exists()
    p = svc.create_project(
        cw, young, "新小区改造", eligibility_override=True, eligibility_reason="区住建委特批:外墙脱落"
    )
    assert p.eligibility_override and p.eligibility_reason.startswith("区住建委")


def test_unknown_build_year_also_needs_override(world):
    unknown = f.CompoundFactory(community=world.comm_a, build_year=None)
    with pytest.raises(LinliError) as e:
        svc.create_project(world.users["community_worker"], unknown, "x")
    assert "not_eligible" in codes(e)


def test_buildings_must_belong_to_the_compound(world):
    with pytest.raises(LinliError) as e:
        svc.create_project(world.users["community_worker"], world.compound_a, "x", buildings=[world.building_b])
    assert "building_not_in_compound" in codes(e)
    assert not Project.objects.exists()


def test_who_may_create(world):
    with pytest.raises(Http404):
        svc.create_project(world.outsider, world.compound_a, "x")
    with pytest.raises(Http404):  # a grid worker does not see the compound as a place of their own
        svc.create_project(world.users["grid_fulltime"], world.compound_a, "x")
    with pytest.raises(PermissionDenied):  # the operator sees the compound but may not run projects
        svc.create_project(world.users["operator"], world.compound_a, "x")
    assert svc.create_project(world.users["street_command"], world.compound_a, "x").pk


def test_items_from_catalogue_and_estimates(world, project):
    cw = world.users["community_worker"]
    walls = svc.add_item(cw, project, code="basic.external_walls", quantity="1200.5")
    assert walls.name == "外墙立面整治" and walls.unit == "平方米" and walls.unit_cost == Decimal("150")
    assert walls.estimate == Decimal("180075.00")
    free = svc.add_item(
        cw, project, name="山城步道扶手", item_class="improve", quantity=40, unit_cost="250.25", unit="米"
    )
    assert free.estimate == Decimal("10010.00") and free.catalogue_item is None
    with pytest.raises(LinliError) as e:
        svc.add_item(cw, project, code="no.such")
    assert codes(e) == {"unknown_item"}
    with pytest.raises(LinliError) as e:
        svc.add_item(cw, project, name="x", item_class="basic", quantity="-1")
    assert codes(e) == {"negative"}
    with pytest.raises(LinliError) as e:
        svc.add_item(cw, project, name="x", item_class="basic", unit_cost="abc")
    assert codes(e) == {"not_a_number"}
    with pytest.raises(LinliError) as e:
        svc.add_item(cw, project, name="", item_class="demolition")
    assert codes(e) == {"bad_name", "bad_class"}
    assert ProjectItem.objects.count() == 2


def test_phases_forward_one_step_back_with_reason(world, project):
    cw = world.users["community_worker"]
    with pytest.raises(LinliError) as e:
        svc.change_phase(cw, project, Phase.BALLOT)
    assert codes(e) == {"skip_phase"}
    assert "下一步是「方案」" in e.value.problems[0].zh and "the next is “plan”" in e.value.problems[0].en
    with pytest.raises(LinliError) as e:
        svc.change_phase(cw, project, Phase.SURVEY)
    assert codes(e) == {"same_phase"}
    with pytest.raises(LinliError) as e:
        svc.change_phase(cw, project, "demolition")
    assert codes(e) == {"bad_phase"}
    for ph in (Phase.PLAN, Phase.BALLOT, Phase.NOTICE):
        svc.change_phase(cw, project, ph)
    with pytest.raises(LinliError) as e:
        svc.change_phase(cw, project, Phase.PLAN)
    assert codes(e) == {"reason_required"}
    project.refresh_from_db()
    assert project.phase == Phase.NOTICE
    svc.change_phase(cw, project, Phase.PLAN, "表决未通过,修改方案")
    project.refresh_from_db()
    assert project.phase == Phase.PLAN
    trail = list(PhaseChange.objects.filter(project=project).values_list("from_phase", "to_phase"))
    assert trail[-1] == (Phase.NOTICE, Phase.PLAN) and len(trail) == 4


def test_grid_worker_cannot_change_phase(world, project):
    with pytest.raises(PermissionDenied):
        svc.change_phase(world.users["grid_fulltime"], project, Phase.PLAN)
    with pytest.raises(Http404):
        svc.change_phase(world.outsider, project, Phase.PLAN)
    project.refresh_from_db()
    assert project.phase == Phase.SURVEY


def test_progress_reports_append_and_weight(world, project):
    cw = world.users["community_worker"]
    a = svc.add_item(cw, project, name="外墙", item_class="basic", quantity=1, unit_cost=300000)
    b = svc.add_item(cw, project, name="花园", item_class="enhance", quantity=1, unit_cost=100000)
    with pytest.raises(LinliError) as e:
        svc.report_progress(cw, a, 10)
    assert codes(e) == {"not_in_works"}
    at_phase(project, Phase.WORKS)
    svc.report_progress(cw, a, 40)
    svc.report_progress(cw, a, 50, "脚手架已拆")
    svc.report_progress(cw, b, 100)
    for bad in (101, -1, "x"):
        with pytest.raises(LinliError):
            svc.report_progress(cw, b, bad)
    assert list(ProgressReport.objects.filter(item=a).values_list("progress", flat=True)) == [40, 50]

    assert q.overall_progress(q.items_of(project)) == Decimal("62.5")
    svc.update_item(cw, a, weight="10")  # explicit weights: 10 vs b's cost share 25 → (10·50+25·100)/35
    assert q.overall_progress(q.items_of(project)) == Decimal("85.7")
    with pytest.raises(PermissionDenied):
        svc.report_progress(world.users["grid_leader"], a, 90)


@pytest.mark.dates
def test_sample_flats_and_open_days(world, project):
    cw = world.users["community_worker"]
    with pytest.raises(LinliError) as e:
        svc.add_sample_flat(cw, project, world.dwelling_b)
    assert codes(e) == {"dwelling_not_in_project"}
    flat = svc.add_sample_flat(cw, project, world.dwelling_a, "厨卫改造样板")
    now = timezone.now()
    with pytest.raises(LinliError) as e:
        svc.add_open_day(cw, flat, now, now)
    assert codes(e) == {"ends_before_start"}
    with pytest.raises(LinliError):
        svc.add_open_day(cw, flat, now, now - timedelta(hours=1))
    svc.add_open_day(cw, flat, now, now + timedelta(hours=3))
    assert SampleFlat.objects.count() == 1 and OpenDay.objects.count() == 1


def test_sample_flat_outside_chosen_buildings(world):
    cw = world.users["community_worker"]
    other = f.BuildingFactory(compound=world.compound_a, code="02", name="2栋", grid=world.grid_a)
    p = svc.create_project(cw, world.compound_a, "只改 2 栋", buildings=[other])
    with pytest.raises(LinliError):
        svc.add_sample_flat(cw, p, world.dwelling_a)


def test_historic_buildings_are_flagged(world, project):
    from linli.places.models import Building

    Building.objects.filter(pk=world.building_a.pk).update(is_historic=True)
    assert [b.pk for b in q.historic_buildings(project)] == [world.building_a.pk]
