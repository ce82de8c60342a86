"""Every write of the renewal app: inside ``transaction.atomic``, one permission check each.

Refusals are bilingual ``LinliError``s raised before anything is written; an object outside the
user's scope is a 404 and a role without the action a 403 (``linli.accounts.permissions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation

from linli.accounts import models as accounts_models
from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.core import clock
from linli.core.errors import LinliError, Problem
from linli.core.photos import check_photo
from linli.core.types import User
from linli.places.models import Building, Compound, District, Dwelling
from linli.renewal import catalogue
from linli.renewal.models import (
    PHASES,
    CatalogueItem,
    ItemClass,
    OpenDay,
    Phase,
    PhaseChange,
    ProgressReport,
    Project,
    ProjectItem,
    ReportPhoto,
    SampleFlat,
    SupervisionReport,
)
from linli.renewal.queries import project_buildings

# Supervision during works (国办发〔2020〕23号 "建设共管") and after, while defects are put right.
SUPERVISION_PHASES = frozenset({Phase.WORKS, Phase.ACCEPTANCE, Phase.OPERATION})
PROGRESS_PHASES = SUPERVISION_PHASES
# Estimates (quantity, unit cost, weight) are what the works are accepted against: frozen from
# acceptance on. Going back to works (a phase change with a reason) opens them again.
ESTIMATE_LOCKED_PHASES = frozenset({Phase.ACCEPTANCE, Phase.OPERATION})

MAX_PHOTOS = 6
MAX_TEXT = 4000


def _account(user: User) -> accounts_models.User:
    """The account ``user`` is, for the columns that name who did something: ``authorize()`` has
    let it through, so it is a signed-in account, never the anonymous visitor (a type narrowing only)."""
    return cast("accounts_models.User", user)


def _phase_names(phase: str) -> tuple[str, str]:
    """A phase's name in Chinese and in English, for the two halves of a problem (APIs keep both)."""
    label = Phase(phase).label
    with translation.override("zh-hans"):
        zh = str(label)
    with translation.override("en"):
        en = str(label)
    return zh, en


def _decimal(value: Any, field_zh: str, field_en: str, *, allow_none: bool = False) -> Decimal | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise LinliError.one("required", f"请填写{field_zh}。", f"Enter the {field_en}.")
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise LinliError.one("not_a_number", f"{field_zh}须为数字。", f"The {field_en} must be a number.") from exc
    if not d.is_finite() or d < 0:
        raise LinliError.one("negative", f"{field_zh}不能为负数。", f"The {field_en} cannot be negative.")
    if d >= Decimal("1e12") or d != d.quantize(Decimal("0.01")):
        raise LinliError.one(
            "bad_amount", f"{field_zh}最多两位小数且不超过一万亿。", f"The {field_en}: at most 2 decimals, below 10¹²."
        )
    return d


# --- catalogue -------------------------------------------------------------------------------------


def ensure_default_catalogue() -> int:
    """Create the national default items (district empty) that are missing; returns how many.
    Idempotent, safe when two processes run it at once (the unique constraint decides)."""
    existing = set(CatalogueItem.objects.filter(district__isnull=True).values_list("code", flat=True))
    created = 0
    for item in catalogue.DEFAULT_ITEMS:
        if item.code in existing:
            continue
        try:
            with transaction.atomic():
                CatalogueItem.objects.create(
                    district=None,
                    code=item.code,
                    item_class=item.item_class,
                    name=item.name,
                    name_en=item.name_en,
                    unit=item.unit,
                    unit_cost=item.unit_cost,
                )
                created += 1
        except IntegrityError:
            continue
    return created


def effective_catalogue(district: District | None) -> list[CatalogueItem]:
    """The items a district's projects may use: the defaults, each replaced by the district's entry
    of the same code; an entry with active=False retires the code. Loads the defaults if none."""
    if not CatalogueItem.objects.filter(district__isnull=True).exists():
        ensure_default_catalogue()
    rows = list(CatalogueItem.objects.filter(Q(district__isnull=True) | Q(district=district)))
    merged: dict[str, CatalogueItem] = {}
    for row in sorted(rows, key=lambda r: r.district_id is not None):  # district entries last: they win
        merged[row.code] = row
    order = [c.value for c in ItemClass]
    out = [r for r in merged.values() if r.active]
    return sorted(out, key=lambda r: (order.index(r.item_class) if r.item_class in order else 9, r.code))


def catalogue_item_for(district: District | None, code: str) -> CatalogueItem:
    for item in effective_catalogue(district):
        if item.code == code:
            return item
    raise LinliError.one(
        "unknown_item",
        f"目录中没有编码为「{code}」的在用项目。",
        f"No active catalogue item with code “{code}”.",
    )


@dataclass
class CatalogueEntry:
    code: str
    item_class: str
    name: str
    name_en: str = ""
    unit: str = "项"
    unit_cost: Any = Decimal(0)
    active: bool = True


def save_district_item(user: User, district: District, entry: CatalogueEntry) -> CatalogueItem:
    """Add or override (same code) an item for one district; active=False retires it there."""
    authorize(user, Action.EDIT, district)
    problems: list[Problem] = []
    code = (entry.code or "").strip()
    if not code or len(code) > 40:
        problems.append(Problem("bad_code", "编码须为 1–40 个字符。", "The code must be 1–40 characters."))
    if entry.item_class not in {c.value for c in ItemClass}:
        problems.append(
            Problem("bad_class", "类别须为基础类、完善类或提升类。", "Class must be basic, improve or enhance.")
        )
    if not (entry.name or "").strip() or len(entry.name) > 100:
        problems.append(Problem("bad_name", "名称须为 1–100 个字符。", "The name must be 1–100 characters."))
    if problems:
        raise LinliError(problems)
    cost = _decimal(entry.unit_cost, "单价", "unit cost")
    with transaction.atomic():
        obj, _ = CatalogueItem.objects.update_or_create(
            district=district,
            code=code,
            defaults={
                "item_class": entry.item_class,
                "name": entry.name.strip(),
                "name_en": (entry.name_en or "").strip()[:100],
                "unit": (entry.unit or "项").strip()[:20] or "项",
                "unit_cost": cost,
                "active": bool(entry.active),
            },
        )
    return obj


# --- projects --------------------------------------------------------------------------------------


def create_project(
    user: User,
    compound: Compound,
    name: str,
    *,
    buildings: Iterable[Building] = (),
    kind: str = Project.Kind.RENOVATION,
    summary: str = "",
    eligibility_override: bool = False,
    eligibility_reason: str = "",
    is_public: bool = True,
) -> Project:
    """A project for a compound, or for some of its buildings (empty = all of them).

    国办发〔2020〕23号 二(一): compounds built before the end of 2000 are eligible; a younger one, or
    one whose build year is unknown, needs ``eligibility_override`` with a reason."""
    authorize(user, Action.CONSULT, compound)
    problems: list[Problem] = []
    name = (name or "").strip()
    if not name or len(name) > 200:
        problems.append(
            Problem("bad_name", "项目名称须为 1–200 个字符。", "The project name must be 1–200 characters.")
        )
    if kind not in {k.value for k in Project.Kind}:
        problems.append(Problem("bad_kind", "项目类型无效。", "Unknown project kind."))
    reason = (eligibility_reason or "").strip()
    eligible = compound.renovation_eligible_by_age()
    if eligible is not True:
        from django.conf import settings

        year = settings.LINLI_RENOVATION_BUILT_BEFORE_YEAR
        if not eligibility_override or not reason:
            built = compound.build_year
            problems.append(
                Problem(
                    "not_eligible",
                    (
                        f"该小区建成于 {built} 年,不在 {year - 1} 年底前建成的改造范围内(国办发〔2020〕23号);"
                        if built
                        else "该小区建成年份未知,无法确认是否在 2000 年底前建成(国办发〔2020〕23号);"
                    )
                    + "如确需改造,请勾选“例外纳入”并填写理由。",
                    (
                        f"The compound was built in {built}, not before the end of {year - 1} "
                        if built
                        else "The compound's build year is unknown, so eligibility by age cannot be confirmed "
                    )
                    + "(State Council 2020 No. 23); tick the exception and give a reason to include it.",
                )
            )
    if len(reason) > 300:
        problems.append(Problem("reason_too_long", "理由不超过 300 字。", "The reason is at most 300 characters."))
    chosen = list(buildings)
    foreign = [b for b in chosen if b.compound_id != compound.pk]
    if foreign:
        # No names: a building of another compound may be outside the caller's scope (issue 9 item 8).
        problems.append(
            Problem(
                "building_not_in_compound",
                "所选楼栋不存在或不属于该小区。",
                "A chosen building does not exist or is not one of this compound.",
            )
        )
    if problems:
        raise LinliError(problems)
    with transaction.atomic():
        project = Project.objects.create(
            compound=compound,
            kind=kind,
            name=name,
            summary=(summary or "").strip(),
            eligibility_override=bool(eligibility_override and eligible is not True),
            eligibility_reason=reason if eligible is not True else "",
            is_public=is_public,
            created_by=_account(user),
        )
        if chosen:
            project.buildings.set(chosen)
        PhaseChange.objects.create(
            project=project, from_phase="", to_phase=project.phase, by=_account(user), note="created"
        )
    return project


def change_phase(user: User, project: Project, to_phase: str, note: str = "") -> PhaseChange:
    """Forward one step at a time; back any number of steps with a reason. Appended as PhaseChange."""
    authorize(user, Action.CONSULT, project)
    note = (note or "").strip()
    if to_phase not in PHASES:
        raise LinliError.one("bad_phase", "阶段无效。", "Unknown phase.")
    with transaction.atomic():
        current = Project.objects.select_for_update().get(pk=project.pk)
        here, there = PHASES.index(current.phase), PHASES.index(to_phase)
        if there == here:
            raise LinliError.one("same_phase", "项目已处于该阶段。", "The project is already in this phase.")
        if there > here + 1:
            nxt_zh, nxt_en = _phase_names(PHASES[here + 1])
            raise LinliError.one(
                "skip_phase",
                f"阶段须逐步推进,下一步是「{nxt_zh}」。",
                f"Phases move forward one step at a time; the next is “{nxt_en}”.",
            )
        if there < here and not note:
            raise LinliError.one(
                "reason_required", "退回到之前的阶段须填写理由。", "Going back to an earlier phase needs a reason."
            )
        if len(note) > 300:
            raise LinliError.one("note_too_long", "说明不超过 300 字。", "The note is at most 300 characters.")
        change = PhaseChange.objects.create(
            project=current, from_phase=current.phase, to_phase=to_phase, by=_account(user), note=note
        )
        current.phase = to_phase
        current.save(update_fields=["phase", "updated_at"])
    project.phase = to_phase
    return change


def add_item(
    user: User,
    project: Project,
    *,
    code: str = "",
    name: str = "",
    item_class: str = "",
    quantity: Any = 1,
    unit: str = "",
    unit_cost: Any = None,
    weight: Any = None,
    buildings: Sequence[Building] = (),
) -> ProjectItem:
    """An item from the district's catalogue (``code``; name, class, unit and unit cost default from
    it) or a free item (name and class given). Estimate = quantity × unit cost, in yuan."""
    authorize(user, Action.CONSULT, project)
    district = project.compound.community.street.district
    cat: CatalogueItem | None = catalogue_item_for(district, code.strip()) if code and code.strip() else None
    name = (name or (cat.name if cat else "")).strip()
    item_class = item_class or (cat.item_class if cat else "")
    problems: list[Problem] = []
    if not name or len(name) > 100:
        problems.append(Problem("bad_name", "项目名称须为 1–100 个字符。", "The item name must be 1–100 characters."))
    if item_class not in {c.value for c in ItemClass}:
        problems.append(
            Problem("bad_class", "类别须为基础类、完善类或提升类。", "Class must be basic, improve or enhance.")
        )
    foreign = [b for b in buildings if b.compound_id != project.compound_id]
    if foreign:
        problems.append(
            Problem(
                "building_not_in_project", "所选楼栋不属于本项目的小区。", "A chosen building is not in this compound."
            )
        )
    if problems:
        raise LinliError(problems)
    qty = _decimal(quantity, "数量", "quantity") or Decimal(0)
    cost = _decimal(unit_cost, "单价", "unit cost", allow_none=True)
    if cost is None:
        cost = cat.unit_cost if cat else Decimal(0)
    w = _decimal(weight, "权重", "weight", allow_none=True)
    with transaction.atomic():
        item = ProjectItem.objects.create(
            project=project,
            catalogue_item=cat,
            item_class=item_class,
            name=name,
            quantity=qty,
            unit=(unit or (cat.unit if cat else "项")).strip()[:20] or "项",
            unit_cost=cost,
            weight=w,
        )
        if buildings:
            item.buildings.set(buildings)
    return item


def update_item(
    user: User, item: ProjectItem, *, quantity: Any = None, unit_cost: Any = None, weight: Any = "keep"
) -> ProjectItem:
    """Change an item's quantity, unit cost or weight (``weight=None`` → back to the cost share).

    CONSULT on the project. Every value is checked (a number ≥ 0, at most two decimals, below
    10¹²) before anything is written; all problems are reported together. Refused (409) once the
    project has reached acceptance: the estimates are what the works are accepted against."""
    authorize(user, Action.CONSULT, item.project)
    fields: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, raw, zh, en, allow_none in (
        ("quantity", quantity, "数量", "quantity", False),
        ("unit_cost", unit_cost, "单价", "unit cost", False),
        ("weight", None if weight == "keep" else weight, "权重", "weight", True),
    ):
        if raw is None and (key != "weight" or weight == "keep"):
            continue
        try:
            fields[key] = _decimal(raw, zh, en, allow_none=allow_none)
        except LinliError as exc:
            problems += [Problem(p.code, p.zh, p.en, column=key) for p in exc.problems]
    if problems:
        raise LinliError(problems)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=item.project_id)
        if project.phase in ESTIMATE_LOCKED_PHASES:
            phase_zh, phase_en = _phase_names(project.phase)
            raise LinliError.one(
                "estimate_locked",
                f"项目已进入「{phase_zh}」阶段,改造项的数量、单价和权重不能再修改"
                "(如确需修改,请先退回施工阶段并说明理由)。",
                f"The project has reached “{phase_en}”: quantities, unit costs and weights "
                "can no longer be changed (go back to works, with a reason, to change them).",
                409,
            )
        if fields:
            ProjectItem.objects.filter(pk=item.pk).update(**fields)
            Project.objects.filter(pk=project.pk).update(updated_at=clock.now())
    item.refresh_from_db()
    return item


def report_progress(user: User, item: ProjectItem, progress: Any, note: str = "") -> ProgressReport:
    """Append a progress report; the item's progress becomes it. Only once works have started."""
    authorize(user, Action.CONSULT, item.project)
    try:
        value = int(str(progress).strip())
    except (TypeError, ValueError) as exc:
        raise LinliError.one(
            "bad_progress", "进度须为 0–100 的整数。", "Progress must be a whole number 0–100."
        ) from exc
    if not 0 <= value <= 100:
        raise LinliError.one("bad_progress", "进度须为 0–100 的整数。", "Progress must be a whole number 0–100.")
    note = (note or "").strip()
    if len(note) > 300:
        raise LinliError.one("note_too_long", "说明不超过 300 字。", "The note is at most 300 characters.")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=item.project_id)
        if project.phase not in PROGRESS_PHASES:
            raise LinliError.one(
                "not_in_works",
                "项目尚未进入施工阶段,不能填报进度。",
                "The project has not reached the works phase; progress cannot be reported yet.",
            )
        report = ProgressReport.objects.create(item=item, progress=value, note=note, by=_account(user))
        ProjectItem.objects.filter(pk=item.pk).update(progress=value)
    item.progress = value
    return report


def add_sample_flat(
    user: User, project: Project, dwelling: Dwelling, description: str = "", ready_on: date | None = None
) -> SampleFlat:
    authorize(user, Action.CONSULT, project)
    buildings = {b.pk for b in project_buildings(project)}
    if dwelling.building_id not in buildings:
        raise LinliError.one(
            "dwelling_not_in_project",
            "样板间须是本项目小区(所含楼栋)内的房屋。",
            "The sample flat must be a dwelling of the project's compound (and its buildings).",
        )
    if len(description or "") > MAX_TEXT:
        raise LinliError.one("too_long", "说明过长。", "The description is too long.")
    with transaction.atomic():
        return SampleFlat.objects.create(
            project=project, dwelling=dwelling, description=(description or "").strip(), ready_on=ready_on
        )


def add_open_day(user: User, flat: SampleFlat, starts_at: datetime, ends_at: datetime, visitors: int = 0) -> OpenDay:
    authorize(user, Action.CONSULT, flat.project)
    if starts_at is None or ends_at is None:
        raise LinliError.one("required", "请填写开始和结束时间。", "Enter when it starts and ends.")
    if ends_at <= starts_at:
        raise LinliError.one("ends_before_start", "结束时间须晚于开始时间。", "It must end after it starts.")
    if visitors < 0:
        raise LinliError.one("negative", "参观人数不能为负数。", "Visitors cannot be negative.")
    with transaction.atomic():
        return OpenDay.objects.create(sample_flat=flat, starts_at=starts_at, ends_at=ends_at, visitors=visitors)


# --- supervision -----------------------------------------------------------------------------------


def submit_report(
    user: User,
    project: Project,
    text: str,
    *,
    photos: Sequence[Any] = (),
    item: ProjectItem | None = None,
    client_key: str = "",
) -> tuple[SupervisionReport, bool]:
    """A supervision report (加强监督) by anyone who may see the project (residents, grid workers,
    staff), during works and after. ``client_key`` makes a retry from a phone return the first
    report instead of a second one. Returns (report, created)."""
    authorize(user, Action.VIEW, project)
    client_key = (client_key or "").strip()
    if len(client_key) > 64:
        raise LinliError.one("bad_client_key", "client_key 不超过 64 个字符。", "client_key is at most 64 characters.")
    if client_key:
        found = SupervisionReport.objects.filter(reporter=_account(user), client_key=client_key).first()
        if found is not None:
            if found.project_id != project.pk:
                raise LinliError.one(
                    "client_key_reused",
                    "该 client_key 已用于另一项目。",
                    "This client_key was used for another project.",
                    409,
                )
            return found, False
    text = (text or "").strip()
    if not text:
        raise LinliError.one("text_required", "请描述看到的情况。", "Describe what you saw.")
    if len(text) > MAX_TEXT:
        raise LinliError.one("too_long", "内容不超过 4000 字。", "At most 4000 characters.")
    if project.phase not in SUPERVISION_PHASES:
        raise LinliError.one(
            "not_in_works", "项目尚未开工,暂不受理监督报告。", "Supervision reports open once the works have started."
        )
    if item is not None and item.project_id != project.pk:
        raise LinliError.one(
            "item_not_in_project", "所选改造项不属于本项目。", "The chosen item is not part of this project."
        )
    if len(photos) > MAX_PHOTOS:
        raise LinliError.one("too_many_photos", f"最多 {MAX_PHOTOS} 张照片。", f"At most {MAX_PHOTOS} photos.")
    checked = [check_photo(p, i + 1) for i, p in enumerate(photos)]
    try:
        with transaction.atomic():
            report = SupervisionReport.objects.create(
                project=project, item=item, reporter=_account(user), text=text, client_key=client_key
            )
            for i, photo in enumerate(checked, start=1):
                rp = ReportPhoto(report=report, width=photo.width, height=photo.height)
                rp.image.save(f"r{report.pk}-{i}.{photo.ext}", ContentFile(photo.content), save=False)
                rp.save()
    except IntegrityError:
        # the same phone's retry won the race: hand back that one
        found = (
            SupervisionReport.objects.filter(reporter=_account(user), client_key=client_key).first()
            if client_key
            else None
        )
        if found is None:
            raise
        return found, False
    return report, True


def answer_report(user: User, report: SupervisionReport, answer: str, *, resolve: bool = False) -> SupervisionReport:
    """Staff (CONSULT) answer a report; ``resolve`` closes it. A resolved report stays resolved."""
    authorize(user, Action.CONSULT, report.project)
    answer = (answer or "").strip()
    if not answer:
        raise LinliError.one("answer_required", "请填写答复。", "Enter an answer.")
    if len(answer) > MAX_TEXT:
        raise LinliError.one("too_long", "答复不超过 4000 字。", "At most 4000 characters.")
    with transaction.atomic():
        current = SupervisionReport.objects.select_for_update().get(pk=report.pk)
        if current.status == SupervisionReport.Status.RESOLVED:
            raise LinliError.one("already_resolved", "该报告已办结。", "This report is already resolved.")
        current.answer = answer
        current.status = SupervisionReport.Status.RESOLVED if resolve else SupervisionReport.Status.ANSWERED
        current.save(update_fields=["answer", "status"])
    return current
