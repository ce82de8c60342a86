"""The command centre's writes (docs/dashboard.md): the access log entry of an export, and the
roll-up of grid events (``models.Rollup``) refreshed incrementally.

An export of a period writes an ``export`` entry to accounts' access log, through
``accounts.services.log_access`` (docs/rules.md §6: every export of data about people's cases is
logged). The roll-up is the command centre's own table: ``refresh()`` recomputes the local days the
changed events touch from governance's events (read only), in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import perf_counter
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DateField, F, Func, Max, Q
from django.utils import timezone

from linli.accounts.models import AccessLog
from linli.accounts.services import log_access
from linli.core import clock
from linli.core.types import User
from linli.dashboard import permissions
from linli.dashboard.metrics import Period
from linli.dashboard.models import Rollup, RollupPending, RollupState
from linli.governance import loop
from linli.governance.models import Event


def log_export(user: User, period: Period, ip: str | None) -> None:
    """Log ``user``'s .xlsx export of ``period``, scoped to the place of their first EVENTS grant."""
    grants = permissions.event_grants(user)
    with transaction.atomic():
        log_access(
            user,
            AccessLog.What.EXPORT,
            None,
            path=grants[0].path if grants else "",
            reason=f"dashboard.xlsx {period.first.isoformat()}..{period.last.isoformat()}",
            ip=ip,
        )


# --- the roll-up (issue 11 §2; docs/dashboard.md "The roll-up") ----------------------------------

CLOSED_STEPS = [loop.Step.CLOSED.value, loop.Step.EVALUATED.value]
VOIDED = loop.Step.VOIDED.value
#: kind → the event column whose local day is the roll-up day
DAY_COLUMN = {Rollup.Kind.DUE: "due_at", Rollup.Kind.REPORTED: "created_at", Rollup.Kind.CLOSED: "closed_at"}
MAX_RANGES = 40  # more separate day ranges than this are recomputed as one span
PENDING_BATCH = 50_000


class LocalDate(Func):
    """The local calendar day of a datetime column as a date (the site's ``TIME_ZONE``)."""

    output_field = DateField()

    def __init__(self, column: str) -> None:
        super().__init__(F(column))

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # SQLite keeps UTC text; a fixed offset is exact for zones without daylight saving (Asia/Shanghai)
        offset = timezone.get_default_timezone().utcoffset(datetime(2000, 1, 1)) or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, '{minutes:+d} minutes')", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) AT TIME ZONE %s)::date", [*params, str(timezone.get_default_timezone())]


def local_day(at: datetime | None) -> date | None:
    return None if at is None else timezone.localtime(at, timezone.get_default_timezone()).date()


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=timezone.get_default_timezone())


def _ranges(days: set[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days; beyond MAX_RANGES runs, one span."""
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    if len(out) > MAX_RANGES:
        return [(out[0][0], out[-1][1])]
    return out


COLUMNS = (
    "level, grain, kind, day, department_id, grid_id, category_id, path, deferred_until, n, closed, on_time, reworked"
)
L = Rollup.Level
#: the levels each kind is kept at besides F, and each level's key columns (docs in models.py)
LEVELS = {
    Rollup.Kind.DUE: (L.ALL, L.DEPARTMENT, L.GRID),
    Rollup.Kind.REPORTED: (L.ALL, L.PLACE, L.TEAM),
    Rollup.Kind.CLOSED: (L.ALL, L.PLACE, L.TEAM),
}
KEYS = {
    L.ALL: ("department_id", "grid_id", "path"),
    L.DEPARTMENT: ("department_id", "path"),
    L.GRID: ("grid_id", "path"),
    L.PLACE: ("path",),
    L.TEAM: ("department_id",),
}


def _from_events(
    kind: str,
    ranges: list[tuple[date, date]] | None,
    upto: int,
    *,
    after: int | None = None,
    skip: list[tuple[date, date]] | None = None,
    table: str = "",
) -> tuple[str, list[Any]]:
    """INSERT … SELECT of level F (grain "c") rows of ``kind`` from the raw events with an id up to
    ``upto`` (the refresh's watermark: a later event is the next refresh's), for the days in
    ``ranges`` (None: every day); with ``after`` only the events above that id (the new ones), and
    without the local days in ``skip``; into ``table`` (the roll-up's by default)."""
    col = DAY_COLUMN[Rollup.Kind(kind)]
    qs = Event.objects.filter(**{f"{col}__isnull": False}, pk__lte=upto)
    if after is not None:
        qs = qs.filter(pk__gt=after)
    if ranges is not None:
        span = Q()
        for lo, hi in ranges:
            span |= Q(**{f"{col}__gte": _day_start(lo), f"{col}__lt": _day_start(hi + timedelta(days=1))})
        qs = qs.filter(span)
    closed = Q(step__in=CLOSED_STEPS, closed_at__isnull=False)
    aggregates: dict[str, Any] = {"r_n": Count("id")}
    group = ["r_day", "department_id", "grid_id", "category_id", "r_path"]
    if kind == Rollup.Kind.DUE:
        qs = qs.exclude(step=VOIDED)
        group.append("deferred_until")
        aggregates |= {
            "r_closed": Count("id", filter=closed),
            "r_on_time": Count("id", filter=closed & Q(closed_at__lte=F("due_at"))),
            "r_reworked": Count("id", filter=closed & Q(rework_count__gt=0)),
        }
    elif kind == Rollup.Kind.CLOSED:
        qs = qs.filter(step__in=CLOSED_STEPS)
    grouped = (
        qs.order_by().annotate(r_day=LocalDate(col), r_path=F("community__path")).values(*group).annotate(**aggregates)
    )
    sql, params = grouped.query.sql_with_params()
    deferred = "s.deferred_until" if kind == Rollup.Kind.DUE else "NULL"
    counts = "s.r_closed, s.r_on_time, s.r_reworked" if kind == Rollup.Kind.DUE else "0, 0, 0"
    where, more = "", []
    for lo, hi in skip or []:
        where += " AND NOT (s.r_day >= %s AND s.r_day <= %s)"
        more += [lo, hi]
    return (
        f"INSERT INTO {table or Rollup._meta.db_table} ({COLUMNS}) SELECT 'F', 'c', %s, s.r_day, "  # noqa: S608
        f"s.department_id, s.grid_id, s.category_id, s.r_path, {deferred}, s.r_n, {counts} FROM ({sql}) s "
        f"WHERE 1 = 1{where}",
        [kind, *params, *more],
    )


def _select_keys(level: str) -> str:
    keys = KEYS[Rollup.Level(level)]
    return ", ".join(
        [
            "department_id" if "department_id" in keys else "NULL",
            "grid_id" if "grid_id" in keys else "NULL",
            "NULL",
            "path" if "path" in keys else "''",
        ]
    )


def _days_of_level(cursor: Any, level: str, kind: str, lo: date, hi: date) -> None:
    """Level ``level``'s day rows (grain "d", and "x" for deferred due events) of days lo … hi,
    summed from the level F rows."""
    table = Rollup._meta.db_table
    keys = ", ".join(KEYS[Rollup.Level(level)])
    cursor.execute(
        f"DELETE FROM {table} WHERE level = %s AND kind = %s AND grain IN ('d', 'x') AND day >= %s AND day <= %s",  # noqa: S608
        [level, kind, lo, hi],
    )
    sums = "SUM(n), SUM(closed), SUM(on_time), SUM(reworked)"
    where = f"FROM {table} WHERE level = 'F' AND grain = 'c' AND kind = %s AND day >= %s AND day <= %s"
    cursor.execute(
        f"INSERT INTO {table} ({COLUMNS}) SELECT %s, 'd', kind, day, {_select_keys(level)}, NULL, {sums} "
        f"{where} AND deferred_until IS NULL GROUP BY kind, day, {keys}",
        [level, kind, lo, hi],
    )
    if kind == Rollup.Kind.DUE:
        cursor.execute(
            f"INSERT INTO {table} ({COLUMNS}) SELECT %s, 'x', kind, day, {_select_keys(level)}, "
            f"deferred_until, {sums} {where} AND deferred_until IS NOT NULL GROUP BY kind, day, {keys}, deferred_until",
            [level, kind, lo, hi],
        )


def _bucket_sql(grain: str) -> str:
    """The SQL of the bucket (Monday of the week, first of the month) of the ``day`` column."""
    if connection.vendor == "postgresql":
        return f"(date_trunc('{'week' if grain == 'w' else 'month'}', day))::date"
    if grain == "w":
        return "date(day, '-' || ((CAST(strftime('%%w', day) AS INTEGER) + 6) %% 7) || ' days')"
    return "date(day, 'start of month')"


def _buckets_of_level(cursor: Any, level: str, kind: str, grain: str, lo: date, hi: date) -> None:
    """Level ``level``'s week or month rows of the buckets starting lo … hi (bucket starts), summed
    from its day rows (grain "d": deferred events stay in grain "x")."""
    table = Rollup._meta.db_table
    end = hi + timedelta(days=6) if grain == "w" else _next_month(hi) - timedelta(days=1)
    keys = ", ".join(KEYS[Rollup.Level(level)])
    cursor.execute(
        f"DELETE FROM {table} WHERE level = %s AND kind = %s AND grain = %s AND day >= %s AND day <= %s",  # noqa: S608
        [level, kind, grain, lo, hi],
    )
    bucket = _bucket_sql(grain)
    cursor.execute(
        f"INSERT INTO {table} ({COLUMNS}) SELECT %s, %s, kind, {bucket}, {_select_keys(level)}, NULL, "  # noqa: S608
        f"SUM(n), SUM(closed), SUM(on_time), SUM(reworked) FROM {table} "
        f"WHERE level = %s AND grain = 'd' AND kind = %s AND day >= %s AND day <= %s "
        f"GROUP BY kind, {bucket}, {keys}",
        [level, grain, level, kind, lo, end],
    )


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _rebuild(kind: str, ranges: list[tuple[date, date]] | None, upto: int) -> int:
    """Recompute every level and grain of ``kind`` for the days in ``ranges`` (None: all), from the
    raw events: level F from the events, the other levels' days from F, their weeks and months from
    their days."""
    table = Rollup._meta.db_table
    with connection.cursor() as c:
        if ranges is None:
            c.execute(f"DELETE FROM {table} WHERE kind = %s", [kind])  # noqa: S608
        else:
            for lo, hi in ranges:
                c.execute(
                    f"DELETE FROM {table} WHERE level = 'F' AND kind = %s AND day >= %s AND day <= %s",  # noqa: S608
                    [kind, lo, hi],
                )
        sql, params = _from_events(kind, ranges, upto)
        c.execute(sql, params)
        if ranges is None:
            c.execute(f"SELECT MIN(day), MAX(day) FROM {table} WHERE level = 'F' AND kind = %s", [kind])  # noqa: S608
            lo_hi = c.fetchone()
            if not lo_hi or lo_hi[0] is None:
                return 0
            first, last = (d if isinstance(d, date) else date.fromisoformat(str(d)) for d in lo_hi)
            ranges = [(first, last)]
        grains = ["w", "m"] if kind == Rollup.Kind.DUE else ["w"]
        for level in LEVELS[Rollup.Kind(kind)]:
            for lo, hi in ranges:
                _days_of_level(c, level, kind, lo, hi)
            for grain in grains:
                for lo, hi in ranges:
                    if grain == "w":
                        b_lo, b_hi = lo - timedelta(days=lo.weekday()), hi - timedelta(days=hi.weekday())
                    else:
                        b_lo, b_hi = lo.replace(day=1), hi.replace(day=1)
                    _buckets_of_level(c, level, kind, grain, b_lo, b_hi)
        return sum(hi.toordinal() - lo.toordinal() + 1 for lo, hi in ranges)


# --- new events by deltas: their counts added to the rows they fall in, no day recomputed ----------

DELTA = "dash_rollup_delta"  # a temporary table of the connection


def _delta_table(cursor: Any) -> None:
    if connection.vendor == "postgresql":
        types = ("varchar(1)", "date", "integer", "varchar(120)", "timestamptz")
    else:
        types = ("text", "date", "integer", "text", "datetime")
    t, d, i, p, ts = types
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {DELTA} (level {t}, grain {t}, kind {t}, day {d}, department_id {i}, "
        f"grid_id {i}, category_id {i}, path {p}, deferred_until {ts}, n {i}, closed {i}, on_time {i}, reworked {i})"
    )
    cursor.execute(f"DELETE FROM {DELTA}")  # noqa: S608


def _same(column: str) -> str:
    """Null-safe equality of a key column of the roll-up (r) and the delta (d), in a form the
    database joins fast (PostgreSQL hashes COALESCE expressions, SQLite indexes ``IS``)."""
    if connection.vendor != "postgresql":
        return f"r.{column} IS d.{column}"
    if column == "path":
        return "r.path = d.path"
    if column == "deferred_until":
        return "COALESCE(r.deferred_until, '-infinity') = COALESCE(d.deferred_until, '-infinity')"
    return f"COALESCE(r.{column}, 0) = COALESCE(d.{column}, 0)"


def _add_new(kind: str, after: int, upto: int, skip: list[tuple[date, date]]) -> int:
    """Add the events with ``after`` < id ≤ ``upto`` (new since the last refresh) to every level and
    grain of ``kind``, except on the local days in ``skip`` (recomputed from the raw events in this
    refresh, so they are counted there): their level-F counts go to a temporary table, the other
    levels' days, weeks and months are summed there from them, and each row is added to the roll-up
    row of the same key (one UPDATE … FROM per level and grain) or inserted where there is none.
    Returns the rows touched."""
    table = Rollup._meta.db_table
    sums = "SUM(n), SUM(closed), SUM(on_time), SUM(reworked)"
    with connection.cursor() as c:
        _delta_table(c)
        sql, params = _from_events(kind, None, upto, after=after, skip=skip, table=DELTA)
        c.execute(sql, params)
        if not c.rowcount:
            return 0
        for level in LEVELS[Rollup.Kind(kind)]:
            keys = ", ".join(KEYS[Rollup.Level(level)])
            select = (
                f"INSERT INTO {DELTA} ({COLUMNS}) SELECT %s, %s, kind, {{day}}, {_select_keys(level)}, "  # noqa: S608
                f"{{deferred}}, {sums} FROM {DELTA}"
            )
            c.execute(
                select.format(day="day", deferred="NULL")
                + f" WHERE level = 'F' AND kind = %s AND deferred_until IS NULL GROUP BY kind, day, {keys}",
                [level, "d", kind],
            )
            if kind == Rollup.Kind.DUE:
                c.execute(
                    select.format(day="day", deferred="deferred_until")
                    + f" WHERE level = 'F' AND kind = %s AND deferred_until IS NOT NULL"
                    f" GROUP BY kind, day, {keys}, deferred_until",
                    [level, "x", kind],
                )
            for grain in ["w", "m"] if kind == Rollup.Kind.DUE else ["w"]:
                bucket = _bucket_sql(grain)
                c.execute(
                    select.format(day=bucket, deferred="NULL")
                    + f" WHERE level = %s AND grain = 'd' AND kind = %s GROUP BY kind, {bucket}, {keys}",
                    [level, grain, level, kind],
                )
        if connection.vendor == "postgresql":
            c.execute(f"ANALYZE {DELTA}")
            # the roll-up's statistics cannot tell how many rows a level, grain and day list holds: a
            # nested loop over the delta for each one is the planner's bad guess (0.7 s instead of 5 ms)
            c.execute("SET LOCAL enable_nestloop = off")
        c.execute(f"SELECT DISTINCT level, grain, day FROM {DELTA}")  # noqa: S608
        days: dict[tuple[str, str], list[Any]] = {}
        for lvl, grain, day in c.fetchall():
            days.setdefault((lvl, grain), []).append(day)
        touched = 0
        same = " AND ".join(_same(k) for k in ("department_id", "grid_id", "category_id", "path", "deferred_until"))
        for (lvl, grain), found in days.items():
            match = (
                f"r.level = %s AND r.grain = %s AND r.kind = %s AND r.day IN ({', '.join(['%s'] * len(found))}) "
                f"AND r.day = d.day AND {same}"
            )
            args = [lvl, grain, kind, *found]
            c.execute(
                f"UPDATE {table} AS r SET n = r.n + d.n, closed = r.closed + d.closed, "  # noqa: S608
                f"on_time = r.on_time + d.on_time, reworked = r.reworked + d.reworked FROM {DELTA} AS d "
                f"WHERE d.level = %s AND d.grain = %s AND {match}",
                [lvl, grain, *args],
            )
            touched += c.rowcount
            cols = ", ".join(f"d.{col.strip()}" for col in COLUMNS.split(","))
            c.execute(
                f"INSERT INTO {table} ({COLUMNS}) SELECT {cols} FROM {DELTA} AS d "  # noqa: S608
                f"WHERE d.level = %s AND d.grain = %s AND NOT EXISTS (SELECT 1 FROM {table} AS r WHERE {match})",
                [lvl, grain, *args],
            )
            touched += c.rowcount
        c.execute(f"DELETE FROM {DELTA}")  # noqa: S608
        if connection.vendor == "postgresql":
            c.execute("RESET enable_nestloop")
        return touched


@dataclass
class Refreshed:
    full: bool
    events: int  # changed or new events looked at
    days: int  # local days recomputed from the raw events (summed over the three kinds)
    seconds: float
    added: int = 0  # roll-up rows the new events were added to (or inserted as)


def _state() -> RollupState:
    state = RollupState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        RollupState.objects.get_or_create(pk=1)
        state = RollupState.objects.select_for_update().get(pk=1)
    return state


#: how far below the watermark a missing id is watched for a late commit (PostgreSQL)
GAP_WINDOW = 10_000


def _xid_sql(part: str) -> str:
    return f"SELECT pg_snapshot_{part}(pg_current_snapshot())::text::bigint"


def _note_gaps(after: int, upto: int) -> None:
    """PostgreSQL: queue the ids in (after, upto] (the last GAP_WINDOW at most) that no event has
    yet. An id is taken when the row is inserted, not when it commits, so a transaction still open
    may commit an id below the new watermark; the next refreshes look for it until every
    transaction that was running now has ended (``gap_xid``: the next transaction id now). On SQLite
    one transaction writes at a time: a missing id was rolled back."""
    if connection.vendor != "postgresql" or upto <= after:
        return
    lo = max(after, upto - GAP_WINDOW)
    present = set(Event.objects.filter(pk__gt=lo, pk__lte=upto).values_list("pk", flat=True))
    missing = [i for i in range(lo + 1, upto + 1) if i not in present]
    if missing:
        with connection.cursor() as c:
            c.execute(_xid_sql("xmax"))
            xid = int(c.fetchone()[0])
        RollupPending.objects.bulk_create([RollupPending(event_id=i, gap_xid=xid) for i in missing])


def _all_ended_before() -> int | None:
    """PostgreSQL: every transaction with an id below this one has ended (the snapshot's xmin)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as c:
        c.execute(_xid_sql("xmin"))
        return int(c.fetchone()[0])


def refresh(full: bool = False) -> Refreshed:
    """Bring the roll-up up to date with the events, in one transaction (readers see the old or the
    new roll-up, never half of it). Incremental: the events inserted since the last refresh (id
    above the watermark) are *added* to the rows they fall in (``_add_new``: no day recomputed);
    the events queued by the save hook (changed or deleted, with the days they counted under
    before) give local days that are recomputed from the raw events, and the weeks and months those
    days fall in from the days. Only events up to the new watermark count (a later one is the next
    refresh's). ``full`` recomputes everything."""
    started = perf_counter()
    added = 0
    with transaction.atomic():
        state = _state()
        last = state.last_event_id
        top = max(Event.objects.aggregate(m=Max("pk"))["m"] or 0, last)
        if full:
            if connection.vendor == "postgresql":  # the GROUP BYs over every event sort in memory
                with connection.cursor() as c:
                    c.execute("SET LOCAL work_mem = '256MB'")
            RollupPending.objects.filter(gap_xid__isnull=True).delete()
            _note_gaps(0, top)
            days = sum(_rebuild(kind, None, top) for kind in Rollup.Kind.values)
            n = Event.objects.filter(pk__lte=top).count()
        else:
            if connection.vendor == "postgresql":
                with connection.cursor() as c:
                    # dozens of short statements: compiling each (JIT) costs more than it saves; the
                    # joins of the new events' rows sort in memory
                    c.execute("SET LOCAL jit = off")
                    c.execute("SET LOCAL work_mem = '64MB'")
            pending = list(
                RollupPending.objects.order_by("pk").values_list(
                    "pk", "event_id", "old_created", "old_due", "old_closed", "gap_xid"
                )[:PENDING_BATCH]
            )
            ended_before = _all_ended_before()
            _note_gaps(last, top)
            affected: dict[str, set[date]] = {k: set() for k in Rollup.Kind.values}
            for _pk, _ev, created, due, closed, _gap in pending:
                for kind, d in ((Rollup.Kind.REPORTED, created), (Rollup.Kind.DUE, due), (Rollup.Kind.CLOSED, closed)):
                    if d is not None:
                        affected[kind].add(d)
            found: set[int] = set()
            changed = Event.objects.filter(pk__in={p[1] for p in pending}).values_list(
                "pk", "created_at", "due_at", "closed_at"
            )
            for pk, created_at, due_at, closed_at in changed.iterator(chunk_size=5000):
                found.add(pk)
                for kind, at in (
                    (Rollup.Kind.REPORTED, created_at),
                    (Rollup.Kind.DUE, due_at),
                    (Rollup.Kind.CLOSED, closed_at),
                ):
                    d = local_day(at)
                    if d is not None:
                        affected[kind].add(d)
            recompute = {kind: _ranges(found_days) for kind, found_days in affected.items() if found_days}
            if top > last:  # new events first: the weeks and months recomputed below then include them
                for code in Rollup.Kind.values:
                    added += _add_new(code, last, top, recompute.get(code, []))
            days = sum(_rebuild(kind, ranges, top) for kind, ranges in recompute.items())
            # a gap whose event has not appeared stays queued while a transaction that could hold it runs
            waiting = {
                p[0]
                for p in pending
                if p[5] is not None and p[1] not in found and ended_before is not None and ended_before < p[5]
            }
            RollupPending.objects.filter(pk__in=[p[0] for p in pending if p[0] not in waiting]).delete()
            n = len(found) + (Event.objects.filter(pk__gt=last, pk__lte=top).count() if top > last else 0)
        now = clock.now()
        state.last_event_id = top
        state.refreshed_at = now
        if full:
            state.full_at = now
        state.save()
    return Refreshed(full, n, days, perf_counter() - started, added)


def pending_count() -> int:
    """Changes not yet rolled up: queued saves plus events inserted above the watermark."""
    state = RollupState.objects.filter(pk=1).first()
    last = state.last_event_id if state else 0
    return RollupPending.objects.filter(gap_xid__isnull=True).count() + Event.objects.filter(pk__gt=last).count()


CATCH_UP_MAX = 2000


def catch_up() -> None:
    """Before the page reads the roll-up: apply a small backlog of changes at once (read your own
    writes); a large one is left to the worker's task (``tasks.refresh_rollup``)."""
    state = RollupState.objects.filter(pk=1).first()
    if state is None:  # never filled: at once if small, else by `manage.py refresh_rollup --full`
        if not Event.objects.order_by().values("pk")[CATCH_UP_MAX : CATCH_UP_MAX + 1].exists():
            refresh(full=True)
        return
    last = state.last_event_id
    waiting = RollupPending.objects.filter(gap_xid__isnull=True).count()
    newer = Event.objects.filter(pk__gt=last).order_by().values("pk")[: CATCH_UP_MAX + 1].count()
    if 0 < waiting + newer <= CATCH_UP_MAX:
        refresh()


def remember_days(event: Event) -> None:
    """Before an event is saved (the save hook, ``apps.py``): queue it with the local days it counted
    under until now, so that the refresh recomputes those days as well as its new ones."""
    if event._state.adding or event.pk is None:
        return
    old = Event.objects.filter(pk=event.pk).values_list("created_at", "due_at", "closed_at").first()
    if old is None:
        RollupPending.objects.create(event_id=event.pk)
        return
    RollupPending.objects.create(
        event_id=event.pk, old_created=local_day(old[0]), old_due=local_day(old[1]), old_closed=local_day(old[2])
    )


def forget_event(event: Event) -> None:
    """After an event is deleted: its days are recomputed without it."""
    RollupPending.objects.create(
        event_id=event.pk or 0,
        old_created=local_day(event.created_at),
        old_due=local_day(event.due_at),
        old_closed=local_day(event.closed_at),
    )
