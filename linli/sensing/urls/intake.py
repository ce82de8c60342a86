"""Sensing URLs: the HTTP batch intake of readings (gateways and devices, bearer tokens)."""

from django.urls import URLPattern, path

from linli.sensing.views import intake as v

urlpatterns: list[URLPattern] = [
    path("telemetry/", v.telemetry, name="telemetry"),
]
