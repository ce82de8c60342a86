from django.urls import path

from linli.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="index"),
    path("map.json", views.map_json, name="map"),
    path("part/<slug:name>/", views.part, name="part"),
    path("export.xlsx", views.export, name="export"),
]
