"""Jobs queries: matching (issue 14 §3) — the process-memory indexes behind the nearby-jobs page, the
talent search and the nightly push (docs/jobs.md "Nearby jobs and talent search").

Two indexes of ``linli.jobs.matching`` live in each process:

* the **live postings** (open, employer verified, ``closes_on`` today or later), ranked for a seeker
  by ``nearby()``; one sub-index per category is built from the same items on first use, so a
  category filter is exact (the k best *of that category*, not a filtered top k);
* the **findable seekers** (``discoverable`` and looking for work), ranked for a posting by
  ``talent()``. A seeker who is not findable is never in it, and the rows read back are checked again.

Each index is read from the database in two queries (``values_list`` of the rows, one query of the
M2M skill codes) and kept until its generation changes (``linli.core.generations``: "jobs-postings"
on a Posting or Employer save/delete, "jobs-seekers" on a Seeker's; ``connect_signals()`` adds the
skills M2M and the Skill vocabulary) or the date changes (postings expire at midnight). A lock
serialises rebuilds; readers use a finished snapshot, never one being built.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Max, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save

from linli.core import clock, generations
from linli.core.types import User
from linli.jobs import matching
from linli.jobs.matching import Match
from linli.jobs.models import Application, Posting, Seeker, Skill
from linli.jobs.queries import postings
from linli.notify import rules as notify_rules
from linli.notify.models import Notification

POSTINGS = "jobs-postings"
SEEKERS = "jobs-seekers"

NEARBY_K = 20
TALENT_K = 20
TALENT_RADIUS_M = 10_000
PUSH_K = 10


# --- what is indexed ---------------------------------------------------------------------------------


def live_postings(today: date | None = None) -> QuerySet[Posting]:
    """The postings seekers see: open, of a verified employer, closing today or later."""
    return postings.live(today)


def findable_seekers() -> QuerySet[Seeker]:
    """The seekers employers may find: they switched it on and are looking for work."""
    return Seeker.objects.filter(discoverable=True, status=Seeker.Status.SEEKING)


def _codes(through: Any, owner: str, ids_qs: Any) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for owner_id, code in through.objects.filter(**{f"{owner}__in": ids_qs}).values_list(f"{owner}_id", "skill__code"):
        out[owner_id].add(code)
    return out


def _posting_items(today: date) -> list[dict[str, Any]]:
    live = live_postings(today)
    skills = _codes(Posting.skills.through, "posting", live.values("id"))
    fields = ("id", "lat", "lon", "wage_min", "wage_max", "hours", "category_id", "published_at")
    return [
        {**dict(zip(fields, row, strict=True)), "skills": frozenset(skills.get(row[0], ()))}
        for row in live.values_list(*fields)
    ]


def looking_seekers() -> QuerySet[Seeker]:
    """The seekers the nightly push serves: looking for work, whether or not employers may find them
    (being found is about employers; being told of jobs is the seeker's own service)."""
    return Seeker.objects.filter(status=Seeker.Status.SEEKING)


def _seeker_items(found: QuerySet[Seeker] | None = None) -> list[dict[str, Any]]:
    found = findable_seekers() if found is None else found
    skills = _codes(Seeker.skills.through, "seeker", found.values("id"))
    fields = ("id", "lat", "lon", "wage_min", "wage_max", "hours", "travel_m")
    return [
        {**dict(zip(fields, row, strict=True)), "skills": frozenset(skills.get(row[0], ()))}
        for row in found.values_list(*fields)
    ]


def seeker_item(seeker: Seeker) -> dict[str, Any]:
    """A seeker as the matching module reads it (one query for the skill codes)."""
    return {
        "id": seeker.pk,
        "lat": seeker.lat,
        "lon": seeker.lon,
        "wage_min": seeker.wage_min,
        "wage_max": seeker.wage_max,
        "hours": seeker.hours,
        "travel_m": seeker.travel_m,
        "skills": frozenset(seeker.skills.values_list("code", flat=True)),
    }


def posting_item(posting: Posting) -> dict[str, Any]:
    """A posting as the matching module reads it (one query for the skill codes)."""
    return {
        "id": posting.pk,
        "lat": posting.lat,
        "lon": posting.lon,
        "wage_min": posting.wage_min,
        "wage_max": posting.wage_max,
        "hours": posting.hours,
        "category_id": posting.category_id,
        "published_at": posting.published_at,
        "skills": frozenset(posting.skills.values_list("code", flat=True)),
    }


# --- the snapshots -------------------------------------------------------------------------------------


@dataclass
class _Snapshot:
    key: tuple[Any, ...]
    index: matching.Index
    by_category: dict[int, matching.Index] = field(default_factory=dict)


_lock = threading.RLock()
_snapshots: dict[str, _Snapshot] = {}


def forget() -> None:
    """Drop the indexes of this process (tests; the next request rebuilds them)."""
    with _lock:
        _snapshots.clear()


def _key(name: str) -> tuple[Any, ...]:
    (token,) = generations.tokens(name)
    day = clock.today() if name == POSTINGS else None
    return (connection.alias, connection.settings_dict.get("NAME"), token, day)


def _snapshot(name: str) -> _Snapshot:
    key = _key(name)
    snap = _snapshots.get(name)
    if snap is not None and snap.key == key:
        return snap
    with _lock:
        snap = _snapshots.get(name)
        if snap is not None and snap.key == key:
            return snap
        items = _posting_items(key[3]) if name == POSTINGS else _seeker_items()
        snap = _Snapshot(key, matching.build(items))
        _snapshots[name] = snap
        return snap


def postings_index(category_id: int | None = None) -> matching.Index:
    """The index of the live postings (of one category when ``category_id`` is given)."""
    snap = _snapshot(POSTINGS)
    if category_id is None:
        return snap.index
    sub = snap.by_category.get(category_id)
    if sub is None:
        with _lock:
            sub = snap.by_category.get(category_id)
            if sub is None:
                sub = matching.build(item for item in snap.index if item["category_id"] == category_id)
                snap.by_category[category_id] = sub
    return sub


def seekers_index() -> matching.Index:
    """The index of the findable seekers."""
    return _snapshot(SEEKERS).index


# --- the queries -------------------------------------------------------------------------------------


def nearby(
    seeker: Seeker, k: int = NEARBY_K, radius_m: float | None = None, category: int | None = None
) -> list[tuple[Posting, Match]]:
    """The ``k`` best live postings for ``seeker`` within ``radius_m`` (default: how far the seeker
    will travel), of one category when ``category`` (a JobCategory id) is given; best first.
    Each posting comes with its employer and category loaded."""
    radius = float(seeker.travel_m if radius_m is None else radius_m)
    item = seeker_item(seeker)
    found = postings_index(category).top(item, k, radius)
    if not found:
        return []
    rows = {
        p.pk: p for p in live_postings().filter(pk__in=[m.id for m in found]).select_related("employer", "category")
    }
    return [(rows[m.id], m) for m in found if m.id in rows]


def talent(
    posting: Posting,
    k: int = TALENT_K,
    radius_m: float = TALENT_RADIUS_M,
    skills: Iterable[str] | None = None,
) -> list[tuple[Seeker, Match]]:
    """The ``k`` best findable seekers for ``posting`` within ``radius_m`` of its place of work; by
    the posting's own skills, or by ``skills`` (codes) when given — e.g. a machine-tool plant looking
    for lathe, milling and CNC operators within 30 km. Only discoverable seekers looking for work."""
    item = posting_item(posting)
    if skills is not None:
        item["skills"] = frozenset(skills)
    found = matching.talent(item, seekers_index(), k, float(radius_m))
    if not found:
        return []
    rows = {s.pk: s for s in findable_seekers().filter(pk__in=[m.id for m in found]).prefetch_related("skills")}
    return [(rows[m.id], m) for m in found if m.id in rows]


def top_for_all(
    k: int = PUSH_K, *, since: datetime | None = None, only: Collection[int] | None = None
) -> Iterator[tuple[int, list[Match]]]:
    """The nightly push: for every seeker looking for work (of ``only``, seeker ids, when given) —
    findable by employers or not — the ``k``
    best live postings within how far they will travel (``index.top_many``), leaving out postings
    they already applied to or were invited to; with ``since``, only postings published since then
    (the new ones). Seekers in id order."""
    snap_index = postings_index()
    if since is not None:
        snap_index = matching.build(
            item for item in snap_index if item["published_at"] is not None and item["published_at"] >= since
        )
    looking = looking_seekers() if only is None else looking_seekers().filter(pk__in=list(only))
    seekers = sorted(_seeker_items(looking), key=lambda s: s["id"])
    if not seekers or not len(snap_index):
        for s in seekers:
            yield s["id"], []
        return
    taken: dict[int, set[int]] = defaultdict(set)
    for seeker_id, posting_id in Application.objects.filter(
        seeker_id__in=looking.values("id"), posting_id__in=live_postings().values("id")
    ).values_list("seeker_id", "posting_id"):
        if posting_id in snap_index:
            taken[seeker_id].add(posting_id)
    # one top_many per travel distance (few distinct values), asking for enough to drop the taken
    groups: dict[tuple[float, int], list[Mapping[str, Any]]] = defaultdict(list)
    for s in seekers:
        groups[(float(s["travel_m"]), len(taken.get(s["id"], ())))].append(s)
    answers: dict[int, list[Match]] = {}
    for (radius, extra), members in groups.items():
        for member, found in zip(members, snap_index.top_many(members, k + extra, radius), strict=True):
            skip = taken.get(member["id"], set())
            answers[member["id"]] = [m for m in found if m.id not in skip][:k]
    for s in seekers:
        yield s["id"], answers[s["id"]]


def push_accounts() -> dict[int, int]:
    """The seekers the push can reach: {seeker id: user id} of those looking for work with an active
    account (a seeker registered at the kiosk or the desk has no inbox)."""
    return dict(
        looking_seekers().filter(user__isnull=False, user__is_active=True).values_list("pk", "user_id").order_by("pk")
    )


def pushed_since(since: datetime | None) -> dict[int, datetime]:
    """{user id: when they were last sent new jobs} (``job_matches``), of the pushes since ``since``
    (None: ever)."""
    told = Notification.objects.filter(kind=notify_rules.JOB_MATCHES)
    if since is not None:
        told = told.filter(created_at__gte=since)
    rows = told.values("user_id").annotate(last=Max("created_at")).order_by().values_list("user_id", "last")
    return dict(rows)


def posting_rows(ids: Iterable[int]) -> dict[int, Posting]:
    """The postings ``ids`` with their employers, by id (in chunks: the push may name thousands)."""
    ids = sorted(set(ids))
    out: dict[int, Posting] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        out.update((p.pk, p) for p in Posting.objects.filter(pk__in=chunk).select_related("employer"))
    return out


# --- what a row shows ----------------------------------------------------------------------------------


def skill_names() -> dict[str, Skill]:
    """Every skill by code (one query; the vocabulary is small)."""
    return {s.code: s for s in Skill.objects.select_related("category")}


def explain(seeker: Mapping[str, Any], posting: Mapping[str, Any], match: Match) -> dict[str, Any]:
    """What matched, for a row of the list: the shared skill codes, the distance in km, whether the
    wage and the hours fit (True, False or None when one side left it out) and the score as a
    percentage — the parts of ``matching.score()``, in words."""
    shared = sorted(set(seeker.get("skills") or ()) & set(posting.get("skills") or ()))
    want, offer = seeker.get("wage_min"), posting.get("wage_max")
    wage_fit = None if want is None or offer is None else offer >= want
    h1, h2 = seeker.get("hours"), posting.get("hours")
    hours_apart = None if h1 is None or h2 is None else abs(h1 - h2)
    percent = round(match.score * 100)
    return {
        "shared": shared,
        "km": match.distance_m / 1000,
        "wage_fit": wage_fit,
        "hours_apart": hours_apart,
        "hours_fit": None if hours_apart is None else hours_apart <= matching.HOURS_SLACK,
        "percent": percent,
        "grade": "high" if percent >= 80 else "good" if percent >= 60 else "fair",
    }


def statuses_for(posting: Posting, seeker_ids: Iterable[int]) -> dict[int, str]:
    """The application status of each of these seekers on ``posting`` (invited, applied …)."""
    return dict(
        Application.objects.filter(posting=posting, seeker_id__in=list(seeker_ids)).values_list("seeker_id", "status")
    )


def own_seeker(user: User) -> Seeker | None:
    """The signed-in account's own seeker profile, if it has one."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Seeker.objects.filter(user_id=user.pk or 0).first()


# --- signals ---------------------------------------------------------------------------------------------


def connect_signals() -> None:
    """Bump the generations on what ``apps.ready`` does not cover: a posting's or a seeker's skills
    (``m2m_changed``) and an edited skill code (``Skill`` save/delete). Called from
    ``JobsConfig.ready``; idempotent (dispatch uids)."""

    def postings_changed(**kwargs: Any) -> None:
        if kwargs.get("action", "post_").startswith("post_"):
            generations.bump(POSTINGS)

    def seekers_changed(**kwargs: Any) -> None:
        if kwargs.get("action", "post_").startswith("post_"):
            generations.bump(SEEKERS)

    def vocabulary_changed(**_kwargs: Any) -> None:
        generations.bump(POSTINGS)
        generations.bump(SEEKERS)

    m2m_changed.connect(
        postings_changed, sender=Posting.skills.through, weak=False, dispatch_uid="jobs-matching:posting-skills"
    )
    m2m_changed.connect(
        seekers_changed, sender=Seeker.skills.through, weak=False, dispatch_uid="jobs-matching:seeker-skills"
    )
    post_save.connect(vocabulary_changed, sender=Skill, weak=False, dispatch_uid="jobs-matching:skill-save")
    post_delete.connect(vocabulary_changed, sender=Skill, weak=False, dispatch_uid="jobs-matching:skill-delete")
