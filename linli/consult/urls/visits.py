"""/consult/ pages of home visits."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import visits

urlpatterns = [
    path("projects/<int:pk>/visits/new/", visits.new, name="visit_new"),
    path("projects/<int:pk>/consensus/", visits.project_summary, name="visit_project"),
    path("projects/<int:pk>/consensus/building/<int:building_pk>/", visits.building, name="visit_building"),
]
