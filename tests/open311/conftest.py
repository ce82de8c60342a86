"""Fixtures for Open311: the grid-event world of tests/governance (catalogue, departments, building
positions) and an api key of the world's district."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.test.client import ClientHandler

from linli.core.handlers import LeanMiddleware
from linli.open311 import services as svc
from linli.open311.models import ApiKey
from tests.governance.conftest import POS, Gov, make_gov


@dataclass
class O311:
    gov: Gov
    world: Any
    key: ApiKey
    raw: str
    pos: dict[str, tuple[float, float]]


class _LeanClientHandler(LeanMiddleware, ClientHandler):
    pass


class _DispatchingClientHandler:
    """The test client's handler, dispatching by path as ``linli.wsgi.application`` does: /open311/
    through the lean stack (linli/core/handlers.py), the admin and pages through the full one."""

    def __init__(self, full: ClientHandler) -> None:
        self.full = full
        self.lean = _LeanClientHandler(enforce_csrf_checks=full.enforce_csrf_checks)

    def __call__(self, environ: dict[str, Any]) -> Any:
        lean = environ.get("PATH_INFO", "").startswith(tuple(settings.LINLI_LEAN_PATHS))
        return (self.lean if lean else self.full)(environ)


@pytest.fixture
def client() -> Client:
    """Every Open311 test goes through the middleware production uses for its path."""
    c = Client()
    c.handler = _DispatchingClientHandler(c.handler)  # type: ignore[assignment]
    return c


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    svc.clear_caches()
    yield
    svc.clear_caches()


@pytest.fixture
def o311(world: Any) -> O311:
    gov = make_gov(world)
    key, raw = svc.issue_key("Test kiosk", world.district)
    return O311(gov, world, key, raw, POS)
