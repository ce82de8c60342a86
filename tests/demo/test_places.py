"""The demo district: deterministic, realistic, loadable, and its demo logins scoped correctly."""

from __future__ import annotations

import math
import random
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.http import HttpRequest

from linli.accounts.models import RoleGrant, User
from linli.accounts.permissions import can
from linli.accounts.roles import Action
from linli.core import crypto
from linli.core.masking import is_valid_id_number, is_valid_phone
from linli.demo import places as demo_places
from linli.places import models as m

SMALL = 0.02


@pytest.fixture(scope="module")
def small() -> demo_places.DemoDistrict:
    return demo_places.generate(seed=2024, scale=SMALL)


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat1 - lat2) * 111_000
    dx = (lon1 - lon2) * 111_000 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


# --- the pure generator ---------------------------------------------------------------------------


def test_same_seed_same_district_other_seed_other(small):
    assert demo_places.generate(seed=2024, scale=SMALL) == small
    other = demo_places.generate(seed=2025, scale=SMALL)
    assert other != small
    assert [p.id_number for p in other.people[:50]] != [p.id_number for p in small.people[:50]]


def test_tree_and_names(small):
    assert (small.code, small.name) == ("500107", "九龙坡区")
    xjw, yjp = small.streets
    assert (xjw.code, xjw.name, len(xjw.communities)) == ("001", "谢家湾街道", 14)
    assert (yjp.code, yjp.name) == ("002", "杨家坪街道") and 3 <= len(yjp.communities) <= 4
    names = [c.name for c in xjw.communities]
    assert demo_places.LAODONG in names and demo_places.MINZHU in names
    minzhu = next(c for c in xjw.communities if c.name == demo_places.MINZHU)
    assert minzhu.compounds[0].is_historic and 1950 <= minzhu.compounds[0].build_year < 1960


def test_people_have_valid_ids_and_phones(small):
    ids = [p.id_number for p in small.people if p.kind == "person"]
    assert ids and all(is_valid_id_number(i) and i.startswith("5001") for i in ids)
    assert len(set(ids)) == len(ids)
    assert all(p.id_number == "" for p in small.people if p.kind == "developer")
    phones = [p.phone for p in small.people if p.phone]
    assert len(phones) > 0.8 * len(ids) and all(is_valid_phone(x) and x[1] in "3456789" for x in phones)
    # the birth date in the ID number agrees with the birth year
    assert all(int(p.id_number[6:10]) == p.birth_year for p in small.people if p.kind == "person")


def test_dwellings_areas_numbers_and_occupancy(small):
    dwellings = small.dwellings()
    for b in small.buildings():
        assert b.storeys >= 1 and b.units
        assert (b.building_kind == "tower") == (b.storeys >= 18)
        if b.building_kind == "tower":
            assert b.has_lift
        for u in b.units:
            numbers = [d.number for d in u.dwellings]
            assert len(numbers) == len(set(numbers)), (b.name, u.number)
            for d in u.dwellings:
                assert d.number == f"{d.floor:02d}{d.number[2:]}" and 1 <= d.floor <= b.storeys
                assert d.area.as_tuple().exponent == -2
                if d.use == "residential":
                    assert 40 <= d.area <= 140
                assert d.owners, "every dwelling has an owner"
                assert sum(s for _, s in d.owners) == 1
                if d.use == "commercial":
                    assert d.household is None and d.floor == 1
                if d.household is not None:
                    assert 1 <= len(d.household.residents) <= 4
                    assert d.household.residents[0][1] == "head"
    residential = [d for d in dwellings if d.use == "residential"]
    occupied = sum(1 for d in residential if d.household is not None) / len(residential)
    assert 0.8 < occupied < 0.97


def test_developers_hold_unsold_dwellings_and_some_owners_several(small):
    people = small.people
    developers = Counter(i for d in small.dwellings() for i, _ in d.owners if people[i].kind == "developer")
    assert developers and len(developers) <= len(small.compounds())
    holdings = Counter(i for d in small.dwellings() for i, _ in d.owners if people[i].kind == "person")
    assert sum(1 for n in holdings.values() if n > 1) >= 1


def test_geometry_stays_near_the_centres(small):
    for c in small.communities():
        assert _metres(c.lat, c.lon, 29.50, 106.50) < 8000
        ring = c.boundary["coordinates"][0]
        assert c.boundary["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) >= 4
        assert 106 < ring[0][0] < 107 and 29 < ring[0][1] < 30, "[lon, lat] order"
        for cp in c.compounds:
            assert _metres(cp.lat, cp.lon, c.lat, c.lon) <= 600
            assert cp.boundary["coordinates"][0][0] == cp.boundary["coordinates"][0][-1]
            for b in cp.buildings:
                assert _metres(b.lat, b.lon, cp.lat, cp.lon) < 300


def test_grids_codes_and_rosters(small):
    codes = []
    for s in small.streets:
        for c in s.communities:
            seqs = sorted(g.seq for g in c.grids)
            assert seqs == list(range(1, len(c.grids) + 1))
            assert {b.grid_seq for cp in c.compounds for b in cp.buildings} <= set(seqs)
            assert all(b.grid_seq for cp in c.compounds for b in cp.buildings)
            for g in c.grids:
                assert g.code == f"500107{int(s.code):03d}{int(c.code):03d}{g.seq:03d}"
                roles = Counter(mem.role for mem in g.members)
                assert roles["leader"] == 1 and roles["instructor"] == 1
                assert roles["fulltime"] + roles["parttime"] == 3 and roles["force"] >= 3
                assert all(is_valid_phone(mem.phone) and mem.name for mem in g.members)
                codes.append(g.code)
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("seed", range(40))
def test_cut_into_grids_keeps_the_band(seed):
    r = random.Random(seed)
    weights = [r.randint(5, 100) for _ in range(r.randint(8, 120))]
    total = sum(weights)
    groups = demo_places.cut_into_grids(weights)
    assert [i for g in groups for i in g] == list(range(len(weights))), "consecutive, all buildings once"
    sums = [sum(weights[i] for i in g) for g in groups]
    if 300 <= total <= 500 or total >= 600:  # (500, 600) cannot be cut into groups of 300–500
        assert all(300 <= s <= 500 for s in sums), sums
    if total < 300:
        assert len(groups) == 1


def test_cut_into_grids_edges():
    assert demo_places.cut_into_grids([]) == []
    assert demo_places.cut_into_grids([120, 80]) == [[0, 1]]
    assert demo_places.cut_into_grids([600]) == [[0]]  # one building above the band stays one grid


def test_whole_street_at_full_scale():
    """The seed article's street: 14 communities, ~60,000 households, ~168 grids of 300–500."""
    full = demo_places.generate()
    xjw = full.streets[0]
    grids = [g for c in xjw.communities for g in c.grids]
    households = sum(g.households for g in grids)
    assert 57_000 <= households <= 63_000
    assert 160 <= len(grids) <= 176
    assert all(300 <= g.households <= 500 for c in full.communities() for g in c.grids)
    counts = full.counts()
    assert 64_000 <= counts["households"] <= 72_000 and 135_000 <= counts["people"] <= 170_000
    years = [cp.build_year for cp in full.compounds()]
    assert any(y >= 2001 for y in years) and sum(y < 2001 for y in years) > 0.7 * len(years)


# --- the commands ---------------------------------------------------------------------------------


def _db_counts() -> dict[str, int]:
    return {
        "districts": m.District.objects.count(),
        "streets": m.Street.objects.count(),
        "communities": m.Community.objects.count(),
        "compounds": m.Compound.objects.count(),
        "buildings": m.Building.objects.count(),
        "units": m.Unit.objects.count(),
        "dwellings": m.Dwelling.objects.count(),
        "people": m.Person.objects.count(),
        "ownerships": m.Ownership.objects.count(),
        "households": m.Household.objects.count(),
        "residents": m.Resident.objects.count(),
        "grids": m.Grid.objects.count(),
        "grid_members": m.GridMember.objects.count(),
    }


@pytest.mark.django_db
def test_load_demo_writes_the_generated_district(small):
    out = StringIO()
    call_command("load_demo", scale=SMALL, verbosity=0, stdout=out)
    assert "演示区已载入" in out.getvalue() and "demo district loaded" in out.getvalue()
    assert _db_counts() == small.counts()

    # what save() would have set
    for b in m.Building.objects.select_related("compound__community__street__district", "grid"):
        assert b.community_id == b.compound.community_id
        assert b.path == f"{b.compound.path}{b.code}/" and b.path.startswith("500107/")
        assert b.grid is not None and b.grid.community_id == b.community_id
    assert not m.Dwelling.objects.exclude(building_id=F("unit__building_id")).exists()
    laodong = m.Community.objects.get(name=demo_places.LAODONG)
    assert laodong.path == "500107/001/001/"

    # encrypted at rest, masked for lists, the same person as generated
    first = next(p for p in small.people if p.kind == "person")
    person = m.Person.objects.get(id_number_hash=crypto.lookup_hash(first.id_number))
    assert person.name == first.name
    assert person.id_number_masked == first.id_number[:4] + "*" * 10 + first.id_number[-4:]
    assert first.id_number not in person.id_number_enc
    assert person._id_number() == first.id_number and person._phone() == first.phone

    out = StringIO()
    call_command("load_demo", if_empty=True, stdout=out)
    assert "未载入" in out.getvalue() and "not loaded" in out.getvalue()
    assert _db_counts() == small.counts()
    with pytest.raises(CommandError):
        call_command("load_demo", scale=SMALL, verbosity=0, stdout=StringIO())


@pytest.mark.django_db
def test_demo_logins_need_a_district():
    with pytest.raises(CommandError, match="load_demo"):
        call_command("demo_logins", stdout=StringIO())


@pytest.mark.django_db
def test_demo_logins_sign_in_and_are_scoped(monkeypatch, client):
    monkeypatch.setenv("LINLI_DEMO_PASSWORD", "a-demo-password-for-tests")
    call_command("load_demo", scale=SMALL, verbosity=0, stdout=StringIO())
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "a-demo-password-for-tests" in text and "http://127.0.0.1:8000/" in text
    assert "社区工作者 / Community worker" in text and demo_places.LAODONG in text
    grants = RoleGrant.objects.count()
    call_command("demo_logins", stdout=StringIO())  # idempotent
    assert RoleGrant.objects.count() == grants == 7
    assert User.objects.filter(username__startswith="demo-").count() == 8

    for name in (
        "demo-admin",
        "demo-street",
        "demo-community",
        "demo-grid",
        "demo-resident",
        "demo-operator",
        "demo-dept",
        "demo-root",
    ):
        assert client.login(request=HttpRequest(), username=name, password="a-demo-password-for-tests"), name
        client.logout()

    users = {u.username: u for u in User.objects.filter(username__startswith="demo-")}
    laodong = m.Community.objects.get(name=demo_places.LAODONG)
    minzhu = m.Community.objects.get(name=demo_places.MINZHU)
    yjp_community = m.Community.objects.filter(street__code="002").first()
    assert can(users["demo-community"], Action.VIEW, laodong)
    assert not can(users["demo-community"], Action.VIEW, minzhu)
    assert can(users["demo-street"], Action.VIEW, minzhu)
    assert not can(users["demo-street"], Action.VIEW, yjp_community)
    assert can(users["demo-admin"], Action.EDIT, yjp_community)
    assert can(users["demo-dept"], Action.VIEW, minzhu) and not can(users["demo-dept"], Action.VIEW_PEOPLE, minzhu)

    grid1 = m.Grid.objects.get(community=laodong, seq=1)
    in_grid = m.Building.objects.filter(grid=grid1).first()
    outside = m.Building.objects.exclude(grid=grid1).filter(community=laodong).first()
    assert in_grid is not None and can(users["demo-grid"], Action.VIEW, in_grid)
    if outside is not None:
        assert not can(users["demo-grid"], Action.VIEW, outside)

    grant = RoleGrant.objects.get(user=users["demo-resident"])
    dwelling = m.Dwelling.objects.get(pk=grant.place_id)
    assert dwelling.building.community_id == laodong.pk and dwelling.households.exists()
    assert can(users["demo-resident"], Action.VIEW, dwelling)
    other = m.Dwelling.objects.exclude(pk=dwelling.pk).first()
    assert other is not None and not can(users["demo-resident"], Action.VIEW, other)
    # demo-resident votes online: verified in person as the dwelling's owner by demo-community
    from linli.accounts.models import OwnerAccount

    account = OwnerAccount.objects.get(user=users["demo-resident"], revoked_at__isnull=True)
    assert account.method == "in_person" and account.verified_by == users["demo-community"]
    assert m.Ownership.objects.filter(dwelling=dwelling, person=account.person).exists()
