"""The place pages (issue 2): scope (404 outside), masking, rosters logged, search, reveal, speed."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from linli.accounts.models import AccessLog
from linli.places import geometry
from linli.places import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


def full(person: m.Person) -> tuple[str, str]:
    """The stored full ID number and phone (decrypted here, in the test, to look for leaks)."""
    return person._id_number(), person._phone()


def urls(w: Any) -> dict[str, str]:
    return {
        "district": reverse("places:district", args=[w.district.pk]),
        "street": reverse("places:street", args=[w.street1.pk]),
        "community": reverse("places:community", args=[w.comm_a.pk]),
        "geojson": reverse("places:community_geojson", args=[w.comm_a.pk]),
        "compound": reverse("places:compound", args=[w.compound_a.pk]),
        "building": reverse("places:building", args=[w.building_a.pk]),
        "grid": reverse("places:grid", args=[w.grid_a.pk]),
    }


# Who may open which page of community A's branch (every one of them must answer 200).
IN_SCOPE = {
    "district": ["district_admin"],
    "street": ["district_admin", "street_command", "department_staff"],
    "community": ["district_admin", "street_command", "community_worker", "department_staff"],
    "geojson": ["street_command", "community_worker"],
    "compound": ["community_worker", "operator", "department_staff"],
    "building": [
        "community_worker",
        "grid_leader",
        "grid_fulltime",
        "grid_parttime",
        "grid_instructor",
        "grid_force",
        "operator",
        "department_staff",
        "resident",
    ],
    "grid": [
        "community_worker",
        "grid_leader",
        "grid_fulltime",
        "grid_parttime",
        "grid_instructor",
        "grid_force",
        "street_command",
    ],
}


def test_anonymous_is_sent_to_sign_in(world, client):
    for url in [reverse("places:home"), reverse("places:browse"), *urls(world).values()]:
        r = client.get(url)
        assert r.status_code == 302, url
        assert r["Location"].startswith(reverse("accounts:login")), url


@pytest.mark.parametrize("page", sorted(IN_SCOPE))
def test_pages_render_in_scope_and_404_outside(world, client_for, page):
    url = urls(world)[page]
    for role in IN_SCOPE[page]:
        r = client_for(world.users[role]).get(url)
        assert r.status_code == 200, (page, role)
    assert client_for(world.outsider).get(url).status_code == 404, page
    assert client_for(world.admin).get(url).status_code == 200


def test_out_of_scope_roles_get_404(world, client_for):
    u = urls(world)
    gw = client_for(world.users["grid_fulltime"])
    assert gw.get(u["community"]).status_code == 404, "a grid worker's scope is the grid, not the community"
    assert gw.get(u["geojson"]).status_code == 404
    op = client_for(world.users["operator"])
    assert op.get(u["community"]).status_code == 404
    assert op.get(u["grid"]).status_code == 404
    resident = client_for(world.users["resident"])
    assert resident.get(u["compound"]).status_code == 404
    assert resident.get(reverse("places:building", args=[world.building_b.pk])).status_code == 404
    cw = client_for(world.users["community_worker"])
    for url in [
        reverse("places:community", args=[world.comm_b.pk]),
        reverse("places:building", args=[world.building_b.pk]),
        reverse("places:grid", args=[world.grid_b.pk]),
        reverse("places:street", args=[world.street2.pk]),
        reverse("places:building", args=[999999]),
    ]:
        assert cw.get(url).status_code == 404, url


def test_home_lists_my_places_with_counts(world, client_for):
    r = client_for(world.users["community_worker"]).get(reverse("places:home"))
    html = r.content.decode()
    assert world.comm_a.name in html and reverse("places:community", args=[world.comm_a.pk]) in html
    assert world.comm_b.name not in html
    # building_a has 24 dwellings and one household.
    assert r.context["cards"][0]["counts"] == {"buildings": 1, "households": 1}
    root = client_for(world.admin).get(reverse("places:home"))
    assert [d["place"] for d in root.context["districts"]] == [world.district]
    assert root.context["districts"][0]["households"] == 2


def test_community_figures_tables_and_charts(world, client_for):
    r = client_for(world.users["community_worker"]).get(urls(world)["community"])
    s = r.context["s"]
    assert s["figures"]["compounds"] == 1 and s["figures"]["buildings"] == 1
    assert s["figures"]["dwellings"] == 24 and s["figures"]["households"] == 1 and s["figures"]["residents"] == 1
    assert s["figures"]["eligible_share"] == Decimal("100.0")  # built 1958
    assert s["chart_decade"]["rows"] == [{"label": "1950s", "value": 1}]
    assert s["chart_grid"]["rows"] == [{"label": world.grid_a.name, "value": 1}]
    html = r.content.decode()
    for needle in [
        'class="map"',
        'data-src="' + urls(world)["geojson"],
        'id="chart-decade"',
        'id="chart-grid"',
        "<details",
        "aria-label=",
        "vendor/echarts/echarts.min.js",
        "vendor/leaflet/leaflet.js",
    ]:
        assert needle in html, needle
    assert world.grid_a.code in html and world.compound_a.name in html
    # Breadcrumbs link the ancestors this user may view (street and district are above community A).
    assert r.context["crumbs"][-1]["url"] is None
    assert all(c["url"] is None for c in r.context["crumbs"][1:3])


def test_eligibility_share_counts_dwellings_in_old_compounds(world, client_for):
    new = f.CompoundFactory(community=world.comm_a, code="0002", build_year=2010)
    b = f.BuildingFactory(compound=new, code="01")
    unit = m.Unit.objects.create(building=b, number="1")
    for k in range(8):
        m.Dwelling.objects.create(unit=unit, floor=1, number=f"1{k:02d}", area=Decimal(50))
    s = client_for(world.users["community_worker"]).get(urls(world)["community"]).context["s"]
    assert s["figures"]["dwellings"] == 32
    assert s["figures"]["eligible_share"] == Decimal("75.0")
    assert [c["eligible"] for c in s["compounds"]] == [True, False]


def test_geojson_is_valid_and_scoped(world, client_for):
    world.grid_a.boundary = {
        "type": "Polygon",
        "coordinates": [[[106.5, 29.5], [106.51, 29.5], [106.51, 29.51], [106.5, 29.51], [106.5, 29.5]]],
    }
    world.grid_a.save()
    r = client_for(world.users["community_worker"]).get(urls(world)["geojson"])
    assert r.status_code == 200 and r["Content-Type"].startswith("application/geo+json")
    fc = json.loads(r.content)
    assert fc["type"] == "FeatureCollection"
    kinds = sorted(ft["properties"]["kind"] for ft in fc["features"])
    assert kinds == ["building", "compound", "grid"]
    for ft in fc["features"]:
        assert ft["type"] == "Feature" and set(ft["properties"]) >= {"name", "kind", "url", "households"}
        geom = ft["geometry"]
        if geom["type"] == "Polygon":
            ring = geom["coordinates"][0]
            assert len(ring) >= 4 and ring[0] == ring[-1]
        else:
            assert geom["type"] == "Point" and len(geom["coordinates"]) == 2
    grid = next(ft for ft in fc["features"] if ft["properties"]["kind"] == "grid")
    assert grid["geometry"] == world.grid_a.boundary and grid["properties"]["households"] == 1
    compound = next(ft for ft in fc["features"] if ft["properties"]["kind"] == "compound")
    assert compound["geometry"]["type"] == "Polygon"  # a square around the compound's point
    text = r.content.decode()
    assert reverse("places:building", args=[world.building_b.pk]) not in text
    assert world.comm_b.name not in text and world.compound_b.name not in text


def test_search_is_scoped_grouped_and_limited(world, client_for):
    cw = client_for(world.users["community_worker"])
    r = cw.get(reverse("places:browse"), {"q": "1栋"})
    assert r.status_code == 200
    items = [i["url"] for g in r.context["groups"] for i in g.items]
    assert items == [reverse("places:building", args=[world.building_a.pk])]
    r = cw.get(reverse("places:browse"), {"q": "社区"})
    assert [g.kind for g in r.context["groups"]] == ["community"]
    assert world.comm_a.name in r.content.decode() and world.comm_b.name not in r.content.decode()
    r = client_for(world.outsider).get(reverse("places:browse"), {"q": world.grid_a.code})
    assert r.context["total"] == 0
    r = cw.get(reverse("places:browse"), {"q": world.grid_a.code[-6:]})
    assert [g.kind for g in r.context["groups"]] == ["grid"]
    # htmx asks for the results only.
    r = cw.get(reverse("places:browse"), {"q": "社区"}, headers={"HX-Request": "true"})
    body = r.content.decode()
    assert "<html" not in body and world.comm_a.name in body
    # ≤ 50 results in all, however many match.
    for i in range(60):
        f.BuildingFactory(compound=world.compound_a, code=f"9{i:02d}", name=f"测试楼{i}")
    r = client_for(world.admin).get(reverse("places:browse"), {"q": "测试楼"})
    assert r.context["total"] == 50
    assert sum(len(g.items) for g in r.context["groups"]) == 50


def test_building_shows_masked_owners_and_logs_the_roster(world, client_for):
    ID_A, PHONE_A = full(world.owner_a)
    before = AccessLog.objects.filter(what=AccessLog.What.VIEW_PEOPLE).count()
    r = client_for(world.users["community_worker"]).get(urls(world)["building"])
    html = r.content.decode()
    assert world.owner_a.name in html
    assert world.owner_a.id_number_masked in html and world.owner_a.phone_masked in html
    assert ID_A not in html and PHONE_A not in html
    assert reverse("places:reveal", args=[world.owner_a.pk]) in html, "community workers may reveal"
    log = AccessLog.objects.filter(what=AccessLog.What.VIEW_PEOPLE)
    assert log.count() == before + 1
    entry = log.first()
    assert entry is not None and entry.user == world.users["community_worker"] and entry.path == world.building_a.path


def test_parttime_grid_worker_sees_masked_roster_without_reveal(world, client_for):
    html = client_for(world.users["grid_parttime"]).get(urls(world)["building"]).content.decode()
    assert world.owner_a.id_number_masked in html
    assert reverse("places:reveal", args=[world.owner_a.pk]) not in html


@pytest.mark.parametrize("role", ["grid_force", "operator", "department_staff"])
def test_no_roster_without_view_people(world, client_for, role):
    before = AccessLog.objects.count()
    r = client_for(world.users[role]).get(urls(world)["building"])
    assert r.status_code == 200
    html = r.content.decode()
    assert world.owner_a.name not in html
    assert world.owner_a.id_number_masked not in html and world.owner_a.phone_masked not in html
    assert AccessLog.objects.count() == before


def test_resident_sees_only_own_dwelling(world, client_for):
    r = client_for(world.users["resident"]).get(urls(world)["building"])
    assert r.status_code == 200
    stack = r.context["stack"]
    assert stack["figures"]["dwellings"] == 1
    assert world.owner_a.name in r.content.decode()
    assert r.context["crumbs"][1]["url"] is None  # the district is not the resident's to see


def test_floor_stack_marks_and_order(world, client_for):
    dev = m.Person.objects.create(name="开发商", kind=m.Person.Kind.DEVELOPER)
    d_dev = world.building_a.dwellings.get(unit__number="1", number="602")
    m.Ownership.objects.create(dwelling=d_dev, person=dev)
    d_two = world.building_a.dwellings.get(unit__number="2", number="301")
    m.Ownership.objects.create(dwelling=d_two, person=world.owner_a)
    r = client_for(world.users["community_worker"]).get(urls(world)["building"])
    units = r.context["stack"]["units"]
    assert [u["number"] for u in units] == ["1", "2"]
    assert [fl["floor"] for fl in units[0]["floors"]] == [6, 5, 4, 3, 2, 1], "top floor first"
    cells = {(u["number"], c.number): c for u in units for c in u["dwellings"]}
    assert cells[("1", "602")].developer and cells[("1", "602")].vacant
    assert not cells[("1", "101")].vacant and cells[("1", "101")].multi and cells[("2", "301")].multi
    assert not cells[("1", "102")].multi
    html = r.content.decode()
    assert 'class="d vacant dev"' in html and 'class="d multi"' in html
    assert '<table aria-labelledby="dwellings-h"' in html


def test_pages_never_decrypt(world, client_for, monkeypatch):
    from linli.core import crypto

    def boom(token: str) -> str:
        raise AssertionError("a page decrypted personal data")

    monkeypatch.setattr(crypto, "decrypt", boom)
    for user in [world.admin, world.users["community_worker"]]:
        c = client_for(user)
        for url in [urls(world)[k] for k in ["community", "geojson", "compound", "building", "grid"]]:
            r = c.get(url)
            assert r.status_code == 200, url
    for role in ["district_admin", "street_command"]:
        assert (
            client_for(world.users[role])
            .get(urls(world)["district" if role == "district_admin" else "street"])
            .status_code
            == 200
        )
    r = client_for(world.admin).get(urls(world)["building"])
    assert world.owner_a.id_number_masked in r.content.decode(), "the roster was shown, masked"


def test_grid_page(world, client_for):
    world.grid_a.boundary = geometry.square(29.5, 106.5, 100.0)
    world.grid_a.save()
    m.GridMember.objects.create(grid=world.grid_a, role=m.GridMember.Role.FORCE, name="王快递", affiliation="顺丰")
    m.GridMember.objects.create(grid=world.grid_a, role=m.GridMember.Role.LEADER, name="陈网格", phone="023-68000000")
    r = client_for(world.users["grid_force"]).get(urls(world)["grid"])
    assert r.status_code == 200
    assert [gm.name for gm in r.context["members"]] == ["陈网格", "王快递"], "leader first"
    assert abs(r.context["area"]["m2"] - 40_000) < 200
    html = r.content.decode()
    assert world.grid_a.code in html and "023-68000000" in html and world.building_a.name in html
    assert r.context["community_url"] is None, "the community is above a grid worker's scope"
    assert world.owner_a.name not in html
    assert (
        client_for(world.users["community_worker"]).get(urls(world)["community"]).context["s"]["grids"][0]["leader"]
        == "陈网格"
    )


# --- Reveal ---------------------------------------------------------------------------------------


def reveal_url(w: Any) -> str:
    return reverse("places:reveal", args=[w.owner_a.pk])


def test_reveal_shows_value_once_and_logs(world, client_for):
    ID_A, PHONE_A = full(world.owner_a)
    c = client_for(world.users["community_worker"])
    r = c.post(reveal_url(world), {"field": "id_number", "reason": "核对改造意见书"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and ID_A in r.content.decode() and "<html" not in r.content.decode()
    assert "no-store" in r["Cache-Control"]
    entry = AccessLog.objects.get(what=AccessLog.What.REVEAL_ID)
    assert entry.user == world.users["community_worker"] and entry.reason == "核对改造意见书"
    r = c.post(reveal_url(world), {"field": "phone", "reason": "上门联系"})
    assert r.status_code == 200 and PHONE_A in r.content.decode() and "<html" in r.content.decode()
    assert AccessLog.objects.filter(what=AccessLog.What.REVEAL_PHONE).count() == 1


def test_reveal_refusals(world, client_for):
    ID_A = full(world.owner_a)[0]
    cw = client_for(world.users["community_worker"])
    r = cw.post(reveal_url(world), {"field": "id_number", "reason": ""}, headers={"HX-Request": "true"})
    assert r.status_code == 400 and ID_A not in r.content.decode()
    assert cw.post(reveal_url(world), {"field": "password", "reason": "核对"}).status_code == 400
    r = client_for(world.users["grid_parttime"]).post(reveal_url(world), {"field": "id_number", "reason": "核对"})
    assert r.status_code == 403 and ID_A not in r.content.decode()
    r = client_for(world.outsider).post(reveal_url(world), {"field": "id_number", "reason": "核对"})
    assert r.status_code == 404
    assert cw.post(reverse("places:reveal", args=[999999]), {"field": "phone", "reason": "核对"}).status_code == 404
    assert cw.get(reveal_url(world)).status_code == 405
    assert not AccessLog.objects.filter(what__in=[AccessLog.What.REVEAL_ID, AccessLog.What.REVEAL_PHONE]).exists()


def test_reveal_needs_csrf(world):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["community_worker"])
    assert c.post(reveal_url(world), {"field": "id_number", "reason": "核对"}).status_code == 403
    assert not AccessLog.objects.filter(what=AccessLog.What.REVEAL_ID).exists()


# --- Size and speed -------------------------------------------------------------------------------


def big_community(street: m.Street, compounds: int = 12, per_compound: int = 10, grids: int = 10) -> m.Community:
    """About 4,000 households: 12 compounds × 10 buildings × 2 units × 6 floors × 3 dwellings, 95 % lived in."""
    comm = f.CommunityFactory(street=street, code="090", name="大社区")
    grid_objs = [
        m.Grid.objects.create(community=comm, seq=i + 1, code=f"500107001090{i + 1:03d}", name=f"大社区第{i + 1}网格")
        for i in range(grids)
    ]
    for gi, g in enumerate(grid_objs):
        m.GridMember.objects.create(grid=g, role=m.GridMember.Role.LEADER, name=f"网格长{gi}")
    n = 0
    people = m.Person.objects.bulk_create(
        [
            m.Person(name=f"业主{i}", id_number_masked="1101**********0015", phone_masked="138****8000")
            for i in range(400)
        ]
    )
    for ci in range(compounds):
        cpd = f.CompoundFactory(
            community=comm, code=f"{ci + 1:04d}", build_year=1975 + ci * 3, lat=29.5 + ci * 0.002, lon=106.5
        )
        for bi in range(per_compound):
            b = f.BuildingFactory(
                compound=cpd,
                code=f"{bi + 1:02d}",
                grid=grid_objs[n % grids],
                lat=29.5 + ci * 0.002,
                lon=106.5 + bi * 0.0003,
            )
            n += 1
            units = m.Unit.objects.bulk_create([m.Unit(building=b, number=str(u + 1)) for u in range(2)])
            dwellings = m.Dwelling.objects.bulk_create(
                [
                    m.Dwelling(unit=u, building=b, floor=fl, number=f"{fl}{k:02d}", area=Decimal("65.5"))
                    for u in units
                    for fl in range(1, 7)
                    for k in range(1, 4)
                ]
            )
            m.Household.objects.bulk_create([m.Household(dwelling=d) for i, d in enumerate(dwellings) if i % 20])
            m.Ownership.objects.bulk_create(
                [m.Ownership(dwelling=d, person=people[(n * 7 + i) % len(people)]) for i, d in enumerate(dwellings)]
            )
    return comm


def test_query_counts_do_not_grow_with_size(world, client_for, django_assert_max_num_queries):
    comm = big_community(world.street1)
    assert m.Household.objects.filter(dwelling__building__community=comm).count() > 3900
    building = m.Building.objects.filter(community=comm).first()
    assert building is not None
    c = client_for(world.users["street_command"])
    with django_assert_max_num_queries(19):
        r = c.get(reverse("places:community", args=[comm.pk]))
    assert r.context["s"]["figures"]["buildings"] == 120
    with django_assert_max_num_queries(12):
        r = c.get(reverse("places:community_geojson", args=[comm.pk]))
    assert len(json.loads(r.content)["features"]) == 12 + 10 + 120
    with django_assert_max_num_queries(21):
        r = c.get(reverse("places:building", args=[building.pk]))
    assert r.context["stack"]["figures"]["dwellings"] == 36 and r.context["stack"]["owners_shown"]
    for name in ["street", "compound", "grid"]:
        obj = {"street": world.street1, "compound": building.compound, "grid": building.grid}[name]
        with django_assert_max_num_queries(19):
            assert c.get(reverse(f"places:{name}", args=[obj.pk])).status_code == 200
