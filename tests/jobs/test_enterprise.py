"""Key-enterprise services (issue 14 §6): working-day deadlines, filing (key enterprises only, the
daily number, race-safe), every step allowed and refused (409 in the wrong state, nothing changed),
the rating once and only when closed, overdue with a frozen clock, the queue's order and figures,
marking key enterprises and their officers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from linli.accounts.services import grant_role
from linli.core import clock
from linli.core.errors import LinliError
from linli.jobs.models import Employer, ServiceRequest, ServiceStep
from linli.jobs.queries import enterprise as q
from linli.jobs.services import enterprise as svc
from tests import factories as f
from tests.jobs.conftest import make_employer

pytestmark = pytest.mark.dates

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 4 Dec 2026, 10:00 in Chongqing
Status = ServiceRequest.Status


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


@pytest.fixture
def key(world: Any, jobs: SimpleNamespace) -> SimpleNamespace:
    """The fixture's verified employer made a key enterprise served by the street's officer; an
    employment officer of street 2; a non-key verified employer with its member."""
    jobs.employer.key_enterprise = True
    jobs.employer.officer = jobs.officer
    jobs.employer.save(update_fields=["key_enterprise", "officer"])
    other_officer = f.UserFactory(username="officer_s2")
    grant_role(world.admin, other_officer, "employment_officer", world.street2)
    plain_user = f.UserFactory(username="plain_member")
    plain = make_employer(world.street1, "普通商贸有限公司", "91500107MA5U4XKX3C", user=plain_user)
    second_officer = f.UserFactory(username="officer_s1b")
    grant_role(world.admin, second_officer, "employment_officer", world.street1)
    return SimpleNamespace(
        **vars(jobs), other_officer=other_officer, plain=plain, plain_user=plain_user, second_officer=second_officer
    )


def file_one(k: SimpleNamespace, kind: str = "social_security", title: str = "新员工参保") -> ServiceRequest:
    return svc.file(k.employer_user, k.employer, kind=kind, title=title, detail="本月新招 12 人,需办理参保登记。")


def kinds(req: ServiceRequest) -> list[str]:
    return list(ServiceStep.objects.filter(request=req).order_by("at", "pk").values_list("kind", flat=True))


# --- deadlines ------------------------------------------------------------------------------------------------


def test_working_days_skip_weekends_and_holidays() -> None:
    friday = date(2026, 12, 4)
    assert svc.add_working_days(friday, 3) == date(2026, 12, 9)  # Mon, Tue, Wed
    assert svc.add_working_days(friday, 0) == friday
    assert svc.add_working_days(date(2026, 12, 7), 5) == date(2026, 12, 14)
    # National Day 2026: 1–7 Oct off, Sat 10 Oct worked (State Council notice)
    assert svc.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert svc.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert svc.is_working_day(date(2026, 10, 10)) and not svc.is_working_day(date(2026, 10, 5))
    assert svc.is_working_day(date(2026, 9, 20))  # a Sunday worked
    # a year without a listed notice counts Monday to Friday
    assert svc.add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 4)


def test_due_at_is_the_end_of_the_nth_working_day_by_kind() -> None:
    due = timezone.localtime(svc.due_at_for("social_security", NOW))
    assert (due.date(), due.hour, due.minute) == (date(2026, 12, 9), 23, 59)
    assert timezone.localtime(svc.due_at_for("recruitment", NOW)).date() == date(2026, 12, 11)
    assert timezone.localtime(svc.due_at_for("subsidy", NOW)).date() == date(2026, 12, 18)
    assert timezone.localtime(svc.due_at_for("training", NOW)).date() == date(2026, 12, 18)
    # filed late on a Friday evening (local): still counted from that Friday
    evening = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # 23:30 local
    assert timezone.localtime(svc.due_at_for("social_security", evening)).date() == date(2026, 12, 9)
    assert set(svc.DEADLINE_DAYS) == set(ServiceRequest.Kind.values)


# --- filing ----------------------------------------------------------------------------------------------------


def test_a_key_enterprise_files_with_a_daily_number_its_officer_and_deadline(key: SimpleNamespace) -> None:
    req = file_one(key)
    assert req.number == "FW20261204-0001"
    assert req.status == Status.FILED and req.officer_id == key.officer.pk and req.path == key.employer.path
    assert req.filed_by_id == key.employer_user.pk and req.filed_at == NOW
    assert timezone.localtime(req.due_at).date() == date(2026, 12, 9)
    assert kinds(req) == ["file"]
    assert file_one(key, "recruitment", "招聘数控车工").number == "FW20261204-0002"
    with clock.frozen(NOW + timedelta(days=1)):
        assert file_one(key).number == "FW20261205-0001"


def test_the_number_is_race_safe(key: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A concurrent filing took the number between reading the day's last one and inserting: the
    unique number refuses the second insert, which retries with the next."""
    first = file_one(key)
    real = svc._next_number
    calls: list[str] = []

    def stale(day: date) -> str:
        calls.append("x")
        return first.number if len(calls) == 1 else real(day)

    monkeypatch.setattr(svc, "_next_number", stale)
    second = file_one(key)
    assert second.number == "FW20261204-0002" and len(calls) == 2
    assert ServiceRequest.objects.count() == 2 and ServiceStep.objects.count() == 2


def test_only_members_of_verified_key_enterprises_file(key: SimpleNamespace, world: Any) -> None:
    call = dict(kind="recruitment", title="招聘", detail="需要 5 名焊工")
    refused(lambda: svc.file(key.plain_user, key.plain, **call), 403, "not_key_enterprise")
    key.pending.key_enterprise = True
    key.pending.save(update_fields=["key_enterprise"])
    refused(lambda: svc.file(key.pending_user, key.pending, **call), 403, "not_verified")
    with pytest.raises(PermissionDenied):  # staff see the employer, but do not act for it
        svc.file(key.officer, key.employer, **call)
    with pytest.raises(Http404):  # a member of another employer: outside every scope
        svc.file(key.plain_user, key.employer, **call)
    refused(lambda: svc.file(world.admin, key.employer, **call), 403, "not_member")  # superuser: not a member
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"kind": "holiday", "title": "x", "detail": "y"}, "bad_kind"),
        ({"kind": "training", "title": "  ", "detail": "y"}, "title_required"),
        ({"kind": "training", "title": "x" * 121, "detail": "y"}, "too_long"),
        ({"kind": "training", "title": "x", "detail": ""}, "detail_required"),
        ({"kind": "training", "title": "x", "detail": "y" * 4001}, "too_long"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_filed(key: SimpleNamespace, fields: dict[str, str], code: str) -> None:
    refused(lambda: svc.file(key.employer_user, key.employer, **fields), 400, code)
    assert not ServiceRequest.objects.exists() and not ServiceStep.objects.exists()


# --- the steps ----------------------------------------------------------------------------------------------------


def test_the_whole_way_accept_progress_close_rate(key: SimpleNamespace) -> None:
    req = file_one(key)
    req = svc.accept(key.second_officer, req, "已受理,明天联系")
    assert req.status == Status.ACCEPTED and req.accepted_at == NOW
    assert req.officer_id == key.officer.pk  # the enterprise's officer stays
    req = svc.progress(key.officer, req, "已核对名单")
    assert req.status == Status.WORKING
    req = svc.progress(key.officer, req, "已提交社保系统")
    req = svc.close(key.officer, req, "12 人参保登记完成")
    assert req.status == Status.CLOSED and req.closed_at == NOW and req.result == "12 人参保登记完成"
    assert svc.closed_on_time(req) is True
    req = svc.rate(key.employer_user, req, "5", "很及时")
    assert (req.satisfaction, req.satisfaction_note) == (5, "很及时")
    assert kinds(req) == ["file", "accept", "progress", "progress", "close", "rate"]
    actors = list(ServiceStep.objects.filter(request=req).order_by("pk").values_list("actor_id", flat=True))
    assert actors == [key.employer_user.pk, key.second_officer.pk, *[key.officer.pk] * 3, key.employer_user.pk]


def test_accepting_sets_the_officer_when_there_is_none(key: SimpleNamespace) -> None:
    Employer.objects.filter(pk=key.employer.pk).update(officer=None)
    key.employer.refresh_from_db()
    req = file_one(key)
    assert req.officer_id is None
    assert svc.accept(key.second_officer, req).officer_id == key.second_officer.pk


def test_close_straight_after_accept_and_reject_with_a_reason(key: SimpleNamespace) -> None:
    a = svc.accept(key.officer, file_one(key))
    assert svc.close(key.officer, a, "办结").status == Status.CLOSED
    b = file_one(key)
    refused(lambda: svc.reject(key.officer, b, "  "), 400, "reason_required")
    b = svc.reject(key.officer, b, "不属于本街道职责,请向区人社局申请")
    assert b.status == Status.REJECTED and b.closed_at == NOW
    assert kinds(b) == ["file", "reject"]


def _state(req: ServiceRequest) -> tuple[Any, ...]:
    req = ServiceRequest.objects.get(pk=req.pk)
    return (req.status, req.officer_id, req.accepted_at, req.closed_at, req.result, req.satisfaction, len(kinds(req)))


def test_every_step_in_the_wrong_state_is_a_409_and_changes_nothing(key: SimpleNamespace) -> None:
    o = key.officer
    filed = file_one(key)
    before = _state(filed)
    refused(lambda: svc.progress(o, filed, "x"), 409, "wrong_state")
    refused(lambda: svc.close(o, filed, "x"), 409, "wrong_state")
    refused(lambda: svc.rate(key.employer_user, filed, 5), 409, "wrong_state")
    assert _state(filed) == before

    accepted = svc.accept(o, file_one(key))
    before = _state(accepted)
    refused(lambda: svc.accept(o, accepted), 409, "wrong_state")  # a double submit
    refused(lambda: svc.reject(o, accepted, "晚了"), 409, "wrong_state")
    assert _state(accepted) == before

    closed = svc.close(o, svc.accept(o, file_one(key)), "办结")
    before = _state(closed)
    for call in (
        lambda: svc.accept(o, closed),
        lambda: svc.reject(o, closed, "x"),
        lambda: svc.progress(o, closed, "x"),
        lambda: svc.close(o, closed, "again"),
        lambda: svc.reassign(o, closed, key.second_officer),
    ):
        refused(call, 409, "wrong_state")
    assert _state(closed) == before

    rejected = svc.reject(o, file_one(key), "不受理")
    before = _state(rejected)
    for call in (
        lambda: svc.accept(o, rejected),
        lambda: svc.progress(o, rejected, "x"),
        lambda: svc.close(o, rejected, "x"),
        lambda: svc.rate(key.employer_user, rejected, 4),
    ):
        refused(call, 409, "wrong_state")
    assert _state(rejected) == before


def test_notes_are_required_and_bounded(key: SimpleNamespace) -> None:
    req = svc.accept(key.officer, file_one(key))
    refused(lambda: svc.progress(key.officer, req, ""), 400, "note_required")
    refused(lambda: svc.progress(key.officer, req, "x" * 2001), 400, "too_long")
    refused(lambda: svc.close(key.officer, req, " "), 400, "result_required")
    refused(lambda: svc.accept(key.officer, file_one(key), "x" * 2001), 400, "too_long")
    assert ServiceRequest.objects.get(pk=req.pk).status == Status.ACCEPTED


def test_who_may_take_the_staff_steps(key: SimpleNamespace, world: Any) -> None:
    req = file_one(key)
    with pytest.raises(PermissionDenied):  # the enterprise sees its request, does not work it
        svc.accept(key.employer_user, req)
    with pytest.raises(Http404):  # another street's officer: outside the scope
        svc.accept(key.other_officer, req)
    with pytest.raises(Http404):
        svc.progress(world.outsider, req, "x")
    with pytest.raises(PermissionDenied):  # department staff at the street only look
        svc.close(world.users["department_staff"], req, "x")
    # the street command centre and the district hold ``jobs`` too
    assert svc.accept(world.users["street_command"], req).status == Status.ACCEPTED
    assert svc.progress(world.users["district_admin"], req, "区里已协调").status == Status.WORKING


def test_reassign_to_another_officer_of_the_place(key: SimpleNamespace, world: Any) -> None:
    req = file_one(key)
    refused(lambda: svc.reassign(key.officer, req, key.other_officer), 400, "bad_officer")  # street 2
    refused(lambda: svc.reassign(key.officer, req, key.employer_user), 400, "bad_officer")
    refused(lambda: svc.reassign(key.officer, req, None), 400, "bad_officer")
    refused(lambda: svc.reassign(key.officer, req, key.officer), 409, "same_officer")
    req = svc.reassign(key.officer, req, key.second_officer)
    assert req.officer_id == key.second_officer.pk and req.status == Status.FILED
    step = ServiceStep.objects.get(request=req, kind="reassign")
    assert step.actor_id == key.officer.pk and step.note == str(key.second_officer)
    with pytest.raises(PermissionDenied):
        svc.reassign(key.employer_user, req, key.officer)


# --- rating --------------------------------------------------------------------------------------------------


def test_rating_only_when_closed_once_by_the_enterprise(key: SimpleNamespace, world: Any) -> None:
    req = svc.accept(key.officer, file_one(key))
    refused(lambda: svc.rate(key.employer_user, req, 4), 409, "wrong_state")
    req = svc.close(key.officer, req, "已办结")
    for bad in (0, 6, "x", None, "4.5"):
        refused(lambda bad=bad: svc.rate(key.employer_user, req, bad), 400, "bad_rating")
    refused(lambda: svc.rate(key.employer_user, req, 3, "x" * 501), 400, "too_long")
    with pytest.raises(PermissionDenied):  # the officer cannot rate their own work
        svc.rate(key.officer, req, 5)
    refused(lambda: svc.rate(world.admin, req, 5), 403, "not_member")
    assert svc.rate(key.employer_user, req, 2, "太慢").satisfaction == 2
    refused(lambda: svc.rate(key.employer_user, req, 5), 409, "rated_already")
    row = ServiceRequest.objects.get(pk=req.pk)
    assert (row.satisfaction, row.satisfaction_note) == (2, "太慢")
    assert kinds(row).count("rate") == 1


# --- overdue, the queue, the figures ---------------------------------------------------------------------------


def test_overdue_with_a_frozen_clock_and_the_queue_order(key: SimpleNamespace) -> None:
    soc = file_one(key, "social_security")  # due Wed 9 Dec 23:59:59
    rec = svc.accept(key.officer, file_one(key, "recruitment"))  # due Fri 11 Dec
    sub = svc.accept(key.officer, file_one(key, "subsidy"))  # due Fri 18 Dec
    with clock.frozen(datetime(2026, 12, 9, 15, 59, tzinfo=UTC)):  # 23:59 local on the due day
        assert not svc.is_overdue(ServiceRequest.objects.get(pk=soc.pk))
    with clock.frozen(datetime(2026, 12, 9, 16, 0, tzinfo=UTC)):  # midnight: overdue
        assert svc.is_overdue(ServiceRequest.objects.get(pk=soc.pk))
    with clock.frozen(datetime(2026, 12, 14, 2, 0, tzinfo=UTC)):  # Mon 14 Dec: soc and rec overdue
        late_new = file_one(key, "training")  # filed now, due 28 Dec
        now = clock.now()
        order = list(q.in_queue_order(q.queue_of(key.officer), now).values_list("pk", flat=True))
        # filed first (oldest deadline first), then overdue, then by deadline
        assert order == [soc.pk, late_new.pk, rec.pk, sub.pk]
        page = q.queue(key.officer, {"overdue": "1"})
        assert [r.pk for r in page.page] == [soc.pk, rec.pk]
        figs = page.figures.all
        assert (figs.open, figs.overdue, figs.closed) == (4, 2, 0)
        closed = svc.close(key.officer, rec, "招到 5 人")  # after its deadline
        assert svc.closed_on_time(closed) is False
        svc.rate(key.employer_user, closed, 4)
        on_time = svc.close(key.officer, sub, "补贴已发放")
        svc.rate(key.employer_user, on_time, 5)
        svc.reject(key.second_officer, late_new, "重复提交")
        figs = q.figures(q.queue_of(key.officer), clock.now())
        assert (figs.all.open, figs.all.overdue, figs.all.closed, figs.all.rejected) == (1, 1, 2, 1)
        assert figs.all.on_time_pct == 50.0 and figs.all.mean_satisfaction == 4.5
        by_kind = {r.key: r for r in figs.by_kind}
        assert by_kind["recruitment"].on_time_pct == 0.0 and by_kind["subsidy"].on_time_pct == 100.0
        assert by_kind["social_security"].overdue == 1 and by_kind["training"].rejected == 1
        by_officer = {r.key: r for r in figs.by_officer}
        assert by_officer[str(key.officer.pk)].closed == 2 and by_officer[str(key.officer.pk)].label == str(key.officer)
        assert by_officer[str(key.officer.pk)].open == 1  # soc, the enterprise's officer's
        # finished requests come after the open ones, latest first
        order = list(
            q.in_queue_order(q.filtered(q.queue_of(key.officer), q.Filters(status="all"), key.officer, now), now)
        )
        assert order[0].pk == soc.pk and {r.status for r in order[1:]} == {"closed", "rejected"}


def test_the_queue_is_scoped_and_filtered(key: SimpleNamespace, world: Any) -> None:
    a = file_one(key, "recruitment")
    b = svc.accept(key.officer, file_one(key, "training"))
    c = svc.reassign(key.officer, file_one(key, "subsidy"), key.second_officer)
    assert set(q.queue_of(key.officer).values_list("pk", flat=True)) == {a.pk, b.pk, c.pk}
    with pytest.raises(PermissionDenied):
        q.queue_of(key.employer_user)
    assert not q.queue_of(key.other_officer).exists()  # street 2 serves none of them
    assert not q.queue_of(world.outsider).exists()  # community B's worker: the employer is at the street
    assert [r.pk for r in q.queue(key.officer, {"kind": "training"}).page] == [b.pk]
    assert {r.pk for r in q.queue(key.officer, {"officer": "me"}).page} == {a.pk, b.pk}
    assert [r.pk for r in q.queue(key.officer, {"officer": str(key.second_officer.pk)}).page] == [c.pk]
    assert [r.pk for r in q.queue(key.officer, {"status": "accepted"}).page] == [b.pk]
    assert {r.pk for r in q.queue(key.officer, {"kind": "bogus", "status": "??", "officer": "x"}).page} == {
        a.pk,
        b.pk,
        c.pk,
    }
    assert set(q.own_requests(key.employer_user).values_list("pk", flat=True)) == {a.pk, b.pk, c.pk}
    assert not q.own_requests(key.plain_user).exists()


# --- key enterprises and their officers ----------------------------------------------------------------------------


def test_marking_a_key_enterprise_and_its_officer(key: SimpleNamespace, world: Any) -> None:
    plain = key.plain
    refused(lambda: svc.set_enterprise(key.officer, plain, key=True, officer=key.other_officer), 400, "bad_officer")
    refused(lambda: svc.set_enterprise(key.officer, key.pending, key=True, officer=None), 409, "not_verified")
    with pytest.raises(Http404):
        svc.set_enterprise(key.other_officer, plain, key=True, officer=None)
    with pytest.raises(PermissionDenied):
        svc.set_enterprise(key.plain_user, plain, key=True, officer=None)
    row = svc.set_enterprise(key.officer, plain, key=True, officer=key.second_officer)
    assert row.key_enterprise and row.officer_id == key.second_officer.pk
    req = svc.file(key.plain_user, row, kind="training", title="技能培训", detail="20 名员工")
    assert req.officer_id == key.second_officer.pk
    row = svc.set_enterprise(key.officer, row, key=True, officer=None)
    req2 = svc.file(key.plain_user, row, kind="training", title="再培训", detail="10 名员工")
    assert req2.officer_id is None
    row = svc.set_enterprise(key.officer, row, key=True, officer=key.officer)
    assert ServiceRequest.objects.get(pk=req2.pk).officer_id == key.officer.pk  # the open one without an officer
    assert ServiceRequest.objects.get(pk=req.pk).officer_id == key.second_officer.pk  # kept
    row = svc.set_enterprise(key.officer, row, key=False, officer=key.officer)
    assert not row.key_enterprise and row.officer_id is None
    refused(lambda: svc.file(key.plain_user, row, kind="training", title="x", detail="y"), 403, "not_key_enterprise")


def test_serving_users_are_the_staff_with_jobs_above_the_place(key: SimpleNamespace, world: Any) -> None:
    ids = {pk for pk, _label in q.serving_users(key.employer.path)}
    assert {key.officer.pk, key.second_officer.pk, world.users["street_command"].pk} <= ids
    assert world.users["district_admin"].pk in ids
    assert key.other_officer.pk not in ids and world.users["department_staff"].pk not in ids
    assert world.users["community_worker"].pk not in ids  # held at a community, below the street
    assert q.officer_for(key.employer.path, key.other_officer.pk) is None
    assert q.officer_for(key.employer.path, "abc") is None
    assert q.officer_for(key.employer.path, str(key.second_officer.pk)) == key.second_officer


# --- who is told ----------------------------------------------------------------------------------------------


def test_the_officer_and_the_enterprise_are_told(key: SimpleNamespace, django_capture_on_commit_callbacks: Any) -> None:
    from linli.notify.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        req = file_one(key)
    told = Notification.objects.filter(ref=f"service:{req.pk}")
    assert list(told.values_list("user_id", "kind")) == [(key.officer.pk, "service_request")]
    with django_capture_on_commit_callbacks(execute=True):
        svc.accept(key.officer, req)
        svc.progress(key.officer, req, "已联系")
    assert told.filter(user=key.employer_user, kind="service_request").count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        svc.reassign(key.officer, req, key.second_officer)
    assert told.filter(user=key.second_officer, kind="service_request").count() == 1
    # without an officer: the street's employment service (not the district's, not street 2's)
    Employer.objects.filter(pk=key.employer.pk).update(officer=None)
    key.employer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        other = file_one(key)
    street = set(Notification.objects.filter(ref=f"service:{other.pk}").values_list("user_id", flat=True))
    assert {key.officer.pk, key.second_officer.pk} <= street
    assert key.other_officer.pk not in street


def test_overdue_reminders_go_once(
    key: SimpleNamespace, django_capture_on_commit_callbacks: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import call_command

    from linli.notify.models import Notification

    late = file_one(key)  # due Wed 9 Dec
    svc.close(key.officer, svc.accept(key.officer, file_one(key)), "done")  # closed: never reminded
    file_one(key, "subsidy")  # due 18 Dec: not yet
    with clock.frozen(datetime(2026, 12, 10, 1, 0, tzinfo=UTC)):
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                call_command("jobs_services_overdue")
    assert "1 overdue request(s)" in capsys.readouterr().out
    reminded = Notification.objects.filter(kind="overdue")
    assert list(reminded.values_list("user_id", "ref")) == [(key.officer.pk, f"service:{late.pk}:overdue")]
