"""Who may see a run and its file: the person who started it, while they still hold the permission
the run was started under (``action`` on its target). Staff of the same scope do not see each
other's runs: a run's result and file were made with the starter's view of the data (what they may
see unmasked, what they exported, logged in their name), so another person's permission to the
same place does not make it theirs — they start their own run."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

from linli.accounts.permissions import can
from linli.core.types import User
from linli.runs.models import Run


def may_see(user: User, run: Run) -> bool:
    if not getattr(user, "is_authenticated", False) or run.user_id != user.pk:
        return False
    try:
        target = run.target_type.get_object_for_this_type(pk=run.target_id)
    except ObjectDoesNotExist:
        return False
    return can(user, run.action, target)
