"""Passwords and one-time SMS codes for one's own account (issue 12 §10; docs/accounts.md).

* **Change** (``change_password``): signed in, the current password and the new one twice; Django's
  password validators; an ``AccessLog`` entry (``pw_changed``). The new password hash changes the
  session hash, so every other session of the account is signed out on its next request (the page
  keeps its own session with ``update_session_auth_hash``).
* **Reset** (``send_code(RESET, …)`` then ``reset_password``): signed out, by the mobile number on
  record (``User.set_phone``): a 6-digit code by SMS, then the code and the new password twice.
  The answer to "send me a code" is the same whether or not the number belongs to an account (no
  row, no message for an unknown number); the limits are counted on the number's keyed hash and
  the client address, so they do not tell either. Every session of the account ends.
* **Sign in with a code** (``send_code(SIGNIN, …)``, then ``linli.accounts.backends.SmsCodeBackend``
  through Django's ``authenticate``): beside user name and password, under the same django-axes
  lockout (a wrong code is a failed sign-in of that account and address, ``lockout.py``).

Codes (``PhoneCode``): random, 6 digits, stored as a keyed hash with a salt, valid
``LINLI_OTP_SECONDS`` (300 s), used once, dead after ``LINLI_OTP_MAX_FAILURES`` wrong entries; a
new code replaces the account's earlier live ones of the same purpose. At most one code per
``LINLI_OTP_RESEND_SECONDS`` and ``LINLI_OTP_PER_HOUR`` per hour to one number, and
``LINLI_OTP_PER_ADDRESS_HOUR`` per hour from one client address (``linli.core.ratelimit``).
Staff still set a user's password in the admin (Django's own form).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from linli.accounts.models import AccessLog, PhoneCode, User, normalise_phone
from linli.accounts.services import log_access
from linli.core import clock, crypto, ratelimit, sms
from linli.core.errors import LinliError, Problem
from linli.core.masking import is_valid_phone

log = logging.getLogger(__name__)

CODE_RE = re.compile(r"^\d{6}$")
Purpose = PhoneCode.Purpose


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def otp_seconds() -> int:
    return _setting("LINLI_OTP_SECONDS", 300)


def max_failures() -> int:
    return _setting("LINLI_OTP_MAX_FAILURES", 5)


# --- the phone on record -----------------------------------------------------------------------------


def phone_or_error(phone: str) -> str:
    value = normalise_phone(phone)
    if not is_valid_phone(value):
        raise LinliError.one(
            "phone_format", "请输入11位手机号码。", "Enter an 11-digit mobile phone number.", status=400
        )
    return value


def account_by_phone(phone: str) -> User | None:
    """The active account whose phone on record is ``phone`` (normalised), or None. Two accounts
    with one number (a shared family phone) are both skipped: a code must name one account."""
    rows = list(User.objects.filter(phone_hash=crypto.lookup_hash(phone), is_active=True)[:2])
    return rows[0] if len(rows) == 1 else None


def lockout_name(phone: str) -> str:
    """The name a sign-in by code counts under in the lockout: the account's user name (so that
    wrong codes and wrong passwords lock the same account), else a name made of the number's hash."""
    user = account_by_phone(phone)
    return user.get_username() if user is not None else f"sms:{crypto.lookup_hash(phone)[:16]}"


# --- sending a code ------------------------------------------------------------------------------------


def _limited(zh: str, en: str, retry: int) -> LinliError:
    minutes = max(1, (retry + 59) // 60)
    return LinliError.one(
        "code_rate",
        f"{zh}请约 {minutes} 分钟后再试。",
        f"{en} Try again in about {minutes} minute{'s' if minutes != 1 else ''}.",
        status=429,
    )


def _count(phone: str, ip: str | None) -> None:
    """The limits on sending, counted before any transaction and whether or not the number is known."""
    key = crypto.lookup_hash(phone)
    wait = _setting("LINLI_OTP_RESEND_SECONDS", 60)
    if wait > 0:
        hit = ratelimit.hit("phone-code-resend", key, 1, wait)
        if not hit.ok:
            raise _limited("验证码刚刚发送过。", "A code was sent a moment ago.", hit.retry_after)
    hit = ratelimit.hit("phone-code-phone", key, _setting("LINLI_OTP_PER_HOUR", 5), 3600)
    if not hit.ok:
        raise _limited("这个号码一小时内获取验证码的次数已达上限。", "Too many codes to this number.", hit.retry_after)
    hit = ratelimit.hit("phone-code-ip", ip or "unknown", _setting("LINLI_OTP_PER_ADDRESS_HOUR", 20), 3600)
    if not hit.ok:
        raise _limited("从这个网络获取验证码的次数过多。", "Too many codes asked from this network.", hit.retry_after)


def _hash(salt: str, code: str) -> str:
    return crypto.lookup_hash(f"phone-otp|{salt}|{code}")


def send_code(purpose: str, phone: str, ip: str | None = None) -> None:
    """Send a sign-in or reset code to ``phone`` if it is an account's number on record. Returns
    nothing and answers the same for an unknown number; refuses only a malformed number or a limit."""
    value = phone_or_error(phone)
    _count(value, ip)
    user = account_by_phone(value)
    if user is None:
        return
    code = _issue(user, purpose, value)
    minutes = max(1, otp_seconds() // 60)
    what_zh, what_en = ("登录", "sign-in") if purpose == Purpose.SIGNIN else ("重设密码", "password reset")
    try:
        sms.send(
            value,
            f"【邻里】{what_zh}验证码 {code},{minutes} 分钟内有效。请勿告诉任何人,工作人员不会向您索取。"
            f" / Linli {what_en} code {code}, valid {minutes} min. Never share it: staff will never ask for it.",
        )
    except sms.SmsError:  # the answer stays the same: it must not tell that the number is known
        log.exception("a %s code could not be sent to account %s", purpose, user.pk)


@transaction.atomic
def _issue(user: User, purpose: str, phone: str) -> str:
    now = clock.now()
    PhoneCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    PhoneCode.objects.create(
        user=user,
        purpose=purpose,
        phone_hash=crypto.lookup_hash(phone),
        salt=salt,
        code_hash=_hash(salt, code),
        sent_at=now,
        expires_at=now + timedelta(seconds=otp_seconds()),
    )
    return code


# --- checking a code -----------------------------------------------------------------------------------

WRONG = Problem(
    "code_wrong",
    "验证码不正确或已失效,请重新获取。",
    "The code is wrong or no longer valid; ask for a new one.",
)


def _live(purpose: str, phone: str) -> PhoneCode | None:
    """The newest code of ``purpose`` sent to ``phone`` that may still be used (locked for update)."""
    now = clock.now()
    return (
        PhoneCode.objects.select_for_update()
        .filter(
            phone_hash=crypto.lookup_hash(phone),
            purpose=purpose,
            used_at__isnull=True,
            expires_at__gt=now,
            failures__lt=max_failures(),
        )
        .order_by("-sent_at", "-pk")
        .first()
    )


def _matches(row: PhoneCode | None, code: str) -> bool:
    """Whether ``code`` is ``row``'s; a wrong one is counted on the row (the row dies at the limit)."""
    if row is None or not CODE_RE.match(code):
        return False
    if hmac.compare_digest(_hash(row.salt, code), row.code_hash):
        return True
    row.failures += 1
    row.save(update_fields=["failures"])
    return False


def consume_signin_code(phone: str, code: str) -> User | None:
    """The account signing in with ``code`` sent to ``phone`` (the code is used up), else None (a
    wrong code counts against the code). For ``backends.SmsCodeBackend``; the lockout is axes'."""
    value = normalise_phone(phone)
    code = (code or "").strip()
    with transaction.atomic():
        row = _live(Purpose.SIGNIN, value) if is_valid_phone(value) else None
        if not _matches(row, code):
            return None
        assert row is not None
        user = User.objects.filter(pk=row.user_id, is_active=True, phone_hash=row.phone_hash).first()
        row.used_at = clock.now()
        row.save(update_fields=["used_at"])
    return user


def _validate(new1: str, new2: str, user: User | None) -> None:
    if not new1:
        raise LinliError.one("password_required", "请输入新密码。", "Enter the new password.")
    if new1 != new2:
        raise LinliError.one("password_mismatch", "两次输入的新密码不一致。", "The two new passwords do not match.")
    try:
        password_validation.validate_password(new1, user)
    except ValidationError as exc:
        raise LinliError([Problem("password_weak", str(m), str(m)) for m in exc.messages], status=400) from None


def reset_password(phone: str, code: str, new1: str, new2: str, ip: str | None = None) -> User:
    """Set a new password with a reset code sent to ``phone``. A wrong, used or expired code (or an
    unknown number) gets one answer. Every session of the account ends; an access-log entry."""
    value = phone_or_error(phone)
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise LinliError.one(
            "code_format", "请输入短信中的6位数字验证码。", "Enter the 6-digit code from the text message."
        )
    _validate(new1, new2, None)  # before the code is looked at: a weak password costs no try
    outcome: User | LinliError
    with transaction.atomic():
        row = _live(Purpose.RESET, value)
        if not _matches(row, code):  # a wrong code is counted (kept, though the request is refused)
            outcome = LinliError([WRONG], status=400)
        else:
            assert row is not None
            user = User.objects.select_for_update().get(pk=row.user_id)
            try:  # the checks that compare with the account: the code stays valid if they refuse
                _validate(new1, new2, user)
            except LinliError as exc:
                outcome = exc
            else:
                row.used_at = clock.now()
                row.save(update_fields=["used_at"])
                PhoneCode.objects.filter(user=user, used_at__isnull=True).update(expires_at=row.used_at)
                user.set_password(new1)
                user.save(update_fields=["password"])
                log_access(user, AccessLog.What.PASSWORD_RESET, user, ip=ip)
                outcome = user
    if isinstance(outcome, LinliError):
        raise outcome
    return outcome


def change_password(user: User, old: str, new1: str, new2: str, ip: str | None = None) -> None:
    """Change one's own password: the current one, the new one twice, the validators, a log entry."""
    if not user.is_authenticated:
        raise LinliError.one("signin_required", "请先登录。", "Sign in first.", status=403)
    if not ratelimit.hit("password-change", user.pk, 10, 3600).ok:
        raise LinliError.one(
            "password_tries",
            "修改密码的尝试次数过多,请一小时后再试。",
            "Too many tries to change the password: try again in an hour.",
            status=429,
        )
    with transaction.atomic():
        row = User.objects.select_for_update().get(pk=user.pk)
        if not row.check_password(old or ""):
            raise LinliError.one(
                "old_password_wrong", "当前密码不正确。", "The current password is not correct.", status=400
            )
        if new1 and new1 == old:
            raise LinliError.one(
                "password_same", "新密码不能与当前密码相同。", "The new password must differ from the current one."
            )
        _validate(new1, new2, row)
        row.set_password(new1)
        row.save(update_fields=["password"])
        log_access(row, AccessLog.What.PASSWORD_CHANGED, row, ip=ip)
    user.password = row.password


@transaction.atomic
def signed_in_by_code(user: User, ip: str | None = None) -> None:
    """The access-log entry of a sign-in by SMS code (a password sign-in leaves axes' record)."""
    log_access(user, AccessLog.What.SIGNIN_SMS, user, ip=ip)
