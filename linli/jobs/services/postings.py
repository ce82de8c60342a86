"""Writes of postings (issue 14 §2): create a draft, update, publish, close, reopen, and count a
hire (``record_hire``, called by ``services.applications.hire`` inside its own transaction).

The employer's members (``hire``) write their postings; the employment service (``jobs``) may close
one (a posting that breaks the rules). Every field is checked here, whoever calls:

* skills: 1–8 active codes of the vocabulary; the category defaults to the first skill's;
* headcount ≥ 1 (and not below the hires already made), wage_min ≤ wage_max, hours 1–84 a week;
* the closing date after today and within a year; the place of work inside the employer's district
  (its street is the one containing it, or the district's nearest).

Publishing needs a verified employer (409 "awaiting verification" otherwise) and an unexpired date.
A posting is FILLED once ``hired`` reaches ``headcount``; raising the headcount opens it again.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction

from linli.accounts.permissions import authorize, can
from linli.core import clock, generations
from linli.core.errors import LinliError
from linli.core.types import User
from linli.jobs.models import Employer, JobCategory, Posting, Skill
from linli.jobs.permissions import HIRE, SERVE
from linli.jobs.queries import employers as jobs_employers
from linli.jobs.services.employers import POSTINGS_GENERATION

MAX_SKILLS = 8
MAX_HOURS = 84
MAX_HEADCOUNT = 9999
MAX_WAGE = 1_000_000
MAX_DAYS_OPEN = 365

FIELDS = (
    "title",
    "description",
    "category",
    "skills",
    "headcount",
    "wage_min",
    "wage_max",
    "hours",
    "address",
    "lat",
    "lon",
    "closes_on",
)


def _int(value: Any, code: str, zh: str, en: str, lo: int, hi: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not lo <= number <= hi:
        raise LinliError.one(code, zh, en)
    return number


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip()[:10])
    except ValueError as exc:
        raise LinliError.one(
            "closes_on_missing", "请填写截止日期(年-月-日)。", "Enter the closing date (year-month-day)."
        ) from exc


def _skills(codes: Any) -> list[Skill]:
    if isinstance(codes, str):
        codes = [c for c in codes.replace(",", " ").split() if c]
    wanted = list(dict.fromkeys(str(c).strip() for c in (codes or []) if str(c).strip()))
    if not wanted:
        raise LinliError.one("skills_missing", "请至少选择一项技能。", "Choose at least one skill.")
    if len(wanted) > MAX_SKILLS:
        raise LinliError.one(
            "too_many_skills",
            f"技能最多选 {MAX_SKILLS} 项,这里选了 {len(wanted)} 项。",
            f"Choose at most {MAX_SKILLS} skills; {len(wanted)} were chosen.",
        )
    found = {s.code: s for s in Skill.objects.filter(code__in=wanted, active=True).select_related("category")}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        shown = "、".join(unknown[:3])
        raise LinliError.one(
            "unknown_skill",
            f"技能代码不存在或已停用:{shown}",
            f"Unknown or retired skill code: {', '.join(unknown[:3])}",
        )
    return [found[c] for c in wanted]


def _category(code: Any, skills: list[Skill]) -> JobCategory:
    code = str(code or "").strip()
    if not code:
        return skills[0].category
    category = JobCategory.objects.filter(code=code, active=True).first()
    if category is None:
        raise LinliError.one("unknown_category", "工种类别不存在。", "Unknown job category.")
    return category


def _clean(employer: Employer, data: dict[str, Any], *, hired: int = 0) -> dict[str, Any]:
    """Every field of a posting checked; ``data`` has all of ``FIELDS`` (missing ones are errors)."""
    title = str(data.get("title") or "").strip()
    if not title:
        raise LinliError.one("title_missing", "请填写岗位名称。", "Enter the job title.")
    if len(title) > 80:
        raise LinliError.one(
            "title_too_long", "岗位名称不能超过 80 字。", "The job title may have at most 80 characters."
        )
    description = str(data.get("description") or "").strip()
    if len(description) > 4000:
        raise LinliError.one(
            "description_too_long", "岗位描述不能超过 4000 字。", "The description may have at most 4,000 characters."
        )
    skills = _skills(data.get("skills"))
    category = _category(data.get("category"), skills)
    headcount = _int(
        data.get("headcount"),
        "bad_headcount",
        f"招聘人数应为 1 到 {MAX_HEADCOUNT} 之间的整数。",
        f"The headcount must be a whole number from 1 to {MAX_HEADCOUNT}.",
        1,
        MAX_HEADCOUNT,
    )
    if headcount < hired:
        raise LinliError.one(
            "headcount_below_hired",
            f"已录用 {hired} 人,招聘人数不能少于 {hired}。",
            f"{hired} people are hired already: the headcount cannot be below {hired}.",
        )
    wage_min = _int(
        data.get("wage_min"),
        "bad_wage",
        "月薪应为 1 到 1000000 元之间的整数。",
        "The monthly wage must be a whole number of yuan from 1 to 1,000,000.",
        1,
        MAX_WAGE,
    )
    wage_max = _int(
        data.get("wage_max"),
        "bad_wage",
        "月薪应为 1 到 1000000 元之间的整数。",
        "The monthly wage must be a whole number of yuan from 1 to 1,000,000.",
        1,
        MAX_WAGE,
    )
    if wage_min > wage_max:
        raise LinliError.one(
            "wage_range_upside_down",
            f"月薪范围颠倒了:最低 {wage_min} 元高于最高 {wage_max} 元。",
            f"The wage range is upside down: the lowest ({wage_min} yuan) is above the highest ({wage_max} yuan).",
        )
    hours = _int(
        data.get("hours"),
        "bad_hours",
        f"每周工时应为 1 到 {MAX_HOURS} 小时。",
        f"The weekly hours must be from 1 to {MAX_HOURS}.",
        1,
        MAX_HOURS,
    )
    closes_on = _day(data.get("closes_on"))
    today = clock.today()
    if closes_on <= today:
        raise LinliError.one("closes_on_past", "截止日期应在今天之后。", "The closing date must be after today.")
    if closes_on > today + timedelta(days=MAX_DAYS_OPEN):
        raise LinliError.one(
            "closes_on_too_far",
            "截止日期不能超过一年后;到期后可以重新发布。",
            "The closing date may be at most a year ahead; post it again when it closes.",
        )
    address = str(data.get("address") or "").strip() or employer.address
    if len(address) > 200:
        raise LinliError.one(
            "address_too_long", "工作地点不能超过 200 字。", "The place of work may have at most 200 characters."
        )
    lat = data.get("lat")
    lon = data.get("lon")
    if lat in (None, "") and lon in (None, ""):
        lat, lon = employer.lat, employer.lon
    street = jobs_employers.street_at(lat, lon, employer.street.district)
    la, lo = jobs_employers.position(lat, lon)
    return {
        "title": title,
        "description": description,
        "category": category,
        "skills": skills,
        "headcount": headcount,
        "wage_min": wage_min,
        "wage_max": wage_max,
        "hours": hours,
        "address": address,
        "lat": la,
        "lon": lo,
        "street": street,
        "path": street.path,
        "closes_on": closes_on,
    }


def _hiring(actor: User, obj: Employer | Posting) -> None:
    authorize(actor, HIRE, obj)


def create(actor: User, employer: Employer, **fields: Any) -> Posting:
    """A draft posting of ``employer`` (its members only). Drafts are seen by members and staff."""
    _hiring(actor, employer)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown posting fields: {sorted(unknown)}")
    clean = _clean(employer, fields)
    skills = clean.pop("skills")
    with transaction.atomic():
        posting = Posting.objects.create(employer=employer, created_by_id=actor.pk, **clean)
        posting.skills.set(skills)
    return posting


def _locked(posting: Posting) -> Posting:
    return Posting.objects.select_for_update().select_related("employer").get(pk=posting.pk)


def _sync(posting: Posting, row: Posting) -> Posting:
    for f in (*FIELDS, "street_id", "path", "status", "hired", "published_at"):
        if f in ("skills", "category"):
            continue
        setattr(posting, f, getattr(row, f))
    posting.category_id = row.category_id
    return posting


def update(actor: User, posting: Posting, **fields: Any) -> Posting:
    """Change a posting's fields (any status but closed-for-good doesn't exist: closed ones too).
    Omitted fields keep their values. A filled posting whose headcount rises opens again; an open
    one whose headcount falls to the hires made becomes filled."""
    _hiring(actor, posting)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown posting fields: {sorted(unknown)}")
    with transaction.atomic():
        row = _locked(posting)
        data: dict[str, Any] = {
            "title": row.title,
            "description": row.description,
            "category": row.category.code,
            "skills": list(row.skills.values_list("code", flat=True)),
            "headcount": row.headcount,
            "wage_min": row.wage_min,
            "wage_max": row.wage_max,
            "hours": row.hours,
            "address": row.address,
            "lat": row.lat,
            "lon": row.lon,
            "closes_on": row.closes_on,
        }
        data.update(fields)
        clean = _clean(row.employer, data, hired=row.hired)
        skills = clean.pop("skills")
        for key, value in clean.items():
            setattr(row, key, value)
        if row.status == Posting.Status.FILLED and row.hired < row.headcount:
            row.status = Posting.Status.OPEN
        elif row.status == Posting.Status.OPEN and row.hired >= row.headcount:
            row.status = Posting.Status.FILLED
        row.save()
        row.skills.set(skills)
        generations.bump(POSTINGS_GENERATION)
    return _sync(posting, row)


def publish(actor: User, posting: Posting) -> Posting:
    """A draft (or closed) posting goes live: the employer must be verified, the date not passed."""
    _hiring(actor, posting)
    with transaction.atomic():
        row = _locked(posting)
        employer = Employer.objects.select_for_update().get(pk=row.employer_id)
        if row.status in (Posting.Status.OPEN, Posting.Status.FILLED):
            raise LinliError.one("posting_status", "该岗位已发布。", "This posting is published already.", status=409)
        if employer.status != Employer.Status.VERIFIED:
            raise LinliError.one(
                "awaiting_verification",
                "单位尚未通过街道就业服务审核,审核通过后才能发布岗位。"
                if employer.status == Employer.Status.PENDING
                else "单位当前不能发布岗位(未通过审核或已暂停),请联系街道就业服务。",
                "The employer is awaiting verification by the street's employment service; "
                "postings go live once it is verified."
                if employer.status == Employer.Status.PENDING
                else "The employer may not publish now (rejected or suspended): ask the street's employment service.",
                status=409,
            )
        if row.closes_on <= clock.today():
            raise LinliError.one(
                "posting_expired",
                "截止日期已过,请先修改截止日期再发布。",
                "The closing date has passed: change it before publishing.",
                status=409,
            )
        if not row.skills.exists():
            raise LinliError.one("skills_missing", "请至少选择一项技能。", "Choose at least one skill.")
        row.status = Posting.Status.FILLED if row.hired >= row.headcount else Posting.Status.OPEN
        row.published_at = clock.now()
        row.save(update_fields=["status", "published_at"])
        generations.bump(POSTINGS_GENERATION)
    return _sync(posting, row)


def close(actor: User, posting: Posting) -> Posting:
    """Stop taking applications (the employer's members, or the employment service)."""
    if not can(actor, HIRE, posting):
        authorize(actor, SERVE, posting)
    with transaction.atomic():
        row = _locked(posting)
        if row.status == Posting.Status.CLOSED:
            raise LinliError.one("posting_status", "该岗位已关闭。", "This posting is closed already.", status=409)
        row.status = Posting.Status.CLOSED
        row.save(update_fields=["status"])
        generations.bump(POSTINGS_GENERATION)
    return _sync(posting, row)


def reopen(actor: User, posting: Posting) -> Posting:
    """A closed posting takes applications again (as ``publish``: verified employer, date ahead)."""
    _hiring(actor, posting)
    if posting.status != Posting.Status.CLOSED:
        raise LinliError.one(
            "posting_status", "只有已关闭的岗位可以重新开放。", "Only a closed posting can be reopened.", status=409
        )
    if posting.published_at is None:
        raise LinliError.one(
            "posting_status", "该岗位从未发布,请直接发布。", "This posting was never published: publish it.", status=409
        )
    return publish(actor, posting)


def record_hire(posting: Posting) -> Posting:
    """Count one hire (called by ``services.applications.hire`` in its transaction, after its own
    permission check): ``hired`` + 1 under a row lock; FILLED once it reaches the headcount."""
    with transaction.atomic():
        row = _locked(posting)
        row.hired += 1
        fields = ["hired"]
        if row.hired >= row.headcount and row.status == Posting.Status.OPEN:
            row.status = Posting.Status.FILLED
            fields.append("status")
        row.save(update_fields=fields)
        generations.bump(POSTINGS_GENERATION)
    return _sync(posting, row)
