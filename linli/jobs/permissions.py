"""Who may do what in the jobs app, on ``accounts.permissions`` (issue 14; docs/jobs.md "Who sees what").

* The employment service (``jobs``: street command, community workers, employment officers, the
  district) verifies employers, registers seekers at the desk, sees seekers masked, works key
  enterprises' requests and enters employment figures — for the places under its grants. Who serves
  a place (``serving_grants``), whom to tell about it (``serving_staff``: the nearest level that has
  anyone), and who may be the officer of an employer or a request (``serves``) are decided here.
* A job seeker holds ``seek`` on their own ``Seeker`` row (``Scope.owner``), nobody else's.
* An employer's members hold ``hire`` on the employer, its postings and its service requests.
* An application is seen by both of its sides (``view``); which side may take which step is decided
  here, from ``seek`` on the seeker and ``hire`` on the posting — never from the application itself.
* An employment-target entry is withdrawn, in the month it was entered, by its author or by the
  employment service of its district (``may_withdraw``; a page of entries at once: ``withdrawable``).

Superusers hold every action everywhere; a step that must be the seeker's own (apply, accept,
withdraw) therefore also checks that the account *is* the seeker (``is_seeker``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, TypeGuard

from django.utils import timezone

from linli.accounts.permissions import can, grants_over, nearest_holders
from linli.accounts.roles import Action
from linli.core import clock
from linli.core.types import User
from linli.jobs.models import Application, Employer, EmployerMember, Posting, Seeker, ServiceRequest, TargetEntry
from linli.places.models import District, Street

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

SERVE = Action.JOBS  # the employment service's work
SEEK = Action.SEEK  # a seeker's own steps
HIRE = Action.HIRE  # an employer's steps
SEE = Action.VIEW


# --- the employment service -------------------------------------------------------------------------


def serving_grants(path: str) -> list[tuple[int, str, str]]:
    """Who serves a place at ``path``: each active grant of a role with ``jobs`` held at that place or
    a place above it (not at a department), of an active account, as (user id, role, the path it is
    held at). One query."""
    return grants_over(path, SERVE)


def serving_staff(path: str) -> list[int]:
    """Whom to tell about a place at ``path``: the serving staff of the nearest place above it that has
    any (the street's employment service; the district's only where the street has none)."""
    return nearest_holders(path, SERVE)


def serves(user: User | None, obj: Employer | ServiceRequest) -> TypeGuard[AbstractUser]:
    """``user`` may be the service officer of ``obj`` (an employer, a key enterprise's request): an
    active account holding ``jobs`` over it."""
    return user is not None and bool(getattr(user, "is_active", False)) and can(user, SERVE, obj)


# --- seekers, employers, applications ----------------------------------------------------------------


def is_seeker(user: User, seeker: Seeker) -> bool:
    """The account is this seeker's own (not merely someone allowed to see them)."""
    return bool(getattr(user, "is_authenticated", False)) and seeker.user_id is not None and seeker.user_id == user.pk


def is_member(user: User, employer: Employer | int) -> bool:
    """The account acts for this employer (an ``EmployerMember``)."""
    if not getattr(user, "is_authenticated", False):
        return False
    employer_id = employer if isinstance(employer, int) else employer.pk
    return EmployerMember.objects.filter(employer_id=employer_id, user_id=user.pk or 0).exists()


def employers_of(user: User) -> list[Employer]:
    """The employers the account acts for, by name."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Employer.objects.filter(members__user_id=user.pk or 0).order_by("name"))


def may_hire_for(user: User, posting: Posting) -> bool:
    """The account may take the employer's steps on this posting's applications."""
    return is_member(user, posting.employer_id) and can(user, HIRE, posting)


def side_of(user: User, application: Application) -> str | None:
    """``"seeker"``, ``"employer"`` or ``"staff"``: in which capacity the account acts on
    ``application`` (the seeker's own account first), or None when it may not act on it."""
    if is_seeker(user, application.seeker):
        return "seeker"
    if is_member(user, application.posting.employer_id):
        return "employer"
    if can(user, SERVE, application):
        return "staff"
    return None


# --- employment-target entries ----------------------------------------------------------------------


def same_month(entry: TargetEntry, today: date) -> bool:
    """The entry was made in the calendar month of ``today`` (local time)."""
    made = timezone.localdate(entry.entered_at)
    return (made.year, made.month) == (today.year, today.month)


def _open(entry: TargetEntry, today: date) -> bool:
    """The entry may still be withdrawn by someone: not withdrawn yet, and entered this month."""
    return entry.withdrawn_at is None and same_month(entry, today)


def _author(user: User, entry: TargetEntry) -> bool:
    return entry.entered_by_id is not None and entry.entered_by_id == getattr(user, "pk", None)


def _district_of(path: str) -> District | None:
    """The district whose path starts ``path``."""
    for district in District.objects.all().only("id", "path", "code", "name").order_by("path"):
        if path.startswith(district.path):
            return district
    return None


def may_withdraw(user: User, entry: TargetEntry, today: date | None = None) -> bool:
    """Whether ``user`` may withdraw ``entry`` now: not withdrawn yet, entered this calendar month,
    and ``user`` is its author (still holding ``jobs`` over it) or keeps the figures of its district."""
    today = today or clock.today()
    if not _open(entry, today) or not can(user, SERVE, entry):
        return False
    if _author(user, entry):
        return True
    district = _district_of(entry.path)
    return district is not None and can(user, SERVE, district)


def withdrawable(user: User, place: District | Street, rows: Iterable[TargetEntry], today: date) -> set[int]:
    """The ids of ``rows`` (entries listed under ``place``, which ``user`` keeps) that ``user`` may
    withdraw now: ``may_withdraw`` for a page of entries with one check of the district, not three
    queries a row."""
    district = place if isinstance(place, District) else place.district
    staff = can(user, SERVE, district)
    return {e.pk for e in rows if _open(e, today) and (staff or _author(user, e))}
