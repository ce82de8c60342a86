"""Services and tasks of notify: fan-out in bulk, channels by preference, quiet hours (clock set),
urgent cases, retries with backoff on a failing backend, the delivery log, reading one's own inbox."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from linli.core import clock
from linli.core.errors import LinliError
from linli.notify import rules, tasks
from linli.notify import services as svc
from linli.notify.models import Delivery, Notification, Preference
from tests.factories import UserFactory
from tests.notify.conftest import FailingSms

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 5, 6, 12, 0, tzinfo=SHANGHAI)
NIGHT = datetime(2026, 5, 6, 23, 30, tzinfo=SHANGHAI)


def reachable(user: Any, *, phone: str = "13800138000", openid: str = "o-abc123", **kw: Any) -> Preference:
    """The user's account gets a phone (accounts' own field); their preferences an openid and ``kw``."""
    user.set_phone(phone)
    user.save()
    svc.save_preferences(
        user,
        channels=kw.pop("channels", {}),
        quiet_start=kw.pop("quiet_start", None),
        quiet_end=kw.pop("quiet_end", None),
        wechat_openid=openid,
    )
    return Preference.objects.get(user=user)


def send(kind: str, users: list[Any], capture: Any, **kw: Any) -> None:
    with capture(execute=True):
        svc.notify(
            kind,
            [u.pk for u in users],
            title_zh=kw.pop("title_zh", "标题"),
            title_en="Title",
            body_zh="内容",
            body_en="Body",
            url="/governance/events/1/",
            ref="event:1",
            **kw,
        )


def test_nothing_is_written_before_the_callers_commit(db: Any, django_capture_on_commit_callbacks: Any) -> None:
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        svc.notify(rules.DISPATCHED, [user.pk], title_zh="派给你", title_en="Dispatched to you")
        assert Notification.objects.count() == 0
    assert len(callbacks) == 1
    callbacks[0]()
    assert Notification.objects.filter(user=user, kind=rules.DISPATCHED).count() == 1


def test_inbox_and_channels_follow_preferences(db: Any, outboxes: Any, django_capture_on_commit_callbacks: Any) -> None:
    sms_out, wx_out = outboxes
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    reachable(a)  # defaults: dispatched → SMS and WeChat
    reachable(b, channels={rules.DISPATCHED: [rules.WECHAT]})
    # c chose nothing and left no phone or openid: inbox only, the deliveries logged as skipped
    with clock.frozen(NOON):
        send(rules.DISPATCHED, [a, b, c, a], django_capture_on_commit_callbacks)
    assert Notification.objects.filter(kind=rules.DISPATCHED).count() == 3  # a once
    assert [p for p, _t in sms_out] == ["13800138000"]
    assert sms_out[0][1].startswith("【邻里】标题")
    assert len(wx_out) == 2
    openid, template, page, data = wx_out[0]
    assert (openid, template) == ("o-abc123", "tmpl-1")
    assert page.endswith("?url=/governance/events/1/")
    assert data["thing1"]["value"] == "标题" and data["time2"]["value"] == "2026-05-06 12:00"
    assert set(Delivery.objects.filter(notification__user=c).values_list("status", flat=True)) == {"skipped"}
    sent = Delivery.objects.filter(status="sent")
    assert sent.count() == 3 and all(d.attempts == 1 and d.sent_at == NOON for d in sent)


def test_english_speakers_get_english_texts(db: Any, outboxes: Any, django_capture_on_commit_callbacks: Any) -> None:
    user = UserFactory(preferred_language="en")
    reachable(user)
    send(rules.OVERDUE, [user], django_capture_on_commit_callbacks)
    assert outboxes[0][0][1] == "【邻里】Title Body"
    assert outboxes[1][0][3]["thing1"]["value"] == "Title"


def test_quiet_hours_hold_sms_and_wechat_but_not_the_inbox(
    db: Any, outboxes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sms_out, wx_out = outboxes
    user = UserFactory()
    reachable(user, quiet_start=time(22), quiet_end=time(7))
    with clock.frozen(NIGHT):
        send(rules.DISPATCHED, [user], django_capture_on_commit_callbacks)
        assert Notification.objects.filter(user=user).count() == 1  # the inbox at once
        assert sms_out == [] and wx_out == []
        held = Delivery.objects.filter(notification__user=user)
        morning = datetime(2026, 5, 7, 7, 0, tzinfo=SHANGHAI)
        assert {d.due_at for d in held} == {morning} and {d.status for d in held} == {"pending"}
        call_command("notify_sweep")  # still night: nothing due
        assert sms_out == []
    with clock.frozen(datetime(2026, 5, 7, 7, 1, tzinfo=SHANGHAI)):
        call_command("notify_sweep")
    assert len(sms_out) == 1 and len(wx_out) == 1


def test_urgent_cases_ignore_quiet_hours_and_opting_out(
    db: Any, outboxes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sms_out, _wx = outboxes
    user = UserFactory()
    reachable(user, channels={rules.URGENT: []}, quiet_start=time(22), quiet_end=time(7))
    with clock.frozen(NIGHT), django_capture_on_commit_callbacks(execute=True):
        svc.urgent_case(42, [user.pk], "有人遇险:3栋", "Someone in danger: building 3", "/governance/events/42/")
    n = Notification.objects.get(user=user)
    assert n.urgent and n.kind == rules.URGENT and n.ref == "event:42"
    assert len(sms_out) == 1 and "有人遇险" in sms_out[0][1]


def test_a_failing_channel_is_retried_with_backoff_then_given_up(
    db: Any, settings: Any, outboxes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LINLI_SMS_BACKEND = "tests.notify.conftest.FailingSms"
    FailingSms.calls = 0
    user = UserFactory()
    reachable(user, channels={rules.DISPATCHED: [rules.SMS]})
    with clock.frozen(NOON):
        send(rules.DISPATCHED, [user], django_capture_on_commit_callbacks)
    d = Delivery.objects.get(notification__user=user, channel=rules.SMS)
    assert (d.status, d.attempts, d.due_at) == ("pending", 1, NOON + timedelta(minutes=1))
    assert d.last_error.startswith("SmsError: gateway said no") and "13800138000" not in d.last_error
    assert Notification.objects.filter(user=user).count() == 1  # the inbox is not touched by the failure
    at = NOON
    for attempt in range(2, rules.MAX_ATTEMPTS + 1):
        with clock.frozen(at + timedelta(seconds=30)):  # not yet due: the sweep leaves it
            call_command("notify_sweep")
        assert Delivery.objects.get(pk=d.pk).attempts == attempt - 1
        at = Delivery.objects.get(pk=d.pk).due_at
        with clock.frozen(at):
            call_command("notify_sweep")
        d.refresh_from_db()
        assert d.attempts == attempt
        if attempt < rules.MAX_ATTEMPTS:
            assert d.status == "pending" and d.due_at == at + rules.backoff(attempt)
    assert d.status == "failed" and FailingSms.calls == rules.MAX_ATTEMPTS
    with clock.frozen(at + timedelta(days=1)):
        call_command("notify_sweep")
    assert FailingSms.calls == rules.MAX_ATTEMPTS  # given up: never tried again


def test_a_failing_enqueue_never_breaks_the_callers_write(
    db: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory()

    class Down:
        def enqueue(self, *args: Any) -> None:
            raise RuntimeError("queue down")

    monkeypatch.setattr(tasks, "fan_out", Down())
    with django_capture_on_commit_callbacks(execute=True):
        svc.notify(rules.RETURNED, [user.pk], title_zh="退回", title_en="Returned")  # logged, not raised
    assert Notification.objects.count() == 0


def test_a_delivery_is_sent_once_even_if_two_batches_name_it(
    db: Any, outboxes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory()
    reachable(user, channels={rules.DISPATCHED: [rules.SMS]})
    send(rules.DISPATCHED, [user], django_capture_on_commit_callbacks)
    d = Delivery.objects.get(notification__user=user)
    assert svc.attempt([d.pk]) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(outboxes[0]) == 1


def test_unknown_kind_is_a_programming_error(db: Any) -> None:
    with pytest.raises(ValueError):
        svc.notify("nonsense", [1], title_zh="x", title_en="x")


def test_mark_read_only_my_own(db: Any, django_capture_on_commit_callbacks: Any) -> None:
    me, other = UserFactory(), UserFactory()
    send(rules.REPORT_STATUS, [me, other], django_capture_on_commit_callbacks)
    mine, theirs = Notification.objects.get(user=me), Notification.objects.get(user=other)
    with pytest.raises(LinliError) as err:
        svc.mark_read(me, theirs.pk)
    assert err.value.status == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    with clock.frozen(NOON):
        assert svc.mark_read(me, mine.pk).read_at == NOON
    send(rules.REPORT_STATUS, [me, me], django_capture_on_commit_callbacks)
    send(rules.REPORT_STATUS, [me, other], django_capture_on_commit_callbacks)
    assert svc.mark_all_read(me) == 2
    assert Notification.objects.filter(user=other, read_at__isnull=True).count() == 2


def test_preferences_are_checked(db: Any) -> None:
    user = UserFactory()
    for kw in (
        {"channels": {"nonsense": []}},
        {"channels": {rules.OVERDUE: ["fax"]}},
        {"channels": {}, "quiet_start": time(22)},
    ):
        with pytest.raises(LinliError):
            svc.save_preferences(user, **{"quiet_start": None, "quiet_end": None, **kw})
    pref = svc.save_preferences(
        user,
        channels={rules.OVERDUE: [rules.WECHAT, rules.SMS]},
        quiet_start=time(22),
        quiet_end=time(6, 30),
        wechat_openid=" o-1 ",
    )
    assert pref.channels == {rules.OVERDUE: [rules.SMS, rules.WECHAT]}
    assert (pref.quiet_start, pref.quiet_end, pref.wechat_openid) == (time(22), time(6, 30), "o-1")
    pref = svc.save_preferences(user, channels={}, quiet_start=None, quiet_end=None)
    assert pref.wechat_openid == "o-1" and pref.quiet_start is None  # None keeps the openid
    pref = svc.save_preferences(user, channels={}, quiet_start=None, quiet_end=None, wechat_openid="")
    assert pref.wechat_openid == "" and Preference.objects.filter(user=user).count() == 1


def test_fan_out_is_a_few_bulk_statements(db: Any, django_assert_max_num_queries: Any) -> None:
    users = [UserFactory() for _ in range(60)]
    with django_assert_max_num_queries(12):
        due = svc.fan_out(
            rules.BALLOT_OPENED, [u.pk for u in users], {"title_zh": "t", "title_en": "t", "urgent": False}
        )
    assert due == [] and Notification.objects.count() == 60
    assert Delivery.objects.filter(status="skipped").count() == 60


def test_a_batch_claimed_by_a_worker_that_died_is_sent_after_the_lease(
    db: Any, outboxes: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = UserFactory()
    reachable(user, channels={rules.DISPATCHED: [rules.SMS]})

    class Killed(BaseException):
        pass

    def die(*args: Any) -> None:
        raise Killed  # the worker process ends between the claim and the outcome

    monkeypatch.setattr(svc, "_send", die)
    with clock.frozen(NOON), django_capture_on_commit_callbacks(execute=True):
        svc.notify(rules.DISPATCHED, [user.pk], title_zh="派给你", title_en="Dispatched")  # the task dies
    d = Delivery.objects.get(notification__user=user)
    assert (d.status, d.attempts, d.due_at) == ("pending", 1, NOON + svc.LEASE)
    monkeypatch.undo()
    with clock.frozen(NOON + timedelta(minutes=4)):
        call_command("notify_sweep")  # still leased: nobody else takes it
    assert outboxes[0] == []
    with clock.frozen(NOON + svc.LEASE):
        call_command("notify_sweep")
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("sent", 2) and len(outboxes[0]) == 1


def test_two_fan_outs_at_the_same_instant_keep_their_own_deliveries(db: Any) -> None:
    user = UserFactory()
    user.set_phone("13800138000")
    user.save()
    payload = {"title_zh": "t", "title_en": "t", "ref": "event:1", "urgent": False}
    with clock.frozen(NOON):
        svc.fan_out(rules.OVERDUE, [user.pk], payload)
        svc.fan_out(rules.OVERDUE, [user.pk], payload)
    for n in Notification.objects.filter(user=user):
        assert sorted(n.deliveries.values_list("channel", flat=True)) == [rules.SMS, rules.WECHAT]
