"""Applications under real concurrency, on PostgreSQL: the same seeker applying twice at once (one
application, the other a 409), many applying at once (the day's numbers stay unique and gapless),
two hires racing for a posting's last place (one placement, the other a 409), and a double-submitted
hire (one placement).

Threads with their own connections; run with
``DATABASE_URL=postgres://… pytest tests/jobs/test_applications_race.py``."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from linli.core.errors import LinliError
from linli.jobs.models import Application, ApplicationStep, Placement
from linli.jobs.services import applications as svc
from tests import factories as f
from tests.governance.test_events_concurrency import run_at_once
from tests.jobs.conftest import make_posting, make_seeker

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (row locks and unique constraints under real concurrency); set DATABASE_URL=postgres://…",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_one_seeker_applying_twice_at_once_makes_one_application(jobs: Any) -> None:
    for round_ in range(4):  # a few times over, so the race is really run
        posting = make_posting(jobs.employer, f"车工 {round_}", ["6-18-01-01"])
        results, errors = run_at_once(
            [lambda p=posting: svc.apply(jobs.seeker_user, jobs.seeker, p, message="x") for _ in range(2)]
        )
        assert len(results) == 1 and len(errors) == 1, errors
        assert isinstance(errors[0], LinliError) and errors[0].status == 409, errors[0]
        assert errors[0].problems[0].code == "already_applied"
        assert Application.objects.filter(posting=posting).count() == 1
        assert ApplicationStep.objects.filter(application__posting=posting).count() == 1


def test_many_applying_at_once_get_unique_gapless_numbers(jobs: Any) -> None:
    seekers = [
        make_seeker(jobs.seeker.street, f"求职者{i}", ["6-18-01-01"], user=f.UserFactory(username=f"race{i}"))
        for i in range(8)
    ]
    postings = [make_posting(jobs.employer, f"岗位{i}", ["6-18-01-01"]) for i in range(2)]
    calls = [lambda s=s, p=p: svc.apply(s.user, s, p) for s in seekers for p in postings]
    results, errors = run_at_once(calls)
    assert not errors, errors
    numbers = sorted(a.number for a in results)
    assert len(set(numbers)) == 16
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, 17))


def test_two_hires_for_the_last_place(jobs: Any) -> None:
    posting = make_posting(jobs.employer, "高级技师", ["6-18-01-01"], headcount=1)
    other = make_seeker(jobs.seeker.street, "李师傅", ["6-18-01-01"], user=f.UserFactory(username="seeker3"))
    a1 = svc.apply(jobs.seeker_user, jobs.seeker, posting)
    a2 = svc.apply(other.user, other, posting)
    results, errors = run_at_once([lambda: svc.hire(jobs.employer_user, a1), lambda: svc.hire(jobs.employer_user, a2)])
    assert len(results) == 1 and len(errors) == 1, errors
    assert isinstance(errors[0], LinliError) and errors[0].problems[0].code == "posting_filled", errors[0]
    posting.refresh_from_db()
    assert posting.hired == 1 and posting.status == "filled" and Placement.objects.count() == 1


def test_a_double_submitted_hire_makes_one_placement(jobs: Any) -> None:
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    results, errors = run_at_once([lambda: svc.hire(jobs.employer_user, app) for _ in range(3)])
    assert len(results) == 1 and len(errors) == 2, errors
    assert all(isinstance(e, LinliError) and e.problems[0].code == "wrong_state" for e in errors), errors
    jobs.posting.refresh_from_db()
    assert Placement.objects.count() == 1 and jobs.posting.hired == 1
    assert ApplicationStep.objects.filter(application=app, kind="hire").count() == 1
