"""``linli.core.clock``: the one clock. Travel, freeze, ``LINLI_AS_OF``, ``as_of`` blocks, Django's
``timezone.now``, ``auto_now`` and sessions following it, and reset. Every test here leaves the clock
as it found it (``system_clock`` here, ``_run_clock`` in tests/conftest.py)."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linli.core import clock

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def system_clock(monkeypatch):
    """These tests start from the system clock, whatever LINLI_AS_OF the run was started with; the
    shared ``_run_clock`` fixture (tests/conftest.py) puts the run's clock back afterwards."""
    monkeypatch.delenv("LINLI_AS_OF", raising=False)
    clock.reset()
    yield
    clock.reset()


def close(a: datetime, b: datetime, seconds: float = 5.0) -> bool:
    return abs((a - b).total_seconds()) < seconds


def test_unshifted_clock_is_the_system_clock():
    assert not clock.shifted()
    assert close(clock.now(), datetime.now(UTC))
    assert clock.now().tzinfo is not None
    assert clock.today() == datetime.now(SHANGHAI).date()  # TIME_ZONE, not UTC


def test_travel_moves_now_and_today_and_keeps_running():
    clock.travel(date(2028, 2, 29))
    assert clock.shifted()
    first = clock.now()
    # a date is noon local time: no midnight edge on either side
    assert first.astimezone(SHANGHAI).replace(microsecond=0, second=0) == datetime(2028, 2, 29, 12, 0, tzinfo=SHANGHAI)
    assert clock.today() == date(2028, 2, 29)
    time.sleep(0.02)
    assert clock.now() > first  # still running
    clock.travel("2026-12-31T23:59:00+08:00")
    assert clock.today() == date(2026, 12, 31)
    clock.travel(datetime(2027, 1, 1, 0, 30))  # naive: local time
    assert clock.today() == date(2027, 1, 1) and clock.now().astimezone(SHANGHAI).hour == 0


def test_today_is_the_local_date_not_utc():
    # 2027-01-01 07:00 in Shanghai is still 2026-12-31 in UTC
    with clock.frozen(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)):
        assert clock.today() == date(2027, 1, 1)
        assert clock.now().date() == date(2026, 12, 31)


def test_frozen_stops_the_clock_and_nests():
    at = datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)
    with clock.frozen(at) as stopped:
        assert stopped == at
        assert clock.now() == at and clock.shifted()
        time.sleep(0.01)
        assert clock.now() == at
        with clock.frozen("2026-06-30"):
            assert clock.today() == date(2026, 6, 30)
        assert clock.now() == at  # the outer block's instant comes back
    assert not clock.shifted()
    assert close(clock.now(), datetime.now(UTC))


def test_frozen_gives_back_the_clock_after_an_error():
    with pytest.raises(RuntimeError), clock.frozen(date(2027, 3, 1)):
        raise RuntimeError("boom")
    assert not clock.shifted()


def test_as_of_runs_a_block_on_another_day_then_restores_a_travelled_clock():
    clock.travel(date(2026, 11, 30))
    with clock.as_of(date(2028, 2, 29)) as start:
        assert clock.today() == date(2028, 2, 29) and start.astimezone(SHANGHAI).hour == 12
        time.sleep(0.01)
        assert clock.now() > start  # running, not frozen
    assert clock.today() == date(2026, 11, 30)
    with clock.as_of(None):
        assert clock.today() == date(2026, 11, 30)
    with clock.as_of(date(2026, 11, 30)):  # today: the clock as it is
        assert clock.now().astimezone(SHANGHAI).hour == 12
    with pytest.raises(ValueError), clock.as_of(date(2027, 1, 1)):
        raise ValueError
    assert clock.today() == date(2026, 11, 30)


def test_as_of_inside_frozen_restores_the_frozen_instant():
    at = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
    with clock.frozen(at):
        with clock.as_of(date(2026, 6, 30)):
            assert clock.today() == date(2026, 6, 30)
        assert clock.now() == at


def test_reset_goes_back_to_the_system_clock():
    clock.travel(date(2030, 1, 1))
    clock.reset()
    assert not clock.shifted() and close(clock.now(), datetime.now(UTC))


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2028-02-29", date(2028, 2, 29)),
        (" 2026-12-31 ", date(2026, 12, 31)),
        ("2027-01-04T08:30:00+08:00", date(2027, 1, 4)),
        ("2027-03-01T01:00:00Z", date(2027, 3, 1)),
        ("2026-06-30T23:30:00", date(2026, 6, 30)),  # naive: local time
    ],
)
def test_linli_as_of_is_read_at_install(monkeypatch, text, day):
    monkeypatch.setenv("LINLI_AS_OF", text)
    clock.install()
    assert clock.shifted() and clock.today() == day


def test_linli_as_of_empty_leaves_the_system_clock(monkeypatch):
    monkeypatch.setenv("LINLI_AS_OF", "  ")
    clock.install()
    assert not clock.shifted()


@pytest.mark.parametrize("text", ["2027-02-29", "29/02/2028", "tomorrow", "2028-13-01"])
def test_linli_as_of_that_is_not_a_date_is_refused_by_name(monkeypatch, text):
    monkeypatch.setenv("LINLI_AS_OF", text)
    with pytest.raises(ValueError, match="LINLI_AS_OF"):
        clock.install()
    assert not clock.shifted()


def test_parse_day_for_command_options():
    assert clock.parse_day("2028-02-29") == date(2028, 2, 29)
    with pytest.raises(argparse.ArgumentTypeError, match="YYYY-MM-DD") as info:
        clock.parse_day("2027-02-29")
    assert "日期" in str(info.value)


def test_django_timezone_now_follows_the_clock():
    with clock.frozen(datetime(2027, 1, 4, 1, 2, 3, tzinfo=UTC)):
        assert timezone.now() == datetime(2027, 1, 4, 1, 2, 3, tzinfo=UTC)
        assert timezone.localdate() == date(2027, 1, 4)


@pytest.mark.django_db
def test_auto_now_and_auto_now_add_follow_the_clock():
    from tests import factories as f

    at = datetime(2028, 2, 29, 4, 0, tzinfo=UTC)
    with clock.frozen(at):
        district = f.DistrictFactory()
    district.refresh_from_db()
    assert district.created_at == at and district.updated_at == at
    later = datetime(2028, 3, 1, 4, 0, tzinfo=UTC)
    with clock.frozen(later):
        district.name = "改名"
        district.save()
    district.refresh_from_db()
    assert district.created_at == at and district.updated_at == later


@pytest.mark.django_db
def test_sessions_expire_by_the_clock(client, django_user_model):
    user = django_user_model.objects.create_user("clocked", password="a-long-test-password")
    with clock.frozen(datetime(2027, 1, 1, 1, 0, tzinfo=UTC)):
        client.force_login(user)
        assert client.get("/").status_code == 200
        assert client.session.get_expiry_date() == datetime(2027, 1, 1, 1, 0, tzinfo=UTC) + timedelta(
            seconds=client.session.get_expiry_age()
        )


def test_the_run_clock_fixture_puts_an_as_of_run_back(monkeypatch):
    """What ``_run_clock`` does after each test of a ``LINLI_AS_OF`` run."""
    from tests import conftest

    monkeypatch.setattr(conftest, "RUN_AS_OF", "2027-01-04")
    clock.travel(date(2030, 5, 5))
    conftest._back_to_the_run_clock()
    assert clock.today() == date(2027, 1, 4)
    monkeypatch.setattr(conftest, "RUN_AS_OF", "")
    conftest._back_to_the_run_clock()
    assert not clock.shifted()
