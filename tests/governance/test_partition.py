"""Grid division (linli.governance.partition): properties on small layouts, band share on a large one.

``layout(n, seed)`` is the deterministic generator shared with bench/bench_partition.py: hillside
communities around 29.50 N, 106.50 E, compounds of terraced buildings along contour lines,
20–200 households a building and a few towers over 500.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.governance.partition import divide, evaluate

LAT0, LON0 = 29.50, 106.50
M_PER_DEG_LAT = 110_570.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))


def layout(n: int, seed: int = 4, tower_rate: float = 0.004, per_community: int = 1400) -> list[dict]:
    """n buildings in hillside communities; deterministic for (n, seed)."""
    rng = random.Random(seed * 1_000_003 + n)
    n_comm = max(1, round(n / per_community))
    side = math.ceil(math.sqrt(n_comm))
    out: list[dict] = []
    for c in range(n_comm):
        count = n // n_comm + (1 if c < n % n_comm else 0)
        # Community centres 2.5 km apart on a jittered lattice.
        ccx = (c % side) * 2500.0 + rng.gauss(0, 300)
        ccy = (c // side) * 2500.0 + rng.gauss(0, 300)
        made = 0
        while made < count:
            size = min(count - made, rng.randint(4, 40))
            # A compound: buildings on terraces along a contour line, at some angle.
            px, py = ccx + rng.gauss(0, 420), ccy + rng.gauss(0, 420)
            angle = rng.uniform(0, math.pi)
            ca, sa = math.cos(angle), math.sin(angle)
            terraces = rng.randint(1, 4)
            for k in range(size):
                along = rng.gauss(0, 25 + 5 * size**0.5)
                across = (k % terraces) * 28.0 + rng.gauss(0, 6)
                x = px + along * ca - across * sa
                y = py + along * sa + across * ca
                households = rng.randint(501, 900) if rng.random() < tower_rate else rng.randint(20, 200)
                out.append(
                    {
                        "id": f"B{len(out):06d}",
                        "lat": LAT0 + y / M_PER_DEG_LAT,
                        "lon": LON0 + x / M_PER_DEG_LON,
                        "households": households,
                        "community": f"C{c:03d}",
                    }
                )
                made += 1
    return out


def check_invariants(buildings: list[dict], grids: list[list], lo: int = 300, hi: int = 500) -> None:
    by_id = {b["id"]: b for b in buildings}
    flat = [i for g in grids for i in g]
    assert sorted(flat) == sorted(by_id), "every building in exactly one grid"
    for g in grids:
        assert g, "no empty grid"
        assert len({by_id[i]["community"] for i in g}) == 1, "grid crosses communities"
        if any(by_id[i]["households"] > hi for i in g):
            assert len(g) == 1, "an oversized building is alone"
    report = evaluate(buildings, grids, lo, hi)
    assert report.all_contiguous
    assert report.complete
    assert report.oversized == 0, "no grid of several buildings over max"


building = st.fixed_dictionaries(
    {
        "lat": st.floats(LAT0, LAT0 + 0.01),
        "lon": st.floats(LON0, LON0 + 0.01),
        "households": st.one_of(st.integers(1, 200), st.integers(20, 900)),
        "community": st.sampled_from(["A", "B", "C"]),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(building, min_size=1, max_size=60))
def test_properties_on_random_buildings(raw: list[dict]) -> None:
    buildings = [{"id": i, **b} for i, b in enumerate(raw)]
    check_invariants(buildings, divide(buildings))


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 300), st.integers(0, 10_000))
def test_properties_on_generated_layouts(n: int, seed: int) -> None:
    buildings = layout(n, seed, tower_rate=0.03, per_community=100)
    check_invariants(buildings, divide(buildings))


def test_layout_is_deterministic() -> None:
    assert layout(200, 7) == layout(200, 7)
    assert layout(200, 7) != layout(200, 8)


def test_objects_and_missing_community() -> None:
    class B:
        def __init__(self, id: int, lat: float, lon: float, households: int) -> None:
            self.id, self.lat, self.lon, self.households = id, lat, lon, households

    rows = [B(i, LAT0 + (i // 10) * 0.0004, LON0 + (i % 10) * 0.0004, 100) for i in range(40)]
    rows.append(B(99, LAT0, LON0 + 0.02, 800))  # a tower far away
    grids = divide(rows)
    assert [99] in grids
    rest = [g for g in grids if g != [99]]
    assert sum(len(g) for g in rest) == 40
    # 4,000 households in 100s: every grid 300–500
    assert all(300 <= 100 * len(g) <= 500 for g in rest)


def test_distant_parts_are_reconnected() -> None:
    # Two clumps 2 km apart in one community, each too small alone: one contiguous grid.
    rows = [{"id": i, "lat": LAT0, "lon": LON0 + i * 0.0003, "households": 60} for i in range(3)]
    rows += [{"id": 10 + i, "lat": LAT0 + 0.018, "lon": LON0 + i * 0.0003, "households": 60} for i in range(3)]
    grids = divide(rows)
    assert len(grids) == 1
    assert evaluate(rows, grids).all_contiguous


def test_small_community_is_one_grid() -> None:
    rows = [{"id": "a", "lat": LAT0, "lon": LON0, "households": 120, "community": "X"}]
    assert divide(rows) == [["a"]]
    assert divide([]) == []


def test_bad_band() -> None:
    with pytest.raises(ValueError):
        divide([], 500, 300)


def test_band_share_on_3000_buildings() -> None:
    buildings = layout(3000)
    grids = divide(buildings)
    check_invariants(buildings, grids)
    report = evaluate(buildings, grids)
    assert report.share_in_band >= 0.95, report
    assert report.mean_distance_m < 120, report
