"""linli/consult/services/ballots.py: the roll's counting units, votes through every channel, every
refusal (each leaves everything unchanged), history, idempotency, close, lifts, and the export
recomputed with rules.decide."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from linli.consult import rules
from linli.consult.models import Ballot, LiftConsent, RollEntry, Vote, VoteRecord
from linli.consult.queries import ballots as q
from linli.consult.services import ballots as svc
from linli.core.errors import LinliError
from linli.places import models as m
from tests import factories as f
from tests.consult.test_ballots_helpers import make_ballot, open_ballot, own_building, past_closing, snapshot

pytestmark = pytest.mark.django_db


def cw(world):
    return world.users["community_worker"]


def resident(world):
    """The resident of dwelling_a, verified as the voting account of its owner 张三 (issue 8)."""
    user = world.users["resident"]
    f.owner_account(user, world.owner_a, by=cw(world))
    return user


# --- create and roll ------------------------------------------------------------------------------


def test_create_needs_consult_on_the_scope(world):
    b = make_ballot(world)
    assert b.status == Ballot.Status.DRAFT and b.path == world.building_a.path
    with pytest.raises(Http404):
        make_ballot(world, user=world.outsider)
    with pytest.raises(PermissionDenied):
        make_ballot(world, user=world.users["grid_leader"])
    with pytest.raises(Http404):
        make_ballot(world, user=resident(world))


def test_create_refuses_bad_input(world, project):
    n = Ballot.objects.count()
    for kw in (
        {"matter": "10"},
        {"matter": "lift"},  # a lift is voted by its unit
        {"title": " "},
        {"closes_at": timezone.now() - timedelta(hours=1)},
        {
            "scope_kind": "compound",
            "scope_id": world.compound_b.pk,
            "user": world.users["district_admin"],
            "project": project,
        },
    ):
        with pytest.raises(LinliError) as exc:
            make_ballot(world, **kw)
        assert 400 <= exc.value.status < 500
    assert Ballot.objects.count() == n


def test_unit_scope_checks_the_building_and_lift_needs_a_unit(world):
    unit = world.dwelling_a.unit
    b = make_ballot(world, matter="lift", scope_kind="unit", scope_id=unit.pk)
    assert b.path == world.building_a.path
    with pytest.raises(Http404):
        make_ballot(world, matter="lift", scope_kind="unit", scope_id=unit.pk, user=world.outsider)


def test_roll_counting_units(world):
    own = own_building(world)
    b = open_ballot(world)
    entries = list(RollEntry.objects.filter(ballot=b))
    assert len(entries) == 24
    keys = {e.owner_key for e in entries}
    assert len(keys) == 21  # 张三 + the buyer of two + 18 single owners + the developer once
    dev = [e for e in entries if e.owner_key.startswith("dev:")]
    assert len(dev) == 3 and {e.owner_key for e in dev} == {f"dev:{world.compound_a.pk}"}
    buyer = [e for e in entries if e.owner_key == f"p:{own['buyer'].pk}"]
    assert len(buyer) == 2
    assert sum(e.area for e in entries) == sum(d.area for d in own["dwellings"])
    assert b.roll_digest == svc.current_digest(b) and len(b.roll_digest) == 64


def test_co_owned_dwelling_is_one_unit_keyed_by_the_largest_share(world):
    own_building(world)
    d = world.dwelling_a
    spouse = m.Person.objects.create(name="张三之妻")
    m.Ownership.objects.filter(dwelling=d).update(share=Decimal("0.4"))
    m.Ownership.objects.create(dwelling=d, person=spouse, share=Decimal("0.6"))
    b = open_ballot(world)
    e = RollEntry.objects.get(ballot=b, dwelling=d)
    assert e.owner_key == f"p:{spouse.pk}" and e.owner == spouse
    assert RollEntry.objects.filter(ballot=b).count() == 24


def test_dwellings_without_owner_or_of_other_use_are_left_out(world):
    own_building(world)
    last = m.Dwelling.objects.filter(building=world.building_a).order_by("-pk").first()
    m.Dwelling.objects.filter(pk=last.pk).update(use=m.Dwelling.Use.OTHER)
    m.Ownership.objects.filter(dwelling__building=world.building_a).exclude(dwelling=world.dwelling_a).first().delete()
    b = open_ballot(world)
    assert RollEntry.objects.filter(ballot=b).count() == 22


def test_empty_roll_is_refused(world):
    b = make_ballot(world, scope_kind="building", scope_id=world.building_a.pk)
    m.Ownership.objects.filter(dwelling__building=world.building_a).delete()
    before = snapshot(b)
    with pytest.raises(LinliError) as exc:
        svc.open_ballot(cw(world), b)
    assert exc.value.problems[0].code == "empty_roll" and snapshot(b) == before


# --- votes ----------------------------------------------------------------------------------------


def test_owner_votes_online_and_changes_the_vote_with_history(world):
    own_building(world)
    b = open_ballot(world)
    v = svc.cast_vote(resident(world), b, choice="yes", channel="online")
    assert v.owner_key == f"p:{world.owner_a.pk}" and v.channel == "online"
    v = svc.cast_vote(resident(world), b, choice="no", channel="online")
    assert Vote.objects.filter(ballot=b).count() == 1 and Vote.objects.get(ballot=b).choice == "no"
    hist = list(VoteRecord.objects.filter(ballot=b).values_list("owner_key", "choice"))
    assert hist == [(v.owner_key, "yes"), (v.owner_key, "no")]


def test_same_client_key_twice_is_one_submission(world):
    own_building(world)
    b = open_ballot(world)
    svc.cast_vote(resident(world), b, choice="yes", channel="online", client_key="k1")
    before = snapshot(b)
    again = svc.cast_vote(resident(world), b, choice="yes", channel="online", client_key="k1")
    assert again.choice == "yes" and snapshot(b) == before
    assert VoteRecord.objects.filter(ballot=b).count() == 1


def test_paper_and_proxy_votes_by_staff(world):
    own = own_building(world)
    b = open_ballot(world)
    key = f"p:{own['buyer'].pk}"
    svc.cast_vote(cw(world), b, choice="yes", owner_key=key, channel="paper")
    svc.cast_vote(cw(world), b, choice="abstain", owner_key=key, channel="proxy", reason="行动不便,电话委托")
    v = Vote.objects.get(ballot=b, owner_key=key)
    assert (v.choice, v.channel, v.reason) == ("abstain", "proxy", "行动不便,电话委托")
    rec = VoteRecord.objects.filter(ballot=b).last()
    assert rec.reason == "行动不便,电话委托" and rec.entered_by == cw(world)


@pytest.mark.parametrize(
    "case",
    [
        "proxy_without_reason",
        "paper_not_on_roll",
        "bad_choice",
        "bad_channel",
        "resident_as_paper",
        "grid_worker_online",
        "admin_online",
        "outsider_paper",
        "wrong_owner_key",
        "resident_elsewhere",
    ],
)
def test_refused_votes_change_nothing(world, case):
    own_building(world)
    b = open_ballot(world)
    svc.cast_vote(resident(world), b, choice="yes", channel="online")
    before = snapshot(b)
    other = RollEntry.objects.filter(ballot=b).exclude(dwelling=world.dwelling_a).first().owner_key
    calls = {
        "proxy_without_reason": lambda: svc.cast_vote(cw(world), b, choice="no", owner_key=other, channel="proxy"),
        "paper_not_on_roll": lambda: svc.cast_vote(cw(world), b, choice="no", owner_key="p:999999", channel="paper"),
        "bad_choice": lambda: svc.cast_vote(resident(world), b, choice="maybe", channel="online"),
        "bad_channel": lambda: svc.cast_vote(cw(world), b, choice="no", owner_key=other, channel="sms"),
        "resident_as_paper": lambda: svc.cast_vote(resident(world), b, choice="no", owner_key=other, channel="paper"),
        "grid_worker_online": lambda: svc.cast_vote(world.users["grid_leader"], b, choice="no", channel="online"),
        "admin_online": lambda: svc.cast_vote(world.users["district_admin"], b, choice="no", channel="online"),
        "outsider_paper": lambda: svc.cast_vote(world.outsider, b, choice="no", owner_key=other, channel="paper"),
        "wrong_owner_key": lambda: svc.cast_vote(resident(world), b, choice="no", owner_key=other, channel="online"),
        "resident_elsewhere": lambda: svc.cast_vote(
            _resident_of(world, world.dwelling_b), b, choice="no", channel="online"
        ),
    }
    with pytest.raises((LinliError, PermissionDenied, Http404)) as exc:
        calls[case]()
    if isinstance(exc.value, LinliError):
        assert 400 <= exc.value.status < 500
    assert snapshot(b) == before


def _resident_of(world, dwelling):
    from linli.accounts.services import grant_role
    from tests import factories as f

    u = f.UserFactory(username=f"resident-{dwelling.pk}")
    grant_role(world.admin, u, "resident", dwelling)
    return u


@pytest.mark.dates
def test_votes_refused_before_open_after_close_and_past_closing_time(world):
    own_building(world)
    draft = make_ballot(world)
    with pytest.raises(LinliError) as exc:
        svc.cast_vote(cw(world), draft, choice="yes", owner_key=f"p:{world.owner_a.pk}", channel="paper")
    assert exc.value.status == 409

    b = open_ballot(world)
    Ballot.objects.filter(pk=b.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    before = snapshot(b)
    with pytest.raises(LinliError) as exc:
        svc.cast_vote(resident(world), b, choice="yes", channel="online")
    assert exc.value.problems[0].code == "ballot_past_close" and snapshot(b) == before

    Ballot.objects.filter(pk=b.pk).update(closes_at=timezone.now() + timedelta(days=1))
    past_closing(b)  # counted as announced, after its closing time
    svc.close_ballot(cw(world), b)
    before = snapshot(b)
    for call in (
        lambda: svc.cast_vote(resident(world), b, choice="no", channel="online"),
        lambda: svc.close_ballot(cw(world), b),
        lambda: svc.open_ballot(cw(world), b),
    ):
        with pytest.raises(LinliError) as exc:
            call()
        assert exc.value.problems[0].code == "ballot_closed"
    assert snapshot(b) == before


def test_roll_changed_after_opening_refuses_votes_and_close(world):
    own_building(world)
    b = open_ballot(world)
    RollEntry.objects.filter(ballot=b, dwelling=world.dwelling_a).update(area=Decimal("999.00"))
    before = snapshot(b)
    with pytest.raises(LinliError) as exc:
        svc.cast_vote(resident(world), b, choice="yes", channel="online")
    assert exc.value.problems[0].code == "roll_changed"
    with pytest.raises(LinliError):
        svc.close_ballot(cw(world), b)
    assert snapshot(b) == before


def test_changes_to_the_registry_after_opening_do_not_touch_the_roll(world):
    own_building(world)
    b = open_ballot(world)
    m.Dwelling.objects.filter(pk=world.dwelling_a.pk).update(area=Decimal("500.00"))
    svc.cast_vote(resident(world), b, choice="yes", channel="online")
    assert RollEntry.objects.get(ballot=b, dwelling=world.dwelling_a).area != Decimal("500.00")


# --- close and result -----------------------------------------------------------------------------


def _vote_all(world, b, yes: int, no: int = 0, abstain: int = 0):
    keys = sorted(set(RollEntry.objects.filter(ballot=b).values_list("owner_key", flat=True)))
    i = 0
    for choice, n in (("yes", yes), ("no", no), ("abstain", abstain)):
        for _ in range(n):
            svc.cast_vote(cw(world), b, choice=choice, owner_key=keys[i], channel="paper")
            i += 1
    return keys


def test_close_stores_an_immutable_result_equal_to_rules_decide(world):
    own_building(world)
    b = open_ballot(world)
    _vote_all(world, b, yes=15, no=2)  # 17 of 21 owners take part
    past_closing(b)
    b = svc.close_ballot(cw(world), b)
    r = b.result
    entries = RollEntry.objects.filter(ballot=b)
    dec = rules.decide(
        7,
        [{"id": e.dwelling_id, "owner": e.owner_key, "area": e.area} for e in entries],
        dict(Vote.objects.filter(ballot=b).values_list("owner_key", "choice")),
    )
    assert r["quorum_met"] == dec.quorum_met and r["approved"] == dec.approved
    for key in ("participating_area", "participating_owners", "approving_area", "approving_owners"):
        assert Fraction(r[key]["fraction"]) == getattr(dec, key)
    assert r["participating_owners"]["fraction"] == "17/21"
    assert r["counts"]["owners"] == 21 and r["counts"]["yes"] == 15
    assert r["thresholds"]["approval"] == {"share": "3/4", "inclusive": True}
    assert b.status == "closed" and b.closed_at is not None


def test_close_needs_consult(world):
    own_building(world)
    b = open_ballot(world)
    before = snapshot(b)
    with pytest.raises(PermissionDenied):
        svc.close_ballot(world.users["grid_leader"], b)
    with pytest.raises(Http404):
        svc.close_ballot(world.outsider, b)
    assert snapshot(b) == before


# --- lifts ----------------------------------------------------------------------------------------


def test_lift_needs_the_vote_and_every_occupied_owners_consent(world):
    own_building(world)
    unit = world.dwelling_a.unit
    b = make_ballot(world, matter="lift", scope_kind="unit", scope_id=unit.pk)
    ground = list(m.Dwelling.objects.filter(unit=unit, floor=1).order_by("number"))
    svc.set_lift_occupied(cw(world), b, [d.pk for d in ground])
    b = svc.open_ballot(cw(world), b)
    assert RollEntry.objects.filter(ballot=b, occupied_by_lift=True).count() == 2
    keys = sorted(set(RollEntry.objects.filter(ballot=b).values_list("owner_key", flat=True)))
    for k in keys:
        svc.cast_vote(cw(world), b, choice="yes", owner_key=k, channel="paper")
    svc.record_lift_consent(cw(world), b, ground[0], True, "同意")
    assert not svc.tally(b)["approved"] and svc.tally(b)["approved_by_vote"]
    svc.record_lift_consent(cw(world), b, ground[1], False, "担心采光")
    svc.record_lift_consent(cw(world), b, ground[1], True, "协商后同意")
    assert LiftConsent.objects.filter(ballot=b).count() == 2
    b = svc.close_ballot(cw(world), b)
    assert b.result["approved"] and b.result["lift"]["all_consented"]


def test_lift_occupied_refusals(world):
    own_building(world)
    unit = world.dwelling_a.unit
    b = make_ballot(world, matter="lift", scope_kind="unit", scope_id=unit.pk)
    with pytest.raises(LinliError):
        svc.set_lift_occupied(cw(world), b, [world.dwelling_b.pk])  # not on this roll
    not_lift = make_ballot(world)
    with pytest.raises(LinliError):
        svc.set_lift_occupied(cw(world), not_lift, [world.dwelling_a.pk])
    b = svc.open_ballot(cw(world), b)
    before = snapshot(b)
    with pytest.raises(LinliError):
        svc.set_lift_occupied(cw(world), b, [world.dwelling_a.pk])  # roll frozen
    with pytest.raises(LinliError):
        svc.record_lift_consent(cw(world), b, world.dwelling_a, True)  # not marked occupied
    assert snapshot(b) == before


# --- export ---------------------------------------------------------------------------------------


def test_export_recomputes_to_the_stored_result(world):
    own_building(world)
    b = open_ballot(world)
    _vote_all(world, b, yes=12, no=3, abstain=1)
    svc.cast_vote(resident(world), b, choice="no", channel="online")
    past_closing(b)
    b = svc.close_ballot(cw(world), b)
    buf = io.BytesIO()
    q.export_workbook(cw(world), b, buf)
    buf.seek(0)
    dec = q.recompute_from_workbook(buf)
    r = b.result
    assert (dec.quorum_met, dec.approved) == (r["quorum_met"], r["approved_by_vote"])
    for key in ("participating_area", "participating_owners", "approving_area", "approving_owners"):
        assert f"{getattr(dec, key).numerator}/{getattr(dec, key).denominator}" == r[key]["fraction"]
    from openpyxl import load_workbook

    buf.seek(0)
    wb = load_workbook(buf)
    assert wb[q.HISTORY_SHEET].max_row == VoteRecord.objects.filter(ballot=b).count() + 1
    assert str(wb[q.TALLY_SHEET]["F4"].value).startswith("=")
    with pytest.raises(PermissionDenied):
        q.export_workbook(world.users["grid_leader"], b, io.BytesIO())
