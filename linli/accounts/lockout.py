"""Sign-in lockout after repeated wrong passwords (django-axes), for the sign-in page, the Django
admin's and the API's HTTP Basic authentication alike (docs/operations.md "Sign-in lockout and
rate limits").

Two counts, both rows of axes' ``AccessAttempt`` table in the database (so every app process and
server sees the same numbers), both over the last ``LINLI_LOGIN_LOCK_MINUTES``:

* per **account** (the user name typed, from any address): ``LINLI_LOGIN_FAILURES`` (5) wrong
  passwords lock the account. This is what stops guessing one worker's password from many
  addresses at once; the price is that someone who knows a user name can lock that person out
  for a while (a worker or admin unlocks at once; the lock ends on its own).
* per **client address** (``linli.core.net.client_ip``: X-Forwarded-For only from a configured
  trusted proxy), any accounts: ``LINLI_LOGIN_ADDRESS_FAILURES`` (30) lock the address. Higher
  than the account limit because many people share one address (mobile carriers' NAT, a
  community office); it stops one client trying one password on many accounts.

axes only has one failure limit, so ``LockoutHandler.get_failures`` scales the address count onto
the account limit. A successful sign-in clears that account's failures, not the address's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed

from linli.core import clock
from linli.core.errors import LinliError, Problem


def account_limit() -> int:
    return max(1, int(getattr(settings, "LINLI_LOGIN_FAILURES", 5)))


def address_limit() -> int:
    return max(1, int(getattr(settings, "LINLI_LOGIN_ADDRESS_FAILURES", 30)))


def _sum(qs: Any) -> int:
    return int(qs.aggregate(n=Sum("failures_since_start"))["n"] or 0)


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit per lockout parameter (account, address)."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        by_account, by_address = (_sum(qs) for qs in self.get_user_attempts(request, credentials))
        # On the account limit's scale: the address is locked when its own count reaches its limit.
        return max(by_account, by_address * account_limit() // address_limit())

    def reset_user_attempts(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """After a successful sign-in: that account's failures only (not the address's, or one's
        own account would wipe the count of guesses made from the same address on others)."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return int(count)


def locked_until(request: Any, credentials: dict[str, Any] | None = None) -> datetime | None:
    """When the lock on this request's account or address ends (None if neither is locked)."""
    AxesProxyHandler.update_request(request)
    cool = get_cool_off(request) or timedelta(0)
    since = clock.now() - cool
    username = get_client_username(request, credentials)
    ends = []
    for field, value, limit in (
        ("username", username, account_limit()),
        ("ip_address", getattr(request, "axes_ip_address", None), address_limit()),
    ):
        if not value:
            continue
        agg = AccessAttempt.objects.filter(**{field: value}, attempt_time__gte=since).aggregate(
            n=Sum("failures_since_start"), last=Max("attempt_time")
        )
        if (agg["n"] or 0) >= limit and agg["last"] is not None:
            ends.append(agg["last"] + cool)
    return max(ends) if ends else None


def _problem(request: Any, credentials: dict[str, Any] | None) -> tuple[Problem, datetime]:
    until = locked_until(request, credentials)
    if until is None:  # the lock is what axes decided; name the longest it can last
        until = clock.now() + (get_cool_off(request) or timedelta(0))
    local = timezone.localtime(until)
    minutes = max(1, round((until - clock.now()).total_seconds() / 60))
    return (
        Problem(
            "signin_locked",
            f"密码错误次数过多,登录已暂时锁定,请在 {local:%H:%M}(约 {minutes} 分钟后)再试。"
            "如需尽快登录,或这些尝试不是您本人所为,请联系社区工作人员或区系统管理员解锁。",
            f"Too many wrong passwords: signing in is locked until {local:%H:%M} (about {minutes} minutes). "
            "To sign in sooner, or if these attempts were not yours, ask your community office or the "
            "district's system administrator to unlock the account.",
        ),
        until,
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page (and the admin's) answer 429 with when to try
    again and whom to ask; an API path answers the house JSON error."""
    problem, until = _problem(request, credentials)
    retry = str(max(1, int((until - clock.now()).total_seconds())))
    status = int(getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429))
    response: HttpResponse
    if request.path.startswith(("/api/", "/open311/")):
        response = JsonResponse({"errors": [problem.as_dict()]}, status=status)
    else:
        response = render(
            request,
            "accounts/locked_out.html",
            {"problem": problem, "until": timezone.localtime(until)},
            status=status,
        )
    response["Retry-After"] = retry
    response["Cache-Control"] = "no-store"
    return response


class LockoutBasicAuthentication(BasicAuthentication):
    """HTTP Basic for the API, counted by the lockout like the sign-in page (DRF passes its own
    request to ``authenticate``, where axes records the failure); a locked account or address gets
    the house 429 instead of a 401 that would invite another try."""

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        try:
            return super().authenticate_credentials(userid, password, request)
        except AuthenticationFailed:
            if request is not None and getattr(request, "axes_locked_out", False):
                problem, _ = _problem(request, {"username": userid})
                raise LinliError([problem], status=429) from None
            raise
