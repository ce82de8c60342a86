"""Place codes and paths (pure Python).

A place's *path* is the codes from the district down, each followed by "/": a district
``500107/``, a street ``500107/001/``, a community ``500107/001/003/``, a compound
``500107/001/003/0012/``, a building ``500107/001/003/0012/05/``. A role held at a place covers
every path that starts with the place's path, so the scope check is one indexed prefix match.

Grid codes follow the Beijing model DB11/T 2157-2023 (rules.md §4): administrative division code
(GB/T 2260, 6 digits) + street (3) + community (3) + sequence (3), grids numbered west→east,
north→south.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

CODE_RE = re.compile(r"^[0-9A-Za-z\-]{1,20}$")
DISTRICT_CODE_RE = re.compile(r"^\d{6}$")


def child_path(parent_path: str, code: str) -> str:
    if not CODE_RE.match(code):
        raise ValueError(f"place code {code!r} must be 1-20 letters, digits or '-'")
    return f"{parent_path}{code}/"


def grid_code(district_code: str, street_code: str, community_code: str, seq: int) -> str:
    if not DISTRICT_CODE_RE.match(district_code):
        raise ValueError("district code must be 6 digits (GB/T 2260)")
    if not (1 <= seq <= 999):
        raise ValueError("grid sequence must be 1-999")
    return f"{district_code}{int(street_code):03d}{int(community_code):03d}{seq:03d}"


def number_west_to_east(centres: Sequence[tuple[float, float]], band_deg: float = 0.004) -> list[int]:
    """Sequence numbers (1-based) for grid centres given as (lat, lon): north→south in bands of
    ``band_deg`` latitude (about 450 m), west→east inside a band, like reading a page."""
    order = sorted(range(len(centres)), key=lambda i: (-round(centres[i][0] / band_deg), centres[i][1]))
    seq = [0] * len(centres)
    for n, i in enumerate(order, start=1):
        seq[i] = n
    return seq


def decade(year: int | None) -> str:
    return "unknown" if year is None else f"{year // 10 * 10}s"


def bbox(points: Iterable[tuple[float, float]]) -> tuple[float, float, float, float] | None:
    pts = list(points)
    if not pts:
        return None
    lats = [p[0] for p in pts]
    lons = [p[1] for p in pts]
    return min(lats), min(lons), max(lats), max(lons)
