"""Which workbench sections a user sees: one per kind of work they hold, decided from their role
grants (``accounts.permissions.grants_of``, the one permission check) — a person with several roles
sees each section. What each list then shows is scoped by ``accounts.permissions.scoped``."""

from __future__ import annotations

from linli.accounts.permissions import grants_of
from linli.accounts.roles import Action, Role, allows
from linli.core.types import User
from linli.governance.queries.queues import my_departments

#: Sections in the order the page shows them, and the roles that open each one.
SECTION_ROLES: dict[str, frozenset[Role]] = {
    "command": frozenset({Role.STREET_COMMAND}),
    "department": frozenset({Role.DEPARTMENT_STAFF}),
    "grid": frozenset({Role.GRID_LEADER, Role.GRID_FULLTIME, Role.GRID_PARTTIME, Role.GRID_INSTRUCTOR}),
    "community": frozenset({Role.COMMUNITY_WORKER}),
    "resident": frozenset({Role.RESIDENT}),
    "district": frozenset({Role.DISTRICT_ADMIN}),
}
SECTIONS: tuple[str, ...] = tuple(SECTION_ROLES)


def grid_ids(user: User) -> list[int]:
    """Grids where the user reports and works cases (REPORT and EVENTS held at the grid)."""
    return sorted(
        {
            g.place_id
            for g in grants_of(user)
            if g.place_kind == "grid"
            and allows(g.role, Action.REPORT, g.place_kind)
            and allows(g.role, Action.EVENTS, g.place_kind)
        }
    )


def sections_of(user: User) -> list[str]:
    """The sections ``user`` sees, in page order. Department staff need a department to work for
    (held at a street they only look at places); a superuser sees the command centre's and the
    district's."""
    if not getattr(user, "is_authenticated", False):
        return []
    roles = {g.role for g in grants_of(user)}
    out = []
    for section, held in SECTION_ROLES.items():
        if section == "department":
            if my_departments(user):
                out.append(section)
        elif section == "grid":
            if grid_ids(user):
                out.append(section)
        elif roles & {r.value for r in held} or (
            getattr(user, "is_superuser", False) and section in ("command", "district")
        ):
            out.append(section)
    return out
