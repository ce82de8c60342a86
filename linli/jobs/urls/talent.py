"""Jobs urls: an employer's talent search and invitations (issue 14 §3)."""

from __future__ import annotations

from django.urls import path

from linli.jobs.views import talent as v

urlpatterns = [
    path("postings/<linli_id:pk>/talent/", v.talent, name="talent"),
    path("postings/<linli_id:pk>/invite/", v.invite, name="invite"),
]
