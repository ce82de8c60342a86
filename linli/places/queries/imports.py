"""Reads for the import pages and API: the community and preview lookups, recent previews, and a
stored plan made readable.

A plan (``ImportPreview.plan``, see ``linli.places.services``) is JSON with masked personal data
only; this module turns its entries into rows for a page: column labels from the template's
bilingual headers, yes/no and choice values in words, old → new per field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy, pgettext

from linli.accounts.permissions import get_or_404, scoped
from linli.accounts.roles import Action
from linli.core.types import User
from linli.places import importing
from linli.places.models import Community, ImportPreview

KIND_LABELS = {
    "compounds": gettext_lazy("compounds"),
    "buildings": gettext_lazy("buildings"),
    "units": gettext_lazy("units"),
    "dwellings": gettext_lazy("dwellings"),
    "people": gettext_lazy("people"),
    "ownerships": gettext_lazy("ownerships"),
    "households": gettext_lazy("households"),
    "residents": gettext_lazy("residents"),
    "communities": gettext_lazy("communities"),
    "grids": gettext_lazy("grids"),
    "places": gettext_lazy("places"),
}
_EXTRA_FIELDS = {
    "owners": "产权人 owners",
    "head": "户主 head of household",
    "households": "住户 households",
    "residents": "居民 residents",
    "boundary": "边界 boundary",
}
_COLUMNS = {c.key: c for spec in importing.SPECS for c in spec.columns}


def field_label(key: str) -> str:
    col = _COLUMNS.get(key)
    return col.header if col is not None else _EXTRA_FIELDS.get(key, key)


def value_text(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return pgettext("a yes/no cell of a roster", "yes") if value else pgettext("a yes/no cell of a roster", "no")
    col = _COLUMNS.get(key)
    if col is not None and col.type == "choice":
        for choice, spellings in col.choices:
            if choice == value and len(spellings) > 1:
                return f"{spellings[1]} {choice}"
    return str(value)


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class EntryView:
    row: int | None
    kind: str
    label: str
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class PlanView:
    counts: list[tuple[str, int, int, int, int]]
    created: list[EntryView]
    changed: list[EntryView]
    removed: list[EntryView]
    more: dict[str, int]
    conflicts: list[dict[str, Any]]
    communities: list[dict[str, Any]]
    rows: int

    @property
    def totals(self) -> dict[str, int]:
        return {
            "created": sum(c[1] for c in self.counts),
            "changed": sum(c[2] for c in self.counts),
            "removed": sum(c[3] for c in self.counts),
        }

    @property
    def empty(self) -> bool:
        t = self.totals
        return not (t["created"] or t["changed"] or t["removed"] or self.conflicts)

    @property
    def shows_people(self) -> bool:
        kinds = {"people", "ownerships", "residents"}
        return bool(self.conflicts) or any(e.kind in kinds for e in (*self.created, *self.changed))


def _entry(e: dict[str, Any]) -> EntryView:
    return EntryView(
        e.get("row"),
        str(KIND_LABELS.get(e["kind"], e["kind"])),
        e.get("label", ""),
        [FieldChange(field_label(k), value_text(k, old), value_text(k, new)) for k, old, new in e.get("fields", [])],
    )


def plan_view(plan: dict[str, Any] | None) -> PlanView | None:
    if not plan:
        return None
    order = list(KIND_LABELS)
    counts = [
        (
            str(KIND_LABELS.get(k, k)),
            c.get("created", 0),
            c.get("changed", 0),
            c.get("removed", 0),
            c.get("unchanged", 0),
        )
        for k, c in sorted(plan.get("counts", {}).items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
        if any(c.values())
    ]
    return PlanView(
        counts=counts,
        created=[_entry(e) for e in plan.get("created", [])],
        changed=[_entry(e) for e in plan.get("changed", [])],
        removed=[_entry(e) for e in plan.get("removed", [])],
        more=plan.get("more", {}),
        conflicts=plan.get("conflicts", []),
        communities=plan.get("communities", []),
        rows=plan.get("rows", 0),
    )


def conflict_rows(preview: ImportPreview) -> list[dict[str, Any]]:
    """The preview's conflicts with the decision taken on each (if any)."""
    out = []
    for c in preview.plan.get("conflicts", []):
        out.append({**c, "decision": preview.resolutions.get(c["id"], "")})
    return out


def community_or_404(user: User, pk: int) -> Community:
    """The community of an import page: EDIT needed (404 outside the user's scope, else 403)."""
    return get_or_404(user, Action.EDIT, Community, pk=pk)


def preview_or_404(user: User, pk: int) -> ImportPreview:
    """A stored preview, for whoever may EDIT its community (not only its uploader)."""
    return get_or_404(
        user, Action.EDIT, ImportPreview.objects.select_related("community", "created_by", "decided_by"), pk=pk
    )


def recent_previews(user: User, community: Community, limit: int = 10) -> QuerySet[ImportPreview]:
    """This community's latest previews the user may act on (pending first)."""
    qs = scoped(user, Action.EDIT, ImportPreview.objects.filter(community=community))
    return qs.select_related("created_by", "decided_by").order_by("-created_at")[:limit]


def result_rows(result: dict[str, Any] | None) -> list[tuple[str, int, int, int, int]]:
    if not result:
        return []
    return [
        (str(KIND_LABELS.get(k, k)), c["created"], c["changed"], c["removed"], c["unchanged"])
        for k, c in result.get("counts", {}).items()
    ]


def log_rows(preview: ImportPreview, language: str) -> list[dict[str, str]]:
    """The preview's decision log in local time and the page's language."""
    from datetime import datetime

    from django.utils import timezone

    out = []
    for e in preview.log:
        try:
            at = timezone.localtime(datetime.fromisoformat(e["at"])).strftime("%Y-%m-%d %H:%M")
        except (KeyError, ValueError):
            at = ""
        out.append({"at": at, "user": e.get("user", ""), "text": e.get("en" if language == "en" else "zh", "")})
    return out
