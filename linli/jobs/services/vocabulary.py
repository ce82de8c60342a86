"""Jobs services: the vocabulary of categories and skills (issue 14 §1, ``linli/jobs/vocabulary.py``).

``load`` is the one loader: migration 0002 calls it with its historical models, ``ensure`` with the
app's own. Only what is missing (by code) is created: a category or skill the district edited or
switched off in the admin is never changed back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from linli.jobs import vocabulary
from linli.jobs.models import JobCategory, Skill


def load(category_model: Any, skill_model: Any) -> tuple[int, int]:
    """Create the seeded categories and skills that are missing; (categories, skills) created.
    Works with the app's models and with a migration's ``apps.get_model`` ones."""
    cats = {c.code: c for c in category_model.objects.all()}
    made_cats = 0
    for code, zh, en, icon, order in vocabulary.CATEGORIES:
        if code not in cats:
            cats[code] = category_model.objects.create(code=code, name=zh, name_en=en, icon=icon, order=order)
            made_cats += 1
    known = set(skill_model.objects.values_list("code", flat=True))
    new = [
        skill_model(code=code, name=zh, name_en=en, category=cats[cat])
        for code, zh, en, cat in vocabulary.SKILLS
        if code not in known
    ]
    skill_model.objects.bulk_create(new)
    return made_cats, len(new)


@transaction.atomic
def ensure() -> tuple[int, int]:
    """Create the seeded categories and skills that are missing (idempotent; edits in the admin are
    kept). Tests call it after a transactional test flushed migration 0002's rows."""
    return load(JobCategory, Skill)
