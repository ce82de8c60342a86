"""Export downloads (namespace ``places``; name ``io_export``)."""

from __future__ import annotations

from django.urls import path

from linli.places.views import exports as v

urlpatterns = [
    path("places/<str:kind>/<linli_id:pk>/export/<str:what>.xlsx", v.export, name="io_export"),
]
