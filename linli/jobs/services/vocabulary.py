"""Jobs services: the vocabulary of categories and skills (issue 14 §1; being extended)."""

from __future__ import annotations

from django.db import transaction

from linli.jobs import vocabulary
from linli.jobs.models import JobCategory, Skill


@transaction.atomic
def ensure() -> None:
    """Create the seeded categories and skills that are missing (idempotent; edits in the admin are
    kept). Tests call it after a transactional test flushed migration 0002's rows."""
    cats = {c.code: c for c in JobCategory.objects.all()}
    for code, zh, en, icon, order in vocabulary.CATEGORIES:
        if code not in cats:
            cats[code] = JobCategory.objects.create(code=code, name=zh, name_en=en, icon=icon, order=order)
    known = set(Skill.objects.values_list("code", flat=True))
    Skill.objects.bulk_create(
        [
            Skill(code=code, name=zh, name_en=en, category=cats[cat])
            for code, zh, en, cat in vocabulary.SKILLS
            if code not in known
        ]
    )
