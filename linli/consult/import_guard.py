"""Frozen rolls: while a ballot is open, a roster import may not change what it counts.

Registered with ``linli.places.guards`` in ``ConsultConfig.ready()`` (places never imports consult).
A ballot's roll is frozen when it opens (``RollEntry`` rows and ``Ballot.roll_digest``); until it
closes, an import must not change the owners (ownerships, shares), the area or the use of a
dwelling on that roll, nor add a dwelling to the ballot's scope (compound, building or unit), nor
change the owners or use of a dwelling in the scope that the roll left out (that would put it on
the roll). Floor, area source, households and names do not change the counts and pass.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone

from linli.consult.models import Ballot, RollEntry
from linli.core.errors import Problem
from linli.places.guards import PlannedChanges, PlannedDwelling

COUNTED = frozenset({"new", "owners", "area", "use"})
_WHAT = {
    "owners": ("产权人", "owners"),
    "area": ("面积", "area"),
    "use": ("用途", "use"),
}


def _until(ballot: Ballot) -> tuple[str, str]:
    if ballot.closes_at is None:
        return "至表决结束", "until it closes"
    day = timezone.localtime(ballot.closes_at).date().isoformat()
    return f"至 {day}", f"until {day}"


def _problem(d: PlannedDwelling, ballot: Ballot, on_roll: bool) -> Problem:
    until_zh, until_en = _until(ballot)
    if "new" in d.changes:
        return Problem(
            "frozen_roll",
            f"表决“{ballot.title}”正在进行,名册已冻结({until_zh}):不能在其范围内新增房屋 {d.label}。",
            f"Ballot «{ballot.title}» is open and its roll is frozen {until_en}: dwelling {d.label} cannot be "
            "added to its scope.",
            row=d.row,
            column=d.column,
        )
    what = sorted(d.changes & set(_WHAT))
    what_zh = "、".join(_WHAT[w][0] for w in what)
    what_en = ", ".join(_WHAT[w][1] for w in what)
    if on_roll:
        return Problem(
            "frozen_roll",
            f"房屋 {d.label} 在表决“{ballot.title}”的冻结名册上({until_zh}),表决期间不能更改其{what_zh}。",
            f"Dwelling {d.label} is on the frozen roll of ballot «{ballot.title}» {until_en}; its {what_en} "
            "cannot change while the ballot is open.",
            row=d.row,
            column=d.column,
        )
    return Problem(
        "frozen_roll",
        f"房屋 {d.label} 在表决“{ballot.title}”的范围内,名册已冻结({until_zh}):表决期间不能更改其{what_zh}。",
        f"Dwelling {d.label} is in the scope of ballot «{ballot.title}», whose roll is frozen {until_en}; its "
        f"{what_en} cannot change while the ballot is open.",
        row=d.row,
        column=d.column,
    )


def frozen_rolls(changes: PlannedChanges) -> list[Problem]:
    """The problems of the planned changes with the rolls of open ballots (read only)."""
    relevant = [d for d in changes.dwellings if d.changes & COUNTED]
    if not relevant:
        return []
    compounds = {d.compound_id for d in relevant if d.compound_id is not None}
    buildings = {d.building_id for d in relevant if d.building_id is not None}
    units = {d.unit_id for d in relevant if d.unit_id is not None}
    open_ballots = list(
        Ballot.objects.filter(status=Ballot.Status.OPEN).filter(
            scope_kind__in=[k for k, ids in (("compound", compounds), ("building", buildings), ("unit", units)) if ids]
        )
    )
    by_scope: dict[tuple[str, int], list[Ballot]] = defaultdict(list)
    for b in open_ballots:
        by_scope[(b.scope_kind, int(b.scope_id))].append(b)
    if not by_scope:
        return []
    ids = [d.dwelling_id for d in relevant if d.dwelling_id is not None]
    rolls: set[tuple[int, int]] = set()
    for i in range(0, len(ids), 900):
        rolls |= set(
            RollEntry.objects.filter(ballot__in=open_ballots, dwelling_id__in=ids[i : i + 900]).values_list(
                "ballot_id", "dwelling_id"
            )
        )
    out: list[Problem] = []
    for d in relevant:
        seen: set[int] = set()
        for key in (("compound", d.compound_id), ("building", d.building_id), ("unit", d.unit_id)):
            if key[1] is None:
                continue
            for ballot in by_scope.get((key[0], int(key[1])), []):
                if ballot.pk in seen:
                    continue
                seen.add(ballot.pk)
                out.append(_problem(d, ballot, (ballot.pk, d.dwelling_id) in rolls))
    return out
