"""``load_demo_consent``: the consent story of issue 3 on a tiny demo district."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from linli.accounts.models import User
from linli.consult import rules
from linli.consult.models import Ballot, Channel, RollEntry, Visit, Vote
from linli.consult.queries import visits as q
from linli.consult.services import ballots as svc
from linli.demo import consult as demo_consult
from linli.renewal.models import Project

SMALL = 0.02


def test_story_plan_is_pure_and_climbs_from_23_to_100():
    plan = demo_consult.story_plan(60, random.Random(7))
    assert plan == demo_consult.story_plan(60, random.Random(7))
    series = demo_consult.support_by_day(plan, 60)
    assert 0.2 <= series[0][1] <= 0.25 and series[-1][1] == 1.0
    shares = [s for _d, s in series]
    assert shares == sorted(shares)  # support only grows
    per = {d: sum(1 for v in plan if v.dwelling == d) for d in range(60)}
    assert max(per.values()) > 100 and sum(1 for n in per.values() if n >= 12) >= 3
    first = [v for v in plan if v.day == demo_consult.FIRST_ROUND_DAY]
    assert {v.dwelling for v in first} == set(range(60))
    assert any("wants_demolition" in v.reasons for v in first)
    assert any("saw_sample_flat" in v.reasons for v in plan if v.day > demo_consult.SAMPLE_FLAT_DAY)


@pytest.fixture
def story(db, monkeypatch):
    monkeypatch.setenv("LINLI_DEMO_PASSWORD", "a-demo-password-for-tests")
    call_command("load_demo", scale=SMALL, verbosity=0, stdout=StringIO())
    out = StringIO()
    call_command("load_demo_consent", verbosity=0, stdout=out)
    return out.getvalue()


def test_needs_the_district_first(db):
    with pytest.raises(CommandError, match="load_demo"):
        call_command("load_demo_consent", verbosity=0, stdout=StringIO())


def test_story_loads_once_and_tells_the_story(story):
    assert "consent story loaded" in story and "100%" in story
    projects = Project.objects.count()
    visits = Visit.objects.count()
    out = StringIO()
    call_command("load_demo_consent", if_empty=True, verbosity=0, stdout=out)  # idempotent
    assert "exists" in out.getvalue()
    assert (Project.objects.count(), Visit.objects.count()) == (projects, visits)
    with pytest.raises(CommandError):
        call_command("load_demo_consent", verbosity=0, stdout=StringIO())

    project = Project.objects.get(kind=Project.Kind.RENOVATION)
    assert project.phase == "works" and project.items.count() == 10
    comm = demo_consult.community()
    assert comm is not None
    compound = demo_consult.story_compound(comm)
    assert compound is not None and project.compound_id == compound.pk
    pilot = demo_consult.story_building(compound)
    assert pilot is not None
    series = q.building_consensus(project, pilot).consensus.series
    assert series[0].support_pct <= 30 and series[-1].support_pct == 100

    ballot = Ballot.objects.get(project=project, status=Ballot.Status.CLOSED)
    assert ballot.matter == "7" and ballot.result is not None and ballot.result["approved"] is True
    roll = [
        {"id": d, "owner": k, "area": a}
        for d, k, a in RollEntry.objects.filter(ballot=ballot).values_list("dwelling_id", "owner_key", "area")
    ]
    votes = dict(Vote.objects.filter(ballot=ballot).values_list("owner_key", "choice"))
    decision = rules.decide(7, roll, votes)
    assert decision.approved and decision.quorum_met
    assert ballot.result["participating_area"]["fraction"] == (
        f"{decision.participating_area.numerator}/{decision.participating_area.denominator}"
    )
    assert ballot.result["approving_owners"]["fraction"] == (
        f"{decision.approving_owners.numerator}/{decision.approving_owners.denominator}"
    )
    channels = set(Vote.objects.filter(ballot=ballot).values_list("channel", flat=True))
    assert channels == {Channel.ONLINE, Channel.PAPER, Channel.PROXY}


def test_demo_resident_votes_in_the_open_lift_ballot(story):
    call_command("demo_logins", stdout=StringIO())
    resident = User.objects.get(username="demo-resident")
    lift = Ballot.objects.get(matter=Ballot.Matter.LIFT, status=Ballot.Status.OPEN)
    assert lift.project is not None and lift.project.kind == Project.Kind.LIFT
    account = resident.owner_accounts.get(revoked_at__isnull=True)  # verified in person (issue 8)
    assert account.method == "in_person" and account.verified_by.username == "demo-community"
    vote = svc.cast_vote(resident, lift, choice="yes", channel=Channel.ONLINE)
    assert vote.choice == "yes" and vote.channel == Channel.ONLINE
    assert svc.tally(lift)["lift"]["all_consented"] is True


def test_as_of_tells_the_story_up_to_that_day(db, monkeypatch):
    """``--as-of 2028-02-29``: the two years of the story end at noon of that day (29 February of a
    leap year), the lift ballot is open then, and the process's clock is given back afterwards."""
    from datetime import UTC, date, datetime, timedelta

    from django.utils import timezone

    from linli.core import clock

    monkeypatch.setenv("LINLI_DEMO_PASSWORD", "a-demo-password-for-tests")
    call_command("load_demo", scale=SMALL, verbosity=0, stdout=StringIO())
    before = clock.today()
    call_command("load_demo_consent", "--as-of=2028-02-29", verbosity=0, stdout=StringIO())
    assert clock.today() == before
    noon = datetime(2028, 2, 29, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    project = Project.objects.get(kind=Project.Kind.RENOVATION)
    assert timezone.localdate(project.created_at) == date(2028, 2, 29) - timedelta(days=demo_consult.START_DAYS_AGO)
    assert Visit.objects.order_by("-visited_at").first().visited_at <= noon
    lift = Ballot.objects.get(matter=Ballot.Matter.LIFT, status=Ballot.Status.OPEN)
    assert lift.opens_at <= noon < lift.closes_at


def test_as_of_that_is_not_a_date_is_refused(db):
    with pytest.raises(CommandError) as info:
        call_command("load_demo_consent", "--as-of=2027-02-29", verbosity=0, stdout=StringIO())
    assert "YYYY-MM-DD" in str(info.value) and "日期" in str(info.value)
    assert not Project.objects.exists()
