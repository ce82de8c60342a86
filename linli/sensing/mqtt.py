"""The MQTT topic scheme of the sensing intake and the shape of its messages (pure Python, no Django).

``manage.py sensing_mqtt`` subscribes to two topics (below an optional prefix, e.g. one per district
on a shared broker), each through an MQTT 5 *shared subscription* ``$share/<group>/<topic>`` so that
N intake processes split the messages between them:

* ``v1/devices/<device code>/telemetry`` — one device's telemetry in ThingsBoard's device shape:
  ``{"ts": <ms>, "values": {"key": value, …}}``, a list of those, or a flat ``{"key": value, …}``
  meaning "now" (the moment the intake received it). A ThingsBoard device publishes to
  ``v1/devices/me/telemetry`` (its token says who it is); here the topic names the device, so a
  device or its firmware changes one topic string, not its code, and the broker's ACL
  (``pattern write v1/devices/%u/telemetry`` in Mosquitto) lets it publish for itself only.
* ``v1/gateway/telemetry`` — a gateway's telemetry in ThingsBoard's gateway shape:
  ``{"<device code>": [{"ts": <ms>, "values": {…}}, …], …}`` (each entry may also be flat).

Messages are parsed here into one shape, a *fragment* ``{device code: [{"ts": ms, "values": {…}}]}``
(the gateway shape of ``services.intake.ingest``), and the fragments of a batch merged into one
payload, ingested in one transaction. Only the outer shape is checked here (what would make the whole
batch malformed); readings themselves — unknown channels, wrong types, out of range, far-future
timestamps — are the pipeline's to count and report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DEVICE_TOPIC = "v1/devices/+/telemetry"
GATEWAY_TOPIC = "v1/gateway/telemetry"
MAX_PAYLOAD_BYTES = 1024 * 1024  # one message; a gateway's minute of thousands of readings fits
MAX_CODE_LENGTH = 64  # Device.code

Fragment = dict[str, list[dict[str, Any]]]


@dataclass
class Malformed(Exception):
    """A message that cannot be read at all: bilingual, like ``LinliError``'s problems."""

    code: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.code}: {self.en}"


def topic_filters(prefix: str = "") -> list[str]:
    """The topic filters the intake subscribes to (without the shared-subscription part)."""
    prefix = normalise_prefix(prefix)
    return [prefix + DEVICE_TOPIC, prefix + GATEWAY_TOPIC]


def shared(group: str, topic_filter: str) -> str:
    """An MQTT 5 shared subscription: the broker hands each message to one member of ``group``."""
    if not group or any(c in group for c in "/+#"):
        raise ValueError(f"a share group name has no '/', '+' or '#': {group!r}")
    return f"$share/{group}/{topic_filter}"


def normalise_prefix(prefix: str) -> str:
    """``""`` or a prefix ending in one "/" (``"linli/500107"`` → ``"linli/500107/"``)."""
    prefix = (prefix or "").strip().strip("/")
    if any(c in prefix for c in "+#"):
        raise ValueError(f"a topic prefix has no wildcards: {prefix!r}")
    return f"{prefix}/" if prefix else ""


def device_topic(code: str, prefix: str = "") -> str:
    """The topic a device publishes its telemetry to."""
    return f"{normalise_prefix(prefix)}v1/devices/{code}/telemetry"


def gateway_topic(prefix: str = "") -> str:
    return normalise_prefix(prefix) + GATEWAY_TOPIC


def device_of(topic: str, prefix: str = "") -> str | None:
    """The device code a topic names, ``None`` for the gateway topic; ``Malformed`` for any other."""
    prefix = normalise_prefix(prefix)
    if not topic.startswith(prefix):
        raise _unknown_topic()
    rest = topic[len(prefix) :]
    if rest == GATEWAY_TOPIC:
        return None
    parts = rest.split("/")
    if len(parts) == 4 and parts[0] == "v1" and parts[1] == "devices" and parts[3] == "telemetry":
        code = parts[2]
        if not code or len(code) > MAX_CODE_LENGTH or any(c.isspace() for c in code):
            raise Malformed(
                "bad_device_code",
                "主题中的设备编号无效(1–64 个字符,不含空格)。",
                "The device code in the topic is not valid (1–64 characters, no spaces).",
            )
        return code
    raise _unknown_topic()


def _unknown_topic() -> Malformed:
    return Malformed(
        "unknown_topic",
        "未知的主题:请发布到 v1/devices/<设备编号>/telemetry 或 v1/gateway/telemetry。",
        "Unknown topic: publish to v1/devices/<device code>/telemetry or v1/gateway/telemetry.",
    )


def _bad_shape(what: str) -> Malformed:
    return Malformed(
        "bad_payload",
        f"消息格式不符合 ThingsBoard 的遥测格式({what})。",
        f"The message is not in ThingsBoard's telemetry shape ({what}).",
    )


def _entries(data: Any, now_ms: int) -> list[dict[str, Any]]:
    """One device's telemetry as a list of ``{"ts", "values"}`` (a flat dict means now)."""
    items = data if isinstance(data, list) else [data]
    if not items:
        raise _bad_shape("empty list")
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or not item:
            raise _bad_shape("each entry is an object")
        if "values" in item:
            if not isinstance(item["values"], dict):
                raise _bad_shape('"values" is an object')
            extra = set(item) - {"ts", "values"}
            if extra:
                raise _bad_shape(f"unexpected key {sorted(extra)[0]!r} beside ts and values")
            out.append({"ts": item.get("ts", now_ms), "values": item["values"]})
        elif "ts" in item:
            raise _bad_shape('"ts" without "values"')
        else:
            out.append({"ts": now_ms, "values": item})
    return out


def parse_message(topic: str, payload: bytes, now_ms: int, prefix: str = "") -> Fragment:
    """One MQTT message as a fragment ``{device code: [{"ts", "values"}, …]}``; ``Malformed`` when
    the topic is unknown or the payload is not JSON in one of ThingsBoard's telemetry shapes."""
    code = device_of(topic, prefix)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Malformed(
            "too_large",
            f"消息超过 {MAX_PAYLOAD_BYTES // 1024} KB。",
            f"The message is larger than {MAX_PAYLOAD_BYTES // 1024} KB.",
        )
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise Malformed("bad_json", "消息不是有效的 JSON。", "The message is not valid JSON.") from None
    if code is not None:
        return {code: _entries(data, now_ms)}
    if not isinstance(data, dict) or not data:
        raise _bad_shape("a gateway sends an object of device codes")
    fragment: Fragment = {}
    for device, telemetry in data.items():
        if not device or len(device) > MAX_CODE_LENGTH:
            raise _bad_shape("device codes are 1–64 characters")
        fragment[device] = _entries(telemetry, now_ms)
    return fragment


def merge(batch: Fragment, fragment: Fragment) -> None:
    """Add a message's fragment to a batch (one gateway-shaped payload), in arrival order."""
    for device, entries in fragment.items():
        batch.setdefault(device, []).extend(entries)


def device_payload(values: dict[str, float | int], ts_ms: int | None = None) -> bytes:
    """A device's message as the simulator and the tests publish it (flat when ``ts_ms`` is None)."""
    body: dict[str, Any] = dict(values) if ts_ms is None else {"ts": ts_ms, "values": values}
    return json.dumps(body, separators=(",", ":")).encode()
