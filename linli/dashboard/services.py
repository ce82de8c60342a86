"""The command centre's one write: the access log entry of an export (docs/dashboard.md).

The command centre has no tables of its own; an export of a period writes an ``export`` entry to
accounts' access log, through ``accounts.services.log_access`` (docs/rules.md §6: every export of
data about people's cases is logged).
"""

from __future__ import annotations

from django.db import transaction

from linli.accounts.models import AccessLog
from linli.accounts.services import log_access
from linli.core.types import User
from linli.dashboard import permissions
from linli.dashboard.metrics import Period


def log_export(user: User, period: Period, ip: str | None) -> None:
    """Log ``user``'s .xlsx export of ``period``, scoped to the place of their first EVENTS grant."""
    grants = permissions.event_grants(user)
    with transaction.atomic():
        log_access(
            user,
            AccessLog.What.EXPORT,
            None,
            path=grants[0].path if grants else "",
            reason=f"dashboard.xlsx {period.first.isoformat()}..{period.last.isoformat()}",
            ip=ip,
        )
