"""The device profiles a district starts with (pure data, no Django): a lift controller, a smoke
detector, a pipe sensor and a camera that sends alarms only. Loaded by the migration
``0002_default_profiles``; afterwards they are data, edited in the admin (issue 13 §1).

Sources for the limits: smoke detectors after GB 20517 (independent smoke alarms: a battery
warning well before it runs out); water-supply pressure at the building after GB 50015 (the
service pressure at a fixture 0.10–0.20 MPa minimum, static pressure at most 0.45–0.55 MPa, so
below 0.15 MPa for two minutes is a supply problem and above 0.80 MPa a burst risk); lift faults
after GB/T 24476 (``faults.py``). Each limit is a default: a district changes it in the admin.
"""

from __future__ import annotations

from typing import Any

# Each channel: (key, 中文, English, unit, type, min, max).
# Each rule: a dict of ProfileRule fields (channel_key, kind, alarm_type, severity and parameters).
PROFILES: list[dict[str, Any]] = [
    {
        "code": "lift",
        "name": "电梯物联网控制器",
        "name_en": "Lift IoT controller",
        "kind": "lift",
        "offline_after_s": 300,
        "offline_severity": "major",
        "channels": [
            ("running", "运行状态", "Running", "", "bool", 0, 1),
            ("door_open", "门状态", "Door open", "", "bool", 0, 1),
            ("fault", "故障代码", "Fault code", "", "code", 0, 999),
            ("floor", "轿厢位置", "Car position", "层", "number", -5, 80),
            ("speed", "运行速度", "Speed", "m/s", "number", 0, 10),
        ],
        "rules": [
            {"channel_key": "fault", "kind": "fault_code", "alarm_type": "lift_fault", "severity": "major"},
        ],
    },
    {
        "code": "smoke",
        "name": "独立式烟感探测器",
        "name_en": "Smoke detector",
        "kind": "smoke",
        "offline_after_s": 3 * 3600,  # heartbeats every hour; three missed
        "offline_severity": "minor",
        "channels": [
            ("smoke", "烟雾报警", "Smoke", "", "bool", 0, 1),
            ("battery", "电池电量", "Battery", "%", "number", 0, 100),
        ],
        "rules": [
            {"channel_key": "smoke", "kind": "threshold", "alarm_type": "smoke", "severity": "critical", "above": 0.5},
            {
                "channel_key": "battery",
                "kind": "threshold",
                "alarm_type": "battery_low",
                "severity": "warning",
                "below": 20,
                "clear_at": 30,
            },
        ],
    },
    {
        "code": "pipe",
        "name": "供水管网压力流量计",
        "name_en": "Water pipe pressure and flow sensor",
        "kind": "pipe",
        "offline_after_s": 900,
        "offline_severity": "warning",
        "channels": [
            ("pressure", "管网压力", "Pressure", "MPa", "number", 0, 2.5),
            ("flow", "瞬时流量", "Flow", "m³/h", "number", 0, 500),
        ],
        "rules": [
            {
                "channel_key": "pressure",
                "kind": "threshold",
                "alarm_type": "pressure_high",
                "severity": "major",
                "above": 0.8,
                "for_s": 60,
                "clear_at": 0.7,
            },
            {
                "channel_key": "pressure",
                "kind": "threshold",
                "alarm_type": "pressure_low",
                "severity": "major",
                "below": 0.15,
                "for_s": 120,
                "clear_at": 0.2,
            },
            {
                "channel_key": "pressure",
                "kind": "rate",
                "alarm_type": "pressure_jump",
                "severity": "minor",
                "max_per_s": 0.01,
            },
            {
                "channel_key": "flow",
                "kind": "threshold",
                "alarm_type": "flow_high",
                "severity": "minor",
                "above": 80,
                "for_s": 600,
                "clear_at": 60,
            },
        ],
    },
    {
        "code": "camera",
        "name": "消防通道智能摄像头(仅报警)",
        "name_en": "Fire-lane camera (alarms only)",
        "kind": "camera",
        "offline_after_s": 600,
        "offline_severity": "warning",
        # No images of people: the camera's own analysis sends only "the fire lane is blocked" (rules.md §6).
        "channels": [("lane_blocked", "消防通道占用", "Fire lane blocked", "", "bool", 0, 1)],
        "rules": [
            {
                "channel_key": "lane_blocked",
                "kind": "threshold",
                "alarm_type": "threshold",
                "severity": "major",
                "above": 0.5,
                "for_s": 300,
            },
        ],
    },
]
