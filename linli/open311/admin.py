"""Open311 api keys in the admin: issue (the key is shown once), deactivate, see last use."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from linli.accounts.admin import ScopedAdmin
from linli.open311 import services as svc
from linli.open311.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(ScopedAdmin):
    list_display = ("name", "prefix", "district", "active", "created_at", "last_used_at")
    list_filter = ("active", "district")
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("name", "district", "active", "prefix", "created_at", "last_used_at")

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            svc.clear_caches()
            return
        key, raw = svc.issue_key(obj.name, obj.district, active=obj.active)
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = key.pk, key.prefix, key.key_hash, key.created_at
        messages.warning(
            request,
            f"新的 api_key(只显示这一次,请立即交给客户端): {raw} — the new api_key, shown only this once: {raw}",
        )
