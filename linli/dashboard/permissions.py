"""Who may see the command centre (指挥中心) and which events it counts (docs/dashboard.md).

The command centre is for whoever holds ``Action.EVENTS`` somewhere — a street or district command
centre, a grid worker, a department's staff — and counts exactly the events that action reaches:
``permissions.scoped(user, Action.EVENTS, Event.objects.all())`` (a street its street, a grid worker
their grid, a department what was dispatched to it). A signed-in user without it anywhere gets a
403: there is no object whose existence could leak.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from linli.accounts.permissions import ActiveGrant, grants_of, scope_q, scoped
from linli.accounts.roles import Action, allows
from linli.core.types import User
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
