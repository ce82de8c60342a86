"""Import pages (namespace ``places``; names prefixed ``io_``, docs/import.md)."""

from __future__ import annotations

from django.urls import path

from linli.places.views import imports as v

urlpatterns = [
    path("places/community/<linli_id:pk>/import/", v.import_page, name="io_import"),
    path("places/import/<linli_id:pk>/", v.preview_page, name="io_preview"),
    path("places/import/<linli_id:pk>/confirm/", v.preview_confirm, name="io_preview_confirm"),
    path("places/import/<linli_id:pk>/cancel/", v.preview_cancel, name="io_preview_cancel"),
    path("places/import/<linli_id:pk>/resolve/", v.preview_resolve, name="io_preview_resolve"),
    path("places/import/template.xlsx", v.template_download, name="io_template"),
]
