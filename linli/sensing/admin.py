"""Admin of the sensing app (issue 13 §1): device profiles with their channels and rules (kinds are
data, editable here), gateways (a new one's token is shown once), devices (place columns read-only:
a device moves by importing it again) and lifts with their maintenance visits.

Everything goes through ``accounts.admin.ScopedAdmin``: staff see and change only what their grants
cover. Profiles carry no place, so only superusers (the district's platform administrators) see and
edit them; they apply to every device of the district.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.accounts.admin import ScopedAdmin
from linli.core.errors import LinliError
from linli.sensing.models import Device, DeviceProfile, Gateway, Lift, LiftMaintenance, ProfileChannel, ProfileRule
from linli.sensing.services import devices as svc


class ProfileChannelInline(admin.TabularInline):
    model = ProfileChannel
    extra = 0
    fields = ("key", "name", "name_en", "unit", "value_type", "min_value", "max_value")


class ProfileRuleInline(admin.TabularInline):
    model = ProfileRule
    extra = 0
    fields = (
        "channel_key",
        "kind",
        "alarm_type",
        "severity",
        "above",
        "below",
        "for_s",
        "clear_at",
        "max_per_s",
        "active",
    )


@admin.register(DeviceProfile)
class DeviceProfileAdmin(ScopedAdmin):
    list_display = ("code", "name", "name_en", "kind", "offline_after_s", "offline_severity")
    list_filter = ("kind",)
    search_fields = ("code", "name", "name_en")
    inlines = (ProfileChannelInline, ProfileRuleInline)


@admin.register(Gateway)
class GatewayAdmin(ScopedAdmin):
    list_display = ("name", "prefix", "district", "active", "created_at", "last_used_at")
    list_filter = ("active",)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("name", "district", "active", "prefix", "created_at", "last_used_at")

    def save_model(self, request: HttpRequest, obj: Gateway, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        active = obj.active
        gateway, raw = svc.issue_gateway(request.user, obj.name, obj.district)
        obj.pk, obj.prefix, obj.token_hash, obj.created_at = (
            gateway.pk,
            gateway.prefix,
            gateway.token_hash,
            gateway.created_at,
        )
        obj._state.adding = False
        if not active:  # issued inactive: kept as the admin asked
            super().save_model(request, obj, form, True)
        messages.warning(
            request,
            f"新的网关令牌(只显示这一次,请立即交给网关): {raw} — the gateway's token, shown only this once: {raw}",
        )


@admin.action(description=_("Issue a new device token (shown once)"))
def issue_token(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Device]) -> None:
    for device in queryset[:20]:
        try:
            raw = svc.issue_device_token(request.user, device)
        except (LinliError, PermissionDenied, Http404) as exc:
            messages.error(request, f"{device.code}: {exc}")
            continue
        messages.warning(request, f"{device.code}: {raw} (只显示这一次 / shown only this once)")


@admin.register(Device)
class DeviceAdmin(ScopedAdmin):
    list_display = ("code", "name", "profile", "community", "online", "last_seen_at", "active")
    list_filter = ("profile", "online", "active")
    search_fields = ("code", "name")
    list_select_related = ("profile", "community")
    fields = (
        "code",
        "name",
        "profile",
        "community",
        "compound",
        "building",
        "unit",
        "lat",
        "lon",
        "gateway",
        "token_prefix",
        "active",
        "installed_on",
        "online",
        "last_seen_at",
    )
    readonly_fields = (
        "code",
        "profile",
        "community",
        "compound",
        "building",
        "unit",
        "lat",
        "lon",
        "token_prefix",
        "online",
        "last_seen_at",
    )
    actions = (issue_token,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # devices come in by import (their place, channels and lift data checked together)


class LiftMaintenanceInline(admin.TabularInline):
    model = LiftMaintenance
    extra = 0
    fields = ("done_on", "company", "note", "recorded_by", "recorded_at")
    readonly_fields = ("done_on", "company", "note", "recorded_by", "recorded_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # recorded on the lift page (services.devices.record_maintenance)


@admin.register(Lift)
class LiftAdmin(ScopedAdmin):
    list_display = ("register_no", "device", "maintenance_company", "insurer", "operator", "last_maintained_on")
    search_fields = ("register_no", "device__code", "maintenance_company", "insurer", "operator")
    list_select_related = ("device",)
    readonly_fields = ("device", "last_maintained_on")
    fields = (
        "device",
        "register_no",
        "maintenance_company",
        "maintenance_phone",
        "insurer",
        "policy_no",
        "operator",
        "contract_no",
        "contract_terms",
        "commissioned_on",
        "maintenance_days",
        "last_maintained_on",
    )
    inlines = (LiftMaintenanceInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # lifts come in with their controller by import
