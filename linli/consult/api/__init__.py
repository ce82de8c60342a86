"""/api/v1/ for the consult app: each topic module has a ``register(router)``."""

from __future__ import annotations

import importlib

from rest_framework.routers import DefaultRouter

TOPICS = ("ballots", "visits", "surveys", "notices")


def register(router: DefaultRouter) -> None:
    for topic in TOPICS:
        try:
            module = importlib.import_module(f"linli.consult.api.{topic}")
        except ModuleNotFoundError as exc:
            if exc.name != f"linli.consult.api.{topic}":
                raise
            continue
        module.register(router)
