"""Signing in with phone + SMS code (linli/accounts/backends.py, passwords.py): beside user name and
password, under the same django-axes lockout, the code single-use, 5 minutes, tries bounded, and
the same answer for an unknown number."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from linli.accounts import passwords
from linli.accounts.models import AccessLog, PhoneCode, User
from linli.core import clock
from linli.core.sms import LocmemBackend
from tests import factories as f

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
PASSWORD = "a-long-correct-password"


@pytest.fixture(autouse=True)
def _sms(settings: Any) -> Any:
    settings.LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"
    settings.LINLI_OTP_RESEND_SECONDS = 0
    LocmemBackend.outbox.clear()
    yield
    LocmemBackend.outbox.clear()
    clock.reset()


@pytest.fixture
def person() -> User:
    u = f.UserFactory(username="li")
    u.set_password(PASSWORD)
    u.set_phone(PHONE)
    u.save()
    return u


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", LocmemBackend.outbox[-1][1]).group(1)  # type: ignore[union-attr]


def other_than(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def ask(c: Client, phone: str = PHONE, next_url: str = "") -> Any:
    return c.post(reverse("accounts:signin_sms"), {"phone": phone, "next": next_url})


def enter(c: Client, code: str, next_url: str = "") -> Any:
    return c.post(reverse("accounts:signin_sms_code"), {"code": code, "next": next_url})


def test_sign_in_with_a_code_and_only_once(person: User, settings: Any) -> None:
    c = Client()
    r = ask(c, next_url="/accounts/me/")
    assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:signin_sms_code"))
    [(to, text)] = LocmemBackend.outbox
    assert to == PHONE and "登录验证码" in text
    code = last_code()
    row = PhoneCode.objects.get()
    assert row.purpose == "signin" and code not in row.code_hash
    assert row.expires_at - row.sent_at == timedelta(minutes=5)
    r = enter(c, code, "/accounts/me/")
    assert r.status_code == 302 and r["Location"] == "/accounts/me/"
    assert c.session[SESSION_KEY] == str(person.pk)
    assert AccessLog.objects.filter(what=AccessLog.What.SIGNIN_SMS, user=person).count() == 1
    # single use: the same code again (from another device with the number typed) is refused
    other = Client()
    session = other.session
    session["linli_signin_phone"] = PHONE
    session.save()
    r = enter(other, code)
    assert r.status_code == 400 and SESSION_KEY not in other.session
    assert passwords.consume_signin_code(PHONE, code) is None


def test_a_password_never_signs_in_through_the_code_backend(person: User) -> None:
    from linli.accounts.backends import SmsCodeBackend

    assert SmsCodeBackend().authenticate(None, username="li", password=PASSWORD) is None


def test_the_code_expires_after_five_minutes(person: User) -> None:
    c = Client()
    ask(c)
    code = last_code()
    clock.travel(clock.now() + timedelta(minutes=5, seconds=1))
    assert enter(c, code).status_code == 400 and SESSION_KEY not in c.session


def test_an_unknown_number_gets_the_same_answers(person: User) -> None:
    known, unknown = Client(), Client()
    a, b = ask(known), ask(unknown, "13900139000")
    assert (a.status_code, a["Location"]) == (b.status_code, b["Location"])
    assert len(LocmemBackend.outbox) == 1
    ra, rb = enter(known, "123456"), enter(unknown, "123456")
    assert ra.status_code == rb.status_code == 400
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    ta = strip.sub("", ra.content.decode().replace("138****8000", "X"))
    tb = strip.sub("", rb.content.decode().replace("139****9000", "X"))
    assert ta == tb


def test_wrong_codes_lock_the_account_like_wrong_passwords(person: User, settings: Any) -> None:
    c = Client()
    ask(c)
    code = last_code()
    statuses = [enter(c, other_than(code)).status_code for _ in range(settings.LINLI_LOGIN_FAILURES)]
    assert statuses[0] == 400 and statuses[-1] == 429
    assert AccessAttempt.objects.filter(username="li").exists()
    # locked: neither a fresh right code nor the right password signs in
    ask(c)
    r = enter(c, last_code())
    assert r.status_code == 429 and SESSION_KEY not in c.session
    r = Client().post(reverse("accounts:login"), {"username": "li", "password": PASSWORD})
    assert r.status_code == 429
    # and wrong passwords count towards the same lock as codes
    clock.travel(clock.now() + timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES + 1))
    ask(c)
    r = enter(c, last_code())
    assert r.status_code == 302 and c.session[SESSION_KEY] == str(person.pk)


def test_wrong_passwords_then_codes_share_the_count(person: User, settings: Any) -> None:
    for i in range(settings.LINLI_LOGIN_FAILURES - 1):
        Client().post(reverse("accounts:login"), {"username": "li", "password": f"wrong-{i}"})
    c = Client()
    ask(c)
    assert enter(c, other_than(last_code())).status_code == 429


def test_tries_are_bounded_per_code(person: User, settings: Any) -> None:
    settings.LINLI_LOGIN_FAILURES = 50  # the lockout out of the way: the code's own bound
    settings.AXES_FAILURE_LIMIT = 50
    passwords.send_code("signin", PHONE)
    code = last_code()
    for _ in range(settings.LINLI_OTP_MAX_FAILURES):
        assert passwords.consume_signin_code(PHONE, other_than(code)) is None
    assert passwords.consume_signin_code(PHONE, code) is None  # dead after the bound


def test_sending_is_rate_limited(person: User, settings: Any) -> None:
    settings.LINLI_OTP_RESEND_SECONDS = 60
    c = Client()
    assert ask(c).status_code == 302
    r = ask(c)
    assert r.status_code == 429 and "验证码刚刚发送过" in r.content.decode()


def test_a_signed_in_person_and_a_missing_first_step_are_sent_on(person: User) -> None:
    c = Client()
    assert c.get(reverse("accounts:signin_sms_code"))["Location"] == reverse("accounts:signin_sms")
    c.force_login(person)
    assert c.get(reverse("accounts:signin_sms")).status_code == 302


def test_an_unsafe_next_is_ignored(person: User, settings: Any) -> None:
    c = Client()
    ask(c, next_url="https://evil.example/")
    r = enter(c, last_code(), "https://evil.example/")
    assert r.status_code == 302 and "evil" not in r["Location"]


def test_the_sign_in_page_offers_both_ways() -> None:
    page = Client().get(reverse("accounts:login")).content.decode()
    assert reverse("accounts:signin_sms") in page and reverse("accounts:password_reset") in page
