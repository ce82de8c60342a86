"""Sensing URLs: alarms (the board, one alarm, its actions, the map layer's points)."""

from django.urls import URLPattern, path

from linli.sensing.views import alarms as v

urlpatterns: list[URLPattern] = [
    path("alarms/", v.board, name="alarm_board"),
    path("alarms/map.json", v.map_json, name="alarm_map"),
    path("alarms/<linli_id:pk>/", v.detail, name="alarm_detail"),
    path("alarms/<linli_id:pk>/act/", v.act, name="alarm_act"),
]
