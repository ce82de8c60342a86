"""Devices at places, their channels from the profile, tokens (services/devices.py)."""

from __future__ import annotations

import pytest

from linli.core.errors import LinliError
from linli.sensing.models import Channel, Device, DeviceProfile
from linli.sensing.services import devices as svc


def test_default_profiles_are_loaded(db):
    assert set(DeviceProfile.objects.values_list("code", flat=True)) >= {"lift", "smoke", "pipe", "camera"}
    lift = DeviceProfile.objects.get(code="lift")
    assert {c.key for c in lift.channels.all()} == {"running", "door_open", "fault", "floor", "speed"}
    assert lift.rules.filter(kind="fault_code").exists()


def test_device_copies_its_place_and_gets_its_channels(world, sensors):
    lift = sensors.lift
    assert lift.building_id == world.building_a.pk and lift.unit_id == sensors.unit.pk
    assert lift.community_id == world.comm_a.pk and lift.grid_id == world.grid_a.pk
    assert lift.path == world.building_a.path
    assert set(Channel.objects.filter(device=lift).values_list("key", flat=True)) == {
        "running",
        "door_open",
        "fault",
        "floor",
        "speed",
    }
    assert sensors.pipe.path == world.compound_b.path and sensors.pipe.grid_id is None
    assert sensors.camera.path == world.comm_a.path and (sensors.camera.lat, sensors.camera.lon) == (29.5, 106.5)


def test_tokens_are_stored_hashed(sensors):
    assert sensors.gateway.token_hash == svc.token_hash(sensors.gateway_token)
    assert sensors.gateway_token not in (sensors.gateway.prefix + sensors.gateway.token_hash)
    lift = Device.objects.get(pk=sensors.lift.pk)
    assert lift.token_hash == svc.token_hash(sensors.lift_token) and lift.token_prefix == sensors.lift_token[:8]


@pytest.mark.parametrize("code", ["", "has space", "a/b", "x" * 65, "a+b", "a#"])
def test_bad_device_codes_are_refused(world, code):
    with pytest.raises(LinliError):
        svc.create_device(None, code=code, profile="smoke", building=world.building_a)
    assert not Device.objects.exists()


def test_duplicate_code_unknown_profile_and_no_place(world, sensors):
    with pytest.raises(LinliError) as e:
        svc.create_device(None, code="SMOKE-A", profile="smoke", building=world.building_a)
    assert e.value.status == 409
    with pytest.raises(LinliError):
        svc.create_device(None, code="NEW", profile="nope", building=world.building_a)
    with pytest.raises(LinliError):
        svc.create_device(None, code="NEW", profile="smoke")
    assert not Device.objects.filter(code="NEW").exists()


def test_a_person_needs_edit_at_the_place(world, sensors):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises((PermissionDenied, Http404)):
        svc.create_device(world.users["grid_fulltime"], code="G1", profile="smoke", building=world.building_a)
    device = svc.create_device(world.users["community_worker"], code="C1", profile="smoke", building=world.building_a)
    assert device.pk


def test_default_profiles_come_back_after_a_flush(db):
    """A transactional test flushes migration 0002's rows; the loader puts back only what is missing
    and never changes a profile a district has edited."""
    DeviceProfile.objects.filter(code="lift").update(offline_after_s=42)
    DeviceProfile.objects.filter(code="smoke").delete()
    assert svc.load_default_profiles() == 1
    assert DeviceProfile.objects.get(code="lift").offline_after_s == 42
    smoke = DeviceProfile.objects.get(code="smoke")
    assert {c.key for c in smoke.channels.all()} == {"smoke", "battery"} and smoke.rules.count() == 2
    assert svc.load_default_profiles() == 0
