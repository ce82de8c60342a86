"""Fixtures of the command centre: the governance catalogue and departments (``gov``), plus a
helper to write events with chosen timestamps directly (for period figures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from linli.governance.models import Category, Event
from tests.governance.conftest import POS, Gov, make_gov

__all__ = ["POS", "Gov", "make_gov", "put_event"]


@pytest.fixture
def gov(world: Any) -> Gov:
    return make_gov(world)


def put_event(
    world: Any,
    *,
    building: Any = None,
    department: Any = None,
    category: str = "C0101",
    step: str = "closed",
    created_at: datetime,
    due_at: datetime | None = None,
    closed_at: datetime | None = None,
    step_due_at: datetime | None = None,
    deferred_until: datetime | None = None,
    backlog: bool = False,
    rework_count: int = 0,
    escalation: int = 0,
    reporter_name: str = "",
) -> Event:
    """An event written straight to the table with the timestamps given (the services stamp now)."""
    b = building or world.building_a
    cat = Category.objects.get(code=category)
    return Event.objects.create(
        category=cat,
        kind=cat.kind,
        sector=cat.sector,
        channel="grid",
        lat=b.lat or 29.5,
        lon=b.lon or 106.5,
        building=b,
        grid_id=b.grid_id,
        community_id=b.community_id,
        street_id=b.community.street_id,
        path=b.path,
        source="sys",
        step=step,
        department=department,
        created_at=created_at,
        updated_at=created_at,
        step_started_at=created_at,
        step_due_at=step_due_at,
        due_at=due_at,
        closed_at=closed_at,
        deferred_until=deferred_until,
        backlog=backlog,
        rework_count=rework_count,
        escalation=escalation,
        reporter_name=reporter_name,
    )
