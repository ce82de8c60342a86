"""Sensing URLs: devices, their places, counts and lifts (namespace ``sensing``)."""

from __future__ import annotations

from django.urls import path

from linli.sensing.views import devices as v

urlpatterns = [
    path("devices/", v.device_list, name="device_list"),
    path("devices/counts/", v.device_counts, name="device_counts"),
    path("devices/<linli_id:pk>/", v.device_detail, name="device_detail"),
    path("devices/<linli_id:pk>/token/", v.device_token, name="device_token"),
    path("places/<str:kind>/<linli_id:pk>/devices/", v.place_devices, name="place_devices"),
    path("lifts/", v.lift_list, name="lift_list"),
    path("lifts/<linli_id:pk>/", v.lift_detail, name="lift_detail"),
    path("lifts/<linli_id:pk>/maintenance/", v.lift_maintenance, name="lift_maintenance"),
]
