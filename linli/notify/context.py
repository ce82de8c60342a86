"""Template context: the unread count for the inbox badge in the header (``notify/badge.html``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from linli.notify.queries import unread_count


def unread(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notify_unread": unread_count(user)}
