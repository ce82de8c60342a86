"""Applications and placements (issue 14 §4): every step allowed and refused, the twice-apply and the
expired posting, the slip's number, invitations of hidden seekers, the contact after release with an
access-log row per read, the placement a hire makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from linli.accounts.models import AccessLog
from linli.core import clock
from linli.core.errors import LinliError
from linli.jobs.models import Application, ApplicationStep, Placement, Posting, Seeker
from linli.jobs.services import applications as svc
from tests import factories as f
from tests.jobs.conftest import make_posting, make_seeker

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Chongqing


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with clock.frozen(NOW):
        yield


def refused(call: Any, status: int, code: str | None = None) -> LinliError:
    with pytest.raises(LinliError) as info:
        call()
    assert info.value.status == status, info.value
    if code:
        assert info.value.problems[0].code == code, info.value
    return info.value


def steps(app: Application) -> list[tuple[str, str, str, str]]:
    return list(ApplicationStep.objects.filter(application=app).values_list("kind", "from_status", "to_status", "side"))


def test_apply_makes_an_application_with_number_cv_and_released_contact(jobs: Any) -> None:
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, message="想试试")
    assert app.number == "JY20261201-0001"
    assert app.status == "applied" and app.channel == "online" and not app.invited
    assert app.contact_released_at == NOW and app.path == jobs.posting.path
    assert app.cv["name"] == "王师傅" and app.cv["skills"][0]["code"] == "6-18-01-01"
    assert app.cv["skills"][0]["name"]
    assert steps(app) == [("apply", "", "applied", "seeker")]
    other = make_posting(jobs.employer, "普通车工", ["6-18-01-01"])
    second = svc.apply(jobs.seeker_user, jobs.seeker, other, cv={"text": "十年车工\n会数控", "experience_years": 10})
    assert second.number == "JY20261201-0002"
    assert second.cv["text"] == "十年车工\n会数控" and second.cv["experience_years"] == 10
    with clock.frozen(NOW + timedelta(days=1)):
        third = svc.apply(jobs.seeker_user, jobs.seeker, make_posting(jobs.employer, "铣工", ["6-18-01-01"]))
    assert third.number == "JY20261202-0001"


def test_applying_twice_is_a_409_with_the_number_and_nothing_new(jobs: Any) -> None:
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    err = refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting), 409, "already_applied")
    assert app.number in err.problems[0].zh and app.number in err.problems[0].en
    assert Application.objects.count() == 1 and ApplicationStep.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"closes_on": NOW.date() - timedelta(days=1)},
        {"status": Posting.Status.CLOSED},
        {"status": Posting.Status.DRAFT},
        {"status": Posting.Status.FILLED},
    ],
)
def test_a_posting_that_is_not_live_takes_no_application(jobs: Any, change: dict[str, Any]) -> None:
    Posting.objects.filter(pk=jobs.posting.pk).update(**change)
    refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting), 409, "posting_not_live")
    assert not Application.objects.exists()


def test_a_pending_employers_posting_takes_no_application(jobs: Any) -> None:
    posting = make_posting(jobs.pending, "理货员", ["6-18-01-01"])
    refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, posting), 409, "posting_not_live")


def test_who_may_apply(jobs: Any, world: Any) -> None:
    # another person, the employer, a superuser who is not the seeker: refused, nothing written
    with pytest.raises(Http404):
        svc.apply(jobs.hidden_user, jobs.seeker, jobs.posting)
    with pytest.raises(Http404):
        svc.apply(jobs.employer_user, jobs.seeker, jobs.posting)
    with pytest.raises(PermissionDenied):
        svc.apply(world.admin, jobs.seeker, jobs.posting)
    with pytest.raises(PermissionDenied):  # staff who see the seeker, online: not theirs to send
        svc.apply(jobs.officer, jobs.seeker, jobs.posting)
    with pytest.raises(PermissionDenied):  # no account only at the kiosk
        svc.apply(None, jobs.seeker, jobs.posting)
    with pytest.raises(PermissionDenied):
        svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, channel="kiosk")
    with pytest.raises(Http404):  # the desk, by a community worker whose community is not the seeker's place
        svc.apply(world.outsider, jobs.seeker, jobs.posting, channel="desk")
    refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, channel="fax"), 400, "bad_channel")
    assert not Application.objects.exists()
    kiosk = svc.apply(
        None, jobs.seeker, jobs.posting, channel="kiosk", cv={"skills": ["6-18-01-01"], "experience_years": 3}
    )
    assert kiosk.channel == "kiosk" and steps(kiosk) == [("apply", "", "applied", "seeker")]
    assert ApplicationStep.objects.get(application=kiosk).actor_id is None
    desk = svc.apply(jobs.officer, jobs.hidden, jobs.posting, channel="desk")
    assert desk.channel == "desk" and steps(desk) == [("apply", "", "applied", "staff")]


def test_bad_cv_and_message_are_400s(jobs: Any) -> None:
    refused(
        lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, cv={"skills": ["9-99-99-99"]}),
        400,
        "unknown_skill",
    )
    refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, cv={"skills": "6-18-01-01"}), 400, "bad_cv")
    refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, cv={"experience_years": -1}), 400, "bad_cv")
    refused(
        lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, cv={"experience_years": "ten"}), 400, "bad_cv"
    )
    refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, cv={"text": "x" * 1001}), 400, "bad_cv")
    refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, message="x" * 501), 400, "message_too_long")
    assert not Application.objects.exists()


# --- invitations -----------------------------------------------------------------------------------


def test_invite_then_accept_releases_the_contact(jobs: Any) -> None:
    app = svc.invite(jobs.employer_user, jobs.posting, jobs.seeker, "欢迎来面试")
    assert app.status == "invited" and app.invited and app.contact_released_at is None and app.cv == {}
    assert svc.contact(jobs.employer_user, app) is None
    assert not AccessLog.objects.exists()
    refused(lambda: svc.invite(jobs.employer_user, jobs.posting, jobs.seeker), 409, "already_applied")
    app = svc.accept(jobs.seeker_user, app, message="好的")
    assert app.status == "applied" and app.contact_released_at == NOW and app.cv["skills"]
    refused(lambda: svc.accept(jobs.seeker_user, app), 409, "wrong_state")  # a double submit
    assert steps(app) == [("invite", "", "invited", "employer"), ("accept", "invited", "applied", "seeker")]


def test_applying_to_an_invitation_accepts_it(jobs: Any) -> None:
    invited = svc.invite(jobs.employer_user, jobs.posting, jobs.seeker)
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, message="来了")
    assert app.pk == invited.pk and app.status == "applied" and app.message == "来了"
    assert [s[0] for s in steps(app)] == ["invite", "accept"]
    kiosk_invited = svc.invite(jobs.employer_user, make_posting(jobs.employer, "钳工", ["6-18-01-01"]), jobs.seeker)
    via_kiosk = svc.apply(None, jobs.seeker, kiosk_invited.posting, channel="kiosk")
    assert via_kiosk.pk == kiosk_invited.pk and via_kiosk.channel == "kiosk" and via_kiosk.contact_released_at


def test_hidden_or_employed_seekers_cannot_be_invited_and_are_not_revealed(jobs: Any) -> None:
    err = refused(lambda: svc.invite(jobs.employer_user, jobs.posting, jobs.hidden), 404, "seeker_not_found")
    assert jobs.hidden.name not in err.problems[0].zh
    Seeker.objects.filter(pk=jobs.seeker.pk).update(status=Seeker.Status.EMPLOYED)
    refused(lambda: svc.invite(jobs.employer_user, jobs.posting, jobs.seeker), 404, "seeker_not_found")
    assert not Application.objects.exists()


def test_who_may_invite(jobs: Any, world: Any) -> None:
    with pytest.raises(PermissionDenied):  # staff see the posting but do not hire for it
        svc.invite(jobs.officer, jobs.posting, jobs.seeker)
    with pytest.raises(PermissionDenied):  # nor does a superuser who is not a member
        svc.invite(world.admin, jobs.posting, jobs.seeker)
    with pytest.raises(Http404):
        svc.invite(jobs.pending_user, jobs.posting, jobs.seeker)
    with pytest.raises(Http404):
        svc.invite(jobs.seeker_user, jobs.posting, jobs.seeker)
    Posting.objects.filter(pk=jobs.posting.pk).update(status=Posting.Status.CLOSED)
    refused(lambda: svc.invite(jobs.employer_user, jobs.posting, jobs.seeker), 409, "posting_not_live")
    assert not Application.objects.exists()


# --- the employer's steps ------------------------------------------------------------------------------


def test_interview_hire_and_the_placement(jobs: Any) -> None:
    Seeker.objects.filter(pk=jobs.seeker.pk).update(registered_unemployed=True, hard_to_employ=True)
    jobs.seeker.refresh_from_db()
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    at = NOW + timedelta(days=2)
    app = svc.interview(jobs.employer_user, app, at, "厂区北门")
    assert app.status == "interview" and app.interview_at == at
    err = refused(lambda: svc.interview(jobs.employer_user, app, at), 409, "already_arranged")  # a double submit
    assert app.number in err.problems[0].zh
    app = svc.interview(jobs.employer_user, app, at + timedelta(hours=3))  # moved to another time
    assert app.interview_at == at + timedelta(hours=3)
    refused(lambda: svc.interview(jobs.employer_user, app, NOW - timedelta(hours=1)), 400, "time_past")
    refused(lambda: svc.interview(jobs.employer_user, app, NOW + timedelta(days=200)), 400, "time_far")
    placement = svc.hire(jobs.employer_user, app, NOW.date() + timedelta(days=7))
    app.refresh_from_db()
    assert app.status == "hired"
    assert placement.application_id == app.pk and placement.seeker_id == jobs.seeker.pk
    assert placement.employer_id == jobs.employer.pk and placement.started_on == NOW.date() + timedelta(days=7)
    assert placement.registered_unemployed and placement.hard_to_employ and placement.source == "platform"
    assert placement.path == jobs.seeker.path and placement.created_by_id == jobs.employer_user.pk
    jobs.posting.refresh_from_db()
    jobs.seeker.refresh_from_db()
    assert jobs.posting.hired == 1 and jobs.seeker.status == "employed"
    refused(lambda: svc.hire(jobs.employer_user, app), 409, "wrong_state")  # a double submit
    assert Placement.objects.count() == 1
    assert [s[0] for s in steps(app)] == ["apply", "interview", "interview", "hire"]
    for call in (
        lambda: svc.interview(jobs.employer_user, app, at),
        lambda: svc.decline(jobs.employer_user, app),
        lambda: svc.withdraw(jobs.seeker_user, app),
        lambda: svc.accept(jobs.seeker_user, app),
    ):
        refused(call, 409, "wrong_state")


def test_hire_fills_the_posting_and_then_refuses(jobs: Any) -> None:
    posting = make_posting(jobs.employer, "高级技师", ["6-18-01-01"], headcount=1)
    app = svc.apply(jobs.seeker_user, jobs.seeker, posting)
    other = make_seeker(jobs.seeker.street, "李师傅", ["6-18-01-01"], user=f.UserFactory(username="seeker3"))
    app2 = svc.apply(other.user, other, posting)
    svc.hire(jobs.employer_user, app)  # straight from applied, today
    posting.refresh_from_db()
    assert posting.hired == 1 and posting.status == "filled"
    refused(lambda: svc.hire(jobs.employer_user, app2), 409, "posting_filled")
    app2.refresh_from_db()
    assert app2.status == "applied" and Placement.objects.count() == 1


def test_hire_dates(jobs: Any) -> None:
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    refused(lambda: svc.hire(jobs.employer_user, app, NOW.date() - timedelta(days=1)), 400, "start_before_application")
    refused(lambda: svc.hire(jobs.employer_user, app, NOW.date() + timedelta(days=400)), 400, "start_far")
    assert svc.hire(jobs.employer_user, app).started_on == NOW.date()


def test_who_takes_the_employers_steps(jobs: Any, world: Any) -> None:
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    at = NOW + timedelta(days=1)
    for user, exc in (
        (jobs.seeker_user, Http404),  # the seeker sees the application, not the posting's HIRE
        (jobs.officer, PermissionDenied),
        (world.admin, PermissionDenied),
        (jobs.pending_user, Http404),
    ):
        with pytest.raises(exc):
            svc.interview(user, app, at)
        with pytest.raises(exc):
            svc.hire(user, app)
    app.refresh_from_db()
    assert app.status == "applied" and not Placement.objects.exists()


def test_decline_by_either_side_or_staff(jobs: Any, world: Any) -> None:
    invited = svc.invite(jobs.employer_user, jobs.posting, jobs.seeker)
    app = svc.decline(jobs.seeker_user, invited, "已找到工作")
    assert app.status == "declined" and steps(app)[-1] == ("decline", "invited", "declined", "seeker")
    refused(lambda: svc.decline(jobs.seeker_user, app), 409, "wrong_state")  # a double submit
    p2 = make_posting(jobs.employer, "钳工", ["6-18-01-01"])
    app2 = svc.apply(jobs.seeker_user, jobs.seeker, p2)
    assert svc.decline(jobs.employer_user, app2, "名额已满").status == "declined"
    assert steps(app2)[-1][3] == "employer"
    p3 = make_posting(jobs.employer, "铣工", ["6-18-01-01"])
    app3 = svc.apply(jobs.seeker_user, jobs.seeker, p3)
    assert svc.decline(jobs.officer, app3, "岗位信息有误").status == "declined"
    assert steps(app3)[-1][3] == "staff"
    p4 = make_posting(jobs.employer, "磨工", ["6-18-01-01"])
    app4 = svc.apply(jobs.seeker_user, jobs.seeker, p4)
    with pytest.raises(Http404):
        svc.decline(jobs.hidden_user, app4)
    with pytest.raises(Http404):
        svc.decline(jobs.pending_user, app4)
    with pytest.raises(Http404):  # the community worker of community B: no JOBS over the street's posting
        svc.decline(world.outsider, app4)


def test_withdraw_is_the_seekers_own(jobs: Any, world: Any) -> None:
    invited = svc.invite(jobs.employer_user, jobs.posting, jobs.seeker)
    refused(lambda: svc.withdraw(jobs.seeker_user, invited), 409, "wrong_state")  # an invitation is declined
    app = svc.accept(jobs.seeker_user, invited)
    with pytest.raises(Http404):
        svc.withdraw(jobs.employer_user, app)
    with pytest.raises(PermissionDenied):
        svc.withdraw(world.admin, app)
    app = svc.withdraw(jobs.seeker_user, app, "不想去了")
    assert app.status == "withdrawn"
    refused(lambda: svc.withdraw(jobs.seeker_user, app), 409, "wrong_state")
    refused(lambda: svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting), 409, "already_applied")


# --- the contact ---------------------------------------------------------------------------------------


def test_contact_only_after_release_each_read_logged(jobs: Any, world: Any) -> None:
    invited = svc.invite(jobs.employer_user, jobs.posting, jobs.seeker)
    assert svc.contact(jobs.employer_user, invited) is None
    app = svc.accept(jobs.seeker_user, invited)
    for user in (jobs.seeker_user, jobs.officer, world.admin, jobs.pending_user, jobs.hidden_user):
        assert svc.contact(user, app) is None
    assert not AccessLog.objects.exists()
    assert svc.contact(jobs.employer_user, app) == {"phone": "13700137000", "name": "王师傅"}
    assert svc.contact(jobs.employer_user, app) == {"phone": "13700137000", "name": "王师傅"}
    logs = AccessLog.objects.filter(user=jobs.employer_user)
    assert logs.count() == 2
    log = logs.first()
    assert log is not None
    assert (log.what, log.object_type, log.object_id, log.path) == (
        "reveal_phone",
        "jobs.application",
        str(app.pk),
        jobs.seeker.path,
    )
    assert log.reason == svc.CONTACT_REASON
    svc.withdraw(jobs.seeker_user, app)
    app.refresh_from_db()
    assert svc.contact(jobs.employer_user, app) is None  # withdrawn: no longer
    assert AccessLog.objects.count() == 2


def test_build_cv_from_the_profile(jobs: Any) -> None:
    Seeker.objects.filter(pk=jobs.seeker.pk).update(experience="一行\n\n二行", experience_years=12, education="senior")
    jobs.seeker.refresh_from_db()
    cv = svc.build_cv(jobs.seeker)
    assert cv["text"] == "一行\n二行" and cv["experience_years"] == 12 and cv["education"] == "senior"
    assert cv["hours"] == 40 and cv["wage_min"] == 4000
    assert svc.build_cv(jobs.seeker, {"skills": []})["skills"] == []
