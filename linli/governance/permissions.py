"""Who may do what with a grid event: governance's per-object predicates, in one place.

Every one is built on ``linli.accounts.permissions`` (``can``, ``authorize``, ``scope_q``,
``grants_of``), the one permission check of Linli; the roles' actions are ``accounts/roles.py``
(REPORT, EVENTS, COMMAND, HANDLE, VIEW_PEOPLE). Which part of the chain takes which move is the
loop's (``loop.RULES[move].who``); this module maps it to roles:

- COMMAND: the street command centre (or the district) — COMMAND at the event;
- DEPARTMENT: staff of the department the case is dispatched to — HANDLE at the event;
- FIELD: a grid worker of the place (REPORT and EVENTS there) or the command centre;
- REPORTER_OR_COMMAND: the reporter of the case, or the command centre;
- CHAIN: anyone working the case (the field, the centre, the department it is with).

Someone outside the event's scope gets a 404 (its existence is not revealed); inside it without the
right, a 403. The services call ``check_who`` once per move; the pages call ``may_take`` to decide
which forms to show (the service checks again when one is posted).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404

from linli.accounts.permissions import authorize, can, grants_of, nearest_holders, scope_q
from linli.accounts.roles import Action, allows
from linli.core.types import User
from linli.governance import loop
from linli.governance.loop import Move
from linli.governance.models import Event, EventLog


def holds(user: User, action: Action) -> bool:
    """Whether any of the user's roles allows ``action`` somewhere (for showing a page at all)."""
    if getattr(user, "is_superuser", False):
        return True
    return any(allows(g.role, action.value, g.place_kind) for g in grants_of(user))


def holds_command(user: User) -> bool:
    """Whether the user works for a command centre somewhere (COMMAND in some scope)."""
    return scope_q(user, Action.COMMAND, Event) is not None


def command_centre_of(event: Event) -> list[int]:
    """The users on duty for ``event``'s place in a command centre: those holding a role with COMMAND
    at the nearest place above it that has any (the street's centre; the district's only where the
    street has none), so an urgent case reaches the centre that acts on it, not everyone above."""
    return nearest_holders(event.path, Action.COMMAND)


def commands_at(user: User, place: Model) -> bool:
    """The user's command centre covers ``place`` (a building or an event): the hotline desk takes
    reports there, and a report the centre makes itself is registered at once."""
    return can(user, Action.COMMAND, place)


def reports_at(user: User, place: Model) -> bool:
    """The user reports as the grid there (a grid worker or volunteer of the place: REPORT); anyone
    else reports as a resident."""
    return can(user, Action.REPORT, place)


def sees_in_full(user: User, event: Event) -> bool:
    """The handling chain (EVENTS at the event) sees the case in full: who did what, notes, contact."""
    return can(user, Action.EVENTS, event)


def is_reporter(user: User, event: Event) -> bool:
    """The signed-in user reported the case (they see a reduced view of it and may evaluate it)."""
    return bool(event.reporter_id) and event.reporter_id == user.pk


def sees_people(user: User, event: Event) -> bool:
    """Whether free text about the case is shown unmasked (VIEW_PEOPLE at the event, rules.md §6)."""
    return can(user, Action.VIEW_PEOPLE, event)


def may_decide(user: User, event: Event) -> bool:
    """The command centre approves or refuses a department's request about the case."""
    return commands_at(user, event)


def on_the_ground(user: User, event: Event) -> bool:
    """A grid worker of the place: reports (REPORT) and is in the handling chain (EVENTS). Volunteers
    (N forces) report problems but neither verify, whistle nor annotate cases."""
    return can(user, Action.REPORT, event) and can(user, Action.EVENTS, event)


def check_who(user: User, event: Event, move: Move) -> None:
    """Raise unless ``user``'s role lets them take ``move`` on ``event``: Http404 outside the scope,
    PermissionDenied inside it. The step is not checked here (``loop.apply``)."""
    who = loop.RULES[move].who
    if who == loop.Who.COMMAND:
        authorize(user, Action.COMMAND, event)
    elif who == loop.Who.DEPARTMENT:
        authorize(user, Action.HANDLE, event)
    elif who == loop.Who.CHAIN:
        if not (on_the_ground(user, event) or can(user, Action.COMMAND, event) or can(user, Action.HANDLE, event)):
            authorize(user, Action.EVENTS, event)  # 404 outside the scope
            raise PermissionDenied("not in the handling chain")
    elif who == loop.Who.FIELD:
        if not (on_the_ground(user, event) or can(user, Action.COMMAND, event)):
            authorize(user, Action.EVENTS, event)
            raise PermissionDenied("verification and whistles are for grid workers and the command centre")
    elif who == loop.Who.REPORTER_OR_COMMAND and not is_reporter(user, event):
        authorize(user, Action.COMMAND, event)


def may_take(user: User, event: Event, move: Move) -> bool:
    """Whether ``user``'s role lets them take ``move`` on ``event`` (pages use it to show forms;
    ``services.events.act`` enforces the same rule through ``check_who``). The step is not checked
    here."""
    try:
        check_who(user, event, move)
    except (PermissionDenied, Http404):
        return False
    return True


def handlers(event: Event) -> set[int]:
    """Users who accepted, handled or reported back on the case: they may not verify it."""
    ids = EventLog.objects.filter(event=event, move__in=[Move.ACCEPT, Move.REPORT]).values_list("actor_id", flat=True)
    out = {i for i in ids if i is not None}
    if event.handler_id:
        out.add(event.handler_id)
    return out


def may_verify(user: User, event: Event, hands: set[int] | None = None) -> bool:
    """Verification is never by someone who accepted or handled the case (``hands``: ``handlers()``,
    when the caller already has it)."""
    return user.pk not in (handlers(event) if hands is None else hands)


# --- residents take part (issue 12 §9): the public map, "me too" and following ------------------------


def hidden_categories() -> frozenset[str]:
    """Category codes never shown on the public map: ``LINLI_PUBLIC_MAP_HIDDEN_CATEGORIES`` (anything
    about a person: disputes, hardship, an elderly person alone, work and wages …) and always
    Open311's private ones (``LINLI_OPEN311_PRIVATE_CATEGORIES``), so no public channel lists what
    another keeps private."""
    return frozenset(settings.LINLI_PUBLIC_MAP_HIDDEN_CATEGORIES) | frozenset(settings.LINLI_OPEN311_PRIVATE_CATEGORIES)


def is_public(event: Event, hidden: frozenset[str] | None = None) -> bool:
    """Whether the public map shows ``event``: not voided, and not of a hidden category."""
    codes = hidden_categories() if hidden is None else hidden
    return event.step != loop.Step.VOIDED and event.category.code not in codes


def may_take_part(user: User, event: Event) -> bool:
    """Whether a signed-in ``user`` may say "me too" about ``event`` or follow it: anyone signed in
    on a problem the public map shows; on any other, only those who see the case already (the
    handling chain, EVENTS) — for everyone else it does not exist (404)."""
    if not user.is_authenticated:
        return False
    return is_public(event) or can(user, Action.EVENTS, event)
