"""Alert rules (pure Python, no Django): threshold, rate, offline; ``run()`` and ``tick()``. Issue 13 §3.

The public contract (issue 13 §3, checked from outside)::

    threshold(above=None, below=None, for_s=0, clear_at=None)    rate(max_per_s)    offline(after_s)
    run(rule, state, readings) -> (state, transitions)
    tick(rule, state, now) -> (state, transitions)

``readings`` is any iterable of ``(ts_seconds, value)`` pairs (tuples or lists; ``ts`` an int or a
float, seconds). ``transitions`` is a list of ``(ts, "raise" | "clear")`` in time order. ``state=None``
starts fresh; a state is plain JSON data (a dict with str keys, numbers, bools, None) and gives the
same results after ``json.loads(json.dumps(state))``. The state passed in is never changed: a new one
is returned (the caller may keep the old one, e.g. to retry a batch).

Readings (one rule of acceptance for every kind):

- ``run`` sorts the readings of one call by ts (a stable sort, done only when they are not in order
  already). A reading whose ts is not strictly greater than the newest ts this rule has accepted —
  in an earlier call or earlier in this one — is ignored; so of readings with equal ts only the first
  in sorted order (= the first given) counts, and a reading older than what was seen is dropped.
- A value is a number; ``True``/``False`` count as 1/0. A reading whose value is NaN, infinite or not a
  number (``None``, ``"3.5"``), or whose ts is not a finite number, is ignored: it does not advance the
  newest ts and changes nothing. A pair that is not a pair (``(1, 2, 3)``) is a programming error:
  ``ValueError``.
- A transition's ts is the reading's ts exactly as given (an int stays an int); for ``offline`` it is
  ``last_ts + after_s``.

Semantics:

- ``threshold``: a value is *past* the limit when ``value > above`` (or ``value < below``). The rule
  keeps the start of the current run of consecutive past readings; at a past reading at ``t`` it
  raises when not raised and ``t - run_start >= for_s`` — i.e. at the first reading at which the value
  has been past the limit in every reading since a reading at least ``for_s`` seconds earlier
  (``for_s=0`` raises at once). A reading that is not past ends the run. While raised, a reading at or
  below ``clear_at`` (default ``above``; for ``below``: at or above ``clear_at``, default ``below``)
  clears; between the limit and ``clear_at`` (hysteresis) nothing happens. After a clear a new run
  starts at the next past reading. With both ``above`` and ``below`` the rule is a *band*: past is
  ``value > above or value < below`` and it clears at the first reading that is not past (no
  ``clear_at``). ``ValueError`` for: neither limit, ``below > above`` in a band, ``clear_at`` with a
  band, ``clear_at`` on the wrong side (``clear_at > above``, ``clear_at < below``), ``for_s < 0``.
- ``rate``: the pair is the previous accepted reading and this one (across calls: the state keeps the
  previous ``(ts, value)``). ``|Δvalue/Δt| > max_per_s`` and not raised → raise at this reading's ts;
  raised and the pair does not exceed it (equal is not exceeding) → clear at this reading's ts. The
  first reading ever makes no pair. ``ValueError`` for ``max_per_s < 0``.
- ``offline``: ``run`` only records the newest ts and, if raised, clears at the first accepted reading
  (at its ts). ``run`` never raises: a gap between readings inside one call raises nothing, only
  ``tick`` does. ``tick(rule, state, now)``: a reading was seen, not raised, and
  ``now >= last_ts + after_s`` → raise at ``last_ts + after_s`` (that instant, not ``now``); repeated
  ticks do not repeat it; no reading yet → nothing. ``ValueError`` for ``after_s <= 0``. Note that a
  late reading older than the raise (ts < last_ts + after_s, but newer than last_ts) clears at its own
  ts, which is earlier than the raise it clears.
- ``tick`` on a threshold or rate rule changes nothing and returns ``(state, [])`` (a fresh state for
  ``None``). A bad ``now`` (not a finite number) is a ``ValueError``.
- A state of another kind of rule (``run(rate(1), threshold_state, …)``) is a ``ValueError``; a state
  stays valid when the rule's parameters change (same kind).

Rules are immutable values (frozen dataclasses: hashable, comparable, with a repr that reads like the
call that built them); ``rule_to_dict``/``rule_from_dict`` turn them into plain data and back.

Examples::

    >>> r = threshold(above=0.8, for_s=60, clear_at=0.7)
    >>> s, t = run(r, None, [(0, 0.9), (30, 0.95)])
    >>> t
    []
    >>> s, t = run(r, s, [(60, 0.85), (90, 0.75), (120, 0.7)])
    >>> t
    [(60, 'raise'), (120, 'clear')]
    >>> s, t = run(offline(300), None, [(1000, 1)])
    >>> tick(offline(300), s, 1400)[1]
    [(1300, 'raise')]

Speed: the intake runs tens of thousands of readings a second through ``run``; readings in order
(the usual case) are neither copied nor sorted, and the loops allocate nothing per reading beyond
the transitions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from decimal import Decimal
from numbers import Integral, Real
from operator import itemgetter
from typing import Any, Literal

Number = int | float
Kind = Literal["raise", "clear"]
#: One transition of a rule: ``(ts, "raise" | "clear")``.
Change = tuple[Number, Kind]
#: A rule's state: plain JSON data.
State = dict[str, Any]

RAISE: Kind = "raise"
CLEAR: Kind = "clear"

THRESHOLD = "threshold"
RATE = "rate"
OFFLINE = "offline"
KINDS = (THRESHOLD, RATE, OFFLINE)

_INF = math.inf
_TS = itemgetter(0)


# ---------------------------------------------------------------------------------------------------
# numbers


def number(x: object) -> Number | None:
    """``x`` as a finite int or float, or None (NaN, ±infinity, not a number). ``bool`` → 0/1;
    other integral numbers → int; other real numbers (``Decimal``, ``Fraction``, numpy) → float."""
    tx = type(x)
    if tx is int:
        return x  # type: ignore[return-value]
    if tx is float:
        return x if x - x == 0 else None  # type: ignore[operator,return-value]  # NaN and ±inf fail
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, Integral):
        return int(x)
    if isinstance(x, Real | Decimal):
        try:
            f = float(x)
        except (OverflowError, ValueError):
            return None
        return f if f - f == 0 else None
    return None


def _param(name: str, x: object, *, optional: bool = False) -> Number | None:
    """A rule's parameter: a finite number (not a bool), or None when optional."""
    if x is None and optional:
        return None
    if isinstance(x, bool) or (n := number(x)) is None:
        raise ValueError(f"{name} must be a finite number, not {x!r}")
    return n


def prepare(readings: Iterable[Any], value: Callable[[object], Any] = number) -> Sequence[Any]:
    """The readings of one call as ``(ts, value)`` pairs sorted by ts (stable), without the ignored
    ones (ts or value not a finite number; ``value`` converts a value or returns None to ignore it).

    In the usual case — a list or tuple of int/float pairs already in order — the input itself is
    returned, neither copied nor sorted. Acceptance against the newest ts is the caller's loop."""
    if type(readings) is not list and type(readings) is not tuple:
        readings = list(readings)
    fast_floats = value is number
    prev: Number = -_INF
    for r in readings:
        t, v = r
        tt = type(t)
        if tt is float:
            if t - t != 0:
                break
        elif tt is not int:
            break
        tv = type(v)
        if tv is float:
            if not fast_floats or v - v != 0:
                break
        elif tv is not int:
            break
        if t < prev:
            break
        prev = t
    else:
        return readings
    out = []
    for t, v in readings:
        t = number(t)
        v = value(v)
        if t is not None and v is not None:
            out.append((t, v))
    out.sort(key=_TS)
    return out


# ---------------------------------------------------------------------------------------------------
# rules


def _call_repr(name: str, rule: object) -> str:
    args = []
    for f in fields(rule):  # type: ignore[arg-type]
        v = getattr(rule, f.name)
        if v != f.default:
            args.append(f"{f.name}={v!r}")
    return f"{name}({', '.join(args)})"


@dataclass(frozen=True, slots=True)
class Threshold:
    """``threshold(...)``: see the module's docstring."""

    above: Number | None = None
    below: Number | None = None
    for_s: Number = 0
    clear_at: Number | None = None

    def __post_init__(self) -> None:
        above = _param("above", self.above, optional=True)
        below = _param("below", self.below, optional=True)
        for_s = _param("for_s", self.for_s)
        clear_at = _param("clear_at", self.clear_at, optional=True)
        assert for_s is not None
        if above is None and below is None:
            raise ValueError("a threshold needs above, below or both")
        if for_s < 0:
            raise ValueError(f"for_s must not be negative, not {for_s!r}")
        if above is not None and below is not None:
            if clear_at is not None:
                raise ValueError("a band (above and below) clears when back inside: no clear_at")
            if below > above:
                raise ValueError(f"a band needs below <= above, not below={below!r} above={above!r}")
        elif clear_at is not None:
            if above is not None and clear_at > above:
                raise ValueError(f"clear_at must be at or below above={above!r}, not {clear_at!r}")
            if below is not None and clear_at < below:
                raise ValueError(f"clear_at must be at or above below={below!r}, not {clear_at!r}")
        object.__setattr__(self, "above", above)
        object.__setattr__(self, "below", below)
        object.__setattr__(self, "for_s", for_s)
        object.__setattr__(self, "clear_at", clear_at)

    def __repr__(self) -> str:
        return _call_repr(THRESHOLD, self)


@dataclass(frozen=True, slots=True)
class Rate:
    """``rate(max_per_s)``: see the module's docstring."""

    max_per_s: Number

    def __post_init__(self) -> None:
        m = _param("max_per_s", self.max_per_s)
        assert m is not None
        if m < 0:
            raise ValueError(f"max_per_s must not be negative, not {m!r}")
        object.__setattr__(self, "max_per_s", m)

    def __repr__(self) -> str:
        return _call_repr(RATE, self)


@dataclass(frozen=True, slots=True)
class Offline:
    """``offline(after_s)``: see the module's docstring."""

    after_s: Number

    def __post_init__(self) -> None:
        a = _param("after_s", self.after_s)
        assert a is not None
        if a <= 0:
            raise ValueError(f"after_s must be positive, not {a!r}")
        object.__setattr__(self, "after_s", a)

    def __repr__(self) -> str:
        return _call_repr(OFFLINE, self)


Rule = Threshold | Rate | Offline


def threshold(
    above: Number | None = None, below: Number | None = None, for_s: Number = 0, clear_at: Number | None = None
) -> Threshold:
    return Threshold(above=above, below=below, for_s=for_s, clear_at=clear_at)


def rate(max_per_s: Number) -> Rate:
    return Rate(max_per_s)


def offline(after_s: Number) -> Offline:
    return Offline(after_s)


_CLASSES: dict[str, type[Threshold] | type[Rate] | type[Offline]] = {
    THRESHOLD: Threshold,
    RATE: Rate,
    OFFLINE: Offline,
}
_KIND_OF: dict[type, str] = {cls: kind for kind, cls in _CLASSES.items()}


def kind_of(rule: Rule) -> str:
    try:
        return _KIND_OF[type(rule)]
    except KeyError:
        raise ValueError(f"not a rule: {rule!r}") from None


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The rule as plain data: ``{"kind": "threshold", "above": 0.8, "below": None, …}``."""
    d: dict[str, Any] = {"kind": kind_of(rule)}
    for f in fields(rule):
        d[f.name] = getattr(rule, f.name)
    return d


def rule_from_dict(d: Mapping[str, Any]) -> Rule:
    """The rule ``rule_to_dict`` gave; missing parameters take their defaults. ``ValueError`` for an
    unknown kind, an unknown key or a bad parameter."""
    if not isinstance(d, Mapping):
        raise ValueError(f"a rule is a mapping, not {d!r}")
    kind = d.get("kind")
    cls = _CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown kind of rule: {kind!r}")
    names = {f.name for f in fields(cls)}
    extra = set(d) - names - {"kind"}
    if extra:
        raise ValueError(f"unknown parameters of a {kind} rule: {', '.join(sorted(map(str, extra)))}")
    missing = {f.name for f in fields(cls) if f.default is MISSING} - set(d)
    if missing:
        raise ValueError(f"a {kind} rule needs {', '.join(sorted(missing))}")
    return cls(**{k: v for k, v in d.items() if k != "kind"})


# ---------------------------------------------------------------------------------------------------
# states


def _load(state: Mapping[str, Any] | None, kind: str) -> tuple[Number, Any, Any, bool]:
    """(newest or -inf, the kind's first datum, its second datum, raised) from a state."""
    if state is None:
        return -_INF, None, None, False
    if not isinstance(state, Mapping) or state.get("kind") != kind:
        raise ValueError(f"not the state of a {kind} rule: {state!r}")
    newest = state.get("newest")
    raised = state.get("raised")
    if type(raised) is not bool:
        raise ValueError(f"not the state of a {kind} rule: {state!r}")
    if newest is None:
        return -_INF, None, None, raised
    if number(newest) is None:
        raise ValueError(f"not the state of a {kind} rule: {state!r}")
    if kind == OFFLINE:
        return newest, None, None, raised
    datum = state.get("run" if kind == THRESHOLD else "value")
    if datum is not None and number(datum) is None:
        raise ValueError(f"not the state of a {kind} rule: {state!r}")
    return newest, datum, None, raised


def _newest(newest: Number) -> Number | None:
    return None if newest == -_INF else newest


# ---------------------------------------------------------------------------------------------------
# run and tick


def run(rule: Rule, state: Mapping[str, Any] | None, readings: Iterable[Any]) -> tuple[State, list[Change]]:
    """Run ``readings`` through ``rule`` from ``state``: ``(new state, transitions)``."""
    kind = kind_of(rule)
    if kind == THRESHOLD:
        return _run_threshold(rule, state, readings)  # type: ignore[arg-type]
    if kind == RATE:
        return _run_rate(rule, state, readings)  # type: ignore[arg-type]
    return _run_offline(rule, state, readings)  # type: ignore[arg-type]


def tick(rule: Rule, state: Mapping[str, Any] | None, now: Number) -> tuple[State, list[Change]]:
    """Advance ``rule`` to ``now`` without a reading: only ``offline`` can raise here."""
    kind = kind_of(rule)
    at = number(now)
    if at is None or isinstance(now, bool):
        raise ValueError(f"now must be a finite number, not {now!r}")
    newest, _a, _b, raised = _load(state, kind)  # checks the state
    if kind != OFFLINE:
        return (dict(state) if state is not None else _fresh(kind)), []
    assert isinstance(rule, Offline)
    if newest == -_INF or raised or at < newest + rule.after_s:
        return {"kind": OFFLINE, "newest": _newest(newest), "raised": raised}, []
    return {"kind": OFFLINE, "newest": newest, "raised": True}, [(newest + rule.after_s, RAISE)]


def _fresh(kind: str) -> State:
    if kind == THRESHOLD:
        return {"kind": THRESHOLD, "newest": None, "run": None, "raised": False}
    if kind == RATE:
        return {"kind": RATE, "newest": None, "value": None, "raised": False}
    return {"kind": OFFLINE, "newest": None, "raised": False}


def _run_threshold(
    rule: Threshold, state: Mapping[str, Any] | None, readings: Iterable[Any]
) -> tuple[State, list[Change]]:
    newest, start, _, raised = _load(state, THRESHOLD)
    rs = prepare(readings)
    out: list[Change] = []
    above, below, for_s = rule.above, rule.below, rule.for_s
    if below is None:  # above only
        assert above is not None
        clear = above if rule.clear_at is None else rule.clear_at
        for t, v in rs:
            if t <= newest:
                continue
            newest = t
            if v > above:
                if not raised:
                    if start is None:
                        start = t
                    if t - start >= for_s:
                        raised = True
                        out.append((t, RAISE))
            else:
                start = None
                if raised and v <= clear:
                    raised = False
                    out.append((t, CLEAR))
    elif above is None:  # below only
        clear = below if rule.clear_at is None else rule.clear_at
        for t, v in rs:
            if t <= newest:
                continue
            newest = t
            if v < below:
                if not raised:
                    if start is None:
                        start = t
                    if t - start >= for_s:
                        raised = True
                        out.append((t, RAISE))
            else:
                start = None
                if raised and v >= clear:
                    raised = False
                    out.append((t, CLEAR))
    else:  # a band
        for t, v in rs:
            if t <= newest:
                continue
            newest = t
            if v > above or v < below:
                if not raised:
                    if start is None:
                        start = t
                    if t - start >= for_s:
                        raised = True
                        out.append((t, RAISE))
            else:
                start = None
                if raised:
                    raised = False
                    out.append((t, CLEAR))
    return {"kind": THRESHOLD, "newest": _newest(newest), "run": start, "raised": raised}, out


def _run_rate(rule: Rate, state: Mapping[str, Any] | None, readings: Iterable[Any]) -> tuple[State, list[Change]]:
    newest, prev, _, raised = _load(state, RATE)
    rs = prepare(readings)
    out: list[Change] = []
    m = rule.max_per_s
    for t, v in rs:
        if t <= newest:
            continue
        if prev is not None:
            try:
                exceeds = abs(v - prev) / (t - newest) > m
            except OverflowError:  # huge ints: the rate is beyond any float
                exceeds = True
            if exceeds:
                if not raised:
                    raised = True
                    out.append((t, RAISE))
            elif raised:
                raised = False
                out.append((t, CLEAR))
        newest = t
        prev = v
    return {"kind": RATE, "newest": _newest(newest), "value": prev, "raised": raised}, out


def _run_offline(rule: Offline, state: Mapping[str, Any] | None, readings: Iterable[Any]) -> tuple[State, list[Change]]:
    newest, _a, _b, raised = _load(state, OFFLINE)
    out: list[Change] = []
    for t, _v in prepare(readings):
        if t <= newest:
            continue
        if raised:
            raised = False
            out.append((t, CLEAR))
        newest = t
    return {"kind": OFFLINE, "newest": _newest(newest), "raised": raised}, out
