"""The fast intake path (docs/open311.md "Where the time goes"): the nearest building found in SQL
first and measured exactly in Python, and the event with its history in one statement on
PostgreSQL — each must give exactly what the plain ORM path gives, on every database."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db.models.signals import post_save, pre_save

from linli.core.geo import metres
from linli.governance.models import Event
from linli.governance.services import events as governance_events
from linli.places import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"


def test_snapping_picks_the_exact_nearest_of_many(client: Any, o311: Any, settings: Any) -> None:
    """Forty buildings scattered around the position: the report lands on the nearest by metres(),
    the same one a brute-force search over every building finds."""
    rng = random.Random(11)
    lat0, lon0 = o311.pos["a"]
    compound = o311.world.building_a.compound
    for i in range(40):
        f.BuildingFactory(
            compound=compound,
            code=f"{60 + i}",
            lat=lat0 + rng.uniform(-0.002, 0.002),
            lon=lon0 + rng.uniform(-0.002, 0.002),
        )
    radius = float(settings.LINLI_EVENT_SNAP_METRES)
    for _ in range(12):
        lat, lon = lat0 + rng.uniform(-0.0015, 0.0015), lon0 + rng.uniform(-0.0015, 0.0015)
        near = [
            (d, b)
            for b in m.Building.objects.exclude(lat=None).exclude(lon=None)
            if (d := metres(lat, lon, float(b.lat or 0), float(b.lon or 0))) <= radius
        ]
        expected = min(near, key=lambda x: x[0])[1]
        spot = governance_events.locate_spot(lat, lon, within=o311.world.district.path)
        assert spot.building_id == expected.pk
        r = client.post(
            f"{BASE}requests.json",
            {"api_key": o311.raw, "service_code": "C0102", "lat": f"{lat:.7f}", "long": f"{lon:.7f}"},
        )
        assert r.status_code == 200, r.content
        event = Event.objects.get(pk=int(r.json()[0]["service_request_id"]))
        assert event.building_id == expected.pk and event.path == expected.path


def test_intake_sends_the_save_signals_and_writes_the_history(client: Any, o311: Any) -> None:
    """Whatever statement writes the event, listeners (the command centre's roll-up) see a normal
    save: pre_save while adding, post_save created=True with the id; one history entry."""
    seen: list[tuple[str, bool, int | None]] = []

    def before(sender: Any, instance: Any, **kw: Any) -> None:
        seen.append(("pre", instance._state.adding, instance.pk))

    def after(sender: Any, instance: Any, created: bool = False, **kw: Any) -> None:
        seen.append(("post", created, instance.pk))

    pre_save.connect(before, sender=Event, dispatch_uid="test-intake-pre")
    post_save.connect(after, sender=Event, dispatch_uid="test-intake-post")
    try:
        lat, lon = o311.pos["a"]
        r = client.post(
            f"{BASE}requests.json",
            {
                "api_key": o311.raw,
                "service_code": "C0101",
                "lat": lat,
                "long": lon,
                "attribute[danger_now]": "no",
                "attribute[cover]": "broken",
                "phone": "13800138000",
                "idempotency_key": "sig-1",
            },
        )
        assert r.status_code == 200, r.content
        pk = int(r.json()[0]["service_request_id"])
        # a retry writes nothing and sends nothing after the failed insert
        again = client.post(
            f"{BASE}requests.json",
            {"api_key": o311.raw, "service_code": "C0102", "lat": lat, "long": lon, "idempotency_key": "sig-1"},
        )
        assert int(again.json()[0]["service_request_id"]) == pk
    finally:
        pre_save.disconnect(dispatch_uid="test-intake-pre", sender=Event)
        post_save.disconnect(dispatch_uid="test-intake-post", sender=Event)
    assert seen[:2] == [("pre", True, None), ("post", True, pk)]
    assert [s for s in seen if s[0] == "post"] == [("post", True, pk)]
    event = Event.objects.get(pk=pk)
    assert event.attributes == {"danger_now": "no", "cover": "broken"}
    assert event.reporter_phone_masked and event.reporter_phone_enc and "13800138000" not in event.reporter_phone_enc
    assert event.token and event.client_key == "sig-1" and event.step == "collected"
    [entry] = event.log.all()
    assert (entry.move, entry.step_from, entry.step_to) == ("create", "", "collected")
    assert entry.data == {"channel": "open311"}
    assert entry.actor_id is None and entry.actor_label == "Open311: Test kiosk" and entry.at == event.created_at


def test_registered_at_once_writes_both_history_entries(o311: Any) -> None:
    user = o311.world.users["street_command"]
    event, created = governance_events.report(
        user, governance_events.Report("E0201", *o311.pos["b"]), channel="hotline"
    )
    assert created and event.step == "registered"
    rows = list(event.log.values_list("move", "step_from", "step_to", "actor_id", "data", "at"))
    assert rows == [
        ("create", "", "collected", user.pk, {"channel": "hotline"}, event.created_at),
        ("register", "collected", "registered", user.pk, {}, event.created_at),
    ]
