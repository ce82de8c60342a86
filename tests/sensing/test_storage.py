"""Storage of readings (services/storage.py): day partitions on PostgreSQL with a DEFAULT partition,
retention, hourly roll-ups. Runs on both databases; the partition checks only mean something on
PostgreSQL (``DATABASE_URL=postgres://…``) and are skipped on SQLite, where the same calls keep one table.

Channels need no rows here: readings reference their channel without a database constraint."""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from linli.core import clock
from linli.sensing.models import LateHour, Reading, ReadingHour, RollupMark
from linli.sensing.services import storage
from linli.sensing.tasks import storage_sweep

NOW = datetime(2026, 11, 30, 21, 40, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
pg_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="partitions exist on PostgreSQL only")


def put(*rows: tuple[int, datetime, float]) -> None:
    Reading.objects.bulk_create([Reading(channel_id=c, ts=t, value=v) for c, t, v in rows], ignore_conflicts=True)


def where() -> dict[str, int]:
    """Rows per partition (PostgreSQL)."""
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text, COUNT(*) FROM sensing_reading GROUP BY 1")
        return dict(cur.fetchall())


def hours() -> dict[tuple[int, datetime], tuple[int, float, float, float]]:
    return {
        (r.channel_id, r.hour): (r.n, r.min_value, r.max_value, r.sum_value)
        for r in ReadingHour.objects.order_by("channel_id", "hour")
    }


def expected() -> dict[tuple[int, datetime], tuple[int, float, float, float]]:
    """The roll-ups computed naively from every raw row (the oracle)."""
    groups: dict[tuple[int, datetime], list[float]] = defaultdict(list)
    for r in Reading.objects.all():
        groups[(r.channel_id, storage.floor_hour(r.ts))].append(r.value)
    return {k: (len(v), min(v), max(v), math.fsum(v)) for k, v in groups.items()}


def same(got: dict, want: dict) -> bool:
    return got.keys() == want.keys() and all(
        got[k][:3] == want[k][:3] and math.isclose(got[k][3], want[k][3], rel_tol=1e-9, abs_tol=1e-9) for k in want
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    storage.forget_ensured()
    yield
    storage.forget_ensured()


# --- partitions -----------------------------------------------------------------------------------


def test_migration_made_partitioned_tables_with_a_default_partition(db):
    if connection.vendor == "sqlite":  # one table, with an index on ts for the roll-up and the retention
        with connection.cursor() as cur:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sensing_reading'")
            assert "sensing_reading_ts" in {row[0] for row in cur.fetchall()}
        return
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname, relkind FROM pg_class WHERE relname IN "
            "('sensing_reading', 'sensing_readinghour', 'sensing_reading_default', 'sensing_readinghour_default')"
        )
        kinds = dict(cur.fetchall())
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'sensing_reading'")
        indexes = {row[0] for row in cur.fetchall()}
    assert kinds == {
        "sensing_reading": "p",
        "sensing_readinghour": "p",
        "sensing_reading_default": "r",
        "sensing_readinghour_default": "r",
    }
    # the primary key and the BRIN index on ts; no index of the channel's own (the key leads with it)
    assert indexes == {"sensing_reading_pkey", "sensing_reading_ts_brin"}


@pg_only
def test_partitions_are_made_ahead_and_receive_their_rows(db):
    made = storage.ensure_partitions(days_ahead=2, now=NOW)
    assert made.created == [
        "sensing_reading_p20261130",
        "sensing_reading_p20261201",
        "sensing_reading_p20261202",
        "sensing_readinghour_p202611",
        "sensing_readinghour_p202612",
    ]
    assert storage.ensure_partitions(days_ahead=2, now=NOW).created == []  # again: nothing to do
    put((1, datetime(2026, 11, 30, 0, 0, tzinfo=UTC), 1.0), (1, datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), 2.0))
    put((1, datetime(2026, 12, 1, 0, 0, tzinfo=UTC), 3.0), (2, datetime(2026, 12, 2, 12, 0, tzinfo=UTC), 4.0))
    put((3, datetime(2026, 12, 9, 12, 0, tzinfo=UTC), 5.0))  # no partition for that day yet
    assert where() == {
        "sensing_reading_p20261130": 2,
        "sensing_reading_p20261201": 1,
        "sensing_reading_p20261202": 1,
        "sensing_reading_default": 1,
    }
    assert [p.name for p in storage.partitions(storage.RAW)] == [
        "sensing_reading_p20261130",
        "sensing_reading_p20261201",
        "sensing_reading_p20261202",
    ]


@pg_only
def test_rows_in_the_default_partition_are_moved_into_a_partition_of_their_own(db, caplog):
    late_day = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    put((1, late_day, 1.0), (2, late_day + H, 2.0), (1, NOW, 3.0))
    assert where() == {"sensing_reading_default": 3}
    made = storage.ensure_partitions(days_ahead=0, now=NOW)
    assert "sensing_reading_p20261125" in made.created and made.moved == 3
    assert where() == {"sensing_reading_p20261125": 2, "sensing_reading_p20261130": 1}
    assert "moved 2 row(s) out of sensing_reading_default into sensing_reading_p20261125" in caplog.text
    # nothing was lost or doubled, and the key still holds across the moved rows
    put((1, late_day, 9.0))
    assert Reading.objects.get(channel_id=1, ts=late_day).value == 1.0


@pg_only
def test_rows_past_the_retention_in_the_default_partition_are_left_to_the_retention(db):
    put((1, NOW - 40 * D, 1.0))
    made = storage.ensure_partitions(days_ahead=0, now=NOW)
    assert made.moved == 0 and where() == {"sensing_reading_default": 1}


@pg_only
def test_ensure_current_makes_today_and_tomorrow_once_a_day(db, django_assert_num_queries):
    with clock.frozen(NOW):
        storage.ensure_current()
        names = [p.name for p in storage.partitions(storage.RAW)]
        assert {"sensing_reading_p20261130", "sensing_reading_p20261201"} <= set(names)
        with django_assert_num_queries(0):
            storage.ensure_current()  # the rest of the day: a date comparison
    with clock.frozen(NOW + 3 * D):
        storage.ensure_current()
        assert "sensing_reading_p20261204" in {p.name for p in storage.partitions(storage.RAW)}


@pg_only
def test_a_second_process_gives_up_at_once_and_the_next_run_makes_the_partitions(db):
    import psycopg

    conf = connection.settings_dict
    other = psycopg.connect(
        dbname=conf["NAME"], user=conf["USER"], password=conf["PASSWORD"], host=conf["HOST"], port=conf["PORT"] or None
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [storage._LOCK_KEY])  # another process is at it
        t0 = time.perf_counter()
        made = storage.ensure_partitions(days_ahead=0, now=NOW)
        assert time.perf_counter() - t0 < 2 and made.created == []
        assert made.failed == [
            "sensing_reading_p20261130",
            "sensing_readinghour_p202611",
            "sensing_readinghour_p202612",
        ]
        with clock.frozen(NOW):
            storage.ensure_current()
        assert storage.partitions(storage.RAW) == []  # not cached as done: the next batch tries again
    finally:
        other.close()
    with clock.frozen(NOW):
        storage.ensure_current()
    assert [p.name for p in storage.partitions(storage.RAW)][:1] == ["sensing_reading_p20261130"]


def test_ensure_is_a_no_op_without_partitions(db):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite keeps one table")
    assert storage.ensure_partitions(now=NOW).created == []
    with connection.cursor() as cur:  # a rebuilt table lost the index: the hourly job puts it back
        cur.execute('DROP INDEX "sensing_reading_ts"')
    storage.ensure_partitions(now=NOW)
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'sensing_reading_ts'")
        assert cur.fetchone()
    storage.ensure_current()
    put((1, NOW, 1.0))
    assert Reading.objects.count() == 1


# --- duplicates -----------------------------------------------------------------------------------


def test_a_reading_is_stored_once_per_channel_and_time_across_partitions(db):
    storage.ensure_partitions(days_ahead=1, now=NOW)
    rows = [(c, NOW - k * 7 * H, float(k)) for c in (1, 2) for k in range(8)]  # 3 days, 2 in DEFAULT
    put(*rows)
    put(*[(c, t, v + 100) for c, t, v in rows])  # a replayed batch with other values: ignored
    assert Reading.objects.count() == 16
    assert sorted(Reading.objects.filter(channel_id=1).values_list("value", flat=True)) == [float(k) for k in range(8)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:  # the intake's statement, with the conflict target named
            cur.execute(
                "INSERT INTO sensing_reading (channel_id, ts, value) VALUES (1, %s, 5), (1, %s, 5), (9, %s, 5) "
                "ON CONFLICT (channel_id, ts) DO NOTHING",
                [NOW, NOW - 7 * H, NOW - 40 * D],
            )
            assert cur.rowcount == 1  # only channel 9's, which went to the DEFAULT partition
        assert where() == {"sensing_reading_p20261130": 8, "sensing_reading_default": 9}


# --- retention ------------------------------------------------------------------------------------


def _days_of_readings(days: int) -> None:
    """Readings on each of the last ``days`` days, at the first and last instants of the day too."""
    start = storage.floor_day(NOW) - days * D
    rows = []
    for k in range(days + 1):
        day = start + k * D
        for c in (1, 2):
            rows += [(c, day, 1.0), (c, day + 13 * H, 2.0), (c, day + D - timedelta(microseconds=1), 3.0)]
    put(*[r for r in rows if r[1] <= NOW])


@pytest.mark.parametrize("keep", [1, 7, 30])
def test_retention_drops_exactly_the_days_past_it(db, settings, keep):
    settings.LINLI_SENSING_RAW_DAYS = keep
    storage.ensure_partitions(days_ahead=0, now=NOW)
    for k in range(1, 41):  # a partition for every day (as the hourly job would have made them)
        storage.ensure_partitions(days_ahead=0, now=NOW - k * D)
    _days_of_readings(40)
    storage.rollup(now=NOW)
    before = list(Reading.objects.order_by("ts", "channel_id").values_list("channel_id", "ts", "value"))
    gone = storage.retention(now=NOW)
    cutoff = storage.floor_day(NOW) - keep * D
    assert gone.raw_cutoff == cutoff
    after = list(Reading.objects.order_by("ts", "channel_id").values_list("channel_id", "ts", "value"))
    assert after == [r for r in before if r[1] >= cutoff]  # everything from the cutoff day on, nothing before
    if connection.vendor == "postgresql":
        days = [p.start for p in storage.partitions(storage.RAW)]
        assert min(days) == cutoff and len(gone.dropped) == 40 - keep
        assert gone.dropped[0] == "sensing_reading_p20261021" and gone.deleted == 0
    else:
        assert gone.deleted == len(before) - len(after)
    again = storage.retention(now=NOW)
    assert again.dropped == [] and again.deleted == 0
    assert ReadingHour.objects.filter(hour__lt=cutoff).exists()  # the roll-ups outlive the raw days


def test_retention_never_drops_what_is_not_rolled_up(db, settings):
    settings.LINLI_SENSING_RAW_DAYS = 5
    _days_of_readings(10)
    count = Reading.objects.count()
    assert storage.retention(now=NOW).raw_cutoff is None  # the roll-up never ran
    assert Reading.objects.count() == count
    storage.rollup(now=NOW - 7 * D)  # it ran, but a week ago
    gone = storage.retention(now=NOW)
    assert gone.raw_cutoff == storage.floor_day(NOW - 7 * D)  # where the roll-up got to, not 5 days back
    assert Reading.objects.filter(ts__lt=gone.raw_cutoff).count() == 0
    assert Reading.objects.filter(ts__gte=storage.floor_day(NOW - 8 * D)).count() > 0


def test_retention_of_the_roll_ups_is_years(db, settings):
    settings.LINLI_SENSING_HOURLY_DAYS = 3 * 365
    old, kept = NOW - 3 * 365 * D - 40 * D, NOW - 3 * 365 * D + 40 * D
    storage.ensure_partitions(now=old)
    storage.ensure_partitions(now=kept)
    ReadingHour.objects.bulk_create(
        [
            ReadingHour(channel_id=1, hour=storage.floor_hour(t), n=1, min_value=0, max_value=0, sum_value=0)
            for t in (old, kept)
        ]
    )
    storage.rollup(now=NOW)
    storage.retention(now=NOW)
    assert list(ReadingHour.objects.values_list("hour", flat=True)) == [storage.floor_hour(kept)]


# --- roll-ups -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_roll_ups_equal_a_group_by_over_the_raw_rows(db, seed):
    rnd = random.Random(seed)
    storage.ensure_partitions(days_ahead=0, now=NOW)
    rows = []
    for _ in range(rnd.randint(1, 400)):
        ts = NOW - timedelta(seconds=rnd.randint(0, 30 * 3600)) + timedelta(microseconds=rnd.randint(0, 999_999))
        value = rnd.choice([rnd.uniform(-1e6, 1e6), float(rnd.randint(0, 5)), rnd.gauss(0, 1e-3)])
        rows.append((rnd.randint(1, 12), ts, value))
    rows += rnd.sample(rows, k=min(10, len(rows)))  # duplicates, ignored
    put(*rows)
    done = storage.rollup(now=NOW)
    want = {k: v for k, v in expected().items() if k[1] + H <= storage.floor_hour(NOW - storage.CLOSE_AFTER)}
    assert same(hours(), want)
    assert done.upto == storage.floor_hour(NOW) and RollupMark.objects.get().upto == done.upto
    # running it again changes nothing: same rows, none rewritten
    again = storage.rollup(now=NOW)
    assert again.rows == 0 and same(hours(), want)


def test_the_current_hour_waits_until_it_has_closed(db):
    put((1, NOW.replace(minute=2), 1.0), (1, NOW.replace(minute=0) - H, 1.0))
    storage.rollup(now=NOW.replace(minute=3))  # 21:03: 20:00–21:00 is not closed for 5 minutes yet
    assert set(hours()) == set()
    storage.rollup(now=NOW.replace(minute=6))
    assert set(hours()) == {(1, NOW.replace(minute=0) - H)}
    storage.rollup(now=NOW + H)
    assert set(hours()) == {(1, NOW.replace(minute=0) - H), (1, NOW.replace(minute=0))}


def test_incremental_runs_give_the_same_as_one_run(db):
    rnd = random.Random(7)
    put(*[(rnd.randint(1, 5), NOW - timedelta(minutes=rnd.randint(0, 24 * 60)), rnd.random()) for _ in range(500)])
    for k in range(24, -1, -1):  # hourly, as the timer does
        storage.rollup(now=NOW - k * H)
    assert same(hours(), {k: v for k, v in expected().items() if k[1] + H <= storage.floor_hour(NOW)})


def test_a_late_reading_past_the_redo_window_is_rolled_again_through_its_mark(db, settings):
    settings.LINLI_SENSING_ROLLUP_REDO_HOURS = 1
    hour = storage.floor_hour(NOW) - 2 * H  # 19:00
    put((1, hour + timedelta(minutes=10), 1.0))
    storage.rollup(now=NOW)  # rolls 19:00 and 20:00; watermark 21:00
    put((1, hour + timedelta(minutes=50), 5.0))  # arrives at 22:40, after 19:00 was rolled up
    storage.rollup(now=NOW + H)  # rolls 20:00 (again) and 21:00, not 19:00
    assert hours()[(1, hour)] == (1, 1.0, 1.0, 1.0)
    assert storage.note_late([hour + timedelta(minutes=50), NOW + H], now=NOW + H) == 1
    done = storage.rollup(now=NOW + H)
    assert done.late == 1 and hours()[(1, hour)] == (2, 1.0, 5.0, 6.0)
    assert not LateHour.objects.exists()


def test_a_late_reading_in_the_redo_window_is_rolled_again(db, settings):
    settings.LINLI_SENSING_ROLLUP_REDO_HOURS = 2
    hour = storage.floor_hour(NOW) - H  # 20:00
    put((1, hour + timedelta(minutes=10), 1.0))
    storage.rollup(now=NOW)
    put((1, hour + timedelta(minutes=59), 3.0))
    assert storage.note_late([hour + timedelta(minutes=59)], now=NOW) == 0  # not old enough to be marked
    storage.rollup(now=NOW + H)  # watermark 21:00 → rolls from 19:00 again
    assert hours()[(1, hour)] == (2, 1.0, 3.0, 4.0)


def test_late_marks_cover_days_old_readings_and_a_backlog_can_be_rolled_by_hand(db):
    storage.rollup(now=NOW)  # nothing yet; the watermark is set
    old = [storage.floor_hour(NOW - 3 * D) + k * timedelta(minutes=20) for k in range(9)]
    put(*[(4, t, float(i)) for i, t in enumerate(old)])
    assert storage.note_late(old, now=NOW) == 3  # three hours, marked once each
    assert storage.note_late(old, now=NOW) == 3 and LateHour.objects.count() == 3
    done = storage.rollup(now=NOW)
    assert done.late == 3 and same(hours(), expected())
    put((4, NOW - 5 * D, 10.0))  # a backlog nobody marked: rolled by hand
    assert (4, storage.floor_hour(NOW - 5 * D)) not in hours()
    by_hand = storage.rollup(now=NOW, start=storage.floor_day(NOW - 5 * D), end=storage.floor_day(NOW - 4 * D))
    assert by_hand.hours == 24 and same(hours(), expected())
    assert by_hand.upto == storage.floor_hour(NOW)  # the watermark did not move back


def test_re_rolling_an_hour_whose_raw_rows_are_gone_keeps_its_roll_up(db, settings):
    settings.LINLI_SENSING_RAW_DAYS = 2
    put((1, NOW - 3 * D, 2.0))
    storage.rollup(now=NOW)
    storage.retention(now=NOW)
    assert not Reading.objects.exists()
    storage.roll_hour(NOW - 3 * D)
    assert hours() == {(1, storage.floor_hour(NOW - 3 * D)): (1, 2.0, 2.0, 2.0)}


def test_the_first_run_starts_at_the_oldest_reading(db, django_assert_max_num_queries):
    put((1, NOW - 2 * H, 1.0))
    with django_assert_max_num_queries(30):  # not one query per hour of the whole retention
        done = storage.rollup(now=NOW)
    assert done.hours == 2 and set(hours()) == {(1, storage.floor_hour(NOW - 2 * H))}


# --- the command and the task ---------------------------------------------------------------------


def test_the_command_does_all_three_and_reports(db):
    put((1, clock.now() - 2 * H, 1.0))
    out = StringIO()
    call_command("sensing_storage", stdout=out)
    text = out.getvalue()
    assert "hours rolled up / 汇总小时数" in text and "raw kept from / 原始数据保留自" in text
    assert "partitions made / 新建分区" in text and ReadingHour.objects.count() == 1
    out = StringIO()
    call_command("sensing_storage", "--status", stdout=out)
    assert "sensing_reading" in out.getvalue() and "rolled up until" in out.getvalue()
    listed = {name: (rows, size) for name, rows, size in storage.sizes()}
    raw = listed.get("sensing_reading_default" if connection.vendor == "postgresql" else "sensing_reading")
    assert raw is not None and raw[1] > 0
    out = StringIO()
    day = (clock.now() - 2 * H).date().isoformat()
    call_command("sensing_storage", "--rollup", "--from", day, "--to", day, stdout=out)
    assert "rows written / 写入行数: 0" in out.getvalue()


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2026-11-01"],
        ["--rollup", "--to", "2026-11-01"],
        ["--rollup", "--from", "2026-13-01"],
        ["--rollup", "--from", "2026-11-02", "--to", "2026-11-01"],
        ["--ensure-partitions", "--days-ahead", "-1"],
        ["--enqueue", "--rollup", "--from", "2026-11-01"],
    ],
)
def test_the_command_refuses_bad_options(db, args):
    with pytest.raises(CommandError):
        call_command("sensing_storage", *args, stdout=StringIO())


def test_the_task_sweeps(db):
    put((1, clock.now() - 3 * H, 1.0))
    result = storage_sweep.call()
    assert set(result) == {"partitions", "rollup", "retention"}
    assert result["rollup"]["rows"] == 1 and result["retention"]["dropped"] == []


# --- with the intake ------------------------------------------------------------------------------


def test_readings_posted_through_the_intake_are_rolled_up_late_ones_too(sensors):
    from linli.sensing.models import Channel
    from linli.sensing.services import intake

    pressure = Channel.objects.get(device=sensors.pipe, key="pressure")
    with clock.frozen(NOW):
        storage.ensure_current()
        ms = int((NOW - 3 * H).timestamp() * 1000)
        report = intake.ingest(
            [{"ts": ms + k * 60_000, "values": {"pressure": v}} for k, v in enumerate([0.3, 0.31, 0.32, 0.33, 0.34])],
            device_code="PIPE-B",
        )
        assert report.accepted == 5
        storage.rollup(now=NOW)
        hour = storage.floor_hour(NOW - 3 * H)
        assert hours()[(pressure.pk, hour)][:3] == (5, 0.3, 0.34)
        # a gateway's backlog hours later: older than the redo window, so the intake marks the hour
        late = intake.ingest({"ts": ms + 10 * 60_000, "values": {"pressure": 0.2}}, device_code="PIPE-B")
        assert late.accepted == 1, late.as_json()
    with clock.frozen(NOW + 2 * H):
        assert LateHour.objects.filter(hour=hour).exists()
        done = storage.rollup(now=NOW + 2 * H)
    assert done.late == 1 and hours()[(pressure.pk, hour)][:3] == (6, 0.2, 0.34)
    assert same(hours(), expected())
    if connection.vendor == "postgresql":  # today's partition, made by ensure_current, holds them
        assert where() == {"sensing_reading_p20261130": 6}
