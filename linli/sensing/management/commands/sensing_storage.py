"""``manage.py sensing_storage [--ensure-partitions] [--rollup] [--retention] [--status]``: keep the
sensor readings' storage (docs/operations.md "Sensor data", ``services/storage.py``).

Without an action flag it does all three in order — partitions ahead, hourly roll-ups, retention —
which is what ``deploy/systemd/linli-sensing-storage.timer`` runs every hour. ``--rollup --from DAY
[--to DAY]`` rolls up exactly those days again (after a gateway's backlog was loaded by hand);
``--status`` lists the partitions with their size; ``--enqueue`` hands the sweep to a worker
(``manage.py linli_worker``) instead of running it here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core import clock
from linli.sensing.services import storage
from linli.sensing.tasks import storage_sweep


def _day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD) / 日期格式应为 YYYY-MM-DD: {text!r}") from exc


class Command(BaseCommand):
    help = (
        "Sensor readings' storage: partitions ahead, hourly roll-ups, retention (all three without a flag). "
        "传感数据存储:预建分区、按小时汇总、过期清理。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ensure-partitions", action="store_true", help="Make the coming partitions. 预建分区。")
        parser.add_argument(
            "--days-ahead", type=int, default=None, help="With --ensure-partitions: days ahead (default: the setting)."
        )
        parser.add_argument("--rollup", action="store_true", help="Roll up closed hours. 按小时汇总。")
        parser.add_argument("--from", dest="start", default="", help="With --rollup: roll these days again, from DAY.")
        parser.add_argument("--to", dest="end", default="", help="With --from: up to DAY (inclusive; default today).")
        parser.add_argument("--retention", action="store_true", help="Drop what is past its retention. 过期清理。")
        parser.add_argument("--status", action="store_true", help="List partitions and sizes. 查看分区与大小。")
        parser.add_argument("--enqueue", action="store_true", help="Hand the sweep to a worker. 交给后台任务进程执行。")

    def handle(self, *args: Any, **o: Any) -> None:
        ensure, rollup, retention = o["ensure_partitions"], o["rollup"], o["retention"]
        if o["days_ahead"] is not None and not 0 <= o["days_ahead"] <= 366:
            raise CommandError("--days-ahead must be 0–366 / 提前天数应在 0–366 之间")
        if (o["start"] or o["end"]) and not rollup:
            raise CommandError("--from/--to go with --rollup / --from、--to 需与 --rollup 同用")
        if o["end"] and not o["start"]:
            raise CommandError("--to needs --from / --to 需要 --from")
        if o["status"]:
            self._status()
            if not (ensure or rollup or retention):
                return
        if not (ensure or rollup or retention):
            ensure = rollup = retention = True
        if o["enqueue"]:
            if o["start"] or o["days_ahead"] is not None:
                raise CommandError("--enqueue runs the plain sweep / --enqueue 不能与 --from、--days-ahead 同用")
            result = storage_sweep.enqueue(ensure=ensure, rollup=rollup, retention=retention)
            self.stdout.write(f"{clock.now():%Y-%m-%d %H:%M:%S} sweep queued / 已排队: {result.id}")
            return
        if ensure:
            made = storage.ensure_partitions(days_ahead=o["days_ahead"])
            self.stdout.write(
                f"partitions made / 新建分区: {len(made.created)} {' '.join(made.created)}; "
                f"rows moved out of DEFAULT / 移出默认分区: {made.moved}"
                + (f"; not made, retry next run / 未建成,下次重试: {' '.join(made.failed)}" if made.failed else "")
            )
        if rollup:
            if o["start"]:
                start = _day(o["start"])
                end = _day(o["end"]) + timedelta(days=1) if o["end"] else None
                if end is not None and end <= start:
                    raise CommandError("--to is before --from / --to 早于 --from")
                done = storage.rollup(start=start, end=end)
            else:
                done = storage.rollup()
            upto = f"{done.upto:%Y-%m-%d %H:%M}Z" if done.upto else "-"
            self.stdout.write(
                f"hours rolled up / 汇总小时数: {done.hours} (late / 迟到: {done.late}); "
                f"rows written / 写入行数: {done.rows}; rolled up until / 已汇总至: {upto}"
            )
        if retention:
            gone = storage.retention()
            cutoff = f"{gone.raw_cutoff:%Y-%m-%d}" if gone.raw_cutoff else "- (no roll-up yet / 尚未汇总)"
            self.stdout.write(
                f"raw kept from / 原始数据保留自: {cutoff}; hourly kept from / 小时汇总保留自: "
                f"{gone.hourly_cutoff:%Y-%m-%d}; partitions dropped / 删除分区: {len(gone.dropped)} "
                f"{' '.join(gone.dropped)}; rows deleted / 删除行数: {gone.deleted}"
                + (f"; not dropped, retry next run / 未删除,下次重试: {' '.join(gone.failed)}" if gone.failed else "")
            )

    def _status(self) -> None:
        mark = storage.watermark()
        self.stdout.write(f"rolled up until / 已汇总至: {f'{mark:%Y-%m-%d %H:%M}Z' if mark else '-'}")
        for name, rows, size in storage.sizes():
            self.stdout.write(f"{name:32} {rows:>14,} rows / 行  {size / 2**20:>10.1f} MiB")
