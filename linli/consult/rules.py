"""Who may decide what, with which thresholds: owners' joint decisions under PRC Civil Code
Art. 278 and lift ballots (rules.md §1–2). Pure Python, imports no Django: the public contract
that independent checks call.

    decide(matter, dwellings, votes) -> Decision

``matter``     an int 1–9 (the items of Art. 278, para. 1) or the string ``"lift"``;
``dwellings``  an iterable of objects or mappings with ``id``, ``owner``, ``area``
               (``Decimal``, ``Fraction`` or ``int`` m²; a float is refused with ``TypeError``);
``votes``      maps owner → ``"yes" | "no" | "abstain"``; owners absent did not take part,
               an abstention counts as taking part.

Counting (SPC interpretation on building ownership, 2020 rev., Arts. 8–9): area = the registered
exclusive area; one exclusive unit = one owner, but a buyer of several units and all unsold
units of the developer count as one owner each. The caller expresses both by the ``owner`` key:
dwellings with the same key are one owner (headcount 1, area = the sum of their areas).

Thresholds (Civil Code Art. 278, para. 2; rules.md §1):
  * participation (quorum): owners holding ≥ 2/3 of the exclusive area AND ≥ 2/3 of the owners
    by headcount take part — for every matter;
  * approval of (6) raising repair funds, (7) rebuilding, (8) changing the use of common parts,
    and adding a lift (rules.md §2, treated as (7)/(8)): ≥ 3/4 of the participating area AND
    ≥ 3/4 of the participating owners;
  * approval of every other matter, including (5) using repair funds: more than half (过半数,
    strictly) of the participating area AND of the participating owners.
"≥" includes the boundary; "过半数" does not. Arithmetic is exact (``fractions.Fraction``): 2/3 of
7 owners needs 5 owners, never 4.66 rounded.

The thresholds are data (``THRESHOLDS``), not branches, as Loomio configures its poll types.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

CHOICES = ("yes", "no", "abstain")
MATTERS: tuple[int | str, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, "lift")


@dataclass(frozen=True)
class Threshold:
    """A share that must be reached; ``inclusive`` True means "at least", False "more than"."""

    share: Fraction
    inclusive: bool

    def met(self, value: Fraction) -> bool:
        return value >= self.share if self.inclusive else value > self.share

    def __str__(self) -> str:
        return f"{'≥' if self.inclusive else '>'} {self.share}"


@dataclass(frozen=True)
class Rule:
    """What a matter needs: participation (of the whole roll) and approval (of the participants),
    each by area AND by headcount."""

    participation: Threshold
    approval: Threshold
    source: str


# Civil Code Art. 278 para. 2, first sentence: 2/3 of area and 2/3 of owners take part.
QUORUM = Threshold(Fraction(2, 3), inclusive=True)
# Art. 278 para. 2: (6)–(8) need 3/4 of participating area and owners, "not less than" (boundary in).
QUALIFIED = Threshold(Fraction(3, 4), inclusive=True)
# Art. 278 para. 2: the other matters need "过半数" — strictly more than half.
SIMPLE = Threshold(Fraction(1, 2), inclusive=False)

_ART278 = "民法典第二百七十八条 Civil Code Art. 278"
_LIFT = "既有住宅增设电梯,参照第278条(七)(八)项 lift: as Art. 278 (7)/(8), rules.md §2 (inference)"

THRESHOLDS: dict[int | str, Rule] = {
    1: Rule(QUORUM, SIMPLE, _ART278 + " (1)"),
    2: Rule(QUORUM, SIMPLE, _ART278 + " (2)"),
    3: Rule(QUORUM, SIMPLE, _ART278 + " (3)"),
    4: Rule(QUORUM, SIMPLE, _ART278 + " (4)"),
    5: Rule(QUORUM, SIMPLE, _ART278 + " (5)"),
    6: Rule(QUORUM, QUALIFIED, _ART278 + " (6)"),
    7: Rule(QUORUM, QUALIFIED, _ART278 + " (7)"),
    8: Rule(QUORUM, QUALIFIED, _ART278 + " (8)"),
    9: Rule(QUORUM, SIMPLE, _ART278 + " (9)"),
    "lift": Rule(QUORUM, QUALIFIED, _LIFT),
}


@dataclass(frozen=True)
class Decision:
    """The outcome of one ballot. The four shares are exact; ``participating_*`` are shares of the
    whole roll, ``approving_*`` shares of the participants (0 when nobody took part)."""

    quorum_met: bool
    approved: bool
    participating_area: Fraction
    participating_owners: Fraction
    approving_area: Fraction
    approving_owners: Fraction
    # The counts behind the shares (for display and for recomputation).
    matter: int | str = 0
    total_area: Fraction = Fraction(0)
    total_owners: int = 0
    voted_area: Fraction = Fraction(0)
    voted_owners: int = 0
    yes_area: Fraction = Fraction(0)
    yes_owners: int = 0
    no_owners: int = 0
    abstain_owners: int = 0
    dwellings: int = 0


def rule_for(matter: object) -> Rule:
    """The rule of ``matter`` (an int 1–9 or ``"lift"``); anything else is a ``ValueError``."""
    if isinstance(matter, bool) or not isinstance(matter, int | str) or matter not in THRESHOLDS:
        raise ValueError(f"unknown matter {matter!r}: expected an int 1–9 or 'lift'")
    return THRESHOLDS[matter]


def parse_matter(value: object) -> int | str:
    """A stored matter (``"7"``, ``"lift"``) as ``decide`` takes it."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    rule_for(value)
    return value  # type: ignore[return-value]


def _field(d: Any, name: str) -> Any:
    if isinstance(d, Mapping):
        if name not in d:
            raise ValueError(f"dwelling {d!r} has no {name!r}")
        return d[name]
    try:
        return getattr(d, name)
    except AttributeError as exc:
        raise ValueError(f"dwelling {d!r} has no {name!r}") from exc


def _ratio(area: object) -> tuple[int, int]:
    """An area as an exact (numerator, denominator); floats are refused (not exact)."""
    if isinstance(area, Decimal):
        if not area.is_finite():
            raise ValueError(f"area {area} is not a finite number")
        n, d = area.as_integer_ratio()
    elif isinstance(area, Fraction):
        n, d = area.numerator, area.denominator
    elif isinstance(area, int) and not isinstance(area, bool):
        n, d = area, 1
    else:
        raise TypeError(f"area must be Decimal, Fraction or int (exact), not {type(area).__name__}")
    if n <= 0:
        raise ValueError(f"area must be positive, got {area}")
    return n, d


class _Sum:
    """An exact sum of many fractions, fast: numerators summed per denominator (areas in m² with
    two decimals share a handful of denominators), one Fraction at the end."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: dict[int, int] = {}

    def add(self, n: int, d: int) -> None:
        self.parts[d] = self.parts.get(d, 0) + n

    def value(self) -> Fraction:
        return sum((Fraction(n, d) for d, n in self.parts.items()), Fraction(0))


def _share(part: Fraction | int, whole: Fraction | int) -> Fraction:
    return Fraction(part) / Fraction(whole) if whole else Fraction(0)


def decide(matter: int | str, dwellings: Iterable[Any], votes: Mapping[Any, str]) -> Decision:
    """Tally one ballot exactly. Raises ``ValueError`` for an unknown matter or choice, a vote by
    an owner not on the roll, a dwelling listed twice, a non-positive area or an empty roll, and
    ``TypeError`` for a float (inexact) area."""
    rule = rule_for(matter)
    for owner, choice in votes.items():
        if choice not in CHOICES:
            raise ValueError(f"unknown choice {choice!r} of owner {owner!r}: expected yes, no or abstain")

    total, voted, yes = _Sum(), _Sum(), _Sum()
    owners: set[Hashable] = set()
    seen: set[Hashable] = set()
    get = votes.get
    for d in dwellings:
        if isinstance(d, Mapping):
            did, owner, area = d["id"], d["owner"], d["area"]
        else:
            did, owner, area = _field(d, "id"), _field(d, "owner"), _field(d, "area")
        if did in seen:
            raise ValueError(f"dwelling {did!r} is listed twice on the roll")
        seen.add(did)
        n, q = _ratio(area)
        total.add(n, q)
        owners.add(owner)
        cast = get(owner)
        if cast is not None:
            voted.add(n, q)
            if cast == "yes":
                yes.add(n, q)
    if not seen:
        raise ValueError("the roll is empty: nobody can decide")
    strangers = [o for o in votes if o not in owners]
    if strangers:
        raise ValueError(f"votes from owners not on the roll: {strangers[:5]!r}")

    counts = {c: 0 for c in CHOICES}
    for choice in votes.values():
        counts[choice] += 1
    total_area, voted_area, yes_area = total.value(), voted.value(), yes.value()
    n_owners, n_voted = len(owners), len(votes)

    participating_area = _share(voted_area, total_area)
    participating_owners = _share(n_voted, n_owners)
    approving_area = _share(yes_area, voted_area)
    approving_owners = _share(counts["yes"], n_voted)
    quorum = rule.participation.met(participating_area) and rule.participation.met(participating_owners)
    approved = quorum and rule.approval.met(approving_area) and rule.approval.met(approving_owners)
    return Decision(
        quorum_met=quorum,
        approved=approved,
        participating_area=participating_area,
        participating_owners=participating_owners,
        approving_area=approving_area,
        approving_owners=approving_owners,
        matter=matter,
        total_area=total_area,
        total_owners=n_owners,
        voted_area=voted_area,
        voted_owners=n_voted,
        yes_area=yes_area,
        yes_owners=counts["yes"],
        no_owners=counts["no"],
        abstain_owners=counts["abstain"],
        dwellings=len(seen),
    )


def owners_needed(total_owners: int, threshold: Threshold) -> int:
    """The least whole number of owners that meets ``threshold`` of ``total_owners`` (exact:
    2/3 of 7 is 5)."""
    need = threshold.share * total_owners
    whole = need.numerator // need.denominator
    if threshold.inclusive:
        return whole if whole == need else whole + 1
    return whole + 1


def lift_consents_complete(occupied_owners: Iterable[Hashable], consents: Mapping[Any, bool]) -> bool:
    """rules.md §2: every owner whose exclusive part the lift would occupy consents individually;
    a missing consent is no consent."""
    return all(consents.get(o) is True for o in occupied_owners)
