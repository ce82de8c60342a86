"""Employers (issue 14 §2): registration with the credit code checked, duplicates, the district and
street of the point; verification, rejection and suspension by the street's employment service;
members; the profile; the key-enterprise mark; and the pages' permission matrix."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from linli.accounts.models import AccessLog
from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core.errors import LinliError
from linli.jobs.models import Employer, EmployerMember
from linli.jobs.queries import employers as q
from linli.jobs.queries import postings as jobs_postings
from linli.jobs.services import employers as svc
from tests import factories as f
from tests.jobs.conftest import LAT, LON

GOOD = "91500107MA6ABCDE0M"  # valid, not used by the fixture
OTHER = "91110000600037341L"


def register(user: Any, **kw: Any) -> Employer:
    data = {
        "name": "重庆新厂有限公司",
        "credit_code": "91500107756200931W",
        "address": "谢家湾正街 8 号",
        "lat": LAT + 0.002,
        "lon": LON,
        "contact_name": "刘经理",
        "contact_phone": "13812345678",
    }
    data.update(kw)
    return svc.register(user, **data)


@pytest.fixture
def other_officer(world: Any) -> Any:
    user = f.UserFactory(username="officer_street2")
    grant_role(world.admin, user, Role.EMPLOYMENT_OFFICER.value, world.street2)
    return user


def code(exc: pytest.ExceptionInfo[LinliError]) -> str:
    return exc.value.problems[0].code


def test_register_makes_a_pending_employer_with_its_owner(jobs, world):
    user = f.UserFactory(username="boss")
    e = register(user, credit_code="9150 0107 ma6a bcde 0m")
    assert e.credit_code == GOOD and e.status == Employer.Status.PENDING
    assert e.street == world.street1 and e.path == world.street1.path
    assert EmployerMember.objects.get(employer=e).role == EmployerMember.Role.OWNER
    assert e.contact_phone_masked == "138****5678" and "13812345678" not in e.contact_phone_enc
    assert e._contact_phone() == "13812345678"


@pytest.mark.parametrize(
    ("kw", "problem", "status"),
    [
        ({"credit_code": "91500107MA5U4XKX2E"}, "credit_code_check", 400),
        ({"credit_code": "91500107MA5U4XKX"}, "credit_code_length", 400),
        ({"credit_code": "91500107MA5U4XKX2I"}, "credit_code_character", 400),
        ({"credit_code": ""}, "credit_code_missing", 400),
        ({"name": "  "}, "name_missing", 400),
        ({"address": ""}, "address_missing", 400),
        ({"lat": 39.9, "lon": 116.4}, "outside_district", 400),
        ({"lat": "x", "lon": ""}, "position_missing", 400),
        ({"lat": float("nan")}, "position_missing", 400),
        ({"contact_phone": "12"}, "bad_phone", 400),
        ({"size": "huge"}, "bad_size", 400),
    ],
)
def test_register_refuses_bad_input_and_changes_nothing(jobs, kw, problem, status):
    before = Employer.objects.count()
    with pytest.raises(LinliError) as e:
        register(f.UserFactory(), **kw)
    assert code(e) == problem and e.value.status == status
    assert Employer.objects.count() == before


def test_a_registered_code_is_a_409_naming_the_way_in(jobs):
    user = f.UserFactory()
    register(user, credit_code=GOOD)
    with pytest.raises(LinliError) as e:
        register(f.UserFactory(), credit_code=GOOD.lower())
    assert code(e) == "credit_code_taken" and e.value.status == 409
    assert "administrator" in e.value.problems[0].en and "管理员" in e.value.problems[0].zh
    assert Employer.objects.filter(credit_code=GOOD).count() == 1


def test_anonymous_cannot_register(jobs):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        register(AnonymousUser())


def test_street_of_a_point_boundary_first_then_nearest(jobs, world):
    world.street2.boundary = {
        "type": "Polygon",
        "coordinates": [[[106.60, 29.60], [106.62, 29.60], [106.62, 29.62], [106.60, 29.62], [106.60, 29.60]]],
    }
    world.street2.save()
    assert q.street_at(29.61, 106.61) == world.street2
    assert q.street_at(LAT, LON) == world.street1  # no boundary there: the nearest centre (ties: first)
    world.district.boundary = {
        "type": "Polygon",
        "coordinates": [[[106.4, 29.4], [106.7, 29.4], [106.7, 29.7], [106.4, 29.7], [106.4, 29.4]]],
    }
    world.district.save()
    assert q.street_at(29.61, 106.61) == world.street2
    with pytest.raises(LinliError) as e:
        q.street_at(29.39, 106.5)
    assert code(e) == "outside_district"


def test_staff_verify_reject_suspend_with_the_scope(jobs, world, other_officer):
    officer, pending = jobs.officer, jobs.pending
    with pytest.raises(Http404):
        svc.verify(other_officer, pending)  # another street's officer: not in scope
    with pytest.raises(PermissionDenied):
        svc.verify(jobs.pending_user, pending)  # a member: sees it, may not verify
    with pytest.raises(LinliError) as e:
        svc.reject(officer, pending, " ")
    assert code(e) == "reason_required"
    svc.reject(officer, pending, "营业执照照片不清晰")
    pending.refresh_from_db()
    assert pending.status == Employer.Status.REJECTED and pending.status_note == "营业执照照片不清晰"
    svc.verify(officer, pending)
    pending.refresh_from_db()
    assert pending.status == Employer.Status.VERIFIED and pending.verified_by == officer and pending.status_note == ""
    with pytest.raises(LinliError) as e:
        svc.verify(officer, pending)
    assert e.value.status == 409
    with pytest.raises(LinliError) as e:
        svc.reject(officer, pending, "too late")
    assert e.value.status == 409


def test_suspension_takes_postings_off_at_once(jobs):
    assert jobs.posting in jobs_postings.live()
    svc.suspend(jobs.officer, jobs.employer, "拖欠工资投诉核查中")
    assert jobs.posting not in jobs_postings.live()
    assert not jobs_postings.is_live(jobs.posting)
    svc.verify(jobs.officer, jobs.employer)
    assert jobs.posting in jobs_postings.live()


def test_members_added_and_removed_by_the_administrator(jobs):
    employer, owner = jobs.employer, jobs.employer_user
    colleague = f.UserFactory(username="hr_li")
    m = svc.add_member(owner, employer, "hr_li")
    assert m.role == EmployerMember.Role.RECRUITER
    with pytest.raises(LinliError) as e:
        svc.add_member(owner, employer, "hr_li")
    assert code(e) == "already_member" and e.value.status == 409
    with pytest.raises(LinliError) as e:
        svc.add_member(owner, employer, "nobody_here")
    assert code(e) == "no_such_account"
    with pytest.raises(PermissionDenied):
        svc.add_member(colleague, employer, "seeker1")  # a recruiter is not an administrator
    with pytest.raises(Http404):
        svc.add_member(jobs.seeker_user, employer, "seeker1")  # an outsider does not see it
    with pytest.raises(LinliError) as e:
        svc.remove_member(owner, employer, EmployerMember.objects.get(employer=employer, user=owner).pk)
    assert code(e) == "last_owner"
    svc.remove_member(owner, employer, m.pk)
    assert not EmployerMember.objects.filter(pk=m.pk).exists()


def test_update_locks_the_code_after_verification(jobs):
    employer, owner = jobs.employer, jobs.employer_user
    svc.update(
        owner, employer, contact_phone="023-68001234", description="数控机床整机制造", credit_code=employer.credit_code
    )
    employer.refresh_from_db()
    assert employer.contact_phone_masked.endswith("1234") and employer.description == "数控机床整机制造"
    with pytest.raises(LinliError) as e:
        svc.update(owner, employer, credit_code=GOOD)
    assert code(e) == "credit_code_locked" and e.value.status == 409
    with pytest.raises(LinliError) as e:
        svc.update(owner, employer, name="另一个名字")
    assert code(e) == "name_locked"
    with pytest.raises(PermissionDenied):
        svc.update(jobs.officer, employer, description="x")  # staff do not edit the employer's profile


def test_a_corrected_rejection_goes_back_to_the_queue(jobs):
    svc.reject(jobs.officer, jobs.pending, "代码有误")
    svc.update(jobs.pending_user, jobs.pending, credit_code=OTHER)
    jobs.pending.refresh_from_db()
    assert jobs.pending.credit_code == OTHER and jobs.pending.status == Employer.Status.PENDING
    with pytest.raises(LinliError) as e:
        svc.update(jobs.pending_user, jobs.pending, credit_code=jobs.employer.credit_code)
    assert code(e) in {"credit_code_taken", "credit_code_check"}


def test_key_enterprise_and_its_officer(jobs, world, other_officer):
    svc.set_key_enterprise(jobs.officer, jobs.employer, True, jobs.officer)
    jobs.employer.refresh_from_db()
    assert jobs.employer.key_enterprise and jobs.employer.officer == jobs.officer
    with pytest.raises(LinliError) as e:
        svc.set_key_enterprise(jobs.officer, jobs.employer, True, other_officer)
    assert code(e) == "bad_officer"
    with pytest.raises(PermissionDenied):
        svc.set_key_enterprise(jobs.employer_user, jobs.employer, True)
    assert jobs.officer in q.officers_for(jobs.employer)
    assert other_officer not in q.officers_for(jobs.employer)


def test_staff_reveal_of_the_contact_phone_is_logged(jobs, client_for):
    svc.update(jobs.employer_user, jobs.employer, contact_phone="13912345678")
    c = client_for(jobs.officer)
    r = c.get(reverse("jobs:employer_detail", args=[jobs.employer.pk]))
    assert "139****5678" in r.content.decode() and "13912345678" not in r.content.decode()
    r = c.post(reverse("jobs:employer_act", args=[jobs.employer.pk]), {"action": "contact"})
    assert r.status_code == 200 and "13912345678" in r.content.decode()
    assert AccessLog.objects.filter(user=jobs.officer, object_type="jobs.employer").count() == 1
    r = client_for(jobs.employer_user).post(
        reverse("jobs:employer_act", args=[jobs.employer.pk]), {"action": "contact"}
    )
    assert r.status_code == 403


def test_register_page_creates_and_redirects(jobs, client_for):
    c = client_for(f.UserFactory(username="newboss"))
    assert c.get(reverse("jobs:employer_register")).status_code == 200
    r = c.post(
        reverse("jobs:employer_register"),
        {"name": "新公司", "credit_code": "91500107MA5U4XKX2E", "address": "x", "lat": LAT, "lon": LON},
    )
    assert r.status_code == 400 and "“P”" not in r.content.decode() and "「P」" in r.content.decode()
    r = c.post(
        reverse("jobs:employer_register"),
        {"name": "新公司", "credit_code": GOOD, "address": "谢家湾", "lat": LAT, "lon": LON},
    )
    e = Employer.objects.get(credit_code=GOOD)
    assert r.status_code == 303 and r["Location"] == reverse("jobs:employer_detail", args=[e.pk])
    r = c.post(
        reverse("jobs:employer_register"),
        {"name": "新公司", "credit_code": GOOD, "address": "谢家湾", "lat": LAT, "lon": LON},
    )
    assert r.status_code == 409


def test_queue_lists_pending_first_and_filters(jobs, client_for):
    c = client_for(jobs.officer)
    body = c.get(reverse("jobs:employer_list")).content.decode()
    assert body.index(jobs.pending.name) < body.index(jobs.employer.name)
    assert jobs.other_street.name not in body  # street 2 is not the officer's
    body = c.get(reverse("jobs:employer_list"), {"status": "verified"}).content.decode()
    assert jobs.pending.name not in body and jobs.employer.name in body
    body = c.get(reverse("jobs:employer_list"), {"q": "待审核"}).content.decode()
    assert jobs.pending.name in body and jobs.employer.name not in body
    body = c.get(reverse("jobs:employer_list"), {"status": "<script>", "page": "x"}).content.decode()
    assert jobs.pending.name in body


def test_employers_pages_matrix(jobs, world, client_for, other_officer):
    """Each employer route × who asks → the status expected (GET pages; POST actions with a
    harmless action that the service refuses or allows)."""
    users = {
        "anonymous": None,
        "outsider": world.outsider,  # community B's worker: JOBS at community B only
        "seeker": jobs.seeker_user,
        "member": jobs.employer_user,
        "officer": jobs.officer,
        "other_officer": other_officer,
        "superuser": world.admin,
    }
    e = jobs.employer.pk
    expected = {
        # route: {who: status}
        ("get", "jobs:employer_register", None): dict.fromkeys(users, 200) | {"anonymous": 302},
        ("get", "jobs:employer_list", None): {
            "anonymous": 302,
            "outsider": 200,
            "seeker": 403,
            "member": 403,
            "officer": 200,
            "other_officer": 200,
            "superuser": 200,
        },
        ("get", "jobs:employer_detail", e): {
            "anonymous": 302,
            "outsider": 404,
            "seeker": 404,
            "member": 200,
            "officer": 200,
            "other_officer": 404,
            "superuser": 200,
        },
        ("post", "jobs:employer_act", e): {
            "anonymous": 302,
            "outsider": 404,
            "seeker": 404,
            "member": 403,  # may not suspend
            "officer": 400,  # may, but a reason is required
            "other_officer": 404,
            "superuser": 400,
        },
    }
    failures = []
    for (method, name, pk), by_who in expected.items():
        url = reverse(name, args=[pk] if pk else [])
        for who, user in users.items():
            from django.test import Client

            c = Client() if user is None else client_for(user)
            r = c.get(url) if method == "get" else c.post(url, {"action": "suspend", "reason": ""})
            if r.status_code != by_who[who]:
                failures.append(f"{who} {method} {name} → {r.status_code}, expected {by_who[who]}")
    assert not failures, "\n".join(failures)
