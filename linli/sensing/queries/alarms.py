"""Reads of the alarm board, the alarm page and the command centre's alarm layer (issue 13 §4–5).

Everything is scoped once by ``alarms_of(user)`` (``scoped(user, EVENTS, Alarm)``: the handling
chain of grid events sees the alarms of its place or grid); a signed-in user without EVENTS anywhere
gets a 403 (no object whose existence could leak), an alarm outside the scope a 404.

The board costs a fixed number of queries whatever the number of alarms: the counts per severity
and community (one GROUP BY over the open alarms), the communities' names, the trapped band, the
page's count and its rows (tests/sensing/test_alarms_pages.py counts them;
bench/bench_sensing_board.py times it with 10,000 open alarms).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import QueryDict
from django.urls import reverse

from linli.accounts.permissions import get_or_404, scope_q, scoped
from linli.core.ids import as_id
from linli.core.paging import Paged, paginate
from linli.core.types import User
from linli.places.models import Community
from linli.sensing.models import SEVERITY_RANK, Alarm, AlarmLog, AlarmType, Severity
from linli.sensing.permissions import HANDLE_ALARMS, SEE_ALARMS

PER_PAGE = 20
HISTORY_PER_PAGE = 30
#: trapped passengers shown in the band at the top of the board (the rest are on the list)
TRAPPED_SHOWN = 10
#: markers drawn on the command centre's map at most (trapped first, then by severity, newest)
MAP_CAP = 2000

#: The board's status filter: "open" (not cleared, the default), ThingsBoard's four statuses, "all".
STATUSES = ("open", "active_unack", "active_ack", "cleared_unack", "cleared_ack", "all")
_STATUS_Q = {
    "open": Q(cleared=False),
    "active_unack": Q(cleared=False, acknowledged=False),
    "active_ack": Q(cleared=False, acknowledged=True),
    "cleared_unack": Q(cleared=True, acknowledged=False),
    "cleared_ack": Q(cleared=True, acknowledged=True),
    "all": Q(),
}

#: Marker and badge colours by severity (the map layer and the board's counts).
SEVERITY_COLOURS = {
    Severity.CRITICAL.value: "#b3261e",
    Severity.MAJOR.value: "#e65100",
    Severity.MINOR.value: "#8a6d00",
    Severity.WARNING.value: "#1a56db",
}


def sees_alarms(user: User) -> bool:
    """Whether ``user`` may see alarms somewhere (EVENTS in some scope; superusers everywhere)."""
    return scope_q(user, SEE_ALARMS, Alarm) is not None


def alarms_of(user: User) -> QuerySet[Alarm]:
    """Every alarm ``user`` may see; a 403 for a user who may see none anywhere."""
    if not sees_alarms(user):
        raise PermissionDenied("no alarms in scope")
    return scoped(user, SEE_ALARMS, Alarm.objects.all())


def handles_alarms(user: User) -> bool:
    """Whether ``user`` may acknowledge or clear alarms somewhere (to show the forms' column)."""
    return scope_q(user, HANDLE_ALARMS, Alarm) is not None


@dataclass
class Filters:
    severity: str = ""
    alarm_type: str = ""
    community: int | None = None
    status: str = "open"
    unack: bool = False

    def query(self) -> str:
        pairs = [
            ("severity", self.severity),
            ("type", self.alarm_type),
            ("community", str(self.community) if self.community else ""),
            ("status", "" if self.status == "open" else self.status),
            ("unack", "1" if self.unack else ""),
        ]
        return urlencode([(k, v) for k, v in pairs if v])

    @property
    def any(self) -> bool:
        return bool(self.query())


def parse_filters(get: QueryDict | dict[str, str]) -> Filters:
    """The board's filters; unknown values are ignored (the board then shows everything in scope)."""
    f = Filters()
    severity = str(get.get("severity", "") or "")
    f.severity = severity if severity in Severity.values else ""
    kind = str(get.get("type", "") or "")
    f.alarm_type = kind if kind in AlarmType.values else ""
    f.community = as_id(get.get("community", ""))
    status = str(get.get("status", "") or "")
    f.status = status if status in STATUSES else "open"
    f.unack = get.get("unack") == "1"
    return f


def filtered(alarms: QuerySet[Alarm], f: Filters) -> QuerySet[Alarm]:
    qs = alarms.filter(_STATUS_Q[f.status])
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.alarm_type:
        qs = qs.filter(alarm_type=f.alarm_type)
    if f.community:
        qs = qs.filter(community_id=f.community)
    if f.unack:
        qs = qs.filter(acknowledged=False)
    return qs


@dataclass
class Board:
    filters: Filters
    page: Paged[Alarm]
    trapped: list[Alarm]
    trapped_total: int
    counts: list[dict[str, Any]]  # per severity, most severe first: {"severity", "n"}
    open_total: int
    communities: list[Community] = field(default_factory=list)


_ROW_RELATED = ("device", "device__building", "device__unit", "community", "event")


def board(user: User, params: QueryDict | dict[str, str], *, label: str = "") -> Board:
    """The alarm board for ``user``: open alarms first, trapped passengers, then by severity, newest
    first; the counts per severity and the trapped band always of every open alarm in scope."""
    alarms = alarms_of(user)
    f = parse_filters(params)
    per: dict[str, int] = dict.fromkeys(Severity.values, 0)
    trapped_total = 0
    community_ids: set[int] = set()
    # the open alarms the filters pick, when the counts below answer it (no COUNT over the table)
    known: int | None = 0 if f.status == "open" and not f.alarm_type and not f.unack else None
    rows = (
        alarms.filter(cleared=False)
        .order_by()
        .values("community_id", "severity")
        .annotate(n=Count("pk"), trapped=Count("pk", filter=Q(alarm_type=AlarmType.TRAPPED)))
    )
    for r in rows:
        per[r["severity"]] = per.get(r["severity"], 0) + r["n"]
        trapped_total += r["trapped"]
        community_ids.add(r["community_id"])
        if known is not None and (not f.severity or r["severity"] == f.severity):
            known += r["n"] if not f.community or r["community_id"] == f.community else 0
    if f.community:
        community_ids.add(f.community)
    communities = list(Community.objects.filter(pk__in=community_ids).order_by("path").only("pk", "name", "path"))
    trapped: list[Alarm] = []
    if trapped_total:
        trapped = list(
            alarms.filter(cleared=False, alarm_type=AlarmType.TRAPPED)
            .select_related(*_ROW_RELATED)
            .order_by("-started_at", "-pk")[:TRAPPED_SHOWN]
        )
    # the page's keys first, from the alarm table alone (the index ``alarm_board`` gives the order),
    # then those rows with their device, place and event: the joins never run over every alarm
    keys = filtered(alarms, f).order_by("cleared", "priority", "-started_at", "-pk").values_list("pk", flat=True)
    page = paginate(params, keys, PER_PAGE, anchor="#board-h", label=label, count=known)
    loaded = Alarm.objects.select_related(*_ROW_RELATED).in_bulk(list(page.rows))
    page = replace(page, rows=[loaded[pk] for pk in page.rows if pk in loaded])
    counts = [
        {"severity": s, "label": str(Severity(s).label), "n": per[s], "colour": SEVERITY_COLOURS[s]}
        for s in sorted(per, key=lambda k: SEVERITY_RANK.get(k, 9))
    ]
    return Board(
        filters=f,
        page=page,
        trapped=trapped,
        trapped_total=trapped_total,
        counts=counts,
        open_total=sum(per.values()),
        communities=communities,
    )


def alarm(user: User, pk: int) -> Alarm:
    """One alarm in ``user``'s scope (404 outside it; 403 for one in VIEW scope only)."""
    qs = Alarm.objects.select_related(
        "device__profile",
        "device__building__compound",
        "device__unit",
        "device__compound",
        "channel",
        "community",
        "grid",
        "event__category",
        "acknowledged_by",
        "cleared_by",
    )
    return get_or_404(user, SEE_ALARMS, qs, pk=pk)


def history(a: Alarm, params: QueryDict | dict[str, str], *, label: str = "") -> Paged[AlarmLog]:
    """The alarm's history, newest first, one page."""
    qs = AlarmLog.objects.filter(alarm=a).select_related("user").order_by("-at", "-pk")
    return paginate(params, qs, HISTORY_PER_PAGE, param="h", anchor="#history-h", label=label)


def place_label(a: Alarm) -> str:
    """Where the alarm's device is: compound, building and unit (or the community for a point)."""
    d = a.device
    parts: list[str] = []
    if d.building_id is not None and d.building is not None:
        parts.append(d.building.name)
        if d.unit_id is not None and d.unit is not None:
            parts.append(f"{d.unit.number}")
    return " · ".join([a.community.name, *parts])


def map_points(user: User) -> dict[str, Any]:
    """The open alarms in scope for the command centre's map, trapped passengers first, then by
    severity, newest; capped at ``MAP_CAP`` (how many were left out is said). Compact: one row per
    alarm ``[id, lon, lat, type, severity, trapped, acknowledged, device code]`` and the labels of
    the types and severities once (a district's 10,000 open alarms would be megabytes as GeoJSON);
    ``url`` is an alarm's page with ``0`` for its id."""
    alarms = alarms_of(user).filter(cleared=False)
    total = alarms.count()
    rows = alarms.filter(device__lat__isnull=False, device__lon__isnull=False).order_by(
        "priority", "-started_at", "-pk"
    )[:MAP_CAP]
    points = [
        [pk, lon, lat, kind, severity, int(kind == AlarmType.TRAPPED), int(acked), code]
        for pk, kind, severity, acked, lat, lon, code in rows.values_list(
            "pk", "alarm_type", "severity", "acknowledged", "device__lat", "device__lon", "device__code"
        )
    ]
    return {
        "alarms": points,
        "types": {k: str(v) for k, v in AlarmType.choices},
        "severities": {k: str(v) for k, v in Severity.choices},
        "url": reverse("sensing:alarm_detail", args=[0]),
        "total_open": total,
        "drawn": len(points),
        "not_drawn": total - len(points),
        "cap": MAP_CAP,
    }
