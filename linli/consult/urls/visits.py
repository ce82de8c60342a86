"""/consult/ pages of home visits."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import visits

urlpatterns = [
    path("projects/<linli_id:pk>/visits/new/", visits.new, name="visit_new"),
    path("projects/<linli_id:pk>/consensus/", visits.project_summary, name="visit_project"),
    path("projects/<linli_id:pk>/consensus/building/<linli_id:building_pk>/", visits.building, name="visit_building"),
]
