"""``manage.py sensing_mqtt`` against a Mosquitto of our own (``tests/mosquittod.py``): telemetry in
ThingsBoard's shapes becomes readings and alarms, malformed messages are counted, two intake
processes in one share group split the messages, and a process killed after its batch committed
but before acknowledging loses nothing and duplicates nothing (the broker sends the messages again)."""

from __future__ import annotations

import json
import logging
import threading
import time
from io import StringIO
from typing import Any

import paho.mqtt.client as paho
import pytest
from django.core.management import call_command

from linli.core import clock
from linli.sensing import mqtt
from linli.sensing.management.commands.sensing_mqtt import Consumer, Message, Options
from linli.sensing.models import Alarm, Channel, Reading
from tests import mosquittod
from tests.mosquittod import Broker

# the intake runs in a thread of its own (so: transactional); the `sensors` fixture puts the default
# profiles back after a flush
pytestmark = pytest.mark.django_db(transaction=True)
broker = mosquittod.broker  # fixture: a Mosquitto of our own for the module


def publisher(b: Broker) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="", protocol=paho.MQTTv5)
    client.connect(b.host, b.port)
    client.loop_start()
    return client


def publish(client: paho.Client, topic: str, payload: bytes | dict[str, Any] | list[Any]) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    client.publish(topic, body, qos=1).wait_for_publish(timeout=10)


def now_ms(minus_s: float = 0) -> int:
    return int((clock.now().timestamp() - minus_s) * 1000)


def start(consumer: Consumer) -> tuple[threading.Thread, threading.Event, dict[str, Any]]:
    stop = threading.Event()
    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(stats=consumer.run(stop)), daemon=True)
    thread.start()
    assert consumer.subscribed.wait(10), "the intake did not subscribe"
    return thread, stop, out


def options(b: Broker, **kw: Any) -> Options:
    kw.setdefault("client_id", f"test-{time.monotonic_ns()}")
    kw.setdefault("batch_ms", 100)
    kw.setdefault("seconds", 30)
    kw.setdefault("leave", True)  # a persistent session left behind would take its share of later tests' messages
    return Options(host=b.host, port=b.port, **kw)


def readings_of(code: str, key: str) -> list[float]:
    channel = Channel.objects.get(device__code=code, key=key)
    return list(Reading.objects.filter(channel=channel).order_by("ts").values_list("value", flat=True))


def test_telemetry_in_thingsboard_shapes_becomes_readings_and_alarms(broker: Broker, sensors: Any) -> None:
    out = StringIO()
    thread = threading.Thread(
        target=call_command,
        args=("sensing_mqtt",),
        kwargs={
            "host": broker.host,
            "port": broker.port,
            "client_id": "test-command",
            "leave": True,  # ends its session: the broker stops routing this group's messages to it
            "max_messages": 5,
            "seconds": 30,
            "batch_ms": 300,
            "stdout": out,
        },
        daemon=True,
    )
    subscribed = threading.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "subscribed" in record.getMessage():
                subscribed.set()

    seen = Seen()
    logging.getLogger("linli.sensing.mqtt").addHandler(seen)
    try:
        thread.start()
        assert subscribed.wait(20)  # the shared subscription must exist before we publish
    finally:
        logging.getLogger("linli.sensing.mqtt").removeHandler(seen)
    pub = publisher(broker)
    t = now_ms(60)
    publish(pub, mqtt.device_topic("SMOKE-A"), {"ts": t, "values": {"smoke": 0, "battery": 80}})
    publish(pub, mqtt.device_topic("SMOKE-A"), [{"ts": t + 30_000, "values": {"smoke": 1}}])  # fire
    publish(pub, mqtt.device_topic("SMOKE-B"), b"{not json")
    publish(
        pub,
        mqtt.gateway_topic(),
        {"PIPE-B": [{"ts": t, "values": {"pressure": 0.35, "flow": 20}}], "NO-SUCH": [{"ts": t, "values": {"x": 1}}]},
    )
    publish(pub, mqtt.device_topic("SMOKE-C"), {"battery": 77})  # flat: now
    thread.join(30)
    pub.disconnect()
    assert not thread.is_alive()
    line = out.getvalue()
    assert "received=5" in line and "malformed=1" in line and "accepted=6" in line and "rejected=1" in line, line
    assert readings_of("SMOKE-A", "smoke") == [0.0, 1.0]
    assert readings_of("PIPE-B", "pressure") == [0.35]
    assert readings_of("SMOKE-C", "battery") == [77.0]
    alarm = Alarm.objects.get(device__code="SMOKE-A", alarm_type="smoke")
    assert alarm.severity == "critical" and not alarm.cleared


def test_two_intake_processes_in_one_share_group_split_the_messages(broker: Broker, sensors: Any) -> None:
    a, b = Consumer(options(broker, client_id="share-a")), Consumer(options(broker, client_id="share-b"))
    ta, stop_a, out_a = start(a)
    tb, stop_b, out_b = start(b)
    pub = publisher(broker)
    t = now_ms(600)
    n = 40
    for k in range(n):
        publish(pub, mqtt.device_topic("PIPE-B"), {"ts": t + k * 1000, "values": {"flow": 10 + k}})
    deadline = time.monotonic() + 30
    while a.stats.received + b.stats.received < n and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    stop_a.set()
    stop_b.set()
    ta.join(30)
    tb.join(30)
    pub.disconnect()
    got_a, got_b = out_a["stats"], out_b["stats"]
    assert got_a.received + got_b.received == n
    assert got_a.received > 0 and got_b.received > 0, (got_a.received, got_b.received)  # the broker split them
    assert got_a.accepted + got_b.accepted == n and got_a.duplicates + got_b.duplicates == 0
    assert readings_of("PIPE-B", "flow") == [10.0 + k for k in range(n)]


class CrashBeforeAck(Consumer):
    """Dies like a killed process: its batch committed, the connection dropped before any PUBACK."""

    def _ack(self, messages: list[Message]) -> None:
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()  # no DISCONNECT: the broker sees a dead connection and keeps the session
        raise SystemExit("killed")


def test_a_process_killed_before_acknowledging_loses_and_duplicates_nothing(broker: Broker, sensors: Any) -> None:
    crashing = CrashBeforeAck(options(broker, client_id="crash-me", batch_ms=500, leave=False))
    stop = threading.Event()
    died: list[BaseException] = []

    def run() -> None:
        try:
            crashing.run(stop)
        except SystemExit as killed:
            died.append(killed)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert crashing.subscribed.wait(10)
    pub = publisher(broker)
    t = now_ms(600)
    n = 10
    for k in range(n):
        publish(pub, mqtt.device_topic("SMOKE-B"), {"ts": t + k * 1000, "values": {"battery": 90 - k}})
    thread.join(30)
    assert died and not thread.is_alive() and crashing.stats.received == n and crashing.stats.accepted == n
    stored = readings_of("SMOKE-B", "battery")
    assert len(stored) == n  # the batch committed before the "crash"
    # the process comes back with the same client id: the broker sends the unacknowledged messages again
    again = Consumer(options(broker, client_id="crash-me", max_messages=n, leave=False))
    stats = again.run(threading.Event())
    pub.disconnect()
    assert stats.received == n, stats.line()
    assert stats.duplicates == n and stats.accepted == 0  # ignored by (channel, ts)
    assert readings_of("SMOKE-B", "battery") == stored
    # and now they are acknowledged: a third start gets nothing
    third = Consumer(options(broker, client_id="crash-me", seconds=2))
    assert third.run(threading.Event()).received == 0


def test_a_stop_finishes_the_batch_in_hand(broker: Broker, sensors: Any) -> None:
    consumer = Consumer(options(broker, client_id="stopper", batch_ms=2000, batch_max=1000, leave=False))
    thread, stop, out = start(consumer)
    pub = publisher(broker)
    t = now_ms(300)
    for k in range(5):
        publish(pub, mqtt.device_topic("SMOKE-C"), {"ts": t + k * 1000, "values": {"battery": 60 + k}})
    deadline = time.monotonic() + 10
    while consumer.delivered < 5 and time.monotonic() < deadline:
        time.sleep(0.02)  # all five delivered, none ingested yet (the batch waits 2 s)
    assert consumer.stats.received == 0
    stop.set()  # SIGTERM: what was received is ingested and acknowledged before the process goes
    thread.join(30)
    pub.disconnect()
    assert out["stats"].received == 5 and out["stats"].accepted == 5
    assert len(readings_of("SMOKE-C", "battery")) == 5
    later = Consumer(options(broker, client_id="stopper", seconds=2))  # (a fresh session after --leave)
    assert later.run(threading.Event()).received == 0  # nothing left unacknowledged


def test_the_intake_comes_back_when_the_broker_does(sensors: Any) -> None:
    from tests.mosquittod import own_broker

    with own_broker() as first:
        if first is None:
            pytest.skip("mosquitto is not installed")
        port = first.port
        consumer = Consumer(options(first, client_id="comeback", seconds=60, max_messages=3))
        thread, _stop, out = start(consumer)
        pub = publisher(first)
        publish(pub, mqtt.device_topic("SMOKE-A"), {"ts": now_ms(30), "values": {"battery": 71}})
        pub.disconnect()
    # the broker is gone (restarted, with nothing kept): the intake reconnects with backoff
    consumer.subscribed.clear()
    with own_broker(port=port) as second:
        assert second is not None
        assert consumer.subscribed.wait(30), "the intake did not come back"
        pub = publisher(second)
        publish(pub, mqtt.device_topic("SMOKE-A"), {"ts": now_ms(20), "values": {"battery": 72}})
        publish(pub, mqtt.device_topic("SMOKE-A"), {"ts": now_ms(10), "values": {"battery": 73}})
        thread.join(30)
        pub.disconnect()
    assert not thread.is_alive()
    assert out["stats"].connects == 2 and out["stats"].received == 3
    assert readings_of("SMOKE-A", "battery") == [71.0, 72.0, 73.0]
