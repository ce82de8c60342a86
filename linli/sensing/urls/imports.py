"""Sensing URLs: the device import (namespace ``sensing``)."""

from __future__ import annotations

from django.urls import path

from linli.sensing.views import imports as v

urlpatterns = [
    path("import/template.xlsx", v.import_template, name="device_import_template"),
    path("import/<str:kind>/<linli_id:pk>/", v.import_page, name="device_import"),
    path("import/<str:kind>/<linli_id:pk>/confirm/", v.import_confirm, name="device_import_confirm"),
    path("import/<str:kind>/<linli_id:pk>/preview/<linli_id:run>/", v.import_preview, name="device_import_preview"),
]
