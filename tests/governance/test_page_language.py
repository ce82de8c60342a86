"""One language per screen on the grid-event pages (issue 12): steps, moves, classes, sectors and
category names are shown in the page's language only; the API keeps both (tests/open311)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from linli.governance.categories import KIND_NAMES, SECTOR_NAMES
from linli.governance.loop import MOVE_NAMES, STEP_NAMES
from linli.governance.models import (
    KIND_LABELS,
    MOVE_LABELS,
    SECTOR_LABELS,
    STEP_LABELS,
    Channel,
    Event,
    EventLog,
    EventRequest,
)
from linli.governance.services import events as svc
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.mark.parametrize(
    ("labels", "pairs"),
    [(STEP_LABELS, STEP_NAMES), (MOVE_LABELS, MOVE_NAMES), (KIND_LABELS, KIND_NAMES), (SECTOR_LABELS, SECTOR_NAMES)],
    ids=["steps", "moves", "kinds", "sectors"],
)
def test_choice_labels_are_the_pairs_in_the_active_language(labels: Any, pairs: Any) -> None:
    """The model's gettext labels say what loop.py / categories.py say, in either language (a
    renamed step in one place and not the other fails here)."""
    assert set(labels) == set(pairs)
    for key, (zh, en) in pairs.items():
        with translation.override("zh-hans"):
            assert str(labels[key]) == zh, key
        with translation.override("en"):
            assert str(labels[key]) == en, key


@pytest.mark.parametrize(
    "choices",
    [
        Channel.choices,
        EventRequest.Kind.choices,
        EventRequest.Decision.choices,
        Event._meta.get_field("step").choices,
        EventLog._meta.get_field("move").choices,
    ],
    ids=["channel", "request-kind", "decision", "step", "move"],
)
def test_choice_labels_speak_one_language(choices: Any) -> None:
    for value, label in choices:
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        assert not CJK.search(en), (value, en)
        if value != "open311":  # "Open311 client" names a standard
            assert CJK.search(zh) and not LATIN.search(zh), (value, zh)


def english(c: Any) -> Any:
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def test_report_form_lists_categories_in_the_page_language(world: Any, gov: Any, client_for: Any) -> None:
    url = reverse("governance:event_new")
    html = client_for(world.users["grid_fulltime"]).get(url).content.decode()
    assert ">井盖缺失或破损 (部件)</option>" in html and '<optgroup label="民生服务">' in html
    assert "Manhole cover" not in html.split('data-keywords="')[0]
    html = english(client_for(world.users["grid_fulltime"])).get(url).content.decode()
    assert ">Manhole cover missing or broken (Component)</option>" in html
    assert '<optgroup label="Livelihood services">' in html
    assert "(部件)" not in html and "(事件)" not in html and "民生服务" not in html


def test_case_page_in_english_shows_english_names_steps_and_attributes(world: Any, gov: Any, client_for: Any) -> None:
    command = world.users["street_command"]
    event, _ = svc.report(
        world.users["resident"],
        svc.Report("C0101", *POS["a"], attributes={"danger_now": "yes", "cover": "missing"}),
        channel="resident",
    )
    svc.act(command, event, "register")
    url = reverse("governance:event_detail", args=[event.pk])
    html = english(client_for(command)).get(url).content.decode()
    assert f"<h1>#{event.pk} Manhole cover missing or broken</h1>" in html
    assert "井盖缺失或破损" not in html
    assert re.search(r"<strong>Now:</strong>\s*Registered\b", html)
    assert "→ Registered" in html and "Verified and closed" in html  # history and the seven steps
    assert "<dt>Is anyone in danger now?</dt><dd>yes</dd>" in html
    for zh, _en in STEP_NAMES.values():
        assert zh not in html, zh
    assert "<dd>resident</dd>" in html and "居民" not in html

    html = client_for(command).get(url).content.decode()
    assert f"<h1>#{event.pk} 井盖缺失或破损</h1>" in html and "Manhole cover" not in html
    assert "→ 案卷建立" in html and "Registered" not in html
    assert "<dt>是否有人身危险</dt><dd>是</dd>" in html and "<dd>居民</dd>" in html


def test_event_list_in_english_shows_english_steps_and_categories(world: Any, gov: Any, client_for: Any) -> None:
    svc.report(world.users["resident"], svc.Report("C0102", *POS["a"]), channel="resident")
    url = reverse("governance:event_list")
    html = english(client_for(world.users["street_command"])).get(url).content.decode()
    assert ">Street light out</a></th>" in html and "路灯不亮" not in html
    assert ">Collected" in html and "信息收集" not in html
    assert ">Safety and rule of law</option>" in html and "平安法治" not in html
    html = client_for(world.users["street_command"]).get(url).content.decode()
    assert ">路灯不亮</a></th>" in html and "Street light out" not in html
    assert "信息收集" in html and "Collected" not in html
