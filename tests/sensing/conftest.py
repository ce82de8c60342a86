"""Shared fixtures of the sensing tests: devices of every default profile on the ``world``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from linli.places import models as places_models
from linli.sensing.services import devices as svc


@pytest.fixture
def sensors(world: Any) -> SimpleNamespace:
    """A gateway of the district (``gateway_token``); a lift in unit 1 of building A with a token of
    its own (``lift_token``); a smoke detector in building A, one in building B and one in building C
    (another street); a pipe sensor in compound B and a camera at a point in community A."""
    svc.load_default_profiles()  # a transactional test before this one flushed migration 0002's rows
    unit, _ = places_models.Unit.objects.get_or_create(building=world.building_a, number="1")
    gateway, gateway_token = svc.issue_gateway(None, "测试网关", world.district)
    lift = svc.create_device(None, code="LIFT-A1", profile="lift", unit=unit, gateway=gateway, name="1栋1单元电梯")
    lift_token = svc.issue_device_token(None, lift)
    smoke_a = svc.create_device(None, code="SMOKE-A", profile="smoke", building=world.building_a, gateway=gateway)
    smoke_b = svc.create_device(None, code="SMOKE-B", profile="smoke", building=world.building_b, gateway=gateway)
    smoke_c = svc.create_device(None, code="SMOKE-C", profile="smoke", building=world.building_c, gateway=gateway)
    pipe = svc.create_device(None, code="PIPE-B", profile="pipe", compound=world.compound_b, gateway=gateway)
    camera = svc.create_device(
        None, code="CAM-A", profile="camera", community=world.comm_a, lat=29.5, lon=106.5, gateway=gateway
    )
    return SimpleNamespace(
        unit=unit,
        gateway=gateway,
        gateway_token=gateway_token,
        lift=lift,
        lift_token=lift_token,
        smoke_a=smoke_a,
        smoke_b=smoke_b,
        smoke_c=smoke_c,
        pipe=pipe,
        camera=camera,
    )
