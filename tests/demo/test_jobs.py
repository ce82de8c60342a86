"""``load_demo_jobs`` and its pure generator ``linli.demo.jobs`` (issue 14 §8)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from linli.accounts.models import User
from linli.core import clock
from linli.core.geo import metres
from linli.core.masking import is_valid_id_number
from linli.demo import jobs as demo_jobs
from linli.jobs import creditcode, vocabulary
from linli.jobs.models import (
    Application,
    ApplicationStep,
    Employer,
    EmploymentTarget,
    Placement,
    Posting,
    Seeker,
    ServiceRequest,
    TargetEntry,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)  # the seed's figures hold on 1 December (up to 30 Nov)
PASSWORD = "a-demo-password-for-tests"


def _world() -> demo_jobs.World:
    streets = (
        demo_jobs.StreetInfo(1, "001", "谢家湾街道", "500107/001/", 29.523, 106.524),
        demo_jobs.StreetInfo(2, "002", "杨家坪街道", "500107/002/", 29.506, 106.5105),
    )
    homes = tuple(
        demo_jobs.Home(100 + k, 29.50 + 0.004 * (k % 10), 106.50 + 0.005 * (k // 10), 1 if k < 30 else 2, 10 + k // 8,
                       40 + 7 * k)
        for k in range(40)
    )  # fmt: skip
    skills = tuple(demo_jobs.SkillInfo(code, zh, en, cat) for code, zh, en, cat in vocabulary.SKILLS)
    return demo_jobs.World(1, "500107/", "九龙坡区", streets, homes, 10, skills)


def _plan(seed: int = 7, seekers: int = 300) -> demo_jobs.Plan:
    return demo_jobs.plan(_world(), NOW, seed=seed, sizes=demo_jobs.Sizes.small(seekers))


# --- the generator ---------------------------------------------------------------------------------------


def test_the_plan_is_seeded() -> None:
    a, b = _plan(), _plan()
    assert a.seekers == b.seekers and a.employers == b.employers and a.postings == b.postings
    assert a.applications == b.applications and a.placements == b.placements
    assert a.entries == b.entries and a.targets == b.targets and a.requests == b.requests
    other = _plan(seed=8)
    assert [s.name for s in other.seekers[30:60]] != [s.name for s in a.seekers[30:60]]


def test_people_employers_and_postings_look_like_the_services_made_them() -> None:
    p = _plan()
    assert len(p.seekers) == 300
    assert len({s.id_number for s in p.seekers}) == 300
    assert all(is_valid_id_number(s.id_number) and re.fullmatch(r"1[3-9]\d{9}", s.phone) for s in p.seekers)
    assert all(creditcode.is_valid(e.credit_code) for e in p.employers)
    assert len({e.credit_code for e in p.employers}) == len(p.employers)
    statuses = Counter(e.status for e in p.employers)
    assert statuses["verified"] > 0.8 * len(p.employers) and statuses["pending"] > 0
    discoverable = sum(s.discoverable for s in p.seekers) / len(p.seekers)
    assert 0.3 < discoverable < 0.55
    for s in p.seekers:
        assert s.skills and 3000 <= s.wage_min <= s.wage_max <= 12000 and 20 <= s.hours <= 60
    for x in p.postings:
        e = p.employers[x.employer]
        assert 3000 <= x.wage_min <= x.wage_max <= 12000 and 20 <= x.hours <= 60 and x.headcount >= 1
        assert 0 <= x.hired <= x.headcount
        assert (x.status == "filled") == (x.hired >= x.headcount) or x.status == "draft"
        if x.published_at is not None and not x.story:
            assert e.verified_at is not None and x.published_at > e.verified_at  # live only once verified
        if e.status == "pending":
            assert x.status == "draft"


def test_applications_follow_the_services_steps() -> None:
    p = _plan()
    numbers = [a.number for a in p.applications]
    assert len(set(numbers)) == len(numbers)
    assert len({(a.posting, a.seeker) for a in p.applications}) == len(p.applications)
    for a in p.applications:
        assert re.fullmatch(rf"JY{a.created_at:%Y%m%d}-\d{{4}}", a.number)
        first = a.steps[0]
        assert first.kind == ("invite" if a.invited else "apply") and first.from_status == ""
        for before, after in zip(a.steps, a.steps[1:], strict=False):
            assert after.from_status == before.to_status and before.at <= after.at
        assert a.steps[-1].to_status == a.status and a.steps[-1].at <= NOW
        assert (a.contact_released_at is None) == (a.status == "invited" or (a.invited and a.steps[1].kind != "accept"))
        if a.status in ("applied", "interview", "hired", "withdrawn") or any(s.kind == "accept" for s in a.steps):
            assert a.cv["skills"] and a.contact_released_at is not None
        posting = p.postings[a.posting]
        assert posting.published_at is not None and posting.published_at <= a.created_at
    hires = [i for i, a in enumerate(p.applications) if a.status == "hired"]
    assert sorted(x.application for x in p.placements if x.application is not None) == hires
    per_posting = Counter(p.applications[i].posting for i in hires)
    assert all(p.postings[k].hired == n for k, n in per_posting.items())
    assert all(p.seekers[x.seeker].status == "employed" for x in p.placements)
    assert all(x.started_on <= NOW.date() for x in p.placements)


def test_the_machine_tool_plant_found_5_seniors_and_8_workers_in_a_month() -> None:
    p = _plan()
    plant = p.employers[p.story["plant"]]
    assert plant.status == "verified" and plant.key_enterprise
    for key, hires in (("senior", 5), ("workers", 8)):
        posting = p.postings[p.story[key]]
        apps = [a for a in p.applications if a.posting == p.story[key]]
        hired = [a for a in apps if a.status == "hired"]
        assert len(hired) == hires == posting.hired == posting.headcount and posting.status == "filled"
        assert all(NOW - timedelta(days=32) <= a.created_at for a in apps)
        assert sum(a.invited for a in apps) > len(apps) / 2  # found in the talent search, then invited
        for a in hired:
            s = p.seekers[a.seeker]
            assert set(s.skills) <= set(demo_jobs.PLANT_SKILLS) and s.discoverable
            assert 10_000 < metres(s.lat, s.lon, plant.lat, plant.lon) < 30_000  # remote: found within 30 km
    live = p.postings[p.story["plant_open"]]
    assert live.status == "open" and live.closes_on > NOW.date()


def test_the_demo_logins_stories() -> None:
    p = _plan()
    seeker = p.seekers[p.story["demo_seeker"]]
    assert seeker.username == "demo-seeker" and seeker.discoverable and seeker.status == "seeking"
    assert seeker.id_number == demo_jobs.DEMO_SEEKER_ID and is_valid_id_number(seeker.id_number)
    mine = {a.status for a in p.applications if a.seeker == p.story["demo_seeker"]}
    assert mine == {"applied", "interview", "declined", "withdrawn", "invited"}
    employer = p.story["demo_employer"]
    assert {m.username for m in p.members if m.employer == employer} == {"demo-employer"}
    assert any(m.username == "demo-employer" for m in p.members if m.employer == p.story["plant"])
    own = [i for i, x in enumerate(p.postings) if x.employer == employer]
    assert own and all(p.postings[i].status == "open" for i in own)
    assert len([a for a in p.applications if a.posting in own]) >= 10
    assert {u.username for u in p.users if u.login} == {"demo-seeker", "demo-employer", "demo-jobs"}


def test_the_figures_read_like_the_seed() -> None:
    assert demo_jobs.goals_for(NOW.date()) == demo_jobs.SEED_FIGURES
    assert demo_jobs.target_for(31_300, 0.8468) == 36_963
    assert demo_jobs.goals_for(date(2026, 6, 30))["new_jobs"] < 31_300 * 0.6
    p = _plan()
    year = NOW.year
    district = {t.metric: t.target for t in p.targets if t.place_kind == "district"}
    for metric in demo_jobs.METRICS:
        placed = sum(
            1
            for x in p.placements
            if x.started_on.year == year
            and (
                metric == "new_jobs"
                or getattr(x, "registered_unemployed" if metric == "reemployed" else "hard_to_employ")
            )
        )
        entered = sum(e.count for e in p.entries if e.metric == metric and e.on.year == year)
        assert placed + entered == demo_jobs.SEED_FIGURES[metric]
        assert all(e.on <= NOW.date() and e.source for e in p.entries)
    assert round(31_300 * 100 / district["new_jobs"], 2) == 84.68
    assert {t.place_id for t in p.targets if t.place_kind == "street"} == {1, 2}


def test_key_enterprise_requests() -> None:
    p = _plan(seekers=600)
    kinds = Counter(r.status for r in p.requests)
    assert kinds["closed"] > len(p.requests) / 2
    assert all(p.employers[r.employer].key_enterprise for r in p.requests)
    assert len({r.number for r in p.requests}) == len(p.requests)
    for r in p.requests:
        assert [s.at for s in r.steps] == sorted(s.at for s in r.steps) and r.steps[0].kind == "file"
        assert (r.satisfaction is not None) == any(s.kind == "rate" for s in r.steps)
        if r.satisfaction is not None:
            assert r.status == "closed"


# --- the loader -------------------------------------------------------------------------------------


@pytest.fixture
def district(db, monkeypatch, tmp_path):
    monkeypatch.setenv("LINLI_DEMO_PASSWORD", PASSWORD)
    monkeypatch.setenv("LINLI_VAR_DIR", str(tmp_path))
    call_command("load_demo", scale=0.02, verbosity=0, stdout=StringIO())
    return tmp_path


def test_needs_the_district_first(db):
    with pytest.raises(CommandError, match="load_demo"):
        call_command("load_demo_jobs", verbosity=0, stdout=StringIO())


def test_a_small_load_gives_the_logins_the_plant_and_the_figures(district):
    out = StringIO()
    with clock.frozen(NOW):
        call_command("load_demo_jobs", seekers=200, verbosity=0, stdout=out)
        assert "84.68%" in out.getvalue()
        assert Seeker.objects.count() == 200
        for username in ("demo-seeker", "demo-employer", "demo-jobs"):
            assert User.objects.get(username=username).check_password(PASSWORD), username
        seeker = Seeker.objects.get(user__username="demo-seeker")
        assert seeker._id_number() == demo_jobs.DEMO_SEEKER_ID and seeker.id_number_masked != demo_jobs.DEMO_SEEKER_ID
        assert set(seeker.applications.values_list("status", flat=True)) == {
            "applied", "interview", "declined", "withdrawn", "invited"
        }  # fmt: skip
        plant = Employer.objects.get(name=demo_jobs.PLANT_NAME)
        assert Placement.objects.filter(employer=plant).count() == 13
        assert plant.members.filter(user__username="demo-employer").exists()
        assert Employer.objects.filter(members__user__username="demo-employer", status="verified").count() == 2
        # the numbers and paths the services would give
        app = Application.objects.select_related("posting").first()
        assert app is not None and app.path == app.posting.path and re.fullmatch(r"JY\d{8}-\d{4}", app.number)
        assert ApplicationStep.objects.filter(kind="hire").count() == Placement.objects.count()
        assert all(p.path == p.seeker.path for p in Placement.objects.select_related("seeker")[:50])
        assert ServiceRequest.objects.filter(status="closed", satisfaction__isnull=False).exists()
        # the district's targets compute to the seed's completion (placements + entries)
        year = NOW.year
        d_path = plant.path.split("/")[0] + "/"
        target = EmploymentTarget.objects.get(year=year, path=d_path, metric="new_jobs").target
        placed = Placement.objects.filter(started_on__year=year, path__startswith=d_path).count()
        entered = TargetEntry.objects.filter(on__year=year, path__startswith=d_path, metric="new_jobs").aggregate(
            n=Sum("count")
        )["n"]
        assert placed + entered == 31_300 and target == 36_963
        assert f"{(placed + entered) * 100 / target:.2f}" == "84.68"
        hard = EmploymentTarget.objects.get(year=year, path=d_path, metric="hard_placed")
        assert hard.target > 1_563
        # posting rows are live as queries.postings.live() reads them
        live = Posting.objects.filter(status="open", employer__status="verified", closes_on__gte=NOW.date())
        assert live.count() >= 40
        # the plant's talent search: candidates within 30 km, none within 10 km
        from linli.jobs.queries import matching as jobs_matching

        jobs_matching.forget()
        open_post = plant.postings.get(status="open")
        found = jobs_matching.talent(open_post, radius_m=30_000)
        assert found and all(s.discoverable and s.status == "seeking" for s, _m in found)
        assert jobs_matching.talent(open_post, radius_m=10_000) == []


def test_if_empty_keeps_what_is_there(district):
    with clock.frozen(NOW):
        call_command("load_demo_jobs", seekers=100, verbosity=0, stdout=StringIO())
        counts = (Seeker.objects.count(), Employer.objects.count(), Application.objects.count())
        again = StringIO()
        call_command("load_demo_jobs", seekers=100, if_empty=True, verbosity=0, stdout=again)
        assert "not loaded" in again.getvalue()
        assert (Seeker.objects.count(), Employer.objects.count(), Application.objects.count()) == counts
        with pytest.raises(CommandError, match="exist"):
            call_command("load_demo_jobs", seekers=100, verbosity=0, stdout=StringIO())
