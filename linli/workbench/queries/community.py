"""A community worker's lists: open ballots with their turnout, home visits that are due (the
"next visit on" of a household's latest visit has come), and notices with objections still open.
All within the worker's CONSULT (ballots, notices) and VISIT (visits) scope."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.consult.models import Ballot, Objection, RollEntry, Visit, Vote
from linli.consult.queries import ballots as consult_ballots
from linli.core.types import User
from linli.renewal.models import Project
from linli.workbench.lists import SHOWN, Figure, Item, WorkList, turnout
from linli.workbench.queries.grid import VISITING_PHASES


def ballot_turnouts(ballots: QuerySet[Ballot]) -> tuple[list[Item], Figure, int]:
    """The first ``SHOWN`` of ``ballots`` (closing first) with each one's turnout, the turnout over
    all of them, and how many there are: two grouped queries, never one per ballot."""
    ids = list(ballots.values_list("pk", flat=True))
    roll = dict(
        RollEntry.objects.filter(ballot_id__in=ids)
        .values("ballot_id")
        .annotate(n=Count("owner_key", distinct=True))
        .values_list("ballot_id", "n")
        .order_by()
    )
    voted = dict(
        Vote.objects.filter(ballot_id__in=ids)
        .values("ballot_id")
        .annotate(n=Count("owner_key", distinct=True))
        .values_list("ballot_id", "n")
        .order_by()
    )
    items = [
        Item(
            title=b.title,
            url=reverse("consult:ballot_detail", args=[b.pk]),
            figure=turnout(voted.get(b.pk, 0), roll.get(b.pk, 0)),
            when=timezone.localdate(b.closes_at) if b.closes_at else None,
        )
        for b in ballots.order_by("closes_at", "pk")[:SHOWN]
    ]
    total = turnout(sum(voted.values()), sum(roll.values()))
    return items, total, len(ids)


def open_ballots(user: User, now: dt.datetime, action: Action = Action.CONSULT) -> WorkList:
    """Open ballots the worker runs (CONSULT), closing first, each with "voted / on the roll", and
    (for more than one) the turnout over all of them."""
    qs = consult_ballots.visible_ballots(user, scoped(user, action, Ballot.objects.filter(status=Ballot.Status.OPEN)))
    items, total, count = ballot_turnouts(qs)
    all_url = None
    if count:
        first = qs.order_by("closes_at", "pk").first()
        assert first is not None
        all_url = reverse("consult:ballot_list", args=[consult_ballots.compound_of(first).pk])
    return WorkList("ballots", count, items, all_url, figure=total if count > 1 else None)


def visits_due(user: User, now: dt.datetime) -> WorkList:
    """Households whose latest visit on a project being visited set a next visit on or before today."""
    today = timezone.localdate(now)
    later = Visit.objects.filter(
        project_id=OuterRef("project_id"), dwelling_id=OuterRef("dwelling_id"), visited_at__gt=OuterRef("visited_at")
    )
    active = Project.objects.filter(phase__in=VISITING_PHASES).values("pk")
    qs = (
        scoped(user, Action.VISIT, Visit.objects.filter(project_id__in=active, next_visit_on__lte=today))
        .annotate(_later=Exists(later))
        .filter(_later=False)
    )
    rows = qs.select_related("dwelling__unit", "dwelling__building__compound", "project").order_by(
        "next_visit_on", "pk"
    )[:SHOWN]
    items = []
    for v in rows:
        d = v.dwelling
        where = f"{d.building.compound.name} {d.building.name} {d.unit.number}-{d.number}"
        url = reverse("consult:visit_new", args=[v.project_id]) + "?" + urlencode({"dwelling": d.pk})
        late = bool(v.next_visit_on and v.next_visit_on < today)
        items.append(Item(where, url, when=v.next_visit_on, late=late))
    first = rows[0].project_id if items else None
    all_url = reverse("consult:visit_project", args=[first]) if first else None
    return WorkList("visits_due", qs.count(), items, all_url)


def notices_with_objections(user: User, now: dt.datetime) -> WorkList:
    """Notices of projects the worker runs with objections not yet closed, most open first."""
    open_objections = scoped(user, Action.CONSULT, Objection.objects.exclude(status=Objection.Status.CLOSED))
    per_notice = (
        open_objections.values("notice_id", "notice__title").annotate(n=Count("id")).order_by("-n", "notice_id")
    )
    rows = list(per_notice[:SHOWN])
    total = open_objections.values("notice_id").distinct().count()
    items = [
        Item(
            r["notice__title"],
            reverse("consult:notice_detail", args=[r["notice_id"]]),
            amount=r["n"],
            unit="objections",
        )
        for r in rows
    ]
    return WorkList("objections", total, items, None)
