"""linli/accounts/lockout.py: wrong passwords lock the account and the client address (django-axes),
on the sign-in page, the Django admin and the API's HTTP Basic auth; the lock ends after the cool-off
(clock travel: axes reads Django's timezone.now, which linli.core.clock drives) or when a worker
resets it."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client

from linli.core import clock
from tests import factories as f

PASSWORD = "a-long-correct-password"
pytestmark = pytest.mark.django_db


@pytest.fixture
def person() -> Any:
    u = f.UserFactory(username="lockme")
    u.set_password(PASSWORD)
    u.save()
    return u


@pytest.fixture(autouse=True)
def _clock() -> Any:
    yield
    clock.reset()


def _form(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def _basic(client: Client, username: str, password: str, **extra: Any) -> Any:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Basic {token}", **extra)


def test_form_locks_before_the_30th_wrong_password_and_refuses_the_right_one(person: Any, settings: Any) -> None:
    c = Client()
    statuses = [_form(c, "lockme", f"wrong-{i}").status_code for i in range(30)]
    # the first wrong passwords redisplay the form; the account is locked long before the 30th
    assert statuses[0] == 200
    first_lock = statuses.index(429)
    assert first_lock == settings.LINLI_LOGIN_FAILURES - 1
    assert set(statuses[first_lock:]) == {429}
    # the right password is refused while locked, with a page saying when and whom to ask
    r = _form(c, "lockme", PASSWORD)
    assert r.status_code == 429
    text = r.content.decode()
    assert "登录已暂时锁定" in text and "社区工作人员" in text
    assert "Too many wrong passwords" not in text  # a Chinese page speaks Chinese only
    assert int(r["Retry-After"]) > 0
    assert "_auth_user_id" not in c.session
    # after the cool-off the right password works
    clock.travel(clock.now() + timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES, seconds=1))
    r = _form(c, "lockme", PASSWORD)
    assert r.status_code == 302
    assert c.session["_auth_user_id"] == str(person.pk)


def test_the_lock_is_on_the_account_from_any_address(person: Any, settings: Any) -> None:
    for i in range(settings.LINLI_LOGIN_FAILURES):
        _form(Client(REMOTE_ADDR=f"203.0.113.{i + 1}"), "lockme", "wrong")
    r = _form(Client(REMOTE_ADDR="198.51.100.99"), "lockme", PASSWORD)
    assert r.status_code == 429


def test_success_clears_the_accounts_failures(person: Any, settings: Any) -> None:
    c = Client()
    for _ in range(settings.LINLI_LOGIN_FAILURES - 1):
        assert _form(c, "lockme", "wrong").status_code == 200
    assert _form(c, "lockme", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="lockme").exists()


def test_api_basic_auth_is_locked_with_the_house_error(person: Any, settings: Any) -> None:
    c = Client()
    statuses = [_basic(c, "lockme", f"wrong-{i}").status_code for i in range(80)]
    assert statuses[0] in {401, 403}  # refused (DRF answers 403 when session auth comes first)
    first_lock = statuses.index(429)
    assert first_lock == settings.LINLI_LOGIN_FAILURES - 1
    assert set(statuses[first_lock:]) == {429}
    r = _basic(c, "lockme", PASSWORD)
    assert r.status_code == 429
    err = r.json()["errors"][0]
    assert err["code"] == "signin_locked" and err["zh"] and err["en"]
    clock.travel(clock.now() + timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES, seconds=1))
    assert _basic(c, "lockme", PASSWORD).status_code == 200


def test_admin_login_is_locked(person: Any, settings: Any) -> None:
    person.is_staff = True
    person.save()
    c = Client()
    for _ in range(settings.LINLI_LOGIN_FAILURES):
        r = c.post("/admin/login/", {"username": "lockme", "password": "wrong", "next": "/admin/"})
    assert r.status_code == 429
    r = c.post("/admin/login/", {"username": "lockme", "password": PASSWORD, "next": "/admin/"})
    assert r.status_code == 429


def test_a_worker_unlocks_with_the_management_command(person: Any, settings: Any) -> None:
    c = Client()
    for _ in range(settings.LINLI_LOGIN_FAILURES):
        _form(c, "lockme", "wrong")
    assert _form(c, "lockme", PASSWORD).status_code == 429
    call_command("axes_reset_username", "lockme")
    assert _form(c, "lockme", PASSWORD).status_code == 302


def test_an_address_spraying_many_accounts_is_locked(settings: Any) -> None:
    settings.LINLI_LOGIN_ADDRESS_FAILURES = 8
    for i in range(8):
        assert _form(Client(REMOTE_ADDR="203.0.113.7"), f"someone-{i}", "password1").status_code in {200, 429}
    assert _form(Client(REMOTE_ADDR="203.0.113.7"), "someone-else", "password1").status_code == 429
    # another address is not affected
    assert _form(Client(REMOTE_ADDR="203.0.113.8"), "someone-else", "password1").status_code == 200


def test_two_clients_behind_a_trusted_proxy_are_keyed_by_their_own_address(person: Any, settings: Any) -> None:
    settings.LINLI_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LINLI_LOGIN_ADDRESS_FAILURES = 6
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for i in range(6):
        _form(Client(), f"nobody-{i}", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    # client 1 is locked out by its own failures …
    assert _form(Client(), "lockme", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 429
    # … client 2, through the same proxy, signs in
    assert _form(Client(), "lockme", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy).status_code == 302


def test_an_untrusted_forwarded_for_is_ignored(person: Any, settings: Any) -> None:
    settings.LINLI_TRUSTED_PROXIES = []
    for i in range(settings.LINLI_LOGIN_FAILURES):
        _form(Client(), "lockme", "wrong", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}
