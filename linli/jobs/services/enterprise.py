"""Key-enterprise services (issue 14 §6; docs/jobs.md "Key-enterprise services").

The street's key enterprises (重点企业, seed 004: 192 of them) file requests — recruitment, social
security, subsidies, training — that the employment service accepts, works and closes before a
deadline, while the enterprise follows every step and rates the service at the end.

    filed ──accept──▶ accepted ──progress──▶ working ──close──▶ closed ──rate (once)
      └──reject──▶ rejected            └──────────close─────────┘

- ``file`` — a member of a verified key enterprise (``Employer.key_enterprise``); anyone else is
  refused with a 403. The number is ``FW`` + the day + ``-`` + the day's sequence (``FW20261201-0007``),
  race-safe (a unique number; a clash retries with the next). ``due_at`` is the end of the N-th
  working day after the filing day, N from ``DEADLINE_DAYS`` by kind. The request takes the
  employer's ``path`` and its ``officer``.
- ``accept`` / ``reject(reason)`` / ``progress(note)`` / ``close(result)`` / ``reassign(officer)`` —
  staff with ``jobs`` at the employer's place (its officer or any such staff); accepting sets the
  officer when the request has none.
- ``rate(satisfaction 1–5, note)`` — the enterprise, once, only when closed.

Every step appends a ``ServiceStep`` the enterprise sees. A step in the wrong state (a double
submit included) is a 409 and changes nothing: each step locks the row (``select_for_update``)
and checks the state it found. Bad input is a 400 with the reason in Chinese and English.
Who is told (``linli.notify``, kind ``service_request``, after the commit): the officer — or, without
one, the street's employment service (``permissions.serving_staff``) — of a new request, a handed-over
one and the enterprise's rating; the enterprise's members of each step of the service (accepted, not
accepted, progress, closed). An open request past its deadline reminds its officer once (``overdue``,
``remind_overdue``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from linli.accounts.permissions import authorize, can
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.masking import mask_text
from linli.core.types import User
from linli.jobs.models import Employer, EmployerMember, ServiceRequest, ServiceStep
from linli.jobs.permissions import HIRE, SERVE, is_member, serves, serving_staff
from linli.jobs.services import employers
from linli.notify import rules as notify_rules
from linli.notify import services as notify_services

Kind = ServiceRequest.Kind
Status = ServiceRequest.Status

#: The service promise (服务承诺): working days from the day after filing to the deadline, by kind.
#: These figures are the street employment service's own promise to its key enterprises, set by
#: the street and changed here (docs/jobs.md "Key-enterprise services"): social-security matters
#: (参保登记、增减员) in 3 working days, a recruitment drive (招聘用工对接) in 5, subsidy and training
#: applications (就业补贴、职业技能培训) in 10 — the latter need the district bureau's review.
DEADLINE_DAYS: dict[str, int] = {
    Kind.RECRUITMENT.value: 5,
    Kind.SOCIAL_SECURITY.value: 3,
    Kind.SUBSIDY.value: 10,
    Kind.TRAINING.value: 10,
    Kind.OTHER.value: 5,
}

#: Public holidays on weekdays (days off) and the weekend days worked instead (调休上班), from the
#: State Council's notice of each year's holidays (国务院办公厅关于2026年部分节假日安排的通知,
#: 国办发明电〔2025〕7号). Add the next year's when the notice comes out (usually in November);
#: a year not listed counts Monday to Friday only.
HOLIDAYS: frozenset[date] = frozenset(
    date.fromisoformat(d)
    for d in (
        "2026-01-01", "2026-01-02",  # 元旦 (1–3 Jan)
        "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-23",  # 春节 (15–23 Feb)
        "2026-04-06",  # 清明节 (4–6 Apr)
        "2026-05-01", "2026-05-04", "2026-05-05",  # 劳动节 (1–5 May)
        "2026-06-19",  # 端午节 (19–21 Jun)
        "2026-09-25",  # 中秋节 (25–27 Sep)
        "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07",  # 国庆节 (1–7 Oct)
    )
)  # fmt: skip
WORKED_WEEKENDS: frozenset[date] = frozenset(
    date.fromisoformat(d) for d in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
)

#: The states in which a request is still being worked (counted as open, may go overdue).
OPEN = (Status.FILED.value, Status.ACCEPTED.value, Status.WORKING.value)
MAX_TITLE = 120
MAX_DETAIL = 4000
MAX_NOTE = 2000
MAX_RATING_NOTE = 500
#: Attempts at a free daily number before giving up (each clash means another request took it).
NUMBER_ATTEMPTS = 5


# --- deadlines (pure) ----------------------------------------------------------------------------------


def is_working_day(day: date) -> bool:
    """Monday to Friday, except the public holidays; plus the weekend days worked instead."""
    if day in WORKED_WEEKENDS:
        return True
    return day.weekday() < 5 and day not in HOLIDAYS


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself never counts: a request filed on
    a Friday with 3 days is due on Wednesday). ``days`` ≤ 0 gives ``start``."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def due_at_for(kind: str, filed_at: datetime) -> datetime:
    """The deadline of a request of ``kind`` filed at ``filed_at``: the end (23:59:59, the site's
    time zone) of the working day ``DEADLINE_DAYS[kind]`` days after the filing day."""
    local = timezone.localtime(filed_at)
    day = add_working_days(local.date(), DEADLINE_DAYS.get(kind, DEADLINE_DAYS[Kind.OTHER.value]))
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)), timezone.get_current_timezone())


def is_overdue(req: ServiceRequest, now: datetime | None = None) -> bool:
    """Open and past its deadline."""
    return req.status in OPEN and (now or clock.now()) > req.due_at


def closed_on_time(req: ServiceRequest) -> bool | None:
    """For a closed request: whether it was closed by its deadline (None while not closed)."""
    if req.status != Status.CLOSED or req.closed_at is None:
        return None
    return req.closed_at <= req.due_at


# --- input -----------------------------------------------------------------------------------------------


def _text(value: Any, limit: int, *, code: str, zh: str, en: str, zh_long: str, en_long: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise LinliError.one(code, zh, en)
    if len(text) > limit:
        raise LinliError.one("too_long", zh_long, en_long)
    return text


def _wrong_state(req: ServiceRequest, zh: str, en: str) -> LinliError:
    return LinliError.one(
        "wrong_state",
        f"{zh}(服务单 {req.number} 当前状态:{_label_zh(req.status)})",
        f"{en} (request {req.number} is now: {_label_en(req.status)})",
        409,
    )


_LABELS = {
    Status.FILED.value: ("已提交,待受理", "filed, awaiting acceptance"),
    Status.ACCEPTED.value: ("已受理", "accepted"),
    Status.WORKING.value: ("办理中", "in progress"),
    Status.CLOSED.value: ("已办结", "closed"),
    Status.REJECTED.value: ("不予受理", "not accepted"),
}


def _label_zh(status: str) -> str:
    return _LABELS.get(status, (status, status))[0]


def _label_en(status: str) -> str:
    return _LABELS.get(status, (status, status))[1]


# --- who is told -------------------------------------------------------------------------------------------


def _members(employer_id: int) -> list[int]:
    return list(EmployerMember.objects.filter(employer_id=employer_id).values_list("user_id", flat=True))


def _tell_enterprise(req: ServiceRequest, zh: str, en: str, note: str = "") -> None:
    """The enterprise's members, of a step of the service (``note``: the officer's words, masked)."""
    note = mask_text(note.strip())
    notify_services.notify(
        notify_rules.SERVICE_REQUEST,
        _members(req.employer_id),
        title_zh=f"服务单 {req.number}:{zh}",
        title_en=f"Request {req.number}: {en}",
        body_zh=note,
        body_en=note,
        url=reverse("jobs:service_detail", args=[req.pk]),
        ref=f"service:{req.pk}",
    )


def _tell_officer(req: ServiceRequest, recipients: Iterable[int], zh: str, en: str) -> None:
    notify_services.notify(
        notify_rules.SERVICE_REQUEST,
        recipients,
        title_zh=f"重点企业服务单 {req.number}:{zh}",
        title_en=f"Key-enterprise request {req.number}: {en}",
        url=reverse("jobs:service_detail", args=[req.pk]),
        ref=f"service:{req.pk}",
    )


# --- the enterprise ------------------------------------------------------------------------------------------


def may_file(user: User, employer: Employer) -> bool:
    """Whether ``user`` may file requests for ``employer``: a member of a verified key enterprise."""
    return (
        employer.key_enterprise
        and employer.status == Employer.Status.VERIFIED
        and is_member(user, employer)
        and can(user, HIRE, employer)
    )


def _next_number(day: date) -> str:
    prefix = f"FW{day:%Y%m%d}-"
    last = (
        ServiceRequest.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
    ).first()
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:04d}"


def file(actor: User, employer: Employer, *, kind: str, title: str, detail: str) -> ServiceRequest:
    """A key enterprise's member files a request; returns it (status filed, its deadline set)."""
    authorize(actor, HIRE, employer)  # 404 outside every scope, 403 for staff who only see it
    if not is_member(actor, employer):
        raise LinliError.one(
            "not_member",
            "只有企业的成员可以为企业提交服务需求。",
            "Only the enterprise's own members may file requests for it.",
            403,
        )
    if employer.status != Employer.Status.VERIFIED:
        raise LinliError.one(
            "not_verified",
            "企业尚未通过审核,暂不能提交服务需求。",
            "The enterprise is not verified yet: it cannot file requests.",
            403,
        )
    if not employer.key_enterprise:
        raise LinliError.one(
            "not_key_enterprise",
            "服务需求平台只面向街道重点企业。如需认定为重点企业,请联系街道就业服务专员。",
            "Service requests are for the street's key enterprises only. Ask the street's employment "
            "officer about becoming one.",
            403,
        )
    if kind not in Kind.values:
        raise LinliError.one("bad_kind", "请选择需求类别。", "Choose the kind of request.")
    title = _text(
        title,
        MAX_TITLE,
        code="title_required",
        zh="请填写标题。",
        en="Give the request a title.",
        zh_long=f"标题不超过 {MAX_TITLE} 字。",
        en_long=f"The title is at most {MAX_TITLE} characters.",
    )
    detail = _text(
        detail,
        MAX_DETAIL,
        code="detail_required",
        zh="请说明需求的具体内容。",
        en="Describe what you need.",
        zh_long=f"需求说明不超过 {MAX_DETAIL} 字。",
        en_long=f"The description is at most {MAX_DETAIL} characters.",
    )
    now = clock.now()
    req = ServiceRequest(
        employer=employer,
        kind=kind,
        title=title,
        detail=detail,
        status=Status.FILED,
        officer_id=employer.officer_id,
        path=employer.path,
        filed_by_id=actor.pk,
        filed_at=now,
        due_at=due_at_for(kind, now),
    )
    today = timezone.localdate(now)
    with transaction.atomic():
        for attempt in range(NUMBER_ATTEMPTS):
            req.number = _next_number(today)
            try:
                with transaction.atomic():  # a savepoint: a clash with a concurrent filing fails alone
                    req.save(force_insert=True)
                break
            except IntegrityError:
                req.pk = None
                if attempt == NUMBER_ATTEMPTS - 1:
                    raise
        ServiceStep.objects.create(request=req, kind=ServiceStep.Kind.FILE, actor_id=actor.pk, at=now)
        recipients = [req.officer_id] if req.officer_id else serving_staff(req.path)
        _tell_officer(req, recipients, f"{employer.name} 提交了新需求", f"{employer.name} filed a new request")
    return req


def rate(actor: User, req: ServiceRequest, satisfaction: Any, note: str = "") -> ServiceRequest:
    """The enterprise rates a closed request, once: ``satisfaction`` 1 (very unsatisfied) … 5."""
    authorize(actor, HIRE, req)
    if not is_member(actor, req.employer_id):
        raise LinliError.one(
            "not_member", "只有提出需求的企业可以评价。", "Only the enterprise that filed it may rate it.", 403
        )
    try:
        score = int(str(satisfaction).strip())
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise LinliError.one("bad_rating", "请选择 1 到 5 分的满意度。", "Choose a satisfaction from 1 to 5.")
    text = str(note or "").strip()
    if len(text) > MAX_RATING_NOTE:
        raise LinliError.one(
            "too_long",
            f"评价意见不超过 {MAX_RATING_NOTE} 字。",
            f"The comment is at most {MAX_RATING_NOTE} characters.",
        )
    with transaction.atomic():
        row = ServiceRequest.objects.select_for_update().get(pk=req.pk)
        if row.status != Status.CLOSED:
            raise _wrong_state(row, "办结后才能评价。", "A request can be rated once it is closed.")
        if row.satisfaction is not None:
            raise LinliError.one(
                "rated_already", "这份服务单已经评价过了。", "This request has been rated already.", 409
            )
        now = clock.now()
        row.satisfaction, row.satisfaction_note = score, text
        row.save(update_fields=["satisfaction", "satisfaction_note"])
        ServiceStep.objects.create(
            request=row,
            kind=ServiceStep.Kind.RATE,
            actor_id=actor.pk,
            at=now,
            note=f"{score}/5" + (f" {text}" if text else ""),
        )
        recipients = [row.officer_id] if row.officer_id else serving_staff(row.path)
        _tell_officer(row, recipients, f"企业评价了服务:{score}/5 分", f"the enterprise rated the service {score}/5")
    return row


# --- the employment service ----------------------------------------------------------------------------------


def _note(value: Any, *, code: str, zh: str, en: str) -> str:
    return _text(
        value,
        MAX_NOTE,
        code=code,
        zh=zh,
        en=en,
        zh_long=f"说明不超过 {MAX_NOTE} 字。",
        en_long=f"The note is at most {MAX_NOTE} characters.",
    )


def accept(actor: User, req: ServiceRequest, note: str = "") -> ServiceRequest:
    """The employment service takes the request on; the officer becomes ``actor`` if it had none."""
    text = str(note or "").strip()
    if len(text) > MAX_NOTE:
        raise LinliError.one("too_long", f"说明不超过 {MAX_NOTE} 字。", f"The note is at most {MAX_NOTE} characters.")
    authorize(actor, SERVE, req)
    with transaction.atomic():
        row = ServiceRequest.objects.select_for_update().get(pk=req.pk)
        if row.status != Status.FILED:
            raise _wrong_state(row, "只有待受理的服务单可以受理。", "Only a filed request can be accepted.")
        now = clock.now()
        row.status, row.accepted_at = Status.ACCEPTED, now
        if row.officer_id is None:
            row.officer_id = actor.pk
        row.save(update_fields=["status", "accepted_at", "officer"])
        ServiceStep.objects.create(request=row, kind=ServiceStep.Kind.ACCEPT, actor_id=actor.pk, at=now, note=text)
        _tell_enterprise(row, "已受理", "accepted")
    return row


def reject(actor: User, req: ServiceRequest, reason: str) -> ServiceRequest:
    """The employment service does not take the request on, with the reason the enterprise reads."""
    text = _note(reason, code="reason_required", zh="请说明不予受理的原因。", en="Say why the request is not accepted.")
    authorize(actor, SERVE, req)
    with transaction.atomic():
        row = ServiceRequest.objects.select_for_update().get(pk=req.pk)
        if row.status != Status.FILED:
            raise _wrong_state(row, "只有待受理的服务单可以不予受理。", "Only a filed request can be turned down.")
        now = clock.now()
        row.status, row.closed_at = Status.REJECTED, now
        if row.officer_id is None:
            row.officer_id = actor.pk
        row.save(update_fields=["status", "closed_at", "officer"])
        ServiceStep.objects.create(request=row, kind=ServiceStep.Kind.REJECT, actor_id=actor.pk, at=now, note=text)
        _tell_enterprise(row, "不予受理", "not accepted", text)
    return row


def progress(actor: User, req: ServiceRequest, note: str) -> ServiceRequest:
    """A step of the work, written for the enterprise to read (the request is then in progress)."""
    text = _note(note, code="note_required", zh="请填写办理进展。", en="Write what has been done.")
    authorize(actor, SERVE, req)
    with transaction.atomic():
        row = ServiceRequest.objects.select_for_update().get(pk=req.pk)
        if row.status not in (Status.ACCEPTED, Status.WORKING):
            raise _wrong_state(
                row, "受理后、办结前才能记录办理进展。", "Progress is recorded after acceptance and before closing."
            )
        now = clock.now()
        if row.status != Status.WORKING:
            row.status = Status.WORKING
            row.save(update_fields=["status"])
        ServiceStep.objects.create(request=row, kind=ServiceStep.Kind.PROGRESS, actor_id=actor.pk, at=now, note=text)
        _tell_enterprise(row, "有新的办理进展", "new progress", text)
    return row


def close(actor: User, req: ServiceRequest, result: str) -> ServiceRequest:
    """The work is done: the result, for the enterprise, which may then rate it."""
    text = _text(
        result,
        MAX_DETAIL,
        code="result_required",
        zh="请填写办理结果。",
        en="Write the result.",
        zh_long=f"办理结果不超过 {MAX_DETAIL} 字。",
        en_long=f"The result is at most {MAX_DETAIL} characters.",
    )
    authorize(actor, SERVE, req)
    with transaction.atomic():
        row = ServiceRequest.objects.select_for_update().get(pk=req.pk)
        if row.status not in (Status.ACCEPTED, Status.WORKING):
            raise _wrong_state(row, "只有已受理、办理中的服务单可以办结。", "Only an accepted request can be closed.")
        now = clock.now()
        row.status, row.closed_at, row.result = Status.CLOSED, now, text
        if row.officer_id is None:
            row.officer_id = actor.pk
        row.save(update_fields=["status", "closed_at", "result", "officer"])
        ServiceStep.objects.create(request=row, kind=ServiceStep.Kind.CLOSE, actor_id=actor.pk, at=now, note=text)
        _tell_enterprise(row, "已办结,请评价", "closed: please rate the service", text)
    return row


def reassign(actor: User, req: ServiceRequest, officer: User | None) -> ServiceRequest:
    """Hand an open request to another officer, who must hold ``jobs`` at the enterprise's place."""
    authorize(actor, SERVE, req)
    if not serves(officer, req):
        raise LinliError.one(
            "bad_officer",
            "请选择在该企业所在地负责就业服务的工作人员。",
            "Choose a member of the employment service where the enterprise is.",
        )
    with transaction.atomic():
        row = ServiceRequest.objects.select_for_update().get(pk=req.pk)
        if row.status not in OPEN:
            raise _wrong_state(row, "已结束的服务单不能转交。", "A finished request cannot be handed over.")
        if row.officer_id == officer.pk:
            raise LinliError.one(
                "same_officer",
                f"服务单 {row.number} 已由 {officer} 负责。",
                f"{officer} already holds request {row.number}.",
                409,
            )
        now = clock.now()
        row.officer_id = officer.pk
        row.save(update_fields=["officer"])
        ServiceStep.objects.create(
            request=row, kind=ServiceStep.Kind.REASSIGN, actor_id=actor.pk, at=now, note=str(officer)
        )
        _tell_officer(row, [officer.pk], f"{actor} 转交给你", f"handed to you by {actor}")
    return row


# --- key enterprises and their officers ------------------------------------------------------------------------


def set_enterprise(actor: User, employer: Employer, *, key: bool, officer: User | None = None) -> Employer:
    """Mark ``employer`` as one of the street's key enterprises (or not) and assign its service
    officer (None: none), through ``services.employers.set_key_enterprise`` (staff with ``jobs`` at
    the employer's place; the officer must hold ``jobs`` there too). Only a verified employer becomes
    a key enterprise; unmarked, it keeps no officer. Its open requests without an officer take the
    new one."""
    authorize(actor, SERVE, employer)
    if key and employer.status != Employer.Status.VERIFIED:
        raise LinliError.one(
            "not_verified",
            "只有通过审核的企业可以认定为重点企业。",
            "Only a verified employer can be a key enterprise.",
            409,
        )
    with transaction.atomic():
        row = employers.set_key_enterprise(actor, employer, key, officer if key else None)
        if row.officer_id is not None:
            ServiceRequest.objects.filter(employer=row, officer__isnull=True, status__in=OPEN).update(
                officer_id=row.officer_id
            )
    return row


# --- reminders ------------------------------------------------------------------------------------------------


def remind_overdue(now: datetime | None = None) -> int:
    """Tell each overdue open request's officer (or, without one, the street's employment service)
    that it is past its deadline — once per request (notification kind ``overdue``, ``once``: a
    second run tells nobody again). Returns how many requests were reminded of. Run by
    ``manage.py jobs_services_overdue`` from a timer."""
    now = now or clock.now()
    rows = (
        ServiceRequest.objects.filter(status__in=OPEN, due_at__lt=now)
        .select_related("employer")
        .order_by("due_at", "pk")
    )
    count = 0
    for req in rows.iterator(chunk_size=500):
        recipients = [req.officer_id] if req.officer_id else serving_staff(req.path)
        if not recipients:
            continue
        due = timezone.localtime(req.due_at).strftime("%Y-%m-%d %H:%M")
        notify_services.notify(
            notify_rules.OVERDUE,
            recipients,
            title_zh=f"重点企业服务单 {req.number} 已超时(时限 {due}):{req.employer.name}",
            title_en=f"Key-enterprise request {req.number} is overdue (due {due}): {req.employer.name}",
            url=reverse("jobs:service_detail", args=[req.pk]),
            ref=f"service:{req.pk}:overdue",
            once=True,
        )
        count += 1
    return count
