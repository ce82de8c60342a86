"""Fixtures for Open311: the grid-event world of tests/governance (catalogue, departments, building
positions) and an api key of the world's district."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

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
