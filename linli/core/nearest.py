"""The nearest point within a radius, from a grid of cells held in memory (pure Python, no Django).

The Open311 intake snaps every report to the nearest registered building. Asking the database for it
cost a statement on every request (a fifth of the intake's database CPU and a sixth of its worker
CPU, ``python -m bench.bench_open311 --phases``); ``Grid`` answers the same question from memory:

* points are kept in square cells of ``cell_m`` metres north–south (the same number of degrees
  east–west, so narrower there by cos(latitude));
* ``nearest`` looks at the cell of the query, then ring after ring of cells around it, measuring
  each point with ``geo.metres`` (the one distance function), and stops as soon as nothing in an
  unvisited ring can be nearer than the best found, or further than the radius;
* ties go to the smaller key, so the answer is exactly what a brute-force scan of every point
  ordered by (distance, key) gives (``tests/core/test_nearest.py`` checks it against one).

A ``Grid`` is built once and never changed: replace it to change it (readers on other threads keep
the one they hold).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from linli.core.geo import EARTH_M, metres

#: metres per degree of latitude (the sphere of ``geo.metres``)
M_PER_DEGREE = math.pi * EARTH_M / 180


class Grid:
    """Rows (tuples) with a position: ``key(row)``, ``lat(row)``, ``lon(row)`` read by index."""

    def __init__(self, rows: Iterable[Sequence[Any]], *, key: int, lat: int, lon: int, cell_m: float = 50.0) -> None:
        if cell_m <= 0:
            raise ValueError("cell_m must be positive")
        self.cell_deg = cell_m / M_PER_DEGREE
        self.cell_m = cell_m
        self._key, self._lat, self._lon = key, lat, lon
        cells: dict[tuple[int, int], list[Sequence[Any]]] = defaultdict(list)
        size = 0
        for row in rows:
            la, lo = row[lat], row[lon]
            if la is None or lo is None:
                continue
            cells[self._cell(float(la), float(lo))].append(row)
            size += 1
        self._cells = dict(cells)
        self.size = size

    def __len__(self) -> int:
        return self.size

    def _cell(self, la: float, lo: float) -> tuple[int, int]:
        return math.floor(la / self.cell_deg), math.floor(lo / self.cell_deg)

    def nearest(
        self, la: float, lo: float, radius_m: float, accept: Callable[[Sequence[Any]], bool] | None = None
    ) -> tuple[float, Sequence[Any]] | None:
        """(metres, row) of the point nearest to (la, lo) within ``radius_m`` (ties: the smaller
        key) among the rows ``accept`` takes (all without it), or None."""
        ci, cj = self._cell(la, lo)
        # Anything outside rings 0..r differs by more than r cells in latitude (≥ r·cell_m metres) or
        # in longitude (≥ r·cell_m·cos(latitude), less a margin for the sphere): a lower bound of
        # the distance of every point not yet measured.
        per_ring = self.cell_m * math.cos(math.radians(min(89.0, abs(la) + 1.0))) * 0.999
        best: tuple[float, Any, Sequence[Any]] | None = None
        cells, key = self._cells, self._key
        r = 0
        while True:
            if r == 0:
                ring: Iterable[tuple[int, int]] = ((ci, cj),)
            else:
                ring = _ring(ci, cj, r)
            for c in ring:
                for row in cells.get(c, ()):
                    d = metres(la, lo, row[self._lat], row[self._lon])
                    if d > radius_m or (accept is not None and not accept(row)):
                        continue
                    if best is None or (d, row[key]) < (best[0], best[1]):
                        best = (d, row[key], row)
            bound = r * per_ring
            if (best is not None and best[0] < bound) or bound > radius_m:
                break
            r += 1
        return None if best is None else (best[0], best[2])


def _ring(ci: int, cj: int, r: int) -> Iterable[tuple[int, int]]:
    """The cells at Chebyshev distance exactly ``r`` from (ci, cj)."""
    for dj in range(-r, r + 1):
        yield ci - r, cj + dj
        yield ci + r, cj + dj
    for di in range(-r + 1, r):
        yield ci + di, cj - r
        yield ci + di, cj + r
