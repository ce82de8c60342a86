"""Jobs urls: a seeker's nearby jobs (issue 14 §3)."""

from __future__ import annotations

from django.urls import path

from linli.jobs.views import nearby as v

urlpatterns = [
    path("nearby/", v.nearby, name="nearby"),
]
