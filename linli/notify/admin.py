"""The admin of notifications: the delivery log for the district's operators (which channel failed,
how often, why). Inbox texts are personal: only deliveries are listed, and nobody edits them here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from linli.notify.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("pk", "notification_id", "channel", "status", "attempts", "due_at", "sent_at", "last_error")
    list_filter = ("status", "channel")

    def get_readonly_fields(self, request: Any, obj: object = None) -> list[str]:
        return [f.name for f in Delivery._meta.fields]

    def has_view_permission(self, request: Any, obj: object = None) -> bool:
        return bool(request.user.is_superuser)  # deliveries carry no scope: the district's operators only

    def has_module_permission(self, request: Any) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
