"""Import guards: other apps' vetoes on a roster import, without places importing them (pure Python).

An import preview works out every dwelling a file would add or change before anything is written
(``linli.places.services``). Apps built on places may refuse some of those changes for reasons
places knows nothing about: ``consult`` refuses anything that would change the counts of a ballot
whose roll is frozen. Such an app registers a guard in its ``AppConfig.ready()``:

    from linli.places.guards import register_import_guard
    register_import_guard(my_guard)          # my_guard(changes: PlannedChanges) -> list[Problem]

Every guard runs on every preview and again inside the confirming transaction; any problem it
returns is listed with the file's other problems (row and column) and the import cannot be applied.
A guard only reads: it must not write anything. Dwellings in a compound the file itself creates
are not passed (nothing on record can concern them yet): a first import of a whole street costs
the guards nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linli.core.errors import Problem

# What can change about a dwelling through an import. "new": the dwelling is added; "owners": its
# ownerships (who, shares) are replaced; the others are the dwelling's own fields.
DWELLING_CHANGES = frozenset({"new", "owners", "area", "use", "floor", "area_source"})


@dataclass(slots=True)
class PlannedDwelling:
    """One dwelling a preview would add or change (read only). Ids are None for what does not
    exist yet."""

    row: int
    column: str | None  # the file's column label of the first change, for the problem
    label: str  # "劳动三村小区 1栋 1-101"
    dwelling_id: int | None
    unit_id: int | None
    building_id: int | None
    compound_id: int | None
    changes: frozenset[str]


@dataclass(frozen=True)
class PlannedChanges:
    dwellings: tuple[PlannedDwelling, ...] = ()


ImportGuard = Callable[[PlannedChanges], list[Problem]]

_GUARDS: list[ImportGuard] = []


def register_import_guard(guard: ImportGuard) -> None:
    """Add a guard (once: registering the same function again does nothing)."""
    if guard not in _GUARDS:
        _GUARDS.append(guard)


def unregister_import_guard(guard: ImportGuard) -> None:
    if guard in _GUARDS:
        _GUARDS.remove(guard)


def import_guards() -> tuple[ImportGuard, ...]:
    return tuple(_GUARDS)


def check(changes: PlannedChanges) -> list[Problem]:
    """Every guard's problems with the planned changes (nothing to check: no query at all)."""
    if not changes.dwellings:
        return []
    out: list[Problem] = []
    for guard in _GUARDS:
        out.extend(guard(changes))
    return out
