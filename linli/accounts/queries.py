"""Reads of the accounts app used by pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from linli.accounts.models import RoleGrant
from linli.accounts.roles import ROLES, Role


def active_grants(user: Any) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(user=user, revoked_at__isnull=True).order_by("path", "role")


def place_url(kind: str, pk: int) -> str | None:
    """The page of a place, for links (a dwelling links to its building; a department to its queue)."""
    if kind == "department":
        return reverse("governance:queue_department_for", args=[pk])
    if kind == "dwelling":
        from linli.places.models import Dwelling

        building_id = Dwelling.objects.filter(pk=pk).values_list("building_id", flat=True).first()
        return reverse("places:building", args=[building_id]) if building_id else None
    return reverse(f"places:{kind}", args=[pk])


def grants_with_places(user: Any) -> list[dict[str, object]]:
    out = []
    for g in active_grants(user):
        spec = ROLES[Role(g.role)]
        out.append({"grant": g, "role_zh": spec.zh, "role_en": spec.en, "url": place_url(g.place_kind, g.place_id)})
    return out
