"""Only the verified owner votes online as the owner (issue 8): ``voter_keys``/``_voter_key`` in
linli/consult/services/ballots.py, the owner's part of the ballot page and API, and paper/proxy
votes that replace an owner's own online vote (a written reason, shown to the owner, logged)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from linli.accounts import verification
from linli.accounts.models import AccessLog, OwnerAccount, User
from linli.accounts.services import grant_role
from linli.consult.models import RollEntry, Vote, VoteRecord
from linli.consult.services import ballots as svc
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.sms import LocmemBackend
from linli.places import models as m
from tests import factories as f
from tests.consult.test_ballots_helpers import open_ballot, own_building, snapshot

pytestmark = pytest.mark.django_db

ID_A = "110101199003070011"


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    LocmemBackend.outbox.clear()
    cache.clear()
    yield
    LocmemBackend.outbox.clear()
    cache.clear()
    clock.reset()


def cw(world: Any) -> Any:
    return world.users["community_worker"]


def with_grant(world: Any, name: str, dwelling: Any = None, by: Any = None) -> Any:
    u = f.UserFactory(username=name)
    grant_role(by or world.admin, u, "resident", dwelling or world.dwelling_a)
    return u


def refused(call: Any, code: str, status: int) -> LinliError:
    with pytest.raises(LinliError) as exc:
        call()
    p = exc.value.problems[0]
    assert (p.code, exc.value.status) == (code, status), exc.value
    assert p.zh and p.en and p.zh != p.en
    return exc.value


def test_a_worker_granting_a_resident_role_creates_no_vote(world, client_for):
    """The reproduction of issue 8: the worker cannot grant themself, and an account they grant
    ``resident`` at the owner's dwelling cannot vote as the owner (403 not_owner), nothing written."""
    own_building(world)
    b = open_ballot(world)
    worker = cw(world)
    api = client_for(worker)
    r = api.post(
        "/api/v1/grants/",
        {"username": worker.username, "role": "resident", "place_kind": "dwelling", "place_id": world.dwelling_a.pk},
        content_type="application/json",
    )
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "self_grant"
    f.UserFactory(username="friend")
    r = api.post(
        "/api/v1/grants/",
        {"username": "friend", "role": "resident", "place_kind": "dwelling", "place_id": world.dwelling_a.pk},
        content_type="application/json",
    )
    assert r.status_code == 201  # "see my dwelling" stays grantable
    before = snapshot(b)
    friend = client_for(User.objects.get(username="friend"))
    r = friend.post(f"/api/v1/ballots/{b.pk}/vote/", {"choice": "yes"}, content_type="application/json")
    assert r.status_code == 403
    err = r.json()["errors"][0]
    assert err["code"] == "not_owner" and "verified voting account" in err["en"] and "在线投票账号" in err["zh"]
    r = friend.post(reverse("consult:ballot_vote", args=[b.pk]), {"choice": "yes"})
    html = r.content.decode()
    assert r.status_code == 403 and "not_owner" not in html and "“居民/业主”角色本身不能投票" in html
    assert "resident role does not give a vote" not in html  # a Chinese page speaks Chinese only
    friend.cookies["django_language"] = "en"
    r = friend.post(reverse("consult:ballot_vote", args=[b.pk]), {"choice": "yes"})
    html = r.content.decode()
    assert r.status_code == 403 and "resident role does not give a vote" in html and "角色本身不能投票" not in html
    assert snapshot(b) == before
    # a street command centre's grant is the same
    other = with_grant(world, "street-friend", by=world.users["street_command"])
    refused(lambda: svc.cast_vote(other, b, choice="no", channel="online"), "not_owner", 403)
    assert snapshot(b) == before


def test_a_second_account_granted_the_same_dwelling_cannot_overwrite_the_owners_vote(world):
    own_building(world)
    b = open_ballot(world)
    owner = world.users["resident"]
    f.owner_account(owner, world.owner_a, by=cw(world))
    svc.cast_vote(owner, b, choice="yes", channel="online")
    intruder = with_grant(world, "second")
    before = snapshot(b)
    refused(lambda: svc.cast_vote(intruder, b, choice="no", channel="online"), "not_owner", 403)
    refused(
        lambda: svc.cast_vote(intruder, b, choice="no", channel="online", owner_key=f"p:{world.owner_a.pk}"),
        "not_owner",
        403,
    )
    assert snapshot(b) == before and Vote.objects.get(ballot=b).choice == "yes"


def test_owner_verified_by_sms_votes_exactly_for_their_owner_keys(world):
    own = own_building(world)
    b = open_ballot(world)
    user = world.users["resident"]
    assert svc.voter_keys(user, b) == set()
    challenge = verification.start_sms(user, world.dwelling_a, ID_A)
    code = re.search(r"验证码 (\d{6})", LocmemBackend.outbox[-1][1]).group(1)
    verification.confirm_sms(user, challenge.pk, code)
    assert svc.voter_keys(user, b) == {f"p:{world.owner_a.pk}"}
    v = svc.cast_vote(user, b, choice="yes", channel="online")
    assert v.owner_key == f"p:{world.owner_a.pk}" and v.channel == "online"
    # the buyer of two dwellings, verified in person, votes once for both (one key)
    buyer = f.UserFactory(username="buyer")
    f.owner_account(buyer, own["buyer"])
    assert svc.voter_keys(buyer, b) == {f"p:{own['buyer'].pk}"}
    # the developer's representative votes the developer key
    rep = f.UserFactory(username="dev-rep")
    f.owner_account(rep, own["dev"])
    assert svc.voter_keys(rep, b) == {f"dev:{world.compound_a.pk}"}
    assert svc.cast_vote(rep, b, choice="no", channel="online").owner_key == f"dev:{world.compound_a.pk}"


def test_a_co_owner_who_does_not_vote_for_the_dwelling_gets_no_key(world):
    own_building(world)
    spouse = m.Person.objects.create(name="张三之妻")
    m.Ownership.objects.create(dwelling=world.dwelling_a, person=spouse, share="0.5")
    m.Ownership.objects.filter(dwelling=world.dwelling_a, person=world.owner_a).update(share="0.5")
    b = open_ballot(world)  # keyed by the first owner: 张三 (equal shares, lower id)
    u = world.users["resident"]
    f.owner_account(u, spouse)
    before = snapshot(b)
    refused(lambda: svc.cast_vote(u, b, choice="yes", channel="online"), "not_owner", 403)
    assert snapshot(b) == before


def test_a_revoked_account_votes_no_more(world):
    own_building(world)
    b = open_ballot(world)
    u = world.users["resident"]
    row = verification.verify_in_person(
        cw(world), u, world.owner_a, world.dwelling_a, document_kind="id_card", document_number=ID_A, seen=True
    )
    svc.cast_vote(u, b, choice="yes", channel="online")
    verification.revoke(cw(world), row, "业主报告手机遗失")
    before = snapshot(b)
    refused(lambda: svc.cast_vote(u, b, choice="no", channel="online"), "not_owner", 403)
    assert snapshot(b) == before and Vote.objects.get(ballot=b).choice == "yes"  # the owner's vote stays


def test_paper_vote_replacing_an_online_vote_needs_a_reason_shown_to_the_owner(world, client_for):
    own_building(world)
    b = open_ballot(world)
    owner = world.users["resident"]
    f.owner_account(owner, world.owner_a, by=cw(world))
    key = f"p:{world.owner_a.pk}"
    svc.cast_vote(owner, b, choice="yes", channel="online")
    replaced = AccessLog.objects.filter(what=AccessLog.What.VOTE_REPLACED)
    before = snapshot(b)
    e = refused(lambda: svc.cast_vote(cw(world), b, choice="no", owner_key=key, channel="paper"), "replace_reason", 400)
    assert "online vote" in e.problems[0].en and "在线投票" in e.problems[0].zh
    # a proxy vote needs its reason anyway
    refused(lambda: svc.cast_vote(cw(world), b, choice="no", owner_key=key, channel="proxy"), "proxy_reason", 400)
    refused(
        lambda: svc.cast_vote(cw(world), b, choice="no", owner_key=key, channel="paper", reason=" x "),
        "replace_reason",
        400,
    )
    staff = client_for(cw(world))
    r = staff.post(reverse("consult:ballot_enter", args=[b.pk]), {"owner_key": key, "channel": "paper", "choice": "no"})
    assert r.status_code == 400 and "须写明理由" in r.content.decode()
    assert "needs a written reason" not in r.content.decode()  # a Chinese page speaks Chinese only
    r = staff.post(
        f"/api/v1/ballots/{b.pk}/vote/",
        {"choice": "no", "channel": "paper", "owner_key": key},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "replace_reason"
    assert snapshot(b) == before and not replaced.exists()  # nothing written (the page view logs its roster)

    svc.cast_vote(cw(world), b, choice="no", owner_key=key, channel="paper", reason="业主交回纸质选票,改投反对")
    vote = Vote.objects.get(ballot=b, owner_key=key)
    assert (vote.choice, vote.channel, vote.reason) == ("no", "paper", "业主交回纸质选票,改投反对")
    assert list(VoteRecord.objects.filter(ballot=b, owner_key=key).values_list("channel", flat=True)) == [
        "online",
        "paper",
    ]
    log = AccessLog.objects.get(what=AccessLog.What.VOTE_REPLACED)
    assert log.user == cw(world) and log.object_id == str(b.pk) and "业主交回纸质选票" in log.reason
    # the owner sees it on their ballot page and through the API
    page = client_for(owner).get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert 'data-testid="vote-replaced"' in page and "业主交回纸质选票,改投反对" in page
    assert cw(world).username in page.split('data-testid="vote-replaced"')[1][:400]
    mine = client_for(owner).get(f"/api/v1/ballots/{b.pk}/mine/").json()
    assert mine["replaced"][0]["reason"] == "业主交回纸质选票,改投反对" and mine["replaced"][0]["channel"] == "paper"
    assert mine["replaced"][0]["entered_by"] == cw(world).username
    # a later paper vote over the paper vote needs no reason; the owner may vote online again
    svc.cast_vote(cw(world), b, choice="abstain", owner_key=key, channel="paper")
    assert svc.cast_vote(owner, b, choice="yes", channel="online").channel == "online"


def test_paper_vote_for_an_owner_who_has_not_voted_needs_no_reason(world):
    own_building(world)
    b = open_ballot(world)
    key = RollEntry.objects.filter(ballot=b).exclude(dwelling=world.dwelling_a).first().owner_key
    assert svc.cast_vote(cw(world), b, choice="yes", owner_key=key, channel="paper").channel == "paper"
    assert not AccessLog.objects.filter(what=AccessLog.What.VOTE_REPLACED).exists()


def test_the_ballot_page_offers_verification_to_an_unverified_resident(world, client_for):
    own_building(world)
    b = open_ballot(world)
    c = client_for(world.users["resident"])
    page = c.get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert 'name="choice"' not in page and 'data-testid="verify-prompt"' in page
    link = re.search(r'href="([^"]+)" data-testid="verify-link"', page).group(1).replace("&amp;", "&")
    assert f"dwelling={world.dwelling_a.pk}" in link
    assert c.get(link).status_code == 200
    assert c.get(f"/api/v1/ballots/{b.pk}/mine/").json()["unverified_dwellings"] == [world.dwelling_a.pk]
    f.owner_account(world.users["resident"], world.owner_a)
    page = c.get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    assert 'name="choice"' in page and 'data-testid="verify-prompt"' not in page


def test_a_verified_owner_without_any_grant_finds_and_votes_on_their_ballot(world, client_for):
    own_building(world)
    b = open_ballot(world)
    account = f.UserFactory(username="zhang-san")
    verification.verify_in_person(
        cw(world), account, world.owner_a, world.dwelling_a, document_kind="id_card", document_number=ID_A, seen=True
    )
    c = client_for(account)
    assert b.title in c.get(reverse("consult:ballot_mine")).content.decode()
    assert c.post(reverse("consult:ballot_vote", args=[b.pk]), {"choice": "yes"}).status_code == 302
    assert Vote.objects.get(ballot=b).owner_key == f"p:{world.owner_a.pk}"


def test_the_roll_shows_who_has_a_verified_voting_account_and_how(world, client_for):
    own = own_building(world)
    b = open_ballot(world)
    verification.verify_in_person(
        cw(world),
        world.users["resident"],
        world.owner_a,
        world.dwelling_a,
        document_kind="id_card",
        document_number=ID_A,
        seen=True,
    )
    staff_owner = world.users["grid_leader"]  # a staff member who really is an owner (self-service)
    OwnerAccount.objects.create(user=staff_owner, person=own["buyer"], method="sms", verified_at=clock.now())
    page = client_for(cw(world)).get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    cells = re.findall(r'<td data-testid="owner-account">(.*?)</td>', page, re.S)
    assert len(cells) == RollEntry.objects.filter(ballot=b).values("owner_key").distinct().count()
    text = " ".join(cells)
    assert "community_worker" in text and "resident" in text  # in person, by whom, which account
    assert "grid_leader" in text and "badge warn" in text  # a staff account is flagged
    assert reverse("accounts:owner_dwelling", args=[world.dwelling_a.pk]) in page
