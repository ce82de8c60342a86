"""/consult/ pages of needs surveys."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import surveys

urlpatterns = [
    path("projects/<linli_id:pk>/surveys/", surveys.survey_list, name="survey_list"),
    path("surveys/<linli_id:pk>/", surveys.survey_detail, name="survey_detail"),
    path("surveys/<linli_id:pk>/answer/", surveys.survey_answer, name="survey_answer"),
    path("surveys/<linli_id:pk>/export.xlsx", surveys.survey_export, name="survey_export"),
]
