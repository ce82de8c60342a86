"""Shared set-up for the ballot tests (no tests here): owners for every dwelling of building A, ballots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from linli.consult.models import Ballot
from linli.consult.services import ballots as svc
from linli.places import models as m


def own_building(w: Any, building: m.Building | None = None) -> dict[str, Any]:
    """Give every dwelling of building A an owner: dwelling_a keeps 张三; the last three dwellings
    belong to the developer (unsold); dwellings 1 and 2 belong to one buyer; the rest one each."""
    building = building or w.building_a
    dwellings = list(m.Dwelling.objects.filter(building=building).order_by("unit__number", "floor", "number"))
    dev = m.Person.objects.create(name="开发商", kind=m.Person.Kind.DEVELOPER)
    buyer = m.Person.objects.create(name="王五")
    people: dict[int, m.Person] = {}
    for i, d in enumerate(dwellings):
        if d.pk == w.dwelling_a.pk:
            people[d.pk] = w.owner_a
            continue
        if i >= len(dwellings) - 3:
            p = dev
        elif i in (1, 2):
            p = buyer
        else:
            p = m.Person.objects.create(name=f"业主{i}")
        m.Ownership.objects.get_or_create(dwelling=d, person=p)
        people[d.pk] = p
    return {"dwellings": dwellings, "dev": dev, "buyer": buyer, "people": people}


def make_ballot(
    w: Any, *, matter: str = "7", scope_kind: str = "building", scope_id: int | None = None, **kw: Any
) -> Ballot:
    user = kw.pop("user", w.users["community_worker"])
    return svc.create_ballot(
        user,
        title=kw.pop("title", "外墙改造"),
        question=kw.pop("question", "是否同意外墙改造方案?"),
        matter=matter,
        scope_kind=scope_kind,
        scope_id=scope_id if scope_id is not None else w.building_a.pk,
        closes_at=kw.pop("closes_at", timezone.now() + timedelta(days=7)),
        **kw,
    )


def open_ballot(w: Any, **kw: Any) -> Ballot:
    b = make_ballot(w, **kw)
    return svc.open_ballot(w.users["community_worker"], b)


def past_closing(ballot: Ballot) -> None:
    """Move the clock just past the ballot's announced closing time (a ballot is counted only
    then, unless every owner voted); conftest's clock fixture puts it back after the test."""
    from linli.core import clock

    closes_at = Ballot.objects.get(pk=ballot.pk).closes_at
    assert closes_at is not None
    clock.travel(closes_at + timedelta(minutes=1))


def snapshot(ballot: Ballot) -> tuple:
    """Everything a refused request must leave unchanged."""
    from linli.consult.models import LiftConsent, RollEntry, Vote, VoteRecord

    b = Ballot.objects.get(pk=ballot.pk)
    return (
        b.status,
        b.result,
        b.roll_digest,
        b.closed_at,
        sorted(Vote.objects.filter(ballot=b).values_list("owner_key", "choice", "channel")),
        VoteRecord.objects.filter(ballot=b).count(),
        sorted(RollEntry.objects.filter(ballot=b).values_list("dwelling_id", "owner_key", "area", "occupied_by_lift")),
        sorted(LiftConsent.objects.filter(ballot=b).values_list("dwelling_id", "consents")),
    )
