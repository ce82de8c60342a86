"""Every write of the accounts app: role grants and logged reads of personal data."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model

from linli.accounts.models import AccessLog, Department, RoleGrant, User
from linli.accounts.permissions import authorize, forget_grants, grants_of
from linli.accounts.roles import ROLES, Action, Role, grantable_by, may_be_held_at
from linli.core import clock
from linli.core.errors import LinliError
from linli.places.models import PLACE_MODELS, Building, Dwelling, Grid, Person


def place_path(place: Model) -> str:
    """The path a grant at ``place`` covers (see RoleGrant.path)."""
    if isinstance(place, Grid):
        return place.community.path
    if isinstance(place, Dwelling):
        return place.building.path
    return str(place.path)  # type: ignore[attr-defined]


def place_label(place: Model) -> str:
    if isinstance(place, Dwelling):
        b = place.building
        return f"{b.compound.name} {b.name} {place.unit.number}-{place.number}"
    return str(place)


def resolve_place(kind: str, place_id: int) -> Model:
    model = Department if kind == "department" else PLACE_MODELS.get(kind)
    if model is None:
        raise LinliError.one("unknown_place_kind", f"未知的地点类型:{kind}", f"Unknown place kind: {kind}")
    obj = model._default_manager.filter(pk=place_id).first()
    if obj is None:
        raise LinliError.one("unknown_place", "地点不存在。", "The place does not exist.", status=404)
    return obj


def _covering_roles(granter: Any, place: Model) -> set[str]:
    """The granter's roles held at ``place`` or above it (a role held elsewhere does not count)."""
    target = place_path(place)
    return {
        g.role for g in grants_of(granter) if g.place_kind not in {"grid", "dwelling"} and target.startswith(g.path)
    }


@transaction.atomic
def grant_role(granter: Any, user: User, role: str, place: Model) -> RoleGrant:
    """Grant ``role`` at ``place`` to ``user``. Rules (tests/accounts/test_grant_matrix.py): nobody
    grants themselves anything; the role must be one that may be held at that kind of place; the
    granter needs ``manage_roles`` there and may hand out only roles below their own rank with no
    action they do not hold there. A ``resident`` grant gives no vote (owner verification does)."""
    kind = "department" if isinstance(place, Department) else place.kind  # type: ignore[attr-defined]
    if getattr(granter, "pk", None) is not None and granter.pk == user.pk:
        raise LinliError.one(
            "self_grant",
            "不能给自己授予角色:角色须由他人授予。",
            "You cannot grant a role to yourself: someone else must grant it.",
            status=403,
        )
    if role not in Role._value2member_map_:
        raise LinliError.one("unknown_role", f"未知角色:{role}", f"Unknown role: {role}")
    if not may_be_held_at(role, kind):
        spec = ROLES[Role(role)]
        raise LinliError.one(
            "role_place_mismatch",
            f"“{spec.zh}”不能设在{kind}一级。",
            f"The role “{spec.en}” cannot be held at a {kind}.",
        )
    if not granter.is_superuser:
        authorize(granter, Action.MANAGE_ROLES, place)
        if Role(role) not in grantable_by(_covering_roles(granter, place)):
            raise LinliError.one(
                "role_too_strong",
                "不能授予比自己权限更大的角色。",
                "You cannot grant a role stronger than your own.",
                status=403,
            )
    existing = RoleGrant.objects.filter(
        user=user, role=role, place_kind=kind, place_id=place.pk, revoked_at__isnull=True
    ).first()
    if existing:
        return existing
    grant = RoleGrant.objects.create(
        user=user,
        role=role,
        place_kind=kind,
        place_id=place.pk,
        path=place_path(place),
        label=place_label(place),
        granted_by=granter if granter.is_authenticated else None,
    )
    forget_grants(user)
    return grant


@transaction.atomic
def revoke_role(granter: Any, grant: RoleGrant) -> None:
    if not granter.is_superuser:
        place = resolve_place(grant.place_kind, grant.place_id)
        authorize(granter, Action.MANAGE_ROLES, place)
    RoleGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    forget_grants(grant.user)


def _person_path(person: Person) -> str:
    building = (
        Building.objects.filter(dwellings__ownerships__person=person).only("path").first()
        or Building.objects.filter(dwellings__households__residents__person=person).only("path").first()
    )
    return building.path if building else ""


def log_access(
    user: Any, what: str, obj: Model | None, path: str = "", reason: str = "", ip: str | None = None
) -> AccessLog:
    return AccessLog.objects.create(
        user=user,
        what=what,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        path=path,
        reason=reason[:200],
        ip=ip,
    )


@transaction.atomic
def reveal(user: Any, person: Person, field: str, reason: str, ip: str | None = None) -> str:
    """Return a person's full ID number or phone, after the permission check, and log the read.

    A reason is required (PIPL Art. 6: purpose); it is kept with the log entry.
    """
    if field not in {"id_number", "phone"}:
        raise LinliError.one("unknown_field", "只能查看证件号或电话。", "Only id_number or phone can be revealed.")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise LinliError.one(
            "reason_required", "查看完整信息须填写事由。", "A reason is required to see the full value."
        )
    authorize(user, Action.REVEAL, person)
    value = person._id_number() if field == "id_number" else person._phone()
    what = AccessLog.What.REVEAL_ID if field == "id_number" else AccessLog.What.REVEAL_PHONE
    log_access(user, what, person, _person_path(person), reason, ip)
    return value
