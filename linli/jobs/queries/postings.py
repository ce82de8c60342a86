"""Reads of postings (issue 14 §2): what is live, the one lookup pages use, and what a posting's
page shows (skills, counts, the distance from a seeker's home).

Live = open, the employer verified, the closing date not passed: shown to every signed-in person,
matched, on the kiosk. Any other posting is seen only by the employer's members and by the
employment service above it (404 for everyone else, as for a posting that does not exist).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from linli.accounts.permissions import authorize, can
from linli.accounts.roles import Action
from linli.core import clock
from linli.core.geo import metres
from linli.core.types import User
from linli.jobs.models import Application, Employer, JobCategory, Posting, Seeker, Skill
from linli.jobs.permissions import HIRE, SERVE, is_member

#: Applications an employer counts as applicants (not an unanswered invitation, not withdrawn).
COUNTED = (
    Application.Status.APPLIED,
    Application.Status.INTERVIEW,
    Application.Status.HIRED,
    Application.Status.DECLINED,
)


def live(today: date | None = None) -> QuerySet[Posting]:
    """Postings seekers see: open, of a verified employer, closing today or later."""
    day = today or clock.today()
    return Posting.objects.filter(
        status=Posting.Status.OPEN, employer__status=Employer.Status.VERIFIED, closes_on__gte=day
    )


def is_live(posting: Posting, today: date | None = None) -> bool:
    day = today or clock.today()
    employer_status = Employer.objects.filter(pk=posting.employer_id).values_list("status", flat=True).first()
    return (
        posting.status == Posting.Status.OPEN
        and employer_status == Employer.Status.VERIFIED
        and posting.closes_on >= day
    )


def posting_or_404(user: User, pk: int, action: str | Action = Action.VIEW) -> Posting:
    """The posting for ``user``: a live one to anyone signed in (for ``view``); otherwise only
    within the members' and the service's scope (404 outside it, 403 inside without ``action``)."""
    posting = Posting.objects.select_related("employer", "employer__street", "category", "street").filter(pk=pk).first()
    if posting is None or not getattr(user, "is_authenticated", False):
        raise Http404("not found")
    if str(action) == Action.VIEW and is_live(posting):
        return posting
    authorize(user, action, posting)
    return posting


def skills_of(posting: Posting) -> list[Skill]:
    return list(posting.skills.select_related("category").order_by("code"))


def applicant_count(posting: Posting) -> int:
    """Applications that count for the employer: applied, in interview, hired, declined."""
    return posting.applications.filter(status__in=COUNTED).count()


def seeker_of(user: User) -> Seeker | None:
    """The account's own seeker profile, if it has one."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Seeker.objects.filter(user_id=user.pk or 0).first()


def distance_from_home(seeker: Seeker | None, posting: Posting) -> float | None:
    if seeker is None:
        return None
    return metres(seeker.lat, seeker.lon, posting.lat, posting.lon)


def has_applied(seeker: Seeker | None, posting: Posting) -> Application | None:
    if seeker is None:
        return None
    return Application.objects.filter(seeker=seeker, posting=posting).first()


def viewer(user: User, posting: Posting) -> dict[str, bool]:
    """What the account may do on the posting's page."""
    member = is_member(user, posting.employer_id) and can(user, HIRE, posting)
    return {
        "member": member or (bool(getattr(user, "is_superuser", False)) and can(user, HIRE, posting)),
        "staff": can(user, SERVE, posting),
    }


def vocabulary() -> list[dict[str, Any]]:
    """Active categories with their active skills, for the skills picker."""
    skills: dict[int, list[Skill]] = {}
    for s in Skill.objects.filter(active=True).order_by("code"):
        skills.setdefault(s.category_id, []).append(s)
    return [
        {"category": c, "skills": skills.get(c.pk, [])}
        for c in JobCategory.objects.filter(active=True).order_by("order", "code")
        if skills.get(c.pk)
    ]


def of_employer(employer: Employer) -> QuerySet[Posting]:
    live_apps = Q(applications__status__in=COUNTED)
    return employer.postings.annotate(n_applicants=Count("applications", filter=live_apps, distinct=True)).order_by(
        "-created_at", "-id"
    )
