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


def _from_events(kind: str, ranges: list[tuple[date, date]] | None) -> tuple[str, list[Any]]:
    """INSERT … SELECT of level F (grain "c") rows of ``kind`` from the raw events, for the days in
    ``ranges`` (None: every day)."""
    col = DAY_COLUMN[Rollup.Kind(kind)]
    qs = Event.objects.filter(**{f"{col}__isnull": False})
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
    table = Rollup._meta.db_table
    return (
        f"INSERT INTO {table} ({COLUMNS}) SELECT 'F', 'c', %s, s.r_day, s.department_id, s.grid_id, "  # noqa: S608
        f"s.category_id, s.r_path, {deferred}, s.r_n, {counts} FROM ({sql}) s",
        [kind, *params],
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


def _rebuild(kind: str, ranges: list[tuple[date, date]] | None) -> int:
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
        sql, params = _from_events(kind, ranges)
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


@dataclass
class Refreshed:
    full: bool
    events: int  # changed or new events looked at
    days: int  # local days recomputed (summed over the three kinds)
    seconds: float


def _state() -> RollupState:
    state = RollupState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        RollupState.objects.get_or_create(pk=1)
        state = RollupState.objects.select_for_update().get(pk=1)
    return state


def refresh(full: bool = False) -> Refreshed:
    """Bring the roll-up up to date with the events, in one transaction (readers see the old or the
    new roll-up, never half of it). Incremental: the events queued by the save hook (with the days
    they counted under before) and the events inserted in bulk since the last refresh (id above the
    watermark) give the affected local days; those days are recomputed from the raw events, and the
    weeks and months they fall in from the days. ``full`` recomputes everything."""
    started = perf_counter()
    with transaction.atomic():
        state = _state()
        top = Event.objects.aggregate(m=Max("pk"))["m"] or 0
        if full:
            if connection.vendor == "postgresql":  # the GROUP BYs over every event sort in memory
                with connection.cursor() as c:
                    c.execute("SET LOCAL work_mem = '256MB'")
            RollupPending.objects.all().delete()
            days = sum(_rebuild(kind, None) for kind in Rollup.Kind.values)
            n = Event.objects.count()
        else:
            pending = list(
                RollupPending.objects.order_by("pk").values_list(
                    "pk", "event_id", "old_created", "old_due", "old_closed"
                )[:PENDING_BATCH]
            )
            affected: dict[str, set[date]] = {k: set() for k in Rollup.Kind.values}
            for _pk, _ev, created, due, closed in pending:
                for kind, d in ((Rollup.Kind.REPORTED, created), (Rollup.Kind.DUE, due), (Rollup.Kind.CLOSED, closed)):
                    if d is not None:
                        affected[kind].add(d)
            ids = {p[1] for p in pending}
            changed = Event.objects.filter(Q(pk__in=ids) | Q(pk__gt=state.last_event_id, pk__lte=top)).values_list(
                "created_at", "due_at", "closed_at"
            )
            n = 0
            for created_at, due_at, closed_at in changed.iterator(chunk_size=5000):
                n += 1
                for kind, at in (
                    (Rollup.Kind.REPORTED, created_at),
                    (Rollup.Kind.DUE, due_at),
                    (Rollup.Kind.CLOSED, closed_at),
                ):
                    d = local_day(at)
                    if d is not None:
                        affected[kind].add(d)
            days = 0
            for kind_code, found in affected.items():
                if found:
                    days += _rebuild(kind_code, _ranges(found))
            RollupPending.objects.filter(pk__in=[p[0] for p in pending]).delete()
        now = clock.now()
        state.last_event_id = max(state.last_event_id, top) if not full else top
        state.refreshed_at = now
        if full:
            state.full_at = now
        state.save()
    return Refreshed(full, n, days, perf_counter() - started)


def pending_count() -> int:
    """Changes not yet rolled up: queued saves plus events inserted above the watermark."""
    state = RollupState.objects.filter(pk=1).first()
    last = state.last_event_id if state else 0
    return RollupPending.objects.count() + Event.objects.filter(pk__gt=last).count()


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
    waiting = RollupPending.objects.count()
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


def note_new(event: Event) -> None:
    """After an event is created through the ORM: queue it (an id below the watermark may commit
    after a refresh ran; bulk inserts without the hook are found by the watermark instead)."""
    RollupPending.objects.create(event_id=event.pk)


def forget_event(event: Event) -> None:
    """After an event is deleted: its days are recomputed without it."""
    RollupPending.objects.create(
        event_id=event.pk or 0,
        old_created=local_day(event.created_at),
        old_due=local_day(event.due_at),
        old_closed=local_day(event.closed_at),
    )
