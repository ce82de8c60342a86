"""Admin of the jobs app (issue 14): the vocabulary (job categories with their kiosk icons, skills
after the national occupation classification: data, edited here), and read-mostly views of
employers, postings, seekers, applications, placements, service requests and targets for the
district's platform administrators. Day-to-day work (verifying employers, applications, service
requests, figures) happens on the app's pages, through its services.

Everything goes through ``accounts.admin.ScopedAdmin``: staff see only what their grants cover.
Personal data is shown masked; nothing here decrypts it.
"""

from __future__ import annotations

from django.contrib import admin

from linli.accounts.admin import ScopedAdmin
from linli.jobs.models import (
    Application,
    ApplicationStep,
    Employer,
    EmployerMember,
    EmploymentTarget,
    JobCategory,
    Placement,
    Posting,
    Seeker,
    ServiceRequest,
    ServiceStep,
    Skill,
    TargetEntry,
)


@admin.register(JobCategory)
class JobCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "icon", "order", "active")
    list_editable = ("order", "active")
    search_fields = ("code", "name", "name_en")


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "category", "active")
    list_filter = ("category", "active")
    search_fields = ("code", "name", "name_en")


class MemberInline(admin.TabularInline):
    model = EmployerMember
    extra = 0
    fields = ("user", "role")
    raw_id_fields = ("user",)


@admin.register(Employer)
class EmployerAdmin(ScopedAdmin):
    list_display = ("name", "credit_code", "status", "key_enterprise", "street")
    list_filter = ("status", "key_enterprise")
    search_fields = ("name", "credit_code")
    readonly_fields = ("credit_code", "status", "verified_by", "verified_at", "contact_phone_masked", "path")
    exclude = ("contact_phone_enc",)
    raw_id_fields = ("officer",)
    inlines = (MemberInline,)


@admin.register(Posting)
class PostingAdmin(ScopedAdmin):
    list_display = ("title", "employer", "status", "headcount", "hired", "wage_min", "wage_max", "closes_on")
    list_filter = ("status", "category")
    search_fields = ("title", "employer__name")
    readonly_fields = ("employer", "hired", "path", "published_at", "created_by")
    filter_horizontal = ("skills",)


@admin.register(Seeker)
class SeekerAdmin(ScopedAdmin):
    list_display = ("name", "id_number_masked", "phone_masked", "status", "discoverable", "street")
    list_filter = ("status", "discoverable", "registered_unemployed", "hard_to_employ", "source")
    search_fields = ("name",)
    readonly_fields = ("id_number_masked", "phone_masked", "user", "person", "path", "source")
    exclude = ("id_number_enc", "id_number_hash", "phone_enc", "phone_hash")
    filter_horizontal = ("skills",)

    def has_add_permission(self, request: object) -> bool:  # seekers register on the pages and the kiosk
        return False


class StepInline(admin.TabularInline):
    model = ApplicationStep
    extra = 0
    can_delete = False
    fields = ("at", "kind", "from_status", "to_status", "side", "actor", "note")
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(ScopedAdmin):
    list_display = ("number", "posting", "seeker", "status", "channel", "updated_at")
    list_filter = ("status", "channel")
    search_fields = ("number",)
    readonly_fields = tuple(f.name for f in Application._meta.fields)
    inlines = (StepInline,)

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Placement)
class PlacementAdmin(ScopedAdmin):
    list_display = ("seeker", "employer", "started_on", "source", "registered_unemployed", "hard_to_employ")
    list_filter = ("source", "registered_unemployed", "hard_to_employ")
    readonly_fields = tuple(f.name for f in Placement._meta.fields)

    def has_add_permission(self, request: object) -> bool:
        return False


class ServiceStepInline(admin.TabularInline):
    model = ServiceStep
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor", "note")
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ScopedAdmin):
    list_display = ("number", "employer", "kind", "status", "due_at", "satisfaction")
    list_filter = ("kind", "status")
    search_fields = ("number", "title", "employer__name")
    readonly_fields = tuple(f.name for f in ServiceRequest._meta.fields)
    inlines = (ServiceStepInline,)

    def has_add_permission(self, request: object) -> bool:
        return False


# Targets and figure entries are set and withdrawn on the targets page (services.targets keeps who and
# when, the earlier values and the withdrawals): read-only here, so the admin cannot bypass the record.
@admin.register(EmploymentTarget)
class EmploymentTargetAdmin(ScopedAdmin):
    list_display = ("year", "path", "metric", "target")
    list_filter = ("year", "metric")
    readonly_fields = tuple(f.name for f in EmploymentTarget._meta.fields)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(TargetEntry)
class TargetEntryAdmin(ScopedAdmin):
    list_display = ("on", "path", "metric", "count", "source", "withdrawn_at")
    list_filter = ("metric",)
    readonly_fields = tuple(f.name for f in TargetEntry._meta.fields)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
