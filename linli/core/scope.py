"""How a model says where it sits in the place tree (pure Python, no Django).

Every model that the permission check must scope declares one ``Scope``: the ORM lookups from
the model to (a) the materialised place path of the building or place it belongs to, (b) the
grid it falls in, (c) the dwelling it concerns, (d) the department it is dispatched to (grid
events). A model without department lookups is seen by a department's staff through the
department's jurisdiction path. (e) ``owner``: lookups to the *user* who owns the row themselves — a
job seeker's own profile, an employer's postings through its members (issue 14) — who may take the
``owner_actions`` on it without holding any role (personal actions such as ``seek`` and ``hire``).
``linli.accounts.permissions`` turns a person's
role grants into a filter from these lookups, for every model, in one place.
A lookup may be a tuple: the object is in scope if any of them is.
"""

from __future__ import annotations

from dataclasses import dataclass

Lookups = tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    path: Lookups = ()
    grid: Lookups = ()
    dwelling: Lookups = ()
    department: Lookups = ()
    # True where a lookup crosses a to-many relation and rows could repeat.
    distinct: bool = False
    owner: Lookups = ()
    owner_actions: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        path: str | Lookups = (),
        grid: str | Lookups = (),
        dwelling: str | Lookups = (),
        distinct: bool = False,
        department: str | Lookups = (),
        owner: str | Lookups = (),
        owner_actions: frozenset[str] | set[str] = frozenset(),
    ) -> Scope:
        def tup(v: str | Lookups) -> Lookups:
            return (v,) if isinstance(v, str) else tuple(v)

        return cls(
            tup(path),
            tup(grid),
            tup(dwelling),
            tup(department),
            distinct,
            tup(owner),
            frozenset(map(str, owner_actions)),
        )
