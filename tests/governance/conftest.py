"""Fixtures for grid events: the default catalogue of the world's district, departments with staff,
and buildings set apart on the map (the shared factories put every building on one spot).

gov.cg        区城市管理局 (owner of manhole covers, C0101), staff ``gov.cg_staff`` and ``gov.cg_staff2``
gov.gs        自来水公司 (owner of water mains, C0103), staff ``gov.gs_staff``
gov.locality  谢家湾街道(属地), staff ``gov.locality_staff``
positions     building_a (29.5000, 106.5000), building_b 700 m north-east, building_c 3 km away
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from linli.accounts.models import Department, User
from linli.accounts.services import grant_role
from linli.governance.services import events as svc
from linli.places import models as m
from tests import factories as f

POS = {"a": (29.5000, 106.5000), "b": (29.5050, 106.5050), "c": (29.5200, 106.5200)}


@dataclass
class Gov:
    world: Any
    cg: Department
    gs: Department
    locality: Department
    cg_staff: User
    cg_staff2: User
    gs_staff: User
    locality_staff: User


def make_gov(world: Any) -> Gov:
    for key, building in (("a", world.building_a), ("b", world.building_b), ("c", world.building_c)):
        m.Building.objects.filter(pk=building.pk).update(lat=POS[key][0], lon=POS[key][1])
        building.refresh_from_db()
    svc.ensure_catalogue(world.district)
    code = world.district.code
    cg = Department.objects.get(code=f"{code}-CG")
    gs = Department.objects.get(code=f"{code}-GS")
    locality = svc.locality_for(world.street1)[0]
    users = {}
    for name, dept in (("cg_staff", cg), ("cg_staff2", cg), ("gs_staff", gs), ("locality_staff", locality)):
        users[name] = f.UserFactory(username=name)
        grant_role(world.admin, users[name], "department_staff", dept)
    return Gov(world, cg, gs, locality, **users)


@pytest.fixture
def gov(world: Any) -> Gov:
    return make_gov(world)
