"""``manage.py sensing_mqtt``: the MQTT intake of readings (issue 13 §2, docs/sensing.md "MQTT").

Subscribes on the broker (paho-mqtt 2, MQTT 5) to ``v1/devices/+/telemetry`` and
``v1/gateway/telemetry`` (``linli/sensing/mqtt.py`` has the scheme) through *shared subscriptions*
``$share/<group>/…``: run N of these processes with the same ``--group`` and the broker hands each
message to one of them. Messages are collected for up to ``--batch-ms`` milliseconds or
``--batch-max`` messages and go through the one pipeline as one gateway-shaped batch
(``services.intake.ingest(…, via="mqtt")``, one transaction). A message that cannot be read
(not JSON, not ThingsBoard's shape, unknown topic) is counted and logged, never stops the loop.

QoS 1 with manual acknowledgement: a message is acknowledged (PUBACK) only after the batch holding
it has committed, and the session outlives the connection (``--session-expiry``), so a process
killed mid-batch loses nothing — the broker sends the unacknowledged messages again when it comes
back, and the pipeline ignores the readings already stored (one per channel and timestamp). The
broker keeps routing a stopped member's share of the messages to its session while the session
lives: a process taken away for good stops once with ``--leave`` (ends its session).

SIGTERM or SIGINT: the batch in hand is finished and acknowledged, then the process disconnects.
A lost broker is reconnected with backoff (1 s doubling to 60 s); a lost database is retried the
same way without acknowledging anything. Counters (received, malformed, accepted, duplicates,
rejected, dropped, alarms) are logged every ``--stats-every`` seconds (default a minute).
"""

from __future__ import annotations

import logging
import queue
import signal
import socket
import ssl
import threading
import time
from argparse import ArgumentParser
from dataclasses import asdict, dataclass, field
from typing import Any

import paho.mqtt.client as paho
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from linli.core import clock
from linli.core.errors import LinliError
from linli.places.models import District
from linli.sensing import mqtt
from linli.sensing.services import intake

log = logging.getLogger("linli.sensing.mqtt")


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""
    group: str = "linli"
    qos: int = 1
    client_id: str = ""
    prefix: str = ""
    district_path: str = ""
    batch_ms: int = 200
    batch_max: int = 2000
    max_readings: int = 10_000
    session_expiry: int = 3600
    receive_maximum: int = 5000
    max_messages: int = 0  # stop after this many messages (0: never) — tests and the bench
    seconds: float = 0  # stop after this many seconds (0: never)
    stats_every: float = 60
    leave: bool = False


@dataclass
class Stats:
    received: int = 0
    malformed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    dropped: int = 0
    alarms: int = 0
    batches: int = 0
    db_retries: int = 0
    connects: int = 0
    ingest_s: float = 0.0  # seconds spent in the pipeline (the rest is waiting for messages)
    errors: list[dict[str, Any]] = field(default_factory=list)  # the last few, for the log and the tests

    def line(self) -> str:
        d = asdict(self)
        d.pop("errors")
        return " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items())

    def note_error(self, error: dict[str, Any]) -> None:
        self.errors.append(error)
        del self.errors[:-50]


@dataclass
class Message:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_ms: int


def readings_in(fragment: mqtt.Fragment) -> int:
    return sum(len(e["values"]) for entries in fragment.values() for e in entries)


class Consumer:
    """The intake loop, separate from the command so that tests and the bench run it in a thread."""

    def __init__(self, options: Options) -> None:
        self.o = options
        self.stats = Stats()
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.delivered = 0  # messages the broker has handed us (``stats.received``: taken into a batch)
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.client_id = options.client_id or f"linli-sensing-{socket.gethostname()}"
        self.client = self._client()
        self._last_stats = time.monotonic()

    # --- the broker ---------------------------------------------------------------------------------

    def _client(self) -> paho.Client:
        o = self.o
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv5,
            manual_ack=o.qos > 0,
        )
        if o.username:
            client.username_pw_set(o.username, o.password or None)
        if o.tls:
            client.tls_set(ca_certs=o.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("sensing_mqtt: the broker refused the connection: %s", reason)
            return
        self.stats.connects += 1
        self.connected.set()
        log.info(
            "sensing_mqtt: connected to %s:%s as %s (session present: %s)",
            self.o.host,
            self.o.port,
            self.client_id,
            getattr(flags, "session_present", "?"),
        )
        options = paho.SubscribeOptions(qos=self.o.qos)
        client.subscribe([(mqtt.shared(self.o.group, f), options) for f in mqtt.topic_filters(self.o.prefix)])

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.error("sensing_mqtt: the broker refused the subscription: %s", failed)
        else:
            log.info("sensing_mqtt: subscribed (shared group %r, QoS %s)", self.o.group, self.o.qos)
            self.subscribed.set()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if reason.is_failure:
            log.warning("sensing_mqtt: lost the broker (%s); reconnecting with backoff", reason)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        received_ms = int(clock.now().timestamp() * 1000)
        self.delivered += 1
        self.inbox.put(Message(msg.mid, msg.qos, msg.topic, msg.payload, received_ms))

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.o.session_expiry
        props.ReceiveMaximum = self.o.receive_maximum
        self.client.connect_async(self.o.host, self.o.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        if self.o.leave:  # end the session: the broker stops routing messages to it
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
            self.client.disconnect(properties=props)
        else:
            self.client.disconnect()
        self.client.loop_stop()

    # --- the loop -------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> Stats:
        """Receive and ingest until ``stop`` is set (or ``max_messages`` / ``seconds`` are reached)."""
        self.start()
        started = time.monotonic()
        try:
            while True:
                if self.o.max_messages and self.stats.received >= self.o.max_messages:
                    break
                if self.o.seconds and time.monotonic() - started >= self.o.seconds:
                    break
                if stop.is_set():
                    self._drain(stop)
                    break
                batch = self._collect(stop)
                if batch:
                    self.process(batch, stop)
                self._maybe_log()
        finally:
            self.stop()
            close_old_connections()
            connection.close()
            log.info("sensing_mqtt: stopped — %s", self.stats.line())
        return self.stats

    def _collect(self, stop: threading.Event) -> list[Message]:
        """The next batch: the first message (waiting up to a second), then what comes within
        ``batch_ms`` of it, up to ``batch_max`` messages."""
        try:
            first = self.inbox.get(timeout=0.5)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.o.batch_ms / 1000
        while len(batch) < self.o.batch_max:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _drain(self, stop: threading.Event) -> None:
        """On stop: finish what was received already (then it is acknowledged before we go)."""
        rest: list[Message] = []
        while True:
            try:
                rest.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        for i in range(0, len(rest), self.o.batch_max):
            self.process(rest[i : i + self.o.batch_max], stop)  # the database away: give up, unacknowledged

    def process(self, batch: list[Message], stop: threading.Event | None) -> None:
        """Parse, merge and ingest one batch; acknowledge its messages once it is committed."""
        self.stats.received += len(batch)
        merged: mqtt.Fragment = {}
        parts: list[tuple[Message, mqtt.Fragment]] = []
        n = 0
        done: list[Message] = []
        for message in batch:
            try:
                fragment = mqtt.parse_message(message.topic, message.payload, message.received_ms, self.o.prefix)
            except mqtt.Malformed as bad:
                self._malformed(message, bad.code, bad.en)
                done.append(message)
                continue
            size = readings_in(fragment)
            if merged and n + size > self.o.max_readings:  # keep a batch under LINLI_SENSING_MAX_BATCH
                if not self._ingest(merged, parts, stop):
                    return
                done += [m for m, _ in parts]
                self._ack(done)
                merged, parts, n, done = {}, [], 0, []
            mqtt.merge(merged, fragment)
            parts.append((message, fragment))
            n += size
        if merged and not self._ingest(merged, parts, stop):
            return  # stopped while the database was away: nothing acknowledged, the broker sends it again
        self._ack(done + [m for m, _ in parts])

    def _ack(self, messages: list[Message]) -> None:
        if self.o.qos == 0:
            return
        for message in messages:
            if message.qos > 0:
                self.client.ack(message.mid, message.qos)

    def _malformed(self, message: Message, code: str, en: str) -> None:
        self.stats.malformed += 1
        self.stats.note_error({"code": code, "en": en, "topic": message.topic})
        log.info("sensing_mqtt: malformed message on %s: %s (%s)", message.topic, code, en)

    def _count(self, report: intake.Report) -> None:
        data = report.as_json()
        self.stats.accepted += int(data.get("accepted", 0))
        self.stats.duplicates += int(data.get("duplicates", 0))
        self.stats.rejected += int(data.get("rejected", 0))
        self.stats.dropped += int(data.get("dropped", 0))
        self.stats.alarms += int(data.get("alarms", 0))
        for error in data.get("errors", [])[:20]:
            self.stats.note_error(error)
            log.debug("sensing_mqtt: reading refused: %s", error)

    def _ingest(
        self, merged: mqtt.Fragment, parts: list[tuple[Message, mqtt.Fragment]], stop: threading.Event | None
    ) -> bool:
        """Ingest one merged batch; True once it is committed (or refused as a whole). A batch the
        pipeline refuses as a whole is ingested message by message, so one bad message costs only
        itself. False when told to stop while the database is away."""
        delay = 1.0
        t0 = time.perf_counter()
        while True:
            try:
                try:
                    self._count(intake.ingest(merged, district_path=self.o.district_path, via="mqtt"))
                except LinliError:
                    for message, fragment in parts:
                        try:
                            self._count(intake.ingest(fragment, district_path=self.o.district_path, via="mqtt"))
                        except LinliError as refused:
                            problem = refused.problems[0] if refused.problems else None
                            self._malformed(
                                message,
                                getattr(problem, "code", "refused"),
                                getattr(problem, "en", str(refused)),
                            )
                self.stats.batches += 1
                self.stats.ingest_s += time.perf_counter() - t0
                return True
            except DatabaseError:
                self.stats.db_retries += 1
                log.warning("sensing_mqtt: the database is not answering; retrying in %.0f s", delay, exc_info=True)
                close_old_connections()
                connection.close()
                if stop is not None and stop.wait(delay):
                    return False
                if stop is None:
                    time.sleep(delay)
                delay = min(delay * 2, 60.0)

    def _maybe_log(self) -> None:
        if time.monotonic() - self._last_stats >= self.o.stats_every:
            self._last_stats = time.monotonic()
            log.info("sensing_mqtt: %s", self.stats.line())


class Command(BaseCommand):
    help = (
        "从 MQTT 代理接收传感器读数(共享订阅,批量入库)/ "
        "Take sensor readings from the MQTT broker (shared subscriptions, batched intake; docs/sensing.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        d = Options()
        parser.add_argument("--host", default=settings.LINLI_MQTT_HOST, help="broker (LINLI_MQTT_HOST)")
        parser.add_argument("--port", type=int, default=settings.LINLI_MQTT_PORT, help="port (LINLI_MQTT_PORT)")
        parser.add_argument("--username", default=settings.LINLI_MQTT_USERNAME, help="login (LINLI_MQTT_USERNAME)")
        parser.add_argument(
            "--password", default=settings.LINLI_MQTT_PASSWORD, help="prefer LINLI_MQTT_PASSWORD (not seen in ps)"
        )
        parser.add_argument("--tls", action="store_true", default=settings.LINLI_MQTT_TLS, help="TLS (LINLI_MQTT_TLS)")
        parser.add_argument("--ca-file", default="", help="CA certificates for --tls (default: the system's)")
        parser.add_argument("--group", default=d.group, help="shared-subscription group (default linli)")
        parser.add_argument("--qos", type=int, choices=(0, 1), default=d.qos, help="1 (default): nothing lost")
        parser.add_argument(
            "--client-id", default="", help="MQTT client id, one per process (default linli-sensing-<host name>)"
        )
        parser.add_argument("--prefix", default="", help="topic prefix, e.g. linli/500107 (default none)")
        parser.add_argument("--district", default="", help="accept devices of this district code only")
        parser.add_argument("--batch-ms", type=int, default=d.batch_ms, help="collect for up to N ms (200)")
        parser.add_argument("--batch-max", type=int, default=d.batch_max, help="or up to N messages (2000)")
        parser.add_argument(
            "--session-expiry", type=int, default=d.session_expiry, help="seconds the broker keeps our session (3600)"
        )
        parser.add_argument("--max-messages", type=int, default=0, help="stop after N messages (tests, bench)")
        parser.add_argument("--seconds", type=float, default=0, help="stop after N seconds (tests, bench)")
        parser.add_argument("--stats-every", type=float, default=d.stats_every, help="log the counters every N s")
        parser.add_argument("--leave", action="store_true", help="end the session on stop (scaling down for good)")

    def handle(self, *args: Any, **opts: Any) -> None:
        district_path = ""
        if opts["district"]:
            district = District.objects.filter(code=opts["district"]).first()
            if district is None:
                raise CommandError(f"未知的区代码 / unknown district code: {opts['district']}")
            district_path = district.path
        if opts["batch_ms"] < 0 or opts["batch_max"] < 1:
            raise CommandError("--batch-ms ≥ 0, --batch-max ≥ 1")
        try:
            mqtt.normalise_prefix(opts["prefix"])
            mqtt.shared(opts["group"], "x")
        except ValueError as bad:
            raise CommandError(str(bad)) from None
        options = Options(
            host=opts["host"],
            port=opts["port"],
            username=opts["username"],
            password=opts["password"],
            tls=opts["tls"],
            ca_file=opts["ca_file"],
            group=opts["group"],
            qos=opts["qos"],
            client_id=opts["client_id"],
            prefix=opts["prefix"],
            district_path=district_path,
            batch_ms=opts["batch_ms"],
            batch_max=opts["batch_max"],
            max_readings=settings.LINLI_SENSING_MAX_BATCH,
            session_expiry=opts["session_expiry"],
            max_messages=opts["max_messages"],
            seconds=opts["seconds"],
            stats_every=opts["stats_every"],
            leave=opts["leave"],
        )
        if opts["verbosity"] > 0:
            logging.getLogger("linli.sensing.mqtt").setLevel(logging.INFO)
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():  # (tests run the command in a thread)
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
        consumer = Consumer(options)
        stats = consumer.run(stop)
        if opts["verbosity"] > 0:
            self.stdout.write(stats.line())
