"""services.seekers (issue 14 §1): registration online, at the desk and from the kiosk, updates, the
seeker's own choice to be found, status, and the logged reveal — every bad input a clear bilingual
error with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from linli.accounts.models import AccessLog
from linli.core.errors import LinliError
from linli.core.masking import id_checksum
from linli.jobs.models import Seeker, Skill
from linli.jobs.queries import seekers as q
from linli.jobs.services import seekers as svc
from tests import factories as f
from tests.jobs.conftest import LAT, LON


def an_id(serial: int) -> str:
    first17 = f"11010119850101{serial:03d}"
    return first17 + id_checksum(first17)


def ok_fields(world: Any, **kw: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "刘师傅",
        "street": world.street1,
        "lat": LAT,
        "lon": LON,
        "skills": ["6-18-01-01", "6-18-02-04"],
        "phone": "13912345678",
        "wage_min": 5000,
        "wage_max": 8000,
        "hours": 44,
        "travel_m": 8000,
    }
    fields.update(kw)
    return fields


def refused(code: str, fn: Any, *args: Any, expect: int = 400, **kw: Any) -> LinliError:
    before = (Seeker.objects.count(), AccessLog.objects.count())
    with pytest.raises(LinliError) as exc:
        fn(*args, **kw)
    assert exc.value.problems[0].code == code, exc.value.problems
    assert exc.value.status == expect
    problem = exc.value.problems[0]
    assert problem.zh and problem.en and problem.zh != problem.en
    assert (Seeker.objects.count(), AccessLog.objects.count()) == before
    return exc.value


def test_online_registration_makes_the_account_the_seeker(jobs, world):
    user = f.UserFactory(username="newcomer")
    seeker = svc.register(user, **ok_fields(world, id_number=an_id(1), community=world.comm_a, birth_year=1985))
    seeker.refresh_from_db()
    assert seeker.user_id == user.pk and seeker.source == "online"
    assert seeker.path == world.comm_a.path and seeker.street == world.street1
    assert not seeker.discoverable  # off until the seeker switches it on
    assert seeker.id_number_masked.startswith("110") and "*" in seeker.id_number_masked
    assert "13912345678" not in seeker.phone_masked and seeker._phone() == "13912345678"
    assert {s.code for s in seeker.skills.all()} == {"6-18-01-01", "6-18-02-04"}
    assert q.mine(user) == seeker
    assert q.by_id_number(an_id(1).lower()) == seeker
    assert q.by_id_number("123") is None
    # one profile per account
    refused("already_seeker", svc.register, user, expect=409, **ok_fields(world, name="又一个"))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "  "}, "bad_name"),
        ({"name": "名" * 61}, "bad_name"),
        ({"id_number": "110101199003070012"}, "bad_id_number"),  # wrong check digit
        ({"id_number": "12345"}, "bad_id_number"),
        ({"phone": "1234567"}, "bad_phone"),
        ({"phone": "23912345678"}, "bad_phone"),
        ({"wage_min": 9000, "wage_max": 6000}, "wage_upside_down"),
        ({"wage_min": 100}, "bad_wage"),
        ({"wage_max": "lots"}, "bad_wage"),
        ({"hours": 0}, "bad_hours"),
        ({"hours": 85}, "bad_hours"),
        ({"travel_m": 50}, "bad_travel"),
        ({"travel_m": 50_001}, "bad_travel"),
        ({"skills": []}, "no_skills"),
        ({"skills": ["9-99-99-99"]}, "unknown_skill"),
        ({"lat": "nan"}, "bad_position"),
        ({"lat": 91}, "bad_position"),
        ({"lat": 39.9, "lon": 116.4}, "outside_district"),  # Beijing
        ({"street": None}, "no_street"),
        ({"birth_year": 2030}, "bad_birth_year"),
        ({"education": "phd"}, "bad_education"),
        ({"experience_years": -1}, "bad_experience_years"),
        ({"status": "retired"}, "bad_status"),
        ({"registered_unemployed": True}, "flags_staff_only"),
        ({"hard_to_employ": True}, "flags_staff_only"),
    ],
)
def test_bad_input_is_refused_with_nothing_written(jobs, world, change, code):
    user = f.UserFactory(username="newcomer")
    status = 403 if code == "flags_staff_only" else 400
    refused(code, svc.register, user, expect=status, **ok_fields(world, **change))


def test_inactive_skill_young_person_and_community_elsewhere(jobs, world):
    user = f.UserFactory(username="newcomer")
    Skill.objects.filter(code="6-18-02-04").update(active=False)
    refused("unknown_skill", svc.register, user, **ok_fields(world))
    refused(
        "community_not_in_street", svc.register, user, **ok_fields(world, skills=["6-18-01-01"], community=world.comm_c)
    )


def test_the_street_boundary_when_there_is_one(jobs, world):
    d = 0.01
    world.street1.boundary = {
        "type": "Polygon",
        "coordinates": [
            [[LON - d, LAT - d], [LON + d, LAT - d], [LON + d, LAT + d], [LON - d, LAT + d], [LON - d, LAT - d]]
        ],
    }
    world.street1.save()
    user = f.UserFactory(username="newcomer")
    refused("outside_street", svc.register, user, **ok_fields(world, lat=LAT + 0.05))
    assert svc.register(user, **ok_fields(world, lat=LAT + 0.005)).pk


def test_one_seeker_per_id_number(jobs, world):
    user = f.UserFactory(username="newcomer")
    err = refused("seeker_exists", svc.register, user, expect=409, **ok_fields(world, id_number="110101199003070011"))
    assert "就业服务" in err.problems[0].zh and "employment service" in err.problems[0].en
    # the kiosk's path too (no account)
    refused(
        "seeker_exists",
        svc.register,
        None,
        expect=409,
        source="kiosk",
        **ok_fields(world, id_number="110101199003070011"),
    )


def test_kiosk_and_desk_registration(jobs, world):
    kiosk = svc.register(None, source="kiosk", **ok_fields(world, id_number=an_id(2)))
    assert kiosk.user_id is None and kiosk.source == "kiosk"
    refused("signin_required", svc.register, None, expect=403, **ok_fields(world, id_number=an_id(3)))
    refused(
        "kiosk_only", svc.register, jobs.seeker_user, expect=403, source="kiosk", **ok_fields(world, id_number=an_id(3))
    )
    # the desk: the street's employment service, with the flags the street counts
    desk = svc.register(
        jobs.officer,
        source="desk",
        registered_unemployed=True,
        hard_to_employ=True,
        **ok_fields(world, id_number=an_id(4)),
    )
    assert desk.source == "desk" and desk.user_id is None and desk.registered_unemployed and desk.hard_to_employ
    # not another street's, not someone without the employment service
    with pytest.raises(Http404):
        svc.register(jobs.officer, source="desk", **ok_fields(world, street=world.street2, lat=LAT, id_number=an_id(5)))
    with pytest.raises(Http404):
        svc.register(jobs.employer_user, source="desk", **ok_fields(world, id_number=an_id(5)))
    assert not Seeker.objects.filter(name="刘师傅", source="desk").exclude(pk=desk.pk).exists()


def test_desk_registration_of_a_resident_takes_their_id_number(jobs, world):
    owner = world.owner_b  # 李四, community B, ID 110101199003072914
    seeker = svc.register(jobs.officer, source="desk", person=owner, **ok_fields(world, name="李四"))
    assert seeker.person == owner
    assert seeker.id_number_hash == owner.id_number_hash and seeker.id_number_masked == owner.id_number_masked
    other = world.owner_a
    refused(
        "id_mismatch", svc.register, jobs.officer, source="desk", person=other, **ok_fields(world, id_number=an_id(7))
    )
    refused(
        "person_not_found", svc.register, f.UserFactory(username="x1"), expect=404, person=other, **ok_fields(world)
    )


def test_update_by_the_seeker_and_by_the_service(jobs, world):
    s = jobs.seeker
    svc.update(jobs.seeker_user, s, wage_min=6000, wage_max=9000, skills=["6-18-01-02"], experience="十年车工")
    s.refresh_from_db()
    assert (s.wage_min, s.wage_max, s.experience) == (6000, 9000, "十年车工")
    assert [k.code for k in s.skills.all()] == ["6-18-01-02"]
    before = (s.wage_min, s.wage_max, s.updated_at)
    refused("wage_upside_down", svc.update, jobs.seeker_user, s, wage_min=9500)
    refused("flags_staff_only", svc.update, jobs.seeker_user, s, expect=403, hard_to_employ=True)
    refused("id_staff_only", svc.update, jobs.seeker_user, s, expect=403, id_number=an_id(9))
    s.refresh_from_db()
    assert (s.wage_min, s.wage_max, s.updated_at) == before and not s.hard_to_employ
    # the service records the flags; nobody else reaches the profile
    svc.update(jobs.officer, s, registered_unemployed=True, status="employed")
    s.refresh_from_db()
    assert s.registered_unemployed and s.status == "employed"
    for outsider in (jobs.employer_user, jobs.hidden_user, world.users["grid_leader"]):
        with pytest.raises(Http404):
            svc.update(outsider, s, name="改名")
    # a second seeker's ID number
    refused("seeker_exists", svc.update, jobs.officer, jobs.hidden, expect=409, id_number="110101199003070011")


def test_being_found_is_the_seekers_own_choice(jobs, world):
    svc.set_discoverable(jobs.hidden_user, jobs.hidden, True)
    jobs.hidden.refresh_from_db()
    assert jobs.hidden.discoverable
    svc.set_discoverable(jobs.hidden_user, jobs.hidden, False)
    assert not Seeker.objects.get(pk=jobs.hidden.pk).discoverable
    refused("discoverable_own_choice", svc.set_discoverable, jobs.officer, jobs.hidden, True, expect=403)
    refused("discoverable_own_choice", svc.update, jobs.officer, jobs.hidden, discoverable=True, expect=403)
    with pytest.raises(Http404):
        svc.set_discoverable(jobs.employer_user, jobs.hidden, True)
    # a seeker without an account told the desk
    desk = svc.register(jobs.officer, source="desk", **ok_fields(world, id_number=an_id(11)))
    svc.set_discoverable(jobs.officer, desk, True)
    assert Seeker.objects.get(pk=desk.pk).discoverable


def test_status(jobs, world):
    svc.set_status(jobs.seeker_user, jobs.seeker, "paused")
    assert Seeker.objects.get(pk=jobs.seeker.pk).status == "paused"
    refused("bad_status", svc.set_status, jobs.seeker_user, jobs.seeker, "gone")
    with pytest.raises(Http404):
        svc.set_status(jobs.employer_user, jobs.seeker, "employed")


def test_reveal_is_for_the_service_with_a_reason_and_logged(jobs, world):
    s = jobs.seeker
    assert svc.reveal(jobs.officer, s, "phone", "推荐岗位,电话联系") == "13700137000"
    assert svc.reveal(jobs.officer, s, "id_number", "核对身份") == "110101199003070011"
    logs = list(AccessLog.objects.filter(object_type="jobs.Seeker", object_id=str(s.pk)).order_by("at", "id"))
    assert [(x.what, x.reason, x.path) for x in logs] == [
        ("reveal_phone", "推荐岗位,电话联系", s.path),
        ("reveal_id", "核对身份", s.path),
    ]
    refused("reason_required", svc.reveal, jobs.officer, s, "phone", " ")
    refused("unknown_field", svc.reveal, jobs.officer, s, "name", "因为")
    for who in (jobs.employer_user, world.users["grid_leader"], world.outsider):
        with pytest.raises(Http404):
            svc.reveal(who, s, "phone", "想看看")
    with pytest.raises(PermissionDenied):  # the seeker sees their own row; revealing is the service's
        svc.reveal(jobs.seeker_user, s, "phone", "想看看")
    assert AccessLog.objects.filter(object_type="jobs.Seeker").count() == 2
