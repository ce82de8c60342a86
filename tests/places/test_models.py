from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from linli.places import codes
from linli.places import models as m

pytestmark = pytest.mark.django_db


def test_paths_follow_the_codes(world):
    assert world.district.path == "500107/"
    assert world.comm_a.path == "500107/001/001/"
    assert world.building_a.path == "500107/001/001/0001/01/"
    assert world.dwelling_a.building_id == world.building_a.pk
    assert world.building_a.community_id == world.comm_a.pk


def test_a_grid_never_crosses_communities(world):
    world.building_a.grid = world.grid_b
    with pytest.raises(ValidationError) as exc:
        world.building_a.save()
    assert "grid" in exc.value.message_dict
    world.building_a.refresh_from_db()
    assert world.building_a.grid_id == world.grid_a.pk


def test_renovation_eligibility_by_age(world, settings):
    assert world.compound_a.renovation_eligible_by_age() is True  # 1958
    world.compound_c.build_year = 2001
    assert world.compound_c.renovation_eligible_by_age() is False
    world.compound_c.build_year = 2000
    assert world.compound_c.renovation_eligible_by_age() is True  # "before the end of 2000"
    world.compound_c.build_year = None
    assert world.compound_c.renovation_eligible_by_age() is None


def test_personal_data_is_encrypted_at_rest(world):
    row = m.Person.objects.filter(pk=world.owner_a.pk).values("id_number_enc", "id_number_masked", "phone_enc").get()
    assert "110101199003070011" not in row["id_number_enc"] and row["id_number_enc"].startswith("gAAAA")
    assert row["id_number_masked"] == "1101**********0011"
    assert "13800138000" not in row["phone_enc"]


def test_grid_codes_and_numbering():
    assert codes.grid_code("500107", "1", "3", 12) == "500107001003012"
    with pytest.raises(ValueError):
        codes.grid_code("50010", "1", "3", 1)
    with pytest.raises(ValueError):
        codes.grid_code("500107", "1", "3", 1000)
    # north→south bands, west→east inside a band
    centres = [(29.50, 106.52), (29.51, 106.50), (29.50, 106.50), (29.51, 106.53)]
    assert codes.number_west_to_east(centres) == [4, 1, 3, 2]
    with pytest.raises(ValueError):
        codes.child_path("500107/", "bad code!")
