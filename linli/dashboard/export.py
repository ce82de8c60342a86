"""The command centre's .xlsx export of a period: the sheets for ``core.exports.write_workbook``,
written by the background task ``dashboard.tasks.export_period`` (docs/dashboard.md).

Sheets: 说明 about (the period and the definitions), 部门 per department, 网格 per grid, 类别 per
category (due, closed, on time, reworked and the three rates, computed exactly as on the page), and
事件 the events reported or due in the period — without the reporter's name, phone, e-mail,
account, device, description or address (personal data stays in the handling chain).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any

from django.db.models import Model, Q, QuerySet

from linli.accounts.services import resolve_place
from linli.core.errors import LinliError
from linli.core.exports import Column, Sheet
from linli.core.types import User
from linli.dashboard import permissions
from linli.dashboard import queries as q
from linli.dashboard.metrics import Counts, Period
from linli.governance import loop
from linli.governance.models import Event
from linli.places.models import District

RATE_COLUMNS: list[Column] = [
    ("应结案件 due", lambda r: r[1].due),
    ("已结案件 closed", lambda r: r[1].closed),
    ("按期结案 closed on time", lambda r: r[1].on_time),
    ("返工案件 reworked", lambda r: r[1].reworked),
    ("结案率 % closure rate", lambda r: r[1].closure_rate),
    ("按期结案率 % on-time rate", lambda r: r[1].on_time_rate),
    ("返工率 % rework rate", lambda r: r[1].rework_rate),
]


def _grouped(groups: dict[Any, Counts], index: int) -> dict[Any, Counts]:
    out: dict[Any, Counts] = defaultdict(Counts)
    for key, c in groups.items():
        out[key[index]].add(c)
    return out


def _sorted(groups: dict[Any, Counts], label: Any) -> list[tuple[str, Counts]]:
    rows = [(label(k), c) for k, c in groups.items()]
    rows.sort(key=lambda r: (-r[1].due, r[0]))
    return rows


def sheets(events: QuerySet[Event], period: Period, tz: tzinfo, now: datetime, lang: str) -> list[Sheet]:
    start, end = period.bounds(tz)
    groups = q.period_counts(events, start, end, now, ("department", "grid", "category"))
    by_dept, by_grid, by_cat = _grouped(groups, 0), _grouped(groups, 1), _grouped(groups, 2)
    names = q.Names.load(lang, set(by_cat), set(by_dept), set(by_grid))
    total = Counts()
    for c in groups.values():
        total.add(c)
    about: list[tuple[str, Any]] = [
        ("时间段 period", f"{period.first.isoformat()} – {period.last.isoformat()}"),
        ("导出时间 exported at", now),
        ("应结案件 due", total.due),
        ("已结案件 closed", total.closed),
        ("按期结案 closed on time", total.on_time),
        ("返工案件 reworked", total.reworked),
        ("结案率 % closure rate", total.closure_rate),
        ("按期结案率 % on-time rate", total.on_time_rate),
        ("返工率 % rework rate", total.rework_rate),
        (
            "应结 due",
            "due_at 在时间段内,未作废,期末(或此刻)未缓办 / due_at in the period, not voided, not deferred "
            "at the end of the period (or now)",
        ),
        ("结案率 closure rate", "已结 / 应结 = closed / due"),
        ("按期结案率 on-time rate", "closed_at ≤ due_at 的已结 / 应结 = closed on time / due"),
        ("返工率 rework rate", "rework_count > 0 的已结 / 已结 = reworked closed / closed"),
        (
            "事件表 events sheet",
            f"时间段内上报或应结的事件,最多 {q.EXPORT_EVENT_ROWS:,} 行,不含上报人信息 / events reported or due "
            f"in the period, at most {q.EXPORT_EVENT_ROWS:,} rows, no reporter data",
        ),
    ]
    two = [("项目 item", lambda r: r[0]), ("值 value", lambda r: r[1])]
    dept_rows = _sorted(by_dept, names.department)
    grid_rows = _sorted(by_grid, names.grid)
    cat_rows = _sorted(by_cat, lambda k: f"{names.categories.get(k, ('', '—', ''))[0]} {names.category(k)}")
    return [
        ("说明 about", two, about),
        ("部门 departments", [("部门 department", lambda r: r[0]), *RATE_COLUMNS], dept_rows),
        ("网格 grids", [("网格 grid", lambda r: r[0]), *RATE_COLUMNS], grid_rows),
        ("类别 categories", [("类别 category", lambda r: r[0]), *RATE_COLUMNS], cat_rows),
        ("事件 events", _event_columns(names, lang), _events(events, start, end, names, lang)),
    ]


def _events(events: QuerySet[Event], start: datetime, end: datetime, names: q.Names, lang: str) -> Iterator[Any]:
    """Event rows, loading names of places/categories/departments not yet known in small batches."""
    streets: dict[int, str] = {}
    communities: dict[int, str] = {}
    batch: list[dict[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        need_s = {r["street_id"] for r in batch} - set(streets)
        need_c = {r["community_id"] for r in batch} - set(communities)
        if need_s:
            streets.update(q.place_names("street", need_s))
        if need_c:
            communities.update(q.place_names("community", need_c))
        more = q.Names.load(
            lang,
            {r["category_id"] for r in batch} - set(names.categories),
            {r["department_id"] for r in batch} - set(names.departments),
            {r["grid_id"] for r in batch} - set(names.grids),
        )
        names.categories.update(more.categories)
        names.departments.update(more.departments)
        names.grids.update(more.grids)
        for r in batch:
            r["street"] = streets.get(r["street_id"], "")
            r["community"] = communities.get(r["community_id"], "")
            yield r
        batch.clear()

    for row in q.export_events(events, start, end):
        batch.append(row)
        if len(batch) >= 2000:
            yield from flush()
    yield from flush()


def _event_columns(names: q.Names, lang: str) -> list[Column]:
    def step(r: dict[str, Any]) -> str:
        zh, en = loop.STEP_NAMES[loop.Step(r["step"])]
        return f"{zh} {en}"

    def on_time(r: dict[str, Any]) -> str:
        if r["closed_at"] is None or r["due_at"] is None or r["step"] == loop.Step.VOIDED:
            return ""
        return "是 yes" if r["closed_at"] <= r["due_at"] else "否 no"

    return [
        ("编号 id", lambda r: r["pk"]),
        ("上报时间 reported", lambda r: r["created_at"]),
        ("类别 category", lambda r: names.category(r["category_id"])),
        ("板块 sector", lambda r: q.sector_name(r["sector"], lang)),
        ("部件/事件 class", lambda r: r["kind"]),
        ("渠道 channel", lambda r: r["channel"]),
        ("环节 step", step),
        ("部门 department", lambda r: names.department(r["department_id"])),
        ("街道 street", lambda r: r["street"]),
        ("社区 community", lambda r: r["community"]),
        ("网格 grid", lambda r: names.grid(r["grid_id"])),
        ("应结时间 due", lambda r: r["due_at"]),
        ("结案时间 closed", lambda r: r["closed_at"]),
        ("按期 on time", on_time),
        ("缓办至 deferred until", lambda r: r["deferred_until"]),
        ("挂账 backlog", lambda r: "是 yes" if r["backlog"] else ""),
        ("返工次数 reworks", lambda r: r["rework_count"]),
        ("升级 escalation", lambda r: r["escalation"]),
    ]


def total_rows(events: QuerySet[Event], period: Period, tz: tzinfo, built: list[Sheet]) -> int:
    """How many data rows the workbook of ``built`` will have (for the progress bar)."""
    start, end = period.bounds(tz)
    listed = sum(len(rows) for _, _, rows in built if isinstance(rows, list))
    reported = events.filter(Q(created_at__gte=start, created_at__lt=end) | Q(due_at__gte=start, due_at__lt=end))
    return listed + min(reported.count(), q.EXPORT_EVENT_ROWS)


def run_target(user: User) -> Model:
    """What a command-centre export's run re-checks ``Action.EVENTS`` on: the place (or department)
    of the user's first EVENTS grant, or for a superuser without grants the first district. The
    command centre has no object of its own; the task counts ``events_of(user)`` again when it runs."""
    grants = permissions.event_grants(user)
    if grants:
        return resolve_place(grants[0].place_kind, grants[0].place_id)
    district = District.objects.order_by("pk").first()
    if district is None:
        permissions.events_of(user)  # the 403 of a user who sees no events
        raise LinliError.one(
            "no_district", "还没有任何辖区,无可导出。", "There is no district yet: nothing to export.", 404
        )
    return district
