"""Who may do what with renovation projects: the renewal app's per-object predicates, built on the
one permission check (``linli.accounts.permissions``).

- **Viewing** a project (``Action.VIEW``): everyone whose scope covers its compound — residents,
  grid workers, staff; a supervision report may be sent by anyone who sees the project.
- **Running** it (``Action.CONSULT``): phases, items, progress, sample flats, answers to reports.
- **People's data** (``Action.VIEW_PEOPLE``): free text (reports, answers, summaries) is shown
  masked to a reader without it (docs/rules.md §6, "Masking free text").
- **The catalogue** of a district: whoever may view the district or run a project in it; editing
  it needs ``Action.EDIT`` there.
"""

from __future__ import annotations

from typing import Any

from linli.accounts.permissions import can, scoped
from linli.accounts.roles import Action
from linli.core.types import User
from linli.places.models import Compound, District
from linli.renewal.models import Project


def may_run(user: User, project: Project) -> bool:
    """Whether ``user`` runs ``project`` (CONSULT): phases, items, sample flats, answers."""
    return can(user, Action.CONSULT, project)


def may_start_projects(user: User) -> bool:
    """Whether ``user`` may start a project anywhere (CONSULT at some compound)."""
    return scoped(user, Action.CONSULT, Compound.objects.all()).exists()


def sees_people_at(user: User, project: Project) -> bool:
    """Whether ``user`` sees people's data at ``project`` (free text unmasked)."""
    return can(user, Action.VIEW_PEOPLE, project)


def sees_people(context: dict[str, Any], project_id: int) -> bool:
    """Whether the reader of a serializer's ``context`` may see people's data at a project (free
    text is masked otherwise: linli.core.masking.mask_text); asked once per project and request."""
    user = getattr(context.get("request"), "user", None)
    if user is None:
        return False
    known: dict[int, bool] = context.setdefault("_see_people", {})
    if project_id not in known:
        known[project_id] = sees_people_at(user, Project(pk=project_id))
    return known[project_id]


def may_read_catalogue(user: User, district: District) -> bool:
    """Whether ``user`` may read ``district``'s effective catalogue: who may view the district or
    run a project in one of its compounds."""
    return (
        can(user, Action.VIEW, district)
        or scoped(user, Action.CONSULT, Compound.objects.filter(path__startswith=district.path)).exists()
    )


def may_edit_catalogue(user: User, district: District) -> bool:
    """Whether ``user`` may add to or override ``district``'s catalogue (EDIT there)."""
    return can(user, Action.EDIT, district)
