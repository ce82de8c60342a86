"""linli/accounts/verification.py and its pages and API: an account becomes an owner's voting
account only by the owner's ID number + a one-time SMS code, or in person before a worker who saw
the document. Every refusal is bilingual and writes nothing (except the counted wrong code)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse

from linli.accounts import queries, verification
from linli.accounts.models import OwnerAccount, OwnerCode
from linli.accounts.permissions import can, forget_grants
from linli.accounts.roles import Action
from linli.accounts.services import grant_role
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.sms import LocmemBackend
from linli.places import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db

ID_A = "110101199003070011"  # owner_a 张三 (dwelling_a), phone 13800138000
ID_B = "110101199003072914"  # owner_b 李四 (dwelling_b)


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    """Empty SMS outbox and ID-check counters; the clock back afterwards."""
    LocmemBackend.outbox.clear()
    cache.clear()
    yield
    LocmemBackend.outbox.clear()
    cache.clear()
    clock.reset()


def sent_code() -> str:
    _phone, text = LocmemBackend.outbox[-1]
    match = re.search(r"验证码 (\d{6})", text)
    assert match, text
    return match.group(1)


def later(seconds: int) -> None:
    clock.travel(clock.now() + timedelta(seconds=seconds))


def neighbour(world: Any, name: str = "neighbour", dwelling: Any = None) -> Any:
    """A plain account with a resident grant at a dwelling (default dwelling_a)."""
    u = f.UserFactory(username=name)
    grant_role(world.admin, u, "resident", dwelling or world.dwelling_a)
    return u


def state() -> tuple:
    """What a refused request must leave as it was."""
    return (
        sorted(OwnerAccount.objects.values_list("user_id", "person_id", "method", "revoked_at")),
        sorted(OwnerCode.objects.values_list("id", "failures", "used_at", "cleared_at", "expires_at")),
        len(LocmemBackend.outbox),
    )


def refused(call: Any, code: str, status: int | None = None) -> LinliError:
    with pytest.raises(LinliError) as exc:
        call()
    problem = exc.value.problems[0]
    assert problem.code == code, exc.value
    assert problem.zh and problem.en and problem.zh != problem.en  # both languages
    assert 400 <= exc.value.status < 500
    if status is not None:
        assert exc.value.status == status
    return exc.value


# --- self-service --------------------------------------------------------------------------------


def test_id_number_and_sms_code_make_the_account_the_owners(world):
    user = world.users["resident"]
    row = verification.start_sms(user, world.dwelling_a, f" {ID_A} ")
    phone, _text = LocmemBackend.outbox[-1]
    assert phone == "13800138000"  # the phone on record, through the SMS interface
    code = sent_code()
    assert row.phone_masked == "138****8000" and code not in (row.code_hash, row.salt)
    assert not OwnerAccount.objects.exists()
    account = verification.confirm_sms(user, row.pk, code)
    assert (account.user, account.person, account.method) == (user, world.owner_a, "sms")
    assert account.verified_by is None and account.phone_masked == "138****8000"
    assert queries.voting_person_ids(user) == {world.owner_a.pk}


def test_an_id_number_that_matches_no_owner_of_the_dwelling_reveals_nothing(world):
    user = world.users["resident"]
    before = state()
    # 李四 exists (owner of dwelling_b), a made-up number does not: the same answer for both
    a = refused(lambda: verification.start_sms(user, world.dwelling_a, ID_B), "id_mismatch")
    b = refused(lambda: verification.start_sms(user, world.dwelling_a, "110101199001010013"), "id_mismatch")
    assert a.problems == b.problems
    assert "does not match an owner of this dwelling" in a.problems[0].en
    assert state() == before


def test_dwelling_out_of_sight_is_a_404(world):
    with pytest.raises(Http404):
        verification.start_sms(world.users["resident"], world.dwelling_b, ID_B)
    assert state() == ([], [], 0)


def test_wrong_code_six_times_locks_even_the_right_code(world):
    user = world.users["resident"]
    row = verification.start_sms(user, world.dwelling_a, ID_A)
    right = sent_code()
    wrong = "000000" if right != "000000" else "111111"
    for n in range(1, 5):
        e = refused(lambda: verification.confirm_sms(user, row.pk, wrong), "code_wrong")
        assert f"{5 - n} tr" in e.problems[0].en
    refused(lambda: verification.confirm_sms(user, row.pk, wrong), "code_wrong_locked")
    row.refresh_from_db()
    assert row.failures == 5  # counted although each request was refused
    before = state()
    refused(lambda: verification.confirm_sms(user, row.pk, right), "sms_locked", 423)  # the 6th: refused
    assert state() == before and not OwnerAccount.objects.exists()
    # locked for the person and for the account: no new code either
    later(3600)
    refused(lambda: verification.start_sms(user, world.dwelling_a, ID_A), "sms_locked")
    other = neighbour(world)
    refused(lambda: verification.start_sms(other, world.dwelling_a, ID_A), "sms_locked")
    assert verification.is_locked(person=world.owner_a) and verification.is_locked(user=user)
    # a worker unlocks (after checking who asks); then it works again
    assert verification.unlock_sms(world.users["community_worker"], world.owner_a, world.dwelling_a) == 1
    fresh = verification.start_sms(user, world.dwelling_a, ID_A)
    assert verification.confirm_sms(user, fresh.pk, sent_code()).person == world.owner_a


def test_expired_code_is_refused(world):
    user = world.users["resident"]
    row = verification.start_sms(user, world.dwelling_a, ID_A)
    code = sent_code()
    later(300)
    before = state()
    e = refused(lambda: verification.confirm_sms(user, row.pk, code), "code_expired")
    assert "expired" in e.problems[0].en
    assert state() == before


def test_code_reused_is_refused_and_belongs_to_its_account(world):
    user = world.users["resident"]
    row = verification.start_sms(user, world.dwelling_a, ID_A)
    code = sent_code()
    with pytest.raises(Http404):  # someone else's challenge does not exist for them
        verification.confirm_sms(neighbour(world), row.pk, code)
    verification.confirm_sms(user, row.pk, code)
    before = state()
    refused(lambda: verification.confirm_sms(user, row.pk, code), "code_used", 409)
    assert state() == before and OwnerAccount.objects.count() == 1


def test_a_new_code_replaces_the_earlier_one(world):
    user = world.users["resident"]
    first = verification.start_sms(user, world.dwelling_a, ID_A)
    old = sent_code()
    later(61)
    second = verification.start_sms(user, world.dwelling_a, ID_A)
    refused(lambda: verification.confirm_sms(user, first.pk, old), "code_expired")
    assert verification.confirm_sms(user, second.pk, sent_code()).person == world.owner_a


def test_codes_are_rate_limited_per_person_and_per_account(world):
    user = world.users["resident"]
    verification.start_sms(user, world.dwelling_a, ID_A)
    before = state()
    e = refused(lambda: verification.start_sms(user, world.dwelling_a, ID_A), "sms_wait", 429)
    assert "wait" in e.problems[0].en
    # another account for the same owner is held by the same wait (per person)
    refused(lambda: verification.start_sms(neighbour(world), world.dwelling_a, ID_A), "sms_wait")
    assert state()[1:] == before[1:]
    for _ in range(4):
        later(61)
        verification.start_sms(user, world.dwelling_a, ID_A)
    later(61)
    refused(lambda: verification.start_sms(user, world.dwelling_a, ID_A), "sms_hourly", 429)
    assert len(LocmemBackend.outbox) == 5
    later(3600)
    verification.start_sms(user, world.dwelling_a, ID_A)


def test_id_number_checks_are_limited_per_account(settings, world):
    settings.LINLI_OWNER_ID_TRIES_PER_HOUR = 3
    user = world.users["resident"]
    for _ in range(3):
        refused(lambda: verification.start_sms(user, world.dwelling_a, ID_B), "id_mismatch")
    refused(lambda: verification.start_sms(user, world.dwelling_a, ID_A), "id_tries", 429)
    assert state() == ([], [], 0)


def test_owner_without_phone_must_verify_in_person(world):
    m.Person.objects.filter(pk=world.owner_a.pk).update(phone_enc="", phone_masked="")
    before = state()
    e = refused(lambda: verification.start_sms(world.users["resident"], world.dwelling_a, ID_A), "no_phone")
    assert "in person" in e.problems[0].en and state() == before


def test_two_accounts_claiming_one_owner(world):
    first = world.users["resident"]
    row = verification.start_sms(first, world.dwelling_a, ID_A)
    verification.confirm_sms(first, row.pk, sent_code())
    second = neighbour(world)
    before = state()
    e = refused(lambda: verification.start_sms(second, world.dwelling_a, ID_A), "owner_taken", 409)
    assert "only one" in e.problems[0].en and "revokes" in e.problems[0].en
    refused(
        lambda: verification.verify_in_person(
            world.users["community_worker"],
            second,
            world.owner_a,
            world.dwelling_a,
            document_kind="id_card",
            document_number=ID_A,
            seen=True,
        ),
        "owner_taken",
    )
    refused(lambda: verification.start_sms(first, world.dwelling_a, ID_A), "already_verified")
    assert state() == before


def test_one_active_account_per_owner_is_a_database_constraint(world):
    f.owner_account(world.users["resident"], world.owner_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        OwnerAccount.objects.create(user=neighbour(world), person=world.owner_a, method="sms", verified_at=clock.now())


def test_a_second_account_cannot_claim_the_owner_while_the_code_is_out(world):
    """Both start before either confirms: the second confirmation is refused."""
    first, second = world.users["resident"], neighbour(world)
    a = verification.start_sms(first, world.dwelling_a, ID_A)
    code_a = sent_code()
    later(61)
    b = verification.start_sms(second, world.dwelling_a, ID_A)
    code_b = sent_code()
    verification.confirm_sms(second, b.pk, code_b)
    refused(lambda: verification.confirm_sms(first, a.pk, code_a), "owner_taken")
    assert OwnerAccount.objects.get().user == second


def test_one_account_stands_for_one_natural_person(world):
    user = world.users["resident"]
    f.owner_account(user, world.owner_b)
    before = state()
    refused(lambda: verification.start_sms(user, world.dwelling_a, ID_A), "account_taken")
    assert state() == before


# --- in person -------------------------------------------------------------------------------------


def in_person(world: Any, worker: Any, account: Any, **kw: Any) -> OwnerAccount:
    args = {"document_kind": "id_card", "document_number": ID_A, "seen": True, "note": ""}
    args.update(kw)
    return verification.verify_in_person(worker, account, world.owner_a, world.dwelling_a, **args)


def test_worker_verifies_in_person_with_the_document_seen(world):
    worker = world.users["grid_fulltime"]  # VISIT at the owner's grid
    account = f.UserFactory(username="zhang-san")  # no role at all yet
    row = in_person(world, worker, account, note="身份证原件已核对")
    assert (row.method, row.verified_by, row.document_kind) == ("in_person", worker, "id_card")
    assert row.document_masked == "1101**********0011" and ID_A not in str(row.__dict__)
    # the verified account now sees the owner's dwelling (as a resident grant would)
    forget_grants(account)
    assert can(account, Action.VIEW, world.dwelling_a) and not can(account, Action.VIEW, world.dwelling_b)


@pytest.mark.parametrize(
    "case,code",
    [
        ("no_kind", "document_kind"),
        ("not_seen", "document_not_seen"),
        ("no_number", "document_number"),
        ("id_card_mismatch", "document_mismatch"),
        ("own_account", "self_verify"),
        ("staff_account", "staff_account"),
        ("street_staff_account", "staff_account"),
        ("not_an_owner", "not_an_owner"),
    ],
)
def test_in_person_refusals_write_nothing(world, case, code):
    worker = world.users["community_worker"]
    account = f.UserFactory(username="zhang-san")
    before = state()
    calls = {
        "no_kind": lambda: in_person(world, worker, account, document_kind=""),
        "not_seen": lambda: in_person(world, worker, account, seen=False),
        "no_number": lambda: in_person(world, worker, account, document_number="  "),
        "id_card_mismatch": lambda: in_person(world, worker, account, document_number=ID_B),
        # staff can never make their own account an owner's …
        "own_account": lambda: in_person(world, worker, worker),
        # … nor any account holding a staff role (here another worker's)
        "staff_account": lambda: in_person(world, worker, world.users["grid_leader"]),
        "street_staff_account": lambda: in_person(world, worker, world.users["street_command"]),
        "not_an_owner": lambda: verification.verify_in_person(
            worker, account, world.owner_b, world.dwelling_a, document_kind="id_card", document_number=ID_B, seen=True
        ),
    }
    refused(calls[case], code)
    assert state() == before


def test_other_documents_are_kept_masked(world):
    row = in_person(
        world,
        world.users["community_worker"],
        f.UserFactory(username="zs"),
        document_kind="passport",
        document_number="E12345678",
    )
    assert row.document_kind == "passport" and row.document_masked == "E123*5678"


def test_who_may_verify_in_person(world):
    account = f.UserFactory(username="zhang-san")
    for role in ("grid_force", "department_staff", "operator", "resident"):  # see it, may not verify
        with pytest.raises(PermissionDenied):
            in_person(world, world.users[role], account)
    with pytest.raises(Http404):
        in_person(world, world.outsider, account)
    assert not OwnerAccount.objects.exists()
    assert in_person(world, world.users["street_command"], account).verified_by == world.users["street_command"]


def test_revoke_needs_a_reason_and_keeps_the_record(world):
    worker = world.users["community_worker"]
    account = f.UserFactory(username="zhang-san")
    row = in_person(world, worker, account)
    before = state()
    refused(lambda: verification.revoke(worker, row, " "), "revoke_reason")
    with pytest.raises(PermissionDenied):
        verification.revoke(world.users["grid_force"], row, "不是本人")
    assert state() == before
    done = verification.revoke(worker, row, "业主报告账号不是本人")
    assert done.revoked_by == worker and done.revoke_reason == "业主报告账号不是本人"
    assert queries.voting_person_ids(account) == set()
    forget_grants(account)
    assert not can(account, Action.VIEW, world.dwelling_a)
    refused(lambda: verification.revoke(worker, row, "again"), "already_revoked", 409)
    # the owner can now verify another account
    assert in_person(world, worker, f.UserFactory(username="zs-new")).person == world.owner_a
    assert OwnerAccount.objects.filter(person=world.owner_a).count() == 2


def test_staff_member_who_is_an_owner_may_verify_by_sms(world):
    """Decided (docs/ballots.md): a worker who really owns a dwelling verifies by ID number and the
    code sent to the owner's phone on record, like any owner; the roll shows the staff role."""
    worker = world.users["community_worker"]
    row = verification.start_sms(worker, world.dwelling_a, ID_A)
    account = verification.confirm_sms(worker, row.pk, sent_code())
    assert account.method == "sms" and queries.staff_user_ids({worker.pk}) == {worker.pk}


# --- pages -------------------------------------------------------------------------------------------


def test_self_service_pages(world, client_for):
    user = world.users["resident"]
    c = client_for(user)
    me = c.get(reverse("accounts:me")).content.decode()
    assert reverse("accounts:owner_verify") in me
    page = c.get(reverse("accounts:owner_verify")).content.decode()
    assert f"?dwelling={world.dwelling_a.pk}" in page  # one's own dwellings to choose from
    url = reverse("accounts:owner_verify") + f"?dwelling={world.dwelling_a.pk}"
    page = c.get(url).content.decode()
    assert 'name="id_number"' in page and 'autocomplete="off"' in page
    back = reverse("places:home")
    r = c.post(reverse("accounts:owner_verify"), {"dwelling": world.dwelling_a.pk, "id_number": ID_B, "next": back})
    body = r.content.decode()
    assert r.status_code == 400 and "身份证号与该房屋登记的业主不符" in body and "does not match" not in body
    assert ID_B not in body and not OwnerCode.objects.exists()
    r = c.post(reverse("accounts:owner_verify"), {"dwelling": world.dwelling_a.pk, "id_number": ID_A, "next": back})
    challenge = OwnerCode.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("accounts:owner_verify_code", args=[challenge.pk])
    page = c.get(r["Location"]).content.decode()
    assert "138****8000" in page and "13800138000" not in page and 'autocomplete="one-time-code"' in page
    r = c.post(r["Location"], {"code": "12345"})
    assert r.status_code == 400 and "6位数字验证码" in r.content.decode() and "6-digit" not in r.content.decode()
    r = c.post(reverse("accounts:owner_verify_code", args=[challenge.pk]), {"code": sent_code()})
    assert r.status_code == 302 and r["Location"] == back
    me = c.get(reverse("accounts:me")).content.decode()
    assert "张三" in me and 'data-testid="my-owner-accounts"' in me


def test_next_is_only_a_local_address(world, client_for):
    c = client_for(world.users["resident"])
    c.post(
        reverse("accounts:owner_verify"),
        {"dwelling": world.dwelling_a.pk, "id_number": ID_A, "next": "https://evil.example/"},
    )
    challenge = OwnerCode.objects.get()
    r = c.post(reverse("accounts:owner_verify_code", args=[challenge.pk]), {"code": sent_code()})
    assert r["Location"] == reverse("accounts:me")


def test_worker_page_verify_in_person_and_revoke_asks_first(world, client_for):
    worker = world.users["community_worker"]
    account = f.UserFactory(username="zhang-san")
    c = client_for(worker)
    url = reverse("accounts:owner_dwelling", args=[world.dwelling_a.pk])
    page = c.get(url).content.decode()
    assert "张三" in page and "1101**********0011" in page and ID_A not in page and "13800138000" not in page
    post = reverse("accounts:owner_in_person", args=[world.dwelling_a.pk])
    form = {"person": world.owner_a.pk, "username": "zhang-san", "document_kind": "id_card", "document_number": ID_A}
    r = c.post(post, form)  # the box "I have seen the original" is not ticked
    assert r.status_code == 400 and "原件" in r.content.decode() and ID_A not in r.content.decode()
    assert "original document" not in r.content.decode()  # a Chinese page speaks Chinese only
    c.cookies["django_language"] = "en"
    r = c.post(post, form)
    assert r.status_code == 400 and "original document" in r.content.decode() and "原件" not in r.content.decode()
    c.cookies["django_language"] = "zh-hans"
    assert not OwnerAccount.objects.exists()
    r = c.post(post, {**form, "username": worker.username, "seen": "1"})
    assert (
        r.status_code == 403
        and "不能为自己的账号核验" in r.content.decode()
        and "own account" not in r.content.decode()
    )
    r = c.post(post, {**form, "seen": "1", "note": "原件已核对"})
    assert r.status_code == 302
    row = OwnerAccount.objects.get()
    assert (row.user, row.verified_by) == (account, worker)
    page = c.get(url).content.decode()
    assert "zhang-san" in page and worker.username in page
    revoke = reverse("accounts:owner_revoke", args=[row.pk])
    r = c.post(revoke, {"reason": "业主要求更换账号", "dwelling": world.dwelling_a.pk})
    body = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in body and "zhang-san" in body
    row.refresh_from_db()
    assert row.revoked_at is None  # asked, nothing done
    r = c.post(revoke, {"reason": "", "dwelling": world.dwelling_a.pk})
    assert r.status_code == 400 and "撤销在线投票账号须写明理由" in r.content.decode()
    r = c.post(revoke, {"reason": "业主要求更换账号", "dwelling": world.dwelling_a.pk, "confirm": "1"})
    assert r.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None and row.revoke_reason == "业主要求更换账号"


def test_worker_unlocks_from_the_page(world, client_for):
    user = world.users["resident"]
    row = verification.start_sms(user, world.dwelling_a, ID_A)
    for _ in range(5):
        with pytest.raises(LinliError):
            verification.confirm_sms(user, row.pk, "999999" if sent_code() != "999999" else "888888")
    c = client_for(world.users["grid_leader"])
    page = c.get(reverse("accounts:owner_dwelling", args=[world.dwelling_a.pk])).content.decode()
    assert 'data-testid="locked"' in page
    r = c.post(reverse("accounts:owner_unlock", args=[world.dwelling_a.pk]), {"person": world.owner_a.pk})
    assert r.status_code == 302 and not verification.is_locked(person=world.owner_a)


# Who reaches the worker's page for dwelling_a / dwelling_b (plain terms): CONSULT or VISIT there → 200;
# sees the dwelling without them → 403; does not see it → 404.
WORKS_AT = {
    "district_admin": {"a", "b"},
    "street_command": {"a", "b"},
    "community_worker": {"a"},
    "grid_leader": {"a"},
    "grid_fulltime": {"a"},
    "grid_parttime": {"a"},
    "grid_instructor": {"a"},
    "outsider": {"b"},
}
SEES = {
    "grid_force": {"a"},
    "department_staff": {"a", "b"},
    "resident": {"a"},
    "operator": {"a"},
}


def test_verification_page_matrix(world, client_for):
    dwellings = {"a": world.dwelling_a, "b": world.dwelling_b}
    owners = {"a": world.owner_a, "b": world.owner_b}
    failures = []
    for role, user in {**world.users, "outsider": world.outsider}.items():
        c = client_for(user)
        if c.get(reverse("accounts:owner_verify")).status_code != 200:
            failures.append(f"{role} verify page")
        for where, d in dwellings.items():
            works = where in WORKS_AT.get(role, set())
            sees = works or where in SEES.get(role, set())
            expected = 200 if works else 403 if sees else 404
            r = c.get(reverse("accounts:owner_dwelling", args=[d.pk]))
            if r.status_code != expected:
                failures.append(f"{role} owner page {where} → {r.status_code}, expected {expected}")
            r = c.get(reverse("accounts:owner_verify") + f"?dwelling={d.pk}")
            if r.status_code != (200 if sees else 404):
                failures.append(f"{role} verify {where} → {r.status_code}")
            if not works:
                for name in ("accounts:owner_in_person", "accounts:owner_unlock"):
                    r = c.post(reverse(name, args=[d.pk]), {"person": owners[where].pk, "username": "x"})
                    if r.status_code != (403 if sees else 404):
                        failures.append(f"{role} {name} {where} → {r.status_code}")
    # someone else's code page, and revoking without the right
    row = verification.start_sms(world.users["resident"], world.dwelling_a, ID_A)
    acc = f.owner_account(f.UserFactory(username="zs"), world.owner_a)
    for role, user in {**world.users, "outsider": world.outsider}.items():
        c = client_for(user)
        if role != "resident" and c.get(reverse("accounts:owner_verify_code", args=[row.pk])).status_code != 404:
            failures.append(f"{role} sees another's code page")
        r = c.post(reverse("accounts:owner_revoke", args=[acc.pk]), {"reason": "test"})
        works = "a" in WORKS_AT.get(role, set())
        sees = works or "a" in SEES.get(role, set())
        if not works and r.status_code != (403 if sees else 404):
            failures.append(f"{role} revoke → {r.status_code}")
    assert OwnerAccount.objects.get(pk=acc.pk).revoked_at is None
    assert not failures, "\n".join(failures)


# --- API -----------------------------------------------------------------------------------------


def test_self_service_through_the_api(world, client_for):
    c = client_for(world.users["resident"])
    r = c.post(
        "/api/v1/owner-verification/start/",
        {"dwelling": world.dwelling_a.pk, "id_number": ID_B},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "id_mismatch"
    assert {"zh", "en"} <= set(r.json()["errors"][0])
    r = c.post(
        "/api/v1/owner-verification/start/",
        {"dwelling": world.dwelling_a.pk, "id_number": ID_A},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["phone_masked"] == "138****8000"
    challenge = r.json()["challenge"]
    r = c.post(
        "/api/v1/owner-verification/confirm/",
        {"challenge": challenge, "code": sent_code()},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["method"] == "sms" and r.json()["person_name"] == "张三"
    r = c.post(
        "/api/v1/owner-verification/confirm/",
        {"challenge": challenge, "code": sent_code()},
        content_type="application/json",
    )
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "code_used"
    listed = c.get("/api/v1/owner-accounts/").json()["results"]
    assert [row["username"] for row in listed] == [world.users["resident"].username]


def test_owner_account_api_matrix(world, client_for):
    acc = f.owner_account(f.UserFactory(username="zs"), world.owner_a, by=world.users["community_worker"])
    failures = []
    for role, user in {**world.users, "outsider": world.outsider}.items():
        c = client_for(user)
        listed = {row["id"] for row in c.get("/api/v1/owner-accounts/").json()["results"]}
        works = "a" in WORKS_AT.get(role, set())
        if (acc.pk in listed) != works:
            failures.append(f"{role} list: {'shown' if acc.pk in listed else 'hidden'}")
        if not works:
            r = c.post(f"/api/v1/owner-accounts/{acc.pk}/revoke/", {"reason": "x y"}, content_type="application/json")
            sees = "a" in SEES.get(role, set())
            if r.status_code != (403 if sees else 404):
                failures.append(f"{role} revoke → {r.status_code}")
    assert not failures, "\n".join(failures)
    staff = client_for(world.users["grid_leader"])
    r = staff.post(f"/api/v1/owner-accounts/{acc.pk}/revoke/", {"reason": "不是本人"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["revoked_by"] == "grid_leader"
    payload = {
        "username": "zs",
        "person": world.owner_a.pk,
        "dwelling": world.dwelling_a.pk,
        "document_kind": "id_card",
        "document_number": ID_A,
        "document_seen": False,
    }
    r = staff.post("/api/v1/owner-accounts/", payload, content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "document_not_seen"
    r = staff.post(
        "/api/v1/owner-accounts/",
        {**payload, "username": "grid_leader", "document_seen": True},
        content_type="application/json",
    )
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "self_verify"
    r = staff.post("/api/v1/owner-accounts/", {**payload, "document_seen": True}, content_type="application/json")
    assert r.status_code == 201 and r.json()["verified_by"] == "grid_leader" and ID_A not in r.content.decode()


def test_a_refusing_sms_gateway_writes_nothing(settings, world):
    settings.LINLI_SMS_BACKEND = "tests.core.test_sms.Refusing"
    before = state()
    with pytest.raises(LinliError) as exc:
        verification.start_sms(world.users["resident"], world.dwelling_a, ID_A)
    assert exc.value.problems[0].code == "sms_failed" and exc.value.status == 503
    assert state() == before
