"""A switched-off api key or category is refused at once: in one process (the embedded default,
local-memory cache) and across two app "servers" sharing a real Redis (linli/core/generations.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from linli.governance.models import Category, Event
from linli.governance.services import events as governance_events
from linli.open311 import services as svc
from linli.open311.models import ApiKey
from tests import redisd

ROOT = Path(__file__).resolve().parents[2]
redis_url = redisd.redis_url  # fixtures: a Redis for the module, the default cache on it
on_redis = redisd.on_redis
URL = "/open311/v2/requests.json"


# --- one process (the embedded default): a change is refused on the very next request ------------


def _form(o311: Any, raw: str | None = None, code: str = "C0102") -> dict[str, Any]:
    lat, lon = o311.pos["a"]
    return {"api_key": raw or o311.raw, "service_code": code, "lat": lat, "long": lon, "description": "路灯不亮"}


@pytest.mark.django_db
def test_a_deactivated_key_is_refused_at_once(client: Client, o311: Any) -> None:
    assert client.post(URL, _form(o311)).status_code == 200
    assert svc.deactivate_key(o311.key.prefix) == 1
    r = client.post(URL, _form(o311))
    assert r.status_code == 403 and "deactivated" in r.content.decode()


@pytest.mark.django_db
def test_a_key_switched_off_in_the_admin_is_refused_at_once(client: Client, o311: Any) -> None:
    assert client.post(URL, _form(o311)).status_code == 200
    key = ApiKey.objects.get(pk=o311.key.pk)
    key.active = False
    key.save()  # what the admin's change form does
    assert client.post(URL, _form(o311)).status_code == 403
    key.active = True
    key.save()
    assert client.post(URL, _form(o311)).status_code == 200


@pytest.mark.django_db
def test_a_category_switched_off_is_refused_at_once(client: Client, o311: Any) -> None:
    assert client.post(URL, _form(o311)).status_code == 200
    assert governance_events.category_by_code("C0102").active
    cat = Category.objects.get(code="C0102")
    cat.active = False
    cat.save()
    r = client.post(URL, _form(o311))
    assert r.status_code == 404 and "C0102" in r.content.decode()
    assert "C0102" not in [s["service_code"] for s in client.get("/open311/v2/services.json").json()]
    with pytest.raises(Exception, match="C0102"):
        governance_events.category_by_code("C0102")  # the pages' report form too


# --- two app servers sharing Redis -------------------------------------------------------------------

_SERVER = r"""
import json, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()
from django.db import connections
from django.test.utils import override_settings, setup_test_environment
connections["default"].settings_dict["NAME"] = sys.argv[1]
override_settings(CACHES={"default": json.loads(sys.argv[2])}).enable()
setup_test_environment()
from django.test import Client
client = Client()
print("ready", flush=True)
for line in sys.stdin:
    r = client.post("/open311/v2/requests.json", json.loads(line))
    print(r.status_code, flush=True)
"""


class Server:
    """A second app server: its own process, its own in-memory caches, the same database and Redis."""

    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SERVER,
                str(connection.settings_dict["NAME"]),
                json.dumps(redisd.redis_cache(url)),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def post(self, form: dict[str, Any]) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(form) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_switch_on_one_server_is_refused_by_the_other_at_once(on_redis: str, o311: Any) -> None:
    other = Server(on_redis)
    try:
        assert other.post(_form(o311)) == 200  # the other server now holds the key and categories
        assert other.post(_form(o311)) == 200
        svc.deactivate_key(o311.key.prefix)  # on this server
        assert other.post(_form(o311)) == 403

        _key, raw = svc.issue_key("second kiosk", o311.world.district)
        assert other.post(_form(o311, raw)) == 200
        cat = Category.objects.get(code="C0102")
        cat.active = False
        cat.save()
        assert other.post(_form(o311, raw)) == 404
        cat.active = True
        cat.save()
        assert other.post(_form(o311, raw)) == 200
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_new_or_moved_building_is_snapped_to_by_the_other_server_at_once(on_redis: str, o311: Any) -> None:
    """The other server snaps from the buildings it holds in memory (places.queries.spots, used
    with a shared cache): a building saved here is the nearest there with the next request."""
    from linli.places.models import Building
    from tests import factories as f

    lat, lon = o311.pos["a"]
    spot = {**_form(o311), "lat": f"{lat + 0.0009:.7f}", "long": f"{lon:.7f}"}  # ~100 m north of "a"
    other = Server(on_redis)
    try:
        assert other.post(spot) == 200
        first = Event.objects.latest("pk").building_id
        a = Building.objects.get(pk=first)
        new = f.BuildingFactory(compound=a.compound, code="77", lat=lat + 0.0009, lon=lon)
        assert other.post(spot) == 200
        assert Event.objects.latest("pk").building_id == new.pk
        new.lat = lat + 0.5  # moved far away
        new.save()
        assert other.post(spot) == 200
        assert Event.objects.latest("pk").building_id == first
    finally:
        other.close()
