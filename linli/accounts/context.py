"""Which parts of the site the main menu offers a signed-in person, from their role grants (the
pages themselves check again through ``permissions``: the menu only hides what would be refused)."""

from __future__ import annotations

from django.http import HttpRequest

from linli.accounts.permissions import grants_of
from linli.accounts.roles import Action, allows


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if user.is_superuser:
        return {"nav_events": True, "nav_department": True, "nav_command": True, "nav_devices": True}
    grants = grants_of(user)
    return {
        "nav_events": any(allows(g.role, Action.EVENTS, g.place_kind) for g in grants),
        "nav_department": any(g.place_kind == "department" for g in grants),
        "nav_command": any(allows(g.role, Action.COMMAND, g.place_kind) for g in grants),
        # sensors and lifts (linli/sensing): seen with ``view`` at a place, not from one's own dwelling
        "nav_devices": any(g.place_kind != "dwelling" and allows(g.role, Action.VIEW, g.place_kind) for g in grants),
    }


#: The cookie that keeps 长辈模式 for a visitor who is not signed in (and on the device after signing out).
ELDER_COOKIE = "linli_elder"


def elder(request: HttpRequest) -> dict[str, object]:
    """``elder``: whether the page is drawn in 长辈模式 (large text): the signed-in person's
    preference (``User.large_text``), else the visitor's cookie. base.html sets ``<html class="elder">``."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {"elder": bool(getattr(user, "large_text", False))}
    return {"elder": request.COOKIES.get(ELDER_COOKIE) == "1"}
