"""``manage.py simulate_sensors``: live readings over HTTP (the intake endpoint, gateway token) and over
MQTT (through ``sensing_mqtt``), and a trapped-passenger alarm that becomes a grid event."""

from __future__ import annotations

import threading
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from linli.governance.models import Event
from linli.governance.services import events as governance_events
from linli.sensing.management.commands.sensing_mqtt import Consumer, Options
from linli.sensing.models import Alarm, Channel, Device
from tests import mosquittod
from tests.mosquittod import Broker
from tests.sensing import conftest as sensing_conftest

# live_server and the MQTT intake run in threads of their own (so: transactional); the `sensors`
# fixture puts the default profiles back after a flush
pytestmark = pytest.mark.django_db(transaction=True)
broker = mosquittod.broker  # fixture: a Mosquitto of our own for the module
sensors = sensing_conftest.sensors  # fixture: the devices of tests/sensing/conftest.py


def _check_trapped_alarm_opened_a_grid_event() -> None:
    alarm = Alarm.objects.get(device__code="LIFT-A1", alarm_type="trapped")
    assert alarm.severity == "critical" and alarm.priority == 0 and not alarm.cleared
    assert alarm.event_id is not None
    event = Event.objects.get(pk=alarm.event_id)
    assert event.channel == "sensor"


def test_over_http_every_channel_reports_and_the_trapped_lift_opens_a_grid_event(
    live_server: Any, world: Any, sensors: Any
) -> None:
    governance_events.ensure_catalogue(world.district)
    out = StringIO()
    call_command(
        "simulate_sensors",
        url=live_server.url,
        token=sensors.gateway_token,
        rounds=1,
        trapped="LIFT-A1",
        seed=1,
        stdout=out,
    )
    text = out.getvalue()
    devices = Device.objects.filter(gateway=sensors.gateway)
    channels = Channel.objects.filter(device__in=devices)
    assert f"{channels.count()} readings" in text and "'rejected': 0" in text, text
    assert not channels.filter(last_at__isnull=True).exists()
    assert Channel.objects.get(device__code="LIFT-A1", key="fault").last_value == 1
    _check_trapped_alarm_opened_a_grid_event()
    assert "/governance/events/" in text


def test_over_mqtt_through_the_intake(broker: Broker, world: Any, sensors: Any) -> None:
    governance_events.ensure_catalogue(world.district)
    expected = Device.objects.filter(active=True).count()
    consumer = Consumer(Options(host=broker.host, port=broker.port, client_id="sim-test", leave=True, seconds=30))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    assert consumer.subscribed.wait(10)
    out = StringIO()
    call_command(
        "simulate_sensors",
        mqtt=True,
        mqtt_host=broker.host,
        mqtt_port=broker.port,
        rounds=1,
        trapped="LIFT-A1",
        stdout=out,
    )
    assert f"'published': {expected}" in out.getvalue()
    deadline = time.monotonic() + 20
    while consumer.stats.received < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the last batch committed
    stop.set()
    thread.join(30)
    assert consumer.stats.received == expected and consumer.stats.rejected == 0, consumer.stats.line()
    _check_trapped_alarm_opened_a_grid_event()


def test_refuses_clearly(world: Any, sensors: Any, monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setenv("LINLI_VAR_DIR", str(tmp_path))  # no demo token kept there
    with pytest.raises(CommandError, match="token"):
        call_command("simulate_sensors", rounds=1, stdout=StringIO())
    with pytest.raises(CommandError, match="unknown gateway token"):
        call_command("simulate_sensors", token="nope", rounds=1, stdout=StringIO())
    with pytest.raises(CommandError, match="no such lift"):
        call_command("simulate_sensors", token=sensors.gateway_token, trapped="SMOKE-A", rounds=1, stdout=StringIO())
    with pytest.raises(CommandError, match="does not answer"):
        call_command(
            "simulate_sensors", token=sensors.gateway_token, url="http://127.0.0.1:9/", rounds=1, stdout=StringIO()
        )
    with pytest.raises(CommandError, match="MQTT"):
        call_command("simulate_sensors", mqtt=True, mqtt_port=9, rounds=1, stdout=StringIO())
