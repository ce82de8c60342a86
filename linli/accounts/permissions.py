"""The one permission check. Every page, API view and service asks here, nowhere else.

    scoped(user, action, queryset)   → the rows the user may act on (lists, API)
    can(user, action, obj)           → True/False
    authorize(user, action, obj)     → raises Http404 if the object is outside every scope the
                                       user holds (so its existence is not revealed), or
                                       PermissionDenied (403) if it is visible but the action is not
                                       allowed to the user's role there.
    get_or_404(user, action, qs, **lookup) → the object, after authorize()

A user's scope is the union of their active role grants (see ``roles.py``): a role held at a
place covers every object whose path starts with that place's path; a role held at a grid covers
objects in that grid's buildings; a role held at a dwelling covers that dwelling; a role held at
a department covers the events dispatched to it and, for other models, the department's
jurisdiction. A model may also name the user who owns a row themselves (``Scope.owner``: a job
seeker's own profile, an employer's postings through its members), who takes the model's
``owner_actions`` on it with no grant at all. Each model says
how it reaches path, grid and dwelling through its ``scope`` (``linli.core.scope.Scope``).
Superusers hold every action everywhere.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from linli.accounts.roles import Action, Role, allows
from linli.core.scope import Scope
from linli.core.types import User

M = TypeVar("M", bound=Model)

_CACHE_ATTR = "_linli_grants"


@dataclass(frozen=True)
class ActiveGrant:
    role: str
    place_kind: str
    place_id: int
    path: str


def grants_of(user: User) -> list[ActiveGrant]:
    """The user's active grants, read once per request (cached on the user object), in one query.

    Besides the ``RoleGrant`` rows: an account verified as an owner's voting account
    (``OwnerAccount``, see ``verification.py``) sees that owner's dwellings as a ``resident`` grant
    there would. Seeing is not voting: whose vote the account casts is decided by the
    ``OwnerAccount`` itself, never by a grant."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from django.db.models import CharField, Value

        from linli.accounts.models import RoleGrant
        from linli.places.models import Ownership

        held = RoleGrant.objects.filter(user_id=user.pk or 0, revoked_at__isnull=True).values_list(
            "role", "place_kind", "place_id", "path"
        )
        owned = (
            Ownership.objects.filter(
                person__owner_accounts__user_id=user.pk or 0, person__owner_accounts__revoked_at__isnull=True
            )
            .annotate(g_role=Value(Role.RESIDENT.value, CharField()), g_kind=Value("dwelling", CharField()))
            .values_list("g_role", "g_kind", "dwelling_id", "dwelling__building__path")
        )
        cached = [ActiveGrant(role, kind, int(pk), path) for role, kind, pk, path in held.union(owned)]
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_grants(user: User) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _any(lookups: tuple[str, ...], op: str, value: object) -> Q | None:
    if not lookups:
        return None
    q = Q()
    for lookup in lookups:
        q |= Q(**{f"{lookup}{op}": value})
    return q


def scope_q(user: User, action: str | Action, model: type[Model]) -> Q | None:
    """A filter for the rows of ``model`` the user may ``action``; ``None`` means none at all."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    if getattr(user, "is_superuser", False):
        return Q()
    scope: Scope | None = getattr(model, "scope", None)
    if scope is None:
        return None
    q: Q | None = None
    for g in grants_of(user):
        if not allows(g.role, str(action), g.place_kind):
            continue
        if g.place_kind == "department":
            # only what was dispatched to the department; other models through its jurisdiction
            if scope.department:
                part = _any(scope.department, "", g.place_id)
            else:
                part = _any(scope.path, "__startswith", g.path)
        elif g.place_kind == "grid":
            part = _any(scope.grid, "", g.place_id)
        elif g.place_kind == "dwelling":
            part = _any(scope.dwelling, "", g.place_id)
        else:
            part = _any(scope.path, "__startswith", g.path)
        if part is not None:
            q = part if q is None else q | part
    if scope.owner and str(action) in scope.owner_actions and user.pk:
        part = _any(scope.owner, "", user.pk)
        if part is not None:
            q = part if q is None else q | part
    return q


def scoped(user: User, action: str | Action, queryset: QuerySet[M]) -> QuerySet[M]:
    return _within(queryset, scope_q(user, action, queryset.model))


def scoped_any(user: User, actions: Iterable[str | Action], queryset: QuerySet[M]) -> QuerySet[M]:
    """The rows of ``queryset`` on which the user may take at least one of ``actions`` (the scopes of
    each action OR-ed into one filter: e.g. visits one may VISIT or whose people one may see)."""
    parts = [q for q in (scope_q(user, action, queryset.model) for action in actions) if q is not None]
    if not parts:
        return queryset.none()
    return _within(queryset, Q() if not all(parts) else reduce(operator.or_, parts))


def _within(queryset: QuerySet[M], q: Q | None) -> QuerySet[M]:
    if q is None:
        return queryset.none()
    if not q:  # superuser: Q() is empty
        return queryset
    scope: Scope | None = getattr(queryset.model, "scope", None)
    if scope is not None and scope.distinct:
        return queryset.filter(pk__in=queryset.model._default_manager.filter(q).values("pk"))
    return queryset.filter(q)


def can(user: User, action: str | Action, obj: Model) -> bool:
    q = scope_q(user, action, type(obj))
    if q is None:
        return False
    if not q:
        return True
    return type(obj)._default_manager.filter(q, pk=obj.pk).exists()


def authorize(user: User, action: str | Action, obj: Model) -> None:
    if can(user, action, obj):
        return
    if action != Action.VIEW and can(user, Action.VIEW, obj):
        raise PermissionDenied(f"action {action} not allowed here")
    raise Http404("not found or not in scope")


def get_or_404(user: User, action: str | Action, queryset: QuerySet[M] | type[M], **lookup: object) -> M:
    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    try:
        obj = qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("not found") from exc
    authorize(user, action, obj)
    return obj


# --- the inverse question: who holds an action over a place (whom to tell) ------------------------


def grants_over(path: str, action: str | Action) -> list[tuple[int, str, str]]:
    """Each active grant of a role allowing ``action``, of an active account, held at the place at
    ``path`` or at a place above it (not at a department): (user id, role, the path it is held at).
    One query."""
    from linli.accounts.models import RoleGrant

    name = action.value if isinstance(action, Action) else action
    parts = [p for p in path.split("/") if p]
    prefixes = ["".join(f"{code}/" for code in parts[:n]) for n in range(1, len(parts) + 1)]
    rows = RoleGrant.objects.filter(revoked_at__isnull=True, path__in=prefixes, user__is_active=True).values_list(
        "user_id", "role", "place_kind", "path"
    )
    return [
        (user_id, role, held_at)
        for user_id, role, kind, held_at in rows
        if kind != "department" and allows(role, name, kind)
    ]


def nearest_holders(path: str, action: str | Action) -> list[int]:
    """The users holding ``action`` at the nearest place above ``path`` that has any (the street's,
    and the district's only where the street has none), so a message reaches those who act on it,
    not everyone above."""
    by_path: dict[str, set[int]] = {}
    for user_id, _role, held_at in grants_over(path, action):
        by_path.setdefault(held_at, set()).add(user_id)
    if not by_path:
        return []
    return sorted(by_path[max(by_path, key=len)])


def actions_at(user: User, obj: Model) -> set[str]:
    """Every action the user may take on ``obj`` (for showing or hiding buttons)."""
    return {a.value for a in Action if can(user, a, obj)}


# --- accounts' own per-object predicates ----------------------------------------------------------


def may_work_on_owners(user: User, obj: Model) -> bool:
    """Whether a worker may act on owners' voting accounts at ``obj`` (a dwelling, or a voting
    account through its owner's dwellings): ``consult`` or ``visit`` there (verification.py)."""
    return can(user, Action.CONSULT, obj) or can(user, Action.VISIT, obj)
