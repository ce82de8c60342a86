"""The hooks fire from the real service calls (after the commit): governance (dispatched, returned for
rework, overdue in the escalation sweep, the reporter's status) and consult (ballot opened, closing in
3 days once, result; a notice published to the people of the buildings it covers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linli.consult.services import ballots as consult_ballots
from linli.consult.services import notices as consult_notices
from linli.core import clock
from linli.governance.services import events as governance_events
from linli.notify.models import Notification
from tests import factories as f
from tests.consult.test_ballots_helpers import make_ballot, own_building, past_closing
from tests.governance.conftest import POS, make_gov

pytestmark = pytest.mark.django_db


def told(kind: str, ref: str = "") -> set[str]:
    qs = Notification.objects.filter(kind=kind)
    if ref:
        qs = qs.filter(ref=ref)
    return set(qs.values_list("user__username", flat=True))


@pytest.fixture
def gov(world: Any) -> Any:
    return make_gov(world)


def test_the_loop_tells_the_department_the_reporter_and_the_reworker(
    world: Any, gov: Any, django_capture_on_commit_callbacks: Any
) -> None:
    command, worker = world.users["street_command"], world.users["grid_fulltime"]
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = governance_events.report(
            world.users["resident"], governance_events.Report("C0102", *POS["a"]), channel="resident"
        )
    assert Notification.objects.count() == 0  # reporting tells nobody yet
    ref = f"event:{event.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        event = governance_events.act(command, event, "register")
    assert told("report_status", ref) == {"resident"}
    with django_capture_on_commit_callbacks(execute=True):
        event = governance_events.act(command, event, "dispatch")
    assert told("dispatched", ref) == {"cg_staff", "cg_staff2"}
    n = Notification.objects.get(kind="dispatched", user=gov.cg_staff)
    assert n.url == f"/governance/events/{event.pk}/" or n.url.endswith(f"/{event.pk}/")
    assert "派给你部门" in n.title_zh and "dispatched to you" in n.title_en
    with django_capture_on_commit_callbacks(execute=True):
        event = governance_events.act(gov.cg_staff, event, "accept")
        event = governance_events.act(gov.cg_staff, event, "report", note="已修复")
        event = governance_events.act(worker, event, "verify_fail", note="灯还是不亮")
    # rework: the department's staff and the handler, not the grid worker who failed the check
    assert told("returned", ref) == {"cg_staff", "cg_staff2"}
    statuses = Notification.objects.filter(kind="report_status", user=world.users["resident"]).count()
    assert statuses == 5  # registered, dispatched, accepted, reported, back to handling
    assert told("report_status", ref) == {"resident"}


def test_nothing_is_sent_when_the_move_is_refused(
    world: Any, gov: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from linli.core.errors import LinliError

    event, _ = governance_events.report(
        world.users["resident"], governance_events.Report("C0102", *POS["a"]), channel="resident"
    )
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(LinliError):
        governance_events.act(world.users["street_command"], event, "dispatch")  # not registered yet: 409
    assert Notification.objects.count() == 0


def test_the_escalation_sweep_tells_the_command_centre_once(
    world: Any, gov: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event, _ = governance_events.report(
        world.users["street_command"], governance_events.Report("E0201", *POS["a"]), channel="hotline"
    )
    assert event.step_due_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert governance_events.escalate_overdue(event.step_due_at + timedelta(minutes=5)) == 1
        assert governance_events.escalate_overdue(event.step_due_at + timedelta(minutes=6)) == 0
    assert told("overdue", f"event:{event.pk}") == {"street_command"}
    assert Notification.objects.filter(kind="overdue").count() == 1


def test_a_ballot_tells_its_roll_when_it_opens_closes_soon_and_is_counted(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    own_building(world)
    cw = world.users["community_worker"]
    owner = world.users["resident"]  # a grant at dwelling_a, and the verified account of its owner
    f.owner_account(owner, world.owner_a, by=cw)
    stranger = f.UserFactory(username="stranger")
    ballot = make_ballot(world)
    with django_capture_on_commit_callbacks(execute=True):
        ballot = consult_ballots.open_ballot(cw, ballot)
    ref = f"ballot:{ballot.pk}"
    assert told("ballot_opened", ref) == {"resident"}
    assert stranger.notifications.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert consult_ballots.remind_closing(clock.now()) == []  # 7 days left
    assert ballot.closes_at is not None
    clock.travel(ballot.closes_at - timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert consult_ballots.remind_closing(clock.now()) == [ballot.pk]
        assert consult_ballots.remind_closing(clock.now()) == [ballot.pk]  # not yet sent: fan-out dedupes
    with django_capture_on_commit_callbacks(execute=True):
        assert consult_ballots.remind_closing(clock.now()) == []  # told: skipped
    assert told("ballot_closing", ref) == {"resident"}
    assert Notification.objects.filter(kind="ballot_closing").count() == 1
    past_closing(ballot)
    with django_capture_on_commit_callbacks(execute=True):
        consult_ballots.close_ballot(cw, ballot)
    assert told("ballot_result", ref) == {"resident"}


def test_a_notice_tells_the_people_of_its_buildings(
    world: Any, project: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notice = consult_notices.publish_notice(
            world.users["community_worker"], project, kind="plan", title="改造方案公示", body="一、外墙整治。"
        )
    assert told("notice_published", f"notice:{notice.pk}") == {"resident"}
    n = Notification.objects.get(kind="notice_published")
    assert n.title_zh == "公示:改造方案公示" and n.url.endswith(f"/notices/{notice.pk}/public/")
