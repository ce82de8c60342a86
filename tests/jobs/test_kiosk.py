"""The kiosk's services (issue 14 §5, linli/jobs/services/kiosk.py): the ID number's checks, sign-in
codes (hash and salt, 5-minute life, used once, resend limits), the lock after five wrong codes
counted across codes, registration with a proven phone, and the kiosk's application."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linli.core import clock
from linli.core.errors import LinliError
from linli.core.sms import LocmemBackend
from linli.jobs.models import Application, Posting, Seeker, SeekerCode
from linli.jobs.queries import kiosk as q
from linli.jobs.services import kiosk as svc
from tests.jobs.conftest import make_posting

T0 = datetime(2026, 3, 2, 2, 0, 0, tzinfo=UTC)
ID = "110101199003070011"  # the findable seeker's (tests/jobs/conftest.py)
NEW_ID = "11010119800101007X"


@pytest.fixture(autouse=True)
def _outbox() -> Any:
    LocmemBackend.outbox.clear()
    yield
    LocmemBackend.outbox.clear()


def last_code() -> str:
    match = re.search(r"\b(\d{6})\b", LocmemBackend.outbox[-1][1])
    assert match
    return match.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def code_of(exc: pytest.ExceptionInfo[LinliError]) -> str:
    return exc.value.problems[0].code


def test_the_id_number_is_checked_plainly() -> None:
    assert svc.check_id(" 11010119900307001 1 ") == ID
    assert svc.check_id("11010119800101007x") == NEW_ID
    for bad, code in (("", "id_required"), ("1101011990", "id_length"), ("11010X199003070011", "id_length")):
        with pytest.raises(LinliError) as exc:
            svc.check_id(bad)
        assert code_of(exc) == code
    with pytest.raises(LinliError) as exc:
        svc.check_id("110101199003070012")  # the check digit does not match
    assert code_of(exc) == "id_checksum" and "校验码" in exc.value.problems[0].zh


def test_find_by_id_number(jobs: Any) -> None:
    assert q.find(ID) == jobs.seeker
    assert q.find(NEW_ID) is None


def test_a_code_goes_to_the_phone_on_record_hashed_and_used_once(jobs: Any) -> None:
    with clock.frozen(T0):
        row = svc.send_code(jobs.seeker)
        phone, text = LocmemBackend.outbox[-1]
        assert phone == "13700137000" and "5 分钟" in text
        code = last_code()
        assert code not in (row.code_hash, row.salt) and len(row.salt) == 32
        assert row.expires_at == T0 + timedelta(minutes=5)
        assert svc.confirm(jobs.seeker.pk, code) == jobs.seeker
        row.refresh_from_db()
        assert row.used_at == T0
        with pytest.raises(LinliError) as exc:
            svc.confirm(jobs.seeker.pk, code)
        assert code_of(exc) == "code_used" and exc.value.status == 409


def test_a_code_expires_after_five_minutes(jobs: Any) -> None:
    with clock.frozen(T0):
        svc.send_code(jobs.seeker)
    code = last_code()
    with clock.frozen(T0 + timedelta(seconds=300)), pytest.raises(LinliError) as exc:
        svc.confirm(jobs.seeker.pk, code)
    assert code_of(exc) == "code_expired" and exc.value.status == 410
    assert SeekerCode.objects.get().used_at is None


def test_resend_waits_a_minute_and_the_new_code_replaces_the_old(jobs: Any) -> None:
    with clock.frozen(T0):
        svc.send_code(jobs.seeker)
    first = last_code()
    with clock.frozen(T0 + timedelta(seconds=30)), pytest.raises(LinliError) as exc:
        svc.send_code(jobs.seeker)
    assert code_of(exc) == "code_wait" and exc.value.status == 429 and "30 秒" in exc.value.problems[0].zh
    assert len(LocmemBackend.outbox) == 1
    with clock.frozen(T0 + timedelta(seconds=60)):
        svc.send_code(jobs.seeker)
        second = last_code()
        if first != second:
            with pytest.raises(LinliError) as exc:
                svc.confirm(jobs.seeker.pk, first)
            assert code_of(exc) == "code_wrong"
        assert svc.confirm(jobs.seeker.pk, second) == jobs.seeker


def test_at_most_five_codes_an_hour(jobs: Any) -> None:
    for i in range(5):
        with clock.frozen(T0 + timedelta(minutes=i)):
            svc.send_code(jobs.seeker)
    with clock.frozen(T0 + timedelta(minutes=5)), pytest.raises(LinliError) as exc:
        svc.send_code(jobs.seeker)
    assert code_of(exc) == "code_hourly"
    with clock.frozen(T0 + timedelta(minutes=61)):
        svc.send_code(jobs.seeker)


def test_the_fifth_wrong_code_locks_the_sign_in_for_fifteen_minutes(jobs: Any) -> None:
    with clock.frozen(T0):
        svc.send_code(jobs.seeker)
        code = last_code()
        for left in (4, 3, 2, 1):
            with pytest.raises(LinliError) as exc:
                svc.confirm(jobs.seeker.pk, wrong(code))
            assert code_of(exc) == "code_wrong" and f"还可以再试 {left} 次" in exc.value.problems[0].zh
        with pytest.raises(LinliError) as exc:
            svc.confirm(jobs.seeker.pk, wrong(code))
        assert code_of(exc) == "kiosk_locked" and exc.value.status == 423
        assert "15 分钟" in exc.value.problems[0].zh and "15 min" in exc.value.problems[0].en
        assert SeekerCode.objects.get().failures == 5  # kept though refused
        # locked: even the right code is refused, and no new code goes out
        with pytest.raises(LinliError) as exc:
            svc.confirm(jobs.seeker.pk, code)
        assert code_of(exc) == "kiosk_locked"
    with clock.frozen(T0 + timedelta(minutes=14, seconds=59)), pytest.raises(LinliError) as exc:
        svc.send_code(jobs.seeker)
    assert code_of(exc) == "kiosk_locked" and "1 分钟" in exc.value.problems[0].zh
    assert len(LocmemBackend.outbox) == 1
    # nothing else changed: the seeker's row is as it was
    seeker = Seeker.objects.get(pk=jobs.seeker.pk)
    assert (seeker.name, seeker.phone_hash, seeker.status) == (jobs.seeker.name, jobs.seeker.phone_hash, "seeking")
    with clock.frozen(T0 + timedelta(minutes=15)):
        assert svc.locked_until(jobs.seeker) is None
        svc.send_code(jobs.seeker)
        fresh = last_code()
        with pytest.raises(LinliError) as exc:  # the count starts again after a lock
            svc.confirm(jobs.seeker.pk, wrong(fresh))
        assert "还可以再试 4 次" in exc.value.problems[0].zh
        assert svc.confirm(jobs.seeker.pk, fresh) == jobs.seeker


def test_wrong_codes_count_across_codes_and_a_right_one_resets(jobs: Any) -> None:
    with clock.frozen(T0):
        svc.send_code(jobs.seeker)
        for _ in range(3):
            with pytest.raises(LinliError):
                svc.confirm(jobs.seeker.pk, wrong(last_code()))
    with clock.frozen(T0 + timedelta(minutes=1)):
        svc.send_code(jobs.seeker)
        with pytest.raises(LinliError) as exc:
            svc.confirm(jobs.seeker.pk, wrong(last_code()))
        assert "还可以再试 1 次" in exc.value.problems[0].zh
        with pytest.raises(LinliError) as exc:
            svc.confirm(jobs.seeker.pk, wrong(last_code()))
        assert code_of(exc) == "kiosk_locked"
        assert svc.locked_until(jobs.seeker) == T0 + timedelta(minutes=16)
    # another seeker is not affected
    assert svc.locked_until(jobs.hidden) is None


def test_a_right_code_starts_the_count_again(jobs: Any) -> None:
    with clock.frozen(T0):
        svc.send_code(jobs.seeker)
        for _ in range(4):
            with pytest.raises(LinliError):
                svc.confirm(jobs.seeker.pk, wrong(last_code()))
        svc.confirm(jobs.seeker.pk, last_code())
    with clock.frozen(T0 + timedelta(minutes=1)):
        svc.send_code(jobs.seeker)
        with pytest.raises(LinliError) as exc:
            svc.confirm(jobs.seeker.pk, wrong(last_code()))
        assert "还可以再试 4 次" in exc.value.problems[0].zh


def test_lock_end_rule() -> None:
    lock = timedelta(minutes=15)
    row = svc.CodeRow
    t = T0
    assert svc.lock_end([], limit=5, lock=lock) is None
    assert svc.lock_end([row(t, t + lock, 4, None)], limit=5, lock=lock) is None
    assert svc.lock_end([row(t, t + timedelta(minutes=2), 5, None)], limit=5, lock=lock) == t + timedelta(minutes=17)
    rows = [row(t, t, 3, None), row(t, t + timedelta(minutes=1), 1, t), row(t, t + timedelta(minutes=3), 4, None)]
    assert svc.lock_end(rows, limit=5, lock=lock) is None  # a right code in between


def test_a_code_is_six_digits(jobs: Any) -> None:
    for bad in ("", "12345", "1234567", "12a456"):
        with pytest.raises(LinliError) as exc:
            svc.confirm(jobs.seeker.pk, bad)
        assert code_of(exc) == "code_format"
    assert not SeekerCode.objects.exists()


def test_no_phone_no_code(jobs: Any) -> None:
    jobs.seeker.set_phone("")
    jobs.seeker.save()
    with pytest.raises(LinliError) as exc:
        svc.send_code(jobs.seeker)
    assert code_of(exc) == "no_phone" and not SeekerCode.objects.exists()


# --- registration ------------------------------------------------------------------------------------


def test_registration_proves_the_phone_then_registers_at_the_kiosk(jobs: Any, world: Any) -> None:
    with clock.frozen(T0):
        pending = svc.send_registration_code(NEW_ID, "13912345678")
        assert LocmemBackend.outbox[-1][0] == "13912345678"
        code = last_code()
        assert code not in str(pending)
        with pytest.raises(LinliError) as exc:
            svc.register(pending, id_number=NEW_ID, name="李阿姨", phone="13912345678", street=world.street1, skills=[])
        assert code_of(exc) == "phone_unverified"
        with pytest.raises(svc.WrongCode) as wrong_exc:
            svc.check_registration_code(pending, wrong(code))
        pending = wrong_exc.value.pending
        assert pending["failures"] == 1
        pending = svc.check_registration_code(pending, code)
        assert pending["verified"]
        with pytest.raises(LinliError) as exc:
            svc.register(pending, id_number=NEW_ID, name="李阿姨", phone="13912345678", street=world.street1, skills=[])
        assert code_of(exc) == "skills_required"
        seeker = svc.register(
            pending,
            id_number=NEW_ID,
            name="李阿姨",
            phone="13912345678",
            street=world.street1,
            skills=["4-10-01-06", "4-09-08-01"],
        )
    assert seeker.source == Seeker.Source.KIOSK and seeker.user_id is None and seeker.street == world.street1
    assert seeker.id_number_masked.startswith("1101") and NEW_ID not in seeker.id_number_enc
    assert set(seeker.skills.values_list("code", flat=True)) == {"4-10-01-06", "4-09-08-01"}
    assert q.find(NEW_ID) == seeker


def test_registration_is_refused_for_a_known_id_and_limited(jobs: Any) -> None:
    with pytest.raises(LinliError) as exc:
        svc.send_registration_code(ID, "13912345678")
    assert code_of(exc) == "id_registered" and not LocmemBackend.outbox
    with clock.frozen(T0):
        svc.send_registration_code(NEW_ID, "13912345678")
        with pytest.raises(LinliError) as exc:
            svc.send_registration_code(NEW_ID, "13912345679")  # the same ID within a minute
        assert code_of(exc) == "code_wait"
    assert len(LocmemBackend.outbox) == 1


def test_five_wrong_registration_codes_kill_it(jobs: Any) -> None:
    with clock.frozen(T0):
        pending = svc.send_registration_code(NEW_ID, "13912345678")
        code = last_code()
        for _ in range(5):
            with pytest.raises(svc.WrongCode) as exc:
                svc.check_registration_code(pending, wrong(code))
            pending = exc.value.pending
        assert exc.value.status == 423
        with pytest.raises(LinliError) as dead:
            svc.check_registration_code(pending, code)
        assert code_of(dead) == "reg_code_dead"
    with clock.frozen(T0 + timedelta(minutes=6)), pytest.raises(LinliError) as late:
        svc.check_registration_code({**pending, "failures": 0}, code)
    assert code_of(late) == "code_expired"


def test_sealed_session_data_is_encrypted() -> None:
    token = svc.seal({"id_number": NEW_ID, "phone": "13912345678"})
    assert NEW_ID not in token and "13912345678" not in token
    assert svc.unseal(token) == {"id_number": NEW_ID, "phone": "13912345678"}
    assert svc.unseal("garbage") == {} and svc.unseal("") == {}


# --- applying ------------------------------------------------------------------------------------------


def test_apply_from_the_kiosk_with_a_cv_from_taps(jobs: Any) -> None:
    taps = svc.cv_taps(skills=["6-18-01-01", "6-18-01-08"], years="3-10", hours=40)
    assert svc.preview(jobs.seeker, taps)["experience_years"] == 3
    app = svc.apply(jobs.seeker, jobs.posting.pk, taps)
    assert app.channel == Application.Channel.KIOSK and app.status == Application.Status.APPLIED
    assert [s["code"] for s in app.cv["skills"]] == ["6-18-01-01", "6-18-01-08"] and app.cv["hours"] == 40
    assert app.steps.get().side == "seeker" and app.steps.get().actor is None
    with pytest.raises(svc.AlreadyApplied) as exc:
        svc.apply(jobs.seeker, jobs.posting.pk, taps)
    assert exc.value.status == 409 and exc.value.application == app and app.number in exc.value.problems[0].zh
    assert Application.objects.count() == 1


def test_bad_taps_and_a_closed_job_are_refused(jobs: Any) -> None:
    for kw, code in (
        ({"skills": [], "years": "0", "hours": 40}, "skills_required"),
        ({"skills": ["6-18-01-01"], "years": "99", "hours": 40}, "years_invalid"),
        ({"skills": ["6-18-01-01"], "years": "0", "hours": 41}, "hours_invalid"),
    ):
        with pytest.raises(LinliError) as exc:
            svc.cv_taps(**kw)  # type: ignore[arg-type]
        assert code_of(exc) == code
    closed = make_posting(jobs.employer, "已截止的岗位", ["6-18-01-01"], closes_on=clock.today() - timedelta(days=1))
    draft = make_posting(jobs.employer, "草稿岗位", ["6-18-01-01"], status=Posting.Status.DRAFT)
    taps = svc.cv_taps(skills=["6-18-01-01"], years="0", hours=40)
    for posting in (closed, draft):
        with pytest.raises(LinliError) as exc:
            svc.apply(jobs.seeker, posting.pk, taps)
        assert code_of(exc) == "posting_closed" and exc.value.status == 410
    assert not Application.objects.exists()


def test_nearby_ranks_matches_first_then_the_rest_by_distance(jobs: Any) -> None:
    cook = make_posting(jobs.employer, "厨师", ["4-03-02-01"])
    far_cook = make_posting(jobs.employer, "远处的厨师", ["4-03-02-01"], lat=29.53 + 0.05)
    manufacturing = jobs.posting.category
    rows = q.nearby(jobs.seeker, manufacturing)
    assert [p for p, _d in rows] == [jobs.posting] and 500 < rows[0][1] < 700
    rows = q.nearby(jobs.seeker, cook.category)  # no skill of the seeker's: by distance
    assert [p for p, _d in rows] == [cook, far_cook]
