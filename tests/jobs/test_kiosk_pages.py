"""The kiosk's screens through Django's test client (issue 14 §5): the permission matrix (public
screens; every step after the sign-in needs the kiosk's own session, whoever is signed in to the
site), the whole pass for a known and a new seeker, bad input, the idle end and "finish"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.core.sms import LocmemBackend
from linli.jobs.models import Application, Seeker
from tests import factories as f
from tests.jobs.conftest import make_posting

T0 = datetime(2026, 3, 2, 2, 0, 0, tzinfo=UTC)
ID = "110101199003070011"
NEW_ID = "11010119800101007X"

PUBLIC = ["kiosk:home", "kiosk:id"]
SESSION = [  # (name, args, method): without the kiosk's session → back to the start
    ("kiosk:code", [], "get"),
    ("kiosk:code", [], "post"),
    ("kiosk:resend", [], "post"),
    ("kiosk:unknown", [], "get"),
    ("kiosk:register_name", [], "get"),
    ("kiosk:register_phone", [], "get"),
    ("kiosk:register_code", [], "get"),
    ("kiosk:register_street", [], "get"),
    ("kiosk:register_skills", [], "get"),
    ("kiosk:categories", [], "get"),
    ("kiosk:jobs", ["manufacturing"], "get"),
    ("kiosk:job", ["P"], "get"),
    ("kiosk:cv_skills", ["P"], "get"),
    ("kiosk:cv_years", ["P"], "post"),
    ("kiosk:cv_hours", ["P"], "post"),
    ("kiosk:cv_send", ["P"], "post"),
    ("kiosk:slip", ["A"], "get"),
]


@pytest.fixture(autouse=True)
def _outbox() -> Any:
    LocmemBackend.outbox.clear()
    yield
    LocmemBackend.outbox.clear()


def last_code() -> str:
    match = re.search(r"\b(\d{6})\b", LocmemBackend.outbox[-1][1])
    assert match
    return match.group(1)


def sign_in(c: Client, id_number: str = ID) -> None:
    r = c.post(reverse("kiosk:id"), {"id_number": id_number})
    assert r.status_code == 302 and r["Location"] == reverse("kiosk:code"), r.content.decode()[:500]
    r = c.post(reverse("kiosk:code"), {"code": last_code()})
    assert r.status_code == 302 and r["Location"] == reverse("kiosk:categories")


def apply(c: Client, posting_pk: int) -> Any:
    c.post(reverse("kiosk:cv_skills", args=[posting_pk]), {"skills": ["6-18-01-01"]})
    c.post(reverse("kiosk:cv_years", args=[posting_pk]), {"years": "3-10"})
    c.post(reverse("kiosk:cv_hours", args=[posting_pk]), {"hours": "40"})
    return c.post(reverse("kiosk:cv_send", args=[posting_pk]))


def test_kiosk_pages_matrix(jobs: Any, world: Any, client_for: Any) -> None:
    """Kiosk screens are public; what follows the sign-in needs the kiosk's own session (a site
    login is not one): → 302 to the start for everyone, whatever their roles. A seeker's slip is
    only ever shown to the kiosk session of that seeker."""
    other_officer = f.UserFactory(username="officer_street2")
    grant_role(world.admin, other_officer, Role.EMPLOYMENT_OFFICER.value, world.street2)
    app = Application.objects.create(
        posting=jobs.posting, seeker=jobs.seeker, number="JY20260302-0001", status="applied",
        path=jobs.posting.path, created_at=clock.now(), updated_at=clock.now(),
    )  # fmt: skip
    who = {
        "anonymous": None,
        "outsider": world.outsider,
        "seeker": jobs.seeker_user,
        "employer member": jobs.employer_user,
        "officer": jobs.officer,
        "other street's officer": other_officer,
        "superuser": world.admin,
    }
    failures = []
    for role, user in who.items():
        c = Client() if user is None else client_for(user)
        for name in PUBLIC:
            r = c.get(reverse(name))
            if r.status_code != 200 or "no-store" not in r["Cache-Control"]:
                failures.append(f"{role} {name} → {r.status_code}")
        for name, args, method in SESSION:
            real = [jobs.posting.pk if a == "P" else app.pk if a == "A" else a for a in args]
            r = getattr(c, method)(reverse(name, args=real))
            if r.status_code != 302 or r["Location"] != reverse("kiosk:home"):
                failures.append(f"{role} {method} {name} → {r.status_code}")
        r = c.post(reverse("kiosk:alive"))
        if r.status_code != 410:
            failures.append(f"{role} alive without a session → {r.status_code}")
        for name in ("kiosk:finish", "kiosk:language"):
            r = c.post(reverse(name), {"language": "en"})
            if r.status_code != 302:
                failures.append(f"{role} {name} → {r.status_code}")
        if c.get(reverse(name)).status_code != 405:
            failures.append(f"{role} GET {name} is not refused")
    # the slip of another seeker: a kiosk session of the hidden seeker does not see it
    LocmemBackend.outbox.clear()
    c = Client()
    jobs.hidden.set_id_number(NEW_ID)
    jobs.hidden.save()
    sign_in(c, NEW_ID)
    r = c.get(reverse("kiosk:slip", args=[app.pk]))
    if r.status_code != 302 or r["Location"] != reverse("kiosk:categories"):
        failures.append(f"another seeker's slip → {r.status_code}")
    assert not failures, "\n".join(failures)


def test_the_whole_pass_for_a_known_seeker(jobs: Any) -> None:
    c = Client()
    r = c.get(reverse("kiosk:home"))
    assert "sessionid" not in r.cookies  # the start screen makes no session
    sign_in(c)
    r = c.get(reverse("kiosk:categories"))
    body = r.content.decode()
    assert r.status_code == 200 and "王师傅" in body and 'data-testid="cat-manufacturing"' in body
    body = c.get(reverse("kiosk:jobs", args=["manufacturing"])).content.decode()
    assert f'data-testid="job-{jobs.posting.pk}"' in body and "数控车工" in body and "5000–7000" in body
    body = c.get(reverse("kiosk:job", args=[jobs.posting.pk])).content.decode()
    assert 'data-testid="job-apply"' in body
    body = c.get(reverse("kiosk:cv_skills", args=[jobs.posting.pk])).content.decode()
    assert re.search(r'value="6-18-01-01"\s+checked', body)  # the seeker's own skills, ticked
    r = apply(c, jobs.posting.pk)
    app = Application.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("kiosk:slip", args=[app.pk])
    assert app.channel == "kiosk" and app.cv["experience_years"] == 3 and app.cv["hours"] == 40
    body = c.get(r["Location"]).content.decode()
    assert app.number in body and "重庆精工机床有限公司" in body and 'data-testid="slip-print"' in body
    # applying twice: a kind 409 with the first slip
    r = apply(c, jobs.posting.pk)
    assert r.status_code == 409 and "已经投递过" in r.content.decode() and app.number in r.content.decode()
    assert Application.objects.count() == 1
    # finish: nothing of the person remains
    r = c.post(reverse("kiosk:finish"))
    assert r.status_code == 302 and "kiosk" not in c.session
    assert c.get(reverse("kiosk:categories"))["Location"] == reverse("kiosk:home")


def test_bad_input_is_refused_plainly(jobs: Any) -> None:
    c = Client()
    r = c.post(reverse("kiosk:id"), {"id_number": "110101199003070012"})
    assert r.status_code == 400 and "校验码" in r.content.decode() and not LocmemBackend.outbox
    r = c.post(reverse("kiosk:id"), {"id_number": "1101011990"})
    assert r.status_code == 400 and "18 位" in r.content.decode()
    r = c.post(reverse("kiosk:id"), {"id_number": ID})
    assert r.status_code == 302
    r = c.post(reverse("kiosk:code"), {"code": "12"})
    assert r.status_code == 400 and "6 位" in r.content.decode()
    code = last_code()
    for _ in range(4):
        r = c.post(reverse("kiosk:code"), {"code": f"{(int(code) + 1) % 10**6:06d}"})
        assert r.status_code == 400 and "验证码不对" in r.content.decode()
    r = c.post(reverse("kiosk:code"), {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert r.status_code == 423 and "暂停" in r.content.decode()
    r = c.post(reverse("kiosk:code"), {"code": code})
    assert r.status_code == 423 and "kiosk" in c.session and not c.session["kiosk"].get("seeker")
    # the next person with the same ID: still locked, no code sent
    sent = len(LocmemBackend.outbox)
    r = Client().post(reverse("kiosk:id"), {"id_number": ID})
    assert r.status_code == 423 and len(LocmemBackend.outbox) == sent


def test_an_expired_posting_is_refused_kindly(jobs: Any) -> None:
    c = Client()
    sign_in(c)
    c.post(reverse("kiosk:cv_skills", args=[jobs.posting.pk]), {"skills": ["6-18-01-01"]})
    jobs.posting.closes_on = clock.today() - timedelta(days=1)
    jobs.posting.save()
    r = c.post(reverse("kiosk:cv_send", args=[jobs.posting.pk]))
    assert r.status_code == 410 and "截止" in r.content.decode()
    assert not Application.objects.exists()


def bind(c: Client, street: Any) -> Any:
    """Staff bind the kiosk of ``c`` to ``street``: the confirming screen, then its POST."""
    r = c.get(reverse("kiosk:home"), {"street": street.pk})
    if r.status_code != 200:
        return r
    assert street.name in r.content.decode()
    return c.post(reverse("kiosk:home"), {"street": street.pk})


def test_only_staff_serving_the_street_bind_a_kiosk_to_it(jobs: Any, world: Any, settings: Any) -> None:
    """Nobody else makes a kiosk claim a street: a visitor is sent to sign in (nothing set), an
    account without ``jobs`` at the street is refused (404 outside its places, 403 where it only
    looks), a malformed or unknown id is a 400, a forged cookie counts as none; staff who bind it
    are signed out at once."""
    settings.LINLI_KIOSK_STREET = None
    district_officer = f.UserFactory(username="district_officer")
    grant_role(world.admin, district_officer, Role.EMPLOYMENT_OFFICER.value, world.district)
    other_officer = f.UserFactory(username="officer_street2")
    grant_role(world.admin, other_officer, Role.EMPLOYMENT_OFFICER.value, world.street2)
    home = reverse("kiosk:home")
    c = Client()
    for r in (c.get(home, {"street": world.street1.pk}), c.post(home, {"street": world.street1.pk})):
        assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:login"))
        assert f"street%3D{world.street1.pk}" in r["Location"] and "linli_kiosk_street" not in r.cookies
    refused = {
        "other street's officer": (other_officer, 404),
        "community worker": (world.users["community_worker"], 404),  # holds jobs below the street only
        "employer member": (jobs.employer_user, 404),
        "department staff (looks at the street)": (world.users["department_staff"], 403),
    }
    for who, (user, status) in refused.items():
        c = Client()
        c.force_login(user)
        for r in (c.get(home, {"street": world.street1.pk}), c.post(home, {"street": world.street1.pk})):
            assert r.status_code == status and "linli_kiosk_street" not in r.cookies, (who, r.status_code)
    for user in (jobs.officer, world.users["street_command"], district_officer, world.admin):
        c = Client()
        c.force_login(user)
        for bad in ("999999", "abc", ""):
            assert c.get(home, {"street": bad}).status_code == 400
        r = bind(c, world.street1)
        assert r.status_code == 302 and r["Location"] == home and "linli_kiosk_street" in r.cookies
        assert "_auth_user_id" not in c.session  # the kiosk is not left signed in
        assert "谢家湾街道" in c.get(home).content.decode()
    forged = Client()
    forged.cookies["linli_kiosk_street"] = str(world.street1.pk)  # unsigned
    assert "谢家湾街道" not in forged.get(home).content.decode()
    forged.cookies["linli_kiosk_street"] = r.cookies["linli_kiosk_street"].value.replace(
        f"{world.street1.pk}:", f"{world.street2.pk}:", 1
    )  # signed for street 1, altered to street 2
    assert "杨家坪街道" not in forged.get(home).content.decode()


def test_registration_at_the_kiosk(jobs: Any, world: Any, settings: Any) -> None:
    settings.LINLI_KIOSK_STREET = None
    c = Client()
    c.force_login(jobs.officer)
    assert bind(c, world.street1).status_code == 302  # staff, when installing
    r = c.post(reverse("kiosk:id"), {"id_number": NEW_ID})
    assert r["Location"] == reverse("kiosk:unknown") and not LocmemBackend.outbox
    body = c.get(r["Location"]).content.decode()
    assert "1101**********007X" in body and NEW_ID not in body
    assert NEW_ID not in str(dict(c.session))  # sealed in the session
    r = c.post(reverse("kiosk:register_name"), {"name": "1"})
    assert r.status_code == 400
    c.post(reverse("kiosk:register_name"), {"name": "李阿姨"})
    r = c.post(reverse("kiosk:register_phone"), {"phone": "139123"})
    assert r.status_code == 400 and "11 位" in r.content.decode()
    r = c.post(reverse("kiosk:register_phone"), {"phone": "13912345678"})
    assert r["Location"] == reverse("kiosk:register_code") and LocmemBackend.outbox[-1][0] == "13912345678"
    r = c.post(reverse("kiosk:register_code"), {"code": f"{(int(last_code()) + 1) % 10**6:06d}"})
    assert r.status_code == 400
    r = c.post(reverse("kiosk:register_code"), {"code": last_code()})
    assert r["Location"] == reverse("kiosk:register_skills")
    r = c.post(reverse("kiosk:register_skills"), {})
    assert r.status_code == 400 and not Seeker.objects.filter(source="kiosk").exists()
    r = c.post(reverse("kiosk:register_skills"), {"skills": ["4-10-01-06"]})
    assert r["Location"] == reverse("kiosk:categories")
    seeker = Seeker.objects.get(source="kiosk")
    assert seeker.name == "李阿姨" and seeker.street == world.street1 and seeker.phone_masked == "139****5678"
    assert "您已登记" in c.get(reverse("kiosk:categories")).content.decode()


def test_registration_asks_the_street_when_the_kiosk_has_none(jobs: Any, world: Any, settings: Any) -> None:
    settings.LINLI_KIOSK_STREET = None
    c = Client()
    c.post(reverse("kiosk:id"), {"id_number": NEW_ID})
    c.post(reverse("kiosk:register_name"), {"name": "李阿姨"})
    c.post(reverse("kiosk:register_phone"), {"phone": "13912345678"})
    r = c.post(reverse("kiosk:register_code"), {"code": last_code()})
    assert r["Location"] == reverse("kiosk:register_street")
    r = c.post(reverse("kiosk:register_street"), {"street": world.street2.pk})
    assert r["Location"] == reverse("kiosk:register_skills")
    c.post(reverse("kiosk:register_skills"), {"skills": ["4-10-01-06"]})
    assert Seeker.objects.get(source="kiosk").street == world.street2


def test_the_session_ends_after_a_minute_idle(jobs: Any, settings: Any) -> None:
    settings.LINLI_KIOSK_IDLE_SECONDS = 60
    c = Client()
    with clock.frozen(T0):
        sign_in(c)
    with clock.frozen(T0 + timedelta(seconds=59)):
        assert c.get(reverse("kiosk:categories")).status_code == 200
        assert c.post(reverse("kiosk:alive")).status_code == 204
    with clock.frozen(T0 + timedelta(seconds=118)):
        assert c.get(reverse("kiosk:categories")).status_code == 200  # still active: the clock restarted
    with clock.frozen(T0 + timedelta(seconds=179)):
        r = c.get(reverse("kiosk:categories"))
        assert r.status_code == 302 and r["Location"] == reverse("kiosk:home")
        assert "kiosk" not in c.session
        assert c.post(reverse("kiosk:alive")).status_code == 410


def test_language_is_the_persons_and_ends_with_them(jobs: Any) -> None:
    c = Client()
    sign_in(c)
    r = c.post(reverse("kiosk:language"), {"language": "en", "next": reverse("kiosk:categories")})
    assert r["Location"] == reverse("kiosk:categories")
    body = c.get(reverse("kiosk:categories")).content.decode()
    assert 'lang="en"' in body and "What kind of work?" in body and "Finish" in body
    r = c.post(reverse("kiosk:language"), {"language": "en", "next": "https://example.org/"})
    assert r["Location"] == reverse("kiosk:home")
    c.post(reverse("kiosk:finish"))
    body = c.get(reverse("kiosk:home")).content.decode()
    assert 'lang="zh-Hans"' in body and "开始" in body


def test_screens_keep_nothing(jobs: Any) -> None:
    """no-store, no autocomplete, no inline script, no camera or photo."""
    c = Client()
    sign_in(c)
    other = make_posting(jobs.employer, "铣工", ["6-18-01-02"])
    for url in (reverse("kiosk:id"), reverse("kiosk:categories"), reverse("kiosk:cv_skills", args=[other.pk])):
        r = c.get(url)
        body = r.content.decode()
        assert "no-store" in r["Cache-Control"]
        assert re.search(r"<script(?![^>]*\bsrc=)", body) is None
        for form in re.findall(r"<form[^>]*>", body):
            assert 'autocomplete="off"' in form, form
        assert "camera" not in body.lower() and 'type="file"' not in body
