"""Writes of employers (issue 14 §2): registration by a signed-in user (who becomes its
administrator), verification, rejection and suspension by the employment service, members, the
profile, and the key-enterprise mark with its service officer.

Each call checks its permission once (``authorize``) inside ``transaction.atomic``:

* ``register``: any signed-in account; the credit code is checked (GB 32100) and must be new.
* ``verify`` / ``reject`` / ``suspend`` / ``set_key_enterprise``: ``jobs`` at the employer's place
  (its street's employment service and those above it).
* ``update`` / ``add_member`` / ``remove_member``: the employer's administrators (owner members).

A suspended employer's postings stop being live at once: ``queries.postings.live`` asks for a
verified employer, so nothing needs closing (they come back if the employer is verified again).

Who is told (``linli.notify``, kind ``employer_status``, after the commit): the employment service of
the employer's street (``serving_staff``) of a new registration and of a rejected one corrected and
sent again; the employer's members of its verification, rejection (with the reason) and suspension.
Nobody is told of their own step.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from linli.accounts.permissions import authorize
from linli.core import clock, generations
from linli.core.errors import LinliError
from linli.core.masking import is_valid_phone
from linli.core.types import User
from linli.jobs import creditcode
from linli.jobs.models import Employer, EmployerMember
from linli.jobs.permissions import HIRE, SERVE, serves, serving_staff
from linli.jobs.queries import employers as q
from linli.notify import rules as notify_rules
from linli.notify import services as notify_services

#: The generation bumped whenever what is live may have changed (matching caches, queries.matching).
POSTINGS_GENERATION = "jobs-postings"

_TEXT_LIMITS = {"name": 120, "industry": 60, "address": 200, "contact_name": 60, "description": 2000}


def _text(field: str, value: Any, *, required: bool = False) -> str:
    text = str(value or "").strip()
    limit = _TEXT_LIMITS[field]
    labels = {
        "name": ("名称", "name"),
        "industry": ("行业", "industry"),
        "address": ("地址", "address"),
        "contact_name": ("联系人", "contact person"),
        "description": ("简介", "description"),
    }
    zh, en = labels[field]
    if required and not text:
        raise LinliError.one(f"{field}_missing", f"请填写{zh}。", f"Enter the {en}.")
    if len(text) > limit:
        raise LinliError.one(
            f"{field}_too_long", f"{zh}不能超过 {limit} 字。", f"The {en} may have at most {limit} characters."
        )
    return text


# --- who is told ------------------------------------------------------------------------------------------


def _members(employer: Employer) -> list[int]:
    return list(EmployerMember.objects.filter(employer=employer).values_list("user_id", flat=True))


def _tell(
    employer: Employer, recipients: list[int], actor: User, zh: str, en: str, body_zh: str = "", body_en: str = ""
) -> None:
    """Tell ``recipients`` (never ``actor``) about ``employer`` once the write commits (``employer_status``)."""
    notify_services.notify(
        notify_rules.EMPLOYER_STATUS,
        [uid for uid in recipients if uid != actor.pk],
        title_zh=zh,
        title_en=en,
        body_zh=body_zh,
        body_en=body_en,
        url=reverse("jobs:employer_detail", args=[employer.pk]),
        ref=f"employer:{employer.pk}",
    )


def _tell_staff(employer: Employer, actor: User, zh: str, en: str) -> None:
    """The employment service of the employer's street (its district's where the street has none)."""
    _tell(employer, serving_staff(employer.path), actor, zh, en)


def checked_code(code: Any) -> str:
    """The normalised credit code, or a 400 naming what is wrong with it."""
    try:
        return creditcode.validate(str(code or ""))
    except creditcode.CreditCodeError as exc:
        raise LinliError.one(exc.code, exc.zh, exc.en) from exc


def _phone(value: Any) -> str:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    if not digits:
        return ""
    if not (is_valid_phone(digits) or 7 <= len(digits) <= 12):
        raise LinliError.one(
            "bad_phone",
            "联系电话应为 11 位手机号或带区号的固定电话。",
            "The contact phone should be an 11-digit mobile number or a landline with its area code.",
        )
    return digits


def _size(value: Any) -> str:
    value = str(value or "")
    if value and value not in Employer.Size.values:
        raise LinliError.one("bad_size", "规模不在可选范围内。", "Choose a size from the list.")
    return value


def _taken(code: str) -> LinliError:
    return LinliError.one(
        "credit_code_taken",
        "该统一社会信用代码已登记。请联系该单位在本平台的管理员,把您添加为成员。",
        "This credit code is already registered: ask its administrator on the platform to add you.",
        status=409,
    )


def register(
    actor: User,
    *,
    name: str,
    credit_code: str,
    address: str,
    lat: Any,
    lon: Any,
    industry: str = "",
    size: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    description: str = "",
) -> Employer:
    """A new employer awaiting verification; ``actor`` becomes its administrator. The street is
    the one containing the point (or the district's nearest)."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("sign in to register an employer")
    fields = {
        "name": _text("name", name, required=True),
        "credit_code": checked_code(credit_code),
        "address": _text("address", address, required=True),
        "industry": _text("industry", industry),
        "size": _size(size),
        "contact_name": _text("contact_name", contact_name),
        "description": _text("description", description),
    }
    phone = _phone(contact_phone)
    street = q.street_at(lat, lon)
    la, lo = q.position(lat, lon)
    if q.by_credit_code(fields["credit_code"]) is not None:
        raise _taken(fields["credit_code"])
    try:
        with transaction.atomic():
            employer = Employer(lat=la, lon=lo, street=street, path=street.path, **fields)
            employer.set_contact_phone(phone)
            employer.save()
            EmployerMember.objects.create(employer=employer, user_id=int(actor.pk or 0), role=EmployerMember.Role.OWNER)
            _tell_staff(
                employer,
                actor,
                f"新单位登记待审核:{employer.name}",
                f"A new employer awaits verification: {employer.name}",
            )
    except IntegrityError as exc:  # a second submit, or someone else, got there first
        raise _taken(fields["credit_code"]) from exc
    return employer


def _locked(employer: Employer) -> Employer:
    return Employer.objects.select_for_update().get(pk=employer.pk)


def _refresh(employer: Employer, row: Employer) -> Employer:
    for f in (
        "status",
        "status_note",
        "verified_by_id",
        "verified_at",
        "key_enterprise",
        "officer_id",
        "name",
        "credit_code",
        "industry",
        "size",
        "address",
        "lat",
        "lon",
        "street_id",
        "path",
        "contact_name",
        "contact_phone_enc",
        "contact_phone_masked",
        "description",
    ):
        setattr(employer, f, getattr(row, f))
    return employer


def _reason(reason: Any) -> str:
    text = str(reason or "").strip()
    if len(text) < 2:
        raise LinliError.one("reason_required", "请写明理由。", "Give a reason.")
    if len(text) > 200:
        raise LinliError.one("reason_too_long", "理由不能超过 200 字。", "The reason may have at most 200 characters.")
    return text


_STATUS_TEXT = {
    Employer.Status.PENDING: ("待审核", "awaiting verification"),
    Employer.Status.VERIFIED: ("已审核", "verified"),
    Employer.Status.REJECTED: ("已驳回", "rejected"),
    Employer.Status.SUSPENDED: ("已暂停", "suspended"),
}


def _wrong_status(employer: Employer, zh: str, en: str) -> LinliError:
    s_zh, s_en = _STATUS_TEXT[Employer.Status(employer.status)]
    return LinliError.one(
        "employer_status", f"该单位当前状态为「{s_zh}」,{zh}", f"The employer is {s_en}: {en}", status=409
    )


def verify(actor: User, employer: Employer) -> Employer:
    """Staff confirm the employer (from pending, rejected or suspended): its postings may go live."""
    authorize(actor, SERVE, employer)
    with transaction.atomic():
        row = _locked(employer)
        if row.status == Employer.Status.VERIFIED:
            raise _wrong_status(row, "无需再次审核。", "it is verified already.")
        row.status = Employer.Status.VERIFIED
        row.status_note = ""
        row.verified_by_id = actor.pk
        row.verified_at = clock.now()
        row.save(update_fields=["status", "status_note", "verified_by", "verified_at"])
        generations.bump(POSTINGS_GENERATION)
        _tell(
            row,
            _members(row),
            actor,
            f"单位已通过审核:{row.name},岗位发布后即对求职者可见",
            f"{row.name} is verified: published jobs are now shown to job seekers",
        )
    return _refresh(employer, row)


def reject(actor: User, employer: Employer, reason: str) -> Employer:
    """Staff refuse a pending registration, with the reason the employer sees."""
    authorize(actor, SERVE, employer)
    text = _reason(reason)
    with transaction.atomic():
        row = _locked(employer)
        if row.status != Employer.Status.PENDING:
            raise _wrong_status(
                row, "只能驳回待审核的登记。", "only a registration awaiting verification can be rejected."
            )
        row.status = Employer.Status.REJECTED
        row.status_note = text
        row.save(update_fields=["status", "status_note"])
        _tell(
            row,
            _members(row),
            actor,
            f"单位登记未通过审核:{row.name}",
            f"The registration of {row.name} was not accepted",
            f"理由:{text} 修改登记信息后将重新提交审核。",
            f"Reason: {text} Correct the registration to send it again.",
        )
    return _refresh(employer, row)


def suspend(actor: User, employer: Employer, reason: str) -> Employer:
    """Staff stop a verified employer: its postings leave the live lists at once."""
    authorize(actor, SERVE, employer)
    text = _reason(reason)
    with transaction.atomic():
        row = _locked(employer)
        if row.status != Employer.Status.VERIFIED:
            raise _wrong_status(row, "只能暂停已审核的单位。", "only a verified employer can be suspended.")
        row.status = Employer.Status.SUSPENDED
        row.status_note = text
        row.save(update_fields=["status", "status_note"])
        generations.bump(POSTINGS_GENERATION)
        _tell(
            row,
            _members(row),
            actor,
            f"单位已被暂停:{row.name},岗位暂不对求职者显示",
            f"{row.name} is suspended: its jobs are no longer shown to job seekers",
            f"理由:{text}",
            f"Reason: {text}",
        )
    return _refresh(employer, row)


def set_key_enterprise(actor: User, employer: Employer, on: bool, officer: Any = None) -> Employer:
    """Staff mark (or unmark) a key enterprise and name the service officer who serves it (an
    account with ``jobs`` at the employer's place; None leaves no officer)."""
    authorize(actor, SERVE, employer)
    if officer is not None and not serves(officer, employer):
        raise LinliError.one(
            "bad_officer",
            "服务专员须是本单位所在街道就业服务的工作人员。",
            "The service officer must work for the employment service of the employer's street.",
        )
    with transaction.atomic():
        row = _locked(employer)
        row.key_enterprise = bool(on)
        row.officer_id = officer.pk if officer is not None else None
        row.save(update_fields=["key_enterprise", "officer"])
    return _refresh(employer, row)


def _owner_only(actor: User, employer: Employer) -> None:
    authorize(actor, HIRE, employer)
    if not (q.is_owner(actor, employer) or getattr(actor, "is_superuser", False)):
        raise PermissionDenied("only the employer's administrators")


def update(actor: User, employer: Employer, **fields: Any) -> Employer:
    """The employer's administrators change its profile: contact, description, industry, size,
    address and position; the name and credit code only until it is verified. A rejected
    registration that is corrected goes back to the queue (pending)."""
    _owner_only(actor, employer)
    allowed = {
        "name",
        "credit_code",
        "address",
        "lat",
        "lon",
        "industry",
        "size",
        "contact_name",
        "contact_phone",
        "description",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        row = _locked(employer)
        changed: list[str] = []
        for key in ("name", "credit_code"):
            if key not in fields:
                continue
            if key == "credit_code":
                if creditcode.normalise(str(fields[key] or "")) == row.credit_code:
                    continue
                value = checked_code(fields[key])
            else:
                value = _text("name", fields[key], required=True)
            if value == getattr(row, key):
                continue
            if row.status in (Employer.Status.VERIFIED, Employer.Status.SUSPENDED):
                raise LinliError.one(
                    f"{key}_locked",
                    "单位已通过审核,名称和统一社会信用代码不能再修改;如有变更请联系街道就业服务。",
                    "The employer is verified: its name and credit code cannot change. "
                    "Ask the street's employment service.",
                    status=409,
                )
            if key == "credit_code" and Employer.objects.filter(credit_code=value).exclude(pk=row.pk).exists():
                raise _taken(value)
            setattr(row, key, value)
            changed.append(key)
        for key in ("industry", "contact_name", "description"):
            if key in fields:
                setattr(row, key, _text(key, fields[key]))
                changed.append(key)
        if "address" in fields:
            row.address = _text("address", fields["address"], required=True)
            changed.append("address")
        if "size" in fields:
            row.size = _size(fields["size"])
            changed.append("size")
        if "contact_phone" in fields:
            row.set_contact_phone(_phone(fields["contact_phone"]))
            changed += ["contact_phone_enc", "contact_phone_masked"]
        if "lat" in fields or "lon" in fields:
            street = q.street_at(fields.get("lat", row.lat), fields.get("lon", row.lon), row.street.district)
            row.lat, row.lon = q.position(fields.get("lat", row.lat), fields.get("lon", row.lon))
            if street.pk != row.street_id and row.status == Employer.Status.VERIFIED:
                raise LinliError.one(
                    "street_locked",
                    "单位已通过审核,不能迁到其他街道;请联系街道就业服务。",
                    "The employer is verified: it cannot move to another street. Ask the street's employment service.",
                    status=409,
                )
            row.street, row.path = street, street.path
            changed += ["lat", "lon", "street", "path"]
        if row.status == Employer.Status.REJECTED and changed:
            row.status = Employer.Status.PENDING
            row.status_note = ""
            changed += ["status", "status_note"]
            _tell_staff(
                row,
                actor,
                f"单位修改了登记,重新待审核:{row.name}",
                f"An employer corrected its registration and awaits verification: {row.name}",
            )
        if changed:
            try:
                with transaction.atomic():
                    row.save(update_fields=sorted(set(changed)))
            except IntegrityError as exc:
                raise _taken(row.credit_code) from exc
    return _refresh(employer, row)


def add_member(
    actor: User, employer: Employer, username: str, role: str = EmployerMember.Role.RECRUITER
) -> EmployerMember:
    """An administrator adds an existing account (by its user name) as a recruiter or administrator."""
    _owner_only(actor, employer)
    if role not in EmployerMember.Role.values:
        raise LinliError.one("bad_role", "成员角色不在可选范围内。", "Choose a member role from the list.")
    name = str(username or "").strip()[:150]
    user = get_user_model().objects.filter(username=name, is_active=True).first() if name else None
    if user is None:
        raise LinliError.one(
            "no_such_account",
            f"找不到用户名为「{name}」的账号;请对方先注册并告诉您其用户名。",
            f"No account with the user name “{name}”: ask them to sign up and tell you their user name.",
        )
    try:
        with transaction.atomic():
            member = EmployerMember.objects.create(employer=employer, user=user, role=role)
    except IntegrityError as exc:
        raise LinliError.one(
            "already_member", f"「{name}」已是本单位成员。", f"“{name}” is a member already.", status=409
        ) from exc
    return member


def remove_member(actor: User, employer: Employer, member_id: int) -> None:
    """An administrator removes a member; the last administrator stays."""
    _owner_only(actor, employer)
    with transaction.atomic():
        list(EmployerMember.objects.select_for_update().filter(employer=employer))
        member = EmployerMember.objects.filter(employer=employer, pk=member_id).first()
        if member is None:
            raise LinliError.one("no_such_member", "没有这个成员。", "No such member.", status=404)
        if (
            member.role == EmployerMember.Role.OWNER
            and not EmployerMember.objects.filter(employer=employer, role=EmployerMember.Role.OWNER)
            .exclude(pk=member.pk)
            .exists()
        ):
            raise LinliError.one(
                "last_owner",
                "不能移除唯一的管理员;请先添加另一位管理员。",
                "The only administrator cannot be removed: add another administrator first.",
                status=409,
            )
        member.delete()
