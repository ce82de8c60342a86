"""Jobs URLs: seekers (namespace ``jobs``; docs/jobs.md "Seekers")."""

from __future__ import annotations

from django.urls import path

from linli.jobs.views import seekers as v

urlpatterns = [
    path("me/", v.seeker_me, name="seeker_me"),
    path("seekers/", v.seeker_list, name="seeker_list"),
    path("seekers/new/", v.seeker_new, name="seeker_new"),
    path("seekers/<linli_id:pk>/", v.seeker_detail, name="seeker_detail"),
    path("seekers/<linli_id:pk>/reveal/", v.seeker_reveal, name="seeker_reveal"),
]
