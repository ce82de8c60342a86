"""Distances on the earth (pure Python, no Django): the one distance function of Linli.

Every app that measures how far two points are apart (event snapping and duplicates, the demo's
street, home-visit routes, and later sensors and nearby jobs) calls ``metres()``; a flat
approximation over a few hundred metres lives in ``places/geometry.py`` for outlines only.
"""

from __future__ import annotations

import math

EARTH_M = 6_371_000.0  # mean earth radius (IUGG), metres


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two WGS-84 points in degrees (haversine), in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(min(1.0, a)))


def box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lat/lon box that contains every point within ``radius_m`` of (lat, lon): (south, north, west,
    east). For a cheap indexed pre-filter before ``metres()``; never smaller than the circle."""
    dlat = math.degrees(radius_m / EARTH_M)
    dlon = dlat / max(0.01, math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
