"""/api/v1/ for the consult app: one module per topic, each with a ``register(router)`` that puts
its viewsets on the one router (``linli/api_urls.py``)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from linli.consult.api import ballots, notices, surveys, visits

TOPICS = (ballots, visits, surveys, notices)


def register(router: DefaultRouter) -> None:
    for topic in TOPICS:
        topic.register(router)
