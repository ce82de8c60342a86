"""A ballot closes only as announced (issue 8, point 5): counting before the announced closing
time is refused unless every owner on the roll has voted; a manager may withdraw a ballot early
with a written reason, which is published and logged, and a withdrawn ballot decides nothing and
takes no votes. Opening, counting and withdrawing ask first on the pages; ``count_due_ballots``
counts what is due. Every refusal: the bilingual message, and nothing written."""

from __future__ import annotations

import logging
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from linli.consult.models import Ballot, Notice, RollEntry, Vote
from linli.consult.panels.ballots import panel
from linli.consult.queries import ballots as q
from linli.consult.services import ballots as svc
from linli.core import clock
from linli.core.errors import LinliError
from tests.consult.test_ballots_helpers import make_ballot, open_ballot, own_building, past_closing, snapshot

pytestmark = pytest.mark.django_db

REASON = "设计方案需调整,重新征求意见后另行表决"


def cw(world: Any) -> Any:
    return world.users["community_worker"]


def keys_of(b: Ballot) -> list[str]:
    return sorted(set(RollEntry.objects.filter(ballot=b).values_list("owner_key", flat=True)))


def paper(world: Any, b: Ballot, keys: list[str], choice: str = "yes") -> None:
    for k in keys:
        svc.cast_vote(cw(world), b, choice=choice, owner_key=k, channel="paper")


@pytest.fixture
def ballot(world: Any, project: Any) -> Ballot:
    """An open ballot of building A (21 owners) in a public project; one owner has voted."""
    project.is_public = True
    project.save(update_fields=["is_public"])
    own_building(world)
    b = open_ballot(world, project=project, title="1栋外墙改造")
    paper(world, b, keys_of(b)[:1])
    return b


def assert_too_early(problem: Any) -> None:
    assert problem.code == "too_early"
    assert "尚未到期" in problem.zh and "已投票 1/21 位业主" in problem.zh and "撤回" in problem.zh
    assert "has not passed" in problem.en and "1 of 21 owners have voted" in problem.en


# --- counting only as announced -------------------------------------------------------------------


def test_counting_before_the_end_is_refused_and_writes_nothing(world, ballot):
    before = snapshot(ballot)
    with pytest.raises(LinliError) as exc:
        svc.close_ballot(cw(world), ballot)
    assert exc.value.status == 409
    assert_too_early(exc.value.problems[0])
    assert snapshot(ballot) == before


def test_counting_before_the_end_is_refused_on_the_page_and_the_api(world, ballot, client_for):
    before = snapshot(ballot)
    c = client_for(cw(world))
    url = reverse("consult:ballot_close", args=[ballot.pk])
    for data in ({}, {"confirm": "1"}):  # asked or confirmed: refused all the same
        r = c.post(url, data)
        html = r.content.decode()
        assert r.status_code == 409 and 'role="alert"' in html and 'data-testid="confirm-page"' not in html
        assert "已投票 1/21 位业主" in html and "1 of 21 owners have voted" not in html  # the page's language only
    c.cookies["django_language"] = "en"
    html = c.post(url, {"confirm": "1"}).content.decode()
    assert "1 of 21 owners have voted" in html and "已投票 1/21 位业主" not in html
    r = c.post(f"/api/v1/ballots/{ballot.pk}/close/")
    assert r.status_code == 409
    err = r.json()["errors"][0]
    assert err["code"] == "too_early" and "已投票 1/21 位业主" in err["zh"] and "1 of 21" in err["en"]
    assert snapshot(ballot) == before
    page = c.get(reverse("consult:ballot_detail", args=[ballot.pk])).content.decode()
    assert 'data-testid="count-rule"' in page


def test_a_ballot_everyone_voted_on_may_be_counted_before_its_end(world, ballot):
    keys = keys_of(ballot)
    paper(world, ballot, keys[1:-1])
    with pytest.raises(LinliError):  # one owner still missing
        svc.close_ballot(cw(world), ballot)
    paper(world, ballot, keys[-1:], "no")
    b = svc.close_ballot(cw(world), ballot)
    assert b.status == "closed" and b.result["counts"]["voted"] == 21
    assert b.result["closed_early_all_voted"] is True and b.result["decided"] is True


def test_after_the_closing_time_counting_is_allowed(world, ballot):
    past_closing(ballot)
    b = svc.close_ballot(cw(world), ballot)
    assert b.status == "closed" and b.result["counts"]["voted"] == 1
    assert b.result["closed_early_all_voted"] is False
    assert b.result["snapshot"]["ended_by"]["id"] == cw(world).pk


def test_without_an_announced_end_only_a_full_vote_counts(world):
    own_building(world)
    b = open_ballot(world, closes_at=None)
    paper(world, b, keys_of(b)[:1])
    clock.travel(clock.now() + timedelta(days=400))
    with pytest.raises(LinliError) as exc:
        svc.close_ballot(cw(world), b)
    assert exc.value.problems[0].code == "too_early" and "未公布截止时间" in exc.value.problems[0].zh
    paper(world, b, keys_of(b)[1:])
    assert svc.close_ballot(cw(world), b).status == "closed"


def test_closing_on_the_page_asks_first_with_the_figures(world, ballot, client_for):
    past_closing(ballot)
    c = client_for(cw(world))
    url = reverse("consult:ballot_close", args=[ballot.pk])
    before = snapshot(ballot)
    r = c.post(url)
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html and 'name="confirm" value="1"' in html
    assert "结束后结果不可更改" in html and "已投票 1/21 位业主" in html
    assert snapshot(ballot) == before
    assert c.post(url, {"confirm": "1"}).status_code == 302
    assert Ballot.objects.get(pk=ballot.pk).status == "closed"


def test_opening_on_the_page_asks_first(world, client_for):
    own_building(world)
    b = make_ballot(world)
    c = client_for(cw(world))
    url = reverse("consult:ballot_open", args=[b.pk])
    r = c.post(url)
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html
    assert "名册即刻冻结:24 户房屋、21 位业主" in html  # says what opening does, with the roll's size
    b.refresh_from_db()
    assert b.status == "draft" and not RollEntry.objects.filter(ballot=b).exists()
    assert c.post(url, {"confirm": "1"}).status_code == 302
    assert Ballot.objects.get(pk=b.pk).status == "open"


# --- withdrawing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "太短"])
def test_withdrawing_needs_a_written_reason(world, ballot, client_for, reason):
    before = snapshot(ballot)
    notices = Notice.objects.count()
    with pytest.raises(LinliError) as exc:
        svc.withdraw_ballot(cw(world), ballot, reason)
    p = exc.value.problems[0]
    assert exc.value.status == 400 and p.code == "reason_required"
    assert "撤回表决须写明理由" in p.zh and "needs a written reason" in p.en
    c = client_for(cw(world))
    for data in ({"reason": reason}, {"reason": reason, "confirm": "1"}):
        r = c.post(reverse("consult:ballot_withdraw", args=[ballot.pk]), data)
        assert r.status_code == 400 and "撤回表决须写明理由" in r.content.decode()
        assert "needs a written reason" not in r.content.decode()  # a Chinese page speaks Chinese only
    c.cookies["django_language"] = "en"
    r = c.post(reverse("consult:ballot_withdraw", args=[ballot.pk]), {"reason": reason, "confirm": "1"})
    assert r.status_code == 400 and "needs a written reason" in r.content.decode()
    assert "撤回表决须写明理由" not in r.content.decode()
    r = c.post(f"/api/v1/ballots/{ballot.pk}/withdraw/", {"reason": reason}, content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "reason_required"
    assert snapshot(ballot) == before and Notice.objects.count() == notices


def test_withdrawing_is_for_managers_only(world, ballot, client_for):
    before = snapshot(ballot)
    with pytest.raises(PermissionDenied):
        svc.withdraw_ballot(world.users["grid_leader"], ballot, REASON)
    url = reverse("consult:ballot_withdraw", args=[ballot.pk])
    assert client_for(world.users["grid_leader"]).post(url, {"reason": REASON, "confirm": "1"}).status_code == 403
    assert client_for(world.outsider).post(url, {"reason": REASON, "confirm": "1"}).status_code == 404
    assert snapshot(ballot) == before


def test_a_withdrawn_ballot_decides_nothing_and_its_reason_is_published(world, ballot, client_for, caplog):
    with caplog.at_level(logging.INFO, logger="linli.consult.ballots"):
        b = svc.withdraw_ballot(cw(world), ballot, f"  {REASON} ")
    assert b.status == "withdrawn" and b.withdrawn_reason == REASON
    assert b.withdrawn_by == cw(world) and b.withdrawn_at is not None
    r = b.result
    assert r["outcome"] == "withdrawn" and r["decided"] is False and r["approved"] is False
    assert "counts" not in r and "quorum_met" not in r  # no figures are counted
    assert r["withdrawn"]["reason"] == REASON and r["withdrawn"]["voted"] == 1 and r["withdrawn"]["owners"] == 21
    assert r["snapshot"]["scope_label"] == "劳动三村小区 1栋" and r["snapshot"]["outcome"] == "withdrawn"
    assert REASON in caplog.text and f"ballot {b.pk} withdrawn" in caplog.text
    # decides nothing: no result, never among the decisions
    assert q.result_of(b) is None and not q.decisions().filter(pk=b.pk).exists() and not b.decided
    # published: a withdrawal notice of the project, the ballot page, the public panel
    notice = Notice.objects.get(ballot=b)
    assert notice.kind == "withdrawal" and REASON in notice.body and "不作任何决定" in notice.body
    assert notice.snapshot["ballot"]["withdrawn"]["reason"] == REASON
    page = client_for(world.users["grid_force"]).get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert 'data-testid="withdrawn"' in page and REASON in page and 'data-testid="verdict"' not in page
    public = Client().get(reverse("renewal:public_project", args=[b.project_id])).content.decode()
    assert REASON in public and 'data-testid="withdrawn-reason"' in public
    assert "张三" not in public  # still no personal data on the public page
    api = client_for(cw(world)).get(f"/api/v1/ballots/{b.pk}/").json()
    assert api["status"] == "withdrawn" and api["result"] is None and api["withdrawal"]["reason"] == REASON
    p = panel(b.project, None)
    assert p is not None and p.context["ballots"][0]["result"] is None


def test_a_withdrawn_ballot_takes_no_votes_and_is_not_counted(world, ballot, client_for):
    svc.withdraw_ballot(cw(world), ballot, REASON)
    before = snapshot(ballot)
    other = keys_of(ballot)[3]
    calls = (
        lambda: svc.cast_vote(cw(world), ballot, choice="no", owner_key=other, channel="paper"),
        lambda: svc.close_ballot(cw(world), ballot),
        lambda: svc.withdraw_ballot(cw(world), ballot, REASON),
        lambda: svc.open_ballot(cw(world), ballot),
    )
    for call in calls:
        with pytest.raises(LinliError) as exc:
            call()
        p = exc.value.problems[0]
        assert exc.value.status == 409 and p.code == "ballot_withdrawn"
        assert "表决已撤回" in p.zh and "withdrawn" in p.en
    past_closing(ballot)  # not even after its closing time
    with pytest.raises(LinliError):
        svc.close_ballot(cw(world), ballot)
    c = client_for(cw(world))
    r = c.post(f"/api/v1/ballots/{ballot.pk}/close/")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "ballot_withdrawn"
    r = c.post(
        f"/api/v1/ballots/{ballot.pk}/vote/",
        {"choice": "no", "channel": "paper", "owner_key": other},
        content_type="application/json",
    )
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "ballot_withdrawn"
    r = c.post(
        reverse("consult:ballot_enter", args=[ballot.pk]), {"owner_key": other, "channel": "paper", "choice": "no"}
    )
    assert r.status_code == 409 and "表决已撤回" in r.content.decode()
    assert snapshot(ballot) == before and Vote.objects.filter(ballot=ballot).count() == 1
    assert svc.count_due(clock.now()) == ([], [])


def test_withdrawing_on_the_page_asks_first(world, ballot, client_for):
    c = client_for(cw(world))
    url = reverse("consult:ballot_withdraw", args=[ballot.pk])
    before = snapshot(ballot)
    r = c.post(url, {"reason": REASON})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html and REASON in html and "1/21" in html
    assert snapshot(ballot) == before and not Notice.objects.exists()
    assert c.post(url, {"reason": REASON, "confirm": "1"}).status_code == 302
    assert Ballot.objects.get(pk=ballot.pk).status == "withdrawn"


def test_a_draft_may_be_withdrawn_without_a_notice(world, project):
    own_building(world)
    draft = make_ballot(world, project=project)
    b = svc.withdraw_ballot(cw(world), draft, REASON)
    assert b.status == "withdrawn" and b.result["withdrawn"]["was_open"] is False
    assert not Notice.objects.exists()  # it was never announced


def test_the_api_withdraws_with_the_same_rules(world, ballot, client_for):
    r = client_for(cw(world)).post(
        f"/api/v1/ballots/{ballot.pk}/withdraw/", {"reason": REASON}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["status"] == "withdrawn" and r.json()["withdrawal"]["reason"] == REASON


# --- counting what is due ----------------------------------------------------------------------------


def test_count_due_ballots_counts_only_what_is_due(world, ballot):
    later = open_ballot(world, title="以后", closes_at=clock.now() + timedelta(days=30))
    broken = open_ballot(world, title="名册被改")
    RollEntry.objects.filter(ballot=broken).update(area=999)
    past_closing(ballot)
    out, err = StringIO(), StringIO()
    call_command("count_due_ballots", stdout=out, stderr=err)
    assert f"counted 1 ballot(s) / 计票 1 项: [{ballot.pk}]" in out.getvalue()
    assert str(broken.pk) in err.getvalue()
    b = Ballot.objects.get(pk=ballot.pk)
    assert b.status == "closed" and b.result["closed_by"] is None
    assert b.result["snapshot"]["ended_by"]["name"].startswith("自动计票")
    assert Ballot.objects.get(pk=later.pk).status == "open" and Ballot.objects.get(pk=broken.pk).status == "open"
    again = StringIO()
    call_command("count_due_ballots", stdout=again, stderr=StringIO())  # nothing new
    assert "counted 0 ballot(s)" in again.getvalue() and Ballot.objects.get(pk=ballot.pk).result == b.result
