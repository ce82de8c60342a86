"""Who may do what in the jobs app, on ``accounts.permissions`` (issue 14; docs/jobs.md "Who sees what").

* The employment service (``jobs``: street command, community workers, employment officers, the
  district) verifies employers, registers seekers at the desk, sees seekers masked, works key
  enterprises' requests and enters employment figures — for the places under its grants.
* A job seeker holds ``seek`` on their own ``Seeker`` row (``Scope.owner``), nobody else's.
* An employer's members hold ``hire`` on the employer, its postings and its service requests.
* An application is seen by both of its sides (``view``); which side may take which step is decided
  here, from ``seek`` on the seeker and ``hire`` on the posting — never from the application itself.

Superusers hold every action everywhere; a step that must be the seeker's own (apply, accept,
withdraw) therefore also checks that the account *is* the seeker (``is_seeker``).
"""

from __future__ import annotations

from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.core.types import User
from linli.jobs.models import Application, Employer, EmployerMember, Posting, Seeker

SERVE = Action.JOBS  # the employment service's work
SEEK = Action.SEEK  # a seeker's own steps
HIRE = Action.HIRE  # an employer's steps
SEE = Action.VIEW


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
