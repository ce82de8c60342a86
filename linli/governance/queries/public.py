"""Reads for residents taking part (issue 12 §9): the public map of reported problems, its GeoJSON feed
and list, the public page of one problem, the "me too" and follow state, and "我关注的问题".

No personal data leaves here (docs/governance.md "Residents take part"):

- a problem is shown by its category, its public status (waiting / being handled / closed), its
  dates (reported, dispatched, closed), the department responsible, the "me too" count and where it
  is **as compound and building** — the position on the map is the building's, never the one the
  reporter's phone gave (a case without a building is rounded to 0.001°, about 100 m);
- no names (reporter, staff), phones, ID numbers, addresses typed by the reporter, attributes,
  photos or free text at all: descriptions and notes are written for the handling chain and name
  people and flats in words ``core.masking.mask_text`` cannot find (it masks phones and ID numbers
  only), so the public page shows the steps with their dates instead;
- voided cases and the categories about a person (``permissions.hidden_categories``) are not shown.

Nothing here writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy

from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.core import lang
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.core.types import User
from linli.governance import permissions
from linli.governance.loop import Move, Step
from linli.governance.models import MOVE_LABELS, REPORTED_LABEL, STEP_LABELS, Category, Event, EventLog, Follow, Support
from linli.governance.services import events as svc
from linli.places import models as places_models

PER_PAGE = 20

# The three public states of a problem (FixMyStreet's open / in progress / fixed), from the loop's steps.
WAITING, HANDLING, CLOSED = "waiting", "handling", "closed"
STATUS_OF: dict[str, str] = {
    Step.COLLECTED: WAITING,
    Step.REGISTERED: WAITING,
    Step.DISPATCHED: WAITING,
    Step.HANDLING: HANDLING,
    Step.REPORTED: HANDLING,
    Step.CLOSED: CLOSED,
    Step.EVALUATED: CLOSED,
}
STEPS_OF: dict[str, list[str]] = {
    status: [step for step, s in STATUS_OF.items() if s == status] for status in (WAITING, HANDLING, CLOSED)
}
STATUS_LABELS = {
    WAITING: pgettext_lazy("public status", "Waiting to be handled"),
    HANDLING: pgettext_lazy("public status", "Being handled"),
    CLOSED: pgettext_lazy("public status", "Closed"),
}
# Colours of the map and the badges; the legend and every badge say the status in words too.
STATUS_COLOURS = {WAITING: "#b3261e", HANDLING: "#a15c00", CLOSED: "#1e7b34"}


def status_of(event: Event) -> str:
    return STATUS_OF.get(event.step, CLOSED)


def statuses() -> list[dict[str, str]]:
    """The three states with their label and colour, for the legend and the filter."""
    return [
        {"key": k, "label": str(STATUS_LABELS[k]), "colour": STATUS_COLOURS[k]} for k in (WAITING, HANDLING, CLOSED)
    ]


# --- filters ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    category: str = ""
    status: str = ""
    community: int | None = None

    def query(self) -> str:
        pairs = [("category", self.category), ("status", self.status), ("community", str(self.community or ""))]
        return urlencode([(k, v) for k, v in pairs if v])


def parse_filters(get: Any) -> Filters:
    """Unknown or malformed values are ignored (the map then shows everything public), never an error."""
    status = get.get("status", "")
    code = (get.get("category") or "").strip()[:20]
    hidden = permissions.hidden_categories()
    return Filters(
        category=code if code and code not in hidden else "",
        status=status if status in STEPS_OF else "",
        community=as_id(get.get("community", "")),
    )


def parse_bbox(raw: str) -> tuple[float, float, float, float] | None:
    """``bbox=west,south,east,north`` (degrees, as OGC and Leaflet's ``toBBoxString`` write it), or None
    when absent; anything else is a 400 that says what is expected."""
    if not raw:
        return None
    try:
        w, s, e, n = (float(x) for x in raw.split(","))
    except ValueError as exc:
        raise LinliError.one(
            "bad_bbox",
            "bbox 须为“西,南,东,北”四个经纬度数字。",
            "bbox must be four numbers: west,south,east,north (degrees).",
        ) from exc
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise LinliError.one(
            "bad_bbox", "bbox 的范围无效(西 ≤ 东,南 ≤ 北)。", "bbox is not a valid box (west ≤ east, south ≤ north)."
        )
    return w, s, e, n


def parse_limit(raw: str) -> int:
    """``limit`` (1 … LINLI_PUBLIC_MAP_LIMIT, the default); anything else is a 400."""
    top = int(settings.LINLI_PUBLIC_MAP_LIMIT)
    if not raw:
        return top
    value = as_id(raw)
    if value is None or not 1 <= value <= top:
        raise LinliError.one(
            "bad_limit", f"limit 须为 1 至 {top} 的整数。", f"limit must be a whole number from 1 to {top}."
        )
    return value


# --- the public list ------------------------------------------------------------------------------------


def _support_count() -> Coalesce:
    counted = Support.objects.filter(event=OuterRef("pk")).values("event").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def support_counts(event_ids: list[int]) -> dict[int, int]:
    """The "me too" count of each of ``event_ids`` that has one, in one query (the queues' cards)."""
    if not event_ids:
        return {}
    rows = Support.objects.filter(event_id__in=event_ids).values("event_id").annotate(n=Count("pk"))
    return {r["event_id"]: r["n"] for r in rows.order_by()}


def public_events(f: Filters | None = None) -> QuerySet[Event]:
    """Problems the public map shows (not voided, not of a hidden category), newest first, each with
    its "me too" count (``support_count``)."""
    f = f or Filters()
    qs = Event.objects.exclude(step=Step.VOIDED).exclude(category__code__in=permissions.hidden_categories())
    if f.category:
        qs = qs.filter(category__code=f.category)
    if f.status:
        qs = qs.filter(step__in=STEPS_OF[f.status])
    if f.community:
        qs = qs.filter(community_id=f.community)
    return (
        qs.select_related("category", "building__compound", "community", "department")
        .annotate(support_count=_support_count())
        .order_by("-created_at", "-pk")
    )


def categories() -> list[Category]:
    """Categories a visitor may filter by (active and not hidden)."""
    return list(
        Category.objects.filter(active=True).exclude(code__in=permissions.hidden_categories()).order_by("order", "code")
    )


def communities() -> list[places_models.Community]:
    """Communities with at least one problem on the public map."""
    ids = public_events().order_by().values("community_id").distinct()
    return list(places_models.Community.objects.filter(pk__in=ids).order_by("path"))


def position(event: Event) -> tuple[float, float]:
    """Where the map puts ``event``: its building's position, never the reporter's own (rounded to
    0.001° when the case has no building with a position)."""
    b = event.building
    if b is not None and b.lat is not None and b.lon is not None:
        return b.lat, b.lon
    return round(event.lat, 3), round(event.lon, 3)


def row(event: Event) -> dict[str, Any]:
    """What a list, a map point and the public page say of one problem."""
    status = status_of(event)
    return {
        "pk": event.pk,
        "category": event.category.label,
        "code": event.category.code,
        "place": event.place_name,
        "community": event.community.name,
        "status": status,
        "status_label": str(STATUS_LABELS[status]),
        "colour": STATUS_COLOURS[status],
        "reported": event.created_at,
        "dispatched": event.dispatched_at,
        "closed": event.closed_at if status == CLOSED else None,
        "department": lang.pick(event.department.name, event.department.name_en) if event.department else "",
        "supports": getattr(event, "support_count", 0) or 0,
        "url": reverse("governance:public_event", args=[event.pk]),
    }


def cache_seconds() -> int:
    return int(settings.LINLI_PUBLIC_MAP_CACHE_SECONDS)


def geojson(f: Filters, bbox: tuple[float, float, float, float] | None, limit: int) -> dict[str, Any]:
    """The map's feed: at most ``limit`` problems (newest first) inside ``bbox``, one point each at
    its building, coloured by status. Cached for LINLI_PUBLIC_MAP_CACHE_SECONDS per language and query
    (a "me too" shows on the map that much later; the public page counts at once)."""
    ttl = cache_seconds()
    raw = f"{get_language()}|{f.query()}|{bbox}|{limit}"
    key = "public-map:" + hashlib.sha256(raw.encode()).hexdigest()[:32]
    if ttl:
        hit = cache.get(key)
        if hit is not None:
            return hit
    qs = public_events(f)
    if bbox is not None:
        w, s, e, n = bbox
        # the building's position when it has one (that is what the map shows), else the case's
        inside = Q(building__lat__gte=s, building__lat__lte=n, building__lon__gte=w, building__lon__lte=e)
        loose = Q(building__lat__isnull=True) & Q(lat__gte=s, lat__lte=n, lon__gte=w, lon__lte=e)
        qs = qs.filter(inside | loose)
    # plain rows, not model instances: 500 points in a fraction of the time (the page's list uses ``row``)
    cols = (
        "pk",
        "step",
        "category__code",
        "category__name",
        "category__name_en",
        "building__name",
        "building__compound__name",
        "community__name",
        "building__lat",
        "building__lon",
        "lat",
        "lon",
        "created_at",
        "support_count",
    )
    labels = {k: str(v) for k, v in STATUS_LABELS.items()}
    base = reverse("governance:public_map")
    features = []
    for pk, step, code, name, name_en, b_name, c_name, community, b_lat, b_lon, lat, lon, at, n in qs.values_list(
        *cols
    )[:limit]:
        status = STATUS_OF.get(step, CLOSED)
        place = f"{c_name} {b_name}" if b_name is not None else community
        la, lo = (b_lat, b_lon) if b_lat is not None and b_lon is not None else (round(lat, 3), round(lon, 3))
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lo, 6), round(la, 6)]},
                "properties": {
                    "id": pk,
                    "kind": "problem",
                    "name": f"#{pk} {lang.pick(name, name_en)} · {place} · {labels[status]}",
                    "category": code,
                    "status": status,
                    "color": STATUS_COLOURS[status],
                    "supports": n or 0,
                    "reported": timezone.localdate(at).isoformat(),
                    "url": f"{base}{pk}/",
                },
            }
        )
    out = {"type": "FeatureCollection", "features": features, "limit": limit, "truncated": len(features) >= limit}
    if ttl:
        cache.set(key, out, ttl)
    return out


# --- the public page of one problem --------------------------------------------------------------------


def public_event(pk: int) -> Event:
    """The problem ``pk`` as the public sees it, or a 404 (missing, voided, or of a hidden category)."""
    event = public_events().filter(pk=pk).first()
    if event is None:
        raise Http404("no such public report")
    return event


def steps(event: Event) -> list[dict[str, Any]]:
    """The public history: when it was reported and each change of its step, with the date — no one's
    name, no department's notes, nothing anyone typed."""
    out: list[dict[str, Any]] = []
    rows = EventLog.objects.filter(event=event).order_by("at", "pk").values_list("at", "move", "step_from", "step_to")
    for at, move, step_from, step_to in rows:
        if move == "create":
            out.append({"at": at, "label": str(REPORTED_LABEL), "to": ""})
        elif step_to and step_from != step_to and step_to in STEP_LABELS and move in Move._value2member_map_:
            out.append({"at": at, "label": str(MOVE_LABELS[Move(move)]), "to": str(STEP_LABELS[Step(step_to)])})
    return out


@dataclass(frozen=True)
class Part:
    """A person's part in one report: the counts, what they did, what they may do."""

    supports: int
    followers: int
    supported: bool
    following: bool
    is_open: bool
    reporter: bool
    may: bool  # signed in and may take part (permissions.may_take_part)


def part(user: User, event: Event) -> Part:
    supports = Support.objects.filter(event=event).count()
    followers = Follow.objects.filter(event=event).count()
    signed_in = bool(user.is_authenticated)
    uid = user.pk or 0
    mine_s = signed_in and Support.objects.filter(event=event, user_id=uid).exists()
    mine_f = signed_in and Follow.objects.filter(event=event, user_id=uid).exists()
    return Part(
        supports=supports,
        followers=followers,
        supported=mine_s,
        following=mine_f,
        is_open=event.is_open,
        reporter=signed_in and permissions.is_reporter(user, event),
        may=signed_in and permissions.may_take_part(user, event),
    )


def event_to_take_part(user: User, pk: int) -> Event:
    """The event a "me too" or follow form names: one the user may take part in, else a 404."""
    event = Event.objects.select_related("category").filter(pk=pk).first()
    if event is None or not permissions.may_take_part(user, event):
        raise Http404("no such report")
    return event


# --- possible duplicates on the report page --------------------------------------------------------------


def nearby_public(category: Category, lat: float, lon: float, shown: list[Event]) -> list[dict[str, Any]]:
    """Open problems of the same category nearby that the public map shows and the report page does not
    list already (``shown``: those the user sees in full), with their "me too" count: a resident says
    "me too" on one of them instead of filing a duplicate."""
    if category.code in permissions.hidden_categories():
        return []
    skip = {e.pk for e in shown}
    found = [e for e in svc.nearby_open(category, lat, lon, limit=20) if e.pk not in skip]
    if not found:
        return []
    by_pk = {e.pk: e for e in public_events().filter(pk__in=[e.pk for e in found])}
    out = []
    for e in found:
        pub = by_pk.get(e.pk)
        if pub is not None:
            out.append({**row(pub), "distance": getattr(e, "distance_m", None)})
    return out[:5]


# --- 我关注的问题 --------------------------------------------------------------------------------------------


def my_follows(user: User) -> QuerySet[Follow]:
    """The reports ``user`` follows, the latest followed first."""
    return (
        Follow.objects.filter(user_id=user.pk or 0)
        .select_related("event__category", "event__building__compound", "event__community")
        .order_by("-at", "-pk")
    )


def follow_rows(user: User, follows: list[Follow]) -> list[dict[str, Any]]:
    """Each followed report with its status and the page to open: the public page when the map shows
    it, the case page for the handling chain, else none (it left the public map)."""
    hidden = permissions.hidden_categories()
    out = []
    for fw in follows:
        ev = fw.event
        status = STATUS_OF.get(ev.step)
        if permissions.is_public(ev, hidden):
            url = reverse("governance:public_event", args=[ev.pk])
        elif can(user, Action.EVENTS, ev):
            url = reverse("governance:event_detail", args=[ev.pk])
        else:
            url = ""
        out.append(
            {
                "pk": ev.pk,
                "category": ev.category.label,
                "place": ev.place_name,
                "status_label": str(STATUS_LABELS[status]) if status else str(STEP_LABELS[Step.VOIDED]),
                "status": status or "voided",
                "since": fw.at,
                "by_support": fw.by_support,
                "url": url,
            }
        )
    return out
