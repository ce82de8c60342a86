from typing import Any

from django.contrib import admin

from linli.runs.models import Run


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Operators look at runs (which failed, which worker retried); nobody edits them here."""

    list_display = ("pk", "kind", "user", "status", "done", "total", "attempts", "created_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("kind", "task_id")

    def get_readonly_fields(self, request: Any, obj: object = None) -> list[str]:
        return [f.name for f in Run._meta.fields]

    def has_view_permission(self, request: Any, obj: object = None) -> bool:
        return bool(request.user.is_superuser)  # runs carry no scope: the district's operators only

    def has_module_permission(self, request: Any) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
