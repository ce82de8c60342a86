"""Applications and placements (issue 14 §4, docs/jobs.md "Applications and placements").

One ``Application`` per seeker and posting (the constraint ``jobs_application_once``). Its steps:

    (employer) invite ─→ INVITED ─(seeker) accept─→ APPLIED ←─(seeker) apply
    APPLIED ─(employer) interview─→ INTERVIEW ─(employer) interview again: a new time
    APPLIED | INTERVIEW ─(employer) hire─→ HIRED (+ a Placement; the posting's ``hired`` count)
    INVITED | APPLIED | INTERVIEW ─(either side, or staff) decline─→ DECLINED
    APPLIED | INTERVIEW ─(seeker) withdraw─→ WITHDRAWN

Every step appends an ``ApplicationStep`` (who, which side, from and to, a note) and runs in one
transaction with the application row locked (``select_for_update``); a step the row's state does not
allow — a double submit included — is a 409 naming the state, and nothing changes. ``apply`` and
``invite`` lock the posting (no application slips past a posting being closed or filled); ``hire``
locks the posting to count the hire.

Who: the seeker's own account applies, accepts and withdraws (``SEEK`` on the seeker *and*
``is_seeker``: a superuser is not the seeker); the kiosk applies with no account, after
``services.kiosk`` proved the person by ID number and SMS code (``channel="kiosk"``); staff with
``jobs`` at the seeker's place apply on a seeker's behalf at the desk (``channel="desk"``). The
employer's members (``may_hire_for``) invite, arrange interviews and hire. Declining is open to both
sides and to the employment service.

The seeker's phone reaches the employer only after the seeker applied or accepted an invitation
(``contact_released_at``) and while the application is alive; each full read is logged
(``contact`` → ``accounts.services.reveal_contact``).

Each step tells the other side after the commit (``linli.notify``; docs/notifications.md "Kinds and
who is told"): the employer's members of a new application or an accepted invitation (``job_applied``), of a
withdrawal or a seeker's refusal (``job_status``); the seeker's account of an invitation
(``job_invited``), an interview (``job_interview``), a hire or a refusal (``job_status``), and of an
application the service desk made for them. Nobody is told of their own step. A seeker without an
account (registered at the kiosk or the desk) has no inbox: nothing is sent to them. The texts name
the seeker masked (``王**``), never a phone or ID number; free text is masked (``mask_text``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone

from linli.accounts import services as accounts_services
from linli.accounts.permissions import authorize
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.masking import mask_name, mask_text
from linli.core.types import User
from linli.jobs import permissions
from linli.jobs.models import Application, ApplicationStep, EmployerMember, Placement, Posting, Seeker, Skill
from linli.jobs.queries import applications as q
from linli.jobs.services import postings as jobs_postings
from linli.notify import rules as notify_rules
from linli.notify import services as notify_services

Status = Application.Status
Kind = ApplicationStep.Kind

#: The fixed purpose of an employer's read of an applicant's phone (kept with each AccessLog row).
CONTACT_REASON = "联系应聘者 / contacting an applicant"
#: A message to the employer, a note on a step: at most this long (the model's columns).
MAX_MESSAGE = 500
MAX_NOTE = 500
#: The CV's free lines (a few lines about oneself): at most this many characters and lines.
MAX_CV_TEXT = 1000
MAX_CV_LINES = 12
#: At most this many skills on a CV.
MAX_CV_SKILLS = 20
#: Steps from which each move is allowed.
ACCEPTS = frozenset({Status.INVITED})
INTERVIEWS = frozenset({Status.APPLIED, Status.INTERVIEW})
HIRES = frozenset({Status.APPLIED, Status.INTERVIEW})
DECLINES = frozenset({Status.INVITED, Status.APPLIED, Status.INTERVIEW})
WITHDRAWS = frozenset({Status.APPLIED, Status.INTERVIEW})
#: Where the employer may still call the seeker (released and alive, or hired).
CONTACTABLE = frozenset({Status.APPLIED, Status.INTERVIEW, Status.HIRED})
#: An interview is arranged at most this far ahead; a start date at most this far ahead.
INTERVIEW_AHEAD = timedelta(days=180)
START_AHEAD = timedelta(days=366)


class Move(NamedTuple):
    """A step on an existing application: the states it is taken from, the state it leads to, and
    its name in the refusal of a wrong state ("不能{zh}" / "cannot be {en}")."""

    allowed: frozenset[str]
    to: str
    zh: str
    en: str


MOVES: dict[str, Move] = {
    Kind.ACCEPT: Move(ACCEPTS, Status.APPLIED, "接受邀请", "accepted"),
    Kind.INTERVIEW: Move(INTERVIEWS, Status.INTERVIEW, "安排面试", "given an interview"),
    Kind.HIRE: Move(HIRES, Status.HIRED, "录用", "hired"),
    Kind.DECLINE: Move(DECLINES, Status.DECLINED, "谢绝", "declined"),
    Kind.WITHDRAW: Move(WITHDRAWS, Status.WITHDRAWN, "撤回", "withdrawn"),
}

_STATUS_ZH = {
    Status.INVITED: "已邀请",
    Status.APPLIED: "已申请",
    Status.INTERVIEW: "面试中",
    Status.HIRED: "已录用",
    Status.DECLINED: "未录用/已谢绝",
    Status.WITHDRAWN: "已撤回",
}
_STATUS_EN = {
    Status.INVITED: "invited",
    Status.APPLIED: "applied",
    Status.INTERVIEW: "interview",
    Status.HIRED: "hired",
    Status.DECLINED: "declined",
    Status.WITHDRAWN: "withdrawn",
}


# --- shared pieces ---------------------------------------------------------------------------------


def _wrong_state(app: Application, zh_step: str, en_step: str) -> LinliError:
    status = Status(app.status)
    return LinliError.one(
        "wrong_state",
        f"申请 {app.number} 当前状态为“{_STATUS_ZH[status]}”,不能{zh_step}。",
        f"Application {app.number} is {_STATUS_EN[status]}: it cannot be {en_step}.",
        status=409,
    )


def _is_live(posting: Posting) -> bool:
    return q.is_live(posting)


def _live(app: Application) -> None:
    """The application's posting takes applications (else the 409 ``posting_not_live``)."""
    if not _is_live(app.posting):
        raise _not_live(app.posting)


def _not_live(posting: Posting) -> LinliError:
    return LinliError.one(
        "posting_not_live",
        f"岗位“{posting.title}”已截止或暂停招聘,不能再申请。",
        f"The job “{posting.title}” is closed or no longer taking applications.",
        status=409,
    )


def _locked_posting(posting: Posting) -> Posting:
    return Posting.objects.select_for_update().select_related("employer").get(pk=posting.pk)


def _locked(app: Application) -> Application:
    """The application row, locked for the step (and its posting and seeker for the checks)."""
    locked = Application.objects.select_for_update().get(pk=app.pk)
    locked.posting = Posting.objects.select_related("employer").get(pk=locked.posting_id)
    locked.seeker = Seeker.objects.get(pk=locked.seeker_id)
    return locked


def _record(
    app: Application, kind: str, before: str, actor: User | None, side: str, note: str = "", at: datetime | None = None
) -> ApplicationStep:
    """Append the ``ApplicationStep`` of a step (``app`` already in its new state)."""
    return ApplicationStep.objects.create(
        application=app,
        kind=kind,
        from_status=before,
        to_status=app.status,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        side=side,
        note=note[:MAX_NOTE],
        at=at or clock.now(),
    )


def _step(
    app: Application,
    kind: str,
    actor: User | None,
    side: str,
    *,
    note: str | Callable[[], str] = "",
    check: Callable[[Application], None] | None = None,
    fields: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    locked: bool = False,
) -> ApplicationStep:
    """The step ``kind`` (``MOVES``) on an existing application, in the caller's transaction: its row
    locked (``_locked``; ``locked=True`` when the caller holds it already), a 409 ``wrong_state`` when
    its state does not allow the step, the step's own checks on the locked row (``check``: it may
    raise, and may put locked rows of the posting or the seeker on the application), then the move
    with ``fields``, saved, and its ``ApplicationStep`` appended (``note``, or a function giving it
    once the checks passed). Returns the step: ``step.application`` is the locked application in its
    new state, ``step.from_status`` the state before."""
    move = MOVES[kind]
    if not locked:
        app = _locked(app)
    if app.status not in move.allowed:
        raise _wrong_state(app, move.zh, move.en)
    if check is not None:
        check(app)
    before, now = app.status, now or clock.now()
    changed = dict(fields or {})
    for name, value in changed.items():
        setattr(app, name, value)
    app.status = move.to
    app.updated_at = now
    app.save(update_fields=["status", "updated_at", *changed])
    return _record(app, kind, before, actor, side, note() if callable(note) else note, now)


def _text(value: object, limit: int, zh: str, en: str, code: str) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise LinliError.one(code, f"{zh}最多 {limit} 字。", f"{en} is at most {limit} characters.")
    return text


def _seeker_may(actor: User, seeker: Seeker) -> None:
    """The seeker's own account (a superuser who is not the seeker may not act for them)."""
    authorize(actor, permissions.SEEK, seeker)
    if not permissions.is_seeker(actor, seeker):
        raise PermissionDenied("only the seeker takes this step")


def _employer_may(actor: User, posting: Posting) -> None:
    """A member of the posting's employer (staff and superusers who are not members may not)."""
    authorize(actor, permissions.HIRE, posting)
    if not permissions.may_hire_for(actor, posting):
        raise PermissionDenied("only the employer's members take this step")


# --- who is told -----------------------------------------------------------------------------------------


def _employer_side(app: Application) -> list[int]:
    """The accounts acting for the posting's employer."""
    return list(EmployerMember.objects.filter(employer_id=app.posting.employer_id).values_list("user_id", flat=True))


def _seeker_side(app: Application) -> list[int]:
    """The seeker's own account; none for a seeker registered at the kiosk or the desk."""
    return [app.seeker.user_id] if app.seeker.user_id else []


def _job(app: Application) -> tuple[str, str]:
    """“数控车工”(重庆精工机床有限公司) in Chinese and English."""
    posting = app.posting
    return f"“{posting.title}”({posting.employer.name})", f"“{posting.title}” ({posting.employer.name})"


def _who(app: Application) -> str:
    """The seeker as the employer's notifications name them: masked (王**), with the number."""
    return f"{mask_name(app.seeker.name)} · {app.number}"


def _tell(
    kind: str,
    recipients: list[int],
    actor: User | None,
    app: Application,
    zh: str,
    en: str,
    body_zh: str = "",
    body_en: str = "",
) -> None:
    """Tell ``recipients`` (never ``actor``) about ``app`` once the step commits."""
    ids = [uid for uid in recipients if actor is None or uid != actor.pk]
    notify_services.notify(
        kind,
        ids,
        title_zh=zh,
        title_en=en,
        body_zh=mask_text(body_zh),
        body_en=mask_text(body_en),
        url=reverse("jobs:application_detail", args=[app.pk]),
        ref=f"application:{app.pk}",
    )


def _said(text: str, zh: str, en: str) -> tuple[str, str]:
    """A note or message quoted in a body (“留言:…”), or nothing."""
    text = text.strip()
    return (f"{zh}:{text}", f"{en}: {text}") if text else ("", "")


# --- the number on the slip ---------------------------------------------------------------------------


def number_prefix(day: date) -> str:
    return f"JY{day:%Y%m%d}-"


def next_number(day: date | None = None) -> str:
    """The next free number of ``day`` (today): ``JY20261201-0042`` — the day's sequence, four digits
    (a fifth after 9,999). Taken at insert: two transactions that read the same last number collide
    on the unique column and the loser takes the next one (``_insert``)."""
    prefix = number_prefix(day or clock.today())
    last = (
        Application.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:04d}"


def _already(app: Application) -> LinliError:
    status = Status(app.status)
    return LinliError.one(
        "already_applied",
        f"该求职者已有这个岗位的申请(编号 {app.number},{_STATUS_ZH[status]}),不能重复申请。",
        f"There is already an application for this job (number {app.number}, {_STATUS_EN[status]}).",
        status=409,
    )


def _insert(app: Application) -> Application:
    """Insert ``app`` with the next number of the day: on a clash of numbers, take the next; on a
    clash of (posting, seeker) — a racing double submit — the 409 of ``_already``."""
    for _attempt in range(20):
        app.number = next_number()
        try:
            with transaction.atomic():  # a savepoint: the failed insert alone is undone
                app.save(force_insert=True)
            return app
        except IntegrityError:
            app.pk = None
            existing = Application.objects.filter(posting_id=app.posting_id, seeker_id=app.seeker_id).first()
            if existing is not None:
                raise _already(existing) from None
    raise LinliError.one(
        "busy", "系统繁忙,请稍后再试。", "The system is busy; please try again in a moment.", status=503
    )


# --- the CV ---------------------------------------------------------------------------------------------


def build_cv(seeker: Seeker, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The CV sent with an application: the seeker's profile (skills with their names, years of
    experience, education, wanted hours and wage, a few lines), with what ``given`` says instead
    (the kiosk's taps, the apply form's lines). ``given`` keys: ``skills`` (codes), ``experience_years``,
    ``education``, ``hours``, ``text``. Unknown skill codes, a negative or absurd number: a 400."""
    given = dict(given or {})
    codes: list[str]
    if given.get("skills") is not None:
        raw = given["skills"]
        if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
            raise LinliError.one("bad_cv", "简历中的技能应为技能代码列表。", "The CV's skills must be a list of codes.")
        codes = list(dict.fromkeys(str(c).strip() for c in raw if str(c).strip()))
        if len(codes) > MAX_CV_SKILLS:
            raise LinliError.one(
                "bad_cv", f"简历最多列 {MAX_CV_SKILLS} 项技能。", f"A CV lists at most {MAX_CV_SKILLS} skills."
            )
        skills = list(Skill.objects.filter(code__in=codes, active=True).select_related("category"))
        unknown = sorted(set(codes) - {s.code for s in skills})
        if unknown:
            raise LinliError.one(
                "unknown_skill",
                f"未知的技能代码:{'、'.join(unknown[:5])}",
                f"Unknown skill codes: {', '.join(unknown[:5])}",
            )
    else:
        skills = list(seeker.skills.filter(active=True).select_related("category")) if seeker.pk else []
    skills.sort(key=lambda s: s.code)

    def number(key: str, default: int | None, hi: int, zh: str, en: str) -> int | None:
        if given.get(key) in (None, ""):
            return default
        try:
            value = int(str(given[key]).strip())
        except ValueError:
            value = -1
        if not 0 <= value <= hi:
            raise LinliError.one("bad_cv", f"{zh}应为 0 到 {hi} 之间的整数。", f"{en} must be a whole number 0–{hi}.")
        return value

    years = number("experience_years", seeker.experience_years or 0, 60, "工作年限", "Years of experience")
    hours = number("hours", seeker.hours, 84, "每周工作小时数", "Hours a week")
    education = str(given.get("education") if given.get("education") is not None else seeker.education or "")
    if education and education not in Seeker.Education.values:
        raise LinliError.one("bad_cv", "未知的学历。", "Unknown level of education.")
    text = given.get("text")
    text = seeker.experience if text is None else str(text)
    lines = [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]
    text = "\n".join(lines)
    if len(text) > MAX_CV_TEXT or len(lines) > MAX_CV_LINES:
        if given.get("text") is not None:
            raise LinliError.one(
                "bad_cv",
                f"自我介绍最多 {MAX_CV_LINES} 行、{MAX_CV_TEXT} 字。",
                f"The few lines about yourself are at most {MAX_CV_LINES} lines and {MAX_CV_TEXT} characters.",
            )
        text = "\n".join(lines[:MAX_CV_LINES])[:MAX_CV_TEXT]  # a long profile: its beginning
    return {
        "name": seeker.name,
        "skills": [{"code": s.code, "name": s.name, "name_en": s.name_en} for s in skills],
        "experience_years": years,
        "education": education,
        "hours": hours,
        "wage_min": seeker.wage_min,
        "wage_max": seeker.wage_max,
        "text": text,
    }


# --- the seeker's side ------------------------------------------------------------------------------


@transaction.atomic
def apply(
    actor: User | None,
    seeker: Seeker,
    posting: Posting,
    *,
    cv: Mapping[str, Any] | None = None,
    message: str = "",
    channel: str = "online",
) -> Application:
    """The seeker applies for ``posting`` (or, at the desk, staff for them; at the kiosk, nobody
    signed in). Releases the seeker's contact to the employer. An invitation to this posting is
    accepted instead. Refused: a posting that is not live (409), a second application (409 with the
    first one's number), a bad CV or message (400)."""
    if channel not in Application.Channel.values:
        raise LinliError.one("bad_channel", "未知的申请渠道。", "Unknown channel.")
    if actor is None:
        if channel != Application.Channel.KIOSK:
            raise PermissionDenied("only the kiosk applies without an account")
        side = "seeker"
    elif channel == Application.Channel.KIOSK:
        raise PermissionDenied("the kiosk applies without an account")
    elif channel == Application.Channel.DESK:
        authorize(actor, permissions.SERVE, seeker)
        side = "staff"
    else:
        _seeker_may(actor, seeker)
        side = "seeker"
    message = _text(message, MAX_MESSAGE, "给用人单位的留言", "The message to the employer", "message_too_long")
    snapshot = build_cv(seeker, cv)
    locked = _locked_posting(posting)
    existing = Application.objects.select_for_update().filter(posting=locked, seeker=seeker).first()
    if existing is not None and existing.status == Status.INVITED:
        existing.posting, existing.seeker = locked, seeker
        return _accept(existing, actor, side, snapshot, message, channel)
    if existing is not None:
        raise _already(existing)
    if not _is_live(locked):
        raise _not_live(locked)
    now = clock.now()
    app = _insert(
        Application(
            posting=locked,
            seeker=seeker,
            status=Status.APPLIED,
            channel=channel,
            invited=False,
            cv=snapshot,
            message=message,
            contact_released_at=now,
            path=locked.path,
            created_at=now,
            updated_at=now,
        )
    )
    _record(app, Kind.APPLY, "", actor, side, message, now)
    zh_job, en_job = _job(app)
    vias: dict[str, tuple[str, str]] = {
        Application.Channel.KIOSK.value: ("通过就业服务自助机提交。", "Sent from a job kiosk."),
        Application.Channel.DESK.value: (
            "由街道就业服务窗口代为提交。",
            "Sent by the street's employment service desk.",
        ),
    }
    via_zh, via_en = vias.get(channel, ("", ""))
    said_zh, said_en = _said(message, "留言", "Message")
    _tell(
        notify_rules.JOB_APPLIED,
        _employer_side(app),
        actor,
        app,
        f"新的求职申请:{locked.title}({_who(app)})",
        f"New application for “{locked.title}” ({_who(app)})",
        " ".join(filter(None, [via_zh, said_zh])),
        " ".join(filter(None, [via_en, said_en])),
    )
    if side == "staff":
        _tell(
            notify_rules.JOB_STATUS,
            _seeker_side(app),
            actor,
            app,
            f"街道就业服务窗口已为你申请{zh_job},申请编号 {app.number}",
            f"The employment service desk applied for {en_job} for you: application {app.number}",
        )
    return app


def _accept(
    app: Application, actor: User | None, side: str, cv: dict[str, Any], message: str, channel: str | None = None
) -> Application:
    """The invitation ``app`` (locked by the caller, with its posting) accepted: APPLIED with the CV,
    the contact released."""
    now = clock.now()
    fields: dict[str, Any] = {"cv": cv, "message": message or app.message, "contact_released_at": now}
    if channel:
        fields["channel"] = channel
    app = _step(
        app, Kind.ACCEPT, actor, side, note=message, check=_live, fields=fields, now=now, locked=True
    ).application
    said_zh, said_en = _said(message, "留言", "Message")
    _tell(
        notify_rules.JOB_APPLIED,
        _employer_side(app),
        actor,
        app,
        f"{_who(app)} 接受了邀请,申请“{app.posting.title}”",
        f"{_who(app)} accepted your invitation to apply for “{app.posting.title}”",
        said_zh,
        said_en,
    )
    if side == "staff":
        zh_job, en_job = _job(app)
        _tell(
            notify_rules.JOB_STATUS,
            _seeker_side(app),
            actor,
            app,
            f"街道就业服务窗口已为你接受邀请,申请{zh_job},申请编号 {app.number}",
            f"The employment service desk accepted the invitation to {en_job} for you: application {app.number}",
        )
    return app


@transaction.atomic
def accept(actor: User, app: Application, *, cv: Mapping[str, Any] | None = None, message: str = "") -> Application:
    """The seeker accepts an employer's invitation: the application becomes APPLIED with the CV, and
    the contact is released to the employer."""
    _seeker_may(actor, app.seeker)
    message = _text(message, MAX_MESSAGE, "给用人单位的留言", "The message to the employer", "message_too_long")
    app = _locked(app)
    snapshot = build_cv(app.seeker, cv)
    _locked_posting(app.posting)
    return _accept(app, actor, "seeker", snapshot, message)


@transaction.atomic
def withdraw(actor: User, app: Application, note: str = "") -> Application:
    """The seeker withdraws an application (applied or at interview); the employer no longer sees
    the phone."""
    _seeker_may(actor, app.seeker)
    note = _text(note, MAX_NOTE, "说明", "The note", "note_too_long")
    app = _step(app, Kind.WITHDRAW, actor, "seeker", note=note).application
    said_zh, said_en = _said(note, "说明", "Note")
    _tell(
        notify_rules.JOB_STATUS,
        _employer_side(app),
        actor,
        app,
        f"{_who(app)} 撤回了对“{app.posting.title}”的申请",
        f"{_who(app)} withdrew the application for “{app.posting.title}”",
        said_zh,
        said_en,
    )
    return app


# --- the employer's side ---------------------------------------------------------------------------


@transaction.atomic
def invite(actor: User, posting: Posting, seeker: Seeker, message: str = "") -> Application:
    """A member of the posting's employer invites a seeker found in the talent search. Only a
    discoverable seeker who is looking for work can be invited — anyone else is "not found" (404),
    so hidden seekers are never revealed. No contact is released until the seeker accepts."""
    _employer_may(actor, posting)
    message = _text(message, MAX_MESSAGE, "邀请留言", "The invitation's message", "message_too_long")
    found = (
        Seeker.objects.select_for_update().filter(pk=seeker.pk, discoverable=True, status=Seeker.Status.SEEKING).first()
    )
    if found is None:
        raise LinliError.one("seeker_not_found", "未找到该求职者。", "No such job seeker.", status=404)
    locked = _locked_posting(posting)
    existing = Application.objects.filter(posting=locked, seeker=found).first()
    if existing is not None:
        status = Status(existing.status)
        raise LinliError.one(
            "already_applied",
            f"该求职者已有这个岗位的申请或邀请(编号 {existing.number},{_STATUS_ZH[status]})。",
            f"This seeker already has an application or invitation for this job "
            f"(number {existing.number}, {_STATUS_EN[status]}).",
            status=409,
        )
    if not _is_live(locked):
        raise _not_live(locked)
    now = clock.now()
    app = _insert(
        Application(
            posting=locked,
            seeker=found,
            status=Status.INVITED,
            channel=Application.Channel.ONLINE,
            invited=True,
            cv={},
            message=message,
            path=locked.path,
            created_at=now,
            updated_at=now,
        )
    )
    _record(app, Kind.INVITE, "", actor, "employer", message, now)
    said_zh, said_en = _said(message, "留言", "Message")
    _tell(
        notify_rules.JOB_INVITED,
        _seeker_side(app),
        actor,
        app,
        f"{locked.employer.name} 邀请你应聘“{locked.title}”",
        f"{locked.employer.name} invites you to apply for “{locked.title}”",
        f"月薪 {locked.wage_min}–{locked.wage_max} 元,每周 {locked.hours} 小时,工作地点:{locked.address}。"
        + (f" {said_zh}" if said_zh else ""),
        f"{locked.wage_min}–{locked.wage_max} yuan a month, {locked.hours} hours a week, at {locked.address}."
        + (f" {said_en}" if said_en else ""),
    )
    return app


@transaction.atomic
def interview(actor: User, app: Application, at: datetime, note: str = "") -> Application:
    """The employer arranges an interview at ``at`` (an applied application), or moves it to another
    time (at interview). The same time again — a double submit — is a 409. ``at`` in the past or more
    than half a year ahead: a 400."""
    _employer_may(actor, app.posting)
    note = _text(note, MAX_NOTE, "面试说明", "The interview note", "note_too_long")
    if not isinstance(at, datetime):
        raise LinliError.one("bad_time", "请填写面试时间。", "Give the interview's date and time.")
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.get_default_timezone())
    now = clock.now()
    if at < now - timedelta(minutes=5):
        raise LinliError.one("time_past", "面试时间不能早于现在。", "The interview cannot be in the past.")
    if at > now + INTERVIEW_AHEAD:
        raise LinliError.one(
            "time_far", "面试时间最多安排在半年以内。", "An interview is arranged at most half a year ahead."
        )
    local = timezone.localtime(at)

    def not_again(locked: Application) -> None:
        if locked.status == Status.INTERVIEW and locked.interview_at == at:
            raise LinliError.one(
                "already_arranged",
                f"申请 {locked.number} 的面试已安排在 {local:%Y-%m-%d %H:%M}。",
                f"The interview of application {locked.number} is already set for {local:%Y-%m-%d %H:%M}.",
                status=409,
            )

    step = _step(
        app,
        Kind.INTERVIEW,
        actor,
        "employer",
        note=f"{local:%Y-%m-%d %H:%M}" + (f" · {note}" if note else ""),
        check=not_again,
        fields={"interview_at": at},
    )
    app, moved = step.application, step.from_status == Status.INTERVIEW
    posting = app.posting
    said_zh, said_en = _said(note, "说明", "Note")
    _tell(
        notify_rules.JOB_INTERVIEW,
        _seeker_side(app),
        actor,
        app,
        f"{'面试时间改为' if moved else '面试通知:'}{local:%Y-%m-%d %H:%M},{posting.employer.name}“{posting.title}”",
        f"{'Interview moved to' if moved else 'Interview on'} {local:%Y-%m-%d %H:%M}: "
        f"{posting.employer.name}, “{posting.title}”",
        f"地点:{posting.address}。" + (f" {said_zh}" if said_zh else ""),
        f"At {posting.address}." + (f" {said_en}" if said_en else ""),
    )
    return app


@transaction.atomic
def hire(actor: User, app: Application, started_on: date | None = None, note: str = "") -> Placement:
    """The employer hires the seeker (applied or after the interview): a ``Placement`` with the
    seeker's flags (registered unemployed, hard to employ) as they are now and the seeker's path, which
    the employment targets count by ``started_on``; the posting counts the hire (filled when all its
    places are taken); the seeker is employed. A posting whose places are all taken: a 409."""
    _employer_may(actor, app.posting)
    note = _text(note, MAX_NOTE, "说明", "The note", "note_too_long")
    today = clock.today()
    started_on = started_on or today

    def may_start(locked: Application) -> None:
        """The start date, then a place left on the posting (locked) and the seeker (locked)."""
        if not isinstance(started_on, date) or isinstance(started_on, datetime):
            raise LinliError.one("bad_date", "请填写到岗日期。", "Give the start date.")
        applied_on = timezone.localdate(locked.created_at)
        if started_on < applied_on:
            raise LinliError.one(
                "start_before_application",
                f"到岗日期不能早于申请日期({applied_on:%Y-%m-%d})。",
                f"The start date cannot be before the application ({applied_on:%Y-%m-%d}).",
            )
        if started_on > today + START_AHEAD:
            raise LinliError.one("start_far", "到岗日期最多在一年以内。", "The start date is at most a year ahead.")
        locked.posting = posting = _locked_posting(locked.posting)
        if posting.hired >= posting.headcount:
            raise LinliError.one(
                "posting_filled",
                f"岗位“{posting.title}”的 {posting.headcount} 个名额已招满;如需多招,请先增加招聘人数。",
                f"All {posting.headcount} places of “{posting.title}” are filled; raise the headcount to hire more.",
                status=409,
            )
        locked.seeker = Seeker.objects.select_for_update().get(pk=locked.seeker_id)

    app = _step(
        app,
        Kind.HIRE,
        actor,
        "employer",
        note=lambda: f"{started_on:%Y-%m-%d}" + (f" · {note}" if note else ""),
        check=may_start,
    ).application
    posting, seeker = app.posting, app.seeker
    placement = Placement.objects.create(
        application=app,
        seeker=seeker,
        employer_id=posting.employer_id,
        started_on=started_on,
        path=seeker.path,
        registered_unemployed=seeker.registered_unemployed,
        hard_to_employ=seeker.hard_to_employ,
        source=Placement.Source.PLATFORM,
        created_by_id=actor.pk,
        created_at=clock.now(),
    )
    _count_hire(posting)
    if seeker.status != Seeker.Status.EMPLOYED:
        Seeker.objects.filter(pk=seeker.pk).update(status=Seeker.Status.EMPLOYED, updated_at=clock.now())
    zh_job, en_job = _job(app)
    said_zh, said_en = _said(note, "说明", "Note")
    _tell(
        notify_rules.JOB_STATUS,
        _seeker_side(app),
        actor,
        app,
        f"恭喜,你已被录用:{zh_job},{started_on:%Y-%m-%d} 到岗",
        f"You are hired: {en_job}, starting {started_on:%Y-%m-%d}",
        said_zh,
        said_en,
    )
    return placement


def _count_hire(posting: Posting) -> None:
    """One more hire on ``posting`` (locked by the caller): ``hired`` + 1, FILLED at the headcount."""
    jobs_postings.record_hire(posting)


# --- either side ---------------------------------------------------------------------------------------


@transaction.atomic
def decline(actor: User, app: Application, note: str = "") -> Application:
    """Decline: the seeker turns down an invitation, the employer turns down an applicant, or the
    employment service closes the application (with a note). The employer then no longer sees the phone."""
    authorize(actor, permissions.SEE, app)
    side = permissions.side_of(actor, app)
    if side is None:
        raise PermissionDenied("neither side of this application")
    if side == "employer" and not permissions.may_hire_for(actor, app.posting):
        raise PermissionDenied("the employer's member may not hire for this posting")
    note = _text(note, MAX_NOTE, "说明", "The note", "note_too_long")
    step = _step(app, Kind.DECLINE, actor, side, note=note)
    app, invitation = step.application, step.from_status == Status.INVITED
    _tell_declined(app, actor, side, invitation, note)
    return app


def _tell_declined(app: Application, actor: User, side: str, invitation: bool, note: str) -> None:
    """The other side of a refusal (the employment service's closing: both sides)."""
    title = app.posting.title
    zh_job, en_job = _job(app)
    said_zh, said_en = _said(note, "说明", "Note")
    if side == "seeker":
        zh = f"{_who(app)} 谢绝了对“{title}”的邀请" if invitation else f"{_who(app)} 放弃了“{title}”的申请"
        en = (
            f"{_who(app)} declined your invitation for “{title}”"
            if invitation
            else f"{_who(app)} gave up the application for “{title}”"
        )
        _tell(notify_rules.JOB_STATUS, _employer_side(app), actor, app, zh, en, said_zh, said_en)
    elif side == "employer":
        zh = f"{zh_job}撤回了邀请" if invitation else f"很遗憾,{zh_job}这次未能录用你"
        en = f"{en_job}: the invitation was withdrawn" if invitation else f"{en_job}: not this time, sorry"
        _tell(notify_rules.JOB_STATUS, _seeker_side(app), actor, app, zh, en, said_zh, said_en)
    else:
        _tell(
            notify_rules.JOB_STATUS,
            _seeker_side(app),
            actor,
            app,
            f"街道就业服务关闭了你对{zh_job}的申请",
            f"The employment service closed your application for {en_job}",
            said_zh,
            said_en,
        )
        _tell(
            notify_rules.JOB_STATUS,
            _employer_side(app),
            actor,
            app,
            f"街道就业服务关闭了申请 {_who(app)}(“{title}”)",
            f"The employment service closed application {_who(app)} (“{title}”)",
            said_zh,
            said_en,
        )


# --- the employer reads the applicant's phone -------------------------------------------------------------


def contact(actor: User, app: Application) -> dict[str, str] | None:
    """The seeker's name and full phone for a member of the posting's employer, once the seeker
    applied or accepted (``contact_released_at``) and while the application is alive or hired; each
    read writes an ``AccessLog`` row (reveal_phone, ``jobs.application`` and its id, the seeker's
    path, ``CONTACT_REASON``). None otherwise: the page shows the masked phone."""
    if not getattr(actor, "is_authenticated", False) or not permissions.may_hire_for(actor, app.posting):
        return None
    if app.contact_released_at is None or app.status not in CONTACTABLE:
        return None
    seeker = app.seeker
    full = accounts_services.reveal_contact(
        actor,
        permissions.SEE,
        app,
        phone_enc=seeker.phone_enc,
        email_enc="",
        object_type="jobs.application",
        path=seeker.path,
        reason=CONTACT_REASON,
    )
    if full is None:
        return None
    return {"phone": full["phone"], "name": seeker.name}
