"""The roll-up in the admin, read-only: operators look, ``manage.py refresh_rollup`` writes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from linli.dashboard.models import Rollup, RollupState


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rollup)
class RollupAdmin(ReadOnly):
    list_display = ("level", "grain", "kind", "day", "department_id", "grid_id", "category_id", "path", "n", "closed")
    list_filter = ("level", "grain", "kind")
    date_hierarchy = "day"


@admin.register(RollupState)
class RollupStateAdmin(ReadOnly):
    list_display = ("last_event_id", "refreshed_at", "full_at")
