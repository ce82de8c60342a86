"""Who may do what with the place tree: places' per-object predicates, built on the one permission
check (``linli.accounts.permissions``: ``can``, ``authorize``, ``scoped``, ``get_or_404``).

Pages and the API ask here rather than combining ``can`` calls themselves, so that a rule such as
"a resident sees the building of their own dwelling" is written once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model

from linli.accounts.permissions import can, scoped
from linli.accounts.roles import Action
from linli.core.types import User
from linli.places import models as m


def can_view_any(user: User, objs: Iterable[Model]) -> list[bool]:
    """For each object, whether the user may view it (one check each, in order)."""
    return [can(user, Action.VIEW, o) for o in objs]


def sees_a_dwelling_of(user: User, building: m.Building) -> bool:
    """A resident's role is held at a dwelling: they see the building of their own dwellings even
    though the building itself lies outside their scope."""
    return scoped(user, Action.VIEW, m.Dwelling.objects.filter(building=building)).exists()


def sees_people_of(user: User, building: m.Building) -> bool:
    """Whether the building page may list owners (masked): VIEW_PEOPLE on the building, or on one
    of its dwellings (a resident sees their own dwelling's owners)."""
    return (
        can(user, Action.VIEW_PEOPLE, building)
        or scoped(user, Action.VIEW_PEOPLE, m.Dwelling.objects.filter(building=building)).exists()
    )


def may_reveal(user: User, building: m.Building, with_people: bool) -> bool:
    """Whether the building page offers "show the full value" (the service checks REVEAL again)."""
    return with_people and can(user, Action.REVEAL, building)


def may_export(user: User, obj: Model) -> bool:
    return can(user, Action.EXPORT, obj)


def may_export_people(user: User, obj: Model) -> bool:
    """Residents' lists are exported only by users who may also see people's data there."""
    return can(user, Action.EXPORT, obj) and can(user, Action.VIEW_PEOPLE, obj)


def may_import(user: User, obj: Model, kind: str) -> bool:
    """Imports and grid division are started from a community's page, with EDIT there."""
    return kind == "community" and can(user, Action.EDIT, obj)
