"""Reads of employers (issue 14 §2): the one permission-checked lookup, the staff queue, members,
the officers who may serve an employer, and where a point lies (district, street).

Who sees an employer: its members (``Scope.owner``: ``view`` and ``hire``) and the employment
service of the places above it (``jobs``). Anyone else gets a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from linli.accounts.permissions import can, get_or_404, scoped
from linli.accounts.roles import Action
from linli.core.errors import LinliError
from linli.core.geo import metres
from linli.core.types import User
from linli.jobs.models import Employer, EmployerMember
from linli.jobs.permissions import HIRE, SERVE, serving_grants
from linli.places.geometry import contains_point
from linli.places.models import Community, District, Street

#: A district without a drawn boundary: a point within this distance of its centre is inside it.
DISTRICT_RADIUS_M = 25_000.0


# --- where a point lies -------------------------------------------------------------------------


def _street_centres(district: District) -> list[tuple[Street, tuple[float, float] | None]]:
    """Each street of the district with a centre: its own, else the mean of its communities'."""
    sums: dict[int, tuple[float, float, int]] = {}
    rows = Community.objects.filter(street__district=district, lat__isnull=False, lon__isnull=False)
    for sid, c_lat, c_lon in rows.values_list("street_id", "lat", "lon"):
        s_lat, s_lon, n = sums.get(sid, (0.0, 0.0, 0))
        sums[sid] = (s_lat + (c_lat or 0.0), s_lon + (c_lon or 0.0), n + 1)  # both non-null (filter)
    out: list[tuple[Street, tuple[float, float] | None]] = []
    for street in Street.objects.filter(district=district).order_by("path"):
        if street.lat is not None and street.lon is not None:
            out.append((street, (street.lat, street.lon)))
        elif street.pk in sums:
            s_lat, s_lon, n = sums[street.pk]
            out.append((street, (s_lat / n, s_lon / n)))
        else:
            out.append((street, None))
    return out


def in_district(district: District, lat: float, lon: float) -> bool:
    """The point lies in the district: inside its boundary when one is drawn, else within
    ``DISTRICT_RADIUS_M`` of its centre (a district with neither takes any point)."""
    inside = contains_point(district.boundary, lat, lon)
    if inside is not None:
        return inside
    if district.lat is not None and district.lon is not None:
        return metres(lat, lon, district.lat, district.lon) <= DISTRICT_RADIUS_M
    return True


def position(lat: Any, lon: Any) -> tuple[float, float]:
    """Latitude and longitude from a form or a caller, or a clear 400."""
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError):
        la = lo = float("nan")
    if not (-90.0 <= la <= 90.0 and -180.0 <= lo <= 180.0):  # NaN fails both
        raise LinliError.one(
            "position_missing", "请在地图上选定位置(经纬度)。", "Pick the place on the map (latitude and longitude)."
        )
    return la, lo


def street_at(lat: Any, lon: Any, district: District | None = None) -> Street:
    """The street for a point of ``district`` (or of whichever district contains it): the street
    whose boundary contains the point, else the street of that district nearest to it. A point
    outside the district is a 400 that says so."""
    la, lo = position(lat, lon)
    districts = [district] if district is not None else list(District.objects.order_by("path"))
    for d in districts:
        if not in_district(d, la, lo):
            continue
        centres = _street_centres(d)
        for street, _centre in centres:
            if contains_point(street.boundary, la, lo):
                return street
        near = [(metres(la, lo, c[0], c[1]), street.path, street) for street, c in centres if c is not None]
        if near:
            return min(near, key=lambda x: (x[0], x[1]))[2]
        if centres:
            return centres[0][0]
    name = districts[0].name if len(districts) == 1 else ""
    raise LinliError.one(
        "outside_district",
        f"该位置不在{name or '本区'}辖区内,请在辖区内选点。",
        f"This place is outside {name or 'the district'}; pick a point inside the district.",
    )


# --- employers ----------------------------------------------------------------------------------


def employer_or_404(user: User, pk: int, action: str | Action = Action.VIEW) -> Employer:
    """The employer if ``user`` may ``action`` it: 404 outside every scope, 403 inside without it."""
    return get_or_404(user, action, Employer.objects.select_related("street", "officer", "verified_by"), pk=pk)


def by_credit_code(code: str) -> Employer | None:
    return Employer.objects.filter(credit_code=code).first()


def is_owner(user: User, employer: Employer) -> bool:
    """The account is one of the employer's administrators (owner members)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return EmployerMember.objects.filter(
        employer=employer, user_id=user.pk or 0, role=EmployerMember.Role.OWNER
    ).exists()


@dataclass(frozen=True)
class Filters:
    status: str = ""
    key: str = ""  # "1": key enterprises only
    q: str = ""

    @classmethod
    def read(cls, params: Any) -> Filters:
        status = str(params.get("status", ""))[:12]
        if status not in Employer.Status.values:
            status = ""
        key = "1" if str(params.get("key", "")) == "1" else ""
        return cls(status=status, key=key, q=str(params.get("q", "")).strip()[:60])


def staff_queue(user: User, filters: Filters | None = None) -> QuerySet[Employer]:
    """Employers the user serves (``jobs``): awaiting verification first (oldest first), then by
    name; filtered by status, key enterprise and a part of the name or credit code."""
    f = filters or Filters()
    qs = scoped(user, SERVE, Employer.objects.select_related("street", "officer"))
    if f.status:
        qs = qs.filter(status=f.status)
    if f.key:
        qs = qs.filter(key_enterprise=True)
    if f.q:
        qs = qs.filter(Q(name__icontains=f.q) | Q(credit_code__icontains=f.q.upper()))
    return qs.annotate(
        pending_first=Case(
            When(status=Employer.Status.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
        n_postings=Count("postings", distinct=True),
    ).order_by("pending_first", "created_at" if f.status == Employer.Status.PENDING else "name", "id")


def status_counts(user: User) -> dict[str, int]:
    rows = scoped(user, SERVE, Employer.objects.all()).values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows}


def mine(user: User) -> list[Employer]:
    """The employers the account acts for."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Employer.objects.filter(members__user_id=user.pk or 0).select_related("street").order_by("name"))


def members_of(employer: Employer) -> list[EmployerMember]:
    return list(employer.members.select_related("user").order_by("-role", "added_at", "id"))


def officers_for(employer: Employer) -> list[Any]:
    """Accounts that may serve this employer (``permissions.serving_grants``), by user name."""
    ids = {user_id for user_id, _role, _held_at in serving_grants(employer.path)}
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username"))


def may_serve(user: User, employer: Employer) -> bool:
    return can(user, SERVE, employer)


def may_hire(user: User, employer: Employer) -> bool:
    return can(user, HIRE, employer)
