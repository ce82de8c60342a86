"""Jobs URLs: the app's home, a hub that differs by who signs in (namespace ``jobs``)."""

from __future__ import annotations

from django.urls import path

from linli.jobs.views import home as v

urlpatterns = [
    path("", v.home, name="home"),
]
