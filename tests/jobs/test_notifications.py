"""Who is told what in 就近帮 (issue 14; docs/notifications.md "Kinds and who is told"): each step of
an application tells the other side once (never the one who took it), employers hear of their verification and the
employment service of new registrations, key enterprises and their officers of each step of a service
request; a seeker without an account is told nothing (no inbox); no text carries a seeker's phone, ID
number or full name to an employer; the preferences page lists the jobs kinds in Chinese and English.

Run with the immediate task backend (tests/settings.py): the fan-out runs at the commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from linli.core import clock
from linli.core.errors import LinliError
from linli.core.sms import LocmemBackend as SmsOutbox
from linli.jobs.models import EmployerMember, ServiceRequest
from linli.jobs.services import applications as jobs_applications
from linli.jobs.services import employers as jobs_employers
from linli.jobs.services import enterprise as jobs_enterprise
from linli.notify import rules
from linli.notify.models import Delivery, Notification
from linli.notify.wechat import LocmemBackend as WechatOutbox
from tests import factories as f
from tests.jobs.conftest import make_seeker

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday, 10:00 in Chongqing
PHONE, ID_NUMBER = "13700137000", "110101199003070011"  # the fixture seeker's (tests/jobs/conftest.py)


@pytest.fixture(autouse=True)
def _frozen_and_outboxes(settings: Any) -> Any:
    settings.LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"
    settings.LINLI_WECHAT_BACKEND = "linli.notify.wechat.LocmemBackend"
    SmsOutbox.outbox.clear()
    WechatOutbox.outbox.clear()
    with clock.frozen(NOW):
        yield
    SmsOutbox.outbox.clear()
    WechatOutbox.outbox.clear()


@pytest.fixture
def told(django_capture_on_commit_callbacks: Any) -> Any:
    """told(call) → the notifications the call wrote, after its commit, as (username, kind, title_zh)."""

    def run(call: Any) -> list[tuple[str, str, str]]:
        last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with django_capture_on_commit_callbacks(execute=True):
            call()
        return sorted(
            Notification.objects.filter(pk__gt=last)
            .order_by("user__username", "kind")
            .values_list("user__username", "kind", "title_zh")
        )

    return run


@pytest.fixture
def team(jobs: SimpleNamespace) -> SimpleNamespace:
    """The fixture's employer with a second member (a recruiter); the seeker's account has a phone."""
    recruiter = f.UserFactory(username="recruiter1")
    EmployerMember.objects.create(employer=jobs.employer, user=recruiter, role=EmployerMember.Role.RECRUITER)
    jobs.seeker_user.set_phone("13900139000")
    jobs.seeker_user.save()
    jobs.recruiter = recruiter
    return jobs


def refused(call: Any, *args: Any) -> Any:
    """A call that must be refused (a LinliError), for ``told``."""

    def run() -> None:
        with pytest.raises(LinliError):
            call(*args)

    return run


def who(rows: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(user, kind) for user, kind, _title in rows]


def no_personal_data(*, to_employer: bool) -> None:
    """No notification carries the seeker's phone or ID number (full or masked); those an employer
    reads name the seeker masked only."""
    for n in Notification.objects.all():
        text = " ".join([n.title_zh, n.title_en, n.body_zh, n.body_en])
        for secret in (PHONE, ID_NUMBER, "13900139000"):
            assert secret not in text, (n.kind, text)
        if to_employer and n.kind in (rules.JOB_APPLIED, rules.JOB_STATUS) and n.user.username != "seeker1":
            assert "王师傅" not in text and "王**" in text, text


# --- the seeker's steps tell the employer ---------------------------------------------------------------


def test_an_application_tells_every_member_of_the_employer_once(team: Any, told: Any) -> None:
    rows = told(
        lambda: jobs_applications.apply(
            team.seeker_user, team.seeker, team.posting, message="电话 13700137000 随时联系"
        )
    )
    assert who(rows) == [("employer1", rules.JOB_APPLIED), ("recruiter1", rules.JOB_APPLIED)]
    app = team.seeker.applications.get()
    n = Notification.objects.get(user=team.employer_user)
    assert n.ref == f"application:{app.pk}" and n.url == reverse("jobs:application_detail", args=[app.pk])
    assert n.title_zh == f"新的求职申请:数控车工(王** · {app.number})"
    assert n.title_en == f"New application for “数控车工” (王** · {app.number})"
    assert n.body_zh == "留言:电话 137****7000 随时联系"  # a phone typed in the message is masked
    no_personal_data(to_employer=True)
    # a double submit is refused and tells nobody again
    assert told(refused(jobs_applications.apply, team.seeker_user, team.seeker, team.posting)) == []


def test_withdrawing_tells_the_employer(team: Any, told: Any) -> None:
    app = jobs_applications.apply(team.seeker_user, team.seeker, team.posting)
    rows = told(lambda: jobs_applications.withdraw(team.seeker_user, app, "找到别的工作了"))
    assert who(rows) == [("employer1", rules.JOB_STATUS), ("recruiter1", rules.JOB_STATUS)]
    assert rows[0][2] == f"王** · {app.number} 撤回了对“数控车工”的申请"
    no_personal_data(to_employer=True)


# --- the employer's steps tell the seeker ---------------------------------------------------------------


def test_invite_accept_interview_hire_each_tell_the_other_side(team: Any, told: Any) -> None:
    rows = told(lambda: jobs_applications.invite(team.employer_user, team.posting, team.seeker, "欢迎来面试"))
    assert who(rows) == [("seeker1", rules.JOB_INVITED)]
    assert rows[0][2] == "重庆精工机床有限公司 邀请你应聘“数控车工”"
    app = team.seeker.applications.get()
    invited = Notification.objects.get(kind=rules.JOB_INVITED)
    assert "月薪 5000–7000 元" in invited.body_zh and "欢迎来面试" in invited.body_zh
    assert invited.url == reverse("jobs:application_detail", args=[app.pk])
    # the seeker accepts: every member is told, the one who invited included
    rows = told(lambda: jobs_applications.accept(team.seeker_user, app))
    assert who(rows) == [("employer1", rules.JOB_APPLIED), ("recruiter1", rules.JOB_APPLIED)]
    assert rows[0][2] == f"王** · {app.number} 接受了邀请,申请“数控车工”"
    # an interview: the seeker, by SMS too (an appointment), with the time and the place
    at = datetime(2026, 12, 3, 6, 30, tzinfo=UTC)  # 14:30 in Chongqing
    rows = told(lambda: jobs_applications.interview(team.recruiter, app, at, "带上身份证"))
    assert who(rows) == [("seeker1", rules.JOB_INTERVIEW)]
    assert rows[0][2] == "面试通知:2026-12-03 14:30,重庆精工机床有限公司“数控车工”"
    interview = Notification.objects.get(kind=rules.JOB_INTERVIEW)
    assert sorted(Delivery.objects.filter(notification=interview).values_list("channel", flat=True)) == [
        "sms",
        "wechat",
    ]
    assert SmsOutbox.outbox and SmsOutbox.outbox[-1][0] == "13900139000"
    assert "2026-12-03 14:30" in SmsOutbox.outbox[-1][1] and team.employer.address in SmsOutbox.outbox[-1][1]
    rows = told(lambda: jobs_applications.interview(team.recruiter, app, at + timedelta(hours=1)))
    assert rows[0][2] == "面试时间改为2026-12-03 15:30,重庆精工机床有限公司“数控车工”"
    # the same time again is a 409: nobody told
    assert told(refused(jobs_applications.interview, team.recruiter, app, at + timedelta(hours=1))) == []
    rows = told(lambda: jobs_applications.hire(team.employer_user, app))
    assert who(rows) == [("seeker1", rules.JOB_STATUS)]
    assert rows[0][2] == "恭喜,你已被录用:“数控车工”(重庆精工机床有限公司),2026-12-01 到岗"
    assert Notification.objects.filter(ref=f"application:{app.pk}", user=team.employer_user).count() == 1
    no_personal_data(to_employer=True)


def test_declining_tells_the_other_side_and_staff_closing_tells_both(team: Any, told: Any) -> None:
    app = jobs_applications.apply(team.seeker_user, team.seeker, team.posting)
    rows = told(lambda: jobs_applications.decline(team.employer_user, app, "岗位已招满"))
    assert who(rows) == [("seeker1", rules.JOB_STATUS)]
    assert rows[0][2] == "很遗憾,“数控车工”(重庆精工机床有限公司)这次未能录用你"
    # the seeker turns down an invitation: the members are told
    other = make_seeker(team.seeker.street, "李师傅", ["6-18-01-01"], user=f.UserFactory(username="seeker3"))
    invitation = jobs_applications.invite(team.employer_user, team.posting, other)
    rows = told(lambda: jobs_applications.decline(other.user, invitation))
    assert who(rows) == [("employer1", rules.JOB_STATUS), ("recruiter1", rules.JOB_STATUS)]
    assert rows[0][2] == f"李** · {invitation.number} 谢绝了对“数控车工”的邀请"
    # the employment service closes an application: both sides
    third = make_seeker(team.seeker.street, "陈女士", ["6-18-01-01"], user=f.UserFactory(username="seeker4"))
    closing = jobs_applications.apply(third.user, third, team.posting)
    rows = told(lambda: jobs_applications.decline(team.officer, closing, "重复登记"))
    assert who(rows) == [
        ("employer1", rules.JOB_STATUS),
        ("recruiter1", rules.JOB_STATUS),
        ("seeker4", rules.JOB_STATUS),
    ]


# --- seekers without an account; the desk and the kiosk -------------------------------------------------


def test_a_seeker_without_an_account_is_told_nothing_and_the_kiosk_tells_the_employer(team: Any, told: Any) -> None:
    walk_in = make_seeker(team.seeker.street, "周大爷", ["6-18-01-01"], source="kiosk")
    rows = told(lambda: jobs_applications.invite(team.employer_user, team.posting, walk_in))
    assert rows == []  # no account, no inbox
    app = walk_in.applications.get()
    rows = told(lambda: jobs_applications.apply(None, walk_in, team.posting, channel="kiosk"))
    assert who(rows) == [("employer1", rules.JOB_APPLIED), ("recruiter1", rules.JOB_APPLIED)]
    assert rows[0][2] == f"周** · {app.number} 接受了邀请,申请“数控车工”"
    at = clock.now() + timedelta(days=1)
    assert told(lambda: jobs_applications.interview(team.employer_user, app, at)) == []
    assert told(lambda: jobs_applications.hire(team.employer_user, app)) == []


def test_the_desk_applying_for_a_seeker_tells_both(team: Any, told: Any) -> None:
    rows = told(lambda: jobs_applications.apply(team.officer, team.seeker, team.posting, channel="desk"))
    assert who(rows) == [
        ("employer1", rules.JOB_APPLIED),
        ("recruiter1", rules.JOB_APPLIED),
        ("seeker1", rules.JOB_STATUS),
    ]
    app = team.seeker.applications.get()
    assert (
        "seeker1",
        rules.JOB_STATUS,
        f"街道就业服务窗口已为你申请“数控车工”(重庆精工机床有限公司),申请编号 {app.number}",
    ) in rows
    assert "服务窗口代为提交" in Notification.objects.filter(kind=rules.JOB_APPLIED).first().body_zh
    no_personal_data(to_employer=True)


# --- employers -----------------------------------------------------------------------------------------------


def test_registration_tells_the_street_and_verification_tells_the_members(
    jobs: Any, world: Any, told: Any, other_officer: Any
) -> None:
    applicant = f.UserFactory(username="new_boss")
    box: dict[str, Any] = {}

    def register() -> None:
        box["e"] = jobs_employers.register(
            applicant,
            name="渝中精密零件有限公司",
            credit_code="91500103MA5U4XKX2X",
            address="谢家湾正街 8 号",
            lat=29.531,
            lon=106.511,
        )

    rows = told(register)
    users = {user for user, _kind, _title in rows}
    assert {kind for _u, kind, _t in rows} == {rules.EMPLOYER_STATUS}
    assert "employment_officer" in users and "new_boss" not in users and other_officer.username not in users
    assert rows[0][2] == "新单位登记待审核:渝中精密零件有限公司"
    employer = box["e"]
    rows = told(lambda: jobs_employers.reject(jobs.officer, employer, "营业执照照片不清晰"))
    assert who(rows) == [("new_boss", rules.EMPLOYER_STATUS)]
    rejected = Notification.objects.get(user=applicant)
    assert rejected.title_zh == "单位登记未通过审核:渝中精密零件有限公司" and "营业执照照片不清晰" in rejected.body_zh
    assert (
        rejected.url == reverse("jobs:employer_detail", args=[employer.pk])
        and rejected.ref == f"employer:{employer.pk}"
    )
    rows = told(lambda: jobs_employers.update(applicant, employer, description="精密零件加工"))
    assert "employment_officer" in {u for u, _k, _t in rows} and "new_boss" not in {u for u, _k, _t in rows}
    assert rows[0][2] == "单位修改了登记,重新待审核:渝中精密零件有限公司"
    rows = told(lambda: jobs_employers.verify(jobs.officer, employer))
    assert rows == [("new_boss", rules.EMPLOYER_STATUS, "单位已通过审核:渝中精密零件有限公司,岗位发布后即对求职者可见")]
    rows = told(lambda: jobs_employers.suspend(jobs.officer, employer, "多次发布虚假岗位"))
    assert rows == [("new_boss", rules.EMPLOYER_STATUS, "单位已被暂停:渝中精密零件有限公司,岗位暂不对求职者显示")]
    # a refused step (suspending twice) tells nobody
    assert told(refused(jobs_employers.suspend, jobs.officer, employer, "再次")) == []


@pytest.fixture
def other_officer(world: Any) -> Any:
    from linli.accounts.services import grant_role

    officer = f.UserFactory(username="officer_street2")
    grant_role(world.admin, officer, "employment_officer", world.street2)
    return officer


# --- key-enterprise services -------------------------------------------------------------------------------------


def test_service_requests_tell_the_officer_and_the_enterprise(jobs: Any, told: Any) -> None:
    jobs.employer.key_enterprise = True
    jobs.employer.officer = jobs.officer
    jobs.employer.save(update_fields=["key_enterprise", "officer"])
    box: dict[str, ServiceRequest] = {}

    def file() -> None:
        box["r"] = jobs_enterprise.file(
            jobs.employer_user, jobs.employer, kind="recruitment", title="招聘数控车工 5 名", detail="本月需要"
        )

    rows = told(file)
    req = box["r"]
    assert who(rows) == [("employment_officer", rules.SERVICE_REQUEST)]
    assert rows[0][2] == f"重点企业服务单 {req.number}:重庆精工机床有限公司 提交了新需求"
    assert who(told(lambda: jobs_enterprise.accept(jobs.officer, req))) == [("employer1", rules.SERVICE_REQUEST)]
    rows = told(lambda: jobs_enterprise.progress(jobs.officer, req, "已联系 3 名车工,电话 13800138000"))
    assert who(rows) == [("employer1", rules.SERVICE_REQUEST)]
    progress = Notification.objects.filter(kind=rules.SERVICE_REQUEST, user=jobs.employer_user).order_by("-pk")[0]
    assert "已联系 3 名车工" in progress.body_zh and "13800138000" not in progress.body_zh
    assert who(told(lambda: jobs_enterprise.close(jobs.officer, req, "已推荐 5 人"))) == [
        ("employer1", rules.SERVICE_REQUEST)
    ]
    rows = told(lambda: jobs_enterprise.rate(jobs.employer_user, req, 5, "很及时"))
    assert rows == [("employment_officer", rules.SERVICE_REQUEST, f"重点企业服务单 {req.number}:企业评价了服务:5/5 分")]
    assert not Notification.objects.filter(kind__in=[rules.DISPATCHED, rules.REPORT_STATUS]).exists()


# --- the preferences page --------------------------------------------------------------------------------------


def test_the_preferences_page_lists_the_jobs_kinds_in_both_languages(jobs: Any, client_for: Any) -> None:
    c = client_for(jobs.seeker_user)
    zh = c.get(reverse("notify:preferences"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="kinds-jobs"' in zh and "就近帮" in zh
    for label in ("用人单位邀请我应聘", "本单位岗位收到新申请", "面试安排", "求职申请的进展", "附近的新岗位推荐"):
        assert label in zh, label
    assert "用人单位审核" in zh and "重点企业服务需求" in zh
    # an interview goes by SMS unless the person says otherwise; the rest by WeChat
    assert 'value="sms" checked data-testid="ch-job_interview-sms"' in zh
    assert 'value="sms" data-testid="ch-job_matches-sms"' in zh
    c.cookies["django_language"] = "en"
    en = c.get(reverse("notify:preferences"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for label in (
        "an employer invites me to apply",
        "a job interview arranged for me",
        "new jobs near me",
        "Jobs near home",
    ):
        assert label in en, label
    assert "面试安排" not in en
