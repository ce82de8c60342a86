"""``manage.py simulate_sensors``: live readings for the demo devices, as their gateway would send them
(docs/demo.md "Sensors and lifts").

Every ``--every`` seconds (default 60) one round: a reading of every channel of every active device
of the demo gateway (``--devices N``: the first N), timestamped now, in ThingsBoard's shapes —

* over HTTP (default): ``POST <--url>sensing/telemetry/`` with ``Authorization: Bearer <--token>``
  (default: the demo gateway's token that ``load_demo_sensing`` kept in ``LINLI_VAR_DIR``), the
  gateway shape in pieces of at most 5,000 readings;
* over MQTT (``--mqtt``, when a broker answers at ``--mqtt-host``/``--mqtt-port``, by default
  LINLI_MQTT_HOST/PORT): each device on its own topic ``v1/devices/<code>/telemetry`` at QoS 1, for
  ``manage.py sensing_mqtt`` to take in.

``--trapped <lift code>`` makes that lift report fault code 1 (困人, passengers trapped) from the first
round on, stopped between floors with its doors shut: the pipeline raises the critical alarm, which
opens a grid event — both are printed. ``--free-after S`` frees them after S seconds (fault 0, doors
open); without it they stay trapped until the duty officer clears the alarm (the lift keeps
reporting the fault). ``--rounds N`` stops after N rounds (default: run until Ctrl-C).
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core import clock
from linli.demo import sensing as demo_sensing
from linli.demo.management.commands.load_demo_sensing import chunks, token_path
from linli.sensing import faults, mqtt
from linli.sensing.models import Alarm, Device, Gateway
from linli.sensing.services.devices import token_hash

TRAPPED = next(code for code, fault in faults.FAULTS.items() if fault.alarm_type == faults.TRAPPED)


def saved_token() -> str:
    try:
        with open(token_path(), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


class Command(BaseCommand):
    help = "为演示设备发送实时读数(HTTP 或 MQTT)/ Send live readings for the demo devices (HTTP or MQTT)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="the site (HTTP intake at sensing/telemetry/)"
        )
        parser.add_argument(
            "--token", default="", help="gateway token (default: the demo gateway's, from LINLI_VAR_DIR)"
        )
        parser.add_argument("--mqtt", action="store_true", help="publish over MQTT instead of HTTP")
        parser.add_argument("--mqtt-host", default=settings.LINLI_MQTT_HOST)
        parser.add_argument("--mqtt-port", type=int, default=settings.LINLI_MQTT_PORT)
        parser.add_argument("--every", type=float, default=60, help="seconds between rounds (default 60)")
        parser.add_argument("--devices", type=int, default=0, help="only the first N devices (default all)")
        parser.add_argument("--rounds", type=int, default=0, help="stop after N rounds (default: never)")
        parser.add_argument("--trapped", default="", metavar="LIFT", help="trap passengers in this lift (困人)")
        parser.add_argument("--free-after", type=float, default=0, help="free them after N seconds (default never)")
        parser.add_argument("--seed", type=int, default=None, help="random seed of the values")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["every"] <= 0 or opts["devices"] < 0 or opts["rounds"] < 0:
            raise CommandError("--every > 0, --devices ≥ 0, --rounds ≥ 0")
        token = opts["token"] or saved_token()
        devices = Device.objects.filter(active=True).select_related("profile", "unit__building").order_by("code")
        if not opts["mqtt"]:
            if not token:
                raise CommandError(
                    "没有网关令牌:请用 --token,或先运行 load_demo_sensing。/ "
                    "No gateway token: give --token, or run load_demo_sensing first."
                )
            gateway = Gateway.objects.filter(token_hash=token_hash(token)).first()
            if gateway is None:
                raise CommandError("未知的网关令牌 / unknown gateway token")
            devices = devices.filter(gateway=gateway)
        chosen = list(devices[: opts["devices"]] if opts["devices"] else devices)
        if not chosen:
            raise CommandError("没有设备:请先运行 load_demo_sensing。/ No devices: run load_demo_sensing first.")
        trapped = opts["trapped"]
        if trapped and not any(d.code == trapped and d.profile.kind == "lift" for d in chosen):
            raise CommandError(f"没有这台电梯 / no such lift among the devices: {trapped}")
        send = self._mqtt_sender(opts) if opts["mqtt"] else self._http_sender(opts["url"], token)
        r = random.Random(opts["seed"])
        started = time.monotonic()
        n = 0
        via = "MQTT" if opts["mqtt"] else "HTTP"
        self.stdout.write(
            f"模拟 {len(chosen)} 台设备,每 {opts['every']:g} 秒一轮,经 {via} / "
            f"simulating {len(chosen)} devices, a round every {opts['every']:g} s over {via}"
        )
        try:
            while True:
                n += 1
                now = clock.now()
                ms = int(now.timestamp() * 1000)
                freed = bool(opts["free_after"]) and time.monotonic() - started >= opts["free_after"]
                batch: dict[str, list[dict[str, Any]]] = {}
                for d in chosen:
                    storeys = d.unit.building.storeys if d.unit_id and d.unit and d.unit.building.storeys else 6
                    values = demo_sensing.live_values(d.profile.code, d.code, storeys, now, r)
                    if d.code == trapped:
                        values = {
                            "running": 0,
                            "door_open": int(freed),
                            "fault": 0 if freed else TRAPPED,
                            "floor": 4,
                            "speed": 0,
                        }
                    batch[d.code] = [{"ts": ms, "values": values}]
                t0 = time.perf_counter()
                counts = send(batch)
                readings = sum(len(e["values"]) for entries in batch.values() for e in entries)
                self.stdout.write(
                    f"第 {n} 轮 / round {n}: {readings:,} readings in {time.perf_counter() - t0:.2f} s — {counts}"
                )
                if trapped:
                    self._say_trapped(trapped)
                if opts["rounds"] and n >= opts["rounds"]:
                    break
                time.sleep(max(0.0, opts["every"] - (time.monotonic() - started) % opts["every"]))
        except KeyboardInterrupt:
            self.stdout.write("已停止 / stopped")

    def _http_sender(self, url: str, token: str) -> Any:
        endpoint = url.rstrip("/") + "/sensing/telemetry/"

        def send(batch: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
            totals: dict[str, int] = {}
            for piece in chunks(batch, 5000):
                request = urllib.request.Request(  # noqa: S310 — an http(s) URL the operator gives
                    endpoint,
                    data=json.dumps(piece).encode(),
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                    method="POST",
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                        report = json.load(response)
                except urllib.error.HTTPError as refused:
                    raise CommandError(f"{endpoint}: {refused.code} {refused.read()[:500]!r}") from None
                except urllib.error.URLError as down:
                    raise CommandError(f"{endpoint} 无法访问 / does not answer: {down.reason}") from None
                for key in ("accepted", "duplicates", "rejected", "dropped", "alarms"):
                    totals[key] = totals.get(key, 0) + int(report.get(key, 0))
            return totals

        return send

    def _mqtt_sender(self, opts: dict[str, Any]) -> Any:
        import paho.mqtt.client as paho

        client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        if settings.LINLI_MQTT_USERNAME:
            client.username_pw_set(settings.LINLI_MQTT_USERNAME, settings.LINLI_MQTT_PASSWORD or None)
        try:
            client.connect(opts["mqtt_host"], opts["mqtt_port"], keepalive=30)
        except OSError as down:
            raise CommandError(
                f"MQTT 代理无法访问 / no MQTT broker answers at {opts['mqtt_host']}:{opts['mqtt_port']}: {down}"
            ) from None
        client.loop_start()

        def send(batch: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
            sent = [
                client.publish(mqtt.device_topic(code), json.dumps(entries[0]).encode(), qos=1)
                for code, entries in batch.items()
            ]
            for info in sent:
                info.wait_for_publish(timeout=30)
            return {"published": sum(1 for info in sent if info.is_published())}

        return send

    def _say_trapped(self, code: str) -> None:
        alarm = Alarm.objects.filter(device__code=code, alarm_type="trapped").order_by("-pk").first()
        if alarm is None:
            self.stdout.write(f"  {code}: 困人告警尚未出现 / no trapped-passenger alarm yet")
            return
        state = "已清除 cleared" if alarm.cleared else "未清除 open"
        where = f", 网格事件 grid event /governance/events/{alarm.event_id}/" if alarm.event_id else ""
        self.stdout.write(f"  {code}: 困人告警 trapped-passenger alarm #{alarm.pk} ({state}){where}")
