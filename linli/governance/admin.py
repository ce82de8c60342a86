"""Admin of grid events: the district edits the category catalogue and the routing rules; events,
their history and requests are read here only — they change through ``services.events`` alone
(every move locked, checked and logged), never by editing a row."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from linli.accounts.admin import ScopedAdmin
from linli.accounts.permissions import can, scoped
from linli.accounts.roles import Action
from linli.core.types import User
from linli.governance import loop
from linli.governance.models import Category, Event, EventLog, EventRequest, RoutingRule
from linli.places import models as places_models

DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


def _district_admin(user: User) -> bool:
    """Superusers, and whoever may edit a whole district (the district administrator)."""
    return bool(user.is_superuser) or scoped(user, Action.EDIT, places_models.District.objects.all()).exists()


def attribute_problems(attributes: object) -> list[str]:
    """Problems with a category's Open311 attribute definitions."""
    if not isinstance(attributes, list):
        return ["attributes must be a list"]
    out: list[str] = []
    codes: set[str] = set()
    for i, a in enumerate(attributes, start=1):
        if not isinstance(a, dict):
            out.append(f"attribute {i} must be an object")
            continue
        code = a.get("code")
        if not isinstance(code, str) or not code.strip() or code in codes:
            out.append(f"attribute {i}: a unique code is required")
        codes.add(str(code))
        if not a.get("zh") or not a.get("en"):
            out.append(f"attribute {i}: zh and en names are required")
        if a.get("datatype") not in DATATYPES:
            out.append(f"attribute {i}: datatype must be one of {', '.join(sorted(DATATYPES))}")
        values = a.get("values", [])
        if not isinstance(values, list) or any(not isinstance(v, list | tuple) or len(v) != 3 for v in values):
            out.append(f"attribute {i}: values must be [key, zh, en] triples")
        elif a.get("datatype") in ("singlevaluelist", "multivaluelist") and not values:
            out.append(f"attribute {i}: a list needs values")
    return out


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = (
            "code",
            "name",
            "name_en",
            "kind",
            "sector",
            "description",
            "keywords",
            "owner",
            "limits",
            "attributes",
            "active",
            "order",
        )

    def clean_limits(self) -> Any:
        limits = self.cleaned_data.get("limits")
        bad = loop.check_limits(limits if limits is not None else {})
        if bad:
            raise forms.ValidationError("时限有误 Invalid time limits: " + "; ".join(bad))
        return limits or {}

    def clean_attributes(self) -> Any:
        attributes = self.cleaned_data.get("attributes")
        bad = attribute_problems(attributes if attributes is not None else [])
        if bad:
            raise forms.ValidationError("属性定义有误 Invalid attributes: " + "; ".join(bad))
        return attributes or []


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The catalogue is shared by the district: its administrators (and superusers) edit it."""

    form = CategoryForm
    list_display = ("code", "name", "name_en", "kind", "sector", "owner", "active", "order")
    list_filter = ("kind", "sector", "active")
    search_fields = ("code", "name", "name_en", "keywords")
    raw_id_fields = ("owner",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) and _district_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_view_permission(request, obj) and _district_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and _district_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and _district_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # events refer to it (PROTECT): switch it off with ``active`` instead


class RoutingRuleForm(forms.ModelForm):
    user: User | None = None

    class Meta:
        model = RoutingRule
        fields = ("category", "path", "department", "note")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        path, dept = (data.get("path") or "").strip(), data.get("department")
        if not path:
            return data
        if not path.endswith("/"):
            path += "/"
        place = None
        pm = places_models
        for model in (pm.District, pm.Street, pm.Community, pm.Compound, pm.Building):
            place = model.objects.filter(path=path).first()
            if place is not None:
                break
        if place is None:
            raise forms.ValidationError({"path": "没有这个地点路径 No place has this path."})
        if self.user is not None and not can(self.user, Action.EDIT, place):
            raise forms.ValidationError({"path": "该地点不在您的管辖范围 This place is outside your jurisdiction."})
        if dept is not None and not path.startswith(dept.path):
            raise forms.ValidationError({"department": "该部门不管辖此地 That department does not serve this place."})
        data["path"] = path
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(ScopedAdmin):
    form = RoutingRuleForm
    list_display = ("category", "path", "department", "note")
    list_filter = ("category__kind", "department")
    search_fields = ("path", "category__code", "category__name", "department__name")
    raw_id_fields = ("category", "department")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type("ScopedRoutingRuleForm", (form,), {"user": request.user})


class ReadOnlyAdmin(ScopedAdmin):
    """Shown, never edited here: events change through the services only."""

    action = Action.EVENTS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(request.user, self.action, admin.ModelAdmin.get_queryset(self, request))

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admin.ModelAdmin.has_view_permission(self, request, obj) and (
            obj is None or can(request.user, self.action, obj)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "category", "step", "channel", "street", "community", "department", "created_at", "due_at")
    list_filter = ("step", "kind", "sector", "channel", "backlog", "escalation")
    search_fields = ("=id", "description", "address", "category__name")
    date_hierarchy = "created_at"
    list_select_related = ("category", "street", "community", "department")
    exclude = ("reporter_phone_enc", "reporter_email_enc")  # personal data: read through the page, logged


@admin.register(EventLog)
class EventLogAdmin(ReadOnlyAdmin):
    list_display = ("event", "at", "move", "step_from", "step_to", "actor_label", "department")
    list_filter = ("move",)
    search_fields = ("=event__id", "actor_label", "note")
    list_select_related = ("event__category", "department")


@admin.register(EventRequest)
class EventRequestAdmin(ReadOnlyAdmin):
    list_display = ("event", "kind", "department", "requested_at", "decision", "decided_at")
    list_filter = ("kind", "decision")
    search_fields = ("=event__id", "reason")
    list_select_related = ("event__category", "department")
