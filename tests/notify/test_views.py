"""Pages of notifications: the inbox (paging, mark read, mark all read, the header badge) and the
preferences, in Chinese and English; nobody reads or marks another person's inbox."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.core import clock
from linli.notify import rules
from linli.notify.models import Notification, Preference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def give(user: Any, n: int = 1, **kw: Any) -> list[Notification]:
    now = clock.now()
    return Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                kind=kw.get("kind", rules.DISPATCHED),
                title_zh=f"案件 #{i} 派给你部门",
                title_en=f"Case #{i} dispatched to you",
                url=kw.get("url", "/governance/events/1/"),
                created_at=now,
                urgent=kw.get("urgent", False),
            )
            for i in range(n)
        ]
    )


def test_inbox_pages_matrix(world: Any, client_for: Any) -> None:
    """Every role sees its own inbox and preferences; another person's notification is a 404 to read,
    and "mark all read" touches only one's own."""
    victim = world.users["resident"]
    theirs = give(victim)[0]
    failures = []
    for role, user in [*world.users.items(), ("outsider", world.outsider), ("root", world.admin)]:
        c = client_for(user)
        for name in ("notify:inbox", "notify:preferences"):
            if c.get(reverse(name)).status_code != 200:
                failures.append(f"{role} {name}")
        if user != victim:
            r = c.post(reverse("notify:read", args=[theirs.pk]))
            if r.status_code != 404:
                failures.append(f"{role} notify:read of another's → {r.status_code}")
            if "案件 #0" in c.get(reverse("notify:inbox")).content.decode():
                failures.append(f"{role} sees another's notification")
            c.post(reverse("notify:read_all"))
        if c.get(reverse("notify:read", args=[theirs.pk])).status_code != 405:
            failures.append(f"{role} GET notify:read is not 405")
    assert not failures, "\n".join(failures)
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    anon = Client()
    for name, args, post in (
        ("notify:inbox", [], False),
        ("notify:preferences", [], False),
        ("notify:read_all", [], True),
        ("notify:read", [theirs.pk], True),
    ):
        url = reverse(name, args=args)
        r = anon.post(url) if post else anon.get(url)
        assert r.status_code == 302 and "login" in r["Location"], name
    assert client_for(victim).post("/notify/99999999/read/").status_code == 404


def test_inbox_pages_marks_read_and_badge(client_for: Any, db: Any) -> None:
    user = UserFactory()
    items = give(user, 45)
    c = client_for(user)
    page1 = c.get(reverse("notify:inbox")).content.decode()
    assert page1.count('data-testid="notification"') == 20
    assert 'data-testid="inbox-unread"' in page1 and ">45<" in page1  # the header badge
    assert 'data-testid="pager"' in page1
    page3 = c.get(reverse("notify:inbox") + "?page=3").content.decode()
    assert page3.count('data-testid="notification"') == 5
    assert c.get(reverse("notify:inbox") + "?page=abc").status_code == 200
    # mark one read, and open: a redirect to what it is about
    r = c.post(reverse("notify:read", args=[items[0].pk]), {"open": "1"})
    assert r.status_code == 302 and r["Location"] == "/governance/events/1/"
    r = c.post(reverse("notify:read", args=[items[1].pk]), {"page": "2"})
    assert r.status_code == 302 and r["Location"].endswith("?page=2")
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 43
    r = c.post(reverse("notify:read_all"))
    assert r.status_code == 302
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 0
    assert 'data-testid="inbox-unread"' not in c.get(reverse("notify:inbox")).content.decode()


def test_an_outside_url_is_never_followed(client_for: Any, db: Any) -> None:
    user = UserFactory()
    n = give(user, url="https://evil.example/")[0]
    r = client_for(user).post(reverse("notify:read", args=[n.pk]), {"open": "1"})
    assert r.status_code == 302 and r["Location"] == reverse("notify:inbox")


def test_inbox_in_one_language(client_for: Any, db: Any) -> None:
    user = UserFactory()
    give(user)
    c = client_for(user)
    zh = c.get(reverse("notify:inbox"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "案件 #0 派给你部门" in zh and "dispatched to you" not in zh and "通知" in zh
    c.cookies["django_language"] = "en"
    en = c.get(reverse("notify:inbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Case #0 dispatched to you" in en and "派给你部门" not in en and "Notifications" in en


def test_preferences_page_saves_channels_and_quiet_hours(client_for: Any, db: Any) -> None:
    user = UserFactory()
    c = client_for(user)
    page = c.get(reverse("notify:preferences")).content.decode()
    assert 'data-testid="ch-ballot_opened-wechat"' in page and 'data-testid="quiet-start"' in page
    r = c.post(
        reverse("notify:preferences"),
        {"ch-ballot_opened": ["sms"], "quiet_start": "22:00", "quiet_end": "07:00", "wechat_openid": "o-9"},
    )
    assert r.status_code == 302
    pref = Preference.objects.get(user=user)
    # every kind is saved as shown: a kind with no box ticked is "inbox only"
    assert pref.channels[rules.BALLOT_OPENED] == [rules.SMS] and pref.channels[rules.OVERDUE] == []
    assert (pref.quiet_start, pref.quiet_end, pref.wechat_openid) == (time(22), time(7), "o-9")
    page = c.get(reverse("notify:preferences")).content.decode()
    assert 'value="22:00"' in page and 'value="07:00"' in page
    # urgent SMS is shown on and cannot be switched off
    assert 'value="sms" checked disabled data-testid="ch-urgent-sms"' in page
    # every kind has its line, under its topic
    for topic, kinds in rules.GROUPS:
        assert f'data-testid="kinds-{topic}"' in page
        for kind in kinds:
            assert f'data-testid="ch-{kind}-wechat"' in page, kind


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"quiet_start": "22:00"}, "notify_quiet_hours"),
        ({"quiet_start": "25:99", "quiet_end": "07:00"}, "notify_time"),
        ({"ch-overdue": ["fax"]}, "notify_channel"),
    ],
)
def test_preferences_page_refuses_bad_input(client_for: Any, db: Any, data: dict[str, Any], code: str) -> None:
    user = UserFactory()
    c = client_for(user)
    r = c.post(reverse("notify:preferences"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 400 and 'data-testid="notify-error"' in r.content.decode()
    assert not Preference.objects.filter(user=user).exists()
