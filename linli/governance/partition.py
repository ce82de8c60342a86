"""Grid division: buildings → contiguous, compact grids of 300–500 households (rules.md §4).

Pure module (no Django). ``divide(buildings)`` returns lists of building ids, one list per grid.

Each building is an object or a mapping with ``id``, ``lat``, ``lon``, ``households`` and optionally
``community``; grids never cross communities. Method, per community:

1. Project to metres (equirectangular around the mean latitude).
2. Adjacency: Delaunay edges (scipy) no longer than ``EDGE_MAX_M``; components left apart by the cut
   are reconnected through their nearest pair of buildings until the community is one component.
3. A building of more than ``max_households`` is a grid of its own and takes no further part.
4. Region growing: the seed is the unassigned building farthest from the community centre; the grid
   adds the adjacent unassigned building nearest to its household-weighted centre (among those that
   keep it ≤ max) until it reaches ``min_households``. Buildings with fewer free neighbours are
   slightly preferred so that pockets are not left stranded.
5. Repair: an undersized grid merges into an adjacent grid when the sum stays ≤ max; otherwise it is
   re-divided together with one or two adjacent grids into 2 or 3 grids that are all in band.
   Contiguity is kept because every grid is grown over the adjacency graph and each candidate split
   is checked with a BFS on the induced subgraph.

``evaluate(buildings, grids)`` reports the share of grids in band, contiguity, the household-weighted
mean distance to the grid centre and the count of grids.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

EDGE_MAX_M = 300.0  # Delaunay edges longer than this are not adjacency (a ravine, a main road, a hill)
EARTH_RADIUS_M = 6_371_008.8
MAX_REPAIR_PASSES = 4


def _get(b: Any, key: str, default: Any = None) -> Any:
    if isinstance(b, Mapping):
        return b.get(key, default)
    return getattr(b, key, default)


@dataclass
class _Community:
    """One community's buildings, in local indices (0..n-1), without the oversized ones."""

    index: list[int]  # local → global index
    x: np.ndarray
    y: np.ndarray
    hh: list[int]
    adj: list[list[int]]


def _project(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat0 = math.radians(float(lat.mean())) if len(lat) else 0.0
    x = EARTH_RADIUS_M * np.radians(lon) * math.cos(lat0)
    y = EARTH_RADIUS_M * np.radians(lat)
    return x, y


def _edges(pts: np.ndarray, edge_max: float) -> np.ndarray:
    """Adjacency edges (k, 2) of points (n, 2): short Delaunay edges, then nearest-pair reconnection."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import Delaunay, QhullError, cKDTree

    n = len(pts)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    pairs: np.ndarray
    try:
        if n < 3:
            raise ValueError("too few points for a triangulation")
        tri = Delaunay(pts)
        s = tri.simplices
        pairs = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    except (QhullError, ValueError):
        # Collinear or too few points: each point to its few nearest neighbours.
        k = min(n, 4)
        _, nn = cKDTree(pts).query(pts, k=k)
        nn = np.asarray(nn).reshape(n, k)
        pairs = np.stack([np.repeat(np.arange(n), k - 1), nn[:, 1:].ravel()], axis=1)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    code = np.unique(pairs[:, 0].astype(np.int64) * n + pairs[:, 1])
    pairs = np.stack([code // n, code % n], axis=1)
    d = np.hypot(*(pts[pairs[:, 0]] - pts[pairs[:, 1]]).T)
    edges = pairs[d <= edge_max]
    # Reconnect components through their nearest pair until one component is left.
    while True:
        m = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
        ncomp, lab = connected_components(m, directed=False)
        if ncomp <= 1:
            return edges
        sizes = np.bincount(lab)
        biggest = int(np.argmax(sizes))
        extra = []
        for c in range(ncomp):
            if c == biggest:
                continue
            inside = np.flatnonzero(lab == c)
            outside = np.flatnonzero(lab != c)
            dist, j = cKDTree(pts[outside]).query(pts[inside], k=1)
            i = int(np.argmin(dist))
            a, b = int(inside[i]), int(outside[int(j[i])])
            extra.append((min(a, b), max(a, b)))
        edges = np.concatenate([edges, np.array(sorted(set(extra)), dtype=np.int64).reshape(-1, 2)])


def _adjacency(n: int, edges: np.ndarray) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges.tolist():
        adj[a].append(b)
        adj[b].append(a)
    return adj


def _prepare(
    buildings: Sequence[Any], max_households: int, edge_max: float
) -> tuple[list[Any], list[int], list[Hashable], np.ndarray, np.ndarray, list[_Community], list[int]]:
    ids = [_get(b, "id") for b in buildings]
    hh = [int(_get(b, "households", 0) or 0) for b in buildings]
    comm: list[Hashable] = [_get(b, "community") for b in buildings]
    lat = np.array([float(_get(b, "lat")) for b in buildings], dtype=float)
    lon = np.array([float(_get(b, "lon")) for b in buildings], dtype=float)
    if len(set(ids)) != len(ids):
        raise ValueError("building ids must be unique")
    x, y = _project(lat, lon)
    groups: dict[Hashable, list[int]] = {}
    oversized: list[int] = []
    for i, c in enumerate(comm):
        if hh[i] > max_households:
            oversized.append(i)
        else:
            groups.setdefault(c, []).append(i)
    communities = []
    for members in groups.values():
        idx = np.array(members, dtype=np.int64)
        cx, cy = x[idx], y[idx]
        edges = _edges(np.stack([cx, cy], axis=1), edge_max)
        communities.append(_Community(members, cx, cy, [hh[i] for i in members], _adjacency(len(members), edges)))
    return ids, hh, comm, x, y, communities, oversized


def _centre(nodes: Iterable[int], x: Any, y: Any, hh: Sequence[int]) -> tuple[float, float, int]:
    sx = sy = 0.0
    tot = 0
    for i in nodes:
        w = hh[i] or 1
        sx += x[i] * w
        sy += y[i] * w
        tot += w
    return (sx / tot, sy / tot, tot) if tot else (0.0, 0.0, 0)


def _connected(nodes: Iterable[int], adj: list[list[int]]) -> bool:
    s = set(nodes)
    if not s:
        return True
    start = next(iter(s))
    seen = {start}
    stack = [start]
    while stack:
        u = stack.pop()
        for v in adj[u]:
            if v in s and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(s)


def _grow(
    seed: int,
    allowed: set[int] | None,
    taken: list[int] | dict[int, int],
    label: int,
    x: Any,
    y: Any,
    hh: Sequence[int],
    adj: list[list[int]],
    lo: int,
    hi: int,
    target: float,
) -> list[int]:
    """Grow one grid from seed over free nodes (taken[i] == -1, and in allowed if given)."""

    def free(v: int) -> bool:
        return (allowed is None or v in allowed) and taken[v] == -1

    members = [seed]
    taken[seed] = label
    w = hh[seed] or 1
    sx, sy, tot = x[seed] * w, y[seed] * w, hh[seed]
    frontier = {v for v in adj[seed] if free(v)}
    while tot < target and frontier:
        cx, cy = sx / max(tot, 1), sy / max(tot, 1)
        best, best_score = -1, math.inf
        for c in frontier:
            if tot + hh[c] > hi:
                continue
            d = (x[c] - cx) ** 2 + (y[c] - cy) ** 2
            nfree = sum(1 for v in adj[c] if free(v))
            score = d * (1.0 + 0.15 * nfree) + 1e-9 * c
            if score < best_score:
                best, best_score = c, score
        if best < 0:
            break
        members.append(best)
        taken[best] = label
        frontier.discard(best)
        w = hh[best] or 1
        sx += x[best] * w
        sy += y[best] * w
        tot += hh[best]
        frontier.update(v for v in adj[best] if free(v))
        if tot >= lo and target <= lo:
            break
    return members


def _split(
    nodes: list[int],
    k: int,
    x: Any,
    y: Any,
    hh: Sequence[int],
    adj: list[list[int]],
    lo: int,
    hi: int,
    budget: list[int],
) -> list[list[int]] | None:
    """Divide a small connected node set into k contiguous parts, each in [lo, hi], or None."""
    total = sum(hh[i] for i in nodes)
    if not (k * lo <= total <= k * hi):
        return None
    if k == 1:
        return [list(nodes)]
    cx, cy, _ = _centre(nodes, x, y, hh)
    seeds = sorted(nodes, key=lambda i: -((x[i] - cx) ** 2 + (y[i] - cy) ** 2))
    allowed = set(nodes)
    for target in (float(lo), total / k, float(hi)):
        for seed in seeds:
            if budget[0] <= 0:
                return None
            budget[0] -= 1
            taken: dict[int, int] = dict.fromkeys(nodes, -1)
            part = _grow(seed, allowed, taken, 0, x, y, hh, adj, lo, hi, target)
            ptot = sum(hh[i] for i in part)
            if not (lo <= ptot <= hi):
                continue
            rest = [i for i in nodes if taken[i] == -1]
            if not _connected(rest, adj):
                continue
            tail = _split(rest, k - 1, x, y, hh, adj, lo, hi, budget)
            if tail is not None:
                return [part, *tail]
    return None


def _divide_community(com: _Community, lo: int, hi: int) -> list[list[int]]:
    n = len(com.hh)
    x, y, hh, adj = com.x.tolist(), com.y.tolist(), com.hh, com.adj
    if n == 0:
        return []
    cx, cy, _ = _centre(range(n), x, y, hh)
    order = np.argsort(-((com.x - cx) ** 2 + (com.y - cy) ** 2), kind="stable").tolist()
    label = [-1] * n
    grids: dict[int, list[int]] = {}
    for seed in order:
        if label[seed] != -1:
            continue
        g = len(grids)
        grids[g] = _grow(seed, None, label, g, x, y, hh, adj, lo, hi, lo)
    totals = {g: sum(hh[i] for i in m) for g, m in grids.items()}
    next_label = len(grids)

    def neighbours(g: int) -> list[int]:
        out = {label[v] for u in grids[g] for v in adj[u]}
        out.discard(g)
        return sorted(out)

    def cdist(a: int, b: int) -> float:
        ax, ay, _ = _centre(grids[a], x, y, hh)
        bx, by, _ = _centre(grids[b], x, y, hh)
        return (ax - bx) ** 2 + (ay - by) ** 2

    def replace(old: list[int], parts: list[list[int]]) -> list[int]:
        nonlocal next_label
        for g in old:
            del grids[g]
            del totals[g]
        new = []
        for p in parts:
            g = next_label
            next_label += 1
            grids[g] = p
            totals[g] = sum(hh[i] for i in p)
            for i in p:
                label[i] = g
            new.append(g)
        return new

    for _ in range(MAX_REPAIR_PASSES):
        changed = False
        queue = sorted((g for g, t in totals.items() if t < lo), key=lambda g: totals[g])
        for u in queue:
            if u not in grids or totals[u] >= lo:
                continue
            nbs = sorted(neighbours(u), key=lambda g: cdist(u, g))
            budget = [400]
            # a. merge into an adjacent grid when the sum stays within max
            fit = [g for g in nbs if totals[u] + totals[g] <= hi]
            if fit:
                g = fit[0]
                replace([u, g], [grids[u] + grids[g]])
                changed = True
                continue
            done = False
            # b. re-divide with one neighbour into 2, c. with two neighbours into 2 or 3
            groups: list[list[int]] = [[u, g] for g in nbs]
            groups += [[u, a, b] for a, b in combinations(nbs[:6], 2)]
            for grp in groups:
                nodes = [i for g in grp for i in grids[g]]
                tot = sum(totals[g] for g in grp)
                for k in sorted({len(grp), len(grp) - 1}, reverse=True):
                    if k < 1 or not (k * lo <= tot <= k * hi):
                        continue
                    parts = _split(nodes, k, x, y, hh, adj, lo, hi, budget)
                    if parts is not None:
                        replace(grp, parts)
                        done = True
                        break
                if done or budget[0] <= 0:
                    break
            changed = changed or done
        if not changed:
            break
    return [[com.index[i] for i in m] for m in grids.values()]


def divide(
    buildings: Sequence[Any], min_households: int = 300, max_households: int = 500, *, edge_max_m: float = EDGE_MAX_M
) -> list[list[Any]]:
    """Divide buildings into grids of min..max households; returns lists of building ids."""
    if min_households > max_households:
        raise ValueError("min_households must not exceed max_households")
    buildings = list(buildings)
    ids, _hh, comm, _x, y, communities, oversized = _prepare(buildings, max_households, edge_max_m)
    grids: list[list[int]] = [[i] for i in oversized]
    for com in communities:
        grids += _divide_community(com, min_households, max_households)
    # Stable order: by community (first appearance), then north → south, west → east.
    first: dict[Hashable, int] = {}
    for i, c in enumerate(comm):
        first.setdefault(c, i)
    ys = y.tolist()
    xs = _x.tolist()

    def key(g: list[int]) -> tuple[int, float, float]:
        return (first[comm[g[0]]], -sum(ys[i] for i in g) / len(g), sum(xs[i] for i in g) / len(g))

    grids.sort(key=key)
    return [[ids[i] for i in g] for g in grids]


@dataclass(frozen=True)
class Report:
    grids: int
    in_band: int  # grids within [min, max], not counting forced singletons
    forced_singletons: int  # buildings over max, alone by rule
    share_in_band: float  # in_band / (grids - forced_singletons)
    all_contiguous: bool
    complete: bool  # every building in exactly one grid, no grid across communities
    mean_distance_m: float  # household-weighted mean distance to the grid's weighted centre
    undersized: int
    oversized: int


def evaluate(
    buildings: Sequence[Any],
    grids: Sequence[Sequence[Any]],
    min_households: int = 300,
    max_households: int = 500,
    *,
    edge_max_m: float = EDGE_MAX_M,
) -> Report:
    buildings = list(buildings)
    ids, hh, comm, x, y, communities, _ = _prepare(buildings, max_households, edge_max_m)
    pos = {b: i for i, b in enumerate(ids)}
    # Global adjacency from each community's graph.
    adj: list[list[int]] = [[] for _ in ids]
    for com in communities:
        for a, nb in enumerate(com.adj):
            adj[com.index[a]] = [com.index[b] for b in nb]
    seen = [0] * len(ids)
    xs, ys = x.tolist(), y.tolist()
    in_band = forced = under = over = 0
    contiguous = True
    complete = True
    dist_sum = 0.0
    weight = 0
    for g in grids:
        idx = [pos[b] for b in g]
        for i in idx:
            seen[i] += 1
        if len({comm[i] for i in idx}) > 1:
            complete = False
        tot = sum(hh[i] for i in idx)
        if len(idx) == 1 and tot > max_households:
            forced += 1
        elif tot < min_households:
            under += 1
        elif tot > max_households:
            over += 1
        else:
            in_band += 1
        if len(idx) > 1 and not _connected(idx, adj):
            contiguous = False
        cx, cy, _ = _centre(idx, xs, ys, hh)
        for i in idx:
            w = hh[i]
            dist_sum += w * math.hypot(xs[i] - cx, ys[i] - cy)
            weight += w
    complete = complete and all(s == 1 for s in seen)
    counted = len(grids) - forced
    return Report(
        grids=len(grids),
        in_band=in_band,
        forced_singletons=forced,
        share_in_band=in_band / counted if counted else 1.0,
        all_contiguous=contiguous,
        complete=complete,
        mean_distance_m=dist_sum / weight if weight else 0.0,
        undersized=under,
        oversized=over,
    )
