"""Reads of ballots for pages, the API and the project panel: scoped lists and the scoped
get-or-404 lookups, the live tally, the roll with who voted how (CONSULT only), and the .xlsx
export anyone can recompute."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from linli.accounts.permissions import authorize, can, get_or_404, scoped
from linli.accounts.roles import Action
from linli.consult import rules
from linli.consult.models import Ballot, LiftConsent, RollEntry, Vote, VoteRecord
from linli.consult.services.ballots import own_dwelling_ids, scope_object, tally, voter_keys
from linli.core.exports import Formula, Table, write_tables
from linli.core.types import User
from linli.places.models import Building, Compound, Dwelling, Unit
from linli.renewal.models import Project


def visible_ballots(user: User, qs: QuerySet[Ballot] | None = None) -> QuerySet[Ballot]:
    """Ballots the user may view; drafts only to those who run them (CONSULT)."""
    base = qs if qs is not None else Ballot.objects.all()
    seen = scoped(user, Action.VIEW, base)
    runs = scoped(user, Action.CONSULT, Ballot.objects.filter(status=Ballot.Status.DRAFT)).values("pk")
    return seen.filter(~Q(status=Ballot.Status.DRAFT) | Q(pk__in=runs))


def get_ballot(user: User, action: str, pk: object) -> Ballot:
    """The ballot after the one permission check (404 outside the scope, 403 inside without the
    right); a draft is a 404 to anyone who cannot run it (its existence is not revealed)."""
    ballot = get_or_404(user, Action.VIEW, Ballot.objects.select_related("project"), pk=pk)
    if ballot.status == Ballot.Status.DRAFT and not can(user, Action.CONSULT, ballot):
        raise Http404("draft")
    if action != Action.VIEW:
        authorize(user, action, ballot)
    return ballot


def project_ballots(project: Project, user: User | None) -> list[Ballot]:
    """The ballots of a project's panel, newest first: on the public page (``user`` None or
    anonymous) every ballot that has opened; signed in, those the user may view."""
    qs = Ballot.objects.filter(project=project).order_by("-created_at")
    if user is None or not getattr(user, "is_authenticated", False):
        return list(qs.exclude(status=Ballot.Status.DRAFT))
    return list(visible_ballots(user, qs))


def compound_to_run(user: User, pk: object) -> Compound:
    """A compound where the user may run ballots (CONSULT): 404 outside the scope, 403 inside."""
    return get_or_404(user, Action.CONSULT, Compound, pk=pk)


def compound_to_view(user: User, pk: object) -> Compound:
    return get_or_404(user, Action.VIEW, Compound, pk=pk)


def projects_to_run(user: User, compound: Compound) -> list[Project]:
    """The compound's projects a ballot may belong to (CONSULT on them)."""
    return list(scoped(user, Action.CONSULT, Project.objects.filter(compound=compound)))


def project_to_view(user: User, pk: object) -> Project:
    """The project a ballot created through the API names: out of scope answers like missing (404)."""
    return get_or_404(user, Action.VIEW, Project, pk=pk)


def buildings_with_units(compound: Compound) -> list[Building]:
    """The compound's buildings (by code) with their units, for the scope choice of a new ballot."""
    return list(Building.objects.filter(compound=compound).prefetch_related("units").order_by("code"))


def in_compound(compound: Compound, project_id: int | None = None) -> QuerySet[Ballot]:
    """Every ballot over the compound, one of its buildings or one of their units (optionally of one
    project); the caller narrows to what the user may see (``visible_ballots``)."""
    ids = set(Building.objects.filter(compound=compound).values_list("pk", flat=True))
    units = set(Unit.objects.filter(building_id__in=ids).values_list("pk", flat=True))
    qs = Ballot.objects.filter(
        Q(scope_kind="compound", scope_id=compound.pk)
        | Q(scope_kind="building", scope_id__in=ids)
        | Q(scope_kind="unit", scope_id__in=units)
    )
    return qs.filter(project_id=project_id) if project_id is not None else qs


def mine(user: User) -> QuerySet[Ballot]:
    """The opened ballots whose roll holds one of the user's own dwellings, newest first."""
    return (
        visible_ballots(user)
        .filter(roll__dwelling_id__in=own_dwelling_ids(user))
        .exclude(status=Ballot.Status.DRAFT)
        .distinct()
        .order_by("-created_at")
    )


def compound_id_of_scope(scope: Model) -> int:
    """The compound a ballot scope (compound, building or unit) lies in."""
    if isinstance(scope, Compound):
        return int(scope.pk)
    building = scope.building if isinstance(scope, Unit) else scope
    assert isinstance(building, Building)
    return int(building.compound_id)


def compound_of(ballot: Ballot) -> Compound:
    """The compound the ballot's scope lies in."""
    scope = scope_object(ballot.scope_kind, ballot.scope_id)
    if isinstance(scope, Compound):
        return scope
    building = scope.building if isinstance(scope, Unit) else scope
    assert isinstance(building, Building)
    return building.compound


def occupied_ids(ballot: Ballot) -> set[int]:
    """The dwellings marked as occupied by the lift on the ballot's (draft) roll."""
    return set(RollEntry.objects.filter(ballot=ballot, occupied_by_lift=True).values_list("dwelling_id", flat=True))


def recent_records(ballot: Ballot, n: int = 50) -> list[VoteRecord]:
    """The latest ``n`` entries of the vote history, newest first, with who entered them."""
    return list(ballot.vote_records.select_related("entered_by").order_by("-at", "-id")[:n])


def votes_of(ballot: Ballot) -> QuerySet[Vote]:
    """Every current vote of the ballot by owner key (who voted how: the caller checks CONSULT)."""
    return Vote.objects.filter(ballot=ballot).order_by("owner_key")


def dwelling(pk: int | None) -> Dwelling | None:
    """A dwelling by id, or None (a lift consent names one; the service checks it is on the roll)."""
    return Dwelling.objects.filter(pk=pk or 0).first()


def visible_dwelling(user: User, pk: int) -> Dwelling | None:
    """A dwelling the user may view, or None."""
    return scoped(user, Action.VIEW, Dwelling.objects.filter(pk=pk)).first()


def result_of(ballot: Ballot) -> dict[str, Any] | None:
    """The stored result of a counted ballot, or the live tally of an open one. A withdrawn ballot
    has none: it decides nothing (its record is ``withdrawal_of``)."""
    if ballot.status == Ballot.Status.CLOSED:
        return ballot.result
    if ballot.status == Ballot.Status.OPEN:
        return tally(ballot)
    return None


def withdrawal_of(ballot: Ballot) -> dict[str, Any] | None:
    """The published record of a withdrawn ballot: reason, who, when, votes cast, and the
    snapshot of the names as they were."""
    if ballot.status != Ballot.Status.WITHDRAWN or not ballot.result:
        return None
    record = dict(ballot.result.get("withdrawn") or {})
    record["at_dt"] = parse_datetime(record.get("at") or "")
    record["snapshot"] = ballot.result.get("snapshot") or {}
    return record


def published_of(ballot: Ballot) -> dict[str, Any] | None:
    """The snapshot a counted or withdrawn ballot keeps of what it published (names of the scope,
    compound and project as they were, roll size, who ended it and when), or None while open."""
    if ballot.status in (Ballot.Status.CLOSED, Ballot.Status.WITHDRAWN) and ballot.result:
        snap = ballot.result.get("snapshot")
        return dict(snap) if snap else None
    return None


def decisions(qs: QuerySet[Ballot] | None = None) -> QuerySet[Ballot]:
    """Ballots that decided something: counted ones. Anything that reads decisions (approved or
    not) starts here; a withdrawn ballot is never among them."""
    base = qs if qs is not None else Ballot.objects.all()
    return base.filter(status=Ballot.Status.CLOSED)


def bars(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Four progress bars (participation and approval, by area and by headcount) with the
    threshold mark, for the pages."""
    if not result:
        return []
    th = result["thresholds"]
    out = []
    for key, label_zh, label_en, which in (
        ("participating_area", "参与表决的专有面积", "Participating area", "participation"),
        ("participating_owners", "参与表决的业主人数", "Participating owners", "participation"),
        ("approving_area", "同意的面积(占参与)", "Approving area (of participants)", "approval"),
        ("approving_owners", "同意的人数(占参与)", "Approving owners (of participants)", "approval"),
    ):
        value = Decimal(result[key]["decimal"])
        share = th[which]["share"]
        n, _, d = share.partition("/")
        need = Decimal(n) / Decimal(d or 1)
        ok = value >= need if th[which]["inclusive"] else value > need
        out.append(
            {
                "key": key,
                "zh": label_zh,
                "en": label_en,
                "fraction": result[key]["fraction"],
                "percent": f"{value * 100:.1f}",
                "width": f"{min(value, Decimal(1)) * 100:.1f}",
                "need": f"{need * 100:.1f}",
                "need_text": ("≥ " if th[which]["inclusive"] else "> ") + share,
                "ok": ok,
            }
        )
    return out


def roll_with_votes(ballot: Ballot) -> list[dict[str, Any]]:
    """The roll, one row per owner (counting unit), with dwellings and the current vote. CONSULT only:
    the caller checks."""
    votes = {v.owner_key: v for v in Vote.objects.filter(ballot=ballot)}
    history = dict(
        VoteRecord.objects.filter(ballot=ballot)
        .values("owner_key")
        .annotate(n=Count("id"))
        .values_list("owner_key", "n")
    )
    consents = {c.dwelling_id: c.consents for c in LiftConsent.objects.filter(ballot=ballot)}
    owners: dict[str, dict[str, Any]] = {}
    for e in (
        RollEntry.objects.filter(ballot=ballot)
        .select_related("owner", "dwelling__unit", "dwelling__building")
        .order_by("owner_key", "dwelling_id")
    ):
        row = owners.setdefault(
            e.owner_key,
            {
                "owner_key": e.owner_key,
                "name": e.owner.name,
                "masked_id": e.owner.id_number_masked,
                "dwellings": [],
                "area": Decimal(0),
                "vote": votes.get(e.owner_key),
                "changes": max(0, history.get(e.owner_key, 0) - 1),
                "owner_id": e.owner_id,
                "account": None,
            },
        )
        d = e.dwelling
        row["dwellings"].append(
            {
                "id": d.pk,
                "label": f"{d.building.name} {d.unit.number}-{d.number}",
                "area": e.area,
                "occupied": e.occupied_by_lift,
                "consent": consents.get(d.pk),
            }
        )
        row["area"] += e.area
    _add_voting_accounts(owners)
    return list(owners.values())


def _add_voting_accounts(owners: dict[str, dict[str, Any]]) -> None:
    """Which owners have a verified voting account, how, and whether that account also holds a
    staff role (shown on the roll, issue 8)."""
    from linli.accounts.queries import accounts_by_person, staff_user_ids

    accounts = accounts_by_person({row["owner_id"] for row in owners.values()})
    staff = staff_user_ids({a.user_id for a in accounts.values()})
    for row in owners.values():
        account = accounts.get(row["owner_id"])
        row["account"] = account
        row["account_staff"] = account is not None and account.user_id in staff


def my_entries(user: User, ballot: Ballot) -> list[RollEntry]:
    """The roll entries the user votes for online: those of the owners whose verified voting
    account the user is (``services.ballots.voter_keys``)."""
    keys = voter_keys(user, ballot)
    if not keys:
        return []
    return list(
        RollEntry.objects.filter(ballot=ballot, owner_key__in=keys)
        .select_related("dwelling__unit", "dwelling__building")
        .order_by("dwelling__building_id", "dwelling__unit_id", "dwelling__floor", "dwelling__number")
    )


def unverified_entries(user: User, ballot: Ballot) -> list[RollEntry]:
    """Roll entries of the user's own dwellings (a ``resident`` grant) whose owner has not
    verified this account: the page offers "Verify that you are the owner" for them."""
    own = own_dwelling_ids(user)
    if not own:
        return []
    return list(
        RollEntry.objects.filter(ballot=ballot, dwelling_id__in=own)
        .exclude(owner_key__in=voter_keys(user, ballot))
        .select_related("dwelling__unit", "dwelling__building")
        .order_by("dwelling_id")
    )


def my_votes(user: User, ballot: Ballot) -> dict[str, Vote]:
    keys = {e.owner_key for e in my_entries(user, ballot)}
    return {v.owner_key: v for v in Vote.objects.filter(ballot=ballot, owner_key__in=keys)}


def replacements(keys: Any, ballot: Ballot) -> list[dict[str, Any]]:
    """Every time staff entered a paper or proxy vote over one of these owners' own online votes
    (from the append-only ``VoteRecord`` history): shown to the owner on their ballot page."""
    out: list[dict[str, Any]] = []
    last_online: dict[str, VoteRecord] = {}
    current: dict[str, str] = {}
    for r in (
        VoteRecord.objects.filter(ballot=ballot, owner_key__in=set(keys))
        .select_related("entered_by")
        .order_by("at", "id")
    ):
        if r.channel == "online":
            last_online[r.owner_key] = r
        elif current.get(r.owner_key) == "online" and r.owner_key in last_online:
            online = last_online[r.owner_key]
            out.append(
                {
                    "owner_key": r.owner_key,
                    "online_at": online.at,
                    "online_choice": online.get_choice_display(),
                    "channel": r.channel,
                    "channel_label": r.get_channel_display(),
                    "choice": r.get_choice_display(),
                    "by": str(r.entered_by),
                    "at": r.at,
                    "reason": r.reason,
                }
            )
        current[r.owner_key] = r.channel
    return out


# --- export ---------------------------------------------------------------------------------------

ROLL_SHEET = "名册 roll"
VOTES_SHEET = "表决 votes"
HISTORY_SHEET = "历史 history"
TALLY_SHEET = "计票 tally"
ABOUT_SHEET = "说明 about"


def _local(dt: datetime | None) -> datetime | None:
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def export_workbook(user: User, ballot: Ballot, target: Any, progress: Callable[[int, int], None] | None = None) -> int:
    """Roll, votes, history and a tally sheet (with spreadsheet formulas) to ``target``; returns the
    data rows written. The roll's ``area_exact`` column and the votes sheet are what
    ``rules.decide`` needs to recompute the result exactly (see docs/ballots.md). Written by the one
    export writer (linli/core/exports.py): every text from data is plain text, never a formula; the
    tally's formulas are our own. ``progress(done, total)`` hears the rows written (the background
    task's progress bar, ``consult.tasks.export_ballot``)."""
    authorize(user, Action.CONSULT, ballot)
    result = result_of(ballot)
    rule = rules.rule_for(rules.parse_matter(ballot.matter))
    lines: list[tuple[str, Any]] = [
        ("表决 ballot", ballot.title),
        ("事项 matter", f"{ballot.matter} · {ballot.get_matter_display()}"),
        ("依据 source", rule.source),
        ("参与门槛 participation (area AND owners, of the roll)", str(rule.participation)),
        ("通过门槛 approval (area AND owners, of participants)", str(rule.approval)),
        ("状态 status", ballot.status),
        ("名册摘要 roll sha256", ballot.roll_digest),
        ("开始 opened", _local(ballot.opens_at)),
        ("结束 closed", _local(ballot.closed_at)),
    ]
    if result:
        for key in ("participating_area", "participating_owners", "approving_area", "approving_owners"):
            lines.append((key, result[key]["fraction"]))
        lines += [("quorum_met", result["quorum_met"]), ("approved", result["approved"])]
        if result.get("lift"):
            lines.append(("lift all_consented", result["lift"]["all_consented"]))
    lines.append(
        (
            "复核 recompute",
            "rules.decide(matter, [{id: dwelling_id, owner: owner_key, area: Decimal(area_exact)}], "
            "{owner_key: choice}) on the roll and votes sheets",
        )
    )
    about = Table(ABOUT_SHEET, [list(line) for line in lines], {"A": 48, "B": 70}, None, bold_first_column=True)

    entries = list(
        RollEntry.objects.filter(ballot=ballot)
        .select_related("owner", "dwelling__unit", "dwelling__building")
        .order_by("dwelling__building_id", "dwelling__unit_id", "dwelling__floor", "dwelling__number")
    )
    roll: list[list[Any]] = [
        [
            "dwelling_id",
            "楼栋 building",
            "单元 unit",
            "房号 number",
            "楼层 floor",
            "面积 area",
            "area_exact",
            "owner_key",
            "业主 owner",
            "occupied_by_lift",
        ]
    ]
    for e in entries:
        d = e.dwelling
        roll.append(
            [
                d.pk,
                d.building.name,
                d.unit.number,
                d.number,
                d.floor,
                e.area,
                f"{e.area:.2f}",
                e.owner_key,
                e.owner.name,
                e.occupied_by_lift,
            ]
        )
    votes: list[list[Any]] = [["owner_key", "choice", "channel", "cast_at", "entered_by", "reason"]]
    for v in Vote.objects.filter(ballot=ballot).select_related("entered_by").order_by("owner_key"):
        votes.append([v.owner_key, v.choice, v.channel, _local(v.cast_at), str(v.entered_by), v.reason])
    history: list[list[Any]] = [["at", "owner_key", "choice", "channel", "entered_by", "reason", "client_key"]]
    for r in VoteRecord.objects.filter(ballot=ballot).select_related("entered_by").order_by("at", "id"):
        history.append([_local(r.at), r.owner_key, r.choice, r.channel, str(r.entered_by), r.reason, r.client_key])

    # The tally sheet: one row per owner, the sums as formulas so a spreadsheet recomputes them.
    per_owner: dict[str, Decimal] = defaultdict(Decimal)
    for e in entries:
        per_owner[e.owner_key] += e.area
    choice = dict(Vote.objects.filter(ballot=ballot).values_list("owner_key", "choice"))
    tally_rows: list[list[Any]] = [["owner_key", "面积 area", "choice"]]
    for key in sorted(per_owner):
        tally_rows.append([key, per_owner[key], choice.get(key, "")])
    n = len(per_owner) + 1
    a, c = f"B2:B{n}", f"C2:C{n}"
    voted = f'(COUNTIF({c},"yes")+COUNTIF({c},"no")+COUNTIF({c},"abstain"))'
    voted_area = f'(SUMIF({c},"yes",{a})+SUMIF({c},"no",{a})+SUMIF({c},"abstain",{a}))'
    formulas = [
        ("total_area", f"=SUM({a})"),
        ("total_owners", f"=COUNTA(A2:A{n})"),
        ("participating_area", f"={voted_area}/SUM({a})"),
        ("participating_owners", f"={voted}/COUNTA(A2:A{n})"),
        ("approving_area", f'=IF({voted}=0,0,SUMIF({c},"yes",{a})/{voted_area})'),
        ("approving_owners", f'=IF({voted}=0,0,COUNTIF({c},"yes")/{voted})'),
    ]
    # columns E–G beside the owners: figure, the spreadsheet's formula, the stored exact fraction
    side: list[list[Any]] = [["figure", "spreadsheet", "stored (exact)"]]
    for name, formula in formulas:
        stored = result[name]["fraction"] if result and name in result else None
        side.append([name, Formula(formula), stored])
    while len(tally_rows) < len(side):
        tally_rows.append([None, None, None])
    for i, extra in enumerate(side):
        tally_rows[i] = tally_rows[i] + [None, *extra]
    total = sum(len(rows) - 1 for rows in (about.rows, roll, votes, history, tally_rows) if isinstance(rows, list))
    counts = write_tables(
        target,
        [
            about,
            Table(ROLL_SHEET, roll),
            Table(VOTES_SHEET, votes),
            Table(HISTORY_SHEET, history),
            Table(TALLY_SHEET, tally_rows),
        ],
        progress=(lambda done: progress(done, total)) if progress is not None else None,
    )
    return sum(counts)


def recompute_from_workbook(source: Any) -> rules.Decision:
    """Read an exported workbook back and decide again (what an auditor would do)."""
    from openpyxl import load_workbook

    wb = load_workbook(source, read_only=True, data_only=False)
    matter_text = str(next(r for r in wb[ABOUT_SHEET].iter_rows(values_only=True) if r[0] == "事项 matter")[1])
    matter = rules.parse_matter(matter_text.split(" ", 1)[0])
    roll_rows = list(wb[ROLL_SHEET].iter_rows(min_row=2, values_only=True))
    dwellings = [{"id": r[0], "owner": r[7], "area": Decimal(str(r[6]))} for r in roll_rows]
    votes = {str(r[0]): str(r[1]) for r in wb[VOTES_SHEET].iter_rows(min_row=2, values_only=True) if r[0]}
    return rules.decide(matter, dwellings, votes)
