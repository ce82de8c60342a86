"""Storage that lasts (issue 13 §6, docs/sensing.md "Storage", docs/operations.md "Sensor data").

Raw readings (``Reading``) are kept ``LINLI_SENSING_RAW_DAYS`` days and their hourly roll-ups
(``ReadingHour``: min, max, sum, count per channel and hour) ``LINLI_SENSING_HOURLY_DAYS`` days.

**PostgreSQL.** ``sensing_reading`` is partitioned by day (RANGE on ``ts``, UTC days, partitions named
``sensing_reading_pYYYYMMDD``) and ``sensing_readinghour`` by month (``sensing_readinghour_pYYYYMM``);
both have a DEFAULT partition (migration 0003), so an insert for a day without a partition never
fails. ``ensure_partitions`` makes the partitions of today and the next days (and of this month and
the next) and moves rows found in the DEFAULT partition into partitions of their own, with a warning.
A partition is made beside the table and *attached* (``ATTACH PARTITION`` takes only a SHARE UPDATE
EXCLUSIVE lock on the parent, so the intake's inserts never wait for it). Retention detaches and
drops whole partitions (fast, no dead rows), and deletes what lies in the DEFAULT partition.

**SQLite** keeps one table each; retention deletes in batches of ``BATCH`` rows, one transaction each,
so the intake's writes are not held up for long.

**Roll-ups** are incremental: a watermark (``RollupMark`` "hourly") says every hour before it is
rolled up. Each run rolls the closed hours since the watermark (an hour is closed ``CLOSE_AFTER``
after it ends) **and the ``LINLI_SENSING_ROLLUP_REDO_HOURS`` hours before it again**, so readings a
little late (a gateway's buffer after a short outage) land in their hour without any bookkeeping.
Later ones are caught by ``note_late``: the intake passes the timestamps it stored and the hours the
next run would not look at again are marked (``LateHour``); that run rolls them again. Rolling an hour is one
``INSERT … SELECT … GROUP BY channel_id … ON CONFLICT (channel_id, hour) DO UPDATE`` (an upsert), so a
re-run gives the same rows and an hour whose raw rows are gone keeps its roll-up. Retention never drops
raw days the roll-up has not passed yet.

These are system jobs (no person starts them, like the escalation sweep): no ``authorize()``. Run them
hourly with ``manage.py sensing_storage`` (deploy/systemd/linli-sensing-storage.timer) or as the task
``sensing.tasks.storage_sweep``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from linli.core import clock
from linli.sensing import models as m

log = logging.getLogger("linli.sensing")

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CLOSE_AFTER = timedelta(minutes=5)  # an hour is rolled up once it has been over this long
BATCH = 10_000  # rows per DELETE on SQLite (one short transaction each)
# DDL gives up (and the next run tries again) rather than queue behind a long query. Making a partition
# locks the table SHARE UPDATE EXCLUSIVE (inserts go on); dropping one needs it ACCESS EXCLUSIVE, and
# inserts queue behind the waiting DETACH: a short limit bounds that pause.
LOCK_TIMEOUT = "5s"
DROP_LOCK_TIMEOUT = "1s"
MARK = "hourly"
_LOCK_KEY = 0x6C696E6C69  # pg_advisory_xact_lock key: one partition job at a time ("linli")


@dataclass(frozen=True)
class Spec:
    """One partitioned table: its name, its partition key and how long a partition is."""

    table: str
    column: str
    unit: str  # "day" | "month"

    @property
    def default(self) -> str:
        return f"{self.table}_default"

    def start_of(self, at: datetime) -> datetime:
        at = at.astimezone(UTC)
        day = at.replace(hour=0, minute=0, second=0, microsecond=0)
        return day if self.unit == "day" else day.replace(day=1)

    def end_of(self, start: datetime) -> datetime:
        if self.unit == "day":
            return start + DAY
        return (start + timedelta(days=32)).replace(day=1)

    def name(self, start: datetime) -> str:
        return f"{self.table}_p{start:%Y%m%d}" if self.unit == "day" else f"{self.table}_p{start:%Y%m}"

    def parse(self, name: str) -> datetime | None:
        """The start of the partition ``name`` (one of ours), or None."""
        digits = 8 if self.unit == "day" else 6
        found = re.fullmatch(rf"{re.escape(self.table)}_p(\d{{{digits}}})", name)
        if not found:
            return None
        text = found.group(1) + ("" if self.unit == "day" else "01")
        return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)


RAW = Spec("sensing_reading", "ts", "day")
HOURLY = Spec("sensing_readinghour", "hour", "month")


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime
    end: datetime


@dataclass
class EnsureReport:
    created: list[str] = field(default_factory=list)
    moved: int = 0  # rows moved out of a DEFAULT partition
    failed: list[str] = field(default_factory=list)  # could not get the lock: next run

    def as_json(self) -> dict[str, Any]:
        return {"created": self.created, "moved": self.moved, "failed": self.failed}


@dataclass
class RetentionReport:
    raw_cutoff: datetime | None = None  # raw readings before this are gone (None: roll-ups never ran)
    hourly_cutoff: datetime | None = None
    dropped: list[str] = field(default_factory=list)  # partitions dropped (PostgreSQL)
    deleted: int = 0  # rows deleted (SQLite; DEFAULT partitions)
    failed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "raw_cutoff": self.raw_cutoff.isoformat() if self.raw_cutoff else None,
            "hourly_cutoff": self.hourly_cutoff.isoformat() if self.hourly_cutoff else None,
            "dropped": self.dropped,
            "deleted": self.deleted,
            "failed": self.failed,
        }


@dataclass
class RollupReport:
    hours: int = 0  # hours rolled up (or again)
    rows: int = 0  # ReadingHour rows written or changed
    late: int = 0  # of those hours, how many were marked late
    upto: datetime | None = None  # the watermark afterwards

    def as_json(self) -> dict[str, Any]:
        return {
            "hours": self.hours,
            "rows": self.rows,
            "late": self.late,
            "upto": self.upto.isoformat() if self.upto else None,
        }


def floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_day(at: datetime) -> datetime:
    return RAW.start_of(at)


def partitioned() -> bool:
    """Whether readings are partitioned here (PostgreSQL; migration 0003)."""
    return connection.vendor == "postgresql"


def _param(at: datetime) -> Any:
    """A datetime as the backend stores it (SQLite: UTC text without offset, as Django writes it)."""
    return connection.ops.adapt_datetimefield_value(at)


# --- partitions (PostgreSQL) ----------------------------------------------------------------------


def partitions(spec: Spec) -> list[Partition]:
    """The partitions of ``spec`` made by ``ensure_partitions`` (not the DEFAULT one), oldest first."""
    if not partitioned():
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [spec.table],
        )
        names = [row[0] for row in cur.fetchall()]
    found = []
    for name in names:
        start = spec.parse(name)
        if start is not None:
            found.append(Partition(name, start, spec.end_of(start)))
    return sorted(found, key=lambda p: p.start)


class Busy(DatabaseError):
    """Another process is making or dropping partitions right now: the next run tries again."""


@contextmanager
def _ddl(timeout: str = LOCK_TIMEOUT) -> Iterator[Any]:
    """One transaction of partition DDL: at most one process at a time (an advisory lock; a second
    one gives up at once), and no waiting longer than ``LOCK_TIMEOUT`` for a table's lock."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL lock_timeout = '{timeout}'")
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
        if not cur.fetchone()[0]:
            raise Busy("another process is changing the partitions")
        yield cur
        cur.execute("SET LOCAL lock_timeout TO DEFAULT")  # inside a longer transaction: do not leak


def _lit(at: datetime) -> str:
    """A bound written into DDL (which takes no parameters): an ISO literal of our own making."""
    return "'" + at.astimezone(UTC).isoformat() + "'"


def _attach(spec: Spec, start: datetime) -> tuple[bool, int]:
    """Make the partition starting at ``start`` unless it exists, moving its rows out of the DEFAULT
    partition: (made, rows moved). One transaction; the parent is only SHARE UPDATE EXCLUSIVE locked."""
    name, end = spec.name(start), spec.end_of(start)
    t, col, default = spec.table, spec.column, spec.default
    with _ddl() as cur:
        if name in {p.name for p in partitions(spec)}:
            return False, 0
        cur.execute(f'CREATE TABLE "{name}" (LIKE "{t}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        # the bound as a CHECK lets ATTACH skip scanning the new table; dropped once attached
        cur.execute(
            f'ALTER TABLE "{name}" ADD CONSTRAINT "{name}_bound" '
            f'CHECK ("{col}" >= {_lit(start)} AND "{col}" < {_lit(end)})'
        )
        # inserts for other days go on; one for this day waits the milliseconds of the move, then lands here
        cur.execute(f'LOCK TABLE "{default}" IN ACCESS EXCLUSIVE MODE')
        cur.execute(
            f'WITH moved AS (DELETE FROM "{default}" WHERE "{col}" >= %s AND "{col}" < %s RETURNING *) '  # noqa: S608
            f'INSERT INTO "{name}" SELECT * FROM moved',
            [start, end],
        )
        moved = cur.rowcount
        cur.execute(f'ALTER TABLE "{t}" ATTACH PARTITION "{name}" FOR VALUES FROM ({_lit(start)}) TO ({_lit(end)})')
        cur.execute(f'ALTER TABLE "{name}" DROP CONSTRAINT "{name}_bound"')
    return True, moved


def _stray_starts(spec: Spec) -> list[datetime]:
    """The partition starts of the rows lying in the DEFAULT partition (normally none)."""
    unit = "day" if spec.unit == "day" else "month"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT date_trunc('{unit}', \"{spec.column}\" AT TIME ZONE 'UTC') FROM \"{spec.default}\""  # noqa: S608
        )
        return sorted(row[0].replace(tzinfo=UTC) for row in cur.fetchall())


def ensure_partitions(days_ahead: int | None = None, *, now: datetime | None = None) -> EnsureReport:
    """Make the raw partitions of today and ``days_ahead`` days after it (default
    ``LINLI_SENSING_PARTITIONS_AHEAD``) and the roll-ups' partitions of this month and the next; move
    rows found in a DEFAULT partition into partitions of their own (logged: something posted for a day
    nobody prepared, or the job did not run). Rows older than the retention are left to ``retention``.
    Safe to run at any time and from several processes at once. On SQLite (one table) it only makes sure
    the index on ``ts`` is there (a table rebuilt by a later migration would have lost it)."""
    report = EnsureReport()
    if not partitioned():
        if connection.vendor == "sqlite":  # migration 0003's index, outside Django's model state: keep it
            with connection.cursor() as cur:
                cur.execute('CREATE INDEX IF NOT EXISTS "sensing_reading_ts" ON "sensing_reading" ("ts")')
        return report
    now = now or clock.now()
    ahead = settings.LINLI_SENSING_PARTITIONS_AHEAD if days_ahead is None else max(0, days_ahead)
    today = RAW.start_of(now)
    month = HOURLY.start_of(now)
    wanted: list[tuple[Spec, datetime]] = [(RAW, today + k * DAY) for k in range(ahead + 1)]
    wanted += [(HOURLY, month), (HOURLY, HOURLY.end_of(month))]
    raw_keep, hourly_keep = _cutoffs(now)
    for spec, keep in ((RAW, raw_keep), (HOURLY, hourly_keep)):
        wanted += [(spec, s) for s in _stray_starts(spec) if spec.end_of(s) > keep]
    have = {p.name for spec in (RAW, HOURLY) for p in partitions(spec)}
    for spec, start in wanted:
        if spec.name(start) in have:  # (the DEFAULT partition cannot hold rows of an attached one's range)
            continue
        try:
            made, moved = _attach(spec, start)
        except DatabaseError as exc:  # a lock not granted in time: the next run tries again
            log.warning("sensing storage: partition %s not made: %s", spec.name(start), exc)
            report.failed.append(spec.name(start))
            continue
        if made:
            report.created.append(spec.name(start))
        if moved:
            log.warning(
                "sensing storage: moved %s row(s) out of %s into %s (no partition existed for them)",
                moved,
                spec.default,
                spec.name(start),
            )
            report.moved += moved
    return report


_ensured: date | None = None


def ensure_current() -> None:
    """Make sure today's and tomorrow's partitions exist, at most once a day per process (the first
    call of a day costs a catalog query, every other one a date comparison). For the intake: call it
    *before* opening the batch's transaction (DDL inside it would hold its locks until the commit).
    Never raises: without a partition a reading still lands in the DEFAULT partition."""
    global _ensured
    today = clock.now().astimezone(UTC).date()
    if _ensured == today or not partitioned():
        return
    try:
        report = ensure_partitions(days_ahead=max(1, settings.LINLI_SENSING_PARTITIONS_AHEAD))
    except DatabaseError as exc:
        log.warning("sensing storage: could not make today's partitions: %s", exc)
        return
    if not report.failed:
        _ensured = today


def forget_ensured() -> None:
    """Forget that today's partitions were made (tests roll their DDL back)."""
    global _ensured
    _ensured = None


# --- retention -------------------------------------------------------------------------------------


def _cutoffs(now: datetime) -> tuple[datetime, datetime]:
    """(raw, hourly): rows before these are past their retention (whole UTC days)."""
    today = floor_day(now)
    return today - settings.LINLI_SENSING_RAW_DAYS * DAY, today - settings.LINLI_SENSING_HOURLY_DAYS * DAY


def watermark() -> datetime | None:
    """Every hour before this is rolled up (None: the roll-up never ran)."""
    row = m.RollupMark.objects.filter(name=MARK).first()
    return row.upto if row else None


def raw_cutoff(now: datetime | None = None) -> datetime | None:
    """Raw readings before this may go: ``LINLI_SENSING_RAW_DAYS`` whole days back, but never past what
    the roll-up has done (its watermark less the hours it rolls again). None: nothing may go yet."""
    now = now or clock.now()
    mark = watermark()
    if mark is None:
        return None
    rolled = floor_day(mark - settings.LINLI_SENSING_ROLLUP_REDO_HOURS * HOUR)
    return min(_cutoffs(now)[0], rolled)


def _drop(spec: Spec, part: Partition) -> None:
    with _ddl(DROP_LOCK_TIMEOUT) as cur:
        cur.execute(f'ALTER TABLE "{spec.table}" DETACH PARTITION "{part.name}"')
        cur.execute(f'DROP TABLE "{part.name}"')


def _delete_before(table: str, column: str, cutoff: datetime) -> int:
    """Delete the rows of ``table`` before ``cutoff``: in batches on SQLite, at once elsewhere (a DEFAULT
    partition, small)."""
    deleted = 0
    with connection.cursor() as cur:
        if connection.vendor != "sqlite":
            with transaction.atomic():
                cur.execute(f'DELETE FROM "{table}" WHERE "{column}" < %s', [_param(cutoff)])  # noqa: S608
                return cur.rowcount
        while True:
            with transaction.atomic():
                cur.execute(
                    f'DELETE FROM "{table}" WHERE rowid IN '  # noqa: S608 (our names)
                    f'(SELECT rowid FROM "{table}" WHERE "{column}" < %s LIMIT %s)',
                    [_param(cutoff), BATCH],
                )
                count = cur.rowcount
            deleted += count
            if count < BATCH:
                return deleted


def retention(now: datetime | None = None) -> RetentionReport:
    """Drop raw readings older than ``LINLI_SENSING_RAW_DAYS`` days (whole UTC days; never what the
    roll-up has not passed) and roll-ups older than ``LINLI_SENSING_HOURLY_DAYS`` days (on PostgreSQL a
    roll-up partition goes once its whole month is past). Re-running drops nothing more."""
    now = now or clock.now()
    report = RetentionReport(raw_cutoff=raw_cutoff(now), hourly_cutoff=_cutoffs(now)[1])
    jobs = [(RAW, report.raw_cutoff), (HOURLY, report.hourly_cutoff)]
    for spec, cutoff in jobs:
        if cutoff is None:
            continue
        if not partitioned():
            report.deleted += _delete_before(spec.table, spec.column, cutoff)
            continue
        for part in partitions(spec):
            if part.end > cutoff:
                break
            try:
                _drop(spec, part)
            except DatabaseError as exc:
                log.warning("sensing storage: partition %s not dropped: %s", part.name, exc)
                report.failed.append(part.name)
                continue
            report.dropped.append(part.name)
        report.deleted += _delete_before(spec.default, spec.column, cutoff)
    # late marks for hours whose raw readings are gone cannot be rolled again
    if report.raw_cutoff is not None:
        m.LateHour.objects.filter(hour__lt=report.raw_cutoff).delete()
    return report


# --- hourly roll-ups -------------------------------------------------------------------------------

_ROLL = """
INSERT INTO "sensing_readinghour" ("channel_id", "hour", "n", "min_value", "max_value", "sum_value")
SELECT "channel_id", {hour}, COUNT(*), MIN("value"), MAX("value"), SUM("value")
FROM "sensing_reading" WHERE "ts" >= %s AND "ts" < %s GROUP BY "channel_id"
ON CONFLICT ("channel_id", "hour") DO UPDATE SET
    "n" = excluded."n", "min_value" = excluded."min_value",
    "max_value" = excluded."max_value", "sum_value" = excluded."sum_value"
WHERE "sensing_readinghour"."n" <> excluded."n" OR "sensing_readinghour"."min_value" <> excluded."min_value"
   OR "sensing_readinghour"."max_value" <> excluded."max_value"
   OR "sensing_readinghour"."sum_value" <> excluded."sum_value"
"""


def roll_hour(hour: datetime) -> int:
    """Roll up one hour (UTC, on the hour) from the raw readings: one upsert; the number of roll-up rows
    written or changed (0 when a re-run finds them equal)."""
    hour = floor_hour(hour)
    sql = _ROLL.format(hour="%s::timestamptz" if connection.vendor == "postgresql" else "%s")
    with connection.cursor() as cur:
        cur.execute(sql, [_param(hour), _param(hour), _param(hour + HOUR)])
        return max(cur.rowcount, 0)


def _oldest_reading() -> datetime | None:
    """The start of the oldest raw data, cheaply: SQLite reads the ``ts`` index; PostgreSQL the first
    non-empty day partition and the DEFAULT partition (small)."""
    with connection.cursor() as cur:
        if not partitioned():
            first = m.Reading.objects.order_by("ts").values_list("ts", flat=True).first()
            return floor_hour(first) if first else None
        cur.execute(f'SELECT min("ts") FROM "{RAW.default}"')  # noqa: S608
        found = [row[0] for row in cur.fetchall() if row[0] is not None]
        for part in partitions(RAW):
            cur.execute(f'SELECT 1 FROM "{part.name}" LIMIT 1')  # noqa: S608
            if cur.fetchone():
                found.append(part.start)
                break
    return floor_hour(min(found)) if found else None


def _advance(upto: datetime) -> datetime:
    """Move the watermark forward to ``upto`` (never back); the watermark afterwards."""
    row = m.RollupMark.objects.select_for_update().filter(name=MARK).first()
    if row is None:
        m.RollupMark.objects.create(name=MARK, upto=upto)
        return upto
    if upto > row.upto:
        m.RollupMark.objects.filter(name=MARK).update(upto=upto)
        return upto
    return row.upto


def rollup(now: datetime | None = None, *, start: datetime | None = None, end: datetime | None = None) -> RollupReport:
    """Roll up the closed hours since the watermark, the ``LINLI_SENSING_ROLLUP_REDO_HOURS`` before it
    again, and the hours marked late; or, with ``start`` (and ``end``), exactly those hours again (by
    hand, after a backlog was loaded). One transaction per hour, the watermark moving with it, so a
    stopped run resumes where it was; two runs at once only do some work twice (an upsert)."""
    now = now or clock.now()
    closed = floor_hour(now - CLOSE_AFTER)  # hours before this are over
    # hours before the raw retention's cutoff may have lost raw rows: never rolled again (the first run
    # rolls all there is: retention waits for it)
    dropped = raw_cutoff(now)
    report = RollupReport()
    late: set[datetime] = set()
    if start is not None:
        first, last = floor_hour(start), min(floor_hour(end) if end else closed, closed)
        first = max(first, dropped) if dropped else first
    else:
        mark = watermark()
        if mark is not None:
            first = mark - settings.LINLI_SENSING_ROLLUP_REDO_HOURS * HOUR  # never before ``dropped``
        else:
            first = _oldest_reading() or closed
        last = closed
        marked = m.LateHour.objects.filter(hour__lt=first)
        if dropped:
            marked = marked.filter(hour__gte=dropped)
        late = {floor_hour(h) for h in marked.values_list("hour", flat=True)}
    hours = sorted(late | {first + k * HOUR for k in range(max(0, int((last - first) / HOUR)))})
    for hour in hours:
        with transaction.atomic():
            # the late mark goes first: a reading committed after this delete either is seen by the
            # roll-up below or leaves a new mark for the next run
            was_late = m.LateHour.objects.filter(hour=hour).delete()[0] > 0
            report.rows += roll_hour(hour)
            if start is None:
                _advance(hour + HOUR)
        report.hours += 1
        report.late += int(was_late)
    with transaction.atomic():
        report.upto = _advance(closed) if start is None else watermark()
    return report


def note_late(timestamps: Iterable[datetime], *, now: datetime | None = None) -> int:
    """For the intake, inside its batch's transaction: mark the hours of stored readings that the next
    roll-up would not look at again (older than ``LINLI_SENSING_ROLLUP_REDO_HOURS`` before this hour),
    to be rolled up again at its next run. Costs one comparison per reading and a single INSERT only
    when a batch has such readings. Returns how many hours were marked."""
    limit = floor_hour(now or clock.now()) - settings.LINLI_SENSING_ROLLUP_REDO_HOURS * HOUR
    hours = {floor_hour(t) for t in timestamps if t < limit}
    if not hours:
        return 0
    m.LateHour.objects.bulk_create([m.LateHour(hour=h) for h in hours], ignore_conflicts=True)
    return len(hours)


# --- for operators ---------------------------------------------------------------------------------


def sizes() -> list[tuple[str, int, int]]:
    """(partition or table, rows, bytes with indexes) of both tables. PostgreSQL: the planner's row
    estimate of each partition, but the exact count of the DEFAULT ones (which should be empty)."""
    out: list[tuple[str, int, int]] = []
    with connection.cursor() as cur:
        if not partitioned():
            for spec in (RAW, HOURLY):
                cur.execute(f'SELECT COUNT(*) FROM "{spec.table}"')  # noqa: S608
                rows = cur.fetchone()[0]
                try:  # SQLite's dbstat table (compiled in by most builds): pages of the table and its indexes
                    cur.execute(
                        "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                        "(SELECT name FROM sqlite_master WHERE tbl_name = %s)",
                        [spec.table],
                    )
                    size = int(cur.fetchone()[0] or 0)
                except DatabaseError:
                    size = 0
                out.append((spec.table, rows, size))
            return out
        for spec in (RAW, HOURLY):
            cur.execute(f'SELECT COUNT(*) FROM "{spec.default}"')  # noqa: S608
            stray = cur.fetchone()[0]
            for name in [spec.default, *(p.name for p in partitions(spec))]:
                cur.execute(
                    "SELECT GREATEST(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid) FROM pg_class c "
                    "WHERE c.oid = %s::regclass",
                    [name],
                )
                rows, size = cur.fetchone()
                out.append((name, stray if name == spec.default else rows, size))
    return out
