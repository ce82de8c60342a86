"""The closed loop of a grid event (pure Python, no Django).

The seven steps of digital urban management (GB/T 30428.1 and CJ/T 315, summarised in
docs/governance.md): 信息收集 → 案卷建立 → 任务派遣 → 任务处理 → 处理反馈 → 核查结案 → 综合评价.
Here each *step* is the state an event waits in, and each *move* the act that ends a step:

    collected   信息收集  --register-->  registered   (the command centre opens a case 立案)
    registered  案卷建立  --dispatch-->  dispatched   (sent to the routed department)
    dispatched  任务派遣  --accept---->  handling     (the department reports for duty: 部门报到)
    handling    任务处理  --report---->  reported     (done, with photos)
    reported    处理反馈  --verify---->  closed       (someone else checks on site; a failed check
                                                       sends it back to handling: rework 返工)
    closed      核查结案  --evaluate-->  evaluated    (综合评价: the reporter's or centre's score)

Side moves: a department returns a case that is not its own (回退, back to registered, with a
reason); a case is voided (作废: a duplicate, not a problem, outside the remit); a case is put on
the backlog (挂账: cannot be solved now, stays open, not overdue); its deadline is extended (延期)
or it is deferred (缓办: out of the due count until a date). Return, void, extension, deferral and
backlog need the command centre's approval (``APPROVED_BY_COMMAND``) and are counted.

Each step has a time limit (hours, per category); overdue escalates — "吹哨": first to the street
command centre, then to the district (rules.md §4).

``apply(step, move)`` is the step machine alone. ``take(case, move, at, limits, …)`` is the whole
move: the next step *and* what the move does to the case's deadlines, counters and flags (a ``Case``
in, a new ``Case`` out). The services (``services/events.py``) and the demo's year of events
(``linli/demo/governance.py``) both move cases only through ``take``, so the demo cannot drift from
the product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Step(StrEnum):
    COLLECTED = "collected"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    REPORTED = "reported"
    CLOSED = "closed"
    EVALUATED = "evaluated"
    VOIDED = "voided"


# (Chinese, English) — the seven GB/T 30428 steps, and the void state.
STEP_NAMES: dict[Step, tuple[str, str]] = {
    Step.COLLECTED: ("信息收集", "Collected"),
    Step.REGISTERED: ("案卷建立", "Registered"),
    Step.DISPATCHED: ("任务派遣", "Dispatched"),
    Step.HANDLING: ("任务处理", "Being handled"),
    Step.REPORTED: ("处理反馈", "Reported back"),
    Step.CLOSED: ("核查结案", "Verified and closed"),
    Step.EVALUATED: ("综合评价", "Evaluated"),
    Step.VOIDED: ("作废", "Voided"),
}

SEVEN: tuple[Step, ...] = (
    Step.COLLECTED,
    Step.REGISTERED,
    Step.DISPATCHED,
    Step.HANDLING,
    Step.REPORTED,
    Step.CLOSED,
    Step.EVALUATED,
)

# Open311 knows only open and closed (open311.md): a case is closed once verified, or voided.
CLOSED_STEPS = frozenset({Step.CLOSED, Step.EVALUATED, Step.VOIDED})
OPEN_STEPS = frozenset(Step) - CLOSED_STEPS


class Move(StrEnum):
    REGISTER = "register"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    REPORT = "report"
    VERIFY_PASS = "verify_pass"  # noqa: S105 (a move, not a password)
    VERIFY_FAIL = "verify_fail"
    EVALUATE = "evaluate"
    RETURN = "return"
    VOID = "void"
    # Flags and deadlines; the step does not change:
    BACKLOG = "backlog"
    UNBACKLOG = "unbacklog"
    EXTEND = "extend"
    DEFER = "defer"
    WHISTLE = "whistle"
    ESCALATE = "escalate"
    NOTE = "note"
    URGENT = "urgent"  # someone is in danger now: shorter limits, top of every queue
    NOT_URGENT = "not_urgent"


MOVE_NAMES: dict[Move, tuple[str, str]] = {
    Move.REGISTER: ("立案", "Register"),
    Move.DISPATCH: ("派遣", "Dispatch"),
    Move.ACCEPT: ("签收(部门报到)", "Accept"),
    Move.REPORT: ("处置反馈", "Report back"),
    Move.VERIFY_PASS: ("核查通过,结案", "Verified: close"),
    Move.VERIFY_FAIL: ("核查未通过,返工", "Verification failed: rework"),
    Move.EVALUATE: ("综合评价", "Evaluate"),
    Move.RETURN: ("回退", "Return"),
    Move.VOID: ("作废", "Void"),
    Move.BACKLOG: ("挂账", "Backlog"),
    Move.UNBACKLOG: ("销账(恢复办理)", "Off the backlog"),
    Move.EXTEND: ("延期", "Extend"),
    Move.DEFER: ("缓办", "Defer"),
    Move.WHISTLE: ("吹哨", "Blow the whistle"),
    Move.ESCALATE: ("超时升级", "Escalate (overdue)"),
    Move.NOTE: ("备注", "Note"),
    Move.URGENT: ("标为紧急", "Mark urgent"),
    Move.NOT_URGENT: ("取消紧急", "No longer urgent"),
}


class Who(StrEnum):
    """Which part of the chain takes a move (mapped to role actions by the services)."""

    COMMAND = "command"  # the street command centre (or the district)
    DEPARTMENT = "department"  # staff of the department the case is dispatched to
    FIELD = "field"  # a grid worker on site (or the command centre)
    REPORTER_OR_COMMAND = "reporter_or_command"
    CHAIN = "chain"  # anyone working the case: the field, the centre, the department it is with


@dataclass(frozen=True)
class Rule:
    from_steps: frozenset[Step]
    to_step: Step | None  # None: the step does not change
    who: Who


_S = Step
RULES: dict[Move, Rule] = {
    Move.REGISTER: Rule(frozenset({_S.COLLECTED}), _S.REGISTERED, Who.COMMAND),
    Move.DISPATCH: Rule(frozenset({_S.REGISTERED}), _S.DISPATCHED, Who.COMMAND),
    Move.ACCEPT: Rule(frozenset({_S.DISPATCHED}), _S.HANDLING, Who.DEPARTMENT),
    Move.REPORT: Rule(frozenset({_S.HANDLING}), _S.REPORTED, Who.DEPARTMENT),
    Move.VERIFY_PASS: Rule(frozenset({_S.REPORTED}), _S.CLOSED, Who.FIELD),
    Move.VERIFY_FAIL: Rule(frozenset({_S.REPORTED}), _S.HANDLING, Who.FIELD),
    Move.EVALUATE: Rule(frozenset({_S.CLOSED}), _S.EVALUATED, Who.REPORTER_OR_COMMAND),
    # A department asks to return a case (approved by the command centre): back to registered.
    Move.RETURN: Rule(frozenset({_S.DISPATCHED, _S.HANDLING}), _S.REGISTERED, Who.COMMAND),
    Move.VOID: Rule(frozenset({_S.COLLECTED, _S.REGISTERED, _S.DISPATCHED, _S.HANDLING}), _S.VOIDED, Who.COMMAND),
    Move.BACKLOG: Rule(frozenset({_S.DISPATCHED, _S.HANDLING}), None, Who.COMMAND),
    Move.UNBACKLOG: Rule(frozenset({_S.DISPATCHED, _S.HANDLING}), None, Who.COMMAND),
    Move.EXTEND: Rule(frozenset({_S.DISPATCHED, _S.HANDLING}), None, Who.COMMAND),
    Move.DEFER: Rule(frozenset({_S.DISPATCHED, _S.HANDLING}), None, Who.COMMAND),
    Move.WHISTLE: Rule(frozenset(OPEN_STEPS), None, Who.FIELD),
    Move.ESCALATE: Rule(frozenset(OPEN_STEPS), None, Who.COMMAND),
    Move.NOTE: Rule(frozenset(Step), None, Who.CHAIN),
    # Whoever is on the ground or in the centre may raise the alarm; only the centre stands it down.
    Move.URGENT: Rule(frozenset(OPEN_STEPS), None, Who.FIELD),
    Move.NOT_URGENT: Rule(frozenset(OPEN_STEPS), None, Who.COMMAND),
}

# Moves a department may only *ask* for; the command centre approves (and they are counted).
REQUESTABLE = frozenset({Move.RETURN, Move.VOID, Move.EXTEND, Move.DEFER, Move.BACKLOG})


class StepError(ValueError):
    """A move that is not allowed from the event's current step."""

    def __init__(self, move: Move, step: Step) -> None:
        self.move, self.step = move, step
        super().__init__(f"{move} is not allowed at step {step}")

    @property
    def zh(self) -> str:
        return f"案件处于“{STEP_NAMES[self.step][0]}”,不能“{MOVE_NAMES[self.move][0]}”。"

    @property
    def en(self) -> str:
        return f"The case is at “{STEP_NAMES[self.step][1]}”; “{MOVE_NAMES[self.move][1]}” is not possible now."


def apply(step: Step, move: Move) -> Step:
    """The step after ``move`` from ``step``; raises StepError if the move is not allowed there."""
    rule = RULES[move]
    if step not in rule.from_steps:
        raise StepError(move, step)
    return rule.to_step if rule.to_step is not None else step


# --- time limits ----------------------------------------------------------------------------------

# The step whose deadline runs while an event waits in a state, and its default limit in hours.
# Calendar hours: the command centre is staffed 24 h (rules.md §4); a district may set per category.
LIMIT_OF_STEP: dict[Step, str] = {
    Step.COLLECTED: "register",
    Step.REGISTERED: "dispatch",
    Step.DISPATCHED: "accept",
    Step.HANDLING: "handle",
    Step.REPORTED: "verify",
    Step.CLOSED: "evaluate",
}
DEFAULT_LIMITS: dict[str, float] = {
    "register": 2,
    "dispatch": 1,
    "accept": 2,
    "handle": 72,
    "verify": 24,
    "evaluate": 72,
}
LIMIT_NAMES: dict[str, tuple[str, str]] = {
    "register": ("立案时限", "to register"),
    "dispatch": ("派遣时限", "to dispatch"),
    "accept": ("签收时限", "to accept"),
    "handle": ("处置时限", "to handle"),
    "verify": ("核查时限", "to verify"),
    "evaluate": ("评价时限", "to evaluate"),
}


def limits_with_defaults(limits: Mapping[str, float] | None) -> dict[str, float]:
    out = dict(DEFAULT_LIMITS)
    for key, value in (limits or {}).items():
        if key in DEFAULT_LIMITS and value is not None and float(value) > 0:
            out[key] = float(value)
    return out


# --- urgent cases (rules.md §7, "Urgent cases") -------------------------------------------------------

#: A case where someone is in danger now (attribute ``danger_now`` = yes, or marked by staff) runs on
#: shorter limits: every step up to the department's report back takes a quarter of its time, and the
#: centre's own steps and the department's acceptance have hard caps (minutes, not hours). Verifying
#: and evaluating are not shortened: once the department has reported back the danger is dealt with.
URGENT_FACTOR = 0.25
URGENT_SHORTENED = frozenset({"register", "dispatch", "accept", "handle"})
URGENT_CAPS: dict[str, float] = {"register": 0.25, "dispatch": 0.25, "accept": 0.5, "handle": 12}


def limits_for(limits: Mapping[str, float] | None, urgent: bool) -> dict[str, float]:
    """The limits a case runs on: the category's (with the defaults), shortened when it is urgent —
    ``URGENT_FACTOR`` of each step in ``URGENT_SHORTENED``, never more than ``URGENT_CAPS``, and never
    longer than the category's own limit."""
    full = limits_with_defaults(limits)
    if not urgent:
        return full
    out = dict(full)
    for key in URGENT_SHORTENED:
        out[key] = min(full[key], full[key] * URGENT_FACTOR, URGENT_CAPS.get(key, full[key]))
    return out


def is_danger(attributes: Mapping[str, Any] | None) -> bool:
    """Whether a report says someone is in danger now (the ``danger_now`` attribute answered yes)."""
    value = (attributes or {}).get("danger_now")
    values = value if isinstance(value, list) else [value]
    return any(str(v).strip().lower() == "yes" for v in values)


def check_limits(limits: object) -> list[str]:
    """Problems with a category's limits (English keys of the offending entries)."""
    if not isinstance(limits, dict):
        return ["limits must be an object of hours"]
    bad = []
    for key, value in limits.items():
        if key not in DEFAULT_LIMITS:
            bad.append(f"unknown step limit {key!r}")
        elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 < float(value) <= 24 * 365:
            bad.append(f"{key} must be hours between 0 and 8760")
    return bad


def step_deadline(step: Step, started: datetime, limits: Mapping[str, float] | None) -> datetime | None:
    """When the step an event has just entered must be done; None for terminal steps."""
    key = LIMIT_OF_STEP.get(step)
    if key is None:
        return None
    return started + timedelta(hours=limits_with_defaults(limits)[key])


def handle_deadline(dispatched: datetime, limits: Mapping[str, float] | None) -> datetime:
    """The deadline that 按期结案 is measured against: accept + handle + verify from dispatch."""
    full = limits_with_defaults(limits)
    return dispatched + timedelta(hours=full["accept"] + full["handle"] + full["verify"])


# --- escalation ("吹哨") ---------------------------------------------------------------------------

NONE, STREET, DISTRICT = 0, 1, 2
LEVEL_NAMES = {NONE: ("", ""), STREET: ("街道指挥中心", "street command centre"), DISTRICT: ("区级", "district")}


def escalation_level(now: datetime, step_due: datetime | None, step_hours: float) -> int:
    """The level an event should be escalated to: overdue → the street command centre; overdue by
    as long again as the step's own limit (at least 24 h) → the district."""
    if step_due is None or now <= step_due:
        return NONE
    if now - step_due >= timedelta(hours=max(step_hours, 24.0)):
        return DISTRICT
    return STREET


# --- a whole move: the step and its effects ---------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """What the loop keeps of an event besides its history: the step and its deadline, the dates,
    the escalation level, the flags and the counters.

    ``department`` and ``handler`` are whatever the caller uses to name them — the services the
    department's and the user's ids, the demo its symbolic indexes and actors; the loop only sets,
    keeps or clears them."""

    step: Step
    step_started_at: datetime
    step_due_at: datetime | None
    updated_at: datetime
    dispatched_at: datetime | None = None
    due_at: datetime | None = None  # 按期结案 is measured against it (``handle_deadline``)
    closed_at: datetime | None = None
    escalation: int = NONE
    backlog: bool = False  # 挂账
    deferred_until: datetime | None = None  # 缓办
    rework_count: int = 0
    return_count: int = 0
    extension_count: int = 0
    score: int | None = None
    urgent: bool = False  # someone is in danger now: ``limits_for`` shortens its limits
    department: Any = None
    handler: Any = None


def opened(step: Step, at: datetime, limits: Mapping[str, float] | None, *, urgent: bool = False) -> Case:
    """A case just reported at ``at``: waiting in ``step`` (COLLECTED, or REGISTERED when the
    command centre reported it itself), its deadline running from then (shorter when ``urgent``)."""
    due = step_deadline(step, at, limits_for(limits, urgent))
    return Case(step=step, step_started_at=at, step_due_at=due, updated_at=at, urgent=urgent)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a if b is None else b
    return min(a, b)


def _enter(case: Case, step: Step, at: datetime, limits: Mapping[str, float] | None) -> Case:
    """The case enters ``step``: a new step deadline (never later than the handling deadline while
    handling) and no escalation."""
    due = step_deadline(step, at, limits)
    if step == Step.HANDLING and case.due_at is not None:
        due = min(due, case.due_at) if due else case.due_at
    return replace(case, step=step, step_started_at=at, step_due_at=due, escalation=NONE)


def take(
    case: Case,
    move: Move,
    at: datetime,
    limits: Mapping[str, float] | None,
    *,
    actor: Any = None,
    department: Any = None,
    score: int | None = None,
    hours: int | None = None,
    until: datetime | None = None,
    level: int | None = None,
) -> tuple[Case, dict[str, Any]]:
    """Take ``move`` on ``case`` at ``at``: the case after it, and what the history row records of
    it beside the move (``{"score"}``, ``{"level"}``, ``{"hours"}`` …). Raises StepError where the
    move is not allowed (``apply``). Checks of who and of the input belong to the caller.

    What each move does besides the step:

    - DISPATCH: the case is with ``department``; the first dispatch starts the handling deadline
      (``due_at = handle_deadline``).
    - ACCEPT: ``actor`` handles it. RETURN (回退): counted, and it leaves its department and handler.
    - VERIFY_FAIL: counted (返工). VERIFY_PASS and VOID: closed at ``at``. EVALUATE: ``score``.
    - EXTEND (延期) by ``hours``: both deadlines move on, counted, escalation back to none.
    - DEFER (缓办) to ``until``; BACKLOG / UNBACKLOG (挂账) set and clear the flag.
    - WHISTLE: escalated to at least the street; ESCALATE (the cron): to ``level``.

    - URGENT: the case runs on the urgent limits (``limits_for``) from now on, and the deadlines
      already running are brought forward to them (never put back). NOT_URGENT: the normal limits
      from the next step on; the deadlines running are kept (a department that needs more time asks
      for an extension).

    A move that changes the step enters the new one (``step_deadline``; escalation back to none)."""
    before = case.step
    after = apply(before, move)
    data: dict[str, Any] = {}
    new = case
    limits = limits_for(limits, case.urgent)
    if move == Move.DISPATCH:
        new = replace(new, department=department)
        if new.dispatched_at is None:
            new = replace(new, dispatched_at=at, due_at=handle_deadline(at, limits))
    elif move == Move.ACCEPT:
        new = replace(new, handler=actor)
    elif move == Move.RETURN:
        new = replace(new, return_count=new.return_count + 1, department=None, handler=None)
    elif move == Move.VERIFY_FAIL:
        new = replace(new, rework_count=new.rework_count + 1)
    elif move in (Move.VERIFY_PASS, Move.VOID):
        new = replace(new, closed_at=at)
    elif move == Move.EVALUATE:
        new = replace(new, score=score)
        data["score"] = score
    elif move == Move.EXTEND:
        extra = timedelta(hours=hours or 0)
        new = replace(
            new,
            due_at=(new.due_at or at) + extra,
            step_due_at=(new.step_due_at or at) + extra,
            extension_count=new.extension_count + 1,
            escalation=NONE,
        )
        data["hours"] = hours
    elif move == Move.DEFER:
        new = replace(new, deferred_until=until)
        data["until"] = until.isoformat() if until else None
    elif move == Move.BACKLOG:
        new = replace(new, backlog=True)
    elif move == Move.UNBACKLOG:
        new = replace(new, backlog=False)
    elif move == Move.WHISTLE:
        new = replace(new, escalation=max(new.escalation, STREET))
        data["level"] = new.escalation
    elif move == Move.ESCALATE:
        new = replace(new, escalation=level if level is not None else new.escalation)
        data["level"] = new.escalation
        data["overdue_since"] = case.step_due_at.isoformat() if case.step_due_at else None
    elif move == Move.URGENT:
        limits = limits_for(limits, True)
        step_due = step_deadline(new.step, new.step_started_at, limits)
        due = handle_deadline(new.dispatched_at, limits) if new.dispatched_at is not None else None
        new = replace(
            new,
            urgent=True,
            step_due_at=_earlier(new.step_due_at, step_due),
            due_at=_earlier(new.due_at, due),
        )
    elif move == Move.NOT_URGENT:
        new = replace(new, urgent=False)
        limits = limits_for(limits, False)
    if after != before:
        new = _enter(new, after, at, limits)
    return replace(new, updated_at=at), data
