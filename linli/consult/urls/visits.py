"""/consult/ pages of home visits."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import visits as v

urlpatterns = [
    path("projects/<linli_id:pk>/visits/new/", v.new, name="visit_new"),
    path("projects/<linli_id:pk>/consensus/", v.project_summary, name="visit_project"),
    path("projects/<linli_id:pk>/consensus/building/<linli_id:building_pk>/", v.building, name="visit_building"),
]
