"""The accounts admin, and ``ScopedAdmin``: the base every app's admin uses, so the admin too goes
through the one permission check."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import AccessLog, OwnerAccount, RoleGrant, User, normalise_phone
from linli.accounts.permissions import can, scoped
from linli.accounts.roles import Action
from linli.core.masking import is_valid_phone


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


class LinliUserChangeForm(UserChangeForm):
    """The admin's user form with the mobile phone on record (for sign-in and reset by SMS code):
    typed in full, kept encrypted; the form shows only the masked number. Empty keeps it."""

    new_phone = forms.CharField(
        label=_("mobile phone"),
        required=False,
        max_length=20,
        help_text=_("Leave empty to keep the number on record; type 0 to remove it."),
    )

    def clean_new_phone(self) -> str:
        value = (self.cleaned_data.get("new_phone") or "").strip()
        if value and value != "0" and not is_valid_phone(normalise_phone(value)):
            raise forms.ValidationError(_("Enter an 11-digit mobile phone number."))
        return value

    def save(self, commit: bool = True) -> Any:
        value = self.cleaned_data.get("new_phone") or ""
        if value:
            self.instance.set_phone("" if value == "0" else value)
        return super().save(commit)


@admin.register(User)
class LinliUserAdmin(UserAdmin):
    form = LinliUserChangeForm
    list_display = ("username", "display_name", "phone_masked", "is_active", "is_staff", "last_login")
    readonly_fields = ("phone_masked",)
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Linli", {"fields": ("display_name", "preferred_language", "phone_masked", "new_phone", "large_text")}),
    )


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
