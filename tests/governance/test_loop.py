"""The pure state machine of a grid event (loop.py): every move from every step, deadlines,
escalation levels and the check of a category's time limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.governance import loop
from linli.governance.loop import Move, Step, StepError

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

# The full table, written out by hand (not read from RULES), so a change to RULES fails here.
ALLOWED: dict[Move, tuple[set[Step], Step | None]] = {
    Move.REGISTER: ({Step.COLLECTED}, Step.REGISTERED),
    Move.DISPATCH: ({Step.REGISTERED}, Step.DISPATCHED),
    Move.ACCEPT: ({Step.DISPATCHED}, Step.HANDLING),
    Move.REPORT: ({Step.HANDLING}, Step.REPORTED),
    Move.VERIFY_PASS: ({Step.REPORTED}, Step.CLOSED),
    Move.VERIFY_FAIL: ({Step.REPORTED}, Step.HANDLING),
    Move.EVALUATE: ({Step.CLOSED}, Step.EVALUATED),
    Move.RETURN: ({Step.DISPATCHED, Step.HANDLING}, Step.REGISTERED),
    Move.VOID: ({Step.COLLECTED, Step.REGISTERED, Step.DISPATCHED, Step.HANDLING}, Step.VOIDED),
    Move.BACKLOG: ({Step.DISPATCHED, Step.HANDLING}, None),
    Move.UNBACKLOG: ({Step.DISPATCHED, Step.HANDLING}, None),
    Move.EXTEND: ({Step.DISPATCHED, Step.HANDLING}, None),
    Move.DEFER: ({Step.DISPATCHED, Step.HANDLING}, None),
    Move.WHISTLE: (
        {Step.COLLECTED, Step.REGISTERED, Step.DISPATCHED, Step.HANDLING, Step.REPORTED},
        None,
    ),
    Move.ESCALATE: (
        {Step.COLLECTED, Step.REGISTERED, Step.DISPATCHED, Step.HANDLING, Step.REPORTED},
        None,
    ),
    Move.URGENT: (
        {Step.COLLECTED, Step.REGISTERED, Step.DISPATCHED, Step.HANDLING, Step.REPORTED},
        None,
    ),
    Move.NOT_URGENT: (
        {Step.COLLECTED, Step.REGISTERED, Step.DISPATCHED, Step.HANDLING, Step.REPORTED},
        None,
    ),
    Move.NOTE: (set(Step), None),
}


def test_table_covers_every_move() -> None:
    assert set(ALLOWED) == set(Move) == set(loop.RULES) == set(loop.MOVE_NAMES)
    assert set(loop.STEP_NAMES) == set(Step)


@pytest.mark.parametrize("move", list(Move))
@pytest.mark.parametrize("step", list(Step))
def test_every_move_from_every_step(step: Step, move: Move) -> None:
    from_steps, to_step = ALLOWED[move]
    if step in from_steps:
        assert loop.apply(step, move) == (to_step if to_step is not None else step)
    else:
        with pytest.raises(StepError) as exc:
            loop.apply(step, move)
        assert (exc.value.move, exc.value.step) == (move, step)
        # bilingual message naming the step and the move
        assert loop.STEP_NAMES[step][0] in exc.value.zh and loop.MOVE_NAMES[move][0] in exc.value.zh
        assert loop.STEP_NAMES[step][1] in exc.value.en and loop.MOVE_NAMES[move][1] in exc.value.en
        assert isinstance(exc.value, ValueError)


def test_closed_steps_take_no_step_changing_move() -> None:
    # Only the evaluation of a closed case and notes remain once a case is closed or voided.
    for step in loop.CLOSED_STEPS:
        allowed = {m for m in Move if step in ALLOWED[m][0]}
        expected = {Move.NOTE} | ({Move.EVALUATE} if step == Step.CLOSED else set())
        assert allowed == expected, step
    assert Step.VOIDED in loop.CLOSED_STEPS and Step.REPORTED in loop.OPEN_STEPS
    assert frozenset(Step) == loop.OPEN_STEPS | loop.CLOSED_STEPS
    assert not loop.OPEN_STEPS & loop.CLOSED_STEPS


def test_the_seven_steps_in_order() -> None:
    step = Step.COLLECTED
    path = [step]
    for move in (Move.REGISTER, Move.DISPATCH, Move.ACCEPT, Move.REPORT, Move.VERIFY_PASS, Move.EVALUATE):
        step = loop.apply(step, move)
        path.append(step)
    assert tuple(path) == loop.SEVEN
    assert len(loop.SEVEN) == 7


def test_requestable_moves_are_command_moves() -> None:
    assert {Move.RETURN, Move.VOID, Move.EXTEND, Move.DEFER, Move.BACKLOG} == loop.REQUESTABLE
    for move in loop.REQUESTABLE:
        assert loop.RULES[move].who == loop.Who.COMMAND


@given(st.lists(st.sampled_from(list(Move)), max_size=30))
def test_any_sequence_of_moves_stays_in_the_machine(moves: list[Move]) -> None:
    """Whatever is tried, the event is always in a known step; a refused move leaves it where it
    was; nothing leaves a closed or voided case except its evaluation."""
    step = Step.COLLECTED
    for move in moves:
        try:
            nxt = loop.apply(step, move)
        except StepError:
            continue
        if step in loop.CLOSED_STEPS:
            assert nxt in loop.CLOSED_STEPS
        if step == Step.VOIDED:
            assert nxt == Step.VOIDED
        assert nxt in Step
        step = nxt


# --- time limits ----------------------------------------------------------------------------------


def test_step_deadline_per_step_with_defaults() -> None:
    for step, key in loop.LIMIT_OF_STEP.items():
        assert loop.step_deadline(step, T0, {}) == T0 + timedelta(hours=loop.DEFAULT_LIMITS[key])
    for step in (Step.EVALUATED, Step.VOIDED):
        assert loop.step_deadline(step, T0, {}) is None


def test_step_deadline_uses_category_limits_and_ignores_nonsense() -> None:
    limits = {"accept": 0.5, "handle": 12, "verify": 0, "bogus": 5, "dispatch": None}
    assert loop.step_deadline(Step.DISPATCHED, T0, limits) == T0 + timedelta(minutes=30)
    assert loop.step_deadline(Step.HANDLING, T0, limits) == T0 + timedelta(hours=12)
    # zero and None fall back to the defaults; unknown keys are ignored
    assert loop.step_deadline(Step.REPORTED, T0, limits) == T0 + timedelta(hours=24)
    assert loop.step_deadline(Step.REGISTERED, T0, limits) == T0 + timedelta(hours=1)
    assert "bogus" not in loop.limits_with_defaults(limits)


def test_handle_deadline_is_accept_plus_handle_plus_verify() -> None:
    assert loop.handle_deadline(T0, {}) == T0 + timedelta(hours=2 + 72 + 24)
    assert loop.handle_deadline(T0, {"accept": 1, "handle": 24}) == T0 + timedelta(hours=1 + 24 + 24)


@pytest.mark.parametrize(
    ("limits", "problems"),
    [
        ({}, 0),
        ({"accept": 1, "handle": 24.5}, 0),
        ({"handle": 8760}, 0),
        ({"handle": 8761}, 1),
        ({"handle": 0}, 1),
        ({"handle": -1}, 1),
        ({"handle": "24"}, 1),
        ({"handle": True}, 1),
        ({"handle": None}, 1),
        ({"soon": 3}, 1),
        ({"soon": 3, "handle": 0, "accept": 2}, 2),
    ],
)
def test_check_limits(limits: dict, problems: int) -> None:
    assert len(loop.check_limits(limits)) == problems


@pytest.mark.parametrize("bad", [None, [], "24", 24])
def test_check_limits_needs_an_object(bad: object) -> None:
    assert loop.check_limits(bad) == ["limits must be an object of hours"]


@given(st.dictionaries(st.sampled_from(sorted(loop.DEFAULT_LIMITS)), st.floats(0.01, 8760)))
def test_valid_limits_pass_and_are_used(limits: dict[str, float]) -> None:
    assert loop.check_limits(limits) == []
    full = loop.limits_with_defaults(limits)
    assert set(full) == set(loop.DEFAULT_LIMITS)
    for key, value in limits.items():
        assert full[key] == value


# --- escalation -----------------------------------------------------------------------------------


def test_escalation_level_boundaries() -> None:
    due = T0
    assert loop.escalation_level(T0, None, 2) == loop.NONE
    assert loop.escalation_level(due - timedelta(seconds=1), due, 2) == loop.NONE
    assert loop.escalation_level(due, due, 2) == loop.NONE  # on the deadline itself: not yet overdue
    assert loop.escalation_level(due + timedelta(seconds=1), due, 2) == loop.STREET
    # a short step: the district after 24 h overdue (the floor)
    assert loop.escalation_level(due + timedelta(hours=24) - timedelta(seconds=1), due, 2) == loop.STREET
    assert loop.escalation_level(due + timedelta(hours=24), due, 2) == loop.DISTRICT
    # a long step: after as long again as the step's own limit
    assert loop.escalation_level(due + timedelta(hours=71), due, 72) == loop.STREET
    assert loop.escalation_level(due + timedelta(hours=72), due, 72) == loop.DISTRICT
    assert loop.NONE < loop.STREET < loop.DISTRICT
    assert loop.LEVEL_NAMES[loop.DISTRICT] == ("区级", "district")


@given(
    st.floats(0.1, 8760),
    st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=800)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
def test_escalation_level_never_goes_down_with_time(hours: float, late: timedelta, more: timedelta) -> None:
    due = T0
    now = T0 + late
    level = loop.escalation_level(now, due, hours)
    assert level in (loop.NONE, loop.STREET, loop.DISTRICT)
    assert loop.escalation_level(now + more, due, hours) >= level
    assert (level == loop.NONE) == (now <= due)


# --- take(): a whole move, the step and its effects --------------------------------------------------

LIMITS = {"handle": 10}


def _opened(step: Step = Step.REGISTERED) -> loop.Case:
    return loop.opened(step, T0, LIMITS)


def test_opened_starts_the_step_and_its_deadline() -> None:
    case = _opened(Step.COLLECTED)
    assert (case.step, case.step_started_at, case.updated_at) == (Step.COLLECTED, T0, T0)
    assert case.step_due_at == T0 + timedelta(hours=2)
    assert (case.escalation, case.backlog, case.rework_count) == (0, False, 0)
    assert case.department is None and case.handler is None


def test_take_dispatch_accept_report_verify_evaluate() -> None:
    t1, t2, t3, t4, t5 = (T0 + timedelta(hours=h) for h in (1, 2, 5, 6, 7))
    case, data = loop.take(_opened(), Move.DISPATCH, t1, LIMITS, department=7)
    assert (case.step, case.department, case.dispatched_at, data) == (Step.DISPATCHED, 7, t1, {})
    assert case.due_at == t1 + timedelta(hours=2 + 10 + 24)  # accept + handle (the category's) + verify
    assert case.step_due_at == t1 + timedelta(hours=2) and case.step_started_at == t1
    case, _ = loop.take(case, Move.ACCEPT, t2, LIMITS, actor="someone")
    assert (case.step, case.handler) == (Step.HANDLING, "someone")
    assert case.step_due_at == t2 + timedelta(hours=10)  # never later than due_at
    case, _ = loop.take(case, Move.REPORT, t3, LIMITS)
    late, _ = loop.take(case, Move.VERIFY_FAIL, T0 + timedelta(hours=35), LIMITS)
    assert late.step_due_at == late.due_at  # rework late: the handling deadline caps the step's
    case, _ = loop.take(case, Move.VERIFY_FAIL, t4, LIMITS)
    assert (case.step, case.rework_count, case.closed_at) == (Step.HANDLING, 1, None)
    assert case.step_due_at == t4 + timedelta(hours=10)
    case, _ = loop.take(case, Move.REPORT, t4, LIMITS)
    case, _ = loop.take(case, Move.VERIFY_PASS, t5, LIMITS)
    assert (case.step, case.closed_at, case.updated_at) == (Step.CLOSED, t5, t5)
    case, data = loop.take(case, Move.EVALUATE, t5, LIMITS, score=4)
    assert (case.step, case.score, data, case.step_due_at) == (Step.EVALUATED, 4, {"score": 4}, None)


def test_take_return_void_and_the_dispatch_clock() -> None:
    t1, t2, t3 = (T0 + timedelta(hours=h) for h in (1, 2, 3))
    case, _ = loop.take(_opened(), Move.DISPATCH, t1, LIMITS, department=7)
    case, _ = loop.take(case, Move.ACCEPT, t1, LIMITS, actor="a")
    case, data = loop.take(case, Move.RETURN, t2, LIMITS)
    assert (case.step, case.return_count, case.department, case.handler, data) == (Step.REGISTERED, 1, None, None, {})
    assert case.step_due_at == t2 + timedelta(hours=1) and case.escalation == 0
    # dispatched again: the handling deadline still runs from the first dispatch
    again, _ = loop.take(case, Move.DISPATCH, t3, LIMITS, department=8)
    assert (again.department, again.dispatched_at, again.due_at) == (8, t1, case.due_at)
    voided, _ = loop.take(again, Move.VOID, t3, LIMITS)
    assert (voided.step, voided.closed_at, voided.step_due_at) == (Step.VOIDED, t3, None)


def test_take_extend_defer_backlog_whistle_escalate() -> None:
    t1, t2 = T0 + timedelta(hours=1), T0 + timedelta(hours=30)
    case, _ = loop.take(_opened(), Move.DISPATCH, t1, LIMITS, department=1)
    case, data = loop.take(case, Move.ESCALATE, t2, LIMITS, level=loop.STREET)
    assert (case.escalation, data) == (1, {"level": 1, "overdue_since": (t1 + timedelta(hours=2)).isoformat()})
    extended, data = loop.take(case, Move.EXTEND, t2, LIMITS, hours=48)
    assert data == {"hours": 48} and extended.extension_count == 1 and extended.escalation == 0
    assert extended.due_at == case.due_at + timedelta(hours=48)  # type: ignore[operator]
    assert extended.step_due_at == case.step_due_at + timedelta(hours=48)  # type: ignore[operator]
    deferred, data = loop.take(case, Move.DEFER, t2, LIMITS, until=t2 + timedelta(days=9))
    assert deferred.deferred_until == t2 + timedelta(days=9) and data == {"until": (t2 + timedelta(days=9)).isoformat()}
    on, _ = loop.take(case, Move.BACKLOG, t2, LIMITS)
    off, _ = loop.take(on, Move.UNBACKLOG, t2, LIMITS)
    assert (on.backlog, off.backlog) == (True, False)
    whistled, data = loop.take(_opened(), Move.WHISTLE, t1, LIMITS)
    assert (whistled.escalation, data) == (loop.STREET, {"level": 1})
    noted, data = loop.take(whistled, Move.NOTE, t2, LIMITS)
    assert noted == replace(whistled, updated_at=t2) and data == {}


@given(st.lists(st.sampled_from(list(Move)), max_size=30))
def test_take_follows_apply_and_never_goes_back_in_time(moves: list[Move]) -> None:
    """``take`` changes the step exactly as ``apply`` does, refuses what ``apply`` refuses, and its
    counters only grow."""
    case = loop.opened(Step.COLLECTED, T0, {})
    at = T0
    for move in moves:
        at += timedelta(hours=1)
        try:
            expected = loop.apply(case.step, move)
        except StepError:
            with pytest.raises(StepError):
                loop.take(case, move, at, {}, hours=1, level=loop.STREET, score=3)
            continue
        new, _data = loop.take(case, move, at, {}, hours=1, level=loop.STREET, score=3)
        assert new.step == expected and new.updated_at == at
        assert new.step_started_at == (at if expected != case.step else case.step_started_at)
        assert (new.rework_count, new.return_count, new.extension_count) >= (
            case.rework_count,
            case.return_count,
            case.extension_count,
        )
        case = new
