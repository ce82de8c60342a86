from __future__ import annotations

from typing import ClassVar

from django.contrib import admin

from linli.accounts.admin import ScopedAdmin
from linli.places import models as m


@admin.register(m.District)
class DistrictAdmin(ScopedAdmin):
    list_display = ("code", "name", "name_en", "path")
    search_fields = ("name", "code")


@admin.register(m.Street)
class StreetAdmin(ScopedAdmin):
    list_display = ("code", "name", "district", "path")
    list_filter = ("district",)
    search_fields = ("name", "code")


@admin.register(m.Community)
class CommunityAdmin(ScopedAdmin):
    list_display = ("code", "name", "street", "path")
    list_filter = ("street",)
    search_fields = ("name", "code")


@admin.register(m.Compound)
class CompoundAdmin(ScopedAdmin):
    list_display = ("code", "name", "community", "build_year", "is_historic")
    list_filter = ("is_historic", "community__street")
    search_fields = ("name", "code", "address")
    raw_id_fields = ("community",)


class UnitInline(admin.TabularInline):
    model = m.Unit
    extra = 0


@admin.register(m.Building)
class BuildingAdmin(ScopedAdmin):
    list_display = ("path", "name", "compound", "storeys", "building_kind", "has_lift", "grid")
    list_filter = ("building_kind", "has_lift")
    search_fields = ("name", "path")
    raw_id_fields = ("compound", "grid")
    inlines: ClassVar = [UnitInline]


@admin.register(m.Dwelling)
class DwellingAdmin(ScopedAdmin):
    list_display = ("__str__", "floor", "area", "area_source", "use")
    list_filter = ("area_source", "use")
    raw_id_fields = ("unit",)
    search_fields = ("building__path", "number")


class GridMemberInline(admin.TabularInline):
    model = m.GridMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(m.Grid)
class GridAdmin(ScopedAdmin):
    list_display = ("code", "name", "community", "published")
    search_fields = ("name", "code")
    raw_id_fields = ("community",)
    inlines: ClassVar = [GridMemberInline]


@admin.register(m.Person)
class PersonAdmin(ScopedAdmin):
    """Masked only: a full ID number is read through the logged reveal, never in the admin."""

    list_display = ("name", "kind", "id_number_masked", "phone_masked", "birth_year")
    list_filter = ("kind",)
    search_fields = ("name",)
    readonly_fields = ("id_number_masked", "phone_masked")
    fields = ("kind", "name", "birth_year", "id_number_masked", "phone_masked")
