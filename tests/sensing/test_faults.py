"""Lift fault codes → alarm types (linli/sensing/faults.py): the table and the transitions."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from linli.sensing import faults
from linli.sensing.faults import FAULTS, Fault, fault_for, fault_transitions
from linli.sensing.models import AlarmType, Severity


def test_the_constants_are_the_models_values() -> None:
    for name in ("TRAPPED", "OVER_TOP", "OVER_BOTTOM", "DOOR_ZONE", "DOOR_RUNNING", "LIFT_FAULT"):
        assert getattr(faults, name) in AlarmType.values
    for name in ("CRITICAL", "MAJOR", "MINOR", "WARNING"):
        assert getattr(faults, name) in Severity.values
    for code, fault in FAULTS.items():
        assert fault.alarm_type in AlarmType.values, code
        assert fault.severity in Severity.values, code


def test_the_table_has_the_faults_of_gb_t_24476_with_their_own_alarm_types() -> None:
    by_name = {f.zh: f for f in FAULTS.values()}
    for zh, alarm_type in [
        ("困人", AlarmType.TRAPPED),
        ("冲顶", AlarmType.OVER_TRAVEL_TOP),
        ("蹲底", AlarmType.OVER_TRAVEL_BOTTOM),
        ("非平层停梯", AlarmType.OUTSIDE_DOOR_ZONE),
        ("运行中开门", AlarmType.DOOR_OPEN_RUNNING),
    ]:
        assert by_name[zh].alarm_type == alarm_type
        assert by_name[zh].severity == Severity.CRITICAL
    for zh in ("安全回路断路", "门锁回路断路", "开门走车", "超速", "轿厢意外移动", "楼层位置丢失"):
        assert by_name[zh].alarm_type == AlarmType.LIFT_FAULT
    assert 0 not in FAULTS
    assert len(by_name) == len(FAULTS)  # no name twice
    assert all(f.zh and f.en for f in FAULTS.values())
    assert fault_for(0) is None
    assert fault_for(1) == Fault("trapped", "critical", "困人", "Passengers trapped")
    unknown = fault_for(977)
    assert unknown is not None
    assert (unknown.alarm_type, unknown.severity) == ("lift_fault", "major")
    assert "977" in unknown.zh
    assert "977" in unknown.en


def test_a_code_raises_its_alarm_once_and_0_clears() -> None:
    state, changes = fault_transitions(None, [(0, 0), (10, 1), (11, 1), (12, 1)])
    assert changes == [(10, "raise", "trapped", "critical")]
    state, changes = fault_transitions(json.loads(json.dumps(state)), [(13, 1), (20, 0), (21, 0)])
    assert changes == [(20, "clear", "trapped", "critical")]
    assert fault_transitions(state, [(22, 0)])[1] == []


def test_a_change_to_another_code_clears_the_old_alarm_and_raises_the_new_one() -> None:
    _, changes = fault_transitions(None, [(1, 2), (2, 9), (3, 10), (4, 0)])
    assert changes == [
        (1, "raise", "over_top", "critical"),
        (2, "clear", "over_top", "critical"),
        (2, "raise", "lift_fault", "major"),
        (3, "clear", "lift_fault", "major"),  # another code of the same type: a new fault
        (3, "raise", "lift_fault", "major"),
        (4, "clear", "lift_fault", "major"),
    ]


def test_an_unknown_code_is_a_major_lift_fault() -> None:
    _, changes = fault_transitions(None, [(1, 4711), (2, -3)])
    assert changes == [
        (1, "raise", "lift_fault", "major"),
        (2, "clear", "lift_fault", "major"),
        (2, "raise", "lift_fault", "major"),
    ]


def test_out_of_order_within_a_call_is_sorted_and_older_readings_are_ignored() -> None:
    state, changes = fault_transitions(None, [(30, 0), (10, 5), (20, 5)])
    assert changes == [(10, "raise", "door_running", "critical"), (30, "clear", "door_running", "critical")]
    again, changes = fault_transitions(state, [(25, 1), (30, 1)])  # not newer than 30
    assert changes == []
    assert again == state
    _, changes = fault_transitions(None, [(5, 1), (5, 0)])  # equal ts: the first counts
    assert changes == [(5, "raise", "trapped", "critical")]


def test_what_is_not_a_code_is_ignored() -> None:
    bad: list[Any] = [(1, True), (1, 1.5), (1, float("nan")), (1, None), (1, "1"), (None, 1), (float("inf"), 1)]
    state, changes = fault_transitions(None, bad)
    assert changes == []
    assert state["newest"] is None
    _, changes = fault_transitions(None, [*bad, (1, 3.0)])
    assert changes == [(1, "raise", "over_bottom", "critical")]


def test_a_table_of_ones_own() -> None:
    table = {1: Fault("trapped", "critical", "困人", "Trapped"), 50: Fault("door_zone", "minor", "x", "x")}
    _, changes = fault_transitions(None, [(1, 50), (2, 9)], table)
    assert changes == [
        (1, "raise", "door_zone", "minor"),
        (2, "clear", "door_zone", "minor"),
        (2, "raise", "lift_fault", "major"),
    ]


def test_the_state_is_strict_json_not_changed_in_place_and_checked() -> None:
    state, _ = fault_transitions(None, [(1, 1)])
    before = copy.deepcopy(state)
    fault_transitions(state, [(2, 0)])
    assert state == before
    assert json.loads(json.dumps(state, allow_nan=False)) == state
    for bad in (
        {"kind": "threshold"},
        {"kind": "fault", "newest": 1, "code": "1", "alarm": None},
        {"kind": "fault", "newest": 1, "code": 1, "alarm": None},
        {"kind": "fault", "newest": 1, "code": 0, "alarm": ["trapped", "critical"]},
        [1],
    ):
        try:
            fault_transitions(bad, [(5, 1)])  # type: ignore[arg-type]
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


codes = st.one_of(st.sampled_from([0, 0, 1, 2, 5, 9, 10, 17, 4711]), st.sampled_from([True, 1.5, None, 2.0]))
readings = st.tuples(st.integers(0, 30), codes)


def naive(batches: list[list[Any]]) -> list[list[Any]]:
    """Replay: every accepted reading from the start; the open alarm is the last non-zero code's."""
    history: list[tuple[int, int]] = []
    per_batch = []
    for batch in batches:
        ok = sorted(
            ((t, int(c)) for t, c in batch if not isinstance(c, bool) and isinstance(c, int | float) and c == int(c)),
            key=lambda r: r[0],
        )
        seen = len(history)
        for t, c in ok:
            if not history or t > history[-1][0]:
                history.append((t, c))
        out = []
        for i in range(seen, len(history)):
            t, c = history[i]
            before = history[i - 1][1] if i else 0
            if c == before:
                continue
            if before:
                f = fault_for(before)
                assert f is not None
                out.append((t, "clear", f.alarm_type, f.severity))
            if c:
                f = fault_for(c)
                assert f is not None
                out.append((t, "raise", f.alarm_type, f.severity))
        per_batch.append(out)
    return per_batch


@settings(max_examples=300, deadline=None)
@given(batches=st.lists(st.lists(readings, max_size=8), max_size=6))
def test_batches_with_json_round_trips_give_the_naive_transitions(batches: list[list[Any]]) -> None:
    state: Any = None
    got = []
    for batch in batches:
        state, changes = fault_transitions(state, batch)
        state = json.loads(json.dumps(state, allow_nan=False))
        got.append(changes)
    assert got == naive(batches)
