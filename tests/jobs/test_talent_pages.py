"""An employer's talent search and invitations (issue 14 §3; jobs:talent, jobs:invite): the index of
findable seekers agrees with a naive scan of the rows (by the posting's skills or chosen ones), hidden
seekers never appear nor can be invited, a row shows only what a seeker agreed to show, invited and
applied seekers show their status, and every kind of account on both routes (the matrix)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.urls import reverse

from linli.accounts.models import Role
from linli.accounts.services import grant_role
from linli.core.geo import metres
from linli.jobs.matching import Match, score
from linli.jobs.models import Application, Posting, Seeker, Skill
from linli.jobs.queries import matching as q
from tests import factories as f
from tests.jobs.conftest import LAT, LON, make_posting, make_seeker

MACHINING = ["6-18-01-01", "6-18-01-02", "6-18-01-08"]  # 车工, 铣工, 数控机床操作调整工


@pytest.fixture(autouse=True)
def _fresh_index() -> Any:
    q.connect_signals()  # JobsConfig.ready calls it (lead); idempotent
    q.forget()
    yield
    q.forget()


def naive_talent(posting: Posting, k: int, radius_m: float, skills: set[str] | None = None) -> list[Match]:
    """Every seeker of the database scored in Python: findable ones only (discoverable, looking for
    work), within the radius of the posting, score > 0; best first, ties by id."""
    job = q.posting_item(posting)
    if skills is not None:
        job["skills"] = frozenset(skills)
    out = []
    for s in Seeker.objects.prefetch_related("skills"):
        if not (s.discoverable and s.status == Seeker.Status.SEEKING):
            continue
        item = {
            "id": s.pk,
            "lat": s.lat,
            "lon": s.lon,
            "skills": {x.code for x in s.skills.all()},
            "wage_min": s.wage_min,
            "wage_max": s.wage_max,
            "hours": s.hours,
        }
        d = metres(s.lat, s.lon, posting.lat, posting.lon)
        if d <= radius_m:
            sc = score(item, job, d)
            if sc > 0:
                out.append(Match(s.pk, sc, d))
    out.sort(key=lambda m: (-m.score, m.posting_id))
    return out[:k]


def test_talent_agrees_with_a_naive_scan_and_never_shows_the_hidden(jobs, world):
    rnd = random.Random(3)
    codes = list(Skill.objects.values_list("code", flat=True).order_by("code"))[:8]
    for i in range(150):
        make_seeker(
            world.street1,
            f"求职者{i}",
            rnd.sample(codes, rnd.randint(0, 3)),
            lat=LAT + rnd.gauss(0, 0.1),
            lon=LON + rnd.gauss(0, 0.1),
            wage_min=rnd.choice([None, 3000, 5000, 9000]),
            hours=rnd.choice([None, 30, 40, 48]),
            discoverable=rnd.random() < 0.7,
            status=rnd.choice(["seeking", "seeking", "seeking", "employed", "paused"]),
        )
    hidden = set(Seeker.objects.exclude(discoverable=True, status="seeking").values_list("pk", flat=True))
    assert jobs.hidden.pk in hidden
    postings = [
        jobs.posting,
        make_posting(jobs.employer, "铣工", ["6-18-01-02"], wage_max=9000),
        make_posting(jobs.employer, "多面手", codes[:3], hours=48),
    ]
    checked = 0
    for posting in postings:
        for radius in (5000, 10_000, 30_000, 50_000):
            for k in (1, 10, 20):
                for skills in (None, set(rnd.sample(codes, 2)), set(MACHINING)):
                    got = q.talent(posting, k=k, radius_m=radius, skills=skills)
                    want = naive_talent(posting, k, radius, skills)
                    assert [m for _s, m in got] == want, (posting.pk, radius, k, skills)
                    assert all(s.pk == m.id for s, m in got)
                    assert not {s.pk for s, _m in got} & hidden
                    checked += len(want)
    assert checked > 300


def test_a_seeker_who_hides_leaves_at_once(jobs):
    assert [s.pk for s, _m in q.talent(jobs.posting)] == [jobs.seeker.pk]
    jobs.seeker.discoverable = False
    jobs.seeker.save()
    assert q.talent(jobs.posting) == []
    jobs.seeker.discoverable = True
    jobs.seeker.status = Seeker.Status.EMPLOYED
    jobs.seeker.save()
    assert q.talent(jobs.posting) == []
    jobs.seeker.status = Seeker.Status.SEEKING
    jobs.seeker.save()
    jobs.seeker.skills.clear()  # m2m_changed
    assert q.talent(jobs.posting) == []


def test_talent_page_shows_only_what_seekers_agreed_to(jobs, client_for):
    jobs.seeker.education = Seeker.Education.SENIOR
    jobs.seeker.experience_years = 12
    jobs.seeker.save()
    r = client_for(jobs.employer_user).get(reverse("jobs:talent", args=[jobs.posting.pk]))
    assert r.status_code == 200
    html = r.content.decode()
    assert "王**" in html and "王师傅" not in html
    assert "赵" not in html  # the hidden seeker
    for secret in ("13700137000", "137****7000", "110101199003070011", "1101**"):
        assert secret not in html
    assert str(jobs.seeker.lat) not in html and str(jobs.seeker.lon) not in html
    assert 'data-testid="talent-invite"' in html
    row = r.context["rows"][0]
    assert set(row) == {
        "id", "name", "skills", "shared", "experience_years", "education", "km", "wage_min", "wage_max",
        "hours", "percent", "grade", "status", "status_label",
    }  # fmt: skip


def test_machine_tool_plant_searches_by_chosen_skills_and_radius(jobs, world, client_for):
    miller = make_seeker(world.street1, "钱师傅", ["6-18-01-02"], lat=LAT + 0.2, lon=LON)  # ~22 km
    cnc = make_seeker(world.street1, "孙师傅", ["6-18-01-08"], lat=LAT - 0.1, lon=LON)  # ~11 km
    c = client_for(jobs.employer_user)
    url = reverse("jobs:talent", args=[jobs.posting.pk])
    r = c.get(url)  # the posting's own skill (车工), 10 km
    assert [row["id"] for row in r.context["rows"]] == [jobs.seeker.pk]
    r = c.get(url, {"radius": "30", "skill": MACHINING})
    assert r.status_code == 200
    assert {row["id"] for row in r.context["rows"]} == {jobs.seeker.pk, miller.pk, cnc.pk}
    r = c.get(url, {"radius": "20", "skill": MACHINING})
    assert {row["id"] for row in r.context["rows"]} == {jobs.seeker.pk, cnc.pk}
    for bad in ({"radius": "15"}, {"radius": "x"}, {"skill": "no-such-code"}):
        r = c.get(url, bad)
        assert r.status_code == 400, bad
        assert [str(m) for m in r.context["messages"]], bad


def test_invite_from_the_search(jobs, client_for):
    c = client_for(jobs.employer_user)
    url = reverse("jobs:invite", args=[jobs.posting.pk])
    r = c.post(url, {"seeker": jobs.seeker.pk, "radius": "20", "skill": MACHINING})
    assert r.status_code == 303
    assert r["Location"].startswith(reverse("jobs:talent", args=[jobs.posting.pk]) + "?radius=20&skill=")
    app = Application.objects.get(posting=jobs.posting, seeker=jobs.seeker)
    assert app.status == Application.Status.INVITED and app.invited
    r = c.get(reverse("jobs:talent", args=[jobs.posting.pk]))
    html = r.content.decode()
    assert 'data-testid="talent-status"' in html and 'data-testid="talent-invite"' not in html
    # twice: a clear 409, nothing more written
    r = c.post(url, {"seeker": jobs.seeker.pk})
    assert r.status_code == 409
    assert Application.objects.filter(posting=jobs.posting, seeker=jobs.seeker).count() == 1
    # the hidden seeker and nonsense are not found; nothing written
    for bad in (jobs.hidden.pk, 999_999, "x", ""):
        r = c.post(url, {"seeker": bad})
        assert r.status_code == 404, bad
    assert not Application.objects.filter(seeker=jobs.hidden).exists()


def test_an_applied_seeker_shows_the_status(jobs, client_for):
    from linli.jobs.services import applications as svc

    svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    r = client_for(jobs.employer_user).get(reverse("jobs:talent", args=[jobs.posting.pk]))
    assert r.context["rows"][0]["status"] == Application.Status.APPLIED
    assert 'data-testid="talent-invite"' not in r.content.decode()


def test_talent_pages_matrix(jobs, world, client_for, client):
    """jobs:talent: the employer's members and the employment service of the posting's place (200);
    who sees the posting but is neither, 403; everyone else 404. jobs:invite: members only (303);
    the service and superusers 403 (inviting is the employer's step); everyone else 404."""
    other_officer = f.UserFactory(username="officer_street2")
    grant_role(world.admin, other_officer, Role.EMPLOYMENT_OFFICER.value, world.street2)
    recruiter = f.UserFactory(username="recruiter1")
    jobs.employer.members.create(user=recruiter, role="recruiter")
    talent = reverse("jobs:talent", args=[jobs.posting.pk])
    invite = reverse("jobs:invite", args=[jobs.posting.pk])
    for r in (client.get(talent), client.post(invite, {"seeker": jobs.seeker.pk})):
        assert r.status_code == 302 and "/login" in r["Location"]
    cases = {
        "employer member": (jobs.employer_user, 200, 303),
        "recruiter": (recruiter, 200, 409),  # already invited by the member above
        "another employer's member": (jobs.pending_user, 404, 404),
        "seeker": (jobs.seeker_user, 404, 404),
        "hidden seeker": (jobs.hidden_user, 404, 404),
        "outsider (community B)": (world.outsider, 404, 404),
        "officer": (jobs.officer, 200, 403),
        "street command": (world.users["street_command"], 200, 403),
        "grid worker (sees, no jobs)": (world.users["grid_fulltime"], 404, 404),
        "department staff (sees, no jobs)": (world.users["department_staff"], 403, 403),
        "other street's officer": (other_officer, 404, 404),
        "superuser": (world.admin, 200, 403),
    }
    failures = []
    for who, (user, see, inv) in cases.items():
        c = client_for(user)
        r = c.get(talent)
        if r.status_code != see:
            failures.append(f"{who}: talent {r.status_code}, expected {see}")
        r = c.post(invite, {"seeker": jobs.seeker.pk})
        if r.status_code != inv:
            failures.append(f"{who}: invite {r.status_code}, expected {inv}")
    assert not failures, "\n".join(failures)
    assert Application.objects.filter(seeker=jobs.seeker).count() == 1
