"""The workbench page: the root for a signed-in person, one section per kind of work held, each
list scoped to the person (the permission matrix's row for ``workbench:home``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.urls import resolve, reverse

from linli.governance.services import events as svc
from linli.workbench import permissions
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db

HOME = reverse("workbench:home")

#: Which sections each role of the shared world sees (an oracle written from the brief).
EXPECTED = {
    "district_admin": ["district"],
    "street_command": ["command"],
    "community_worker": ["community"],
    "grid_leader": ["grid"],
    "grid_fulltime": ["grid"],
    "grid_parttime": ["grid"],
    "grid_instructor": ["grid"],
    "grid_force": [],
    "department_staff": [],  # held at a street: looks at places, works no department's cases
    "resident": ["resident"],
    "operator": [],
}


def sections_on(html: str) -> list[str]:
    return re.findall(r'<section class="wb-section"[^>]*data-testid="wb-([a-z]+)"', html)


def test_root_is_the_workbench_and_my_places_moved() -> None:
    assert HOME == "/" and resolve("/").view_name == "workbench:home"
    assert reverse("places:home") == "/places/mine/"
    assert settings.LOGIN_REDIRECT_URL == "workbench:home"


def test_signed_out_visitors_are_sent_to_sign_in(client: Any) -> None:
    r = client.get(HOME)
    assert r.status_code == 302 and r.url.startswith(reverse("accounts:login"))


def test_sign_in_lands_on_the_workbench(world: Any, client: Any) -> None:
    user = world.users["grid_fulltime"]
    user.set_password("a-long-test-password")
    user.save()
    r = client.post(reverse("accounts:login"), {"username": user.username, "password": "a-long-test-password"})
    assert r.status_code == 302 and r.url == HOME


def test_workbench_matrix(world: Any, gov: Any, client_for: Any) -> None:
    """Every role sees its own sections; a case of community A shows to A's grid worker and centre,
    never to community B's worker; a department's staff sees its department's lists."""
    lat, lon = POS["a"]
    event, _ = svc.report(
        world.users["resident"], svc.Report("C0102", lat, lon, description="井盖缺失"), channel="resident"
    )
    failures = []
    for role, expected in EXPECTED.items():
        user = world.users[role]
        assert permissions.sections_of(user) == expected, role
        r = client_for(user).get(HOME)
        html = r.content.decode()
        if r.status_code != 200 or sections_on(html) != expected:
            failures.append(f"{role}: {r.status_code} {sections_on(html)} expected {expected}")
    assert not failures, "\n".join(failures)
    case_link = reverse("governance:event_detail", args=[event.pk])
    assert case_link in client_for(world.users["street_command"]).get(HOME).content.decode()
    assert case_link in client_for(world.users["resident"]).get(HOME).content.decode()  # my report
    outsider = client_for(world.outsider).get(HOME).content.decode()
    assert sections_on(outsider) == ["community"] and case_link not in outsider
    staff = client_for(gov.cg_staff).get(HOME).content.decode()
    assert sections_on(staff) == ["department"] and gov.cg.name in staff
    root = client_for(world.admin).get(HOME).content.decode()
    assert sections_on(root) == ["command", "district"] and case_link in root


def test_page_in_chinese_and_english(world: Any, client_for: Any) -> None:
    c = client_for(world.users["street_command"])
    zh = c.get(HOME).content.decode()
    assert "工作台" in zh and "待立案" in zh and "Reports to register" not in zh
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = c.get(HOME).content.decode()
    assert "Workbench" in en and "Reports to register" in en and "待立案" not in en


def test_figures_read_as_people_write_them() -> None:
    from django.utils import translation

    from linli.workbench.lists import Figure
    from linli.workbench.views import amount_text, figure_text

    with translation.override("zh-hans"):
        assert figure_text(Figure(7, 14, "households")) == "7 / 14 户 (50%)"
        assert figure_text(Figure(0, 0, "owners")) == "0 / 0 人"
    with translation.override("en"):
        assert figure_text(Figure(1, 3, "households")) == "1 / 3 households (33.3%)"
        assert figure_text(Figure(1204, 2000, "cases")) == "1,204 / 2,000 cases (60.2%)"
        assert figure_text(Figure(1, 1, "households")) == "1 / 1 household (100%)"
        assert amount_text(1, "projects") == "1 project" and amount_text(3, "projects") == "3 projects"
    with translation.override("zh-hans"):
        assert amount_text(3, "projects") == "3 个项目" and amount_text(None, "projects") == ""
    assert figure_text(None) == ""
