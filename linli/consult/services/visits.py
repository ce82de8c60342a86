"""Home visits 入户走访: the one write is ``log_visit``. Visits are append-only: there is no edit
and no delete; a correction is a new visit (the latest visit is the household's attitude).

A phone that retries (offline, double tap) sends the same ``client_key``: it gets the first visit
back, never a duplicate — enforced by the unique constraint (visitor, client_key), so two
concurrent requests with one key also end with one row.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from linli.accounts.models import User as Account
from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.consult import vocab
from linli.consult.models import Attitude, Visit
from linli.core import clock
from linli.core.errors import LinliError, Problem
from linli.core.types import User
from linli.places.models import Dwelling
from linli.renewal.models import Project

CLOCK_SKEW = dt.timedelta(minutes=5)
NOTE_MAX = 2000
CLIENT_KEY_MAX = 64
_REPLAYED = "_linli_replayed"


def was_replayed(visit: Visit) -> bool:
    """True when ``log_visit`` returned an earlier visit for a repeated client_key."""
    return bool(getattr(visit, _REPLAYED, False))


def dwelling_in_project(project: Project, dwelling: Dwelling) -> bool:
    """The dwelling is in the project's compound, and in its buildings if the project lists some."""
    building_id = dwelling.building_id
    compound_id = Dwelling.objects.filter(pk=dwelling.pk).values_list("building__compound_id", flat=True).first()
    if compound_id != project.compound_id:
        return False
    listed = set(project.buildings.values_list("id", flat=True))
    return not listed or building_id in listed


def project_start(project: Project) -> dt.datetime:
    """The earliest moment a visit may have happened: the start (local midnight) of the day the
    project was created (a visit logged later the same day on paper is still accepted)."""
    local = timezone.localtime(project.created_at)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _check(
    project: Project,
    dwelling: Dwelling,
    attitude: str,
    reasons: list[str],
    note: str,
    next_step: str,
    next_visit_on: dt.date | None,
    visited_at: dt.datetime,
    client_key: str,
) -> list[Problem]:
    problems: list[Problem] = []
    if attitude not in Attitude.values:
        problems.append(
            Problem(
                "bad_attitude", "请选择态度:支持、观望或反对。", "Choose an attitude: support, undecided or oppose."
            )
        )
    bad = vocab.unknown(reasons)
    if bad:
        problems.append(
            Problem("unknown_reason", f"未知的原因标签:{'、'.join(bad)}", f"Unknown reason tags: {', '.join(bad)}")
        )
    if len(reasons) > vocab.MAX_REASONS:
        problems.append(Problem("too_many_reasons", "原因标签过多。", "Too many reason tags."))
    if len(note) > NOTE_MAX:
        problems.append(
            Problem("note_too_long", f"备注不能超过 {NOTE_MAX} 字。", f"The note is longer than {NOTE_MAX} characters.")
        )
    if len(next_step) > 200:
        problems.append(
            Problem("next_step_too_long", "下一步不能超过 200 字。", "The next step is over 200 characters.")
        )
    if len(client_key) > CLIENT_KEY_MAX:
        problems.append(Problem("bad_client_key", "client_key 过长。", "The client_key is too long."))
    if timezone.is_naive(visited_at):
        problems.append(Problem("naive_time", "走访时间须带时区。", "The visit time needs a time zone."))
        return problems
    if visited_at > clock.now() + CLOCK_SKEW:
        problems.append(Problem("visit_in_future", "走访时间不能晚于现在。", "The visit time cannot be in the future."))
    if visited_at < project_start(project):
        problems.append(
            Problem(
                "visit_before_project", "走访时间不能早于项目建立。", "The visit cannot be before the project began."
            )
        )
    if next_visit_on is not None and next_visit_on < timezone.localtime(visited_at).date():
        problems.append(
            Problem(
                "next_visit_in_past", "下次走访日期不能早于本次走访。", "The next visit cannot be before this visit."
            )
        )
    if not dwelling_in_project(project, dwelling):
        problems.append(
            Problem("dwelling_not_in_project", "该房屋不在本项目范围内。", "This dwelling is not part of the project.")
        )
    return problems


def _replay(user: Account, project: Project, dwelling: Dwelling, client_key: str) -> Visit | None:
    first = Visit.objects.filter(visitor=user, client_key=client_key).first()
    if first is None:
        return None
    if first.project_id != project.pk or first.dwelling_id != dwelling.pk:
        raise LinliError.one(
            "client_key_reused",
            "这个提交编号已用于另一户的走访,请刷新页面后重新填写。",
            "This submission key was already used for another dwelling; reload the page and try again.",
            status=409,
        )
    setattr(first, _REPLAYED, True)
    return first


def log_visit(
    user: User,
    project: Project,
    dwelling: Dwelling,
    *,
    attitude: str,
    reasons: list[str] | tuple[str, ...] = (),
    note: str = "",
    next_step: str = "",
    next_visit_on: dt.date | None = None,
    visited_at: dt.datetime | None = None,
    client_key: str = "",
) -> Visit:
    """Record one home visit. Needs VISIT on the dwelling (grid workers in their grid, community
    staff in their community): outside every scope → 404, seen but not allowed → 403."""
    authorize(user, Action.VISIT, dwelling)
    assert isinstance(user, Account)  # authorize() lets only a signed-in account through
    client_key = (client_key or "").strip()
    if client_key:
        earlier = _replay(user, project, dwelling, client_key)
        if earlier is not None:
            return earlier
    reasons = vocab.normalise(reasons or [])
    note = (note or "").strip()
    next_step = (next_step or "").strip()
    when = visited_at or clock.now()
    problems = _check(project, dwelling, attitude, reasons, note, next_step, next_visit_on, when, client_key)
    if problems:
        raise LinliError(problems)
    visit = Visit(
        project=project,
        dwelling=dwelling,
        visitor=user,
        visited_at=when,
        attitude=attitude,
        reasons=reasons,
        note=note,
        next_step=next_step,
        next_visit_on=next_visit_on,
        client_key=client_key,
    )
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        # Another request with the same key won the race: hand back its visit.
        if client_key:
            earlier = _replay(user, project, dwelling, client_key)
            if earlier is not None:
                return earlier
        raise
    return visit
