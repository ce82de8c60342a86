"""Type aliases every app shares, so a signature says the same thing everywhere.

``User`` is whoever makes a request: a signed-in account (``accounts.User``, an ``AbstractUser``) or
the anonymous visitor. Functions that take "the user asking" annotate ``user: User`` — never
``Any`` — and code that needs a field of Linli's own account model (``display_name``) takes
``accounts.models.User`` instead. The alias exists for the type checker only: with
``from __future__ import annotations`` nothing evaluates it at run time, and core does not load
the auth models at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser, AnonymousUser

    User: TypeAlias = AbstractUser | AnonymousUser
else:  # run time: annotations are strings and never evaluated
    User = Any
