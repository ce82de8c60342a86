"""The sensing admin (issue 13 §1): profiles with their channels and rules, gateways (token shown
once), devices (place read-only, a token action), lifts with maintenance; scoped like every admin."""

from __future__ import annotations

import re

from django.contrib.auth.models import Permission
from django.urls import reverse

from linli.sensing.models import Device, DeviceProfile, Gateway, Lift, ProfileChannel
from linli.sensing.services import devices as svc


def found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    m = re.search(pattern, text, flags)
    assert m is not None, pattern
    return m


def test_every_page_opens_for_the_superuser(world, sensors, client_for):
    Lift.objects.create(device=sensors.lift, register_no="梯11渝BA0001", maintenance_company="某电梯公司")
    c = client_for(world.admin)
    for model, pk in [
        ("deviceprofile", DeviceProfile.objects.get(code="lift").pk),
        ("gateway", sensors.gateway.pk),
        ("device", sensors.lift.pk),
        ("lift", sensors.lift.pk),
    ]:
        assert c.get(reverse(f"admin:sensing_{model}_changelist")).status_code == 200, model
        assert c.get(reverse(f"admin:sensing_{model}_change", args=[pk])).status_code == 200, model
    html = c.get(reverse("admin:sensing_deviceprofile_change", args=[DeviceProfile.objects.get(code="lift").pk]))
    assert "fault" in html.content.decode() and "lift_fault" in html.content.decode()  # channels and rules inline
    assert c.get(reverse("admin:sensing_device_add")).status_code == 403  # devices come in by import


def test_profiles_are_data_edited_with_inline_channels(world, client_for):
    c = client_for(world.admin)
    r = c.post(
        reverse("admin:sensing_deviceprofile_add"),
        {
            "code": "gas",
            "name": "燃气探测器",
            "name_en": "Gas detector",
            "kind": "other",
            "offline_after_s": "3600",
            "offline_severity": "minor",
            "channels-TOTAL_FORMS": "1",
            "channels-INITIAL_FORMS": "0",
            "channels-0-key": "gas",
            "channels-0-name": "燃气浓度",
            "channels-0-unit": "%LEL",
            "channels-0-value_type": "number",
            "channels-0-min_value": "0",
            "channels-0-max_value": "100",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-0-channel_key": "gas",
            "rules-0-kind": "threshold",
            "rules-0-alarm_type": "threshold",
            "rules-0-severity": "critical",
            "rules-0-above": "25",
            "rules-0-for_s": "0",
            "rules-0-active": "on",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    gas = DeviceProfile.objects.get(code="gas")
    assert ProfileChannel.objects.get(profile=gas).unit == "%LEL" and gas.rules.get().above == 25
    device = svc.create_device(None, code="GAS-1", profile="gas", building=world.building_a)
    assert list(device.channels.values_list("key", flat=True)) == ["gas"]


def test_a_new_gateway_shows_its_token_once(world, client_for):
    c = client_for(world.admin)
    r = c.post(
        reverse("admin:sensing_gateway_add"),
        {"name": "新网关", "district": world.district.pk, "active": "on"},
        follow=True,
    )
    token = found(r"shown only this once: ([A-Za-z0-9_-]+)", r.content.decode())[1]
    gw = Gateway.objects.get(name="新网关")
    assert gw.token_hash == svc.token_hash(token) and gw.prefix == token[:8] and gw.active
    page = c.get(reverse("admin:sensing_gateway_change", args=[gw.pk])).content.decode()
    assert token not in page and gw.prefix in page


def test_device_token_action(world, sensors, client_for):
    c = client_for(world.admin)
    r = c.post(
        reverse("admin:sensing_device_changelist"),
        {"action": "issue_token", "_selected_action": [sensors.smoke_a.pk]},
        follow=True,
    )
    token = found(r"SMOKE-A: ([A-Za-z0-9_-]+) \(", r.content.decode())[1]
    assert Device.objects.get(pk=sensors.smoke_a.pk).token_hash == svc.token_hash(token)


def test_staff_see_only_their_scope(world, sensors, client_for):
    worker = world.users["community_worker"]
    worker.is_staff = True
    worker.save()
    worker.user_permissions.add(*Permission.objects.filter(content_type__app_label="sensing"))
    c = client_for(worker)
    html = c.get(reverse("admin:sensing_device_changelist")).content.decode()
    assert "SMOKE-A" in html and "SMOKE-B" not in html and "SMOKE-C" not in html
    assert c.get(reverse("admin:sensing_device_change", args=[sensors.smoke_b.pk])).status_code in {302, 404}
    profiles = c.get(reverse("admin:sensing_deviceprofile_changelist")).content.decode()
    lift = DeviceProfile.objects.get(code="lift")
    assert reverse("admin:sensing_deviceprofile_change", args=[lift.pk]) not in profiles  # superusers only
