"""PySAL spopt MaxPHeuristic on a layout, for comparison with divide() (run by bench_partition).

Runs in its own virtualenv (``.venv-spopt``, from ``requirements/bench-spopt.txt``): spopt pulls in
geopandas, scikit-learn and friends that Linli itself does not need. Reads buildings as JSON
(id, lat, lon, households, community) from argv[1], writes {"grids": [[ids]], "seconds": s,
"maxrss_kb": k} to stdout.

Set-up, as fair as we can make it: regions never cross communities (so MaxP runs once per
community, as divide() treats them), adjacency is the Delaunay triangulation of the community's
buildings (the graph divide() starts from, before it drops overlong edges), the attributes MaxP
keeps similar are the planar coordinates (compact grids), the floor is 300 households
(``threshold``; MaxP has no ceiling).
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings


def delaunay_neighbours(xy, delaunay, kdtree) -> dict[int, list[int]]:  # type: ignore[no-untyped-def]
    """Delaunay edges over every point (libpysal's Delaunay drops coincident points, which breaks
    MaxP); a point left out joins its nearest neighbour."""
    n = len(xy)
    nb: dict[int, set[int]] = {i: set() for i in range(n)}
    for simplex in delaunay(xy).simplices:
        for a in simplex:
            for b in simplex:
                if a != b:
                    nb[int(a)].add(int(b))
    tree = kdtree(xy)
    for i in range(n):
        if not nb[i]:
            j = int(tree.query(xy[i], k=2)[1][1])
            nb[i].add(j)
            nb[j].add(i)
    return {i: sorted(v) for i, v in nb.items()}


def main() -> None:
    import geopandas as gpd
    import numpy as np
    from libpysal.weights import W
    from scipy.spatial import Delaunay, cKDTree
    from spopt.region import MaxPHeuristic

    warnings.filterwarnings("ignore")
    with open(sys.argv[1], encoding="utf-8") as fh:
        buildings = json.load(fh)
    by_comm: dict[str, list[dict]] = {}
    for b in buildings:
        by_comm.setdefault(str(b.get("community", "")), []).append(b)
    grids: list[list[str]] = []
    t0 = time.perf_counter()
    for bs in by_comm.values():
        if sum(b["households"] for b in bs) < 300 or len(bs) < 4:
            grids.append([b["id"] for b in bs])
            continue
        xy = np.array([(b["lon"] * 96_900.0, b["lat"] * 110_570.0) for b in bs])
        xy -= xy.mean(axis=0)  # metres around the community centre (qhull needs small numbers)
        gdf = gpd.GeoDataFrame(
            {"x": xy[:, 0], "y": xy[:, 1], "households": [b["households"] for b in bs]},
            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        )
        w = W(delaunay_neighbours(xy, Delaunay, cKDTree), silence_warnings=True)
        model = MaxPHeuristic(gdf, w, ["x", "y"], "households", 300, top_n=2)
        model.solve()
        regions: dict[int, list[str]] = {}
        for b, label in zip(bs, model.labels_, strict=True):
            regions.setdefault(int(label), []).append(b["id"])
        grids.extend(regions.values())
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"grids": grids, "seconds": seconds, "maxrss_kb": rss}))


if __name__ == "__main__":
    main()
