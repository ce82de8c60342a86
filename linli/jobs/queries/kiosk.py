"""Reads of the kiosk's screens (issue 14 §5, docs/jobs.md "The kiosk"): the seeker its session acts
for, the streets, the categories and skills to tap, live postings of a category near the seeker, and
the seeker's own application and slip.

The kiosk has no account, so these reads take the ids its own session holds (``views.kiosk``), never
a user's scope: a screen shows a seeker only what is theirs (``slip`` asks for the seeker's id).
"""

from __future__ import annotations

from typing import Any

from linli.core.geo import metres
from linli.core.ids import as_id
from linli.jobs.models import Application, JobCategory, Posting, Seeker, Skill
from linli.jobs.queries import matching, postings, seekers
from linli.places.models import Street

#: The streets a person may tap where the kiosk's street is not set (a district has a few dozen).
STREETS_SHOWN = 40


def seeker(pk: Any) -> Seeker | None:
    """The seeker the kiosk's session holds (an id kept in the session), or None."""
    seeker_id = as_id(pk)
    return Seeker.objects.filter(pk=seeker_id).first() if seeker_id else None


def find(id_number: str) -> Seeker | None:
    """The seeker registered with this (valid, normalised) ID number, or None."""
    return seekers.by_id_number(id_number)


def street(pk: Any) -> Street | None:
    """The street of this id (with its district), or None for a malformed or unknown one."""
    street_id = as_id(pk)
    return Street.objects.filter(pk=street_id).select_related("district").first() if street_id else None


def streets() -> list[Street]:
    """The streets to tap, by code."""
    return list(Street.objects.order_by("code")[:STREETS_SHOWN])


def categories() -> list[JobCategory]:
    return list(JobCategory.objects.filter(active=True).order_by("order", "code"))


def category(code: str) -> JobCategory | None:
    return JobCategory.objects.filter(code=code, active=True).first()


def skills_by_category() -> list[tuple[JobCategory, list[Skill]]]:
    by: dict[int, list[Skill]] = {}
    for skill in Skill.objects.filter(active=True, category__active=True).order_by("code"):
        by.setdefault(skill.category_id, []).append(skill)
    return [(c, by[c.pk]) for c in categories() if c.pk in by]


def skill_groups(posting: Posting, seeker: Seeker) -> list[tuple[JobCategory, list[Skill]]]:
    """The skills worth offering for this job: the posting's category first, then the seeker's own."""
    wanted = {posting.category_id, *seeker.skills.values_list("category_id", flat=True)}
    groups = [(c, skills) for c, skills in skills_by_category() if c.pk in wanted]
    groups.sort(key=lambda g: g[0].pk != posting.category_id)
    return groups


def skill_codes(seeker: Seeker) -> list[str]:
    """The seeker's skills on record (the CV's tiles start ticked with them)."""
    return list(seeker.skills.values_list("code", flat=True))


def skill_labels(posting: Posting) -> list[str]:
    return [s.label for s in posting.skills.all()]


def live(posting_id: int) -> Posting | None:
    """The posting if it takes applications today (open, verified employer, not closed)."""
    return postings.live().select_related("employer", "category").filter(pk=posting_id).first()


def nearby(seeker: Seeker, category: JobCategory, k: int = 20) -> list[tuple[Posting, int]]:
    """Live postings of ``category`` for the seeker with the distance in metres: those that match
    the seeker (``queries.matching.nearby``, best first), then the others within reach by distance —
    a person at the kiosk may look for work outside the skills on record."""
    radius = max(seeker.travel_m, 10_000)
    ranked = [(p, int(m.distance_m)) for p, m in matching.nearby(seeker, k=k, radius_m=radius, category=category.pk)]
    seen = {p.pk for p, _d in ranked}
    if len(ranked) >= k:
        return ranked[:k]
    others = (
        postings.live()
        .filter(category=category)
        .exclude(pk__in=seen)
        .select_related("employer", "category")
        .order_by("closes_on", "pk")[:2000]
    )
    near = sorted(
        ((p, int(metres(seeker.lat, seeker.lon, p.lat, p.lon))) for p in others),
        key=lambda pair: (pair[1], pair[0].pk),
    )
    return ranked + [(p, d) for p, d in near if d <= radius][: k - len(ranked)]


def existing(seeker: Seeker, posting: Posting) -> Application | None:
    """The seeker's application for this posting, if they applied already (an invitation does
    not count: applying accepts it)."""
    return Application.objects.filter(posting=posting, seeker=seeker).exclude(status=Application.Status.INVITED).first()


def slip(seeker_id: int, application_id: int) -> Application | None:
    """The seeker's own application (the slip), or None."""
    return (
        Application.objects.select_related("posting", "posting__employer")
        .filter(pk=application_id, seeker_id=seeker_id)
        .first()
    )
