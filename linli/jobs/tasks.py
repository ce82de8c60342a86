"""Background tasks of the jobs app (docs/runs.md).

Each part in its own section (append, never rewrite).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from linli.core import clock
from linli.core.exports import XLSX, Table, rechecked, temporary_file, write_tables
from linli.core.lang import pick
from linli.jobs.models import TargetEntry
from linli.jobs.queries import targets as q
from linli.runs import services as runs_services

# --- employment targets: the .xlsx export (docs/jobs.md "Employment targets") ---------------------


def _figure_columns(f: q.Figure) -> list[Any]:
    return [f.target, f.actual, f.completion]


def target_tables(place: q.Place, year: int, language: str) -> list[Table]:
    """The sheets of the targets export, from the same queries as the page: 完成情况 (the three
    figures, completion and the share of the year elapsed), one sheet per metric by month (and by
    street for a district), 街道 (each street's targets and completion, for a district) and 来源
    (every entry with its source, withdrawn ones marked)."""
    today = clock.today()
    figures, by_street = q.page_figures(place, year, today)
    streets = by_street or []
    tables: list[Table] = []
    head = [
        ["指标 figure", "年度目标 target", "实际 actual", "其中平台安置 placements", "其中录入 entries",
         "完成率 % completion", "时间进度 % share of the year", "超前(+)/落后(−) 百分点 ahead/behind, points"],
    ]  # fmt: skip
    rows: list[Sequence[Any]] = [
        *head,
        *[[f.label, f.target, f.actual, f.placed, f.entered, f.completion, f.expected, f.gap] for f in figures],
        [],
        ["地点 place", place.name],
        ["年份 year", year],
        ["截至 as of", today],
        [
            "口径 definitions",
            pick(
                "实际 = 当年开始工作的平台安置(再就业:原为登记失业人员;困难人员:原为就业困难人员)+ 工作人员录入"
                "(已撤回的不计);完成率 = 实际 ÷ 年度目标,保留两位小数。",
                "Actual = placements on the platform that started work in the year (re-employed: the person was "
                "registered unemployed; hard-to-employ: the person was hard to employ) + staff entries (withdrawn "
                "ones not counted); completion = actual ÷ the year's target, two decimals.",
                language,
            ),
        ],
    ]
    tables.append(Table("完成情况 completion", rows, widths={"A": 26, "B": 16, "H": 20}))

    for i, f in enumerate(figures):
        columns = ["月份 month"]
        per_street: list[list[int]] = []
        if streets:
            columns += [row.name or pick("区级(未分街道)", "District (no street)", language) for row in streets]
            per_street = [row.figures[i].monthly for row in streets]
        columns += ["当月 in the month", "累计 cumulative", "均衡进度 even pace"]
        body: list[Sequence[Any]] = [columns]
        for m in f.months():
            body.append([m["month"], *[s[m["month"] - 1] for s in per_street], m["actual"], m["cumulative"], m["line"]])
        body.append(["全年 year", *[sum(s) for s in per_street], f.actual, None, f.target])
        tables.append(Table(f"{i + 1} {f.label}", body, widths={"A": 10}))

    if streets:
        cols = ["街道 street"]
        for f in figures:
            cols += [f"{f.label} 目标 target", f"{f.label} 实际 actual", f"{f.label} 完成率 %"]
        street_rows: list[Sequence[Any]] = [cols]
        for row in streets:
            name = row.name or pick("区级(未分街道)", "District (no street)", language)
            street_rows.append([name, *[v for f in row.figures for v in _figure_columns(f)]])
        tables.append(Table("街道 streets", street_rows, widths={"A": 20}))

    entries = q.entries(place, year)
    names = q.place_names(entries.values_list("path", flat=True).distinct())
    labels = dict(TargetEntry._meta.get_field("metric").choices or [])

    def entry_rows() -> Any:
        yield [
            "日期 date", "地点 place", "指标 figure", "人数 count", "来源 source", "录入人 entered by",
            "录入时间 entered at", "状态 status", "撤回人 withdrawn by", "撤回时间 withdrawn at", "撤回原因 reason",
        ]  # fmt: skip
        for e in entries.iterator(chunk_size=2000):
            withdrawn = e.withdrawn_at is not None
            yield [
                e.on,
                names.get(e.path, e.path),
                str(labels.get(e.metric, e.metric)),
                e.count,
                e.source,
                str(e.entered_by) if e.entered_by_id else "",
                timezone.localtime(e.entered_at).replace(tzinfo=None),
                pick("已撤回(不计)", "withdrawn (not counted)", language)
                if withdrawn
                else pick("有效", "counted", language),
                str(e.withdrawn_by) if e.withdrawn_by_id else "",
                timezone.localtime(e.withdrawn_at).replace(tzinfo=None) if e.withdrawn_at else None,
                e.withdrawn_reason,
            ]

    tables.append(Table("来源 sources", entry_rows(), widths={"B": 14, "C": 16, "E": 36, "G": 18, "K": 30}))
    return tables


@task()
def export_targets(run_id: int, place: str, year: int) -> None:
    """A place's employment targets for a year as .xlsx (``target_tables``), the rows counted on the
    run's progress bar; the place is checked again (``jobs`` there) when the task runs."""
    with runs_services.working(run_id) as work:
        user = work.run.user
        with rechecked():
            where = q.place_or_404(user, place)
        tables = target_tables(where, year, work.language)
        entries = q.entries(where, year).count()
        total = entries + sum(max(0, len(t.rows) - 1) for t in tables if isinstance(t.rows, list))
        work.progress(0, total)
        with temporary_file() as path:
            counts = write_tables(path, tables, progress=lambda done: work.progress(min(done, total), total))
            work.save_file(path, f"就业目标-{where.name}-{year}.xlsx", XLSX)
        n = sum(counts)
        with transaction.atomic():
            work.progress(n, n)
            work.finish(
                result={
                    "rows": n,
                    "entries": entries,
                    "zh": f"{where.name} {year} 年就业目标:{entries} 条录入。",
                    "en": f"{where.name}, employment targets {year}: {entries} entries.",
                }
            )
