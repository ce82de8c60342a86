"""Who may see the command centre (指挥中心) and which events it counts (docs/dashboard.md).

The command centre is for whoever holds ``Action.EVENTS`` somewhere — a street or district command
centre, a grid worker, a department's staff — and counts exactly the events that action reaches:
``permissions.scoped(user, Action.EVENTS, Event.objects.all())`` (a street its street, a grid worker
their grid, a department what was dispatched to it). A signed-in user without it anywhere gets a
403: there is no object whose existence could leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from linli.accounts.permissions import ActiveGrant, grants_of, scope_q, scoped
from linli.accounts.roles import Action, allows
from linli.core.types import User
from linli.dashboard.models import Rollup
from linli.governance.models import Event


def sees_command_centre(user: User) -> bool:
    """Whether ``user`` holds ``Action.EVENTS`` anywhere (superusers everywhere)."""
    return scope_q(user, Action.EVENTS, Event) is not None


def events_of(user: User) -> QuerySet[Event]:
    """The events the command centre counts for ``user``; a 403 for a user who may see none."""
    if not sees_command_centre(user):
        raise PermissionDenied("no events in scope")
    return scoped(user, Action.EVENTS, Event.objects.all())


def event_grants(user: User) -> list[ActiveGrant]:
    """The user's grants that carry ``Action.EVENTS`` where they are held: where the figures come from."""
    return [g for g in grants_of(user) if allows(g.role, Action.EVENTS, g.place_kind)]


def rollup_of(user: User) -> QuerySet[Rollup]:
    """The roll-up rows the command centre reads for ``user``: the same EVENTS scope as ``events_of``
    (``Rollup.scope`` names the same path, grid and department columns); a 403 for a user who may
    see none."""
    if not sees_command_centre(user):
        raise PermissionDenied("no events in scope")
    return scoped(user, Action.EVENTS, Rollup.objects.all())


@dataclass(frozen=True)
class Levels:
    """The roll-up levels (``Rollup.Level``) that answer a user's period figures exactly."""

    departments: str  # rates per department
    grids: str  # rates per grid
    trend: str  # reported / closed per day or week


PLACE_KINDS = frozenset({"district", "street", "community"})


def rollup_levels(user: User) -> Levels | None:
    """The coarsest roll-up levels that answer exactly for ``user``'s EVENTS scope: place grants at a
    community or above (and superusers) read the narrow levels D, G, P keyed on the community path;
    department grants alone read level A filtered by department and T for the trend; grid and mixed
    scopes read level A. A grant at a compound (or any other place below a community) is finer than
    the roll-up's community path: None, the figures are counted from the raw events."""
    if getattr(user, "is_superuser", False):
        return Levels(Rollup.Level.DEPARTMENT, Rollup.Level.GRID, Rollup.Level.PLACE)
    kinds = {g.place_kind for g in event_grants(user)}
    if not kinds or not kinds <= PLACE_KINDS | {"grid", "department"}:
        return None
    if kinds <= PLACE_KINDS:
        return Levels(Rollup.Level.DEPARTMENT, Rollup.Level.GRID, Rollup.Level.PLACE)
    trend = Rollup.Level.TEAM if kinds == {"department"} else Rollup.Level.ALL
    return Levels(Rollup.Level.ALL, Rollup.Level.ALL, trend)
