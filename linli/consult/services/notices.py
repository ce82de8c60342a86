"""Public notices 公示 and the objections raised against them (rules.md §2).

A plan or result notice is posted for a period, by default ``LINLI_NOTICE_DAYS`` = 15 days (Jinan's
rule for lift projects; other cities 7–15: *unverified for Chongqing*, hence configurable per
deployment and per notice). The period counts calendar days including the posting day: a 15-day
notice posted on 1 June runs to 15 June inclusive (China Standard Time, settings.TIME_ZONE).

What was published stays published (issue 8): publishing takes a snapshot of everything the
notice shows (``Notice.snapshot``, see ``linli.consult.snapshots``); pages and the PDF render
from it. Nothing changes a published notice: a later correction is appended with its date and
reason (``correct_notice``) and shown under the notice and in the PDF.

Anyone may raise an objection while the period runs (the public project page has the form). An
objection goes to negotiation, then mediation by the residents' committee or the street, then it
is closed with a response (the court is outside Linli: the response says so when it comes to
that). The contact is kept encrypted (linli.core.crypto) and shown masked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import OwnerAccount, RoleGrant
from linli.accounts.models import User as Account
from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.consult import pdf
from linli.consult.models import Ballot, Notice, NoticeCorrection, Objection, ObjectionChange
from linli.consult.queries.notices import corrections, ends_on, is_running, shown
from linli.core import clock, crypto, ratelimit
from linli.core.errors import LinliError, Problem
from linli.core.masking import mask_phone
from linli.core.types import User
from linli.notify import services as notify_services
from linli.places.models import Dwelling
from linli.renewal.models import Project

MAX_DAYS = 90
MAX_TITLE = 200
MAX_BODY = 20_000
MAX_OBJECTION = 2_000
MAX_NAME = 100
MAX_CONTACT = 40
MAX_DWELLING = 100
MAX_RESPONSE = 2_000
MAX_CORRECTION = 2_000
MIN_CORRECTION_REASON = 5
# Kinds staff choose on the form and the API; a withdrawal notice is published by withdraw_ballot.
STAFF_KINDS = (Notice.Kind.PLAN, Notice.Kind.RESULT)

# Objection flow: negotiation → mediation → closed (then court, outside Linli). Forward only.
FLOW = (
    Objection.Status.RECEIVED,
    Objection.Status.NEGOTIATING,
    Objection.Status.MEDIATION,
    Objection.Status.CLOSED,
)


def default_days() -> int:
    return int(getattr(settings, "LINLI_NOTICE_DAYS", 15))


def objection_rate() -> int:
    """Objections one address may send per notice per hour (public form, no sign-in)."""
    return int(getattr(settings, "LINLI_OBJECTION_RATE_PER_HOUR", 5))


def today() -> date:
    return clock.today()


def check_notice(
    project: Project,
    *,
    kind: str,
    title: str,
    body: str,
    starts_on: date | None = None,
    days: int | None = None,
    ballot: Ballot | None = None,
) -> list[Problem]:
    """Every problem with a notice before it is published (nothing is written): the confirmation
    page asks only about a notice that would be published."""
    problems: list[Problem] = []
    title = (title or "").strip()
    body = (body or "").strip()
    if kind not in {k.value for k in Notice.Kind}:
        problems.append(
            Problem("bad_kind", "公示类型须为方案公示或结果公示。", "Kind must be a plan or a result notice.")
        )
    if not title or len(title) > MAX_TITLE:
        problems.append(Problem("bad_title", "标题须为 1–200 个字符。", "The title must be 1–200 characters."))
    if not body or len(body) > MAX_BODY:
        problems.append(
            Problem("bad_body", "正文不能为空,且不超过 20000 字。", "The text must be 1–20,000 characters.")
        )
    period = default_days() if days is None else days
    if not isinstance(period, int) or not 1 <= period <= MAX_DAYS:
        problems.append(Problem("bad_days", f"公示期须为 1–{MAX_DAYS} 天。", f"The period must be 1–{MAX_DAYS} days."))
    start = starts_on or today()
    if start < today():
        problems.append(Problem("starts_in_past", "公示不能从过去的日期开始。", "A notice cannot start in the past."))
    if ballot is not None and ballot.project_id != project.pk:
        problems.append(
            Problem("ballot_not_in_project", "所选表决不属于本项目。", "The ballot is not of this project.")
        )
    elif ballot is not None and kind == Notice.Kind.RESULT and ballot.status != Ballot.Status.CLOSED:
        problems.append(
            Problem(
                "ballot_not_counted",
                "结果公示只能关联已计票结束的表决(撤回的表决不作决定,没有结果)。",
                "A result notice can only refer to a counted ballot (a withdrawn ballot decides nothing).",
            )
        )
    if kind == Notice.Kind.WITHDRAWAL and (ballot is None or ballot.status != Ballot.Status.WITHDRAWN):
        problems.append(
            Problem(
                "not_withdrawn",
                "撤回公示只在撤回表决时自动发布。",
                "A withdrawal notice is published when a ballot is withdrawn.",
            )
        )
    return problems


def publish_notice(
    user: User,
    project: Project,
    *,
    kind: str,
    title: str,
    body: str,
    starts_on: date | None = None,
    days: int | None = None,
    ballot: Ballot | None = None,
) -> Notice:
    """Post a plan or result notice of a project (CONSULT on the project). The notice's snapshot is
    taken now (``Notice.save``): what it shows will not change afterwards."""
    authorize(user, Action.CONSULT, project)
    assert isinstance(user, Account)  # authorize() lets only a signed-in account through
    problems = check_notice(project, kind=kind, title=title, body=body, starts_on=starts_on, days=days, ballot=ballot)
    if problems:
        raise LinliError(problems)
    with transaction.atomic():
        notice = Notice.objects.create(
            project=project,
            ballot=ballot,
            kind=kind,
            title=title.strip(),
            body=body.strip(),
            starts_on=starts_on or today(),
            days=default_days() if days is None else days,
            published_by=user,
        )
        render_pdf_later(notice.pk)
        notify_services.notify(
            "notice_published",
            people_of(project_dwellings(project)),
            title_zh=f"公示:{notice.title}",
            title_en=f"Notice for your building: {notice.title}",
            url=reverse("consult:notice_public", args=[notice.pk]),
            ref=f"notice:{notice.pk}",
        )
        return notice


def project_dwellings(project: Project) -> QuerySet[Dwelling]:
    """The dwellings of the buildings a project covers (its listed buildings, else its compound's)."""
    listed = project.buildings.all()
    if listed.exists():
        return Dwelling.objects.filter(building__in=listed)
    return Dwelling.objects.filter(building__compound_id=project.compound_id)


def people_of(dwellings: QuerySet[Dwelling]) -> list[int]:
    """The signed-in people of these dwellings, to be told about a notice or a ballot (docs/notifications.md):
    residents (a grant at the dwelling) and owners with a verified voting account."""
    ids = dwellings.values("pk")
    at = RoleGrant.objects.filter(place_kind="dwelling", place_id__in=ids, revoked_at__isnull=True)
    own = OwnerAccount.objects.filter(revoked_at__isnull=True, person__ownerships__dwelling__in=ids)
    return sorted({*at.values_list("user_id", flat=True), *own.values_list("user_id", flat=True)})


def publish_withdrawal(user: User, ballot: Ballot) -> Notice:
    """The public notice of a withdrawn ballot (called by ``ballots.withdraw_ballot`` in its
    transaction): the reason, who withdrew it, when, and that it decides nothing."""
    project = ballot.project
    assert project is not None
    w = (ballot.result or {}).get("withdrawn") or {}
    snap = (ballot.result or {}).get("snapshot") or {}
    when = timezone.localtime(ballot.withdrawn_at or clock.now())
    body = (
        f"{snap.get('scope_label', '')}业主表决「{ballot.title}」"
        f"(表决事项:{snap.get('matter_label', ballot.get_matter_display())})"
        f"于 {when:%Y年%m月%d日 %H:%M} 撤回,不作任何决定。\n"
        f"撤回理由:{ballot.withdrawn_reason}\n"
        f"撤回时已投票 {w.get('voted', 0)}/{w.get('owners', 0)} 位业主;已投的票不予计票。"
        "如需重新表决,将另行公告。"
    )
    return publish_notice(
        user,
        project,
        kind=Notice.Kind.WITHDRAWAL,
        title=f"{ballot.title[:180]}撤回公示",
        body=body,
        ballot=ballot,
    )


def check_correction(text: str, reason: str) -> list[Problem]:
    problems: list[Problem] = []
    text, reason = (text or "").strip(), (reason or "").strip()
    if not text or len(text) > MAX_CORRECTION:
        problems.append(
            Problem(
                "bad_correction",
                f"请填写更正内容(不超过 {MAX_CORRECTION} 字)。",
                f"Enter the correction (at most {MAX_CORRECTION:,} characters).",
            )
        )
    if len(reason) < MIN_CORRECTION_REASON or len(reason) > MAX_CORRECTION:
        problems.append(
            Problem(
                "reason_required",
                f"请写明更正理由(至少 {MIN_CORRECTION_REASON} 个字)。",
                f"Say why it is corrected (at least {MIN_CORRECTION_REASON} characters).",
            )
        )
    return problems


def correct_notice(user: User, notice: Notice, *, text: str, reason: str) -> NoticeCorrection:
    """Append a dated correction to a published notice (CONSULT on the project). The notice and
    its snapshot stay as published; the correction is shown under it and in its PDF."""
    authorize(user, Action.CONSULT, notice.project)
    assert isinstance(user, Account)  # authorize() lets only a signed-in account through
    problems = check_correction(text, reason)
    if problems:
        raise LinliError(problems)
    with transaction.atomic():
        correction = NoticeCorrection.objects.create(notice=notice, text=text.strip(), reason=reason.strip(), by=user)
        render_pdf_later(notice.pk)  # a new version: the notice's text and every correction so far
        return correction


# --- the PDF of each published version, rendered once and kept --------------------------------------
#
# A version is what the PDF prints: the snapshot (its fingerprint), the corrections so far, the
# public address printed for a public project, the layout of pdf.py and the time zone of the dates.
# Its file is LINLI_NOTICE_PDF_DIR/<notice id>/<sha256 of the version>.pdf, written once (temporary
# file, then a link that never replaces a whole file) and never changed: a correction makes a new
# version and a new file; the old one stays. The files are a cache of what the snapshot already
# holds (no backup needed; a lost file is rendered again on the next request).

log = logging.getLogger(__name__)


def render_pdf_later(notice_id: int) -> None:
    """Queue ``consult.tasks.render_notice_pdf`` when the current transaction commits (a worker must
    see the notice and its corrections). A queue that is down costs nothing but time: the page
    renders the PDF itself when no file is there."""
    transaction.on_commit(lambda: _enqueue_pdf(notice_id))


def _enqueue_pdf(notice_id: int) -> None:
    from linli.consult import tasks  # the tasks call this module's stored_pdf(): imported at call time

    try:
        tasks.render_notice_pdf.enqueue(notice_id)
    except Exception:  # the page renders it on demand; a published notice must not fail for this
        log.exception("the PDF of notice %s could not be queued", notice_id)


def site_origin() -> str:
    """The address printed in public notices' PDFs: the first of LINLI_CSRF_TRUSTED_ORIGINS (the
    site's address behind its proxy), else "" (the page then uses the address the reader used)."""
    origins = [o for o in getattr(settings, "CSRF_TRUSTED_ORIGINS", []) if "*" not in o]
    return origins[0].rstrip("/") if origins else ""


def public_url(notice: Notice, origin: str) -> str:
    """The notice's public page (where residents read it and object), printed in the PDF of a public
    project's notice as text and QR code; "" for a private project (its notices have no public page)."""
    if not notice.project.is_public:
        return ""
    return origin + reverse("consult:notice_public", args=[notice.pk])


def pdf_version(notice: Notice, fixes: list[NoticeCorrection], url: str) -> str:
    """The sha256 naming one printed version of a notice (see above)."""
    key = {
        "layout": pdf.LAYOUT,
        "notice": notice.pk,
        "fingerprint": notice.snapshot_sha256,
        "corrections": [[c.pk, c.at.isoformat(), c.text] for c in fixes],
        "url": url,
        "tz": settings.TIME_ZONE,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def pdf_path(notice: Notice, version: str) -> Path:
    return Path(settings.LINLI_NOTICE_PDF_DIR) / str(notice.pk) / f"{version}.pdf"


def stored_pdf(notice: Notice, origin: str) -> bytes:
    """The notice's PDF as published now (snapshot and corrections so far): the kept file of this
    version, or rendered now and kept (the task has not run yet, or the file was lost). No permission
    check: the caller is the page, after its own check, or the task, which serves nobody."""
    fixes = corrections(notice)
    url = public_url(notice, origin)
    path = pdf_path(notice, pdf_version(notice, fixes, url))
    data = _read_pdf(path)
    if data is None:
        data = _store_pdf(path, _render_pdf(notice, fixes, url))
    return data


def keep_pdf(notice_id: int) -> bool:
    """The task's work: keep the PDF of the notice's current version (True when a file is there
    now). A public project's notice waits for its first reader when no address is configured
    (``site_origin``): the address it prints comes from that reader's request."""
    notice = Notice.objects.select_related("project").filter(pk=notice_id).first()
    if notice is None:
        return False
    origin = site_origin()
    if notice.project.is_public and not origin:
        return False
    stored_pdf(notice, origin)
    return True


def _render_pdf(notice: Notice, fixes: list[NoticeCorrection], url: str) -> bytes:
    snap = shown(notice)
    return pdf.notice_pdf(
        title=snap["title"],
        body=snap["body"],
        kind_label=snap["kind_label"],
        compound=snap["place_label"],
        project=snap["project"]["name"],
        issuer=snap["issuer"],
        starts_on=snap["starts_on_date"],
        ends_on=snap["ends_on_date"],
        days=snap["days"],
        ballot=snap.get("ballot"),
        corrections=[(c.at, c.text) for c in fixes],
        fingerprint=notice.snapshot_sha256,
        reconstructed=bool(snap.get("reconstructed")),
        public_url=url,
    )


def _read_pdf(path: Path) -> bytes | None:
    """A kept file, or None when there is none or it is not a whole PDF (a damaged disk)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if data.startswith(b"%PDF-") and b"%%EOF" in data[-64:] else None


def _store_pdf(path: Path, data: bytes) -> bytes:
    """Keep ``data`` as ``path`` (0600, in 0700 folders) and return what is kept: when another
    process kept this version first, its file (every reader gets the same bytes). A disk that
    cannot be written is logged and the rendered bytes are served all the same."""
    try:
        path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # atomic, and never replaces a file already there
            except FileExistsError:
                kept = _read_pdf(path)
                if kept is not None:
                    return kept
                os.replace(tmp, path)  # a damaged file gives way to a whole one
            except OSError:  # a file system without hard links: rename, unless a whole file came first
                if _read_pdf(path) is None:
                    os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except OSError:
        log.exception("the PDF of notice %s could not be kept in %s", path.parent.name, path.parent.parent)
    return data


@dataclass
class ObjectionInput:
    name: str
    contact: str = ""
    dwelling_text: str = ""
    text: str = ""


def _mask_contact(value: str) -> str:
    return mask_phone(value) if len(value) >= 7 else "*" * len(value)


def raise_objection(
    notice: Notice, data: ObjectionInput, *, client_ip: str | None = None, on: date | None = None
) -> Objection:
    """An objection from anyone, without signing in, while the notice's period runs."""
    if not notice.project.is_public:
        raise Http404("no such public notice")
    d = on or today()
    if not is_running(notice, d):
        end = ends_on(notice)
        raise LinliError.one(
            "outside_period",
            f"公示期为 {notice.starts_on:%Y年%m月%d日} 至 {end:%Y年%m月%d日},期外不受理异议。",
            f"The notice period runs {notice.starts_on:%Y-%m-%d} to {end:%Y-%m-%d}; objections are accepted "
            "only within it.",
            409,
        )
    name = (data.name or "").strip()
    contact = (data.contact or "").strip()
    dwelling = (data.dwelling_text or "").strip()
    text = (data.text or "").strip()
    problems: list[Problem] = []
    if not name or len(name) > MAX_NAME:
        problems.append(Problem("bad_name", "请填写姓名(不超过 100 字)。", "Enter your name (at most 100 characters)."))
    if not contact or len(contact) > MAX_CONTACT:
        problems.append(
            Problem("bad_contact", "请填写联系方式(不超过 40 字)。", "Enter how to reach you (at most 40 characters).")
        )
    if len(dwelling) > MAX_DWELLING:
        problems.append(
            Problem("bad_dwelling", "楼栋房号不超过 100 字。", "Building and dwelling: at most 100 characters.")
        )
    if not text or len(text) > MAX_OBJECTION:
        problems.append(
            Problem("bad_text", "请填写异议内容(不超过 2000 字)。", "Enter your objection (at most 2,000 characters).")
        )
    if problems:
        raise LinliError(problems)
    # Counted in the shared store (every process and server), per notice and client address; the
    # address comes from linli.core.net.client_ip (a trusted proxy's X-Forwarded-For only).
    if client_ip and not ratelimit.hit(f"objection:{notice.pk}", client_ip, objection_rate(), 3600).ok:
        raise LinliError.one(
            "too_many_objections",
            "提交过于频繁,请一小时后再试,或到社区当面提出。",
            "Too many objections from this address; try again in an hour, or come to the community office.",
            429,
        )
    with transaction.atomic():
        return Objection.objects.create(
            notice=notice,
            name=name,
            contact_enc=crypto.encrypt(contact),
            contact_masked=_mask_contact(contact),
            dwelling_text=dwelling,
            text=text,
        )


def move_objection(user: User, objection: Objection, to_status: str, response: str = "") -> Objection:
    """Staff (CONSULT) move an objection forward: received → negotiating → mediation → closed.
    Steps may be skipped forward (settled in negotiation → closed); never back; closing needs a
    response. Each step is appended as an ObjectionChange (who, when, what was said); the
    objection's response text also gathers the dated responses for display."""
    authorize(user, Action.CONSULT, objection.notice.project)
    assert isinstance(user, Account)  # authorize() lets only a signed-in account through
    values = [s.value for s in FLOW]
    if to_status not in values:
        raise LinliError.one("bad_status", "状态无效。", "Unknown status.")
    response = (response or "").strip()
    if len(response) > MAX_RESPONSE:
        raise LinliError.one("too_long", "答复不超过 2000 字。", "The response is at most 2,000 characters.")
    with transaction.atomic():
        current = Objection.objects.select_for_update().get(pk=objection.pk)
        here, there = values.index(current.status), values.index(to_status)
        if current.status == Objection.Status.CLOSED:
            raise LinliError.one("closed", "该异议已办结。", "This objection is closed.", 409)
        if there <= here:
            raise LinliError.one(
                "backwards",
                "异议只能向前推进(协商→调解→办结)。",
                "An objection only moves forward (negotiation → mediation → closed).",
                409,
            )
        if to_status == Objection.Status.CLOSED and not response:
            raise LinliError.one("response_required", "办结须填写答复。", "Closing needs a response.")
        if response:
            stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
            label = Objection.Status(to_status).label
            entry = f"[{stamp} · {label}] {response}"
            current.response = f"{current.response}\n{entry}".strip()
        ObjectionChange.objects.create(
            objection=current, from_status=current.status, to_status=to_status, response=response, by=user
        )
        current.status = to_status
        current.save(update_fields=["status", "response"])
    return current


@transaction.atomic
def reveal_contact(user: User, objection: Objection, reason: str, ip: str | None = None) -> str:
    """The full contact of an objector, for staff who must call back (REVEAL where the project is),
    with a reason; the read is logged like any reveal."""
    from linli.accounts.models import AccessLog
    from linli.accounts.services import log_access

    reason = (reason or "").strip()
    if len(reason) < 2:
        raise LinliError.one(
            "reason_required", "查看完整联系方式须填写事由。", "A reason is required to see the full contact."
        )
    authorize(user, Action.REVEAL, objection.notice.project)
    log_access(user, AccessLog.What.REVEAL_PHONE, objection, objection.notice.project.compound.path, reason, ip)
    return crypto.decrypt(objection.contact_enc)
