"""长辈模式 (large text): a per-account preference (``User.large_text``), a cookie for visitors, a
switch in every page's header that works without JavaScript, and ``<html class="elder">`` when on
(linli.accounts.context.elder; the styles are site.css's)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.context import ELDER_COOKIE
from linli.accounts.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db

HTML = re.compile(r"<html[^>]*>")


def html_tag(client: Client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200
    return HTML.search(r.content.decode()).group(0)  # type: ignore[union-attr]


def switch(client: Client, on: bool, next_url: str = "/accounts/login/") -> Any:
    return client.post(reverse("accounts:elder_mode"), {"large_text": "1" if on else "0", "next": next_url})


def test_a_visitor_turns_it_on_and_off_with_a_cookie() -> None:
    c = Client()
    login = reverse("accounts:login")
    assert 'class="elder"' not in html_tag(c, login)
    page = c.get(login).content.decode()
    assert 'data-testid="elder-switch"' in page and 'aria-pressed="false"' in page
    r = switch(c, True, login)
    assert r.status_code == 302 and r["Location"] == login
    assert r.cookies[ELDER_COOKIE].value == "1" and r.cookies[ELDER_COOKIE]["max-age"] > 0
    assert 'class="elder"' in html_tag(c, login)
    assert 'aria-pressed="true"' in c.get(login).content.decode()
    assert 'class="elder"' in html_tag(c, reverse("renewal:public_index"))  # every page
    switch(c, False, login)
    assert 'class="elder"' not in html_tag(c, login)


def test_a_signed_in_preference_persists_across_devices(world: Any) -> None:
    user = world.users["resident"]
    phone, desktop = Client(), Client()
    phone.force_login(user)
    desktop.force_login(user)
    me = reverse("accounts:me")
    assert 'class="elder"' not in html_tag(desktop, me)
    switch(phone, True, me)
    assert User.objects.get(pk=user.pk).large_text is True
    assert 'class="elder"' in html_tag(desktop, me)  # no cookie there: the account's preference
    switch(desktop, False, me)
    assert User.objects.get(pk=user.pk).large_text is False
    assert 'class="elder"' not in html_tag(phone, me)  # the account wins over the device's cookie


def test_the_switch_refuses_get_and_an_outside_next() -> None:
    c = Client()
    assert c.get(reverse("accounts:elder_mode")).status_code == 405
    r = switch(c, True, "https://evil.example/")
    assert r.status_code == 302 and "evil" not in r["Location"]


def test_the_switch_needs_the_csrf_token() -> None:
    c = Client(enforce_csrf_checks=True)
    assert c.post(reverse("accounts:elder_mode"), {"large_text": "1"}).status_code == 403


def test_a_new_account_starts_without_it() -> None:
    assert f.UserFactory().large_text is False
