"""The MQTT topic scheme and message shapes (``linli/sensing/mqtt.py``, pure)."""

from __future__ import annotations

import json

import pytest

from linli.sensing import mqtt

NOW = 1_780_000_000_000


def test_the_intake_subscribes_to_both_topics_through_a_shared_subscription() -> None:
    assert mqtt.topic_filters() == ["v1/devices/+/telemetry", "v1/gateway/telemetry"]
    assert mqtt.topic_filters("/linli/500107/") == [
        "linli/500107/v1/devices/+/telemetry",
        "linli/500107/v1/gateway/telemetry",
    ]
    assert mqtt.shared("linli", "v1/gateway/telemetry") == "$share/linli/v1/gateway/telemetry"
    for bad in ("", "a/b", "a+", "#"):
        with pytest.raises(ValueError):
            mqtt.shared(bad, "x")
    with pytest.raises(ValueError):
        mqtt.normalise_prefix("linli/+")


def test_the_topic_names_the_device_or_the_gateway() -> None:
    assert mqtt.device_of("v1/devices/LIFT-A1/telemetry") == "LIFT-A1"
    assert mqtt.device_of("v1/gateway/telemetry") is None
    assert mqtt.device_of("linli/9/v1/devices/X/telemetry", "linli/9") == "X"
    assert mqtt.device_topic("X", "linli/9") == "linli/9/v1/devices/X/telemetry"
    for topic in ("v1/devices/X/attributes", "v1/devices/telemetry", "other/v1/gateway/telemetry", "v1/devices/X"):
        with pytest.raises(mqtt.Malformed) as bad:
            mqtt.device_of(topic)
        assert bad.value.code == "unknown_topic"
    with pytest.raises(mqtt.Malformed) as bad:
        mqtt.device_of("v1/devices/" + "x" * 65 + "/telemetry")
    assert bad.value.code == "bad_device_code"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"ts": 5, "values": {"a": 1}}, [{"ts": 5, "values": {"a": 1}}]),
        (
            [{"ts": 5, "values": {"a": 1}}, {"ts": 6, "values": {"b": 0}}],
            [{"ts": 5, "values": {"a": 1}}, {"ts": 6, "values": {"b": 0}}],
        ),
        ({"a": 1, "b": 2.5}, [{"ts": NOW, "values": {"a": 1, "b": 2.5}}]),  # flat: now
        ({"values": {"a": 1}}, [{"ts": NOW, "values": {"a": 1}}]),
    ],
)
def test_thingsboard_device_shapes(payload: object, expected: list[dict[str, object]]) -> None:
    got = mqtt.parse_message("v1/devices/D1/telemetry", json.dumps(payload).encode(), NOW)
    assert got == {"D1": expected}


def test_thingsboard_gateway_shape() -> None:
    payload = {"D1": [{"ts": 1, "values": {"a": 1}}], "D2": [{"ts": 2, "values": {"b": 2}}, {"c": 3}]}
    got = mqtt.parse_message("v1/gateway/telemetry", json.dumps(payload).encode(), NOW)
    assert got == {
        "D1": [{"ts": 1, "values": {"a": 1}}],
        "D2": [{"ts": 2, "values": {"b": 2}}, {"ts": NOW, "values": {"c": 3}}],
    }


@pytest.mark.parametrize(
    ("topic", "payload", "code"),
    [
        ("v1/devices/D/telemetry", b"{not json", "bad_json"),
        ("v1/devices/D/telemetry", b"\xff\xfe", "bad_json"),
        ("v1/devices/D/telemetry", b"42", "bad_payload"),
        ("v1/devices/D/telemetry", b"[]", "bad_payload"),
        ("v1/devices/D/telemetry", b"{}", "bad_payload"),
        ("v1/devices/D/telemetry", b'{"ts": 1}', "bad_payload"),
        ("v1/devices/D/telemetry", b'{"ts": 1, "values": [1]}', "bad_payload"),
        ("v1/devices/D/telemetry", b'{"ts": 1, "values": {"a": 1}, "x": 2}', "bad_payload"),
        ("v1/gateway/telemetry", b'[{"ts": 1, "values": {}}]', "bad_payload"),
        ("v1/gateway/telemetry", b'{"D": 5}', "bad_payload"),
        ("v1/gateway/telemetry", b'{"": [{"a": 1}]}', "bad_payload"),
        ("v1/devices/D/telemetry", b'{"a": "' + b"x" * mqtt.MAX_PAYLOAD_BYTES + b'"}', "too_large"),
        ("nowhere", b"{}", "unknown_topic"),
    ],
)
def test_malformed_messages_are_named(topic: str, payload: bytes, code: str) -> None:
    with pytest.raises(mqtt.Malformed) as bad:
        mqtt.parse_message(topic, payload, NOW)
    assert bad.value.code == code
    assert bad.value.zh and bad.value.en


def test_fragments_merge_into_one_gateway_batch_in_arrival_order() -> None:
    batch: mqtt.Fragment = {}
    mqtt.merge(batch, {"A": [{"ts": 1, "values": {"x": 1}}]})
    mqtt.merge(batch, {"B": [{"ts": 1, "values": {"y": 1}}], "A": [{"ts": 2, "values": {"x": 2}}]})
    assert batch == {
        "A": [{"ts": 1, "values": {"x": 1}}, {"ts": 2, "values": {"x": 2}}],
        "B": [{"ts": 1, "values": {"y": 1}}],
    }


def test_device_payload_round_trips() -> None:
    assert mqtt.parse_message("v1/devices/D/telemetry", mqtt.device_payload({"a": 1}, 7), NOW) == {
        "D": [{"ts": 7, "values": {"a": 1}}]
    }
    assert mqtt.parse_message("v1/devices/D/telemetry", mqtt.device_payload({"a": 1}), NOW) == {
        "D": [{"ts": NOW, "values": {"a": 1}}]
    }
