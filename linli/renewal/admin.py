"""Admin of the renewal app: the per-district catalogue (district entries override the defaults
by code) and read-mostly views of projects; every queryset goes through the one permission check."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from linli.accounts.admin import ScopedAdmin
from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.renewal import models as m


@admin.register(m.CatalogueItem)
class CatalogueItemAdmin(ScopedAdmin):
    list_display = ("code", "name", "name_en", "item_class", "unit", "unit_cost", "district", "active")
    list_filter = ("item_class", "active", "district")
    search_fields = ("code", "name", "name_en")

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # the national defaults (no district) are changed by superusers only
        if obj is not None and getattr(obj, "district_id", None) is None:
            return bool(request.user.is_superuser)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is not None and getattr(obj, "district_id", None) is None:
            return bool(request.user.is_superuser)
        return super().has_delete_permission(request, obj)


class ProjectItemInline(admin.TabularInline):
    model = m.ProjectItem
    extra = 0
    fields = ("item_class", "name", "quantity", "unit", "unit_cost", "weight", "progress")
    readonly_fields = ("progress",)


@admin.register(m.Project)
class ProjectAdmin(ScopedAdmin):
    list_display = ("name", "compound", "kind", "phase", "is_public", "created_at")
    list_filter = ("phase", "kind", "is_public")
    search_fields = ("name", "compound__name")
    raw_id_fields = ("compound", "buildings")
    readonly_fields = ("phase", "created_by", "created_at", "updated_at")
    inlines = (ProjectItemInline,)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super(ScopedAdmin, self).has_change_permission(request, obj) and (
            obj is None or can(request.user, Action.CONSULT, obj)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through the project page (eligibility check, first phase record)


@admin.register(m.SupervisionReport)
class SupervisionReportAdmin(ScopedAdmin):
    list_display = ("project", "status", "created_at")
    list_filter = ("status",)
    readonly_fields = ("project", "item", "reporter", "text", "created_at", "client_key")
