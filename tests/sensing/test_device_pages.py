"""Device pages (issue 13 §5): the list and map per place, counts, the device page with its charts,
the token issued once; every page with every role, inside and outside its scope (the matrix)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from linli.core import clock
from linli.places import models as m
from linli.sensing.models import Alarm, Channel, Device, Lift, Reading, ReadingHour
from linli.sensing.queries import devices as q
from linli.sensing.services import devices as svc
from tests.accounts.test_permission_matrix import Where, roles, visible, where

EDIT_ROLES = {"district_admin", "community_worker", "outsider"}


def found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    m = re.search(pattern, text, flags)
    assert m is not None, pattern
    return m


def device_where(world: Any, s: Any) -> dict[str, Where]:
    """Where each device of the ``sensors`` fixture sits, in the matrix oracle's terms."""
    return {
        "LIFT-A1": where(world, world.building_a),
        "SMOKE-A": where(world, world.building_a),
        "SMOKE-B": where(world, world.building_b),
        "SMOKE-C": where(world, world.building_c),
        "PIPE-B": where(world, world.compound_b),
        "CAM-A": where(world, world.comm_a),
    }


def _alarm(device: Device, alarm_type: str = "smoke", severity: str = "critical", **kw: Any) -> Alarm:
    at = kw.pop("started_at", clock.now() - timedelta(minutes=5))
    return Alarm.objects.create(
        device=device,
        alarm_type=alarm_type,
        severity=severity,
        priority=0 if alarm_type == "trapped" else 1,
        started_at=at,
        last_at=at,
        community_id=device.community_id,
        grid_id=device.grid_id,
        path=device.path,
        **kw,
    )


@pytest.fixture
def lift(sensors: Any) -> Lift:
    """The ``sensors`` lift controller's lift: its papers, maintained 10 days ago."""
    return Lift.objects.create(
        device=sensors.lift,
        register_no="梯11渝BA0001",
        maintenance_company="重庆某电梯维保有限公司",
        maintenance_phone="023-68001234",
        insurer="某保险公司",
        policy_no="P-1",
        operator="某运营公司",
        contract_no="C-1",
        last_maintained_on=clock.today() - timedelta(days=10),
    )


def test_device_pages_matrix(world, sensors, lift, client_for):
    """Each device page: 200 inside the scope, 404 outside; the lists show only what is in scope;
    a place's list 404 outside; the token needs EDIT (403 inside without it)."""
    places = [world.comm_a, world.comm_b, world.comm_c, world.compound_a, world.compound_b, world.building_a]
    kinds = {m.Community: "community", m.Compound: "compound", m.Building: "building"}
    at = device_where(world, sensors)
    devices = {d.code: d for d in Device.objects.all()}
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        listed = c.get(reverse("sensing:device_list")).content.decode()
        counts = c.get(reverse("sensing:device_counts"))
        lifts = c.get(reverse("sensing:lift_list"))
        if counts.status_code != 200 or lifts.status_code != 200:
            failures.append(f"{role}: counts {counts.status_code}, lifts {lifts.status_code}")
        for code, device in devices.items():
            seen = visible(role, at[code])
            r = c.get(reverse("sensing:device_detail", args=[device.pk]))
            if r.status_code != (200 if seen else 404):
                failures.append(f"{role} device {code} → {r.status_code}")
            if (f'href="/sensing/devices/{device.pk}/"' in listed) != seen:
                failures.append(f"{role} list: {code} {'hidden' if seen else 'shown'}")
            token = c.post(reverse("sensing:device_token", args=[device.pk]))
            expected = 404 if not seen else 200 if role in EDIT_ROLES else 403
            if token.status_code != expected:
                failures.append(f"{role} token {code} → {token.status_code}, expected {expected}")
        seen = visible(role, at["LIFT-A1"])
        r = c.get(reverse("sensing:lift_detail", args=[lift.pk]))
        if r.status_code != (200 if seen else 404):
            failures.append(f"{role} lift page → {r.status_code}")
        if (f'href="/sensing/lifts/{lift.pk}/"' in lifts.content.decode()) != seen:
            failures.append(f"{role} lift list shows the lift")
        r = c.post(reverse("sensing:lift_maintenance", args=[lift.pk]), {"done_on": "2000-01-01", "company": "x"})
        expected = 404 if not seen else 303 if role in EDIT_ROLES else 403
        if r.status_code != expected:
            failures.append(f"{role} maintenance → {r.status_code}, expected {expected}")
        for place in places:
            kind = kinds[type(place)]
            seen = visible(role, where(world, place))
            r = c.get(reverse("sensing:place_devices", args=[kind, place.pk]))
            if r.status_code != (200 if seen else 404):
                failures.append(f"{role} {kind} {place} devices → {r.status_code}")
        for place in [world.comm_a, world.comm_b, world.comm_c]:
            seen = visible(role, where(world, place))
            expected = 404 if not seen else 200 if role in EDIT_ROLES else 403
            r = c.get(reverse("sensing:device_import", args=["community", place.pk]))
            if r.status_code != expected:
                failures.append(f"{role} import {place} → {r.status_code}, expected {expected}")
            r = c.post(
                reverse("sensing:device_import_confirm", args=["community", place.pk]),
                {"token": "0" * 32, "sha256": "x", "digest": "y"},
            )
            expected = 404 if not seen else 409 if role in EDIT_ROLES else 403
            if r.status_code != expected:
                failures.append(f"{role} import confirm {place} → {r.status_code}, expected {expected}")
        r = c.get(reverse("sensing:device_import_template"))
        if r.status_code != 200:
            failures.append(f"{role} template → {r.status_code}")
    assert not failures, "\n".join(failures)


def test_pages_need_a_sign_in(sensors, client):
    for url in [
        reverse("sensing:device_list"),
        reverse("sensing:device_counts"),
        reverse("sensing:lift_list"),
        reverse("sensing:device_detail", args=[sensors.smoke_a.pk]),
        reverse("sensing:lift_detail", args=[sensors.lift.pk]),
        reverse("sensing:device_import_template"),
    ]:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r["Location"], url


def test_bad_ids_and_kinds_are_404_not_500(world, sensors, client_for):
    c = client_for(world.admin)
    assert c.get("/sensing/devices/99999999/").status_code == 404
    assert c.get("/sensing/devices/abc/").status_code == 404
    assert c.get(f"/sensing/places/street/{world.street1.pk}/devices/").status_code == 404
    assert c.get(f"/sensing/places/nonsense/{world.comm_a.pk}/devices/").status_code == 404
    assert c.get(f"/sensing/lifts/{sensors.smoke_a.pk}/").status_code == 404  # a smoke detector is no lift
    assert c.get(f"/sensing/import/building/{world.building_a.pk}/").status_code == 404
    r = c.get(reverse("sensing:device_list") + "?kind=<script>&online=maybe&page=-3")
    assert r.status_code == 200


def test_list_filters_counts_and_map(world, sensors, client_for):
    Device.objects.filter(pk__in=[sensors.smoke_a.pk, sensors.lift.pk]).update(online=True, last_seen_at=clock.now())
    _alarm(sensors.smoke_b)
    c = client_for(world.users["district_admin"])
    page = c.get(reverse("sensing:device_list") + "?kind=smoke")
    html = page.content.decode()
    assert "SMOKE-A" in html and "SMOKE-C" in html and "PIPE-B" not in html and "LIFT-A1" not in html
    online = c.get(reverse("sensing:device_list") + "?online=1").content.decode()
    assert "SMOKE-A" in online and "SMOKE-B" not in online
    # the map: one point per device with a position, coloured by state
    data = json.loads(found(r'<script id="device-map-data" type="application/json">(.*?)</script>', html, re.S)[1])
    colours = {f["properties"]["name"].split(" · ")[0]: f["properties"]["state"] for f in data["features"]}
    assert colours["SMOKE-A"] == "online" and colours["SMOKE-B"] == "alarm" and colours["SMOKE-C"] == "offline"
    # counts per community: A has the lift and a smoke detector online, the camera offline
    counts = {row.community.pk: row for row in q.community_counts(world.users["district_admin"])}
    a = counts[world.comm_a.pk]
    assert (a.total, a.online, a.offline) == (3, 2, 1)
    assert a.by_kind["lift"] == {"online": 1, "offline": 0} and a.by_kind["camera"] == {"online": 0, "offline": 1}
    assert counts[world.comm_b.pk].total == 2 and counts[world.comm_c.pk].total == 1
    # a grid worker counts only the grid's devices
    grid = {row.community.pk: row.total for row in q.community_counts(world.users["grid_leader"])}
    assert grid == {world.comm_a.pk: 2}
    # lifts with an open fault
    _alarm(sensors.lift, "trapped")
    assert q.community_counts(world.users["district_admin"])[0].lifts_faulty == 1
    r = c.get(reverse("sensing:device_counts"))
    assert r.status_code == 200 and 'data-testid="counts"' in r.content.decode()


def test_list_pages(world, client_for):
    svc_gateway, _ = svc.issue_gateway(None, "g", world.district)
    for i in range(55):
        svc.create_device(None, code=f"S-{i:03d}", profile="smoke", building=world.building_a, gateway=svc_gateway)
    c = client_for(world.users["community_worker"])
    url = reverse("sensing:place_devices", args=["community", world.comm_a.pk])
    first = c.get(url).content.decode()
    second = c.get(url + "?page=2").content.decode()
    table = r'<table class="as-cards" data-testid="devices".*?</table>'
    assert "S-000" in found(table, first, re.S)[0] and "S-054" not in found(table, first, re.S)[0]
    assert 'data-testid="pager"' in first
    assert "S-054" in found(table, second, re.S)[0] and "S-000" not in found(table, second, re.S)[0]
    assert "S-054" in first  # the map draws every device, not only the page


def test_device_page_shows_channels_charts_and_alarms(world, sensors, client_for):
    pipe = sensors.pipe
    pressure = Channel.objects.get(device=pipe, key="pressure")
    now = clock.now()
    Reading.objects.bulk_create(
        [Reading(channel=pressure, ts=now - timedelta(minutes=10 * i), value=0.3 + i / 100) for i in range(12)]
    )
    Reading.objects.create(channel=pressure, ts=now - timedelta(days=3), value=9.9)  # outside 24 h
    Channel.objects.filter(pk=pressure.pk).update(last_value=0.3, last_at=now)
    hour = now.replace(minute=0, second=0, microsecond=0)
    ReadingHour.objects.create(
        channel=pressure, hour=hour - timedelta(days=2), n=4, min_value=0.1, max_value=0.5, sum_value=1.2
    )
    open_alarm = _alarm(pipe, "pressure_high", "major")
    old = _alarm(pipe, "pressure_low", "major", cleared=True, cleared_at=now, started_at=now - timedelta(days=1))
    c = client_for(world.outsider)  # community B's worker
    r = c.get(reverse("sensing:device_detail", args=[pipe.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert "0.3 MPa" in html
    assert f"/sensing/alarms/{open_alarm.pk}/" in html and f"/sensing/alarms/{old.pk}/" in html
    data = json.loads(found(r'<script id="chart-pressure-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert len(data["lines"]) == 1 and len(data["lines"][0]["data"]) == 12  # raw, last 24 h only
    assert [p[1] for p in data["lines"][0]["data"]][-1] == pytest.approx(0.3)
    week = c.get(reverse("sensing:device_detail", args=[pipe.pk]) + "?range=7d").content.decode()
    data = json.loads(found(r'<script id="chart-pressure-data" type="application/json">(.*?)</script>', week, re.S)[1])
    assert [len(line["data"]) for line in data["lines"]] == [1, 1, 1]
    assert data["lines"][1]["data"][0][1] == pytest.approx(0.3)  # the hour's average 1.2 / 4
    assert c.get(reverse("sensing:device_detail", args=[pipe.pk]) + "?range=<x>").status_code == 200


def test_token_is_shown_once_and_only_its_prefix_after(world, sensors, client_for):
    c = client_for(world.users["community_worker"])
    url = reverse("sensing:device_detail", args=[sensors.lift.pk])
    before = c.get(url).content.decode()
    assert sensors.lift_token not in before and sensors.lift_token[:8] in before
    r = c.post(reverse("sensing:device_token", args=[sensors.lift.pk]))
    token = found(r'<p class="token">([^<]+)</p>', r.content.decode())[1]
    lift = Device.objects.get(pk=sensors.lift.pk)
    assert lift.token_hash == svc.token_hash(token) and lift.token_hash != svc.token_hash(sensors.lift_token)
    after = c.get(url).content.decode()
    assert token not in after and token[:8] in after
    # a grid leader sees the device but may not issue a token
    assert (
        client_for(world.users["grid_leader"]).post(reverse("sensing:device_token", args=[lift.pk])).status_code == 403
    )
    assert Device.objects.get(pk=lift.pk).token_hash == svc.token_hash(token)


def test_english_page(world, sensors, client_for):
    c = client_for(world.users["district_admin"])
    c.cookies["django_language"] = "en"
    html = c.get(reverse("sensing:device_detail", args=[sensors.smoke_a.pk])).content.decode()
    assert "Channels" in html and "通道" not in html


def test_nav_offers_devices_to_roles_that_see_them(world, client_for):
    for role, user in roles(world).items():
        html = client_for(user).get(reverse("workbench:home")).content.decode()
        shown = 'data-testid="nav-devices"' in html
        assert shown == (role != "resident"), role
