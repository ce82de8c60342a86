"""Every write of the accounts app: role grants and logged reads of personal data."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model

from linli.accounts.models import AccessLog, Department, RoleGrant, User
from linli.accounts.permissions import authorize, can, forget_grants, grants_of
from linli.accounts.roles import ROLES, Action, Role, grantable_by, may_be_held_at
from linli.core import clock, crypto, types
from linli.core.errors import LinliError
from linli.places.models import PLACE_MODELS, Building, District, Dwelling, Grid, Person, Street


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


def _covering_roles(granter: types.User, place: Model) -> set[str]:
    """The granter's roles held at ``place`` or above it (a role held elsewhere does not count)."""
    target = place_path(place)
    return {
        g.role for g in grants_of(granter) if g.place_kind not in {"grid", "dwelling"} and target.startswith(g.path)
    }


@transaction.atomic
def grant_role(granter: types.User, user: User, role: str, place: Model) -> RoleGrant:
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
        granted_by_id=granter.pk if granter.is_authenticated else None,
    )
    forget_grants(user)
    return grant


@transaction.atomic
def revoke_role(granter: types.User, grant: RoleGrant) -> None:
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
    user: types.User, what: str, obj: Model | None, path: str = "", reason: str = "", ip: str | None = None
) -> AccessLog:
    assert user.pk is not None, "a signed-in account"
    return AccessLog.objects.create(
        user_id=user.pk,
        what=what,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        path=path,
        reason=reason[:200],
        ip=ip,
    )


@transaction.atomic
def reveal(user: types.User, person: Person, field: str, reason: str, ip: str | None = None) -> str:
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


@transaction.atomic
def ensure_user(
    username: str,
    *,
    password: str | None = None,
    display_name: str = "",
    superuser: bool = False,
    phone: str | None = None,
) -> User:
    """The account ``username``, created if missing (with ``display_name``), with ``password`` set
    when given and, for ``superuser``, the superuser and staff flags. For set-up commands (the demo
    logins), not for requests: nothing here checks who asks. Idempotent: an existing account keeps
    its name and grants. ``phone``: the mobile number on record (sign-in and reset by SMS code)."""
    defaults: dict[str, object] = {"display_name": display_name}
    if superuser:
        defaults |= {"is_superuser": True, "is_staff": True}
    user, created = User.objects.get_or_create(username=username, defaults=defaults)
    if superuser and not created:
        user.is_superuser = user.is_staff = True
    if password is not None:
        user.set_password(password)
    if phone is not None:
        user.set_phone(phone)
    user.save()
    return user


@transaction.atomic
def set_large_text(user: types.User, on: bool) -> None:
    """One's own 长辈模式 preference (large text on every page; linli.accounts.context.elder)."""
    if not user.is_authenticated:
        raise LinliError.one("signin_required", "请先登录。", "Sign in first.", status=403)
    User.objects.filter(pk=user.pk).update(large_text=bool(on))
    if isinstance(user, User):  # the request's own object, for the page drawn next
        user.large_text = bool(on)


# --- Departments and access-log entries for other apps ---
# Governance routes grid events to departments and shows the handling chain how to reach a reporter;
# both tables are accounts', so governance calls these instead of writing them (docs/governance.md).


@transaction.atomic
def ensure_department(
    code: str, district: District, *, name: str, name_en: str = "", kind: str, phone: str = ""
) -> tuple[Department, bool]:
    """The department ``code``, created in ``district`` when missing; (department, created). An
    existing department is left as it is (a district may have renamed it or changed its phone).

    A write of the catalogue, not of a person: it runs without a user (``manage.py``, the demo and
    tests reach it through governance's ``ensure_catalogue``), so there is no permission to check."""
    return Department.objects.get_or_create(
        code=code,
        defaults={"name": name, "name_en": name_en, "kind": kind, "district": district, "phone": phone},
    )


@transaction.atomic
def ensure_locality_office(street: Street) -> tuple[Department, bool]:
    """The street's locality office (属地: the department of last resort for anything without a
    clear owner, 属地兜底), created when the street has none yet; (department, created). Like
    ``ensure_department`` a system write without a user."""
    dept = Department.objects.filter(street=street).first()
    if dept is not None:
        return dept, False
    return Department.objects.get_or_create(
        street=street,
        defaults={
            "code": f"{street.path.replace('/', '')}-L"[:20],
            "name": f"{street.name}(属地)",
            "name_en": f"{street.name} street office (locality)",
            "kind": Department.Kind.LOCALITY,
            "district": street.district,
        },
    )


#: Why the handling chain reads a reporter's full phone: the purpose kept with each access-log entry
#: (PIPL Art. 6, rules.md §6).
CONTACT_REASON = "处置案件,联系上报人 / contacting the reporter to handle the case"


@transaction.atomic
def reveal_contact(
    user: types.User,
    action: str,
    obj: Model,
    *,
    phone_enc: str,
    email_enc: str,
    object_type: str,
    path: str,
    reason: str = CONTACT_REASON,
) -> dict[str, str] | None:
    """The full phone and e-mail a reporter left with ``obj`` (encrypted in its own columns, not a
    ``Person``'s), for a user who may take ``action`` on it; None for anyone else (one check).

    The other way to a full value beside ``reveal()``: the reporter gave them to be called back by
    whoever handles the case, so the reason is the fixed purpose ``reason``. A phone read is logged
    (``AccessLog``: reveal_phone, the object as ``object_type`` and its id, ``path``, the reason);
    without a phone nothing personal is read and nothing is logged."""
    if not user.is_authenticated or not can(user, action, obj):
        return None
    if phone_enc:
        AccessLog.objects.create(
            user_id=user.pk,
            what=AccessLog.What.REVEAL_PHONE,
            object_type=object_type,
            object_id=str(obj.pk),
            path=path,
            reason=reason[:200],
        )
    return {"phone": crypto.decrypt(phone_enc), "email": crypto.decrypt(email_enc)}
