"""Pages of seekers (issue 14 §1): who reaches which page (the matrix), a seeker sees only
themselves, an employer never lists seekers here, the masked list with its filters and counts, the
desk registration, the seeker's page with its logged reveal, and my profile's form round trip."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from linli.accounts.models import AccessLog
from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.jobs.models import Seeker
from tests import factories as f
from tests.jobs.conftest import LAT, LON


def other_officer(world: Any) -> Any:
    user = f.UserFactory(username="officer_street2")
    grant_role(world.admin, user, Role.EMPLOYMENT_OFFICER.value, world.street2)
    return user


def test_seekers_pages_matrix(jobs, world, client):
    """Each seekers route × anonymous, a plain account, the seeker, an employer's member, the
    street's officer, another street's officer, a community worker elsewhere, the superuser."""
    users = {
        "anonymous": None,
        "plain": f.UserFactory(username="plain"),
        "seeker": jobs.seeker_user,
        "employer": jobs.employer_user,
        "officer": jobs.officer,
        "officer_street2": other_officer(world),
        "outsider": world.outsider,
        "superuser": world.admin,
    }
    own = jobs.seeker.pk
    routes = {
        "home": ("get", reverse("jobs:home")),
        "seeker_me": ("get", reverse("jobs:seeker_me")),
        "seeker_list": ("get", reverse("jobs:seeker_list")),
        "seeker_new": ("get", reverse("jobs:seeker_new")),
        "seeker_detail": ("get", reverse("jobs:seeker_detail", args=[own])),
        "seeker_reveal": ("post", reverse("jobs:seeker_reveal", args=[own])),
    }
    expected = {
        #                  home me   list new  detail reveal
        "anonymous": (302, 302, 302, 302, 302, 302),
        "plain": (200, 200, 403, 403, 404, 404),
        "seeker": (200, 200, 403, 403, 403, 403),
        "employer": (200, 200, 403, 403, 404, 404),
        "officer": (200, 200, 200, 200, 200, 200),
        "officer_street2": (200, 200, 200, 200, 404, 404),
        "outsider": (200, 200, 200, 403, 404, 404),
        "superuser": (200, 200, 200, 200, 200, 200),
    }
    failures = []
    for who, user in users.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for (name, (method, url)), want in zip(routes.items(), expected[who], strict=True):
            data = {"field": "phone", "reason": "推荐岗位"} if method == "post" else None
            got = getattr(client, method)(url, data).status_code
            if got != want:
                failures.append(f"{who} {name}: {got}, expected {want}")
    assert not failures, failures
    # the reveals that were allowed were logged, with the reason
    assert AccessLog.objects.filter(object_type="jobs.Seeker", what="reveal_phone").count() == 2


def test_a_seeker_sees_only_themselves_and_employers_list_no_seekers(jobs, world, client_for):
    c = client_for(jobs.seeker_user)
    page = c.get(reverse("jobs:seeker_me")).content.decode()
    assert "王师傅" in page and "赵女士" not in page
    assert c.get(reverse("jobs:seeker_detail", args=[jobs.hidden.pk])).status_code == 404
    e = client_for(jobs.employer_user)
    assert e.get(reverse("jobs:seeker_list")).status_code == 403
    for s in (jobs.seeker, jobs.hidden):
        assert e.get(reverse("jobs:seeker_detail", args=[s.pk])).status_code == 404
    home = e.get(reverse("jobs:home")).content.decode()
    assert "王师傅" not in home and "赵女士" not in home and 'data-testid="hub-employer"' in home


def test_the_list_is_masked_filtered_and_counted(jobs, world, client_for):
    Seeker.objects.filter(pk=jobs.hidden.pk).update(hard_to_employ=True, status="paused")
    c = client_for(jobs.officer)
    page = c.get(reverse("jobs:seeker_list")).content.decode()
    assert "王师傅" in page and "赵女士" in page
    assert "13700137000" not in page and "137****7000" in page
    assert "110101199003070011" not in page
    hard = c.get(reverse("jobs:seeker_list"), {"hard": "1"}).content.decode()
    assert "赵女士" in hard and "王师傅" not in hard
    by_skill = c.get(reverse("jobs:seeker_list"), {"skill": "4-03-02-01"}).content.decode()
    assert "王师傅" not in by_skill and "赵女士" not in by_skill
    by_cat = c.get(reverse("jobs:seeker_list"), {"category": "manufacturing", "status": "seeking"}).content.decode()
    assert "王师傅" in by_cat and "赵女士" not in by_cat
    odd = c.get(reverse("jobs:seeker_list"), {"community": "99999999999999999999", "page": "x"})
    assert odd.status_code == 200
    c2 = client_for(other_officer(world))
    assert "王师傅" not in c2.get(reverse("jobs:seeker_list")).content.decode()


def test_desk_registration_and_the_seekers_page(jobs, world, client_for):
    c = client_for(jobs.officer)
    form = {
        "name": "陈阿姨",
        "phone": "13611112222",
        "street": str(world.street1.pk),
        "community": str(world.comm_b.pk),
        "skills": ["4-10-01-05", "4-10-01-06"],
        "wage_min": "3500",
        "wage_max": "5000",
        "hours": "40",
        "travel_km": "3",
        "status": "seeking",
        "hard_to_employ": "1",
        "lat": "",
        "lon": "",
    }
    bad = c.post(reverse("jobs:seeker_new"), form | {"wage_min": "6000"})
    assert (
        bad.status_code == 400
        and "陈阿姨" in bad.content.decode()
        and not Seeker.objects.filter(name="陈阿姨").exists()
    )
    r = c.post(reverse("jobs:seeker_new"), form)
    assert r.status_code == 303, r.content.decode()[:2000]
    s = Seeker.objects.get(name="陈阿姨")
    assert s.source == "desk" and s.hard_to_employ and s.travel_m == 3000 and s.path == world.comm_b.path
    page = c.get(r["Location"]).content.decode()
    assert "136****2222" in page and "13611112222" not in page
    # the full phone once, with a reason, logged
    shown = c.post(
        reverse("jobs:seeker_reveal", args=[s.pk]), {"field": "phone", "reason": "电话推荐岗位"}, HTTP_HX_REQUEST="true"
    )
    assert shown.status_code == 200 and "13611112222" in shown.content.decode()
    assert AccessLog.objects.filter(object_id=str(s.pk), what="reveal_phone", reason="电话推荐岗位").exists()
    no_reason = c.post(reverse("jobs:seeker_reveal", args=[s.pk]), {"field": "phone", "reason": ""})
    assert no_reason.status_code == 400 and "13611112222" not in no_reason.content.decode()
    # the desk record: status and the flags
    r = c.post(reverse("jobs:seeker_detail", args=[s.pk]), {"status": "employed", "registered_unemployed": "1"})
    assert r.status_code == 303
    s.refresh_from_db()
    assert s.status == "employed" and s.registered_unemployed and not s.hard_to_employ
    # the same ID number twice: a 409 with the way to the existing profile
    dup = c.post(reverse("jobs:seeker_new"), form | {"id_number": "110101199003070011"})
    assert dup.status_code == 409 and reverse("jobs:seeker_detail", args=[jobs.seeker.pk]) in dup.content.decode()


def test_my_profile_round_trip(jobs, world, client_for):
    user = f.UserFactory(username="newcomer")
    c = client_for(user)
    page = c.get(reverse("jobs:seeker_me")).content.decode()
    assert 'data-testid="seeker-form"' in page and "6-18-01-01" in page
    form = {
        "name": "周师傅",
        "street": str(world.street1.pk),
        "lat": f"{LAT + 0.002:.6f}",
        "lon": f"{LON:.6f}",
        "skills": ["6-18-01-01"],
        "wage_min": "5000",
        "wage_max": "7000",
        "hours": "40",
        "travel_km": "10",
        "status": "seeking",
        "discoverable": "1",
        "hard_to_employ": "1",  # not the person's to set: ignored on this page
    }
    r = c.post(reverse("jobs:seeker_me"), form)
    assert r.status_code == 303
    s = Seeker.objects.get(user=user)
    assert s.discoverable and not s.hard_to_employ and s.travel_m == 10_000 and s.source == "online"
    r = c.post(reverse("jobs:seeker_me"), form | {"discoverable": "", "hours": "99"})
    assert r.status_code == 400
    assert Seeker.objects.get(pk=s.pk).discoverable
    r = c.post(reverse("jobs:seeker_me"), {k: v for k, v in form.items() if k != "discoverable"})
    assert r.status_code == 303 and not Seeker.objects.get(pk=s.pk).discoverable
