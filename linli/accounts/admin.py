"""The accounts admin, and ``ScopedAdmin``: the base every app's admin uses, so the admin too goes
through the one permission check."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from linli.accounts.models import AccessLog, OwnerAccount, RoleGrant, User
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


@admin.register(User)
class LinliUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "is_active", "is_staff", "last_login")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Linli", {"fields": ("display_name", "preferred_language")}))


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "place_kind", "label", "granted_at", "revoked_at")
    list_filter = ("role", "place_kind")
    search_fields = ("user__username", "label", "path")
    readonly_fields = ("path", "label", "granted_by", "granted_at")

    def has_add_permission(self, request: object) -> bool:
        return False  # grants go through linli.accounts.services.grant_role (API or command)


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Append-only: nobody edits or deletes the access log from the admin."""

    list_display = ("at", "user", "what", "object_type", "object_id", "reason", "ip")
    list_filter = ("what",)
    search_fields = ("user__username", "path", "reason")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(OwnerAccount)
class OwnerAccountAdmin(ScopedAdmin):
    """Read-only: owners' voting accounts are made and revoked only through
    ``linli.accounts.verification`` (SMS, or a worker in person), which enforce the rules."""

    list_display = ("person", "user", "method", "verified_at", "verified_by", "revoked_at")
    list_filter = ("method", "document_kind")
    search_fields = ("user__username", "person__name")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
