"""linli/accounts/passwords.py and its pages: change a password (signed in) and reset a forgotten one
by an SMS code to the phone on record (signed out), without telling whether a number is known."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from linli.accounts import passwords
from linli.accounts.models import AccessLog, PhoneCode, User
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.sms import LocmemBackend
from tests import factories as f

pytestmark = pytest.mark.django_db

OLD = "an-old-long-password"
NEW = "a-brand-new-passphrase"
PHONE = "13800138000"


@pytest.fixture(autouse=True)
def _sms(settings: Any) -> Any:
    settings.LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"
    LocmemBackend.outbox.clear()
    yield LocmemBackend.outbox
    LocmemBackend.outbox.clear()
    clock.reset()


@pytest.fixture
def person() -> User:
    u = f.UserFactory(username="wang", email="wang.xiaoming@example.cn")
    u.set_password(OLD)
    u.set_phone(PHONE)
    u.save()
    return u


def signed_in(username: str = "wang") -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def last_code() -> str:
    _to, text = LocmemBackend.outbox[-1]
    return re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]


def refused(fn: Any, code: str, status: int | None = None) -> LinliError:
    with pytest.raises(LinliError) as exc:
        fn()
    assert exc.value.problems[0].code == code, exc.value.problems
    if status is not None:
        assert exc.value.status == status
    return exc.value


# --- the phone on record -----------------------------------------------------------------------------


def test_the_phone_is_kept_encrypted_hashed_and_masked(person: User) -> None:
    row = User.objects.get(pk=person.pk)
    assert PHONE not in row.phone_enc and row.phone_masked == "138****8000" and row._phone() == PHONE
    person.set_phone("+86 138-0013-8000")
    assert person.phone_hash == row.phone_hash  # one number, however written
    assert passwords.account_by_phone(PHONE) == person


# --- change ------------------------------------------------------------------------------------------


def test_change_password_signs_out_every_other_session_and_is_logged(person: User) -> None:
    here, elsewhere = signed_in(), signed_in()
    assert elsewhere.get(reverse("accounts:me")).status_code == 200
    r = here.post(
        reverse("accounts:password_change"),
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert r.status_code == 302 and r["Location"] == reverse("accounts:me")
    assert here.get(reverse("accounts:me")).status_code == 200  # this session stays
    gone = elsewhere.get(reverse("accounts:me"))
    assert gone.status_code == 302 and reverse("accounts:login") in gone["Location"]
    assert SESSION_KEY not in elsewhere.session
    person.refresh_from_db()
    assert person.check_password(NEW) and not person.check_password(OLD)
    [entry] = AccessLog.objects.filter(what=AccessLog.What.PASSWORD_CHANGED)
    assert entry.user == person and entry.object_id == str(person.pk)


@pytest.mark.parametrize(
    ("old", "new1", "new2", "code"),
    [
        ("wrong-old-password", NEW, NEW, "old_password_wrong"),
        (OLD, NEW, NEW + "x", "password_mismatch"),
        (OLD, "short", "short", "password_weak"),
        (OLD, "1234567890123", "1234567890123", "password_weak"),
        (OLD, "password1234", "password1234", "password_weak"),
        (OLD, OLD, OLD, "password_same"),
        (OLD, "", "", "password_required"),
    ],
)
def test_change_password_refusals(person: User, old: str, new1: str, new2: str, code: str) -> None:
    refused(lambda: passwords.change_password(person, old, new1, new2), code, 400)
    person.refresh_from_db()
    assert person.check_password(OLD) and not AccessLog.objects.exists()


def test_the_change_page_shows_the_refusal_and_needs_sign_in(person: User) -> None:
    url = reverse("accounts:password_change")
    assert Client().get(url).status_code == 302
    r = signed_in().post(url, {"old_password": "nope", "new_password1": NEW, "new_password2": NEW})
    assert r.status_code == 400 and "当前密码不正确" in r.content.decode()
    assert signed_in().get(url).status_code == 200


def test_change_password_tries_are_bounded(person: User) -> None:
    for _ in range(10):
        refused(lambda: passwords.change_password(person, "wrong-password-x", NEW, NEW), "old_password_wrong")
    refused(lambda: passwords.change_password(person, OLD, NEW, NEW), "password_tries", 429)


# --- reset ---------------------------------------------------------------------------------------------


def ask_reset(client: Client, phone: str = PHONE, **extra: Any) -> Any:
    return client.post(reverse("accounts:password_reset"), {"phone": phone}, **extra)


def test_reset_by_sms_code_sets_the_password_and_ends_every_session(person: User) -> None:
    before = signed_in()
    c = Client()
    r = ask_reset(c)
    assert r.status_code == 302 and r["Location"] == reverse("accounts:password_reset_code")
    [(to, text)] = LocmemBackend.outbox
    assert to == PHONE and "重设密码" in text
    code = last_code()
    row = PhoneCode.objects.get()
    assert code not in (row.code_hash, row.salt) and row.purpose == "reset"  # kept hashed
    assert row.expires_at - row.sent_at == timedelta(seconds=300)
    page = c.get(reverse("accounts:password_reset_code")).content.decode()
    assert "138****8000" in page and PHONE not in page
    r = c.post(reverse("accounts:password_reset_code"), {"code": code, "new_password1": NEW, "new_password2": NEW})
    assert r.status_code == 302 and r["Location"] == reverse("accounts:login")
    person.refresh_from_db()
    assert person.check_password(NEW)
    assert before.get(reverse("accounts:me")).status_code == 302  # signed out
    assert AccessLog.objects.filter(what=AccessLog.What.PASSWORD_RESET, user=person).count() == 1
    # the code is single-use
    refused(lambda: passwords.reset_password(PHONE, code, NEW + "2", NEW + "2"), "code_wrong", 400)


def test_reset_answers_the_same_for_an_unknown_number(person: User) -> None:
    known, unknown = Client(), Client()
    a = ask_reset(known)
    b = ask_reset(unknown, "13900139000")
    assert (a.status_code, a["Location"]) == (b.status_code, b["Location"])
    pa = known.get(a["Location"]).content.decode().replace("138****8000", "X")
    pb = unknown.get(b["Location"]).content.decode().replace("139****9000", "X")
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", pa) == strip.sub("", pb)
    assert len(LocmemBackend.outbox) == 1 and PhoneCode.objects.count() == 1
    e = refused(lambda: passwords.reset_password("13900139000", "123456", NEW, NEW), "code_wrong", 400)
    assert e.problems[0].zh == passwords.WRONG.zh
    refused(
        lambda: passwords.reset_password(PHONE, "000000" if last_code() != "000000" else "111111", NEW, NEW),
        "code_wrong",
        400,
    )


def test_a_code_expires_after_five_minutes(person: User) -> None:
    passwords.send_code("reset", PHONE)
    code = last_code()
    clock.travel(clock.now() + timedelta(seconds=301))
    refused(lambda: passwords.reset_password(PHONE, code, NEW, NEW), "code_wrong")
    person.refresh_from_db()
    assert person.check_password(OLD)


def test_wrong_codes_are_bounded_per_code(person: User, settings: Any) -> None:
    passwords.send_code("reset", PHONE)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.LINLI_OTP_MAX_FAILURES):
        refused(lambda: passwords.reset_password(PHONE, wrong, NEW, NEW), "code_wrong")
    refused(lambda: passwords.reset_password(PHONE, code, NEW, NEW), "code_wrong")  # the right one, too late
    assert PhoneCode.objects.get().failures == settings.LINLI_OTP_MAX_FAILURES


def test_a_weak_password_does_not_use_up_the_code(person: User) -> None:
    passwords.send_code("reset", PHONE)
    code = last_code()
    refused(lambda: passwords.reset_password(PHONE, code, "short", "short"), "password_weak")
    refused(lambda: passwords.reset_password(PHONE, code, "wang.xiaoming1", "wang.xiaoming1"), "password_weak")
    assert PhoneCode.objects.get().failures == 0
    passwords.reset_password(PHONE, code, NEW, NEW)
    person.refresh_from_db()
    assert person.check_password(NEW)


def test_a_new_code_replaces_the_earlier_one(person: User, settings: Any) -> None:
    settings.LINLI_OTP_RESEND_SECONDS = 0
    passwords.send_code("reset", PHONE)
    first = last_code()
    passwords.send_code("reset", PHONE)
    second = last_code()
    if first != second:
        refused(lambda: passwords.reset_password(PHONE, first, NEW, NEW), "code_wrong")
    passwords.reset_password(PHONE, second, NEW, NEW)


def test_codes_are_rate_limited_per_number_and_per_address(person: User, settings: Any) -> None:
    # one per minute to a number, known or not, with the same refusal
    passwords.send_code("reset", PHONE)
    refused(lambda: passwords.send_code("reset", PHONE), "code_rate", 429)
    passwords.send_code("reset", "13900139000")
    refused(lambda: passwords.send_code("reset", "13900139000"), "code_rate", 429)
    # per hour to a number
    settings.LINLI_OTP_RESEND_SECONDS = 0
    for _ in range(settings.LINLI_OTP_PER_HOUR - 1):
        passwords.send_code("reset", PHONE)
    refused(lambda: passwords.send_code("reset", PHONE), "code_rate", 429)
    # per hour from an address, over many numbers
    settings.LINLI_OTP_PER_ADDRESS_HOUR = 3
    for n in range(3):
        passwords.send_code("reset", f"1370000000{n}", ip="10.0.0.9")
    refused(lambda: passwords.send_code("reset", "13700000009", ip="10.0.0.9"), "code_rate", 429)
    passwords.send_code("reset", "13700000009", ip="10.0.0.10")  # another address


def test_the_reset_page_refuses_a_malformed_number_and_needs_the_first_step() -> None:
    c = Client()
    r = ask_reset(c, "12345")
    assert r.status_code == 400 and "11位手机号码" in r.content.decode()
    assert c.get(reverse("accounts:password_reset_code"))["Location"] == reverse("accounts:password_reset")


def test_staff_still_reset_a_password_in_the_admin(person: User) -> None:
    admin = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    c = Client()
    c.force_login(admin)
    url = reverse("admin:auth_user_password_change", args=[person.pk])
    r = c.post(url, {"password1": NEW, "password2": NEW, "usable_password": "true"})
    assert r.status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW)


def test_staff_set_the_phone_on_record_in_the_admin(person: User) -> None:
    admin = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    c = Client()
    c.force_login(admin)
    url = reverse("admin:accounts_user_change", args=[person.pk])
    page = c.get(url).content.decode()
    assert "138****8000" in page and PHONE not in page
    form = {
        "username": person.username,
        "new_phone": "13912345678",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "is_active": "on",
        "grants-TOTAL_FORMS": "0",
        "grants-INITIAL_FORMS": "0",
    }
    r = c.post(url, form)
    assert r.status_code == 302, r.content.decode()[:3000]
    person.refresh_from_db()
    assert person._phone() == "13912345678" and person.phone_masked == "139****5678"
    r = c.post(url, {**form, "new_phone": "12345"})
    assert r.status_code == 200
    person.refresh_from_db()
    assert person._phone() == "13912345678"
