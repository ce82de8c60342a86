"""Employment targets (issue 14 §7, docs/jobs.md "Employment targets"): set a year's target of a
district or a street, enter actuals found outside the platform with their source, withdraw an entry
made in error.

Who: the employment service (``jobs``) at the place — a street's targets and entries by the street
or its district, a district's by the district. Outside one's grants a place is a 404.

Entries are never deleted (an auditor must be able to follow every figure): ``remove_entry``
*withdraws* one — by its author or the district's staff, within the calendar month it was entered,
with a reason; it stops counting and stays listed and exported. After that month the figure belongs
to a closed monthly report and stands (a correction is a matter for the district's report, not an
edit). Setting a target again keeps the value it replaces in the row's ``history``.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from linli.accounts.permissions import authorize
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.types import User
from linli.jobs import permissions
from linli.jobs.models import EmploymentTarget, TargetEntry
from linli.jobs.permissions import SERVE
from linli.jobs.queries import targets as q
from linli.places.models import District, Street

MAX_TARGET = 10_000_000
MAX_COUNT = 1_000_000
MAX_SOURCE = 200
MAX_REASON = 200


def _place(place: object) -> q.Place:
    if not isinstance(place, District | Street):
        raise LinliError.one(
            "bad_place", "目标只能按区或街道设定。", "Targets and figures are kept for a district or a street only."
        )
    return place


def _metric(metric: object) -> str:
    if not isinstance(metric, str) or metric not in q.METRICS:
        raise LinliError.one(
            "bad_metric",
            "请选择指标:新增城镇就业、失业人员再就业或就业困难人员就业。",
            "Choose a figure: new urban jobs, unemployed people re-employed or hard-to-employ people placed.",
        )
    return metric


def _year(year: object) -> int:
    last = q.last_year()
    if isinstance(year, bool) or not isinstance(year, int) or not q.FIRST_YEAR <= year <= last:
        raise LinliError.one(
            "bad_year",
            f"年份应在 {q.FIRST_YEAR} 至 {last} 之间。",
            f"The year must be between {q.FIRST_YEAR} and {last}.",
        )
    return year


def _whole(value: object, most: int, code: str, zh: str, en: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise LinliError.one(code, zh, en)
    return value


def set_target(actor: User, place: District | Street, year: int, metric: str, target: int) -> EmploymentTarget:
    """Set (or change) ``place``'s target of ``metric`` for ``year``: one row per year, place and
    metric (upsert); the row keeps who set it and when, and a change appends the value it replaces to
    its ``history``. Setting the same value again changes nothing."""
    place = _place(place)
    year = _year(year)
    metric = _metric(metric)
    target = _whole(
        target,
        MAX_TARGET,
        "bad_target",
        f"目标人数应为 1 至 {MAX_TARGET:,} 之间的整数。",
        f"The target must be a whole number of people from 1 to {MAX_TARGET:,}.",
    )
    authorize(actor, SERVE, place)
    now = clock.now()
    with transaction.atomic():
        row = EmploymentTarget.objects.select_for_update().filter(year=year, path=place.path, metric=metric).first()
        if row is None:
            try:
                with transaction.atomic():
                    return EmploymentTarget.objects.create(
                        year=year,
                        place_kind=place.kind,
                        place_id=place.pk,
                        path=place.path,
                        metric=metric,
                        target=target,
                        set_by=actor,  # type: ignore[misc]
                        set_at=now,
                    )
            except IntegrityError:  # set at the same moment by someone else: change theirs
                row = EmploymentTarget.objects.select_for_update().get(year=year, path=place.path, metric=metric)
        if row.target == target:
            return row
        earlier = {
            "target": row.target,
            "set_by": row.set_by_id,
            "set_by_name": str(row.set_by) if row.set_by_id else "",
            "set_at": row.set_at.isoformat(),
        }
        row.history = [*(row.history or []), earlier]
        row.target = target
        row.set_by = actor  # type: ignore[assignment]
        row.set_at = now
        row.save(update_fields=["target", "set_by", "set_at", "history"])
        return row


def add_entry(
    actor: User, place: District | Street, metric: str, count: int, on: date | None, source: str
) -> TargetEntry:
    """Enter ``count`` people of ``metric`` for ``place`` on ``on`` (not in the future) with the
    ``source`` of the figure (required: where does it come from). The same entry sent again by the
    same person within a minute (a double submit) is recorded once: the first row comes back."""
    place = _place(place)
    metric = _metric(metric)
    count = _whole(
        count,
        MAX_COUNT,
        "bad_count",
        f"人数应为 1 至 {MAX_COUNT:,} 之间的整数(录错的数据请撤回,不要录负数)。",
        f"The count must be a whole number of people from 1 to {MAX_COUNT:,} "
        "(withdraw a wrong entry instead of entering a negative one).",
    )
    today = clock.today()
    if not isinstance(on, date):
        raise LinliError.one("bad_date", "请填写日期(年-月-日)。", "Give the date (YYYY-MM-DD).")
    if on > today:
        raise LinliError.one("future_date", "日期不能晚于今天。", "The date cannot be in the future.")
    if on.year < q.FIRST_YEAR:
        raise LinliError.one(
            "old_date", f"日期不能早于 {q.FIRST_YEAR} 年。", f"The date cannot be before {q.FIRST_YEAR}."
        )
    source = " ".join(str(source or "").split())
    if not source:
        raise LinliError.one(
            "no_source",
            "请注明数据来源(例如“区人社局月报”“社区台账”)。",
            "Say where the figure comes from (e.g. the district's monthly labour report, a community ledger).",
        )
    if len(source) > MAX_SOURCE:
        raise LinliError.one(
            "long_source",
            f"数据来源过长(最多 {MAX_SOURCE} 字)。",
            f"The source is too long (at most {MAX_SOURCE} characters).",
        )
    authorize(actor, SERVE, place)
    with transaction.atomic():
        # one writer of a place's entries at a time, so a double submit finds the first
        type(place).objects.select_for_update().filter(pk=place.pk).first()
        now = clock.now()
        same = q.recent_duplicate(place.path, metric, count, on, source, actor, now)
        if same is not None:
            return same
        return TargetEntry.objects.create(
            path=place.path,
            metric=metric,
            count=count,
            on=on,
            source=source,
            entered_by=actor,  # type: ignore[misc]
            entered_at=now,
        )


def remove_entry(actor: User, entry: TargetEntry, reason: str) -> TargetEntry:
    """Withdraw ``entry`` (it stops counting; the row, who withdrew it, when and why stay): by its
    author or the staff of its district, within the calendar month it was entered, with a reason."""
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise LinliError.one("no_reason", "请说明撤回的原因。", "Say why the entry is withdrawn.", 400)
    if len(reason) > MAX_REASON:
        raise LinliError.one(
            "long_reason",
            f"原因过长(最多 {MAX_REASON} 字)。",
            f"The reason is too long (at most {MAX_REASON} characters).",
        )
    authorize(actor, SERVE, entry)
    with transaction.atomic():
        locked = TargetEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.withdrawn_at is not None:
            raise LinliError.one("already_withdrawn", "这条录入已经撤回。", "This entry was already withdrawn.", 409)
        today = clock.today()
        if not permissions.same_month(locked, today):
            raise LinliError.one(
                "month_closed",
                "只能在录入当月撤回;该月数据已归档,不能再改。",
                "An entry can be withdrawn only in the month it was entered; that month is closed.",
                409,
            )
        if not permissions.may_withdraw(actor, locked, today):
            raise LinliError.one(
                "not_author",
                "只有录入人或区级就业服务人员可以撤回这条录入。",
                "Only the person who entered it or the district's employment staff may withdraw this entry.",
                403,
            )
        locked.withdrawn_at = clock.now()
        locked.withdrawn_by = actor  # type: ignore[assignment]
        locked.withdrawn_reason = reason
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        return locked
