"""A seeker's nearby jobs (issue 14 §3; linli/jobs/queries/matching.py, jobs:nearby): the process
index agrees with a naive scan over the database rows (live postings only, category filter exact),
a posting's change, expiry, close or its employer's suspension shows on the next request (the
generations), the page's list, filters and errors, and the page with every kind of account."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from linli.accounts.models import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.core.geo import metres
from linli.jobs.matching import Match, score
from linli.jobs.models import Employer, JobCategory, Posting, Seeker, Skill
from linli.jobs.queries import matching as q
from tests import factories as f
from tests.jobs.conftest import LAT, LON, make_employer, make_posting, make_seeker


@pytest.fixture(autouse=True)
def _fresh_index() -> Any:
    q.connect_signals()  # JobsConfig.ready calls it (lead); idempotent
    q.forget()
    yield
    q.forget()


# --- the naive scan ----------------------------------------------------------------------------------


def naive_nearby(
    seeker: Seeker, k: int, radius_m: float, category: int | None = None, rows: list[Posting] | None = None
) -> list[Match]:
    """Every posting of the database, scored in Python: live ones only (open, verified employer,
    not past closing), of the category, within the radius, score > 0; best first, ties by id."""
    me = q.seeker_item(seeker)
    today = clock.today()
    out = []
    if rows is None:
        rows = list(Posting.objects.select_related("employer").prefetch_related("skills"))
    for p in rows:
        live = p.status == "open" and p.employer.status == "verified" and p.closes_on >= today
        if not live or (category is not None and p.category_id != category):
            continue
        item = {
            "id": p.pk,
            "lat": p.lat,
            "lon": p.lon,
            "skills": {s.code for s in p.skills.all()},
            "wage_min": p.wage_min,
            "wage_max": p.wage_max,
            "hours": p.hours,
        }
        d = metres(me["lat"], me["lon"], p.lat, p.lon)
        if d <= radius_m:
            s = score(me, item, d)
            if s > 0:
                out.append(Match(p.pk, s, d))
    out.sort(key=lambda m: (-m.score, m.posting_id))
    return out[:k]


def _city(world: Any, rnd: random.Random, n: int = 120) -> tuple[list[Employer], list[str]]:
    codes = list(Skill.objects.values_list("code", flat=True).order_by("code"))[:8]
    employers = [
        make_employer(world.street1, "甲公司", "TEST00000000000001"),
        make_employer(world.street1, "乙公司", "TEST00000000000002", status="pending"),
        make_employer(world.street1, "丙公司", "TEST00000000000003", status="suspended"),
    ]
    for i in range(n):
        employer = employers[0] if i % 5 else rnd.choice(employers)
        skills = rnd.sample(codes, rnd.randint(1, 3))
        lo = rnd.randrange(2500, 9000, 500)
        make_posting(
            employer,
            f"岗位{i}",
            skills,
            lat=LAT + rnd.gauss(0, 0.05),
            lon=LON + rnd.gauss(0, 0.05),
            wage_min=lo,
            wage_max=lo + rnd.randrange(0, 4000, 500),
            hours=rnd.choice([20, 30, 40, 44, 48, 56]),
            status=rnd.choice(["open", "open", "open", "draft", "closed", "filled"]),
            closes_on=clock.today() + timedelta(days=rnd.choice([-3, -1, 0, 5, 30])),
        )
    return employers, codes


def test_nearby_agrees_with_a_naive_scan_of_the_rows(jobs, world):
    rnd = random.Random(14)
    _employers, codes = _city(world, rnd)
    categories = list(JobCategory.objects.values_list("pk", flat=True))
    rows = list(Posting.objects.select_related("employer").prefetch_related("skills"))
    checked = 0
    for i in range(25):
        seeker = make_seeker(
            world.street1,
            f"求职者{i}",
            rnd.sample(codes, rnd.randint(1, 4)),
            lat=LAT + rnd.gauss(0, 0.04),
            lon=LON + rnd.gauss(0, 0.04),
            wage_min=rnd.choice([None, 3000, 5000, 8000]),
            hours=rnd.choice([None, 30, 40, 48]),
        )
        for radius in (1000, 3000, 5000, 10_000, 20_000):
            for k in (1, 5, 20):
                category = rnd.choice([None, None, *categories[:3]])
                got = [(p.pk, m) for p, m in q.nearby(seeker, k=k, radius_m=radius, category=category)]
                want = naive_nearby(seeker, k, radius, category, rows)
                assert [m for _pk, m in got] == want, (seeker.pk, radius, k, category)
                assert all(pk == m.posting_id for pk, m in got)
                checked += len(want)
    assert checked > 150  # the comparison is not vacuous


def test_the_default_radius_is_how_far_the_seeker_travels(jobs, world):
    near = make_posting(jobs.employer, "近处车工", ["6-18-01-01"], lat=LAT + 0.01, lon=LON)  # ~1.1 km
    far = make_posting(jobs.employer, "远处车工", ["6-18-01-01"], lat=LAT + 0.05, lon=LON)  # ~5.6 km
    seeker = make_seeker(world.street1, "李师傅", ["6-18-01-01"], travel_m=3000)
    found = [p.pk for p, _m in q.nearby(seeker)]
    assert near.pk in found and far.pk not in found
    assert far.pk in [p.pk for p, _m in q.nearby(seeker, radius_m=10_000)]


def test_changes_show_on_the_next_request(jobs, world):
    seeker = jobs.seeker
    posting = jobs.posting
    assert [p.pk for p, _m in q.nearby(seeker)] == [posting.pk]
    # a new posting (and its skills, set after the save: m2m_changed)
    other = make_posting(jobs.employer, "铣工", ["6-18-01-02"])
    assert other.pk not in [p.pk for p, _m in q.nearby(seeker)]
    other.skills.add(Skill.objects.get(code="6-18-01-01"))
    assert other.pk in [p.pk for p, _m in q.nearby(seeker)]
    # the seeker's own skills change: read at each request
    seeker.skills.set(Skill.objects.filter(code="4-03-02-01"))
    assert q.nearby(seeker) == []
    seeker.skills.set(Skill.objects.filter(code="6-18-01-01"))
    # a wage change moves the score
    before = dict((p.pk, m.score) for p, m in q.nearby(seeker))[posting.pk]
    posting.wage_min, posting.wage_max = 3000, 3300  # below the seeker's 4,000: the wage part falls
    posting.save()
    after = dict((p.pk, m.score) for p, m in q.nearby(seeker))[posting.pk]
    assert after < before
    # closed
    posting.status = Posting.Status.CLOSED
    posting.save()
    assert posting.pk not in [p.pk for p, _m in q.nearby(seeker)]
    # the employer suspended: its postings leave
    assert other.pk in [p.pk for p, _m in q.nearby(seeker)]
    jobs.employer.status = Employer.Status.SUSPENDED
    jobs.employer.save()
    assert q.nearby(seeker) == []


@pytest.mark.dates
def test_an_expired_posting_leaves_at_midnight(jobs):
    with clock.frozen("2026-06-01 10:00"):
        posting = make_posting(jobs.employer, "临期车工", ["6-18-01-01"], closes_on=clock.today())
        assert posting.pk in [p.pk for p, _m in q.nearby(jobs.seeker)]
        clock.travel("2026-06-01 23:59")
        assert posting.pk in [p.pk for p, _m in q.nearby(jobs.seeker)]
        clock.travel("2026-06-02 00:01")  # no save, no bump: the date alone
        assert posting.pk not in [p.pk for p, _m in q.nearby(jobs.seeker)]


# --- the page ------------------------------------------------------------------------------------------


def test_nearby_page_lists_and_maps_the_matches(jobs, world, client_for):
    cook = make_posting(jobs.employer, "中餐厨师", ["4-03-02-01"])
    jobs.seeker.skills.add(Skill.objects.get(code="4-03-02-01"))
    c = client_for(jobs.seeker_user)
    r = c.get(reverse("jobs:nearby"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="nearby-list"' in html and "数控车工" in html and "中餐厨师" in html
    assert "重庆精工机床有限公司" in html and re.search(r"5,?000–7,?000", html)
    assert 'id="nearby-data"' in html and "nearby.js" in html
    data = r.context["map_data"]
    assert {p["id"] for p in data["postings"]} == {jobs.posting.pk, cook.pk}
    # the home is approximate (rounded), never the exact point
    assert data["home"] == [round(LAT * 200) / 200, round(LON * 200) / 200]
    # the category filter keeps one kind
    r = c.get(reverse("jobs:nearby"), {"category": "catering"})
    assert [row["posting"].pk for row in r.context["rows"]] == [cook.pk]
    # a radius from the list
    far = make_posting(jobs.employer, "远处车工", ["6-18-01-01"], lat=LAT + 0.1, lon=LON)  # ~11 km
    r = c.get(reverse("jobs:nearby"), {"radius": "20"})
    assert far.pk in [row["posting"].pk for row in r.context["rows"]]
    r = c.get(reverse("jobs:nearby"), {"radius": "5"})
    assert far.pk not in [row["posting"].pk for row in r.context["rows"]]
    assert r.context["radius_value"] == 5


def test_nearby_page_refuses_bad_filters_clearly(jobs, client_for):
    c = client_for(jobs.seeker_user)
    for params in ({"radius": "7"}, {"radius": "-1"}, {"radius": "1e9"}, {"category": "nope"}):
        r = c.get(reverse("jobs:nearby"), params)
        assert r.status_code == 400, params
        assert [str(m) for m in r.context["messages"]], params
    r = c.get(reverse("jobs:nearby"), {"radius": "7"}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400


def test_nearby_page_without_a_profile_or_skills(jobs, world, client_for):
    r = client_for(jobs.employer_user).get(reverse("jobs:nearby"))
    assert r.status_code == 200 and 'data-testid="nearby-no-profile"' in r.content.decode()
    assert "nearby-map" not in r.content.decode()
    jobs.seeker.skills.clear()
    r = client_for(jobs.seeker_user).get(reverse("jobs:nearby"))
    assert r.status_code == 200 and 'data-testid="nearby-no-skills"' in r.content.decode()


def test_nearby_pages_matrix(jobs, world, client_for, client):
    """jobs:nearby is the signed-in account's own page: its own matches or the prompt to make a
    profile; anonymous → the sign-in page. Nobody sees another person's matches through it."""
    other_officer = f.UserFactory(username="officer_street2")
    grant_role(world.admin, other_officer, Role.EMPLOYMENT_OFFICER.value, world.street2)
    url = reverse("jobs:nearby")
    r = client.get(url)
    assert r.status_code == 302 and "/login" in r["Location"]
    expected = {
        "seeker": (jobs.seeker_user, "list"),
        "hidden seeker": (jobs.hidden_user, "list"),
        "employer member": (jobs.employer_user, "prompt"),
        "outsider": (world.outsider, "prompt"),
        "officer": (jobs.officer, "prompt"),
        "other street's officer": (other_officer, "prompt"),
        "superuser": (world.admin, "prompt"),
    }
    failures = []
    for who, (user, shows) in expected.items():
        r = client_for(user).get(url)
        html = r.content.decode()
        got = "list" if 'data-testid="nearby-list"' in html else "prompt" if "nearby-no-profile" in html else "?"
        if r.status_code != 200 or got != shows:
            failures.append(f"{who}: {r.status_code} {got}, expected 200 {shows}")
        if r.status_code == 200 and who not in ("seeker", "hidden seeker") and "数控车工" in html:
            failures.append(f"{who} sees a seeker's matches")
    assert not failures, failures
