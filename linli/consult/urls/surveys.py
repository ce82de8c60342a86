"""/consult/ pages of needs surveys."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import surveys

urlpatterns = [
    path("projects/<int:pk>/surveys/", surveys.survey_list, name="survey_list"),
    path("surveys/<int:pk>/", surveys.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/answer/", surveys.survey_answer, name="survey_answer"),
    path("surveys/<int:pk>/export.xlsx", surveys.survey_export, name="survey_export"),
]
