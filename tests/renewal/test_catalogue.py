"""The default catalogue (rules.md §3) and a district's overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from linli.renewal import catalogue
from linli.renewal.models import CatalogueItem
from linli.renewal.services import CatalogueEntry, effective_catalogue, ensure_default_catalogue, save_district_item

pytestmark = pytest.mark.django_db


def test_defaults_cover_the_three_classes_with_unique_codes():
    codes = [i.code for i in catalogue.DEFAULT_ITEMS]
    assert len(codes) == len(set(codes))
    assert {i.item_class for i in catalogue.DEFAULT_ITEMS} == {"basic", "improve", "enhance"}
    for item in catalogue.DEFAULT_ITEMS:
        assert item.code.startswith(item.item_class + ".")
        assert item.name and item.name_en and item.unit and item.unit_cost > 0
        assert len(item.code) <= 40
    names = {i.name for i in catalogue.DEFAULT_ITEMS}
    for expected in ("外墙立面整治", "加装电梯", "社区助餐(老年食堂)", "生活垃圾分类设施"):
        assert expected in names


def test_load_command_is_idempotent(capsys):
    call_command("load_catalogue")
    call_command("load_catalogue")
    assert CatalogueItem.objects.filter(district__isnull=True).count() == len(catalogue.DEFAULT_ITEMS)
    assert "0 created" in capsys.readouterr().out


def test_lazy_load_and_district_override_and_retire(world):
    assert CatalogueItem.objects.count() == 0
    items = effective_catalogue(world.district)  # loads the defaults lazily
    assert len(items) == len(catalogue.DEFAULT_ITEMS)
    admin = world.users["district_admin"]
    save_district_item(
        admin,
        world.district,
        CatalogueEntry("basic.external_walls", "basic", "外墙整治(重庆价)", unit="平方米", unit_cost="95.50"),
    )
    save_district_item(admin, world.district, CatalogueEntry("enhance.nursery", "enhance", "幼儿园", active=False))
    save_district_item(
        admin, world.district, CatalogueEntry("improve.hillside_lift", "improve", "山城步道电梯", unit_cost=1)
    )
    eff = {i.code: i for i in effective_catalogue(world.district)}
    assert eff["basic.external_walls"].unit_cost == Decimal("95.50")
    assert eff["basic.external_walls"].district_id == world.district.pk
    assert "enhance.nursery" not in eff
    assert "improve.hillside_lift" in eff
    # the defaults themselves are untouched (another district still sees them)
    assert {i.code: i for i in effective_catalogue(None)}["basic.external_walls"].unit_cost == Decimal("150")
    assert ensure_default_catalogue() == 0


def test_only_district_editors_change_the_catalogue(world):
    from django.http import Http404

    with pytest.raises(Http404):
        save_district_item(world.users["community_worker"], world.district, CatalogueEntry("x.y", "basic", "x"))
    assert not CatalogueItem.objects.filter(code="x.y").exists()
