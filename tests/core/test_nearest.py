"""``linli.core.nearest.Grid``: the same answer as measuring every point, ordered by (distance, key)."""

from __future__ import annotations

import random

import pytest

from linli.core.geo import metres
from linli.core.nearest import Grid


def brute(rows: list[tuple[int, float, float, str]], la: float, lo: float, radius: float, prefix: str = "") -> object:
    found = sorted((metres(la, lo, r[1], r[2]), r[0], r) for r in rows if r[0] is not None and r[3].startswith(prefix))
    found = [f for f in found if f[0] <= radius]
    return (found[0][0], found[0][2]) if found else None


@pytest.mark.parametrize("cell_m", [7.0, 50.0, 400.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_is_what_measuring_every_point_gives(cell_m: float, seed: int) -> None:
    rng = random.Random(seed)
    lat0 = rng.choice([29.56, -33.9, 0.0004, 61.2])  # Chongqing, the south, the equator, the far north
    rows = [
        (i, lat0 + rng.uniform(-0.01, 0.01), 106.5 + rng.uniform(-0.01, 0.01), rng.choice(["a/x/", "a/y/", "b/"]))
        for i in range(300)
    ]
    rows += [(300 + i, *rows[i][1:3], "a/x/") for i in range(0, 300, 37)]  # same spot, another key: ties
    rows.append((999, None, None, "a/x/"))  # no position: never found
    grid = Grid([r for r in rows if r[1] is not None] + [rows[-1]], key=0, lat=1, lon=2, cell_m=cell_m)
    assert len(grid) == len(rows) - 1
    for _ in range(300):
        la, lo = lat0 + rng.uniform(-0.013, 0.013), 106.5 + rng.uniform(-0.013, 0.013)
        if rng.random() < 0.2:  # exactly on a point
            la, lo = rng.choice(rows[:-1])[1:3]
        radius = rng.choice([0.0, 30.0, 300.0, 2000.0])
        prefix = rng.choice(["", "a/", "a/x/", "c/"])
        got = grid.nearest(la, lo, radius, (lambda r, p=prefix: r[3].startswith(p)) if prefix else None)
        want = brute([r for r in rows if r[1] is not None], la, lo, radius, prefix)
        assert got == want, (la, lo, radius, prefix)


def test_an_empty_grid_and_a_bad_cell() -> None:
    assert Grid([], key=0, lat=1, lon=2).nearest(29.5, 106.5, 300.0) is None
    with pytest.raises(ValueError):
        Grid([], key=0, lat=1, lon=2, cell_m=0)
