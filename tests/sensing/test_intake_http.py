"""POST /sensing/telemetry/: bearer tokens of gateways and devices, every refusal, never a 500."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from linli.places import models as places_models
from linli.sensing.models import Device, Gateway, Reading
from linli.sensing.queries import intake as q
from linli.sensing.services import devices as sensing_devices

pytestmark = pytest.mark.django_db
URL = "/sensing/telemetry/"


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    caches["default"].clear()
    q.forget()
    yield
    q.forget()


def post(token: str | None, body: Any, content_type: str = "application/json", **extra: Any) -> Any:
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post(URL, data=data, content_type=content_type, **headers, **extra)


def test_the_url_is_where_the_docs_say() -> None:
    assert reverse("sensing:telemetry") == URL


def test_a_device_token_posts_its_own_telemetry(sensors: SimpleNamespace) -> None:
    r = post(sensors.lift_token, [{"ts": 1_764_000_000_000, "values": {"running": True, "floor": 4}}])
    assert r.status_code == 200, r.content
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": 0, "dropped": 0, "alarms": 0, "errors": []}
    again = post(sensors.lift_token, [{"ts": 1_764_000_000_000, "values": {"running": True, "floor": 4}}])
    assert again.json()["duplicates"] == 2 and Reading.objects.count() == 2
    # a device token cannot post for another device: the gateway shape reads as unknown channels
    other = post(sensors.lift_token, {"SMOKE-A": {"ts": 1_764_000_000_000, "values": {"smoke": 1}}})
    assert other.status_code == 200 and other.json()["errors"][0]["code"] == "unknown_channel"
    assert Reading.objects.count() == 2


def test_a_gateway_token_posts_for_its_district(sensors: SimpleNamespace) -> None:
    r = post(sensors.gateway_token, {"SMOKE-A": {"battery": 80}, "PIPE-B": {"pressure": 0.3}, "NOPE": {"x": 1}})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["accepted"] == 2 and body["rejected"] == 1 and body["errors"][0]["code"] == "unknown_device"
    assert Gateway.objects.get(pk=sensors.gateway.pk).last_used_at is not None


def test_a_token_of_another_district_reaches_none_of_ours(sensors: SimpleNamespace) -> None:
    other = places_models.District.objects.create(code="500108", name="南岸区", path="500108/")
    _gw, token = sensing_devices.issue_gateway(None, "南岸网关", other)
    r = post(token, {"SMOKE-A": {"battery": 80}})
    assert r.status_code == 200
    assert r.json()["accepted"] == 0 and r.json()["errors"][0]["code"] == "unknown_device"
    assert not Reading.objects.exists()


def test_refusals(sensors: SimpleNamespace) -> None:
    ok = {"battery": 50}
    r = post(None, ok)
    assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["errors"][0]["code"] == "no_token"
    r = Client().post(URL, data="{}", content_type="application/json", HTTP_AUTHORIZATION="Basic dXNlcjpwdw==")
    assert r.status_code == 401
    r = post("not-a-token", ok)
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "bad_token"
    r = post("x" * 10_000, ok)
    assert r.status_code == 401
    r = post(sensors.gateway_token, "SMOKE-A=1", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    r = post(sensors.gateway_token, "{not json", content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "bad_json"
    r = post(sensors.gateway_token, b"\xff\xfe", content_type="application/json")
    assert r.status_code == 400
    r = post(sensors.gateway_token, "[" * 100_000 + "]" * 100_000)
    assert r.status_code == 400
    r = post(sensors.gateway_token, [1, 2, 3])
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "bad_payload"
    r = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {sensors.gateway_token}")
    assert r.status_code == 405 and r["Allow"] == "POST"
    assert not Reading.objects.exists()


@override_settings(LINLI_SENSING_MAX_BATCH=3)
def test_too_many_readings_is_a_413(sensors: SimpleNamespace) -> None:
    r = post(
        sensors.gateway_token, {"SMOKE-A": [{"ts": 1_764_000_000_000 + i, "values": {"battery": 1}} for i in range(4)]}
    )
    assert r.status_code == 413 and r.json()["errors"][0]["code"] == "batch_too_large"


def test_a_switched_off_token_stops_at_once(sensors: SimpleNamespace) -> None:
    assert post(sensors.gateway_token, {"SMOKE-A": {"battery": 80}}).status_code == 200  # now held in memory
    gateway = Gateway.objects.get(pk=sensors.gateway.pk)
    gateway.active = False
    gateway.save()
    r = post(sensors.gateway_token, {"SMOKE-A": {"battery": 80}})
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "token_inactive"
    device = Device.objects.get(pk=sensors.lift.pk)
    assert post(sensors.lift_token, {"floor": 2}).status_code == 200
    new_token = sensing_devices.issue_device_token(None, device)  # replaces the old token (a bulk update)
    assert post(sensors.lift_token, {"floor": 2}).status_code == 401
    assert post(new_token, {"floor": 3}).status_code == 200
    device.refresh_from_db()
    device.active = False
    device.save()
    assert post(new_token, {"floor": 3}).status_code == 403


def test_fuzzed_bodies_never_answer_500(sensors: SimpleNamespace) -> None:
    bodies: list[Any] = [
        {},
        [],
        {"SMOKE-A": []},
        {"SMOKE-A": {}},
        {"SMOKE-A": {"ts": None, "values": {}}},
        {"SMOKE-A": {"ts": 1e308, "values": {"battery": 1}}},
        {"SMOKE-A": {"ts": -1, "values": {"battery": 1}}},
        {"SMOKE-A": {"ts": 2**80, "values": {"battery": 2**80}}},
        {"SMOKE-A": {"ts": True, "values": {"battery": None}}},
        {"SMOKE-A": {"battery": {"nested": 1}}},
        {"SMOKE-A": {"battery": "1e999"}},
        {"SMOKE-A": {"battery": "NaN"}},
        {"x" * 1000: {"battery": 1}},
        {"SMOKE-A": {"\u0000": 1}},
        {"": {"a": 1}},
        [{"device": "SMOKE-A", "telemetry": "no"}],
        [{"device": 5}],
    ]
    for body in bodies:
        r = post(sensors.gateway_token, body)
        assert r.status_code in (200, 400), (body, r.status_code, r.content[:200])
    r = post(sensors.gateway_token, '{"SMOKE-A": {"battery": NaN, "smoke": Infinity}}')
    assert r.status_code == 200 and [e["code"] for e in r.json()["errors"]] == ["bad_value", "bad_value"]


def test_the_lean_middleware_stack_production_uses_serves_it(sensors: SimpleNamespace) -> None:
    """/sensing/telemetry/ is one of LINLI_LEAN_PATHS (linli/core/handlers.py): no session, CSRF or locale."""
    from django.conf import settings
    from django.test.client import ClientHandler

    from linli.core.handlers import LeanMiddleware

    class LeanClientHandler(LeanMiddleware, ClientHandler):
        pass

    assert URL.startswith(tuple(settings.LINLI_LEAN_PATHS))
    c = Client()
    c.handler = LeanClientHandler(enforce_csrf_checks=True)
    r = c.post(
        URL,
        data=json.dumps({"SMOKE-A": {"battery": 70}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sensors.gateway_token}",
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert "Set-Cookie" not in r.headers
