"""Places people can find (issue 12 §6): every case names compound + building; the hotline desk finds
a building by typing (a typeahead over a scoped endpoint, and a "Find" button without JavaScript);
staff search cases by number, address, reporter phone (logged, matched by a keyed hash) or a word."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from linli.accounts.models import AccessLog
from linli.core import crypto
from linli.governance.models import Event
from linli.governance.queries import events as q
from linli.governance.services import events as svc
from linli.places import models as m
from tests import factories as f
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db

LIST = reverse("governance:event_list")
PLACES = reverse("governance:event_places")
HOTLINE = reverse("governance:event_hotline")


def hotline(world: Any, building: Any, phone: str = "", text: str = "") -> Event:
    event, _ = svc.report(
        world.users["street_command"],
        svc.Report("C0102", building=building.pk, description=text, reporter_phone=phone, reporter_name="王五"),
        channel="hotline",
    )
    return event


def listed(html: bytes) -> list[int]:
    return [int(x) for x in re.findall(rb'<tr data-pk="(\d+)"', html)]


# --- compound + building ---------------------------------------------------------------------------


def test_a_case_names_its_compound_and_building(world: Any, gov: Any, client_for: Any) -> None:
    event = hotline(world, world.building_a)
    assert event.place_name == "劳动三村小区 1栋"
    c = client_for(world.users["street_command"])
    detail = c.get(reverse("governance:event_detail", args=[event.pk])).content.decode()
    assert re.search(r'data-testid="place">劳动三村小区 1栋<', detail)
    row = re.search(rf'<tr data-pk="{event.pk}">.*?</tr>', c.get(LIST).content.decode(), re.S)
    assert row and "劳动三村小区 1栋" in row.group(0) and "劳动三村第1网格" not in row.group(0)
    queue = c.get(reverse("governance:queue_command")).content.decode()
    assert "劳动三村小区 1栋" in queue


# --- the hotline desk's typeahead -------------------------------------------------------------------


@pytest.fixture
def ruifeng(world: Any) -> list[m.Building]:
    """A second compound of community A with a 2栋 (most compounds have one) and an address."""
    compound = f.CompoundFactory(community=world.comm_a, code="0002", name="瑞丰新村", address="劳动路 12 号")
    return [f.BuildingFactory(compound=compound, code=f"0{n}", name=f"{n}栋") for n in (1, 2)]


def test_typeahead_finds_by_compound_building_and_address(
    world: Any, gov: Any, client_for: Any, ruifeng: list[m.Building]
) -> None:
    c = client_for(world.users["street_command"])
    got = c.get(PLACES, {"q": "瑞丰 2栋"}).json()["results"]
    assert [b["pk"] for b in got] == [ruifeng[1].pk]
    assert got[0]["label"] == "瑞丰新村 2栋" and got[0]["community"] == "劳动三村社区"
    assert {b["pk"] for b in c.get(PLACES, {"q": "劳动路"}).json()["results"]} == {b.pk for b in ruifeng}
    assert c.get(PLACES, {"q": "  "}).json()["results"] == []
    assert c.get(PLACES, {"q": "没有这个地方"}).json()["results"] == []


def test_typeahead_is_scoped_to_the_users_command_centre(
    world: Any, gov: Any, client_for: Any, ruifeng: list[m.Building]
) -> None:
    # community C (street 2) is outside street 1's command centre
    other = f.CompoundFactory(community=world.comm_c, code="0002", name="瑞丰花园")
    far = f.BuildingFactory(compound=other, code="01", name="2栋")
    near = {b["pk"] for b in client_for(world.users["street_command"]).get(PLACES, {"q": "瑞丰"}).json()["results"]}
    assert near == {b.pk for b in ruifeng} and far.pk not in near
    district = client_for(world.users["district_admin"]).get(PLACES, {"q": "瑞丰"}).json()["results"]
    assert far.pk in {b["pk"] for b in district}
    # no command centre: no desk, no search (403); anonymous: to the sign-in page
    for role in ("community_worker", "grid_fulltime", "resident", "department_staff"):
        assert client_for(world.users[role]).get(PLACES, {"q": "瑞丰"}).status_code == 403, role
    assert client_for(world.users["street_command"]).post(PLACES, {"q": "瑞丰"}).status_code == 405


def test_the_desk_finds_a_building_without_javascript(
    world: Any, gov: Any, client_for: Any, ruifeng: list[m.Building]
) -> None:
    c = client_for(world.users["street_command"])
    page = c.get(HOTLINE).content.decode()
    # no list of every building: the select holds only what was found (nothing yet)
    assert 'data-testid="place-q"' in page and not re.search(
        r'<option value="\d+"', page.split('id="f-building"')[1].split("</select>")[0]
    )
    r = c.post(
        HOTLINE,
        {"find": "1", "place_q": "瑞丰 2栋", "category": "C0102", "caller_phone": "13700137000", "client_key": "k-1"},
    )
    assert r.status_code == 200 and not Event.objects.exists()  # Find sends nothing
    select = r.content.decode().split('id="f-building"')[1].split("</select>")[0]
    assert f'value="{ruifeng[1].pk}"' in select and "瑞丰新村 2栋" in select
    assert f'value="{ruifeng[0].pk}"' not in select
    assert 'value="13700137000"' in r.content.decode()  # the form comes back as typed
    # then sending it with the building found registers the case there
    r = c.post(
        HOTLINE, {"category": "C0102", "building": ruifeng[1].pk, "caller_phone": "13700137000", "client_key": "k-1"}
    )
    assert r.status_code == 302
    assert Event.objects.get().building_id == ruifeng[1].pk


# --- searching cases --------------------------------------------------------------------------------


def test_search_by_number_word_and_place(world: Any, gov: Any, client_for: Any, ruifeng: list[m.Building]) -> None:
    a = hotline(world, world.building_a, text="路灯整夜不亮")
    b = hotline(world, ruifeng[1], text="楼道灯坏了")
    c = client_for(world.users["street_command"])
    assert listed(c.get(LIST, {"q": f"#{a.pk}"}).content) == [a.pk]
    assert listed(c.get(LIST, {"q": str(b.pk)}).content) == [b.pk]
    assert listed(c.get(LIST, {"q": "瑞丰 2栋"}).content) == [b.pk]
    assert listed(c.get(LIST, {"q": "整夜"}).content) == [a.pk]
    assert set(listed(c.get(LIST, {"q": "路灯"}).content)) == {a.pk, b.pk}  # the category's name
    assert listed(c.get(LIST, {"q": "找不到的词"}).content) == []
    assert AccessLog.objects.count() == 0  # no phone: nothing logged


def test_search_by_phone_matches_the_hash_and_is_logged(world: Any, gov: Any, client_for: Any) -> None:
    mine = hotline(world, world.building_a, phone="13700137000")
    other = hotline(world, world.building_a, phone="13600136000")
    hotline(world, world.building_a)
    assert Event.objects.get(pk=mine.pk).reporter_phone_hash == crypto.lookup_hash("13700137000")
    command = world.users["street_command"]
    html = client_for(command).get(LIST, {"q": "13700137000"}).content
    assert listed(html) == [mine.pk] and other.pk not in listed(html)
    log = AccessLog.objects.get()
    assert log.user == command and log.what == AccessLog.What.VIEW_PEOPLE
    assert "137****7000" in log.reason and "13700137000" not in log.reason and log.reason.endswith("→ 1")
    assert log.path == world.street1.path
    # the next page of the same search is logged again (each read is a read)
    client_for(command).get(LIST, {"q": "13700137000", "page": "1"})
    assert AccessLog.objects.count() == 2


def test_phone_search_stays_in_scope_and_not_for_own_reports(world: Any, gov: Any, client_for: Any) -> None:
    event = hotline(world, world.building_a, phone="13700137000")
    # the community worker of B sees no case of community A, whatever the phone
    assert listed(client_for(world.outsider).get(LIST, {"q": "13700137000"}).content) == []
    # a resident's own list never matches a phone (their reports carry no hash to look up anyway)
    resident = world.users["resident"]
    own, _ = svc.report(resident, svc.Report("C0102", *POS["a"]), channel="resident")
    assert listed(client_for(resident).get(LIST, {"q": "13700137000"}).content) == []
    assert listed(client_for(resident).get(LIST, {"q": f"#{own.pk}"}).content) == [own.pk]
    assert event.pk not in listed(client_for(resident).get(LIST, {"q": f"#{event.pk}"}).content)
    assert not AccessLog.objects.filter(user=resident).exists()


def test_search_is_paged(world: Any, gov: Any, client_for: Any) -> None:
    for _ in range(q.PER_PAGE + 2):
        hotline(world, world.building_a, text="楼道灯")
    c = client_for(world.users["street_command"])
    first = c.get(LIST, {"q": "楼道灯"}).content
    assert len(listed(first)) == q.PER_PAGE and b"q=%E6%A5%BC%E9%81%93%E7%81%AF&amp;page=2" in first
    assert len(listed(c.get(LIST, {"q": "楼道灯", "page": "2"}).content)) == 2


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("#12", q.Search(number=12)),
        ("12", q.Search(number=12)),
        ("13700137000", q.Search(phone="13700137000")),
        ("瑞丰 2栋", q.Search(words=("瑞丰", "2栋"))),
        ("#99999999999999999999", q.Search(number=0)),
        ("23700137000", q.Search(words=("23700137000",))),
    ],
)
def test_parse_search(text: str, want: q.Search) -> None:
    assert q.parse_search(text) == want
