"""Grid division pages (linli/governance/views/division.py, queries/division.py, services/division.py):
preview, move, publish; the grids are written by places (``places.services.write_grids``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signing
from django.urls import reverse

from linli.governance.queries import division as q
from linli.governance.services import division as svc
from linli.places import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_band(settings: Any) -> None:
    settings.LINLI_GRID_MIN_HOUSEHOLDS = 2
    settings.LINLI_GRID_MAX_HOUSEHOLDS = 4


def _add_building(compound: m.Compound, code: str, lat: float, lon: float, households: int) -> m.Building:
    b = f.BuildingFactory(compound=compound, code=code, name=f"{int(code)}栋", lat=lat, lon=lon)
    unit = m.Unit.objects.create(building=b, number="1")
    for k in range(households):
        d = m.Dwelling.objects.create(unit=unit, floor=1, number=f"1{k:02d}", area="60.00")
        m.Household.objects.create(dwelling=d)
    return b


@pytest.fixture
def row(world: Any) -> list[m.Building]:
    """Five more buildings of community A in a row going east, 2 households each."""
    return [_add_building(world.compound_a, f"{i:02d}", 29.5012, 106.5012 + 0.001 * (i - 1), 2) for i in range(2, 7)]


def _url(world: Any, name: str = "governance:division") -> str:
    return reverse(name, args=[world.comm_a.pk])


def _preview(client: Any, world: Any) -> Any:
    r = client.get(_url(world))
    assert r.status_code == 200, r.content[:500]
    return r


def test_worker_previews_and_publishes(world: Any, row: list[m.Building], client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    r = _preview(c, world)
    summary = r.context["summary"]
    assert sum(len(g.buildings) for g in summary.grids) == 6
    assert [g.seq for g in summary.grids] == list(range(1, len(summary.grids) + 1))
    assert b'data-testid="proposed-grids"' in r.content
    # the map data carry each building's proposed grid
    feats = r.context["geojson"]["features"]
    assert len(feats) == 6 and all("grid" in ft["properties"] for ft in feats)
    # an empty leftover grid without a team is removed; one with a team is kept, unpublished
    spare = m.Grid.objects.create(community=world.comm_a, seq=50, code="500107001001050", name="x")
    teamed = m.Grid.objects.create(community=world.comm_a, seq=51, code="500107001001051", name="y")
    m.GridMember.objects.create(grid=teamed, role="leader", name="王五")

    draft = r.context["draft"]
    # publishing asks first and says what it writes; that first POST changes nothing
    before = list(m.Building.objects.filter(community=world.comm_a).values_list("pk", "grid_id"))
    r = c.post(_url(world, "governance:division_publish"), {"draft": draft})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html and 'name="confirm" value="1"' in html
    assert f"{len(summary.grids)} 个网格" in html or f"{len(summary.grids)} grids" in html
    assert list(m.Building.objects.filter(community=world.comm_a).values_list("pk", "grid_id")) == before
    assert m.Grid.objects.filter(pk=spare.pk).exists()
    r = c.post(_url(world, "governance:division_publish"), {"draft": draft, "confirm": "1"})
    assert r.status_code == 302, r.content[:500]
    n = len(summary.grids)
    grids = list(m.Grid.objects.filter(community=world.comm_a, published=True).order_by("seq"))
    assert [g.seq for g in grids] == list(range(1, n + 1))
    for g in grids:
        assert g.code == f"500107001001{g.seq:03d}"
        assert g.name == f"{world.comm_a.name}第{g.seq}网格"
    buildings = m.Building.objects.filter(community=world.comm_a)
    assert buildings.count() == 6
    assert not buildings.filter(grid__isnull=True).exists()
    assert all(b.grid.community_id == world.comm_a.pk for b in buildings)
    # grid sequence numbers run west → east along the row
    seqs = [b.grid.seq for b in buildings.order_by("lon")]
    assert seqs == sorted(seqs)
    assert not m.Grid.objects.filter(pk=spare.pk).exists()
    teamed.refresh_from_db()
    assert teamed.published is False
    # grids of other communities untouched
    assert m.Grid.objects.filter(pk=world.grid_b.pk, published=True).exists()
    world.building_b.refresh_from_db()
    assert world.building_b.grid_id == world.grid_b.pk


def test_outsider_gets_404(world: Any, row: list[m.Building], client_for: Any) -> None:
    draft = svc.sign(q.propose(world.comm_a))
    c = client_for(world.outsider)
    assert c.get(_url(world)).status_code == 404
    assert c.post(_url(world, "governance:division_publish"), {"draft": draft}).status_code == 404
    assert m.Grid.objects.filter(community=world.comm_a).count() == 1


@pytest.mark.parametrize("role", ["grid_force", "grid_leader", "street_command", "resident"])
def test_roles_without_edit_refused(world: Any, row: list[m.Building], client_for: Any, role: str) -> None:
    draft = svc.sign(q.propose(world.comm_a))
    c = client_for(world.users[role])
    assert c.get(_url(world)).status_code in (403, 404)
    r = c.post(_url(world, "governance:division_publish"), {"draft": draft})
    assert r.status_code in (403, 404)
    assert m.Grid.objects.filter(community=world.comm_a).count() == 1


def test_tampered_draft_is_400(world: Any, row: list[m.Building], client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    token = _preview(c, world).context["draft"]
    bad = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    before = list(m.Building.objects.filter(community=world.comm_a).values_list("pk", "grid_id"))
    for url in (_url(world), _url(world, "governance:division_publish")):
        r = c.post(url, {"draft": bad})
        assert r.status_code == 400
        assert b'data-testid="errors"' in r.content
    # a validly signed draft of another community is refused too
    other = signing.dumps({"community": world.comm_b.pk, "buildings": [], "grids": []}, salt=svc.SALT)
    assert c.post(_url(world, "governance:division_publish"), {"draft": other}).status_code == 400
    assert list(m.Building.objects.filter(community=world.comm_a).values_list("pk", "grid_id")) == before


def test_draft_after_building_added_is_409(world: Any, row: list[m.Building], client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    token = _preview(c, world).context["draft"]
    _add_building(world.compound_a, "07", 29.5015, 106.5015, 2)
    before = list(m.Grid.objects.values_list("pk", "code"))
    r = c.post(_url(world, "governance:division_publish"), {"draft": token})
    assert r.status_code == 409
    assert "重新划分".encode() in r.content or b"run the division again" in r.content
    assert c.post(_url(world), {"draft": token}).status_code == 409
    assert list(m.Grid.objects.values_list("pk", "code")) == before
    assert m.Building.objects.filter(community=world.comm_a, grid__isnull=True).count() == 6


def test_moving_a_building_changes_the_table(world: Any, row: list[m.Building], client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    r = _preview(c, world)
    grids = r.context["summary"].grids
    assert len(grids) >= 2
    src = next(g for g in grids if len(g.buildings) > 1)
    dst = next(g for g in grids if g.seq != src.seq)
    b = max(src.buildings, key=lambda x: x["households"])
    data = {"draft": r.context["draft"], f"b-{b['id']}": str(dst.seq)}
    r2 = c.post(_url(world), data)
    assert r2.status_code == 200
    after = r2.context["summary"]
    totals = sorted(g.households for g in after.grids)
    assert totals != sorted(g.households for g in grids)
    assert sum(totals) == sum(g.households for g in grids)
    moved_to = next(g for g in after.grids if any(x["id"] == b["id"] for x in g.buildings))
    assert {x["id"] for x in moved_to.buildings} == {x["id"] for x in dst.buildings} | {b["id"]}
    # the new draft publishes as shown (confirming a split grid if the move made one)
    confirm = {"accept_split": "1"} if after.warnings else {}
    r3 = c.post(_url(world, "governance:division_publish"), {"draft": r2.context["draft"], **confirm, "confirm": "1"})
    assert r3.status_code == 302
    gb = m.Building.objects.get(pk=b["id"]).grid
    assert gb is not None
    mates = set(m.Building.objects.filter(grid=gb).values_list("pk", flat=True))
    assert mates == {x["id"] for x in moved_to.buildings}


def test_draft_after_households_changed_is_409(world: Any, row: list[m.Building], client_for: Any) -> None:
    c = client_for(world.users["community_worker"])
    token = _preview(c, world).context["draft"]
    d = m.Dwelling.objects.filter(unit__building=row[0]).first()
    assert d is not None
    m.Household.objects.create(dwelling=d)  # a roster import added a household
    r = c.post(_url(world, "governance:division_publish"), {"draft": token})
    assert r.status_code == 409
    assert "户数".encode() in r.content or b"Household counts" in r.content
    assert m.Building.objects.filter(community=world.comm_a, grid__isnull=True).count() == len(row)


def test_split_grid_needs_confirmation_and_published_grids_get_outlines(
    world: Any, row: list[m.Building], client_for: Any
) -> None:
    c = client_for(world.users["community_worker"])
    r = _preview(c, world)
    summary = r.context["summary"]
    by_lon = sorted(((b["lon"], b["id"], g.seq) for g in summary.grids for b in g.buildings), key=lambda x: x[0])
    # send the westernmost building to the grid of the easternmost: that grid is now in two pieces
    west, east = by_lon[0], by_lon[-1]
    assert west[2] != east[2]
    r2 = c.post(_url(world), {"draft": r.context["draft"], f"b-{west[1]}": str(east[2])})
    assert r2.status_code == 200 and r2.context["summary"].warnings
    assert b'data-testid="warnings"' in r2.content and b'name="accept_split"' in r2.content
    draft = r2.context["draft"]
    refused = c.post(_url(world, "governance:division_publish"), {"draft": draft})
    assert refused.status_code == 400
    assert "不连片".encode() in refused.content
    assert m.Building.objects.filter(community=world.comm_a, grid__isnull=True).count() == len(row)
    asked = c.post(_url(world, "governance:division_publish"), {"draft": draft, "accept_split": "1"})
    assert asked.status_code == 200 and b'name="accept_split" value="1"' in asked.content  # carried to the confirmation
    assert m.Building.objects.filter(community=world.comm_a, grid__isnull=True).count() == len(row)
    ok = c.post(_url(world, "governance:division_publish"), {"draft": draft, "accept_split": "1", "confirm": "1"})
    assert ok.status_code == 302
    for g in m.Grid.objects.filter(community=world.comm_a, published=True):
        assert g.boundary and g.boundary["type"] == "Polygon"
        ring = g.boundary["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4
        for b in m.Building.objects.filter(grid=g):  # every building lies inside its grid's box
            lons = [p[0] for p in ring]
            lats = [p[1] for p in ring]
            assert min(lons) <= b.lon <= max(lons) and min(lats) <= b.lat <= max(lats)


def test_division_page_matrix(world: Any, client_for: Any) -> None:
    """Every role on the division pages, in and outside its scope (EDIT on the community only)."""
    allowed = {"district_admin", "community_worker"}
    for role, user in [*world.users.items(), ("outsider", world.outsider)]:
        c = client_for(user)
        for comm in (world.comm_a, world.comm_b):
            mine = (role == "outsider" and comm == world.comm_b) or (role in allowed and comm == world.comm_a)
            if role == "district_admin":
                mine = True
            r = c.get(reverse("governance:division", args=[comm.pk]))
            assert (r.status_code == 200) == mine, (role, comm.name, r.status_code)
            assert r.status_code in (200, 403, 404)
            r = c.post(reverse("governance:division_publish", args=[comm.pk]), {"draft": "x"})
            assert r.status_code in ((400,) if mine else (403, 404)), (role, comm.name, r.status_code)


def test_community_page_links_division_for_edit_only(world: Any, client_for: Any) -> None:
    url = reverse("governance:division", args=[world.comm_a.pk]).encode()
    page = reverse("places:community", args=[world.comm_a.pk])
    assert url in client_for(world.users["community_worker"]).get(page).content
    assert url not in client_for(world.users["street_command"]).get(page).content
