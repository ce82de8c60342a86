"""What was published stays published: the snapshots a notice and a counted (or withdrawn) ballot
keep of everything they show, taken once, at publication.

A snapshot is plain JSON (names, dates as ISO text, figures as the result already holds them). It
holds no ID number and no phone: staff appear by their display name, owners not at all. Pages,
the public page and the PDF render from it, so renaming a compound, re-importing a roster or
renaming a project later changes nothing that was published (tests/consult/test_published.py).

``digest()`` is the sha256 of the canonical JSON (sorted keys, UTF-8, no spaces); the notice keeps
it and prints it so that a printed copy can be matched with the stored one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from linli.core.types import User

VERSION = 1


def digest(snapshot: dict[str, Any]) -> str:
    text = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def person_label(user: User | None) -> dict[str, Any] | None:
    """A staff account as shown publicly: its display name (never a phone or an ID number)."""
    if user is None:
        return None
    return {"id": user.pk, "name": str(user)}


def places_of(compound: Any) -> dict[str, Any]:
    """The names of a compound and the places above it, as they are now."""
    community = compound.community
    street = community.street
    return {
        "compound": {"id": compound.pk, "name": compound.name},
        "community": {"id": community.pk, "name": community.name},
        "street": {"id": street.pk, "name": street.name},
        "district": {"id": street.district_id, "name": street.district.name},
        "place_label": f"{street.name} {community.name} {compound.name}",
        "issuer": f"{community.name}居民委员会",
    }


def ballot_scope_label(scope_kind: str, scope: Any) -> str:
    """「劳动三村小区」, 「劳动三村小区 1栋」 or 「劳动三村小区 1栋 1单元」."""
    if scope_kind == "compound":
        return str(scope.name)
    if scope_kind == "building":
        return f"{scope.compound.name} {scope.name}"
    building = scope.building
    return f"{building.compound.name} {building.name} {scope.number}单元"


def ballot_figures(ballot: Any) -> dict[str, Any]:
    """The part of a ballot a result (or withdrawal) notice publishes, taken from the ballot's own
    stored result (itself a snapshot)."""
    result = ballot.result or {}
    snap = result.get("snapshot") or {}
    out: dict[str, Any] = {
        "id": ballot.pk,
        "title": ballot.title,
        "question": ballot.question,
        "matter": ballot.matter,
        "matter_label": str(ballot.get_matter_display()),
        "status": ballot.status,
        "scope_label": snap.get("scope_label", ""),
        "roll": snap.get("roll"),
        "closes_at": _iso(ballot.closes_at),
    }
    if ballot.status == "closed":
        out.update(
            {
                "closed_at": result.get("closed_at"),
                "approved": bool(result.get("approved")),
                "approved_by_vote": bool(result.get("approved_by_vote")),
                "quorum_met": bool(result.get("quorum_met")),
                "counts": result.get("counts"),
                "thresholds": result.get("thresholds"),
                "participating_area": result.get("participating_area"),
                "participating_owners": result.get("participating_owners"),
                "approving_area": result.get("approving_area"),
                "approving_owners": result.get("approving_owners"),
                "lift": result.get("lift"),
            }
        )
    elif ballot.status == "withdrawn":
        out.update({"approved": False, "withdrawn": result.get("withdrawn")})
    return out


def notice_snapshot(notice: Any) -> dict[str, Any]:
    """Everything a notice shows, from the rows as they are at publication."""
    project = notice.project
    starts = _day(notice.starts_on)
    days = int(notice.days)
    snap: dict[str, Any] = {
        "v": VERSION,
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "project": {"id": project.pk, "name": project.name},
        **places_of(project.compound),
        "scope_label": f"{project.compound.name} · {project.name}",
        "starts_on": starts.isoformat(),
        "ends_on": (starts + timedelta(days=days - 1)).isoformat(),
        "days": days,
        "published_by": person_label(notice.published_by),
        "published_at": _iso(notice.published_at),
        "ballot": ballot_figures(notice.ballot) if notice.ballot_id else None,
        "reconstructed": False,
    }
    return snap


def ballot_snapshot(
    ballot: Any, scope: Any, compound: Any, *, by: User | None, at: datetime, outcome: str
) -> dict[str, Any]:
    """What a counted or withdrawn ballot publishes besides its figures: the names of the scope,
    compound and project as they are at that moment, the roll's size, who ended it and when."""
    from linli.consult.models import RollEntry

    entries = RollEntry.objects.filter(ballot=ballot)
    project = ballot.project
    return {
        "v": VERSION,
        "outcome": outcome,
        "title": ballot.title,
        "question": ballot.question,
        "matter": ballot.matter,
        "matter_label": str(ballot.get_matter_display()),
        "scope_kind": ballot.scope_kind,
        "scope_label": ballot_scope_label(ballot.scope_kind, scope),
        **places_of(compound),
        "project": {"id": project.pk, "name": project.name} if project is not None else None,
        "roll": {
            "dwellings": entries.count(),
            "owners": entries.values("owner_key").distinct().count(),
            "digest": ballot.roll_digest,
        },
        "opens_at": _iso(ballot.opens_at),
        "closes_at": _iso(ballot.closes_at),
        "ended_by": person_label(by),
        "ended_at": _iso(at),
        "reconstructed": False,
    }
