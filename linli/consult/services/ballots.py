"""Every write of a ballot under Civil Code Art. 278 (rules.md §1–2): create, freeze the roll and
open, cast or change a vote (online, paper, proxy), record lift consents, close with an
immutable result. Each runs in one transaction and asks the one permission check once.

Counting units (SPC interpretation on building ownership, 2020 rev., Arts. 8–9), decided when the
roll is frozen at opening:

* area = ``Dwelling.area`` (the registered area; the place registry keeps its source);
* one dwelling = one owner, keyed ``p:<person id>``, so a buyer of several dwellings in the scope
  is one owner (headcount 1, area summed);
* every dwelling owned by a ``Person`` of kind developer is keyed ``dev:<compound id>``: all the
  developer's unsold dwellings of the compound count as one owner;
* a dwelling with several co-owners is still one counting unit ("one exclusive unit = one
  owner"); it is keyed by its first owner in the order (largest share, then lowest person id),
  who votes for it; that owner's other dwellings merge with it as usual;
* residential and commercial dwellings with at least one owner are on the roll; dwellings of use
  "other" and dwellings without a registered owner are not (they appear in ``roll_preview``).

Online votes belong to a *person* on the roll (issue 8): an account votes online for exactly the
owner keys whose roll entry's owner (for ``dev:`` keys, the developer person) has verified this
account as their voting account (``accounts.OwnerAccount``: ID number + SMS code, or in person
before a worker; ``linli/accounts/verification.py``). A ``resident`` grant alone gives no vote (it
lets the account see its dwelling and its ballots), and neither does a VOTE right held through a
place path (a district administrator's "all actions"): staff enter paper and proxy votes instead
(CONSULT). The owner key is derived from the roll, never taken from the request. A paper or proxy
vote that would replace an owner's own online vote needs a written reason; the owner's ballot page
shows it, and it is logged (``VoteRecord`` and an ``AccessLog`` entry ``vote_replaced``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import AccessLog
from linli.accounts.models import User as Account
from linli.accounts.permissions import authorize, grants_of
from linli.accounts.queries import voting_person_ids
from linli.accounts.roles import Action, allows
from linli.accounts.services import log_access
from linli.consult import rules, snapshots
from linli.consult.models import Ballot, Channel, Choice, LiftConsent, RollEntry, Vote, VoteRecord
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.types import User
from linli.notify import services as notify_services
from linli.notify.queries import told
from linli.places.models import Building, Compound, Dwelling, Ownership, Person, Unit
from linli.renewal.models import Project

ROLL_USES = (Dwelling.Use.RESIDENTIAL, Dwelling.Use.COMMERCIAL)
RETRIES = 3
# A withdrawal needs a written reason of at least this many characters (it is published).
MIN_WITHDRAW_REASON = 5
MAX_WITHDRAW_REASON = 2000

log = logging.getLogger("linli.consult.ballots")


# --- scope and roll -----------------------------------------------------------------------------


def scope_object(scope_kind: str, scope_id: int) -> Model:
    model: type[Model] = {"compound": Compound, "building": Building, "unit": Unit}.get(scope_kind)  # type: ignore[assignment]
    if model is None:
        raise LinliError.one("bad_scope", f"未知的表决范围:{scope_kind}", f"Unknown ballot scope: {scope_kind}")
    obj = model._default_manager.filter(pk=scope_id).first()
    if obj is None:
        # the same 404 as a scope outside the caller's places (authorize): existence is not revealed
        raise Http404("not found or not in scope")
    return obj


def _check_target(scope: Model) -> Model:
    """The object whose CONSULT right runs a ballot on ``scope``: a unit's building."""
    return scope.building if isinstance(scope, Unit) else scope


def _scope_compound_id(scope: Model) -> int:
    if isinstance(scope, Compound):
        return int(scope.pk)
    if isinstance(scope, Building):
        return int(scope.compound_id)
    assert isinstance(scope, Unit)
    return int(scope.building.compound_id)


def _dwellings_in(ballot: Ballot) -> QuerySet[Dwelling]:
    field = {"compound": "building__compound_id", "building": "building_id", "unit": "unit_id"}[ballot.scope_kind]
    return Dwelling.objects.filter(**{field: ballot.scope_id})


def build_roll(ballot: Ballot) -> tuple[list[dict[str, Any]], list[Dwelling]]:
    """The roll the registry gives now: one row per dwelling with its counting unit, and the
    dwellings left out (no owner, or use "other")."""
    dwellings = list(
        _dwellings_in(ballot).select_related("building", "unit").order_by("building_id", "unit_id", "floor", "number")
    )
    first_owner: dict[int, Person] = {}
    for o in (
        Ownership.objects.filter(dwelling__in=[d.pk for d in dwellings])
        .select_related("person")
        .order_by("dwelling_id", "-share", "person_id")
    ):
        first_owner.setdefault(o.dwelling_id, o.person)
    rows: list[dict[str, Any]] = []
    left_out: list[Dwelling] = []
    for d in dwellings:
        person = first_owner.get(d.pk)
        if person is None or d.use not in ROLL_USES:
            left_out.append(d)
            continue
        # SPC interpretation Art. 9: all unsold units of the developer count as one owner.
        key = f"dev:{d.building.compound_id}" if person.kind == Person.Kind.DEVELOPER else f"p:{person.pk}"
        rows.append({"dwelling": d, "owner": person, "owner_key": key, "area": d.area})
    return rows, left_out


def roll_digest(entries: Iterable[tuple[int, str, int, Decimal, bool]]) -> str:
    """sha256 over the sorted roll (dwelling id, owner key, owner id, area, occupied by a lift)."""
    lines = sorted(f"{did}|{key}|{oid}|{Decimal(area):.2f}|{int(bool(occ))}" for did, key, oid, area, occ in entries)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def current_digest(ballot: Ballot) -> str:
    return roll_digest(
        RollEntry.objects.filter(ballot=ballot).values_list(
            "dwelling_id", "owner_key", "owner_id", "area", "occupied_by_lift"
        )
    )


def _write_roll(ballot: Ballot, occupied: set[int]) -> list[RollEntry]:
    rows, _ = build_roll(ballot)
    RollEntry.objects.filter(ballot=ballot).delete()
    entries = [
        RollEntry(
            ballot=ballot,
            dwelling=r["dwelling"],
            owner_key=r["owner_key"],
            owner=r["owner"],
            area=r["area"],
            occupied_by_lift=r["dwelling"].pk in occupied,
        )
        for r in rows
    ]
    RollEntry.objects.bulk_create(entries, batch_size=1000)
    return entries


def _locked(ballot: Ballot) -> Ballot:
    """The ballot row, locked until the transaction ends (PostgreSQL; SQLite takes its write lock
    at BEGIN IMMEDIATE), so that concurrent writes of one ballot queue one after the other."""
    return Ballot.objects.select_for_update().get(pk=ballot.pk)


def _refuse_unless_status(ballot: Ballot, *allowed: str) -> None:
    if ballot.status in allowed:
        return
    if ballot.status == Ballot.Status.CLOSED:
        raise LinliError.one(
            "ballot_closed", "表决已结束,不能再更改。", "The ballot is closed; nothing can change.", 409
        )
    if ballot.status == Ballot.Status.WITHDRAWN:
        raise LinliError.one(
            "ballot_withdrawn",
            "表决已撤回:不再接受投票,也不计票,不作任何决定。",
            "The ballot was withdrawn: it takes no votes, is not counted and decides nothing.",
            409,
        )
    if ballot.status == Ballot.Status.DRAFT:
        raise LinliError.one("ballot_not_open", "表决尚未开始。", "The ballot is not open yet.", 409)
    raise LinliError.one("ballot_open", "表决已开始,名册已冻结。", "The ballot is open; its roll is frozen.", 409)


def _refuse_if_roll_changed(ballot: Ballot) -> None:
    if current_digest(ballot) != ballot.roll_digest:
        raise LinliError.one(
            "roll_changed",
            "表决名册在开始后被改动,表决暂停,请联系社区核查。",
            "The roll was changed after the ballot opened; the ballot is suspended until staff check it.",
            409,
        )


# --- create, open -------------------------------------------------------------------------------


@transaction.atomic
def create_ballot(
    user: User,
    *,
    project: Project | None = None,
    title: str,
    question: str,
    matter: str | int,
    scope_kind: str,
    scope_id: int,
    closes_at: datetime | None,
    hide_results: bool = False,
) -> Ballot:
    """A draft ballot over a compound, a building or (lifts) the unit the lift serves."""
    scope = scope_object(scope_kind, scope_id)
    authorize(user, Action.CONSULT, _check_target(scope))
    assert isinstance(user, Account)  # authorize() lets only a signed-in account through
    problems: list[LinliError] = []
    try:
        parsed = rules.parse_matter(str(matter))
    except ValueError:
        problems.append(
            LinliError.one("bad_matter", "未知的表决事项。", "Unknown matter (Civil Code Art. 278 items 1–9 or lift).")
        )
        parsed = 0
    # rules.md §2: a lift is voted by the unit (单元/梯) it serves, not the whole compound.
    if parsed == "lift" and scope_kind != Ballot.ScopeKind.UNIT:
        problems.append(
            LinliError.one(
                "lift_scope", "加装电梯须以单元为表决范围。", "A lift ballot's scope must be the unit it serves."
            )
        )
    title, question = (title or "").strip(), (question or "").strip()
    if not title:
        problems.append(LinliError.one("title_required", "请填写标题。", "A title is required."))
    if not question:
        problems.append(
            LinliError.one(
                "question_required", "请填写表决事项的具体内容。", "The question put to the owners is required."
            )
        )
    if closes_at is not None and closes_at <= clock.now():
        problems.append(
            LinliError.one("closes_in_past", "截止时间须在将来。", "The closing time must be in the future.")
        )
    if project is not None and project.compound_id != _scope_compound_id(scope):
        problems.append(
            LinliError.one(
                "project_scope", "表决范围不属于该项目的小区。", "The scope is not in the project's compound."
            )
        )
    if problems:
        raise LinliError([p for e in problems for p in e.problems], 400)
    path = scope.path if isinstance(scope, Compound | Building) else _check_target(scope).path  # type: ignore[attr-defined]
    return Ballot.objects.create(
        project=project,
        title=title[:200],
        question=question,
        matter=str(parsed),
        scope_kind=scope_kind,
        scope_id=scope.pk,
        path=path,
        closes_at=closes_at,
        hide_results=hide_results,
        created_by=user,
    )


@transaction.atomic
def set_lift_occupied(user: User, ballot: Ballot, dwelling_ids: Iterable[int]) -> list[RollEntry]:
    """Before opening a lift ballot: the dwellings whose exclusive part the lift would occupy
    (their owners must consent individually, rules.md §2). Builds the draft roll."""
    ballot = _locked(ballot)
    authorize(user, Action.CONSULT, ballot)
    _refuse_unless_status(ballot, Ballot.Status.DRAFT)
    if ballot.matter != Ballot.Matter.LIFT:
        raise LinliError.one(
            "not_lift", "只有加装电梯表决才有占用专有部分的业主。", "Only a lift ballot has occupied dwellings."
        )
    ids = {int(i) for i in dwelling_ids}
    rows, _ = build_roll(ballot)
    on_roll = {r["dwelling"].pk for r in rows}
    stray = ids - on_roll
    if stray:
        raise LinliError.one(
            "occupied_not_on_roll",
            "所选房屋不在本表决名册中。",
            f"Dwellings not on this ballot's roll: {sorted(stray)[:10]}",
        )
    return _write_roll(ballot, ids)


@transaction.atomic
def open_ballot(user: User, ballot: Ballot) -> Ballot:
    """Freeze the roll from the registry and open the ballot. An empty roll is refused."""
    ballot = _locked(ballot)
    authorize(user, Action.CONSULT, ballot)
    _refuse_unless_status(ballot, Ballot.Status.DRAFT)
    now = clock.now()
    if ballot.closes_at is not None and ballot.closes_at <= now:
        raise LinliError.one("closes_in_past", "截止时间已过,请先修改截止时间。", "The closing time has passed.", 409)
    occupied = set(RollEntry.objects.filter(ballot=ballot, occupied_by_lift=True).values_list("dwelling_id", flat=True))
    entries = _write_roll(ballot, occupied)
    if not entries:
        raise LinliError.one(
            "empty_roll",
            "表决范围内没有登记业主的房屋,不能开始表决。",
            "No dwelling with a registered owner in the scope: the roll would be empty.",
            409,
        )
    ballot.roll_digest = roll_digest(
        (e.dwelling_id, e.owner_key, e.owner_id, e.area, e.occupied_by_lift) for e in entries
    )
    ballot.status = Ballot.Status.OPEN
    ballot.opens_at = now
    ballot.save(update_fields=["roll_digest", "status", "opens_at"])
    _tell(ballot, "ballot_opened", f"业主表决开始:{ballot.title}", f"A ballot is open: {ballot.title}")
    return ballot


def _tell(ballot: Ballot, kind: str, title_zh: str, title_en: str, once: bool = False) -> None:
    """Tell the people of the dwellings on the roll (docs/notifications.md), after the commit."""
    from linli.consult.services.notices import people_of

    people = people_of(Dwelling.objects.filter(pk__in=RollEntry.objects.filter(ballot=ballot).values("dwelling_id")))
    url, ref = reverse("consult:ballot_detail", args=[ballot.pk]), f"ballot:{ballot.pk}"
    notify_services.notify(kind, people, title_zh=title_zh, title_en=title_en, url=url, ref=ref, once=once)


def remind_closing(now: datetime | None = None, days: int = 3) -> list[int]:
    """Tell the roll of every open ballot closing within ``days`` that it is closing, once per ballot
    (``manage.py count_due_ballots`` runs it). Returns the ballots reminded now."""
    now = now or clock.now()
    soon = Ballot.objects.filter(
        status=Ballot.Status.OPEN, closes_at__gt=now, closes_at__lte=now + timedelta(days=days)
    )
    done: list[int] = []
    for ballot in soon.order_by("closes_at", "pk"):
        if not told("ballot_closing", f"ballot:{ballot.pk}"):
            when = timezone.localtime(ballot.closes_at)
            zh, en = (
                f"表决将于 {when:%m月%d日 %H:%M} 截止:{ballot.title}",
                f"Ballot closes {when:%Y-%m-%d %H:%M}: {ballot.title}",
            )
            _tell(ballot, "ballot_closing", zh, en, once=True)
            done.append(ballot.pk)
    return done


# --- votes ----------------------------------------------------------------------------------------


def own_dwelling_ids(user: User) -> set[int]:
    """The user's own dwellings, to *see* (a ``resident`` grant at the dwelling, or implied by a
    verified owner's account): "my ballots" are those whose roll holds one. Seeing is not voting:
    see ``voter_keys``."""
    return {g.place_id for g in grants_of(user) if g.place_kind == "dwelling" and allows(g.role, Action.VOTE)}


def voter_keys(user: User, ballot: Ballot) -> set[str]:
    """The owner keys ``user`` may vote for online: those whose roll entry's owner (for a ``dev:``
    key, the developer person) has an active voting account (``OwnerAccount``) for this user."""
    persons = voting_person_ids(user)
    if not persons:
        return set()
    return set(RollEntry.objects.filter(ballot=ballot, owner_id__in=persons).values_list("owner_key", flat=True))


def _voter_key(user: User, ballot: Ballot, owner_key: str | None) -> str:
    mine = voter_keys(user, ballot)
    if not mine:
        raise LinliError.one(
            "not_owner",
            "您的账号不是本表决名册上业主的在线投票账号,不能在线投票。业主请先验证身份"
            "(身份证号+短信验证码,或到社区当面核验);持有“居民/业主”角色本身不能投票。",
            "Your account is not the verified voting account of an owner on this ballot's roll, so it "
            "cannot vote online. Owners verify first (ID number and SMS code, or in person at the "
            "community office); holding the resident role does not give a vote.",
            403,
        )
    if owner_key:
        if owner_key not in mine:
            raise LinliError.one("wrong_owner", "只能以本人名义投票。", "You can vote only as yourself.", 403)
        return owner_key
    if len(mine) > 1:
        raise LinliError.one(
            "choose_owner",
            "您关联多户房屋的不同业主,请选择以哪位业主投票。",
            "Your dwellings belong to different owners on the roll: choose which owner votes.",
        )
    return mine.pop()


def cast_vote(
    user: User,
    ballot: Ballot,
    *,
    choice: str,
    owner_key: str | None = None,
    channel: str,
    reason: str = "",
    client_key: str = "",
) -> Vote:
    """Cast or change one owner's vote. Online: the owner themself, through their verified voting
    account (``voter_keys``). Paper and proxy: staff (CONSULT on the ballot); a proxy vote needs
    the reason, and so does any vote replacing the owner's own online vote. The same
    ``client_key`` twice is one submission. Concurrent submissions queue on the ballot row; a
    unique-constraint race is retried."""
    for attempt in range(RETRIES):
        try:
            return _cast_vote(user, ballot, choice, owner_key, channel, reason, client_key)
        except IntegrityError:
            if attempt == RETRIES - 1:
                raise LinliError.one(
                    "busy", "提交冲突,请重试。", "Conflicting submissions; please try again.", 409
                ) from None
    raise AssertionError("unreachable")


@transaction.atomic
def _cast_vote(
    user: User, ballot: Ballot, choice: str, owner_key: str | None, channel: str, reason: str, client_key: str
) -> Vote:
    ballot = _locked(ballot)
    if channel == Channel.ONLINE:
        authorize(user, Action.VOTE, ballot)
    elif channel in (Channel.PAPER, Channel.PROXY):
        authorize(user, Action.CONSULT, ballot)
    else:
        raise LinliError.one("bad_channel", "未知的投票方式。", "Unknown voting channel.")
    assert isinstance(user, Account)  # authorize() lets only a signed-in account through
    client_key = (client_key or "")[:64]
    if client_key:
        done = VoteRecord.objects.filter(ballot=ballot, entered_by=user, client_key=client_key).first()
        if done is not None:  # the same submission again (double tap, retried request)
            return Vote.objects.get(ballot=ballot, owner_key=done.owner_key)
    _refuse_unless_status(ballot, Ballot.Status.OPEN)
    if ballot.closes_at is not None and clock.now() >= ballot.closes_at:
        raise LinliError.one("ballot_past_close", "表决已过截止时间。", "The ballot's closing time has passed.", 409)
    if choice not in Choice.values:
        raise LinliError.one("bad_choice", "请选择同意、反对或弃权。", "Choose yes, no or abstain.")
    reason = (reason or "").strip()
    if channel == Channel.ONLINE:
        key = _voter_key(user, ballot, owner_key)
        reason = ""
    else:
        if not owner_key or not RollEntry.objects.filter(ballot=ballot, owner_key=owner_key).exists():
            raise LinliError.one("not_on_roll", "该业主不在本表决名册中。", "This owner is not on the ballot's roll.")
        key = owner_key
        if channel == Channel.PROXY and len(reason) < 2:
            raise LinliError.one(
                "proxy_reason",
                "代为投票须写明业主的委托事由。",
                "A vote cast on an owner's behalf needs the reason they asked for it.",
            )
    _refuse_if_roll_changed(ballot)

    vote = Vote.objects.filter(ballot=ballot, owner_key=key).first()
    _refuse_silent_replacement(vote, channel, reason)
    replaced_online = vote is not None and vote.channel == Channel.ONLINE and channel != Channel.ONLINE
    if vote is None:
        try:
            with transaction.atomic():  # a savepoint: a racing insert is retried as an update
                vote = Vote.objects.create(
                    ballot=ballot, owner_key=key, choice=choice, channel=channel, entered_by=user, reason=reason[:200]
                )
        except IntegrityError:
            vote = Vote.objects.get(ballot=ballot, owner_key=key)
            _refuse_silent_replacement(vote, channel, reason)
            replaced_online = vote.channel == Channel.ONLINE and channel != Channel.ONLINE
    if vote.choice != choice or vote.channel != channel or vote.entered_by_id != user.pk or vote.reason != reason:
        vote.choice, vote.channel, vote.entered_by, vote.reason = choice, channel, user, reason[:200]
        vote.save(update_fields=["choice", "channel", "entered_by", "reason", "cast_at"])
    VoteRecord.objects.create(
        ballot=ballot,
        owner_key=key,
        choice=choice,
        channel=channel,
        entered_by=user,
        reason=reason[:200],
        client_key=client_key,
    )
    if replaced_online:
        log_access(user, AccessLog.What.VOTE_REPLACED, ballot, ballot.path, reason=f"{key} · {channel} · {reason}")
    return vote


def _refuse_silent_replacement(current: Vote | None, channel: str, reason: str) -> None:
    """A paper or proxy vote never silently replaces an owner's own online vote."""
    if current is not None and current.channel == Channel.ONLINE and channel != Channel.ONLINE and len(reason) < 2:
        raise LinliError.one(
            "replace_reason",
            "这位业主已经亲自在线投票。用纸质票或代投票替换业主本人的在线投票,须写明理由;理由会显示给业主,并记录在案。",
            "This owner has voted online themself. Replacing an owner's own online vote with a paper or "
            "proxy vote needs a written reason; the owner is shown it, and it is logged.",
        )


# --- lifts ----------------------------------------------------------------------------------------


@transaction.atomic
def record_lift_consent(user: User, ballot: Ballot, dwelling: Dwelling, consents: bool, note: str = "") -> LiftConsent:
    """The individual consent (or refusal) of the owner of a dwelling the lift would occupy."""
    ballot = _locked(ballot)
    authorize(user, Action.CONSULT, ballot)
    _refuse_unless_status(ballot, Ballot.Status.DRAFT, Ballot.Status.OPEN)
    entry = RollEntry.objects.filter(ballot=ballot, dwelling=dwelling, occupied_by_lift=True).first()
    if entry is None:
        raise LinliError.one(
            "not_occupied",
            "该房屋未登记为电梯占用专有部分的房屋。",
            "This dwelling is not marked as occupied by the lift on this ballot.",
        )
    consent, _ = LiftConsent.objects.update_or_create(
        ballot=ballot,
        dwelling=dwelling,
        owner_id=entry.owner_id,
        defaults={"consents": bool(consents), "note": (note or "").strip()[:300], "entered_by": user},
    )
    return consent


# --- tally and close ------------------------------------------------------------------------------


def frac(value: Fraction) -> dict[str, str]:
    """A fraction for JSON: exact "p/q" and a rounded decimal for display."""
    return {"fraction": f"{value.numerator}/{value.denominator}", "decimal": f"{float(value):.4f}"}


def tally(ballot: Ballot) -> dict[str, Any]:
    """The result as it stands: rules.decide over the frozen roll and the current votes."""
    entries = list(
        RollEntry.objects.filter(ballot=ballot).values("dwelling_id", "owner_key", "area", "occupied_by_lift")
    )
    votes = dict(Vote.objects.filter(ballot=ballot).values_list("owner_key", "choice"))
    matter = rules.parse_matter(ballot.matter)
    decision = rules.decide(
        matter, [{"id": e["dwelling_id"], "owner": e["owner_key"], "area": e["area"]} for e in entries], votes
    )
    rule = rules.rule_for(matter)
    out: dict[str, Any] = {
        "matter": ballot.matter,
        "thresholds": {
            "participation": {"share": str(rule.participation.share), "inclusive": rule.participation.inclusive},
            "approval": {"share": str(rule.approval.share), "inclusive": rule.approval.inclusive},
            "source": rule.source,
        },
        "quorum_met": decision.quorum_met,
        "approved_by_vote": decision.approved,
        "approved": decision.approved,
        "participating_area": frac(decision.participating_area),
        "participating_owners": frac(decision.participating_owners),
        "approving_area": frac(decision.approving_area),
        "approving_owners": frac(decision.approving_owners),
        "counts": {
            "dwellings": decision.dwellings,
            "owners": decision.total_owners,
            "voted": decision.voted_owners,
            "yes": decision.yes_owners,
            "no": decision.no_owners,
            "abstain": decision.abstain_owners,
            "total_area": frac(decision.total_area),
            "voted_area": frac(decision.voted_area),
            "yes_area": frac(decision.yes_area),
        },
        "needed": {
            "owners_to_take_part": rules.owners_needed(decision.total_owners, rule.participation),
            "yes_of_those_voting": rules.owners_needed(decision.voted_owners, rule.approval)
            if decision.voted_owners
            else None,
        },
        "roll_digest": ballot.roll_digest,
        "lift": None,
    }
    if ballot.matter == Ballot.Matter.LIFT:
        occupied = {e["dwelling_id"] for e in entries if e["occupied_by_lift"]}
        given = {c.dwelling_id: c.consents for c in LiftConsent.objects.filter(ballot=ballot, dwelling_id__in=occupied)}
        complete = all(given.get(d) is True for d in occupied)
        out["lift"] = {
            "occupied_dwellings": sorted(occupied),
            "consented": sorted(d for d, ok in given.items() if ok),
            "refused": sorted(d for d, ok in given.items() if not ok),
            "all_consented": complete,
        }
        # rules.md §2: the vote and every occupied owner's individual consent.
        out["approved"] = decision.approved and complete
    return out


def participation(ballot: Ballot) -> tuple[int, int]:
    """(owners who voted, owners on the roll): counting units, as the roll counts them."""
    owners = RollEntry.objects.filter(ballot=ballot).values("owner_key").distinct().count()
    keys = RollEntry.objects.filter(ballot=ballot).values("owner_key")
    voted = Vote.objects.filter(ballot=ballot, owner_key__in=keys).values("owner_key").distinct().count()
    return voted, owners


def _local(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M")


def count_refusal(ballot: Ballot, now: datetime | None = None) -> LinliError | None:
    """Why counting ``ballot`` now would be refused, or None. A ballot is counted only as announced:
    once its closing time has passed, or earlier only when every owner on the roll has voted
    (there is nothing left to wait for). Used by ``close_ballot`` and by the confirmation page."""
    try:
        _refuse_unless_status(ballot, Ballot.Status.OPEN)
    except LinliError as exc:
        return exc
    now = now or clock.now()
    if ballot.closes_at is not None and now >= ballot.closes_at:
        return None
    voted, owners = participation(ballot)
    if voted >= owners:
        return None
    if ballot.closes_at is None:
        when_zh, when_en = "本表决未公布截止时间", "This ballot announced no closing time"
    else:
        when_zh = f"表决公布的截止时间为 {_local(ballot.closes_at)}"
        when_en = f"The ballot's announced closing time is {_local(ballot.closes_at)}"
    return LinliError.one(
        "too_early",
        f"{when_zh},尚未到期;目前已投票 {voted}/{owners} 位业主。截止前只有全部业主都已投票才能计票。"
        "如确需提前终止,请由负责人撤回表决并写明理由(撤回的表决不作任何决定)。",
        f"{when_en} and it has not passed; {voted} of {owners} owners have voted. Before its end a ballot "
        "is counted only when every owner on the roll has voted. To end it early, a manager withdraws it "
        "with a written reason (a withdrawn ballot decides nothing).",
        409,
    )


def _scope_and_compound(ballot: Ballot) -> tuple[Model, Compound]:
    scope = scope_object(ballot.scope_kind, ballot.scope_id)
    if isinstance(scope, Compound):
        return scope, scope
    building = scope.building if isinstance(scope, Unit) else scope
    assert isinstance(building, Building)
    return scope, building.compound


def _count(ballot: Ballot, by: User | None, now: datetime) -> Ballot:
    """Compute and keep the result (the ballot row is locked by the caller)."""
    _refuse_if_roll_changed(ballot)
    scope, compound = _scope_and_compound(ballot)
    early = ballot.closes_at is None or now < ballot.closes_at
    result = tally(ballot)
    result["outcome"] = "counted"
    result["decided"] = True
    result["closed_at"] = now.isoformat()
    result["closed_by"] = by.pk if by is not None else None
    result["closed_early_all_voted"] = early
    result["snapshot"] = snapshots.ballot_snapshot(ballot, scope, compound, by=by, at=now, outcome="counted")
    if by is None:
        result["snapshot"]["ended_by"] = {"id": None, "name": "自动计票 automatic count"}
    ballot.result = result
    ballot.status = Ballot.Status.CLOSED
    ballot.closed_at = now
    ballot.save(update_fields=["result", "status", "closed_at"])
    _tell(ballot, "ballot_result", f"表决结果已公布:{ballot.title}", f"Ballot result: {ballot.title}")
    log.info(
        "ballot %s counted by %s at %s: %s", ballot.pk, by.pk if by else "system", now.isoformat(), result["approved"]
    )
    return ballot


@transaction.atomic
def close_ballot(user: User, ballot: Ballot) -> Ballot:
    """Close and count: compute the result from the frozen roll and the current votes and keep it,
    with the snapshot of what is published. Refused (409, nothing written) before the announced
    closing time unless every owner on the roll has voted (``count_refusal``). After this nothing
    about the ballot changes."""
    ballot = _locked(ballot)
    authorize(user, Action.CONSULT, ballot)
    now = clock.now()
    refusal = count_refusal(ballot, now)
    if refusal is not None:
        raise refusal
    return _count(ballot, user, now)


def count_due(now: datetime | None = None) -> tuple[list[int], list[int]]:
    """Count every open ballot whose closing time has passed (``manage.py count_due_ballots``, from
    cron or a timer). Returns (counted ids, ids left open because their roll changed after
    opening: staff must look at those)."""
    now = now or clock.now()
    counted: list[int] = []
    suspended: list[int] = []
    due = Ballot.objects.filter(status=Ballot.Status.OPEN, closes_at__lte=now).order_by("closes_at", "pk")
    for pk in list(due.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                ballot = Ballot.objects.select_for_update().get(pk=pk)
                if ballot.status != Ballot.Status.OPEN or ballot.closes_at is None or ballot.closes_at > now:
                    continue
                _count(ballot, None, now)
                counted.append(pk)
        except LinliError:
            suspended.append(pk)
            log.warning("ballot %s is due but its roll changed after opening: not counted", pk)
    return counted, suspended


def withdraw_refusal(ballot: Ballot, reason: str) -> LinliError | None:
    """Why withdrawing ``ballot`` with ``reason`` would be refused, or None."""
    try:
        _refuse_unless_status(ballot, Ballot.Status.DRAFT, Ballot.Status.OPEN)
    except LinliError as exc:
        return exc
    reason = (reason or "").strip()
    if len(reason) < MIN_WITHDRAW_REASON:
        return LinliError.one(
            "reason_required",
            f"撤回表决须写明理由(至少 {MIN_WITHDRAW_REASON} 个字),理由将公开。",
            f"Withdrawing a ballot needs a written reason (at least {MIN_WITHDRAW_REASON} characters); "
            "it is published.",
        )
    if len(reason) > MAX_WITHDRAW_REASON:
        return LinliError.one(
            "reason_too_long",
            f"撤回理由不超过 {MAX_WITHDRAW_REASON} 字。",
            f"The reason is at most {MAX_WITHDRAW_REASON:,} characters.",
        )
    return None


@transaction.atomic
def withdraw_ballot(user: User, ballot: Ballot, reason: str) -> Ballot:
    """A manager (CONSULT) ends a draft or open ballot early, with a written reason. The ballot
    then decides nothing: no figures are counted, ``approved`` is never true, it takes no votes.
    The reason is kept on the ballot, in its ``result`` record (with the snapshot of the places'
    names, roll size, who and when), logged, and — for an opened ballot of a project — published
    as a withdrawal notice on the project's pages."""
    ballot = _locked(ballot)
    authorize(user, Action.CONSULT, ballot)
    assert isinstance(user, Account)  # authorize() lets only a signed-in account through
    refusal = withdraw_refusal(ballot, reason)
    if refusal is not None:
        raise refusal
    reason = reason.strip()
    now = clock.now()
    was_open = ballot.status == Ballot.Status.OPEN
    voted, owners = participation(ballot) if was_open else (0, 0)
    scope, compound = _scope_and_compound(ballot)
    snap = snapshots.ballot_snapshot(ballot, scope, compound, by=user, at=now, outcome="withdrawn")
    ballot.result = {
        "outcome": "withdrawn",
        "decided": False,
        "approved": False,
        "approved_by_vote": False,
        "withdrawn": {
            "reason": reason,
            "by": snapshots.person_label(user),
            "at": now.isoformat(),
            "was_open": was_open,
            "voted": voted,
            "owners": owners,
        },
        "snapshot": snap,
    }
    ballot.status = Ballot.Status.WITHDRAWN
    ballot.withdrawn_reason = reason
    ballot.withdrawn_by = user
    ballot.withdrawn_at = now
    ballot.save(update_fields=["result", "status", "withdrawn_reason", "withdrawn_by", "withdrawn_at"])
    log.warning("ballot %s withdrawn by user %s at %s: %s", ballot.pk, user.pk, now.isoformat(), reason)
    if was_open and ballot.project is not None:
        from linli.consult.services import notices

        notices.publish_withdrawal(user, ballot)
    return ballot
