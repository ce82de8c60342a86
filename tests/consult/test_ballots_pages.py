"""Ballot pages and API, end to end per role: a community worker of A runs a ballot on A, the
resident of dwelling_a votes online, grid workers see totals but never who voted how, results
hidden until close, refusals shown in both languages, the export recomputes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.consult.models import Ballot, RollEntry, Vote, VoteRecord
from linli.consult.panels.ballots import panel
from linli.consult.queries import ballots as q
from tests import exports as bg
from tests import factories as f
from tests.consult.test_ballots_helpers import make_ballot, open_ballot, own_building, past_closing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _resident_is_verified_owner(world):
    """The resident of dwelling_a is the verified voting account of its owner 张三 (issue 8: a
    resident grant alone gives no vote; tests/consult/test_ballots_owner.py covers that)."""
    f.owner_account(world.users["resident"], world.owner_a, by=world.users["community_worker"])


def test_community_worker_runs_a_ballot_through_the_pages(world, project, client_for):
    own_building(world)
    c = client_for(world.users["community_worker"])
    url = reverse("consult:ballot_new", args=[world.compound_a.pk])
    assert c.get(url).status_code == 200
    closes = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(
        url,
        {
            "title": "1栋外墙改造",
            "question": "是否同意?",
            "matter": "7",
            "scope_kind": "building",
            "building": world.building_a.pk,
            "project": project.pk,
            "closes_at": closes,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    b = Ballot.objects.get(title="1栋外墙改造")
    assert b.project == project and b.status == "draft"
    page = c.get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert "王五" in page  # the roll preview names owners to staff
    # opening freezes the roll: the first POST asks, saying so; confirm=1 does it
    r = c.post(reverse("consult:ballot_open", args=[b.pk]))
    assert r.status_code == 200 and 'data-testid="confirm-page"' in r.content.decode()
    b.refresh_from_db()
    assert b.status == "draft"
    assert c.post(reverse("consult:ballot_open", args=[b.pk]), {"confirm": "1"}).status_code == 302
    b.refresh_from_db()
    assert b.status == "open"
    key = RollEntry.objects.filter(ballot=b).exclude(dwelling=world.dwelling_a).first().owner_key
    r = c.post(reverse("consult:ballot_enter", args=[b.pk]), {"owner_key": key, "channel": "proxy", "choice": "yes"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "代为投票须写明" in body and "needs the reason" not in body  # the page's language only
    c.cookies["django_language"] = "en"
    r = c.post(reverse("consult:ballot_enter", args=[b.pk]), {"owner_key": key, "channel": "proxy", "choice": "yes"})
    assert r.status_code == 400 and "needs the reason" in r.content.decode()
    assert "代为投票须写明" not in r.content.decode()
    c.cookies["django_language"] = "zh-hans"
    r = c.post(
        reverse("consult:ballot_enter", args=[b.pk]),
        {"owner_key": key, "channel": "proxy", "choice": "yes", "reason": "老人行动不便"},
    )
    assert r.status_code == 302
    page = c.get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert 'data-testid="roll"' in page and "老人行动不便" in page
    _run, r = bg.export_file(c, reverse("consult:ballot_export", args=[b.pk]))
    assert r["Content-Type"].startswith("application/vnd.openxmlformats") and _run.filename == f"表决-{b.pk}.xlsx"
    past_closing(b)  # counted as announced, after its closing time (days later: sign in again)
    c = client_for(world.users["community_worker"])
    assert c.post(reverse("consult:ballot_close", args=[b.pk]), {"confirm": "1"}).status_code == 302
    b.refresh_from_db()
    assert b.status == "closed" and b.result["counts"]["voted"] == 1
    r = c.post(reverse("consult:ballot_close", args=[b.pk]), {"confirm": "1"})
    assert r.status_code == 409 and "表决已结束" in r.content.decode()
    lst = c.get(reverse("consult:ballot_list", args=[world.compound_a.pk]) + f"?project={project.pk}")
    assert "1栋外墙改造" in lst.content.decode()
    # the project panel (registered by ConsultConfig.ready) lists it, with the result
    p = panel(project, world.users["community_worker"])
    assert p is not None and p.context["ballots"][0]["result"]["approved"] is False
    public = panel(project, None)
    assert public is not None and public.context["ballots"][0]["url"] is None
    from django.template.loader import render_to_string

    html = render_to_string(public.template, public.context)
    assert "1栋外墙改造" in html and "王五" not in html


def test_resident_votes_online_sees_own_vote_and_totals(world, client_for):
    own_building(world)
    b = open_ballot(world)
    c = client_for(world.users["resident"])
    page = c.get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert 'name="choice"' in page and 'data-testid="roll"' not in page
    assert "王五" not in page  # no other owner's name
    r = c.post(reverse("consult:ballot_vote", args=[b.pk]), {"choice": "yes", "client_key": "tap-1"})
    assert r.status_code == 302
    c.post(reverse("consult:ballot_vote", args=[b.pk]), {"choice": "yes", "client_key": "tap-1"})  # double tap
    assert VoteRecord.objects.filter(ballot=b).count() == 1
    page = c.get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert 'data-testid="my-vote"' in page and 'data-testid="verdict"' in page
    r = c.post(reverse("consult:ballot_vote", args=[b.pk]), {"choice": "perhaps"})
    assert r.status_code == 400 and "请选择同意、反对或弃权" in r.content.decode()
    assert "Choose yes, no or abstain" not in r.content.decode()  # a Chinese page speaks Chinese only
    mine = c.get(reverse("consult:ballot_mine")).content.decode()
    assert b.title in mine


def test_hidden_results_until_close(world, client_for):
    own_building(world)
    b = open_ballot(world, hide_results=True)
    resident = client_for(world.users["resident"])
    resident.post(reverse("consult:ballot_vote", args=[b.pk]), {"choice": "yes"})
    page = resident.get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert 'data-testid="verdict"' not in page
    api = resident.get(f"/api/v1/ballots/{b.pk}/").json()
    assert api["result"] is None
    staff = client_for(world.users["community_worker"])
    assert staff.get(f"/api/v1/ballots/{b.pk}/").json()["result"]["counts"]["voted"] == 1
    past_closing(b)  # days later: both sign in again
    staff, resident = client_for(world.users["community_worker"]), client_for(world.users["resident"])
    assert staff.post(reverse("consult:ballot_close", args=[b.pk]), {"confirm": "1"}).status_code == 302
    assert resident.get(f"/api/v1/ballots/{b.pk}/").json()["result"]["counts"]["voted"] == 1


def test_grid_force_sees_totals_not_who_voted_how(world, client_for):
    own_building(world)
    b = open_ballot(world)
    client_for(world.users["resident"]).post(reverse("consult:ballot_vote", args=[b.pk]), {"choice": "no"})
    c = client_for(world.users["grid_force"])
    page = c.get(reverse("consult:ballot_detail", args=[b.pk]))
    assert page.status_code == 200 and 'data-testid="roll"' not in page.content.decode()
    assert "张三" not in page.content.decode()
    assert c.get(f"/api/v1/ballots/{b.pk}/votes/").status_code == 403
    assert c.get(reverse("consult:ballot_export", args=[b.pk])).status_code == 403


def test_api_flow(world, client_for):
    own_building(world)
    staff = client_for(world.users["community_worker"])
    r = staff.post(
        "/api/v1/ballots/",
        {
            "title": "加装电梯",
            "question": "1单元加装电梯",
            "matter": "lift",
            "scope_kind": "unit",
            "scope_id": world.dwelling_a.unit_id,
            "closes_at": (timezone.now() + timedelta(days=5)).isoformat(),
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.json()
    bid = r.json()["id"]
    ground = [world.dwelling_a.pk]
    assert (
        staff.post(f"/api/v1/ballots/{bid}/lift/", {"occupied": ground}, content_type="application/json").status_code
        == 200
    )
    assert staff.post(f"/api/v1/ballots/{bid}/open/").json()["status"] == "open"
    # a bad vote: bilingual 4xx, nothing changed
    r = staff.post(
        f"/api/v1/ballots/{bid}/vote/",
        {"choice": "yes", "channel": "proxy", "owner_key": f"p:{world.owner_a.pk}"},
        content_type="application/json",
    )
    assert r.status_code == 400 and {"zh", "en", "code"} <= set(r.json()["errors"][0])
    assert not Vote.objects.filter(ballot_id=bid).exists()
    resident = client_for(world.users["resident"])
    r = resident.post(f"/api/v1/ballots/{bid}/vote/", {"choice": "yes"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["owner_key"] == f"p:{world.owner_a.pk}"
    r = staff.post(
        f"/api/v1/ballots/{bid}/lift/",
        {"dwelling": world.dwelling_a.pk, "consents": True},
        content_type="application/json",
    )
    assert r.status_code == 200
    assert staff.get(f"/api/v1/ballots/{bid}/votes/").json()["count"] == 1
    past_closing(Ballot(pk=bid))  # days later: both sign in again
    staff, resident = client_for(world.users["community_worker"]), client_for(world.users["resident"])
    closed = staff.post(f"/api/v1/ballots/{bid}/close/").json()
    assert closed["status"] == "closed" and closed["result"]["lift"]["all_consented"] is True
    r = resident.post(f"/api/v1/ballots/{bid}/vote/", {"choice": "no"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "ballot_closed"
    assert staff.get(f"/api/v1/ballots/{bid}/export/").status_code == 405  # starting work is a POST
    x = bg.start(staff, f"/api/v1/ballots/{bid}/export/")
    assert x.status_code == 202 and x["Location"] == x.json()["url"] and x.json()["status"] in {"queued", "done"}
    assert x.json()["file"].endswith(reverse("runs:file", args=[x.json()["run"]]))
    f = staff.get(x.json()["file"])
    assert f.status_code == 200
    dec = q.recompute_from_workbook(io.BytesIO(bg.content(f)))
    assert dec.approved == closed["result"]["approved_by_vote"]
    assert (
        f"{dec.participating_area.numerator}/{dec.participating_area.denominator}"
        == (closed["result"]["participating_area"]["fraction"])
    )


def test_outsider_gets_404_everywhere(world, client_for):
    own_building(world)
    b = open_ballot(world)
    draft = make_ballot(world)
    c = client_for(world.outsider)
    for pk in (b.pk, draft.pk):
        assert c.get(reverse("consult:ballot_detail", args=[pk])).status_code == 404
        assert c.get(f"/api/v1/ballots/{pk}/").status_code == 404
