"""/consult/ pages: each topic module has ``urlpatterns`` (names prefixed by the topic)."""

from __future__ import annotations

import importlib

from django.urls import URLPattern, URLResolver

app_name = "consult"
urlpatterns: list[URLPattern | URLResolver] = []
for _topic in ("ballots", "visits", "surveys", "notices"):
    try:
        urlpatterns += importlib.import_module(f"linli.consult.urls.{_topic}").urlpatterns
    except ModuleNotFoundError as exc:
        if exc.name != f"linli.consult.urls.{_topic}":
            raise
