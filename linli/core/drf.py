"""DRF pieces named in settings (kept import-light: DRF loads them while it is starting)."""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated


class SignedIn(IsAuthenticated):
    """Every API call needs a signed-in user; what they may see is then scoped per object."""

    message = "请先登录 / Please sign in first."
