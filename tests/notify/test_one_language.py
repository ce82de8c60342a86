"""The inbox and the preferences speak one language (the check of tests/core/test_one_language.py,
on these pages with notifications in them): Chinese pages carry no English, English pages no Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from linli.notify import services as svc
from linli.notify.models import Notification
from tests.core.test_one_language import stored_texts, strays
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("english", [False, True])
def test_notify_pages_speak_one_language(client_for: Any, english: bool) -> None:
    user = UserFactory(username="ren", preferred_language="en" if english else "zh-hans")
    user.set_phone("13800138000")
    user.save()
    svc.save_preferences(user, channels={}, quiet_start=None, quiet_end=None, wechat_openid="o-1")
    for urgent, kind in ((True, "urgent"), (False, "ballot_closing")):
        svc.fan_out(
            kind,
            [user.pk],
            {"title_zh": "表决将于 05月06日 截止", "title_en": "Ballot closes on 6 May", "urgent": urgent, "url": "/"},
        )
    c = client_for(user)
    if english:
        c.cookies["django_language"] = "en"
    data = stored_texts(english)
    found = []
    for url in (reverse("notify:inbox"), reverse("notify:preferences")):
        html = c.get(url, HTTP_ACCEPT_LANGUAGE="en" if english else "zh-hans").content.decode()
        found += [f"{url}: {s}" for s in strays(html, english, data, {})]
    html = c.post(reverse("notify:preferences"), {"quiet_start": "22:00"}).content.decode()
    found += [f"error: {s}" for s in strays(html, english, data, {})]
    assert Notification.objects.filter(user=user).count() == 2
    assert not found, "\n".join(found)
