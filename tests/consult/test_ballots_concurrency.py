"""Many vote submissions at once, from threads with their own database connections (the SQLite
test database is a file, so locking is real; on PostgreSQL the ballot row lock): nothing lost,
nothing duplicated, every owner's current vote is their last recorded one."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from linli.consult.models import RollEntry, Vote, VoteRecord
from linli.consult.services import ballots as svc
from tests import factories as f
from tests.consult.test_ballots_helpers import open_ballot, own_building


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_none_lost_none_duplicated(world):
    own_building(world)
    b = open_ballot(world)
    staff = world.users["community_worker"]
    f.owner_account(world.users["resident"], world.owner_a, by=staff)  # the owner's voting account
    keys = sorted(set(RollEntry.objects.filter(ballot=b).values_list("owner_key", flat=True)))
    # Every owner is submitted by two threads at once; each submission is also sent twice (a
    # double tap with the same client key), and the owner votes online from a third thread.
    jobs = []
    for i, k in enumerate(keys):
        for t in range(2):
            choice = ("yes", "no", "abstain")[(i + t) % 3]
            jobs.append((staff, k, "paper", choice, f"{k}-{t}"))
            jobs.append((staff, k, "paper", choice, f"{k}-{t}"))
    jobs.append((world.users["resident"], None, "online", "yes", "online-1"))
    jobs.append((world.users["resident"], None, "online", "yes", "online-1"))
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(part: list[tuple]) -> None:
        try:
            start.wait()
            for user, key, channel, choice, ck in part:
                # a paper vote may land after the owner's own online vote: it then needs a reason
                svc.cast_vote(
                    user, b, choice=choice, owner_key=key, channel=channel, client_key=ck, reason="业主交回纸质票"
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(jobs[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    votes = list(Vote.objects.filter(ballot=b))
    assert len(votes) == len(keys)  # none lost
    assert len({v.owner_key for v in votes}) == len(votes)  # none duplicated
    submissions = {(u.pk, ck) for u, _, _, _, ck in jobs}
    records = list(VoteRecord.objects.filter(ballot=b).order_by("at", "id"))
    assert len(records) == len(submissions)  # each distinct submission once, double taps once
    assert not [c for c, n in Counter((r.entered_by_id, r.client_key) for r in records).items() if n > 1]
    last = {}
    for r in records:
        last[r.owner_key] = r.choice
    assert {v.owner_key: v.choice for v in votes} == last
