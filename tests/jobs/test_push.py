"""The nightly push (``manage.py jobs_push``, ``queries.matching.top_for_all``; issue 14 §3): each
findable seeker's best k live postings within how far they travel, new ones only with ``since``,
without the postings they already applied or were invited to — the same as ``nearby()`` per seeker."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from linli.core import clock
from linli.jobs.models import Application, Posting, Skill
from linli.jobs.queries import matching as q
from linli.jobs.services import applications as svc
from tests.jobs.conftest import LAT, LON, make_posting, make_seeker


@pytest.fixture(autouse=True)
def _fresh_index() -> Any:
    q.connect_signals()
    q.forget()
    yield
    q.forget()


def _city(jobs: Any, world: Any) -> list[str]:
    rnd = random.Random(7)
    codes = list(Skill.objects.values_list("code", flat=True).order_by("code"))[:6]
    for i in range(60):
        make_posting(
            jobs.employer,
            f"岗位{i}",
            rnd.sample(codes, rnd.randint(1, 2)),
            lat=LAT + rnd.gauss(0, 0.04),
            lon=LON + rnd.gauss(0, 0.04),
            hours=rnd.choice([30, 40, 48]),
        )
    for i in range(40):
        make_seeker(
            world.street1,
            f"求职者{i}",
            rnd.sample(codes, rnd.randint(1, 3)),
            lat=LAT + rnd.gauss(0, 0.04),
            lon=LON + rnd.gauss(0, 0.04),
            travel_m=rnd.choice([3000, 5000, 10_000]),
            discoverable=i % 4 != 0,
        )
    return codes


def test_top_for_all_is_nearby_for_each_findable_seeker(jobs, world):
    _city(jobs, world)
    svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    pushed = dict(q.top_for_all(10))
    findable = set(q.findable_seekers().values_list("pk", flat=True))
    assert set(pushed) == findable and jobs.hidden.pk not in pushed
    for seeker in q.findable_seekers():
        applied = set(Application.objects.filter(seeker=seeker).values_list("posting_id", flat=True))
        want = [m for _p, m in q.nearby(seeker, k=10 + len(applied)) if m.id not in applied][:10]
        assert pushed[seeker.pk] == want, seeker.pk
    assert jobs.posting.pk not in [m.id for m in pushed[jobs.seeker.pk]]
    assert sum(len(v) for v in pushed.values()) > 50


def test_since_keeps_only_new_postings(jobs, world):
    old = Posting.objects.filter(pk=jobs.posting.pk)
    old.update(published_at=clock.now() - timedelta(days=3))
    q.forget()  # update() sends no signal: its callers bump
    new = make_posting(jobs.employer, "新车工", ["6-18-01-01"])
    pushed = dict(q.top_for_all(10, since=clock.now() - timedelta(hours=24)))
    assert [m.id for m in pushed[jobs.seeker.pk]] == [new.pk]
    pushed = dict(q.top_for_all(10))
    assert {m.id for m in pushed[jobs.seeker.pk]} == {new.pk, jobs.posting.pk}


def test_jobs_push_command_prints_counts(jobs, world):
    _city(jobs, world)
    out = io.StringIO()
    call_command("jobs_push", "--all", stdout=out)
    text = out.getvalue()
    findable = q.findable_seekers().count()
    assert f"{findable} findable seekers" in text
    assert f"done: {findable} seekers" in text and "nothing sent" in text
    assert f"{findable}/{findable} seekers (100%)" in text
    out = io.StringIO()
    call_command("jobs_push", stdout=out)  # new ones only: every posting of the fixture is new
    assert "postings of the last 24 h" in out.getvalue()
    for bad in (["--k", "0"], ["--k", "51"], ["--since-hours", "0"]):
        with pytest.raises(CommandError):
            call_command("jobs_push", *bad, stdout=io.StringIO())
