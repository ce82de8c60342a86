"""Postings (issue 14 §2): validation of every field, publishing only for a verified employer, what
is live (expired, suspended, filled), hires counted under a lock, close / reopen, and the pages'
permission matrix."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.core.errors import LinliError
from linli.jobs.models import Posting, Skill
from linli.jobs.queries import postings as q
from linli.jobs.services import postings as svc
from tests import factories as f


def fields(**kw: Any) -> dict[str, Any]:
    data = {
        "title": "普工",
        "description": "长白班,包午餐。联系 13800138000",
        "skills": ["6-18-01-01"],
        "headcount": 8,
        "wage_min": 4500,
        "wage_max": 6000,
        "hours": 44,
        "closes_on": clock.today() + timedelta(days=30),
    }
    data.update(kw)
    return data


def code(e: pytest.ExceptionInfo[LinliError]) -> str:
    return e.value.problems[0].code


@pytest.fixture
def other_officer(world: Any) -> Any:
    user = f.UserFactory(username="officer_street2")
    grant_role(world.admin, user, Role.EMPLOYMENT_OFFICER.value, world.street2)
    return user


def test_create_a_draft_then_publish(jobs, world):
    p = svc.create(jobs.employer_user, jobs.employer, **fields())
    assert p.status == Posting.Status.DRAFT and p not in q.live()
    assert p.street == world.street1 and (p.lat, p.lon) == (jobs.employer.lat, jobs.employer.lon)
    assert p.category == Skill.objects.get(code="6-18-01-01").category
    svc.publish(jobs.employer_user, p)
    assert p.status == Posting.Status.OPEN and p.published_at is not None and p in q.live()


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({"skills": []}, "skills_missing"),
        ({"skills": ["no-such-code"]}, "unknown_skill"),
        ({"headcount": 0}, "bad_headcount"),
        ({"headcount": "three"}, "bad_headcount"),
        ({"wage_min": 7000, "wage_max": 5000}, "wage_range_upside_down"),
        ({"wage_min": -1}, "bad_wage"),
        ({"hours": 0}, "bad_hours"),
        ({"hours": 85}, "bad_hours"),
        ({"closes_on": "yesterday"}, "closes_on_missing"),
        ({"title": ""}, "title_missing"),
        ({"title": "x" * 81}, "title_too_long"),
        ({"category": "nope"}, "unknown_category"),
        ({"lat": 39.9, "lon": 116.4}, "outside_district"),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(jobs, kw, problem):
    before = Posting.objects.count()
    with pytest.raises(LinliError) as e:
        svc.create(jobs.employer_user, jobs.employer, **fields(**kw))
    assert code(e) == problem and e.value.status == 400
    assert Posting.objects.count() == before


def test_skills_at_most_eight(jobs):
    codes = list(Skill.objects.values_list("code", flat=True)[:9])
    assert len(codes) == 9
    with pytest.raises(LinliError) as e:
        svc.create(jobs.employer_user, jobs.employer, **fields(skills=codes))
    assert code(e) == "too_many_skills"
    p = svc.create(jobs.employer_user, jobs.employer, **fields(skills=codes[:8]))
    assert p.skills.count() == 8


def test_closing_date_after_today_and_within_a_year(jobs):
    with clock.frozen("2026-12-01 10:00"):
        for day, problem in [
            ("2026-12-01", "closes_on_past"),
            ("2026-11-30", "closes_on_past"),
            ("2027-12-02", "closes_on_too_far"),
        ]:
            with pytest.raises(LinliError) as e:
                svc.create(jobs.employer_user, jobs.employer, **fields(closes_on=day))
            assert code(e) == problem
        assert svc.create(jobs.employer_user, jobs.employer, **fields(closes_on="2027-12-01")).pk


def test_publish_waits_for_verification(jobs):
    p = svc.create(jobs.pending_user, jobs.pending, **fields())
    with pytest.raises(LinliError) as e:
        svc.publish(jobs.pending_user, p)
    assert code(e) == "awaiting_verification" and e.value.status == 409
    p.refresh_from_db()
    assert p.status == Posting.Status.DRAFT


def test_an_expired_posting_is_not_live(jobs):
    with clock.frozen("2026-12-01 10:00"):
        p = svc.create(jobs.employer_user, jobs.employer, **fields(closes_on="2026-12-10"))
        svc.publish(jobs.employer_user, p)
        assert q.is_live(p)
    with clock.frozen("2026-12-10 23:00"):
        assert q.is_live(p)  # the closing day itself still counts
    with clock.frozen("2026-12-11 08:00"):
        assert not q.is_live(p) and p not in q.live()
        p.status = Posting.Status.CLOSED
        p.save()
        with pytest.raises(LinliError) as e:
            svc.publish(jobs.employer_user, p)
        assert code(e) == "posting_expired"


def test_hires_fill_a_posting_and_a_larger_headcount_reopens_it(jobs):
    p = jobs.posting
    p.headcount = 2
    p.save()
    svc.record_hire(p)
    assert p.hired == 1 and p.status == Posting.Status.OPEN
    svc.record_hire(p)
    p.refresh_from_db()
    assert p.hired == 2 and p.status == Posting.Status.FILLED and p not in q.live()
    with pytest.raises(LinliError) as e:
        svc.update(jobs.employer_user, p, headcount=1)
    assert code(e) == "headcount_below_hired"
    svc.update(jobs.employer_user, p, headcount=3)
    assert p.status == Posting.Status.OPEN and p in q.live()


def test_close_and_reopen(jobs, world):
    p = jobs.posting
    svc.close(jobs.officer, p)  # staff may close a posting that breaks the rules
    assert p.status == Posting.Status.CLOSED and p not in q.live()
    with pytest.raises(LinliError) as e:
        svc.close(jobs.employer_user, p)
    assert e.value.status == 409
    with pytest.raises(PermissionDenied):
        svc.reopen(jobs.officer, p)  # staff do not publish for the employer
    svc.reopen(jobs.employer_user, p)
    assert p.status == Posting.Status.OPEN


def test_only_members_write_postings(jobs, other_officer):
    with pytest.raises(Http404):
        svc.create(jobs.seeker_user, jobs.employer, **fields())
    with pytest.raises(Http404):
        svc.update(jobs.pending_user, jobs.posting, title="x")  # another employer's member
    with pytest.raises(PermissionDenied):
        svc.update(jobs.officer, jobs.posting, title="x")
    with pytest.raises(Http404):
        svc.close(other_officer, jobs.posting)


def test_pages_create_and_publish(jobs, client_for):
    c = client_for(jobs.employer_user)
    url = reverse("jobs:posting_new", args=[jobs.employer.pk])
    assert c.get(url).status_code == 200
    data = {k: str(v) for k, v in fields().items() if k != "skills"} | {"skills": ["6-18-01-01"], "lat": "", "lon": ""}
    r = c.post(url, data | {"wage_min": "9000"})
    assert r.status_code == 400 and "颠倒" in r.content.decode()
    r = c.post(url, data | {"publish": "1"})
    p = Posting.objects.latest("id")
    assert r.status_code == 303 and p.status == Posting.Status.OPEN
    body = c.get(reverse("jobs:posting_detail", args=[p.pk])).content.decode()
    assert "13800138000" in body  # a member reads the text as written
    body = client_for(jobs.seeker_user).get(reverse("jobs:posting_detail", args=[p.pk])).content.decode()
    assert "13800138000" not in body  # others read it masked
    assert 'data-testid="distance"' in body  # the seeker sees how far from home
    r = c.post(reverse("jobs:posting_edit", args=[p.pk]), data | {"title": "普工(夜班)"})
    assert r.status_code == 303
    p.refresh_from_db()
    assert p.title == "普工(夜班)"


def test_postings_pages_matrix(jobs, world, client_for, other_officer):
    draft = svc.create(jobs.employer_user, jobs.employer, **fields(title="草稿岗位"))
    users = {
        "anonymous": None,
        "outsider": world.outsider,
        "seeker": jobs.seeker_user,
        "member": jobs.employer_user,
        "other_member": jobs.pending_user,
        "officer": jobs.officer,
        "other_officer": other_officer,
        "superuser": world.admin,
    }
    live, e = jobs.posting.pk, jobs.employer.pk
    signed_in = {"anonymous": 302}
    expected = {
        ("get", "jobs:posting_new", e): {
            **signed_in,
            "outsider": 404,
            "seeker": 404,
            "member": 200,
            "other_member": 404,
            "officer": 403,
            "other_officer": 404,
            "superuser": 200,
        },
        ("get", "jobs:posting_detail", live): dict.fromkeys(users, 200) | signed_in,
        ("get", "jobs:posting_detail", draft.pk): {
            **signed_in,
            "outsider": 404,
            "seeker": 404,
            "member": 200,
            "other_member": 404,
            "officer": 200,
            "other_officer": 404,
            "superuser": 200,
        },
        ("get", "jobs:posting_edit", live): {
            **signed_in,
            "outsider": 404,
            "seeker": 404,
            "member": 200,
            "other_member": 404,
            "officer": 403,
            "other_officer": 404,
            "superuser": 200,
        },
        ("post", "jobs:posting_act", draft.pk): {
            **signed_in,
            "outsider": 404,
            "seeker": 404,
            "member": 400,  # an unknown action after the lookup
            "other_member": 404,
            "officer": 400,
            "other_officer": 404,
            "superuser": 400,
        },
    }
    failures = []
    for (method, name, pk), by_who in expected.items():
        url = reverse(name, args=[pk])
        for who, user in users.items():
            c = Client() if user is None else client_for(user)
            r = c.get(url) if method == "get" else c.post(url, {"action": "nothing"})
            if r.status_code != by_who[who]:
                failures.append(f"{who} {method} {name}({pk}) → {r.status_code}, expected {by_who[who]}")
    # the write itself: publishing the draft is the members' (staff 403)
    for who, status in [("officer", 403), ("seeker", 404), ("member", 303)]:
        r = client_for(users[who]).post(reverse("jobs:posting_act", args=[draft.pk]), {"action": "publish"})
        if r.status_code != status:
            failures.append(f"{who} publish → {r.status_code}, expected {status}")
    assert not failures, "\n".join(failures)
