"""Lift controller fault codes → alarm types, after GB/T 24476 (pure Python, no Django).

A lift's IoT terminal reports one fault code on its ``fault`` channel (0 = no fault). The codes in
``FAULTS`` are **our own numbering** (Linli's table, documented in docs/sensing.md): lift
controllers use vendor codes, and the gateway or the terminal maps them to these before sending.
The faults listed and their names follow the fault, event and alarm data of GB/T 24476 (电梯、自动扶梯
和自动人行道物联网; 2017 edition "…物联网的技术规范", replaced by the 2023 edition): trapped
passengers, over-travel at the top and bottom, stopping outside the door (unlocking) zone and the
door opening while running have alarm types of their own and are critical (someone is inside or
at risk of being crushed or falling); the other faults are ``lift_fault`` with a severity:

- critical — a hazard to people now: the car moving with the doors open, unintended car movement
  (the hazard GB 7588's unintended-movement protection is for), overspeed (the governor and safety
  gear act; people are usually shut in).
- major — the lift stops and stays out of service until a technician comes, but no one is known to
  be at risk: safety circuit or door-lock circuit open, brake fault, motor run-time limiter, floor
  position lost, mains power failure, any other fault that prevents a restart, and any code not in
  the table (we do not know it is harmless).
- minor — the lift works on or stops at a floor with its doors usable: door fails to open or to close
  (if people are shut in, the terminal reports 困人 as well, which is critical).

``fault_transitions(state, readings)`` follows the conventions of ``rules.run`` (readings
``(ts, code)`` in any order within a call, sorted; a reading not newer than the newest seen is
ignored; the state is plain JSON and is never changed in place): a code raises its alarm type once
(the same code again raises nothing); a change to another non-zero code clears the previous code's
alarm and raises the new one at the same ts (clear first, even when both map to ``lift_fault``); 0
clears. A code is an int (or a float with an integral value, ``3.0``); a bool, a fraction, NaN or
anything else is not a code and the reading is ignored. Transitions are
``(ts, "raise" | "clear", alarm_type, severity)`` in time order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from linli.sensing.rules import CLEAR, RAISE, Kind, Number, number, prepare

# The alarm types of ``models.AlarmType`` this module uses (repeated here: this module imports no Django;
# tests/sensing/test_faults.py checks they exist).
TRAPPED = "trapped"
OVER_TOP = "over_top"
OVER_BOTTOM = "over_bottom"
DOOR_ZONE = "door_zone"
DOOR_RUNNING = "door_running"
LIFT_FAULT = "lift_fault"

# The severities of ``models.Severity``.
CRITICAL = "critical"
MAJOR = "major"
MINOR = "minor"
WARNING = "warning"

NO_FAULT = 0

#: One fault transition: ``(ts, "raise" | "clear", alarm_type, severity)``.
FaultChange = tuple[Number, Kind, str, str]


@dataclass(frozen=True, slots=True)
class Fault:
    alarm_type: str
    severity: str
    zh: str
    en: str


#: Linli's lift fault codes (our numbering; vendor codes are mapped at the gateway). 0 = no fault.
FAULTS: dict[int, Fault] = {
    1: Fault(TRAPPED, CRITICAL, "困人", "Passengers trapped"),
    2: Fault(OVER_TOP, CRITICAL, "冲顶", "Over-travel at the top"),
    3: Fault(OVER_BOTTOM, CRITICAL, "蹲底", "Over-travel at the bottom"),
    4: Fault(DOOR_ZONE, CRITICAL, "非平层停梯", "Stopped outside the door zone"),
    5: Fault(DOOR_RUNNING, CRITICAL, "运行中开门", "Door opened while running"),
    6: Fault(LIFT_FAULT, CRITICAL, "开门走车", "Car moved with the doors open"),
    7: Fault(LIFT_FAULT, CRITICAL, "轿厢意外移动", "Unintended car movement"),
    8: Fault(LIFT_FAULT, CRITICAL, "超速", "Overspeed"),
    9: Fault(LIFT_FAULT, MAJOR, "安全回路断路", "Safety circuit open"),
    10: Fault(LIFT_FAULT, MAJOR, "门锁回路断路", "Door-lock circuit open"),
    11: Fault(LIFT_FAULT, MAJOR, "制动器故障", "Brake fault"),
    12: Fault(LIFT_FAULT, MAJOR, "电动机运转时间限制器动作", "Motor run-time limiter tripped"),
    13: Fault(LIFT_FAULT, MAJOR, "楼层位置丢失", "Floor position lost"),
    14: Fault(LIFT_FAULT, MAJOR, "主电源断电", "Mains power failure"),
    15: Fault(LIFT_FAULT, MAJOR, "其他阻止电梯再启动的故障", "Other fault preventing a restart"),
    16: Fault(LIFT_FAULT, MINOR, "开门故障", "Doors fail to open"),
    17: Fault(LIFT_FAULT, MINOR, "关门故障", "Doors fail to close"),
}


def fault_for(code: int) -> Fault | None:
    """The fault of a code: None for 0 (no fault); an unknown code is a major ``lift_fault``."""
    if code == NO_FAULT:
        return None
    return FAULTS.get(code) or unknown(code)


def unknown(code: int) -> Fault:
    """A code not in the table: a major ``lift_fault`` (we do not know it is harmless)."""
    return Fault(LIFT_FAULT, MAJOR, f"未知故障代码 {code}", f"Unknown fault code {code}")


def as_code(x: object) -> int | None:
    """A fault code as an int, or None when ``x`` is not one (bool, fraction, NaN, text …)."""
    if type(x) is int:
        return x
    if isinstance(x, bool):
        return None
    n = number(x)
    if n is None or n != int(n):
        return None
    return int(n)


def fault_transitions(
    state: Mapping[str, Any] | None, readings: Iterable[Any], table: Mapping[int, Fault] | None = None
) -> tuple[dict[str, Any], list[FaultChange]]:
    """Run a lift's fault-code readings from ``state``: ``(new state, transitions)`` (module docstring).

    ``table`` replaces ``FAULTS`` (codes not in it: a major ``lift_fault``)."""
    newest, code, open_alarm = _load(state)
    faults = FAULTS if table is None else table
    out: list[FaultChange] = []
    for t, c in prepare(readings, as_code):
        if t <= newest:
            continue
        newest = t
        if c == code:
            continue
        if open_alarm is not None:
            out.append((t, CLEAR, open_alarm[0], open_alarm[1]))
            open_alarm = None
        code = c
        if c != NO_FAULT:
            f = faults.get(c) or unknown(c)
            open_alarm = (f.alarm_type, f.severity)
            out.append((t, RAISE, f.alarm_type, f.severity))
    return {
        "kind": "fault",
        "newest": None if newest == -float("inf") else newest,
        "code": code,
        "alarm": None if open_alarm is None else list(open_alarm),
    }, out


def _load(state: Mapping[str, Any] | None) -> tuple[Number, int, tuple[str, str] | None]:
    if state is None:
        return -float("inf"), NO_FAULT, None
    bad = ValueError(f"not the state of a fault-code channel: {state!r}")
    if not isinstance(state, Mapping) or state.get("kind") != "fault":
        raise bad
    newest, code, alarm = state.get("newest"), state.get("code"), state.get("alarm")
    if type(code) is not int or (newest is not None and number(newest) is None):
        raise bad
    if alarm is not None:
        if not isinstance(alarm, list | tuple) or len(alarm) != 2 or not all(isinstance(a, str) for a in alarm):
            raise bad
        alarm = (alarm[0], alarm[1])
    if (alarm is None) != (code == NO_FAULT):
        raise bad
    return (-float("inf") if newest is None else newest), code, alarm
