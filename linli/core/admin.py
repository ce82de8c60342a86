"""Admin pieces every app uses: the admin too goes through the one permission check."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from linli.accounts.permissions import can, scoped
from linli.accounts.roles import Action


class ScopedAdmin(admin.ModelAdmin):
    """Staff see and change only what their role grants allow (superusers: everything)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(request.user, Action.VIEW, super().get_queryset(request))

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or can(request.user, Action.VIEW, obj))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or can(request.user, Action.EDIT, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or can(request.user, Action.EDIT, obj))
