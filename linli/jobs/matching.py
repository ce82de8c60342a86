"""就近帮 matching: job seekers and postings near each other (issue 14 §3). Pure: no Django, no database.

The public contract::

    index = build(postings)
    index.top(seeker, k=10, radius_m=10_000)      -> list[Match]   best postings for a seeker
    talent(posting, seekers_index, k, radius_m)   -> list[Match]   best seekers for a posting
    index.add(posting); index.remove(posting_id)                    without a rebuild
    score(seeker, posting, distance_m)            -> float          the one score, 0 = no match

Postings and seekers are mappings with ``id``, ``lat``, ``lon`` (WGS-84 degrees), ``skills`` (a set
of codes), ``wage_min``, ``wage_max`` (yuan a month) and ``hours`` (a week). ``build()`` indexes any
such mappings, so ``seekers_index = build(seekers)`` is the index ``talent()`` searches.

What the index returns — exactly what a naive scan returns:

* ``index.top(seeker, k, radius_m)``: every indexed item with ``d <= radius_m`` and
  ``score(seeker, item, d) > 0``, where ``d = metres(seeker.lat, seeker.lon, item.lat, item.lon)``
  (``linli.core.geo``, haversine), sorted by score descending then id ascending, the first ``k``.
* ``talent(posting, seekers_index, k, radius_m)``: the same with the roles swapped: the items are
  seekers, ranked by ``score(item, posting, d)``, ``d = metres(item.lat, item.lon, posting.lat, posting.lon)``.
* Each answer is a ``Match(posting_id, score, distance_m)``; ``distance_m`` is that ``metres()`` float
  and ``score`` that ``score()`` float, both computed by the plain Python functions. In ``talent()``
  ``posting_id`` holds the *seeker's* id (one Match type); ``match.id`` is an alias for either direction.

Decisions:

* ``k <= 0`` → ``[]``; ``radius_m < 0`` (or NaN) → ``[]`` (no distance is negative: what the naive
  filter gives); ``radius_m = math.inf`` searches the whole index. ``k`` must be an integer.
* ``add(item)`` with an id already indexed replaces that item. ``remove(id)`` of an unknown id is a
  no-op and returns False (True when something was removed). Ids are ints or strings; ties are broken
  by normal ordering of the ids, so keep one type in one index.
* The index keeps a reference to each mapping (the exact score is computed from it) and a copy of its
  numbers: a mapping changed after ``add()`` must be ``add()``-ed again.
* Bad input — a missing ``id``/``lat``/``lon``, a latitude outside ±90°, a NaN or infinite coordinate,
  ``skills`` given as one string — raises ``ValueError``/``TypeError`` with the item's id, and nothing
  is changed.
* Not thread-safe: one writer, or a lock around it.

The score (``score()``, in [0, 1]; 0 means no match and is never returned):

* **Gates (score 0):** no skill in common (a seeker without skills matches nothing); the posting's
  ``wage_max`` below 80 % of the seeker's ``wage_min`` (``WAGE_FLOOR``); the weekly hours apart by
  more than ``HOURS_MARGIN`` = 16 hours.
* Otherwise ``0.4·skills + 0.3·near + 0.15·wage + 0.15·hours`` (``W_*``), each part in [0, 1], so the
  score is in (0, 1] (the skills part alone is > 0):

  - ``skills`` = the share of the posting's skills the seeker has, ``|seeker ∩ posting| / |posting|``
    — "how much of this job can this person do", the same question for seeker and employer;
  - ``near`` = ``1 / (1 + d / 2000 m)`` (``DIST_HALF_M``): 1 next door, ½ at 2 km, ⅙ at 10 km; it
    uses the distance, never the search radius;
  - ``wage`` = 1 when the posting's ``wage_max`` reaches the seeker's ``wage_min``, falling linearly to
    0 at the 80 % floor; the seeker's ``wage_max`` and the posting's ``wage_min`` are shown on the
    pages but do not change the score (a posting paying more than hoped is no worse);
  - ``hours`` = 1 within ``HOURS_SLACK`` = 4 hours of what the seeker wants, falling linearly to 0 at
    16 hours apart;
  - a missing (None, absent or NaN) wage or hours on either side gives that part a neutral 0.5
    (``NEUTRAL``) and no gate: stating it is rewarded, leaving it out is not punished to zero.

How the index is fast (and still exact). Items sit in buckets by (skill code, size class, grid cell):
the size class is the item's number of skills (1, 2, 3, 4, 5 or more), the cell 0.01° × 0.01° (about
1.1 × 1 km in Chongqing). A bucket is an ``array('i')`` of slots, so ``add``/``remove`` touch one
bucket per skill of the item (append; swap-remove) and never rebuild; the numbers live in one NumPy
array by slot (unit vector, wages, hours, number of skills). ``build()`` loads them vectorised, slots
in cell order. A query:

1. computes, for every non-empty cell, a lower bound of the haversine distance from the query to any
   point of the cell (latitude gap, longitude gap across the antimeridian, smallest cosine in the cell,
   sin x ≥ x − x³/6, shrunk by 1e-9) and keeps the cells within the radius;
2. forms groups (size class, cell) over the rows of the query's skills — every row of an item falls in
   one group — each with a bound of the score its items can reach: the skills part by the class
   (top: ``min(shared, class) / class``), wage and hours parts 1 (or neutral when the query has none),
   the near part at the cell's lower-bound distance; groups are taken best bound first;
3. takes groups in chunks (640 entries for k = 10, then doubling), joins their buckets, counts each
   slot's overlap (how many of the query's rows hold it), computes a vectorised distance (chord of
   unit vectors) and score and keeps the items that may match. Threshold algorithm: once k items are
   sure matches (inside the radius by more than the float error), only groups whose bound reaches the
   k-th of their lower bounds are still read, and the loop stops when none is left;
4. walks the candidates by vectorised upper bound (estimate + ``EPS``), computes ``metres()`` and the
   Python ``score()`` for each (the radius test uses that exact ``metres()`` float), until the next
   upper bound is below the k-th exact score; sorts by (-score, id).

The gates use the same IEEE operations (multiply, subtract, compare) on the same floats in Python and
NumPy, so they agree exactly; only the distance differs in the last bits, which ``EPS`` (1e-9 on the
score; 1e-6 m on the radius; wider beyond 9,000 km where arcsin is ill-conditioned) covers. The
property tests (tests/jobs/test_matching.py) compare every answer with a naive scan.

Memory: the bucket table is dense over (skill codes × 5 classes) × non-empty cells; for one city
(300 codes, ~1,500 cells) that is ~27 MB; items spread over a continent with thousands of codes would
want a sparse table instead.
"""

from __future__ import annotations

import heapq
import math
import operator
from array import array
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from linli.core.geo import EARTH_M, metres

__all__ = [
    "DIST_HALF_M",
    "HOURS_MARGIN",
    "HOURS_SLACK",
    "NEUTRAL",
    "WAGE_FLOOR",
    "W_DIST",
    "W_HOURS",
    "W_SKILL",
    "W_WAGE",
    "Index",
    "Match",
    "build",
    "score",
    "talent",
]

# --- the score ---------------------------------------------------------------------------------

W_SKILL, W_DIST, W_WAGE, W_HOURS = 0.4, 0.3, 0.15, 0.15
DIST_HALF_M = 2000.0  # ``near`` is ½ at this distance
WAGE_FLOOR = 0.8  # a posting paying less than 80 % of what the seeker accepts is no match
HOURS_SLACK = 4.0  # hours a week apart that still fit fully
HOURS_MARGIN = 16.0  # hours a week apart beyond which it is no match
NEUTRAL = 0.5  # the wage or hours part when one side leaves it out


class Match(NamedTuple):
    """One answer: the matched item's id (a posting's for ``top``, a seeker's for ``talent``),
    its ``score()`` and its ``metres()`` distance from the query."""

    posting_id: Any
    score: float
    distance_m: float

    @property
    def id(self) -> Any:
        """The matched item's id, whichever direction (a seeker's id for ``talent``)."""
        return self.posting_id


def _skills(item: Mapping[str, Any]) -> frozenset[Any] | set[Any]:
    raw = item.get("skills")
    if not raw:
        return frozenset()
    if isinstance(raw, str | bytes):
        raise TypeError(f"item {item.get('id')!r}: skills must be a set of codes, not one string")
    if isinstance(raw, set | frozenset):
        return raw
    return frozenset(raw)


def _number(value: Any) -> float | None:
    """A wage or hours value as a float; None (also for NaN) when not given."""
    if value is None:
        return None
    x = float(value)
    return None if math.isnan(x) else x


def _wage_fit(want: float | None, offer: float | None) -> float | None:
    """The wage part; None means the gate (no match). ``want`` = seeker's wage_min, ``offer`` =
    posting's wage_max."""
    if want is None or offer is None:
        return NEUTRAL
    if offer >= want:
        return 1.0
    floor = want * WAGE_FLOOR
    if offer < floor:
        return None
    return (offer - floor) / (want - floor)


def _hours_fit(want: float | None, have: float | None) -> float | None:
    """The hours part; None means the gate. ``want`` = seeker's hours, ``have`` = posting's hours."""
    if want is None or have is None:
        return NEUTRAL
    diff = abs(have - want)
    if diff > HOURS_MARGIN:
        return None
    if diff <= HOURS_SLACK:
        return 1.0
    return (HOURS_MARGIN - diff) / (HOURS_MARGIN - HOURS_SLACK)


def score(seeker: Mapping[str, Any], posting: Mapping[str, Any], distance_m: float) -> float:
    """How well ``posting`` suits ``seeker`` at ``distance_m`` metres apart, in [0, 1]; 0 is no match.

    Gates (0): no skill in common; posting's wage_max < 0.8 × seeker's wage_min; weekly hours more
    than 16 apart. Otherwise ``0.4·skills + 0.3·near + 0.15·wage + 0.15·hours`` with
    skills = |seeker ∩ posting| / |posting|, near = 1 / (1 + d / 2000), wage = 1 when the posting's
    wage_max reaches the seeker's wage_min, linear to 0 at the 80 % floor, hours = 1 within 4 hours,
    linear to 0 at 16 hours; a missing wage or hours on either side → 0.5 for that part, no gate.
    Deterministic; reads only ``skills``, ``wage_min``, ``wage_max`` and ``hours`` of the mappings.
    """
    d = float(distance_m)
    if not d >= 0:
        raise ValueError(f"distance_m must be a distance in metres ≥ 0, got {distance_m!r}")
    have = _skills(seeker)
    need = _skills(posting)
    if not have or not need:
        return 0.0
    overlap = len(have & need)
    if not overlap:
        return 0.0
    wage = _wage_fit(_number(seeker.get("wage_min")), _number(posting.get("wage_max")))
    if wage is None:
        return 0.0
    hours = _hours_fit(_number(seeker.get("hours")), _number(posting.get("hours")))
    if hours is None:
        return 0.0
    near = 1.0 / (1.0 + d / DIST_HALF_M)
    total = W_SKILL * (overlap / len(need)) + W_DIST * near + W_WAGE * wage + W_HOURS * hours
    return min(1.0, total)


# --- the index ---------------------------------------------------------------------------------

CELL_DEG = 0.01  # grid cell, degrees of latitude and of longitude (~1.1 km × ~1 km in Chongqing)
_CELL_TOL = 1e-9  # degrees: a cell's bounds are widened by this for the distance bound
_OFF = 1 << 20  # cell indices are shifted by this into a non-negative key
EPS = 1e-9  # bound on |vectorised score - score()| within 9,000 km
_FAR_M = 9.0e6  # beyond this the vectorised haversine loses digits (arcsin near 1)
_FAR_EPS = 1e-3  # score tolerance beyond _FAR_M (1 m of distance moves ``near`` by < 1.5e-4)
_NEAR_TOL_M = 1e-6  # radius tolerance of the vectorised distance within _FAR_M
_FAR_TOL_M = 1.0  # … and beyond
_CHUNK0 = 64  # entries per k in the first chunk; chunks double
NCLASS = 5  # buckets also by the item's number of skills: 1, 2, 3, 4, 5 or more (bounds the skills part)
_CLASSES = np.arange(1, NCLASS + 1, dtype=np.float64)
_CLASS_IDX = np.arange(NCLASS)
_HEAD = 64  # groups sorted first (by bound); the rest only when a query needs them
_FIRST_M = 2500.0  # cells within this distance are grouped first, the others when a query needs them
_MAX_HAV_SHRINK = 1.0 - 1e-9

_TOP, _TALENT = 0, 1

if array("i").itemsize != np.dtype(np.intc).itemsize:  # pragma: no cover - every platform we run on
    raise ImportError("array('i') and numpy intc differ in size")


def _check_point(item: Mapping[str, Any]) -> tuple[float, float]:
    try:
        lat, lon = float(item["lat"]), float(item["lon"])
    except KeyError as exc:
        raise ValueError(f"item {item.get('id')!r} has no {exc.args[0]!r}") from None
    except (TypeError, ValueError):
        raise ValueError(f"item {item.get('id')!r}: lat/lon must be numbers") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90.0:
        raise ValueError(f"item {item.get('id')!r}: lat must be within ±90° and lon finite, got {lat}, {lon}")
    return lat, lon


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _unit(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


_EMPTY = array("i")  # the bucket of every (row, cell) without items; add() replaces it, never appends


def _table(rows: int, cols: int) -> np.ndarray:
    tab = np.empty((rows, cols), dtype=object)
    tab.fill(_EMPTY)
    return tab


def _cell_key(lat: float, lon: float) -> tuple[int, int]:
    lon = (lon + 180.0) % 360.0 - 180.0
    return math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)


# columns of Index._rec, one row per slot
_X, _Y, _Z, _WMIN, _WMAX, _HOURS, _NSK = range(7)  # x, y, z: the point on the unit sphere


class Index:
    """Items (postings or seekers) by skill and grid cell. Use ``build()``; see the module docstring."""

    def __init__(self) -> None:
        self._slot_of: dict[Hashable, int] = {}
        self._items: list[Mapping[str, Any] | None] = []
        self._rows_of_slot: list[tuple[int, ...]] = []
        self._free: list[int] = []
        self._rec: np.ndarray = np.zeros((16, 7))
        self._gslot: np.ndarray = np.zeros(16, dtype=np.intc)
        self._row_of: dict[Hashable, int] = {}
        self._cell_of: dict[tuple[int, int], int] = {}
        self._ncells = 0
        self._nan = [False, False, False]  # any missing wage_min, wage_max, hours (sticky)
        self._lon_min, self._lon_max = math.inf, -math.inf
        self._cells: np.ndarray = np.zeros((4, 16))  # lat_lo, lat_hi, lon_mid (degrees), min cos(lat)
        self._tab: np.ndarray = _table(8 * NCLASS, 16)
        self._cnt: np.ndarray = np.zeros((8 * NCLASS, 16), dtype=np.intc)

    # -- storage ------------------------------------------------------------------------------

    def _grow_slots(self, cap: int) -> None:
        rec = np.zeros((cap, 7))
        rec[: len(self._rec)] = self._rec
        g = np.zeros(cap, dtype=np.intc)
        g[: len(self._gslot)] = self._gslot
        self._rec, self._gslot = rec, g

    def _grow_table(self, rows: int, cols: int) -> None:
        r0, c0 = self._tab.shape
        if rows <= r0 and cols <= c0:
            return
        r1 = r0 if rows <= r0 else max(rows, 2 * r0)
        c1 = c0 if cols <= c0 else max(cols, 2 * c0)
        tab = _table(r1, c1)
        tab[:r0, :c0] = self._tab
        cnt = np.zeros((r1, c1), dtype=np.intc)
        cnt[:r0, :c0] = self._cnt
        self._tab, self._cnt = tab, cnt

    def _set_cells(self, g: np.ndarray, cy: np.ndarray, cx: np.ndarray) -> None:
        """Geometry of cells ``g`` from their integer coordinates (as floats)."""
        lat_lo = np.clip(cy * CELL_DEG - _CELL_TOL, -90.0, 90.0)
        lat_hi = np.clip((cy + 1) * CELL_DEG + _CELL_TOL, -90.0, 90.0)
        mid = (cx + 0.5) * CELL_DEG
        self._cells[0, g] = lat_lo
        self._cells[1, g] = lat_hi
        self._cells[2, g] = mid
        self._cells[3, g] = np.maximum(0.0, np.minimum(np.cos(np.radians(lat_lo)), np.cos(np.radians(lat_hi))))
        if len(mid):
            self._lon_min = min(self._lon_min, float(mid.min()))
            self._lon_max = max(self._lon_max, float(mid.max()))

    def _cell(self, lat: float, lon: float) -> int:
        key = _cell_key(lat, lon)
        g = self._cell_of.get(key)
        if g is None:
            g = self._ncells
            if g >= self._cells.shape[1]:
                cells = np.zeros((4, 2 * self._cells.shape[1]))
                cells[:, :g] = self._cells[:, :g]
                self._cells = cells
            self._grow_table(self._tab.shape[0], g + 1)
            self._cell_of[key] = g
            self._ncells = g + 1
            self._set_cells(np.array([g]), np.array([float(key[0])]), np.array([float(key[1])]))
        return g

    def _row(self, code: Hashable) -> int:
        r = self._row_of.get(code)
        if r is None:
            r = len(self._row_of)
            self._row_of[code] = r
            self._grow_table((r + 1) * NCLASS, self._tab.shape[1])
        return r

    # -- writing ------------------------------------------------------------------------------

    def add(self, item: Mapping[str, Any]) -> None:
        """Index ``item`` (replacing the item with the same id, if any). O(its skills) amortised."""
        if "id" not in item:
            raise ValueError("item has no 'id'")
        key = item["id"]
        hash(key)
        lat, lon = _check_point(item)
        skills = _skills(item)
        wmin, wmax, hours = _number(item.get("wage_min")), _number(item.get("wage_max")), _number(item.get("hours"))
        self.remove(key)
        if self._free:
            slot = self._free.pop()
        else:
            slot = len(self._items)
            self._items.append(None)
            self._rows_of_slot.append(())
            if slot >= len(self._rec):
                self._grow_slots(2 * len(self._rec))
        x, y, z = _unit(lat, lon)
        self._rec[slot] = (x, y, z, _nan(wmin), _nan(wmax), _nan(hours), len(skills))
        for i, value in enumerate((wmin, wmax, hours)):
            if value is None:
                self._nan[i] = True
        g = self._cell(lat, lon)
        self._gslot[slot] = g
        cls = min(len(skills), NCLASS) - 1
        rows = tuple(self._row(code) * NCLASS + cls for code in skills)
        tab, cnt = self._tab, self._cnt
        for r in rows:
            bucket = tab[r, g]
            if bucket is _EMPTY:
                bucket = array("i")
                tab[r, g] = bucket
            bucket.append(slot)
            cnt[r, g] += 1
        self._items[slot] = item
        self._rows_of_slot[slot] = rows
        self._slot_of[key] = slot

    def remove(self, item_id: Hashable) -> bool:
        """Take the item with this id out; False (and nothing changed) when there is none. O(its
        skills × a bucket), a bucket being one skill in one ~1 km² cell."""
        slot = self._slot_of.pop(item_id, None)
        if slot is None:
            return False
        g = int(self._gslot[slot])
        for r in self._rows_of_slot[slot]:
            bucket = self._tab[r, g]
            i = bucket.index(slot)
            last = bucket.pop()
            if i < len(bucket):
                bucket[i] = last
            self._cnt[r, g] -= 1
        self._items[slot] = None
        self._rows_of_slot[slot] = ()
        self._free.append(slot)
        return True

    def _load(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Bulk-load an empty index (what ``build()`` does): vectorised, the same as ``add()`` of each."""
        latest: dict[Hashable, Mapping[str, Any]] = {}
        for item in items:
            if "id" not in item:
                raise ValueError("item has no 'id'")
            latest[item["id"]] = item
        vals = list(latest.values())
        n = len(vals)
        if not n:
            return
        lat = np.empty(n)
        lon = np.empty(n)
        for i, item in enumerate(vals):
            lat[i], lon[i] = _check_point(item)
        # cells: the arithmetic of _cell_key, element-wise; slots in cell order, so that the items
        # of a cell sit together in memory
        cy = np.floor(lat / CELL_DEG).astype(np.int64)
        cx = np.floor(((lon + 180.0) % 360.0 - 180.0) / CELL_DEG).astype(np.int64)
        ukeys, g_of = np.unique((cy + _OFF) * (2 * _OFF) + (cx + _OFF), return_inverse=True)
        perm = np.argsort(g_of, kind="stable")
        vals = [vals[i] for i in perm.tolist()]
        lat, lon, g_of = lat[perm], lon[perm], g_of[perm]
        rec = np.zeros((max(16, n), 7))
        row_of = self._row_of
        rows_of_slot: list[tuple[int, ...]] = []
        flat: list[int] = []
        for i, item in enumerate(vals):
            skills = _skills(item)
            rec[i, _WMIN] = _nan(_number(item.get("wage_min")))
            rec[i, _WMAX] = _nan(_number(item.get("wage_max")))
            rec[i, _HOURS] = _nan(_number(item.get("hours")))
            rec[i, _NSK] = len(skills)
            cls = min(len(skills), NCLASS) - 1
            rows = tuple([row_of.setdefault(code, len(row_of)) * NCLASS + cls for code in skills])
            rows_of_slot.append(rows)
            flat.extend(rows)
        phi, lam = np.radians(lat), np.radians(lon)
        rec[:n, _X] = np.cos(phi) * np.cos(lam)
        rec[:n, _Y] = np.cos(phi) * np.sin(lam)
        rec[:n, _Z] = np.sin(phi)
        self._rec = rec
        self._nan = [bool(np.isnan(rec[:n, col]).any()) for col in (_WMIN, _WMAX, _HOURS)]
        ncells = len(ukeys)
        ucy, ucx = ukeys // (2 * _OFF) - _OFF, ukeys % (2 * _OFF) - _OFF
        self._cell_of = {(a, b): g for g, (a, b) in enumerate(zip(ucy.tolist(), ucx.tolist(), strict=True))}
        self._ncells = ncells
        self._cells = np.zeros((4, max(16, ncells)))
        self._set_cells(np.arange(ncells), ucy.astype(np.float64), ucx.astype(np.float64))
        self._gslot = np.zeros(len(rec), dtype=np.intc)
        self._gslot[:n] = g_of
        # buckets: (skill × size class, cell) → slots
        nrows = max(8, len(row_of)) * NCLASS
        self._tab = _table(nrows, max(16, ncells))
        self._cnt = np.zeros((nrows, max(16, ncells)), dtype=np.intc)
        per_item = np.fromiter((len(r) for r in rows_of_slot), dtype=np.int64, count=n)
        slots = np.repeat(np.arange(n, dtype=np.intc), per_item)
        comb = np.asarray(flat, dtype=np.int64) * ncells + g_of[slots]
        order = np.argsort(comb, kind="stable")
        comb, slots = comb[order], np.ascontiguousarray(slots[order])
        if len(comb):
            starts = np.flatnonzero(np.r_[True, comb[1:] != comb[:-1]])
            ends = np.r_[starts[1:], len(comb)]
            ucomb = comb[starts]
            buf = memoryview(slots.tobytes())
            size = slots.itemsize
            tab = self._tab
            for u, s, e in zip(ucomb.tolist(), starts.tolist(), ends.tolist(), strict=True):
                bucket = array("i")
                bucket.frombytes(buf[s * size : e * size])
                tab[u // ncells, u % ncells] = bucket
            self._cnt[ucomb // ncells, ucomb % ncells] = ends - starts
        self._items = list(vals)
        self._rows_of_slot = rows_of_slot
        self._slot_of = {item["id"]: i for i, item in enumerate(vals)}

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._slot_of

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        for slot in self._slot_of.values():
            item = self._items[slot]
            assert item is not None
            yield item

    def get(self, item_id: Hashable) -> Mapping[str, Any] | None:
        """The indexed mapping with this id, or None."""
        slot = self._slot_of.get(item_id)
        return None if slot is None else self._items[slot]

    def top(self, seeker: Mapping[str, Any], k: int = 10, radius_m: float = 10_000) -> list[Match]:
        """The ``k`` best indexed items for ``seeker`` within ``radius_m`` (see the module docstring)."""
        return self._query(seeker, k, radius_m, _TOP)

    def talent(self, posting: Mapping[str, Any], k: int = 10, radius_m: float = 10_000) -> list[Match]:
        """The ``k`` best indexed seekers for ``posting`` within ``radius_m``; ``Match.posting_id`` is
        the seeker's id."""
        return self._query(posting, k, radius_m, _TALENT)

    def top_many(
        self, seekers: Iterable[Mapping[str, Any]], k: int = 10, radius_m: float = 10_000
    ) -> list[list[Match]]:
        """``top()`` for each seeker, answers in the seekers' order (the nightly push). Seekers are
        taken in grid-cell order, so neighbours reuse what the CPU cache holds of their area."""
        todo = list(seekers)
        keys = []
        for s in todo:
            lat, lon = _check_point(s)
            keys.append(_cell_key(lat, lon))
        out: list[list[Match]] = [[] for _ in todo]
        for i in sorted(range(len(todo)), key=keys.__getitem__):
            out[i] = self._query(todo[i], k, radius_m, _TOP)
        return out

    def _near_cells(self, qlat: float, qlon: float, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """The cells that may hold a point within ``radius`` of the query and the
        haversine term of a lower bound of their distance: the latitude gap, the longitude gap (across
        the antimeridian when shorter), the smallest cosine in the cell, sin x ≥ x − x³/6, and a
        shrink by 1e-9 against rounding."""
        n = self._ncells
        cells = self._cells
        dphi = np.maximum(cells[0, :n] - qlat, qlat - cells[1, :n])
        np.maximum(dphi, 0.0, out=dphi)
        qlon = (qlon + 180.0) % 360.0 - 180.0
        if max(abs(qlon - self._lon_min), abs(qlon - self._lon_max)) <= 180.0:
            dl = np.abs(cells[2, :n] - qlon)
        else:  # the shorter way may cross the antimeridian
            dl = np.abs((qlon - cells[2, :n] + 180.0) % 360.0 - 180.0)
        dl -= 0.5 * CELL_DEG + _CELL_TOL
        np.maximum(dl, 0.0, out=dl)
        hav = _sin_below(dphi)
        hav *= hav
        s2 = _sin_below(dl)
        s2 *= s2
        s2 *= cells[3, :n]
        s2 *= math.cos(math.radians(qlat))
        hav += s2
        hav *= _MAX_HAV_SHRINK
        if radius >= math.pi * EARTH_M:
            inside = np.arange(n)
        else:
            inside = np.flatnonzero(hav <= math.sin(radius / (2 * EARTH_M)) ** 2)
        return inside, hav[inside]

    def _groups(
        self, trows: np.ndarray, m: int, cells: np.ndarray, hav: np.ndarray, class_top: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The non-empty groups (size class, cell) of ``cells`` in the table rows ``trows`` (the
        query's ``m`` skills × the classes), best bound first: (-bound, class, cell, entries)."""
        n = len(cells)
        cnt = self._cnt[np.ix_(trows, cells)].reshape(m, NCLASS, n)
        per_group = (cnt.sum(axis=0) if m > 1 else cnt[0]).ravel()
        groups = np.flatnonzero(per_group)
        bound = (class_top[:, None] + _near_top(hav)[None, :]).ravel()  # (class, cell)
        neg = -bound[groups]
        if len(groups) > 2 * _HEAD:  # the first _HEAD sorted, then (rarely needed) the rest
            part = np.argpartition(neg, _HEAD)
            head, tail = part[:_HEAD], part[_HEAD:]
            order = np.concatenate((head[np.argsort(neg[head])], tail[np.argsort(neg[tail])]))
        else:
            order = np.argsort(neg)
        groups = groups[order]
        return neg[order], groups // n, cells[groups % n], per_group[groups]

    def _query(self, q: Mapping[str, Any], k: int, radius_m: float, direction: int) -> list[Match]:
        k = operator.index(k)
        radius = float(radius_m)
        qlat, qlon = _check_point(q)
        qskills = _skills(q)
        if k <= 0 or not radius >= 0 or not qskills or not self._slot_of:
            return []
        row_of = self._row_of
        rows = [row_of[c] for c in qskills if c in row_of]
        if not rows:
            return []
        # 1. the cells within the radius
        cells, hav_cells = self._near_cells(qlat, qlon, radius)
        if not len(cells):
            return []
        # 2. groups (size class, cell): the items of one cell with the same number of skills (1, 2, 3,
        # 4, 5+), in the rows of the query's skills; each group has a bound of the score any of its
        # items can reach (skills part by the class, wage and hours parts 1 or neutral, the near part at
        # the cell's lower-bound distance). All rows of an item fall in one group.
        m = len(rows)
        if direction == _TOP:  # overlap / the item's skills
            skill_top = np.minimum(m, _CLASSES) / _CLASSES
            q_want, q_offer = _number(q.get("wage_min")), None
        else:  # overlap / the posting's skills
            skill_top = np.minimum(m, _CLASSES) / len(qskills)
            skill_top[-1] = m / len(qskills)
            q_want, q_offer = None, _number(q.get("wage_max"))
        q_hours = _number(q.get("hours"))
        rest = W_WAGE * (NEUTRAL if (q_want if direction == _TOP else q_offer) is None else 1.0)
        rest += W_HOURS * (NEUTRAL if q_hours is None else 1.0) + EPS
        srows = np.asarray(rows, dtype=np.intp) * NCLASS
        trows = (srows[:, None] + _CLASS_IDX).ravel()
        class_top = W_SKILL * skill_top + rest
        # cells within _FIRST_M first; the others only when a query reaches their bound (rarely)
        far: tuple[np.ndarray, np.ndarray] | None = None
        h_first = math.sin(_FIRST_M / (2 * EARTH_M)) ** 2
        if radius > _FIRST_M and len(cells) > _HEAD:
            is_first = hav_cells <= h_first
            if not is_first.all():
                far = cells[~is_first], hav_cells[~is_first]
                cells, hav_cells = cells[is_first], hav_cells[is_first]
        neg_far = -float(class_top.max() + _near_top(np.array([h_first]))[0])
        neg, g_class, g_cell, counts = self._groups(trows, m, cells, hav_cells, class_top)
        if not len(neg) and far is None:
            return []
        cum = np.cumsum(counts)
        tol_m = _NEAR_TOL_M if radius + _FAR_TOL_M <= _FAR_M else _FAR_TOL_M
        qx, qy, qz = _unit(qlat, qlon)
        q_numbers = (q_want if direction == _TOP else q_offer, q_hours, len(qskills))
        nan = (self._nan[0], self._nan[1], self._nan[2])
        rec, tab = self._rec, self._tab
        multi = m > 1
        # 3. chunks of groups, best bound first, until the k-th sure lower bound beats the next bound
        c_slots: list[np.ndarray] = []
        c_ub: list[np.ndarray] = []
        best = np.empty(0)
        i0, done, target = 0, 0, _CHUNK0 * k
        i_end = len(neg)  # the groups whose bound reaches the k-th sure lower bound so far
        while True:
            # groups with a bound below the far cells' stay behind them
            limit = i_end if far is None else min(i_end, int(np.searchsorted(neg, neg_far, side="left")))
            if i0 >= limit:
                if far is None or (len(best) == k and -neg_far < float(best.min())):
                    break
                # the far cells' groups, merged with the groups not read yet
                f_neg, f_class, f_cell, f_counts = self._groups(trows, m, far[0], far[1], class_top)
                far = None
                neg = np.concatenate((neg[i0:], f_neg))
                order = np.argsort(neg, kind="stable")
                neg = neg[order]
                g_class = np.concatenate((g_class[i0:], f_class))[order]
                g_cell = np.concatenate((g_cell[i0:], f_cell))[order]
                cum = np.cumsum(np.concatenate((counts[i0:], f_counts))[order])
                i0, done = 0, 0
                i_end = len(neg) if len(best) < k else int(np.searchsorted(neg, -float(best.min()), side="right"))
                continue
            i1 = min(limit, int(np.searchsorted(cum, done + target, side="left")) + 1)
            r_ix = srows[:, None] + g_class[None, i0:i1]
            parts = tab[r_ix, g_cell[None, i0:i1]].ravel()
            done = int(cum[i1 - 1])
            i0, target = i1, target * 2
            slots = np.frombuffer(b"".join(parts), dtype=np.intc)
            ov: np.ndarray | float = 1.0
            if multi:  # an item with several of the query's skills: once, with the overlap
                slots = np.sort(slots)
                first = np.empty(len(slots), dtype=bool)
                first[0] = True
                np.not_equal(slots[1:], slots[:-1], out=first[1:])
                at = np.flatnonzero(first)
                if len(at) < len(slots):
                    slots = slots[at]
                    ov = np.diff(np.append(at, len(first))).astype(np.float64)
            r = rec[slots]
            # great-circle distance from the chord between unit vectors (one arcsin)
            dx = r[:, _X] - qx
            chord = dx * dx
            dx = r[:, _Y] - qy
            chord += dx * dx
            dx = r[:, _Z] - qz
            chord += dx * dx
            np.sqrt(chord, out=chord)
            chord *= 0.5
            np.minimum(chord, 1.0, out=chord)
            d = (2.0 * EARTH_M) * np.arcsin(chord)
            est, ok = _estimate(r, ov, d, direction, q_numbers, nan)
            inside_r = d <= radius + tol_m
            ok = inside_r if ok is None else ok & inside_r
            if not ok.all():
                slots, est, d = slots[ok], est[ok], d[ok]
            if len(slots):
                err: np.ndarray | float = EPS
                d_max = float(d.max())
                if d_max > _FAR_M:
                    err = np.where(d > _FAR_M, _FAR_EPS, EPS)
                c_slots.append(slots)
                c_ub.append(est + err)
                lo = est - err
                if d_max > radius - tol_m:
                    lo = lo[d <= radius - tol_m]
                if len(lo):
                    best = np.concatenate((best, lo))
                    if len(best) > k:
                        best = np.partition(best, len(best) - k)[len(best) - k :]
            if len(best) == k:
                i_end = int(np.searchsorted(neg, -float(best.min()), side="right"))
        if not c_slots:
            return []
        # 4. exact scores, best upper bound first, until the next bound is below the k-th score
        slots = np.concatenate(c_slots)
        ub = np.concatenate(c_ub)
        if len(best) == k:
            keep = ub >= best.min()
            slots, ub = slots[keep], ub[keep]
        walk = np.argsort(-ub, kind="stable")
        items = self._items
        out: list[Match] = []
        heap: list[float] = []
        ub_l = ub[walk].tolist()
        for j, slot in enumerate(slots[walk].tolist()):
            if len(heap) == k and ub_l[j] < heap[0]:
                break
            item = items[slot]
            assert item is not None
            if direction == _TOP:
                dist = metres(q["lat"], q["lon"], item["lat"], item["lon"])
                if not dist <= radius_m:
                    continue
                s = score(q, item, dist)
            else:
                dist = metres(item["lat"], item["lon"], q["lat"], q["lon"])
                if not dist <= radius_m:
                    continue
                s = score(item, q, dist)
            if s <= 0:
                continue
            out.append(Match(item["id"], s, dist))
            if len(heap) < k:
                heapq.heappush(heap, s)
            elif s > heap[0]:
                heapq.heapreplace(heap, s)
        out.sort(key=lambda m: (-m.score, m.posting_id))
        return out[:k]


def _near_top(hav: np.ndarray) -> np.ndarray:
    """W_DIST × the near part at the distance of haversine term ``hav`` (an upper bound when ``hav``
    is a lower bound)."""
    lb = np.sqrt(np.minimum(hav, 1.0))
    np.arcsin(lb, out=lb)
    lb *= 2.0 * EARTH_M / DIST_HALF_M
    lb += 1.0
    return np.divide(W_DIST, lb, out=lb)


def _sin_below(deg: np.ndarray) -> np.ndarray:
    """A lower bound of sin(deg / 2 in radians) for 0 ≤ deg ≤ 180: x − x³/6 (in place, no sin())."""
    deg *= math.pi / 360.0
    x2 = deg * deg
    x2 *= -1.0 / 6.0
    x2 += 1.0
    deg *= x2
    return deg


def _estimate(
    r: np.ndarray,
    ov: np.ndarray | float,
    d: np.ndarray,
    direction: int,
    q: tuple[float | None, float | None, int],
    nan: tuple[bool, bool, bool],
) -> tuple[np.ndarray, np.ndarray | None]:
    """Vectorised ``score()`` of the query against the items of records ``r`` at distances ``d``,
    within EPS of it where the gates pass, and the mask of the items passing the gates (None: all)
    — exactly where ``score() > 0`` for a shared skill: the same IEEE comparisons on the same floats.
    ``q`` = the query's wage (wage_min for top, wage_max for talent), hours and number of skills;
    ``nan`` = whether the index holds any missing wage_min, wage_max, hours."""
    q_wage, q_hours, q_nsk = q
    n = len(r)
    est = d * (1.0 / DIST_HALF_M)
    est += 1.0
    np.divide(W_DIST, est, out=est)
    if direction == _TOP:
        est += (W_SKILL * ov) / r[:, _NSK]
    else:
        est += ov * (W_SKILL / q_nsk)
    ok: np.ndarray | None = None
    if q_wage is None:
        est += W_WAGE * NEUTRAL
    elif direction == _TOP:  # the query is the seeker: want = q_wage, offer = the posting's wage_max
        offer = r[:, _WMAX]
        floor = q_wage * WAGE_FLOOR
        ok = offer >= floor
        span = q_wage - floor
        if span > 1e-300:
            wage = (offer - floor) * (W_WAGE / span)
            np.minimum(wage, W_WAGE, out=wage)
        elif span > 0:  # a wage so small that W_WAGE / span would overflow
            with np.errstate(over="ignore"):
                wage = np.minimum((offer - floor) / span, 1.0) * W_WAGE
        else:  # wage_min ≤ 0: every posting past the gate pays enough
            wage = np.full(n, W_WAGE)
        if nan[_WMAX - _WMIN]:
            missing = np.isnan(offer)
            ok |= missing
            wage[missing] = W_WAGE * NEUTRAL
        est += wage
    else:  # the query is the posting: offer = q_wage, want = the seeker's wage_min
        want = r[:, _WMIN]
        floors = want * WAGE_FLOOR
        ok = floors <= q_wage
        spans = want - floors
        with np.errstate(over="ignore"):
            wage = np.divide(q_wage - floors, spans, out=np.ones(n), where=spans > 0)
        np.minimum(wage, 1.0, out=wage)
        wage *= W_WAGE
        if nan[0]:
            missing = np.isnan(want)
            ok |= missing
            wage[missing] = W_WAGE * NEUTRAL
        est += wage
    if q_hours is None:
        est += W_HOURS * NEUTRAL
    else:
        diff = np.abs(r[:, _HOURS] - q_hours)
        ok_h = diff <= HOURS_MARGIN
        hours = (HOURS_MARGIN - diff) * (W_HOURS / (HOURS_MARGIN - HOURS_SLACK))
        np.minimum(hours, W_HOURS, out=hours)
        if nan[2]:
            missing = np.isnan(diff)
            ok_h |= missing
            hours[missing] = W_HOURS * NEUTRAL
        est += hours
        ok = ok_h if ok is None else ok & ok_h
    return est, ok


def build(items: Iterable[Mapping[str, Any]]) -> Index:
    """An index of ``items`` (postings, or seekers for ``talent()``); a later item with the same id
    replaces an earlier one, as ``add()`` would."""
    index = Index()
    index._load(items)
    return index


def talent(posting: Mapping[str, Any], seekers_index: Index, k: int = 10, radius_m: float = 10_000) -> list[Match]:
    """The ``k`` best seekers in ``seekers_index`` for ``posting`` within ``radius_m`` (an employer's
    talent search): ranked by ``score(seeker, posting, d)``; ``Match.posting_id`` (and ``.id``) is the
    seeker's id."""
    return seekers_index.talent(posting, k, radius_m)
