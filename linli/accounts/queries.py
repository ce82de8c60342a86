"""Reads of the accounts app used by pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse

from linli.accounts.models import OwnerAccount, RoleGrant
from linli.accounts.roles import ROLES, Role
from linli.core.types import User
from linli.places.models import Person


def active_grants(user: User) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(user_id=user.pk or 0, revoked_at__isnull=True).order_by("path", "role")


def place_url(kind: str, pk: int) -> str | None:
    """The page of a place, for links (a dwelling links to its building; a department to its queue)."""
    if kind == "department":
        return reverse("governance:queue_department_for", args=[pk])
    if kind == "dwelling":
        from linli.places.models import Dwelling

        building_id = Dwelling.objects.filter(pk=pk).values_list("building_id", flat=True).first()
        return reverse("places:building", args=[building_id]) if building_id else None
    return reverse(f"places:{kind}", args=[pk])


def grants_with_places(user: User) -> list[dict[str, object]]:
    out = []
    for g in active_grants(user):
        spec = ROLES[Role(g.role)]
        out.append({"grant": g, "role_zh": spec.zh, "role_en": spec.en, "url": place_url(g.place_kind, g.place_id)})
    return out


# --- owners' voting accounts (linli/accounts/verification.py) ---------------------------------------


def voting_person_ids(user: User) -> set[int]:
    """The people (owners) whose verified voting account ``user`` is: the only source of an
    online vote (``consult.services.ballots.voter_keys``)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        OwnerAccount.objects.filter(user_id=user.pk or 0, revoked_at__isnull=True).values_list("person_id", flat=True)
    )


def my_owner_accounts(user: User) -> QuerySet[OwnerAccount]:
    """The user's voting accounts, active first, revoked ones kept for the record."""
    return (
        OwnerAccount.objects.filter(user_id=user.pk or 0)
        .select_related("person", "verified_by", "revoked_by", "dwelling__building__compound", "dwelling__unit")
        .order_by("revoked_at", "-verified_at")
    )


def accounts_by_person(person_ids: Any) -> dict[int, OwnerAccount]:
    """The active voting account of each of these people (for the ballot roll and owner pages)."""
    return {
        a.person_id: a
        for a in OwnerAccount.objects.filter(person_id__in=person_ids, revoked_at__isnull=True).select_related(
            "user", "verified_by"
        )
    }


def staff_user_ids(user_ids: Any) -> set[int]:
    """Which of these accounts hold a staff role (any role but ``resident``) or the admin flags."""
    from linli.accounts.models import User

    ids = set(user_ids)
    staff = set(
        RoleGrant.objects.filter(user_id__in=ids, revoked_at__isnull=True)
        .exclude(role=Role.RESIDENT.value)
        .values_list("user_id", flat=True)
    )
    staff |= set(User.objects.filter(Q(is_superuser=True) | Q(is_staff=True), pk__in=ids).values_list("pk", flat=True))
    return staff


def dwelling_owners(dwelling: Any) -> list[dict[str, Any]]:
    """The owners of a dwelling for the worker's verification page: each with their active voting
    account, earlier (revoked) ones, whether SMS verification is locked, and whether the account
    also holds a staff role. Masked values only."""
    from linli.accounts.verification import is_locked
    from linli.places.models import Ownership

    rows = []
    owners = list(Ownership.objects.filter(dwelling=dwelling).select_related("person").order_by("-share", "person_id"))
    accounts: dict[int, list[OwnerAccount]] = {}
    for a in (
        OwnerAccount.objects.filter(person_id__in=[o.person_id for o in owners])
        .select_related("user", "verified_by", "revoked_by")
        .order_by("-verified_at", "-id")
    ):
        accounts.setdefault(a.person_id, []).append(a)
    staff = staff_user_ids({a.user_id for rows_ in accounts.values() for a in rows_})
    for i, o in enumerate(owners):
        mine = accounts.get(o.person_id, [])
        active = next((a for a in mine if a.revoked_at is None), None)
        rows.append(
            {
                "person": o.person,
                "share": o.share,
                "votes_for_dwelling": i == 0,
                "account": active,
                "account_staff": active is not None and active.user_id in staff,
                "history": [a for a in mine if a.revoked_at is not None],
                "locked": is_locked(person=o.person),
            }
        )
    return rows


def person(pk: int) -> Person | None:
    """The person (an owner) a worker's form names, or None (the service checks they own the dwelling)."""
    return Person.objects.filter(pk=pk).first()
