"""The command centre's roll-up agrees exactly with counts from the raw events (issue 11 §2):
random events (states, deadlines, closings, deferrals, departments, grids, places), random periods
up to three years and every kind of scope; after a full refresh, and after incremental refreshes of
random changes, new events, bulk inserts and deletions (linli/dashboard/services.py, queries.py)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from linli.accounts.permissions import forget_grants, scoped
from linli.accounts.roles import Action
from linli.accounts.services import grant_role
from linli.dashboard import metrics, permissions
from linli.dashboard import queries as q
from linli.dashboard import services as svc
from linli.dashboard.models import Rollup, RollupPending
from linli.governance.models import Category, Event
from tests import factories as f
from tests.dashboard.conftest import put_event

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
FIRST = date(2022, 1, 1)
SPAN_DAYS = 3 * 365 + 60
STEPS = ["collected", "registered", "dispatched", "handling", "closed", "evaluated", "voided"]


def _instant(rng: random.Random) -> datetime:
    """A random local instant; one in five exactly at a local midnight (the period boundaries)."""
    d = FIRST + timedelta(days=rng.randrange(SPAN_DAYS))
    if rng.random() < 0.2:
        return datetime(d.year, d.month, d.day, tzinfo=SH)
    return datetime(d.year, d.month, d.day, tzinfo=SH) + timedelta(seconds=rng.randrange(86400))


def _random_fields(rng: random.Random, world: Any, gov: Any, cats: list[str]) -> dict[str, Any]:
    step = rng.choice(STEPS)
    created = _instant(rng)
    due = created + timedelta(hours=rng.choice([0, 24, 72, 200, 2000])) if rng.random() < 0.85 else None
    closed = None
    if step in ("closed", "evaluated", "voided") or rng.random() < 0.05:
        closed = (due or created) + timedelta(hours=rng.choice([-30, -1, 0, 5, 100])) if rng.random() < 0.9 else due
    deferred = None
    if rng.random() < 0.15:
        deferred = _instant(rng) if rng.random() < 0.8 else due
    return {
        "building": rng.choice([world.building_a, world.building_b, world.building_c]),
        "department": rng.choice([gov.cg, gov.gs, gov.locality, None]),
        "category": rng.choice(cats),
        "step": step,
        "created_at": created,
        "due_at": due,
        "closed_at": closed,
        "deferred_until": deferred,
        "rework_count": rng.choice([0, 0, 0, 1, 2]),
    }


def _make(rng: random.Random, world: Any, gov: Any, cats: list[str], n: int) -> list[Event]:
    return [put_event(world, **_random_fields(rng, world, gov, cats)) for _ in range(n)]


def _users(world: Any, gov: Any) -> list[Any]:
    compound_worker = f.UserFactory(username="compound_worker")
    grant_role(world.admin, compound_worker, "community_worker", world.compound_a)
    return [
        world.admin,
        world.users["district_admin"],
        world.users["street_command"],
        world.users["community_worker"],
        world.users["grid_leader"],
        world.outsider,
        compound_worker,
        gov.cg_staff,
        gov.locality_staff,
    ]


def _random_period(rng: random.Random) -> metrics.Period:
    first = FIRST - timedelta(days=20) + timedelta(days=rng.randrange(SPAN_DAYS))
    days = rng.choice([1, 6, 7, 30, 31, 62, 63, 90, 365, 366, rng.randrange(1, metrics.MAX_DAYS + 1)])
    return metrics.Period(first, first + timedelta(days=days - 1))


def _now(rng: random.Random) -> datetime:
    return _instant(rng) if rng.random() < 0.7 else datetime(2030, 1, 1, tzinfo=SH)


def _level_users(user: Any) -> list[str]:
    """The levels that answer exactly for ``user``'s scope (every level for a superuser)."""
    if user.is_superuser:
        return [lvl.value for lvl in Rollup.Level]
    levels = permissions.rollup_levels(user)
    return [] if levels is None else sorted({levels.departments, levels.grids, levels.trend, Rollup.Level.ALL})


BY = {
    Rollup.Level.ALL: ("department", "grid"),
    Rollup.Level.DEPARTMENT: ("department",),
    Rollup.Level.GRID: ("grid",),
}


def _agree(rng: random.Random, users: list[Any], rounds: int) -> None:
    for _ in range(rounds):
        user = rng.choice(users)
        forget_grants(user)
        events: QuerySet[Event] = scoped(user, Action.EVENTS, Event.objects.all())
        period = _random_period(rng)
        now = _now(rng)
        start, end = period.bounds(SH)
        raw_rates = q.rates(events, start, end, now, "en")
        raw_trend = q.trend(events, period, SH)
        # what the page shows, from whichever levels (or raw events) answer for this user
        if permissions.sees_command_centre(user):
            rates, trend = q.period_figures(user, events, period, SH, now, "en")
            assert trend == raw_trend, (user.username, period)
            assert rates.total == raw_rates.total, (user.username, period, now)
            assert {r.key: r.counts for r in rates.by_department} == {
                r.key: r.counts for r in raw_rates.by_department
            }, (user.username, period, now)
            assert {r.key: r.counts for r in rates.by_grid} == {r.key: r.counts for r in raw_rates.by_grid}, (
                user.username,
                period,
                now,
            )
        else:
            with pytest.raises(PermissionDenied):
                permissions.rollup_of(user)
            continue
        rows = permissions.rollup_of(user)
        # every level that can answer for this scope, each on its own
        for level in _level_users(user):
            if level in BY:
                by = BY[Rollup.Level(level)]
                raw = {k: v for k, v in q.period_counts(events, start, end, now, by).items() if v.due}
                rolled = {k: v for k, v in q.rollup_period_counts(rows, period, SH, now, by, level).items() if v.due}
                assert rolled == raw, (user.username, period, now, level)
            if level in (Rollup.Level.ALL, Rollup.Level.PLACE, Rollup.Level.TEAM):
                assert q.rollup_trend(rows, period, level) == raw_trend, (user.username, period, level)
        if user.is_superuser:  # level F, per category (no scope finer than a community reads the roll-up)
            for by in (("department", "grid", "category"), ("category",)):
                raw = {k: v for k, v in q.period_counts(events, start, end, now, by).items() if v.due}
                rolled = {k: v for k, v in q.rollup_period_counts(rows, period, SH, now, by).items() if v.due}
                assert rolled == raw, (period, now, by)


@pytest.fixture
def cats(gov: Any) -> list[str]:
    return list(Category.objects.order_by("code").values_list("code", flat=True)[:4])


@pytest.mark.dates
def test_rollup_equals_raw_counts_over_random_periods_and_scopes(world: Any, gov: Any, cats: list[str]) -> None:
    rng = random.Random(20251130)
    _make(rng, world, gov, cats, 400)
    svc.refresh(full=True)
    assert Rollup.objects.exists()
    _agree(rng, _users(world, gov), 120)


def _table() -> list[tuple[Any, ...]]:
    return sorted(
        Rollup.objects.values_list(
            "level",
            "grain",
            "kind",
            "day",
            "department_id",
            "grid_id",
            "category_id",
            "path",
            "deferred_until",
            "n",
            "closed",
            "on_time",
            "reworked",
        ),
        key=repr,
    )


@pytest.mark.dates
def test_incremental_refresh_equals_a_full_one(world: Any, gov: Any, cats: list[str]) -> None:
    rng = random.Random(7)
    events = _make(rng, world, gov, cats, 250)
    svc.refresh(full=True)
    users = _users(world, gov)
    for round_ in range(4):
        # changes through the ORM (the save hook queues them with the days they counted under)
        for ev in rng.sample(events, 40):
            for key, value in _random_fields(rng, world, gov, cats).items():
                if key == "building":
                    ev.building, ev.grid_id, ev.path = value, value.grid_id, value.path
                    ev.community_id, ev.street_id = value.community_id, value.community.street_id
                elif key == "department":
                    ev.department = value
                elif key == "category":
                    cat = Category.objects.get(code=value)
                    ev.category, ev.kind, ev.sector = cat, cat.kind, cat.sector
                elif key != "created_at":
                    setattr(ev, key, value)
            ev.save()
        events += _make(rng, world, gov, cats, 20)
        # new events (through the ORM or in bulk) queue nothing: found by the id watermark
        template = _random_fields(rng, world, gov, cats)
        bulk = put_event(world, **template)
        assert not RollupPending.objects.filter(event_id=bulk.pk).exists()
        events.append(bulk)
        if round_ == 2:
            gone = events.pop(rng.randrange(len(events)))
            Event.objects.filter(pk=gone.pk).first().delete()  # type: ignore[union-attr]
        assert RollupPending.objects.exists()
        done = svc.refresh()
        assert not done.full and done.events > 0
        # only gaps may stay (PostgreSQL: the id of the deleted new event, while the test's own
        # transaction, older than the gap, runs)
        assert not RollupPending.objects.filter(gap_xid__isnull=True).exists()
        _agree(rng, users, 25)
        incremental = _table()
        svc.refresh(full=True)
        assert incremental == _table(), round_


def test_refresh_with_nothing_changed_recomputes_nothing(world: Any, gov: Any, cats: list[str]) -> None:
    _make(random.Random(3), world, gov, cats, 30)
    svc.refresh(full=True)
    before = _table()
    done = svc.refresh()
    assert done.events == 0 and done.days == 0
    assert _table() == before


def test_rollup_scope_is_the_events_scope(world: Any, gov: Any, cats: list[str]) -> None:
    """Every role that sees the command centre reads the roll-up rows of its own events only; the
    others get a 403 from rollup_of as from events_of."""
    _make(random.Random(5), world, gov, cats, 120)
    svc.refresh(full=True)
    for user in _users(world, gov):
        forget_grants(user)
        n_events = scoped(user, Action.EVENTS, Event.objects.all()).filter(created_at__isnull=False).count()
        levels = permissions.rollup_levels(user)
        if levels is None:  # a compound's worker: counted from the raw events
            assert user.username == "compound_worker"
            continue
        n_rolled = sum(
            permissions.rollup_of(user).filter(level=levels.trend, grain="d", kind="r").values_list("n", flat=True)
        )
        assert n_rolled == n_events, user.username
    for role in ("grid_force", "resident", "operator", "department_staff"):
        with pytest.raises(PermissionDenied):
            permissions.rollup_of(world.users[role])


def test_catch_up_applies_a_small_backlog(world: Any, gov: Any, cats: list[str]) -> None:
    rng = random.Random(9)
    _make(rng, world, gov, cats, 10)
    svc.catch_up()  # never filled and small: a full refresh
    assert not RollupPending.objects.filter(gap_xid__isnull=True).exists()
    _make(rng, world, gov, cats, 5)
    assert svc.pending_count() >= 5
    svc.catch_up()
    assert svc.pending_count() == 0
    _agree(rng, _users(world, gov), 10)


def test_load_demo_events_fills_the_rollup(db: Any, monkeypatch: Any) -> None:
    """The demo history goes in by bulk_create (no save hook): the loader ends with a full refresh."""
    from io import StringIO

    from django.core.management import call_command

    from tests.demo.test_governance import EVENTS, SMALL

    monkeypatch.setenv("LINLI_DEMO_PASSWORD", "a-demo-password-for-tests")
    call_command("load_demo", scale=SMALL, verbosity=0, stdout=StringIO())
    call_command("load_demo_events", events=EVENTS, verbosity=0, stdout=StringIO())
    reported = sum(Rollup.objects.filter(level="P", grain="d", kind="r").values_list("n", flat=True))
    assert reported == Event.objects.count() > 0


def test_an_id_committed_below_the_watermark_is_counted(world: Any, gov: Any, cats: list[str]) -> None:
    """PostgreSQL takes an event's id at the insert, not at the commit: a transaction still open can
    commit an id below the watermark a refresh has just set. The refresh watches such gaps (queued
    with ``gap_xid``) and counts the event when it appears; SQLite writes one transaction at a time."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite commits one writer at a time")
    rng = random.Random(11)
    _make(rng, world, gov, cats, 20)
    svc.refresh(full=True)
    late, after = _make(rng, world, gov, cats, 2)
    # as if ``late`` were not committed yet when the refresh ran
    with connection.cursor() as c:
        c.execute("DELETE FROM governance_event WHERE id = %s", [late.pk])
    svc.refresh()
    assert svc.RollupState.objects.get().last_event_id == after.pk
    assert RollupPending.objects.filter(event_id=late.pk, gap_xid__isnull=False).exists()
    Event.objects.bulk_create([late])  # its transaction commits (no save hook runs again)
    svc.refresh()
    incremental = _table()
    svc.refresh(full=True)
    assert incremental == _table()
    _agree(rng, _users(world, gov), 10)
