"""Plain lat/lon geometry over a few hundred metres (pure Python): a flat approximation is fine.

Used by the demo generator and by grid division (a published grid's outline is the padded hull
of its buildings).
"""

from __future__ import annotations

import math

M_PER_DEG_LAT = 111_000.0


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


def hull_polygon(latlons: list[tuple[float, float]], pad_m: float) -> dict:
    """A GeoJSON Polygon ([lon, lat], closed ring) around points, each padded by ``pad_m`` metres."""
    pts: list[tuple[float, float]] = []
    for lat, lon in latlons:
        for dn, de in ((pad_m, pad_m), (pad_m, -pad_m), (-pad_m, pad_m), (-pad_m, -pad_m)):
            la, lo = offset(lat, lon, dn, de)
            pts.append((round(lo, 6), round(la, 6)))
    ring = [list(p) for p in convex_hull(pts)]
    ring.append(list(ring[0]))
    return {"type": "Polygon", "coordinates": [ring]}
