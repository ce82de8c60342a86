"""/consult/ pages: each topic module has ``urlpatterns`` (names prefixed by the topic)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from linli.consult.urls import ballots, notices, surveys, visits

app_name = "consult"
urlpatterns: list[URLPattern | URLResolver] = [
    *ballots.urlpatterns,
    *visits.urlpatterns,
    *surveys.urlpatterns,
    *notices.urlpatterns,
]
