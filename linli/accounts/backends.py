"""Signing in with a one-time SMS code (linli.accounts.passwords), as a Django authentication
backend so that it runs behind django-axes like a password: ``authenticate(request,
username=passwords.lockout_name(phone), sms_phone=phone, sms_code=code)``. axes' backend comes
first and refuses a locked account or address; a wrong code sends ``user_login_failed`` with that
user name, which axes counts exactly like a wrong password (linli/accounts/lockout.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from linli.accounts import passwords
from linli.accounts.models import User


class SmsCodeBackend(ModelBackend):
    """Authenticates only a sign-in code (never a password); permissions as ``ModelBackend``."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        *,
        sms_phone: str | None = None,
        sms_code: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if sms_phone is None or sms_code is None or password is not None:
            return None
        user = passwords.consume_signin_code(sms_phone, sms_code)
        if user is None or user.get_username() != username or not self.user_can_authenticate(user):
            return None
        return user
