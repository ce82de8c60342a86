"""The registered building nearest a point, from an index each app process holds in memory.

Every report by position (the Open311 intake, sensors, the grid's phone reports) is snapped to the
nearest building with a position (``governance.services.events.locate_spot``). Asked of the
database, that is one statement per report; here the buildings with a position, with the few columns
snapping needs, sit in a ``core.nearest.Grid`` of 50 m cells, built on first use.

Fresh, not stale:

* every change of a building, a community or a compound bumps the generation ``places``
  (``apps.py``: saves and deletes, including those of the admin; ``services.py``: the bulk writes of
  the roster and boundary imports and of the grid assignment). Before each use the index compares
  the token it was built under with the current one — read in the same cache round trip as the
  Open311 generations (``core.generations.held``), or with one GET elsewhere — and is rebuilt on
  the next use after any change, on every app server;
* it is used only where the generations are shared by every process: with ``LINLI_CACHE_URL``
  (Redis), as in production. The embedded default keeps them in each process's own memory, where a
  roster import run by the task worker would not reach the web process: there snapping asks the
  database, as it always did;
* it is used only outside a transaction (``connection.in_atomic_block``): inside one, a building
  written and then rolled back could stay in memory, and snapping asks the database instead;
* it is rebuilt at least every ``MAX_AGE_SECONDS`` (5 minutes) even without a bump: edits that
  bypass the app (a restore, SQL by hand) show within that. A rebuild reads every building with a
  position: ~0.8 s of CPU for 100,000 of them in the grid alone (an ad-hoc count, plus the SELECT),
  ~25 MB of cells beside the rows; a district's 20,000–30,000 buildings cost a fifth of that.
  Restart the app servers after a restore all the same (docs/operations.md);
* while one thread builds it, the others ask the database (only the request that builds it waits).

The answer is the same as the database's: the nearest by ``geo.metres`` within the radius, ties to
the smaller id (``tests/places/test_spots.py`` compares both over random points).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection

from linli.core import generations
from linli.core.nearest import Grid
from linli.places.models import Building, Community

#: The generation every change of buildings, communities and compounds bumps.
GENERATION = "places"
#: Rebuilt at least this often, whatever the generation says.
MAX_AGE_SECONDS = 300.0
#: Cell size of the index, metres.
CELL_M = 50.0

#: Columns of a row: as ``governance.services.events._SPOT_FIELDS`` reads them.
ROW = "id, lat, lon, grid_id, community_id, street_id, path, name, community_name"


class _Index:
    def __init__(self, grid: Grid, token: str, built: float) -> None:
        self.grid, self.token, self.built = grid, token, built


_current: _Index | None = None  # replaced whole (one assignment), never changed
_building = threading.Lock()


def forget() -> None:
    """Drop this process's index (tests; the next use rebuilds it)."""
    global _current
    _current = None


def _load() -> Grid:
    b, c = Building._meta.db_table, Community._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT b.id, b.lat, b.lon, b.grid_id, b.community_id, c.street_id, b.path, b.name, c.name "  # noqa: S608
            f"FROM {b} b JOIN {c} c ON c.id = b.community_id WHERE b.lat IS NOT NULL AND b.lon IS NOT NULL"
        )
        rows = [tuple(r) for r in cur.fetchall()]
    return Grid(rows, key=0, lat=1, lon=2, cell_m=CELL_M)


def shared() -> bool:
    """Whether a bump reaches every process: the generations live in a shared cache (not in each
    process's local memory)."""
    return not isinstance(caches["default"], LocMemCache)


def index() -> Grid | None:
    """The current index, rebuilt if stale; None when it cannot be used (no shared cache, inside a
    transaction, or another thread is building it now): ask the database."""
    if connection.in_atomic_block or not shared():
        return None
    global _current
    token = generations.token(GENERATION)
    now = time.monotonic()
    held = _current
    if held is not None and held.token == token and now - held.built < MAX_AGE_SECONDS:
        return held.grid
    if not _building.acquire(blocking=False):
        return None
    try:
        grid = _load()
        _current = _Index(grid, token, now)
        return grid
    finally:
        _building.release()


def nearest(grid: Grid, la: float, lo: float, radius_m: float, within: str = "") -> tuple[float, Sequence[Any]] | None:
    """(metres, row) of the building in ``grid`` (``index()``) nearest (la, lo) within ``radius_m``
    under the place path ``within`` (as the database's ``LIKE`` takes it: without wildcards), or None.
    A row holds the columns of ``ROW``."""
    prefix = within.replace("%", "").replace("_", "")
    if prefix:
        return grid.nearest(la, lo, radius_m, lambda row: str(row[6]).startswith(prefix))
    return grid.nearest(la, lo, radius_m)
