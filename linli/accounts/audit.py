"""Logged API reads of people's data: one ``AccessLog`` row (``view_people``) per request.

Pages that show rosters and every export write an access-log row (docs/architecture.md, "Personal
data"); the API does the same through this one mixin. A viewset that returns people's data (names,
masked ID numbers and phones, attitudes, votes, objections) lists it first among its bases and
names the actions to log in ``logged_actions`` (default: ``list`` and ``retrieve``)::

    class PersonViewSet(LoggedReads, ScopedViewSet): ...

The row says who (the user), what (``view_people``), where (the object for one row; else the
place scope the caller reads under: the common path of the places where they hold the action),
how much (the number of rows answered, in ``reason`` with the request's path) and from where
(``linli.core.net.client_ip``). Only successful reads are logged; a refused one returned nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model

from linli.accounts.models import AccessLog
from linli.accounts.permissions import grants_of
from linli.accounts.roles import Action, allows
from linli.accounts.services import log_access
from linli.core.net import client_ip
from linli.core.types import User


def rows_in(data: Any) -> int:
    """How many rows an API answer holds: a page's ``results``, a list, a ``votes`` or
    ``dwellings`` list of an action's answer, else one object."""
    if isinstance(data, list):
        return len(data)
    if isinstance(data, dict):
        for key in ("results", "votes", "dwellings"):
            if isinstance(data.get(key), list):
                return len(data[key])
    return 1


def scope_path(user: User, action: str) -> str:
    """The place scope a user reads under: the longest path common to the places where they hold
    ``action`` ("" for a superuser or a user holding it in unrelated places)."""
    if getattr(user, "is_superuser", False):
        return ""
    paths = [g.path for g in grants_of(user) if allows(g.role, action, g.place_kind) and g.path]
    if not paths:
        return ""
    parts = [p.strip("/").split("/") for p in paths]
    common: list[str] = []
    for codes in zip(*parts, strict=False):
        if len(set(codes)) != 1:
            break
        common.append(codes[0])
    return "".join(f"{code}/" for code in common)


class LoggedReads:
    """Mixin for DRF views: log every successful read of ``logged_actions`` (see module doc)."""

    logged_actions: ClassVar[frozenset[str]] = frozenset({"list", "retrieve"})
    logged_scope_action: ClassVar[str] = Action.VIEW_PEOPLE
    _logged_object: Model | None = None

    def get_object(self) -> Any:
        obj = super().get_object()  # type: ignore[misc]
        self._logged_object = obj
        return obj

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        action = getattr(self, "action", None)
        if (
            action in self.logged_actions
            and request.method in ("GET", "HEAD")
            and 200 <= response.status_code < 300
            and getattr(request.user, "is_authenticated", False)
        ):
            obj = self._logged_object
            path = str(getattr(obj, "path", "") or "") if obj is not None else ""
            rows = rows_in(getattr(response, "data", None))
            log_access(
                request.user,
                AccessLog.What.VIEW_PEOPLE,
                obj,
                (path or scope_path(request.user, self.logged_scope_action))[:120],
                reason=f"API {request.get_full_path()} · {rows} rows",
                ip=client_ip(request),
            )
        return response
