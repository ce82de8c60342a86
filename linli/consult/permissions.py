"""Who may do what with consult's objects: the per-object predicates of the app, in one place.

Each is a plain question built on the one permission function (``linli.accounts.permissions.can``,
which turns the user's grants into a scope); pages, the API, panels and services ask these instead
of spelling out actions. Lookups that *load* an object with the check (``get_or_404``, ``scoped``)
live in ``linli.consult.queries``; writes call ``authorize`` once in ``linli.consult.services``.

* running a survey, a ballot or a notice is CONSULT on it (or on its project): ``may_run``;
* people's data (names, free text unmasked) needs VIEW_PEOPLE: ``sees_people``;
* logging a visit needs VISIT: ``may_visit``; a survey is answered for a dwelling by staff at
  the door (VISIT) or by the resident for their own (VOTE there): ``may_answer``;
* a ballot's totals are shown to whoever sees it unless hidden until close: ``results_visible``.
"""

from __future__ import annotations

from django.db.models import Model

from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.consult.models import Ballot
from linli.core.types import User
from linli.places.models import Dwelling


def signed_in(user: User | None) -> bool:
    """A signed-in account (not the public page's ``None``, not the anonymous visitor)."""
    return user is not None and bool(getattr(user, "is_authenticated", False))


def may_view(user: User, obj: Model) -> bool:
    """VIEW on the object (a project, a compound, a ballot …)."""
    return can(user, Action.VIEW, obj)


def may_run(user: User, obj: Model) -> bool:
    """CONSULT on the object: staff who run surveys, ballots and notices there."""
    return can(user, Action.CONSULT, obj)


def sees_people(user: User | None, obj: Model) -> bool:
    """VIEW_PEOPLE on the object: names unmasked and free text unmasked (never on the public page)."""
    return user is not None and signed_in(user) and can(user, Action.VIEW_PEOPLE, obj)


def may_visit(user: User, obj: Model) -> bool:
    """VISIT on a building or dwelling: log home visits there and see each dwelling's attitude."""
    return can(user, Action.VISIT, obj)


def may_export(user: User, obj: Model) -> bool:
    """EXPORT on the object (a survey's results as .xlsx)."""
    return can(user, Action.EXPORT, obj)


def may_answer(user: User, dwelling: Dwelling) -> bool:
    """Answer a needs survey for a dwelling: VISIT there (staff at the door), or VOTE there (the
    resident's own dwelling)."""
    return can(user, Action.VISIT, dwelling) or can(user, Action.VOTE, dwelling)


def results_visible(user: User, ballot: Ballot) -> bool:
    """Totals: to everyone who sees the ballot, unless hidden until close (staff always see them)."""
    if ballot.status in (Ballot.Status.CLOSED, Ballot.Status.WITHDRAWN) or not ballot.hide_results:
        return True
    return can(user, Action.CONSULT, ballot)
