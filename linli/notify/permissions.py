"""Who may read a notification: its recipient, and nobody else — not an administrator, not a
colleague of the same place. An inbox is personal; others' rows are a 404 (never revealed)."""

from __future__ import annotations

from linli.core.types import User
from linli.notify.models import Notification


def may_read(user: User, notification: Notification) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and notification.user_id == user.pk
