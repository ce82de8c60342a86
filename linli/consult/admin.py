"""Admin of the consult app: published records are shown, never edited.

A notice, its corrections and a ballot's result are what was published (issue 8): the admin lists
them read-only (no add, change or delete), through the one permission check. Everything is
written by ``linli.consult.services``.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from linli.accounts.admin import ScopedAdmin
from linli.consult import models as m


class ReadOnlyAdmin(ScopedAdmin):
    """View only: the services are the only writers."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def _json(value: Any) -> str:
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, ensure_ascii=False, indent=2))


class CorrectionInline(admin.TabularInline):
    model = m.NoticeCorrection
    extra = 0
    fields = ("at", "text", "reason", "by_name")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(m.Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("title", "project", "kind", "starts_on", "days", "published_at")
    list_filter = ("kind",)
    search_fields = ("title",)
    fields = (
        "project",
        "ballot",
        "kind",
        "title",
        "starts_on",
        "days",
        "published_by",
        "published_at",
        "snapshot_sha256",
        "as_published",
    )
    readonly_fields = fields
    inlines = (CorrectionInline,)

    @admin.display(description=_("as published"))
    def as_published(self, obj: m.Notice) -> str:
        return _json(obj.snapshot)


@admin.register(m.Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ("title", "matter", "scope_kind", "status", "closes_at", "closed_at", "withdrawn_at")
    list_filter = ("status", "matter")
    search_fields = ("title",)
    fields = (
        "project",
        "title",
        "question",
        "matter",
        "scope_kind",
        "scope_id",
        "status",
        "opens_at",
        "closes_at",
        "closed_at",
        "withdrawn_reason",
        "withdrawn_by",
        "withdrawn_at",
        "roll_digest",
        "stored_result",
    )
    readonly_fields = fields

    @admin.display(description=_("result"))
    def stored_result(self, obj: m.Ballot) -> str:
        return _json(obj.result)
