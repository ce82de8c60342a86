"""linli/places/geometry.py: plain lat/lon geometry, pure (no Django: the "pure" contract)."""

from __future__ import annotations

import math

import pytest

from linli.core.geo import metres
from linli.places import geometry


def test_polygon_area():
    assert geometry.polygon_area_m2(geometry.square(29.5, 106.5, 50.0)) == pytest.approx(10_000, rel=0.01)
    holed = {
        "type": "Polygon",
        "coordinates": [
            geometry.square(29.5, 106.5, 50.0)["coordinates"][0],
            geometry.square(29.5, 106.5, 25.0)["coordinates"][0],
        ],
    }
    assert geometry.polygon_area_m2(holed) == pytest.approx(7_500, rel=0.01)
    multi = {
        "type": "MultiPolygon",
        "coordinates": [
            geometry.square(29.5, 106.5, 50.0)["coordinates"],
            geometry.square(29.6, 106.6, 50.0)["coordinates"],
        ],
    }
    assert geometry.polygon_area_m2(multi) == pytest.approx(20_000, rel=0.01)
    assert geometry.polygon_area_m2(None) is None
    assert geometry.polygon_area_m2({"type": "Point", "coordinates": [1, 2]}) is None


def test_square_is_centred_and_of_the_given_side():
    sq = geometry.square(29.5, 106.5, 50.0)
    ring = sq["coordinates"][0]
    assert sq["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 5
    (w, s), (e, n) = ring[0], ring[2]
    assert (w + e) / 2 == pytest.approx(106.5) and (s + n) / 2 == pytest.approx(29.5)
    assert metres(s, w, s, e) == pytest.approx(100, rel=0.01)
    assert metres(s, w, n, w) == pytest.approx(100, rel=0.01)


def test_bbox_polygon_pads_every_side():
    box = geometry.bbox_polygon(29.50, 106.50, 29.51, 106.52, 40.0)
    (w, s), _, (e, n), _, _ = box["coordinates"][0]
    assert w < 106.50 and e > 106.52 and s < 29.50 and n > 29.51
    assert metres(29.50, 106.50, s, 106.50) == pytest.approx(40, rel=0.01)


def test_outline_prefers_the_boundary_then_a_square_then_nothing():
    poly = geometry.square(29.5, 106.5, 10.0)
    assert geometry.outline(poly, 1.0, 2.0, 60.0) is poly
    assert geometry.outline({"type": "Point", "coordinates": [1, 2]}, 29.5, 106.5, 60.0) == geometry.square(
        29.5, 106.5, 60.0
    )
    assert geometry.outline(None, None, 106.5, 60.0) is None


def test_is_area_geometry():
    assert geometry.is_area_geometry({"type": "MultiPolygon", "coordinates": []})
    assert not geometry.is_area_geometry({"type": "Polygon"})
    assert not geometry.is_area_geometry({"type": "LineString", "coordinates": []})
    assert not geometry.is_area_geometry("Polygon")


def test_feature():
    f = geometry.feature({"type": "Point", "coordinates": [1, 2]}, name="A", households=3)
    assert f == {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [1, 2]},
        "properties": {"name": "A", "households": 3},
    }


def test_hull_polygon_is_closed_and_padded():
    pts = [(29.5, 106.5), (29.501, 106.5), (29.5, 106.501), (29.5005, 106.5005)]
    hull = geometry.hull_polygon(pts, 10.0)
    ring = hull["coordinates"][0]
    assert ring[0] == ring[-1]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lats) < 29.5 < 29.501 < max(lats) and min(lons) < 106.5 < 106.501 < max(lons)


def test_offset_moves_by_metres():
    lat, lon = geometry.offset(29.5, 106.5, 100.0, 0.0)
    assert lon == 106.5 and (lat - 29.5) * geometry.M_PER_DEG_LAT == pytest.approx(100)
    lat, lon = geometry.offset(29.5, 106.5, 0.0, 100.0)
    assert (lon - 106.5) * geometry.M_PER_DEG_LAT * math.cos(math.radians(29.5)) == pytest.approx(100)


def test_contains_point_respects_holes_and_every_part_and_knows_no_area():
    outer = geometry.square(29.5, 106.5, 500.0)["coordinates"][0]
    hole = geometry.square(29.5, 106.5, 100.0)["coordinates"][0]
    holed = {"type": "Polygon", "coordinates": [outer, hole]}
    assert geometry.contains_point(holed, 29.5, 106.5) is False  # in the hole
    assert geometry.contains_point(holed, 29.503, 106.5) is True  # about 330 m north: in the ring
    assert geometry.contains_point(holed, 29.51, 106.5) is False  # about 1.1 km north: outside
    multi = {"type": "MultiPolygon", "coordinates": [[outer], geometry.square(29.6, 106.6, 50.0)["coordinates"]]}
    assert geometry.contains_point(multi, 29.6, 106.6) is True
    assert geometry.contains_point(multi, 29.55, 106.55) is False
    for not_an_area in (None, {}, {"type": "Point", "coordinates": [106.5, 29.5]}, {"type": "Polygon"}, [outer]):
        assert geometry.contains_point(not_an_area, 29.5, 106.5) is None
    assert geometry.contains_point({"type": "Polygon", "coordinates": [["x"]]}, 29.5, 106.5) is None  # damaged
