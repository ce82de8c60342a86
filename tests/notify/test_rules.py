"""The pure rules of notifications: channels per kind, quiet hours, backoff (no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from linli.notify import rules


def test_a_kind_takes_the_default_until_the_person_chooses() -> None:
    assert rules.channels_for(rules.BALLOT_OPENED, None) == (rules.WECHAT,)
    assert rules.channels_for(rules.BALLOT_OPENED, {}) == (rules.WECHAT,)
    assert rules.channels_for(rules.BALLOT_OPENED, {rules.BALLOT_OPENED: [rules.SMS]}) == (rules.SMS,)
    assert rules.channels_for(rules.BALLOT_OPENED, {rules.BALLOT_OPENED: []}) == ()


def test_urgent_always_goes_by_sms_whatever_was_chosen() -> None:
    assert rules.channels_for(rules.URGENT, {rules.URGENT: []}) == (rules.SMS,)
    assert rules.channels_for(rules.URGENT, {rules.URGENT: [rules.WECHAT]}) == (rules.SMS, rules.WECHAT)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 5, 1, hour, minute, tzinfo=UTC)


def test_quiet_hours_over_midnight() -> None:
    start, end = time(22, 0), time(7, 0)
    assert rules.in_quiet_hours(at(23), start, end)
    assert rules.in_quiet_hours(at(6, 59), start, end)
    assert not rules.in_quiet_hours(at(7), start, end)
    assert not rules.in_quiet_hours(at(12), start, end)
    assert rules.release_at(at(23), start, end) == at(7) + timedelta(days=1)
    assert rules.release_at(at(3), start, end) == at(7)
    assert rules.release_at(at(12), start, end) is None


def test_quiet_hours_within_a_day_and_none() -> None:
    assert rules.in_quiet_hours(at(13), time(12), time(14))
    assert not rules.in_quiet_hours(at(14), time(12), time(14))
    assert rules.release_at(at(13, 30), time(12), time(14)) == at(14)
    assert not rules.in_quiet_hours(at(13), None, None)
    assert not rules.in_quiet_hours(at(13), time(8), time(8))


def test_quiet_hours_against_a_naive_minute_walk() -> None:
    """Every minute of a day, for several windows: in_quiet_hours agrees with walking the window."""
    for start, end in [
        (time(22), time(7)),
        (time(0), time(6, 30)),
        (time(12, 15), time(13, 45)),
        (time(23, 59), time(0)),
    ]:
        quiet = set()
        m = start.hour * 60 + start.minute
        stop = end.hour * 60 + end.minute
        while m != stop:
            quiet.add(m)
            m = (m + 1) % 1440
        for minute in range(1440):
            t = at(minute // 60, minute % 60)
            assert rules.in_quiet_hours(t, start, end) == (minute in quiet), (start, end, minute)
            release = rules.release_at(t, start, end)
            assert (release is not None) == (minute in quiet)
            if release is not None:
                assert release > t and release.time() == end and release - t <= timedelta(days=1)


def test_backoff_doubles_and_is_capped() -> None:
    waits = [rules.backoff(n) for n in range(1, 12)]
    assert waits[:4] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert all(a <= b for a, b in itertools.pairwise(waits))
    assert waits[-1] == timedelta(seconds=rules.BACKOFF_CAP_SECONDS)


def test_clip() -> None:
    assert rules.clip("短", 20) == "短"
    assert rules.clip("一" * 25, 20) == "一" * 19 + "…"
    assert len(rules.clip("x" * 100, 20)) == 20


def test_every_kind_has_a_default_and_one_place_on_the_preferences_page() -> None:
    assert set(rules.DEFAULTS) == set(rules.KINDS)
    grouped = [kind for _topic, kinds in rules.GROUPS for kind in kinds]
    assert sorted(grouped) == sorted(rules.KINDS) and len(grouped) == len(set(grouped))
    assert all(len(kind) <= 20 for kind in rules.KINDS)  # Notification.kind's column


def test_jobs_kinds_go_by_wechat_and_only_an_interview_by_sms() -> None:
    jobs = dict(rules.GROUPS)["jobs"]
    assert [k for k in jobs if rules.SMS in rules.channels_for(k, None)] == [rules.JOB_INTERVIEW]
    assert all(rules.channels_for(k, None)[-1] == rules.WECHAT for k in jobs)
