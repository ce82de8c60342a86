"""The nightly push (``manage.py jobs_push``, ``queries.matching.top_for_all``; issue 14 §3): each
best k live postings of each seeker looking for work within how far they travel, new ones only with ``since``,
without the postings they already applied or were invited to — the same as ``nearby()`` per seeker."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from linli.core import clock
from linli.jobs.models import Application, Posting, Skill
from linli.jobs.queries import matching as q
from linli.jobs.services import applications as svc
from linli.notify import rules
from linli.notify.models import Notification
from tests import factories as f
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


def test_top_for_all_is_nearby_for_each_seeker_looking_for_work(jobs, world):
    _city(jobs, world)
    svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    pushed = dict(q.top_for_all(10))
    looking = set(q.looking_seekers().values_list("pk", flat=True))
    # hiding from employers is not hiding from jobs: the hidden seeker is told of jobs too
    assert set(pushed) == looking and jobs.hidden.pk in pushed
    for seeker in q.looking_seekers():
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


def test_jobs_push_command_prints_counts(jobs, world, django_capture_on_commit_callbacks):
    _city(jobs, world)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("jobs_push", "--all", "--dry-run", stdout=out)
    text = out.getvalue()
    looking = q.looking_seekers().count()
    reachable = len(q.push_accounts())
    assert reachable == 2  # the fixture's seeker1 and seeker2 (hidden from employers) have accounts
    assert f"{looking} seekers looking for work, {reachable} with an account" in text
    assert f"done: {reachable} seekers, 2 with new matches" in text and "dry run: nothing sent" in text
    assert f"{reachable}/{reachable} seekers (100%)" in text
    assert not Notification.objects.exists()
    out = io.StringIO()
    call_command("jobs_push", "--dry-run", stdout=out)  # new ones only: every posting of the fixture is new
    assert "postings of the last 24 h" in out.getvalue()
    for bad in (["--k", "0"], ["--k", "51"], ["--since-hours", "0"]):
        with pytest.raises(CommandError):
            call_command("jobs_push", *bad, stdout=io.StringIO())


# --- the notifications of the push --------------------------------------------------------------------------

DAY1 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Chongqing
EVENING1 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 20:00
DAY2 = DAY1 + timedelta(days=1)
EVENING2 = EVENING1 + timedelta(days=1)


def push(capture: Any, *args: str) -> str:
    out = io.StringIO()
    with capture(execute=True):
        call_command("jobs_push", *args, stdout=out)
    return out.getvalue()


def test_the_push_tells_each_seeker_with_an_account_once_a_day_and_never_repeats(
    jobs, world, django_capture_on_commit_callbacks
):
    with clock.frozen(DAY1):
        Posting.objects.filter(pk=jobs.posting.pk).update(published_at=clock.now(), closes_on=date(2027, 1, 31))
        q.forget()
        lathe = make_posting(jobs.employer, "普通车工", ["6-18-01-01"], wage_min=6000, wage_max=8000)
        far = make_posting(jobs.employer, "远处车工", ["6-18-01-01"], lat=LAT + 0.5)  # beyond 10 km
        make_seeker(world.street1, "周大爷", ["6-18-01-01"], source="kiosk")  # no account: no inbox
        other_user = f.UserFactory(username="seeker5")
        other = make_seeker(world.street1, "钱师傅", ["6-18-01-01"], user=other_user, wage_min=7000)
    with clock.frozen(EVENING1):
        text = push(django_capture_on_commit_callbacks)
        sent = Notification.objects.filter(kind=rules.JOB_MATCHES)
        # seeker2 hides from employers but is told of jobs; the kiosk's seeker has no inbox
        assert sorted(sent.values_list("user__username", flat=True)) == ["seeker1", "seeker2", "seeker5"]
        mine = sent.get(user=jobs.seeker_user)
        assert mine.ref == "matches:2026-12-01" and mine.url == reverse("jobs:nearby")
        titles = [p.title for p, _m in q.nearby(jobs.seeker, k=3)]
        assert mine.title_zh == f"附近有新岗位适合你:{'、'.join(titles)}" and far.title not in mine.title_zh
        assert mine.title_en == f"New jobs near you: {', '.join(titles)}"
        assert "重庆精工机床有限公司 · 月薪 6000–8000 元" in mine.body_zh and "王" not in mine.title_zh + mine.body_zh
        assert "3 with new matches" in text and "to 3 seekers" in text
        theirs = [p.title for p, _m in q.nearby(other, k=3)]
        assert sent.get(user=other_user).title_zh == f"附近有新岗位适合你:{'、'.join(theirs)}"
        # the same day again: nobody is told twice
        text = push(django_capture_on_commit_callbacks)
        assert sent.count() == 3 and "3 told already today" in text and "0 with new matches" in text
    with clock.frozen(DAY2):
        make_posting(jobs.employer, "夜班车工", ["6-18-01-01"])
    with clock.frozen(EVENING2):
        push(django_capture_on_commit_callbacks, "--since-hours", "48")  # a wider window repeats nothing
        second = sent.get(user=jobs.seeker_user, ref="matches:2026-12-02")
        assert second.title_zh == "附近有新岗位适合你:夜班车工"
        assert lathe.title not in second.body_zh and jobs.posting.title not in second.body_zh
        assert sent.count() == 6
    with clock.frozen(EVENING2 + timedelta(days=1)):
        text = push(django_capture_on_commit_callbacks, "--all")
    assert "0 with new matches" in text and sent.count() == 6  # every live posting was pushed to all three already
    assert Notification.objects.filter(user=jobs.hidden_user).count() == 2  # hidden from employers, not from jobs
