"""Plain lat/lon geometry over a few hundred metres (pure Python): a flat approximation is fine.

Two families, each with the constant its stored or shown figures were made with:

- **offsets and hulls** (``offset``, ``convex_hull``, ``hull_polygon``; 111 000 m per degree of
  latitude): the demo generator and grid division (a published grid's outline is the padded hull
  of its buildings);
- **map outlines and areas** for the place pages (``square``, ``bbox_polygon``, ``outline``,
  ``polygon_area_m2``, ``feature``; 111 320 m per degree, the WGS-84 mean): where only a point is
  known a small square is drawn; a grid's area is the equirectangular shoelace area;
- **containment** (``contains_point``): whether a drawn boundary holds a point (ray casting, holes
  respected), e.g. that a workplace lies in its district.

GeoJSON positions are ``[lon, lat]``; functions take ``(lat, lon)``. Distances between two points
are ``linli.core.geo.metres``.
"""

from __future__ import annotations

import math
from typing import Any

M_PER_DEG_LAT = 111_000.0
#: Metres per degree of latitude for map outlines and areas (the WGS-84 mean).
M_PER_DEG_LAT_MAP = 111_320.0


def m_per_deg_lon(lat: float) -> float:
    return M_PER_DEG_LAT * math.cos(math.radians(lat))


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / M_PER_DEG_LAT, lon + east_m / m_per_deg_lon(lat)


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain over (x, y) points; counter-clockwise, not closed."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def hull_polygon(latlons: list[tuple[float, float]], pad_m: float) -> dict[str, Any]:
    """A GeoJSON Polygon ([lon, lat], closed ring) around points, each padded by ``pad_m`` metres."""
    pts: list[tuple[float, float]] = []
    for lat, lon in latlons:
        for dn, de in ((pad_m, pad_m), (pad_m, -pad_m), (-pad_m, pad_m), (-pad_m, -pad_m)):
            la, lo = offset(lat, lon, dn, de)
            pts.append((round(lo, 6), round(la, 6)))
    ring = [list(p) for p in convex_hull(pts)]
    ring.append(list(ring[0]))
    return {"type": "Polygon", "coordinates": [ring]}


# --- map outlines and areas (the place pages, grid events' map) -----------------------------------


def square(lat: float, lon: float, half_m: float) -> dict[str, Any]:
    """A GeoJSON polygon: a square of side 2 × ``half_m`` metres centred on (lat, lon)."""
    dlat = half_m / M_PER_DEG_LAT_MAP
    dlon = half_m / (M_PER_DEG_LAT_MAP * max(math.cos(math.radians(lat)), 1e-6))
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
        [lon - dlon, lat - dlat],
    ]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}


def bbox_polygon(min_lat: float, min_lon: float, max_lat: float, max_lon: float, pad_m: float) -> dict[str, Any]:
    """A GeoJSON rectangle around a bounding box, padded by ``pad_m`` metres on every side."""
    clat = (min_lat + max_lat) / 2
    dlat = pad_m / M_PER_DEG_LAT_MAP
    dlon = pad_m / (M_PER_DEG_LAT_MAP * max(math.cos(math.radians(clat)), 1e-6))
    a, b, c, d = min_lon - dlon, min_lat - dlat, max_lon + dlon, max_lat + dlat
    ring = [[a, b], [c, b], [c, d], [a, d], [a, b]]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}


def is_area_geometry(geometry: object) -> bool:
    """True for a GeoJSON Polygon or MultiPolygon with a coordinate list (what a boundary may be)."""
    return (
        isinstance(geometry, dict)
        and geometry.get("type") in {"Polygon", "MultiPolygon"}
        and isinstance(geometry.get("coordinates"), list)
    )


def outline(boundary: object, lat: float | None, lon: float | None, half_m: float) -> dict[str, Any] | None:
    """The boundary when it is a polygon, else a small square around the point, else None."""
    if is_area_geometry(boundary):
        assert isinstance(boundary, dict)
        return boundary
    if lat is not None and lon is not None:
        return square(lat, lon, half_m)
    return None


def _ring_area_m2(ring: list[list[float]], lat0: float) -> float:
    kx = M_PER_DEG_LAT_MAP * math.cos(math.radians(lat0))
    total = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        total += (x1 * kx) * (y2 * M_PER_DEG_LAT_MAP) - (x2 * kx) * (y1 * M_PER_DEG_LAT_MAP)
    return abs(total) / 2


def polygon_area_m2(geometry: object) -> float | None:
    """Approximate area in m² of a GeoJSON Polygon or MultiPolygon (lon/lat degrees, WGS-84).

    Equirectangular projection at the polygon's mean latitude, then the shoelace formula; holes
    are subtracted. Within 0.5 % for shapes the size of a grid (a few hundred metres)."""
    if not is_area_geometry(geometry):
        return None
    assert isinstance(geometry, dict)
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    try:
        rings = [[[float(p[0]), float(p[1])] for p in ring] for poly in polygons for ring in poly]
        lats = [p[1] for ring in rings for p in ring]
        if not lats:
            return None
        lat0 = sum(lats) / len(lats)
        area = 0.0
        for poly in polygons:
            for i, ring in enumerate(poly):
                a = _ring_area_m2([[float(p[0]), float(p[1])] for p in ring], lat0)
                area += a if i == 0 else -a
    except (TypeError, ValueError, IndexError):
        return None
    return area


def _ring_contains(ring: list[list[float]], lat: float, lon: float) -> bool:
    """Ray casting over one GeoJSON ring ([lon, lat] positions)."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = float(ring[i][0]), float(ring[i][1])
        xj, yj = float(ring[j][0]), float(ring[j][1])
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / ((yj - yi) or 1e-300) + xi:
            inside = not inside
        j = i
    return inside


def contains_point(geometry: object, lat: float, lon: float) -> bool | None:
    """Whether a GeoJSON Polygon or MultiPolygon (holes respected) contains the point; None when
    ``geometry`` is not an area (no boundary drawn). GeoJSON positions are ``[lon, lat]``."""
    if not isinstance(geometry, dict):
        return None
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if not isinstance(coords, list) or not coords:
        return None
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords
    else:
        return None
    try:
        for polygon in polygons:
            if (
                polygon
                and _ring_contains(polygon[0], lat, lon)
                and not any(_ring_contains(hole, lat, lon) for hole in polygon[1:])
            ):
                return True
    except (TypeError, ValueError, IndexError):
        return None
    return False


def feature(geometry: dict[str, Any], **props: object) -> dict[str, Any]:
    """A GeoJSON Feature with these properties."""
    return {"type": "Feature", "geometry": geometry, "properties": props}
