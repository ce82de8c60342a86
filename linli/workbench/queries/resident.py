"""A resident's lists: ballots waiting for my vote, my reports and their status, and the notices
running for my building (its compound). "Mine" is what the one permission check gives a resident:
the dwellings of the user's ``resident`` grants and verified owner accounts."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.consult.models import Ballot, Notice, Vote
from linli.consult.queries import ballots as consult_ballots
from linli.consult.queries import notices as consult_notices
from linli.consult.services.ballots import own_dwelling_ids, voter_keys
from linli.core.types import User
from linli.governance.models import Event
from linli.places.models import Dwelling
from linli.workbench.lists import SHOWN, Item, WorkList
from linli.workbench.queries.common import ONLY, OPEN_STEPS, RELATED, case_item, event_list_url

#: Notices posted within this many days are looked at (a notice runs 15 days by default).
NOTICE_LOOKBACK_DAYS = 120


def ballots_to_vote(user: User, now: dt.datetime) -> WorkList:
    """Open ballots over my dwellings where an owner I vote for has not voted yet, or where I must
    first verify that I am the owner (the ballot page offers it); closing first."""
    items = []
    for ballot in consult_ballots.mine(user).filter(status=Ballot.Status.OPEN).order_by("closes_at", "pk"):
        keys = voter_keys(user, ballot)
        if keys:
            voted = set(Vote.objects.filter(ballot=ballot, owner_key__in=keys).values_list("owner_key", flat=True))
            if keys <= voted:
                continue
            state = "vote"
        else:
            state = "verify"
        closes = timezone.localdate(ballot.closes_at) if ballot.closes_at else None
        items.append(Item(ballot.title, reverse("consult:ballot_detail", args=[ballot.pk]), when=closes, state=state))
    return WorkList("ballots_to_vote", len(items), items[:SHOWN], reverse("consult:ballot_mine"))


def my_reports(user: User, now: dt.datetime) -> WorkList:
    """My reports, newest first, with the step each one is at; counted: those still open."""
    mine: QuerySet[Event] = Event.objects.filter(reporter_id=user.pk)
    rows = mine.select_related(*RELATED).only(*ONLY).order_by("-created_at", "-pk")[:SHOWN]
    items = [case_item(e, now) for e in rows]
    for item in items:
        item.late = False  # a resident's own report: its step, not the centre's deadline
    return WorkList("my_reports", mine.filter(step__in=OPEN_STEPS).count(), items, event_list_url(mine=1))


def notices_for_me(user: User, now: dt.datetime) -> WorkList:
    """Notices running today for the compounds of my dwellings, ending first."""
    today = timezone.localdate(now)
    since = today - dt.timedelta(days=NOTICE_LOOKBACK_DAYS)
    compounds = Dwelling.objects.filter(pk__in=own_dwelling_ids(user)).values("building__compound_id")
    recent = scoped(
        user,
        Action.VIEW,
        Notice.objects.filter(project__compound_id__in=compounds, starts_on__gte=since, starts_on__lte=today),
    )
    running = [n for n in recent.order_by("starts_on", "pk") if consult_notices.is_running(n, today)]
    running.sort(key=lambda n: (consult_notices.ends_on(n), n.pk))
    items = [
        Item(n.title, reverse("consult:notice_detail", args=[n.pk]), when=consult_notices.ends_on(n))
        for n in running[:SHOWN]
    ]
    return WorkList("notices", len(running), items, None)
