"""Owner verification (issue 8): which account votes online as which owner on the roll.

An online vote belongs to a *person* on the roll, never to whoever holds a grant at a dwelling. An
account becomes a person's voting account (``OwnerAccount``) only in one of two ways:

* **self-service** (``start_sms`` then ``confirm_sms``): from a dwelling the account can see, the
  signed-in person types their ID number; it is compared by its keyed hash with the owners of *that
  dwelling only* (a mismatch says no more than "does not match an owner of this dwelling"); a
  random 6-digit code goes to the phone on record through ``linli.core.sms``; the code is stored
  as a keyed hash, expires after ``LINLI_OTP_SECONDS``, is used once, at most one is sent per
  ``LINLI_OTP_RESEND_SECONDS`` and ``LINLI_OTP_PER_HOUR`` per hour (per person and per account),
  and ``LINLI_OTP_MAX_FAILURES`` wrong codes lock SMS verification for that person and that
  account until a worker unlocks it (``unlock_sms``): the next try is refused even with the right
  code;
* **in person** (``verify_in_person``): a worker with ``consult`` or ``visit`` at the owner's
  dwelling has seen the original document; the document kind and its masked number are kept on
  the record with the worker's name, and the ballot roll shows it.

Rules: one active voting account per person (a database constraint); one account stands for one
natural person; **staff never make their own account an owner's**: a worker cannot verify their
own account, and an account that holds any staff role (any role other than ``resident``, or the
admin flags) cannot be made a voting account by a worker at all. Such a staff member who really
is an owner verifies themselves by SMS like every owner (the code goes to the owner's phone on
record; the roll shows that the account also holds a staff role). A worker revokes a voting
account with a written reason (``revoke``); the row is kept.

A verified account also *sees* the owner's dwellings as a ``resident`` grant would
(``permissions.grants_of``); seeing is not voting: ``consult.services.ballots`` asks here (through
``queries.voting_person_ids``) whose vote the account casts.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model, Q, Sum
from django.http import Http404

from linli.accounts import models as m
from linli.accounts.models import OwnerAccount, OwnerCode, RoleGrant
from linli.accounts.permissions import authorize, can, forget_grants
from linli.accounts.roles import Action, Role
from linli.core import clock, crypto, ratelimit, sms
from linli.core.errors import LinliError
from linli.core.masking import mask_id_number, mask_phone, normalise_id_number
from linli.core.types import User
from linli.places.models import Dwelling, Ownership, Person

CODE_RE = re.compile(r"^\d{6}$")


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def otp_seconds() -> int:
    return _setting("LINLI_OTP_SECONDS", 300)


def resend_seconds() -> int:
    return _setting("LINLI_OTP_RESEND_SECONDS", 60)


def per_hour() -> int:
    return _setting("LINLI_OTP_PER_HOUR", 5)


def max_failures() -> int:
    return _setting("LINLI_OTP_MAX_FAILURES", 5)


def id_tries_per_hour() -> int:
    return _setting("LINLI_OWNER_ID_TRIES_PER_HOUR", 10)


# --- reads the rules need ----------------------------------------------------------------------


def failures(*, user: User | None = None, person: Person | None = None) -> int:
    """Wrong codes not yet cleared (by a success or a worker's unlock), for an account or a person."""
    q = Q(cleared_at__isnull=True)
    q &= Q(user=user) if user is not None else Q(person=person)
    return int(OwnerCode.objects.filter(q).aggregate(n=Sum("failures"))["n"] or 0)


def is_locked(*, user: User | None = None, person: Person | None = None) -> bool:
    """SMS verification locked for this account or this person (until a worker unlocks it)."""
    return failures(user=user, person=person) >= max_failures()


def holds_staff_role(user: User) -> bool:
    """Any active role other than ``resident``, or Django's admin flags: a staff account."""
    if user.is_superuser or user.is_staff:
        return True
    return (
        RoleGrant.objects.filter(user_id=user.pk or 0, revoked_at__isnull=True)
        .exclude(role=Role.RESIDENT.value)
        .exists()
    )


def active_account(person: Person) -> OwnerAccount | None:
    return OwnerAccount.objects.filter(person=person, revoked_at__isnull=True).select_related("user").first()


def _refuse_taken(user: User, person: Person) -> None:
    """The one-account-per-owner and one-owner-per-account rules, with a message one can act on."""
    current = active_account(person)
    if current is not None and current.user_id == user.pk:
        raise LinliError.one(
            "already_verified",
            "该账号已是这位业主的在线投票账号,无需再次验证。",
            "This account is already this owner's voting account; nothing to do.",
            409,
        )
    if current is not None:
        raise LinliError.one(
            "owner_taken",
            "这位业主已有一个经验证的在线投票账号,一位业主只能有一个。如那不是业主本人的账号,"
            "请业主携带身份证件到社区,由工作人员撤销原账号后重新验证。",
            "This owner already has a verified voting account, and an owner can have only one. If it "
            "is not the owner's, the owner brings their ID to the community office: a worker revokes "
            "the old account, then the owner verifies again.",
            409,
        )
    if (
        person.kind == Person.Kind.PERSON
        and OwnerAccount.objects.filter(
            user_id=user.pk or 0, revoked_at__isnull=True, person__kind=Person.Kind.PERSON
        ).exists()
    ):
        raise LinliError.one(
            "account_taken",
            "该账号已是另一位业主的在线投票账号:一个账号只代表一位业主本人。",
            "This account is already another owner's voting account: one account stands for one owner.",
            409,
        )


def _locked_error() -> LinliError:
    return LinliError.one(
        "sms_locked",
        "验证码错误次数过多,短信验证已锁定。请联系社区工作人员解锁,或携带身份证件到社区当面核验。",
        "Too many wrong codes: verification by SMS is locked. Ask a community worker to unlock it, or "
        "bring your ID to the community office to verify in person.",
        423,
    )


def _code_hash(salt: str, code: str) -> str:
    return crypto.lookup_hash(f"owner-otp|{salt}|{code}")


def _work_on(worker: User, obj: Model) -> None:
    """The one permission check of a worker's verification act: ``consult`` or ``visit`` on ``obj``
    (the owner's dwelling, or the voting account through its owner's dwellings)."""
    authorize(worker, Action.CONSULT if can(worker, Action.CONSULT, obj) else Action.VISIT, obj)


def _owner_of(dwelling: Dwelling, person: Person) -> None:
    if not Ownership.objects.filter(dwelling=dwelling, person=person).exists():
        raise LinliError.one(
            "not_an_owner", "此人不是该房屋登记的业主。", "This person is not a registered owner of this dwelling."
        )


# --- self-service: ID number + one-time code ----------------------------------------------------------


def _count_id_check(user: User) -> None:
    """At most ``LINLI_OWNER_ID_TRIES_PER_HOUR`` ID-number checks per account per clock hour, counted
    in the shared rate-limit store (linli/core/ratelimit.py: every process and server), before the
    transaction of the check so that a refused or failed check still counts."""
    if not ratelimit.hit("owner-id-check", user.pk, id_tries_per_hour(), 3600).ok:
        raise LinliError.one(
            "id_tries",
            "身份证号核对次数过多,请一小时后再试,或到社区当面核验。",
            "Too many ID number checks: try again in an hour, or verify in person at the community office.",
            429,
        )


def start_sms(user: User, dwelling: Dwelling, id_number: str, next_url: str = "") -> OwnerCode:
    """Step 1 of self-service: match ``id_number`` against the owners of ``dwelling`` (one the
    account can see) and send a one-time code to that owner's phone on record."""
    authorize(user, Action.VIEW, dwelling)
    value = normalise_id_number(id_number or "")
    if not value:
        raise LinliError.one("id_required", "请输入身份证号。", "Enter the ID number.")
    _count_id_check(user)  # outside the transaction below: a check that fails still counts
    return _start_sms(user, dwelling, value, next_url)


@transaction.atomic
def _start_sms(user: User, dwelling: Dwelling, value: str, next_url: str) -> OwnerCode:
    own = (
        Ownership.objects.filter(dwelling=dwelling, person__id_number_hash=crypto.lookup_hash(value))
        .select_related("person")
        .first()
    )
    if own is None:
        raise LinliError.one(
            "id_mismatch", "身份证号与该房屋登记的业主不符。", "The ID number does not match an owner of this dwelling."
        )
    person = own.person
    _refuse_taken(user, person)
    if is_locked(user=user) or is_locked(person=person):
        raise _locked_error()
    now = clock.now()
    recent = OwnerCode.objects.filter(Q(user=user) | Q(person=person))
    last = recent.order_by("-sent_at").values_list("sent_at", flat=True).first()
    if last is not None and now - last < timedelta(seconds=resend_seconds()):
        wait = resend_seconds() - int((now - last).total_seconds())
        raise LinliError.one(
            "sms_wait",
            f"验证码刚刚发送过,请 {wait} 秒后再获取。",
            f"A code was sent a moment ago: wait {wait} seconds before asking for another.",
            429,
        )
    if recent.filter(sent_at__gt=now - timedelta(hours=1)).count() >= per_hour():
        raise LinliError.one(
            "sms_hourly",
            "一小时内获取验证码的次数已达上限,请稍后再试,或到社区当面核验。",
            "Too many codes in the last hour: try again later, or verify in person at the community office.",
            429,
        )
    phone = person._phone()  # to the SMS gateway only: never shown, never logged in clear
    if not phone:
        raise LinliError.one(
            "no_phone",
            "这位业主没有登记手机号,无法发送验证码。请携带身份证件到社区当面核验。",
            "No phone number is on record for this owner, so no code can be sent: bring your ID to the "
            "community office to verify in person.",
            409,
        )
    # a new code replaces the account's earlier ones for this owner
    OwnerCode.objects.filter(user_id=user.pk or 0, person=person, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    assert user.pk is not None, "a signed-in account"
    row = OwnerCode.objects.create(
        user_id=user.pk,
        person=person,
        dwelling=dwelling,
        salt=salt,
        code_hash=_code_hash(salt, code),
        phone_masked=mask_phone(phone),
        next_url=(next_url or "")[:200],
        sent_at=now,
        expires_at=now + timedelta(seconds=otp_seconds()),
    )
    minutes = max(1, otp_seconds() // 60)
    try:
        sms.send(
            phone,
            f"【邻里】业主身份验证码 {code},{minutes} 分钟内有效。请勿告诉任何人,工作人员不会向您索取。"
            f" / Linli owner verification code {code}, valid {minutes} min. "
            "Never share it: staff will never ask for it.",
        )
    except sms.SmsError as exc:
        raise LinliError.one(
            "sms_failed", "短信发送失败,请稍后再试。", "The text message could not be sent; try again later.", 503
        ) from exc
    return row


def confirm_sms(user: User, challenge_id: int, code: str) -> OwnerAccount:
    """Step 2 of self-service: the code from the text message. A wrong code is counted (and kept,
    even though the request is refused); the ``LINLI_OTP_MAX_FAILURES``-th wrong code locks."""
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise LinliError.one(
            "code_format", "请输入短信中的6位数字验证码。", "Enter the 6-digit code from the text message."
        )
    outcome: OwnerAccount | LinliError
    with transaction.atomic():
        row = (
            OwnerCode.objects.select_for_update(of=("self",))
            .select_related("person", "dwelling")
            .filter(pk=challenge_id, user_id=int(getattr(user, "pk", 0) or 0))
            .first()
        )
        if row is None or row.dwelling is None:
            raise Http404("no such code")
        authorize(user, Action.VIEW, row.dwelling)
        person = row.person
        if is_locked(user=user) or is_locked(person=person):
            raise _locked_error()
        if row.used_at is not None:
            raise LinliError.one(
                "code_used",
                "这个验证码已经用过,请重新获取。",
                "This code has already been used; ask for a new one.",
                409,
            )
        now = clock.now()
        if now >= row.expires_at:
            raise LinliError.one(
                "code_expired", "验证码已过期,请重新获取。", "The code has expired; ask for a new one.", 410
            )
        if not hmac.compare_digest(_code_hash(row.salt, code), row.code_hash):
            row.failures += 1
            row.save(update_fields=["failures"])
            left = max_failures() - max(failures(user=user), failures(person=person))
            if left <= 0:
                outcome = LinliError.one(
                    "code_wrong_locked",
                    "验证码不正确。错误次数已达上限,短信验证已锁定:请联系社区工作人员解锁,或到社区当面核验。",
                    "The code is not correct. That was the last try: verification by SMS is now locked. Ask a "
                    "community worker to unlock it, or verify in person.",
                )
            else:
                outcome = LinliError.one(
                    "code_wrong",
                    f"验证码不正确,还可以再试 {left} 次。",
                    f"The code is not correct; {left} {'try' if left == 1 else 'tries'} left.",
                )
        else:
            _refuse_taken(user, person)
            row.used_at = now
            row.save(update_fields=["used_at"])
            OwnerCode.objects.filter(user_id=user.pk or 0, person=person, cleared_at__isnull=True).update(
                cleared_at=now
            )
            outcome = _create(
                user,
                person,
                method=OwnerAccount.Method.SMS,
                dwelling=row.dwelling,
                phone_masked=row.phone_masked,
                now=now,
            )
    if isinstance(outcome, LinliError):
        raise outcome
    forget_grants(user)
    return outcome


def _create(user: User, person: Person, *, method: str, now: Any, **fields: Any) -> OwnerAccount:
    try:
        with transaction.atomic():  # the constraint is the last word when two requests race
            assert user.pk is not None, "a signed-in account"
            return OwnerAccount.objects.create(user_id=user.pk, person=person, method=method, verified_at=now, **fields)
    except IntegrityError:
        _refuse_taken(user, person)
        raise


# --- in person -----------------------------------------------------------------------------------


@transaction.atomic
def verify_in_person(
    worker: User,
    account: m.User,
    person: Person,
    dwelling: Dwelling,
    *,
    document_kind: str,
    document_number: str,
    seen: bool,
    note: str = "",
) -> OwnerAccount:
    """A worker who has seen the owner's original document makes ``account`` the owner's voting
    account. Refused for the worker's own account and for any account holding a staff role."""
    _work_on(worker, dwelling)
    _owner_of(dwelling, person)
    if account is None or not account.is_active:
        raise LinliError.one("unknown_account", "账号不存在或已停用。", "No such account, or it is disabled.")
    if account.pk == worker.pk:
        raise LinliError.one(
            "self_verify",
            "不能为自己的账号核验业主身份:工作人员不能把自己的账号变成业主的投票账号。",
            "You cannot verify your own account: staff never make their own account an owner's.",
            403,
        )
    if holds_staff_role(account):
        raise LinliError.one(
            "staff_account",
            "该账号持有工作人员角色,工作人员不能把它核验为业主的投票账号。如账号持有人确是业主,"
            "可由本人通过身份证号和短信验证码自助验证。",
            "This account holds a staff role: a worker cannot make it an owner's voting account. If its "
            "holder really is an owner, they verify themselves with their ID number and an SMS code.",
            403,
        )
    problems = []
    if document_kind not in OwnerAccount.Document.values:
        problems.append(
            LinliError.one("document_kind", "请选择查验的证件类型。", "Choose the kind of document you saw.").problems[
                0
            ]
        )
    number = normalise_id_number(document_number or "")
    if not number:
        problems.append(
            LinliError.one("document_number", "请输入证件号码。", "Enter the document's number.").problems[0]
        )
    if not seen:
        problems.append(
            LinliError.one(
                "document_not_seen",
                "请确认您已当面查验证件原件。",
                "Confirm that you have seen the original document in person.",
            ).problems[0]
        )
    if problems:
        raise LinliError(problems, 400)
    if (
        document_kind == OwnerAccount.Document.ID_CARD
        and person.id_number_hash
        and not hmac.compare_digest(crypto.lookup_hash(number), person.id_number_hash)
    ):
        raise LinliError.one(
            "document_mismatch",
            "证件号码与这位业主登记的身份证号不符。",
            "The document number does not match the ID number on record for this owner.",
        )
    _refuse_taken(account, person)
    account_row = _create(
        account,
        person,
        method=OwnerAccount.Method.IN_PERSON,
        now=clock.now(),
        verified_by=worker,
        dwelling=dwelling,
        document_kind=document_kind,
        document_masked=mask_id_number(number)[:24],
        note=(note or "").strip()[:300],
    )
    forget_grants(account)
    return account_row


@transaction.atomic
def revoke(worker: User, owner_account: OwnerAccount, reason: str) -> OwnerAccount:
    """End a voting account (kept on record with who, when and why). Votes it already cast stay:
    they were the owner's; later online votes need a new verification."""
    row = OwnerAccount.objects.select_for_update(of=("self",)).select_related("user", "person").get(pk=owner_account.pk)
    _work_on(worker, row)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise LinliError.one(
            "revoke_reason",
            "撤销在线投票账号须写明理由。",
            "A written reason is required to revoke a voting account.",
        )
    if row.revoked_at is not None:
        raise LinliError.one("already_revoked", "该账号已被撤销。", "This voting account was already revoked.", 409)
    row.revoked_at = clock.now()
    row.revoked_by_id = worker.pk
    row.revoke_reason = reason[:300]
    row.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    forget_grants(row.user)
    return row


@transaction.atomic
def unlock_sms(worker: User, person: Person, dwelling: Dwelling) -> int:
    """A worker lifts the SMS lock of an owner (after checking who asks): their wrong codes no
    longer count. Returns how many code rows were cleared."""
    _work_on(worker, dwelling)
    _owner_of(dwelling, person)
    return OwnerCode.objects.filter(person=person, cleared_at__isnull=True).update(
        cleared_at=clock.now(), cleared_by=worker
    )
