"""/consult/ pages of needs surveys."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import surveys as v

urlpatterns = [
    path("projects/<linli_id:pk>/surveys/", v.survey_list, name="survey_list"),
    path("surveys/<linli_id:pk>/", v.survey_detail, name="survey_detail"),
    path("surveys/<linli_id:pk>/answer/", v.survey_answer, name="survey_answer"),
    path("surveys/<linli_id:pk>/export.xlsx", v.survey_export, name="survey_export"),
]
