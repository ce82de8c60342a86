"""Every write of the places app that comes from a file: rosters and boundaries, in two steps.

**Upload → preview → confirm → apply, or cancel** (issue 8). ``preview_roster`` /
``preview_boundaries`` read and check the whole file, resolve every row against the database and
the user's permissions, and work out exactly what would be created, changed (field by field,
old → new) and removed — without writing any of it. A file with any problem is refused with every
problem at once (:class:`ImportRefused`, nothing stored). A clean file is stored as an
:class:`~linli.places.models.ImportPreview` (the file encrypted, its sha256, a fingerprint of the
database rows the plan was read from, and the masked plan). ``apply_preview`` writes the plan in
one transaction, all or nothing, and only if the file's digest, the database fingerprint and the
plan are unchanged and every conflict about a person was decided; ``cancel_preview`` writes only
the preview's status.

**People are never merged or renamed by a file.** An ID number whose person on record has another
name, or a name (born the same year, when both are known) owned in the same community under another
ID number, is a :class:`Conflict` that a worker decides in the preview (``resolve_conflicts``):
"the same person: update the name" / "different people: add a new owner", or "stop".

**Frozen rolls**: every planned dwelling change goes through the guards of
``linli.places.guards`` (consult refuses changes to the counts of an open ballot).

Permission: every community the file touches must pass ``authorize(user, EDIT, community)``; a
community outside the user's scope is reported exactly like a code that does not exist. Previews
are scoped by their community's path: only users who may EDIT it see, decide or confirm them.

``import_roster`` / ``import_boundaries`` do both steps in one call for the command line, the demo
and the benchmark (a file with conflicts is refused there: they need a person's decision).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import IO, Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, OperationalError, models, transaction
from django.http import Http404

from linli.accounts.models import AccessLog
from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.accounts.services import log_access
from linli.core import clock, crypto, generations
from linli.core.errors import LinliError, Problem
from linli.core.masking import mask_id_number, mask_phone, normalise_id_number
from linli.core.types import User
from linli.places import guards, importing
from linli.places.codes import child_path
from linli.places.importing import BuildingRow, DwellingRow, PartialRow, Problems
from linli.places.models import (
    Building,
    Community,
    Compound,
    Dwelling,
    Grid,
    Household,
    ImportPreview,
    Ownership,
    Person,
    Resident,
    Unit,
)
from linli.places.queries.spots import GENERATION as SPOTS
from linli.runs import services as runs_services
from linli.runs.models import Run

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]
BATCH = 2000
DETAIL_LIMIT = 1000  # entries of each section (created, changed, removed) a stored preview keeps
PLAN_VERSION = 1

KINDS = ("compounds", "buildings", "units", "dwellings", "people", "ownerships", "households", "residents")
PLACE_KINDS = ("communities", "grids")  # boundaries also touch these
CHOICES = {"id_name": ("rename", "stop"), "name_id": ("separate", "stop")}


def _noop(stage: str, done: int, total: int | None) -> None:
    return None


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    removed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    communities: list[str] = field(default_factory=list)
    preview_id: int | None = None

    KINDS = KINDS + PLACE_KINDS

    def table(self) -> list[tuple[str, int, int, int]]:
        return [
            (k, self.created.get(k, 0), self.updated.get(k, 0), self.unchanged.get(k, 0))
            for k in self.KINDS
            if self.created.get(k, 0) or self.updated.get(k, 0) or self.unchanged.get(k, 0) or self.removed.get(k, 0)
        ]

    def summary(self) -> str:
        parts = []
        for k, c, u, _ in self.table():
            r = self.removed.get(k, 0)
            parts.append(f"{k} +{c} ~{u}" + (f" -{r}" if r else ""))
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        counts = {
            k: {
                "created": self.created.get(k, 0),
                "changed": self.updated.get(k, 0),
                "removed": self.removed.get(k, 0),
                "unchanged": self.unchanged.get(k, 0),
            }
            for k in self.KINDS
        }
        return {
            "counts": {k: v for k, v in counts.items() if any(v.values())},
            "rows": self.rows,
            "communities": self.communities,
        }


@dataclass
class ImportRefused(LinliError):
    """A file that cannot be imported: every problem, and (for the page) the plan of its good rows."""

    plan: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "preview": self.plan}


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _filter_in(qs: models.QuerySet[Any, Any], lookup: str, values: Iterable[Any], size: int = 900) -> list[Any]:
    """``qs.filter(<lookup>__in=values)`` in chunks (SQLite limits the number of parameters)."""
    out: list[Any] = []
    vals = list(values)
    for chunk in _chunks(vals, size):
        out += list(qs.filter(**{f"{lookup}__in": chunk}))
    return out


def community_keys(community: Community) -> tuple[str, str]:
    """The two spellings of a community code a file may use: the path and the 12-digit code."""
    path = community.path.strip("/")
    return path, path.replace("/", "")


def _community_problem(code: str, row: int | None, column: str | None, denied: bool, extra: str = "") -> Problem:
    if denied:
        return Problem(
            "not_allowed",
            f"您无权修改社区 {code} 的数据{extra}。",
            f"You may not change community {code}{extra}.",
            row=row,
            column=column,
        )
    return Problem(
        "unknown_community",
        f"社区编码 {code} 不存在,或不在您的管辖范围内{extra}。",
        f"Community code {code} does not exist or is not within your scope{extra}.",
        row=row,
        column=column,
    )


def resolve_communities(
    user: User, uses: dict[str, tuple[int | None, str | None, int]], problems: Problems, only: Community | None = None
) -> dict[str, Community]:
    """Map each community code used in a file (code → first row, column, number of rows) to a
    community the user may EDIT; anything else becomes a problem (unknown = out of scope)."""
    if not uses:
        return {}
    by_key: dict[str, Community] = {}
    for c in Community.objects.only("id", "code", "name", "path"):
        for key in community_keys(c):
            by_key.setdefault(key, c)
    out: dict[str, Community] = {}
    for code, (row, column, count) in uses.items():
        extra = f"(共 {count} 行)" if count > 1 else ""
        found = by_key.get(code)
        if found is None:
            problems.add(_community_problem(code, row, column, False, extra))
            continue
        c = found
        try:
            authorize(user, Action.EDIT, c)
        except Http404:
            problems.add(_community_problem(code, row, column, False, extra))
            continue
        except PermissionDenied:
            problems.add(_community_problem(code, row, column, True, extra))
            continue
        if only is not None and c.pk != only.pk:
            problems.add(
                Problem(
                    "other_community",
                    f"社区编码 {code} 不是本页的社区({only.name}){extra};请在该社区的导入页面导入。",
                    f"Community code {code} is not this page's community ({only.name}); import it "
                    "from that community's page.",
                    row=row,
                    column=column,
                )
            )
            continue
        out[code] = c
    return out


def _strip_zeros(code: str) -> str:
    return code.lstrip("0") or "0"


# --------------------------------------------------------------------------------------------------
# The plan: what an import would write, worked out before anything is written


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return round(value, 7)
    return value


@dataclass
class Entry:
    """One line of a preview: a thing created, changed (old → new per field) or removed."""

    kind: str  # one of KINDS
    row: int | None
    label: str
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "row": self.row,
            "label": self.label,
            "fields": [[k, _json(old), _json(new)] for k, old, new in self.fields],
        }


@dataclass
class Conflict:
    """A row that would rename a person or split one: only a worker may decide (issue 8)."""

    id: str
    kind: str  # id_name: the ID number's person has another name; name_id: the name has another ID number
    rows: list[int]
    column: str | None
    person_id: int
    person_name: str
    person_id_masked: str
    person_dwellings: int
    file_name: str
    file_id_masked: str
    others: int = 0  # more people on record with the same name (name_id)

    @property
    def choices(self) -> tuple[str, ...]:
        return CHOICES[self.kind]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "rows": self.rows,
            "column": self.column,
            "person_id": self.person_id,
            "person_name": self.person_name,
            "person_id_masked": self.person_id_masked,
            "person_dwellings": self.person_dwellings,
            "file_name": self.file_name,
            "file_id_masked": self.file_id_masked,
            "others": self.others,
            "choices": list(self.choices),
        }

    def problem(self) -> Problem:
        rows = "、".join(str(r) for r in self.rows[:10]) + ("…" if len(self.rows) > 10 else "")
        rows_en = ", ".join(str(r) for r in self.rows[:10]) + ("…" if len(self.rows) > 10 else "")
        if self.kind == "id_name":
            return Problem(
                "person_conflict",
                f"证件号 {self.file_id_masked} 登记的是“{self.person_name}”,文件中是“{self.file_name}”"
                f"(第 {rows} 行):文件不会改名或合并人员,须由工作人员确认是否同一人。",
                f"ID number {self.file_id_masked} belongs to {self.person_name!r} on record but to "
                f"{self.file_name!r} in the file (rows {rows_en}): a file never renames or merges people; a "
                "worker must decide whether this is the same person.",
                row=self.rows[0],
                column=self.column,
            )
        return Problem(
            "person_conflict",
            f"本社区已有产权人“{self.person_name}”(证件号 {self.person_id_masked}),文件中同名者的证件号是 "
            f"{self.file_id_masked}(第 {rows} 行):须由工作人员确认是否同一人。",
            f"{self.person_name!r} already owns dwellings in this community under ID number "
            f"{self.person_id_masked}; the file gives the same name with ID number {self.file_id_masked} "
            f"(rows {rows_en}): a worker must decide whether this is the same person.",
            row=self.rows[0],
            column=self.column,
        )


def _conflict_text(c: dict[str, Any], choice: str) -> tuple[str, str]:
    """What a decision on a conflict does, in both languages (for the decision log)."""
    if choice == "rename":
        return (
            f"同一人:将“{c['person_name']}”({c['person_id_masked']})改名为“{c['file_name']}”",
            f"same person: rename {c['person_name']!r} ({c['person_id_masked']}) to {c['file_name']!r}",
        )
    if choice == "separate":
        return (
            f"不是同一人:新增产权人“{c['file_name']}”({c['file_id_masked']}),“{c['person_name']}”"
            f"({c['person_id_masked']})不变",
            f"different people: add {c['file_name']!r} ({c['file_id_masked']}) as a new owner; "
            f"{c['person_name']!r} ({c['person_id_masked']}) stays as is",
        )
    return (
        f"停止导入:“{c['person_name']}”/“{c['file_name']}”须先核实并改正文件",
        f"stop the import: {c['person_name']!r} / {c['file_name']!r} must be checked and the file fixed",
    )


def _digest_update(h: Any, item: Any) -> None:
    h.update(json.dumps(item, ensure_ascii=False, sort_keys=True, default=str).encode())
    h.update(b"\n")


def _sorted_problems(problems: Problems) -> list[Problem]:
    """Every problem by row (file-level ones first), the "and N more" line last."""
    final = problems.final()
    tail = [p for p in final if p.code == "too_many_problems"]
    body = [p for p in final if p.code != "too_many_problems"]
    return sorted(body, key=lambda p: (p.code not in _FILE_LEVEL, p.row is not None, p.row or 0)) + tail


# Problems with the file as a whole come first: they make the rest moot.
_FILE_LEVEL = frozenset({"bad_file", "not_utf8", "empty", "columns", "too_many_rows", "duplicate_sheet", "bad_json"})


class _Base:
    """What both plans share: counts, entries, conflicts, the plan's JSON and digest.

    A big first import creates hundreds of thousands of entries: each is counted and hashed into
    the digest as it comes, but only the first ``DETAIL_LIMIT`` of each section are kept."""

    def __init__(self) -> None:
        self.sections: dict[str, list[Entry]] = {"created": [], "changed": [], "removed": []}
        self.more: dict[str, int] = {"created": 0, "changed": 0, "removed": 0}
        self.conflicts: list[Conflict] = []
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.fingerprint = ""
        self.rows = 0
        self.touched: list[Any] = []  # the communities (or places) the plan touches
        self._hash = hashlib.sha256()

    @property
    def created(self) -> list[Entry]:
        return self.sections["created"]

    @property
    def changed(self) -> list[Entry]:
        return self.sections["changed"]

    @property
    def removed(self) -> list[Entry]:
        return self.sections["removed"]

    def add(self, section: str, entry: Entry, n: int = 1) -> None:
        self.counts[entry.kind][section] += n
        # What is created carries the file's own values (the file has its digest): its kind, row and
        # label say what the database made of it. Changes and removals carry database values too.
        fields = entry.fields if section != "created" else ()
        self._hash.update(f"{section}\x1f{entry.kind}\x1f{entry.row}\x1f{entry.label}\x1f{fields!r}\n".encode())
        kept = self.sections[section]
        if len(kept) < DETAIL_LIMIT:
            kept.append(entry)
        else:
            self.more[section] += 1

    def digest(self) -> str:
        """sha256 of the whole plan (every entry, not only the ones a stored preview keeps)."""
        h = self._hash.copy()
        _digest_update(h, {"version": PLAN_VERSION, "rows": self.rows})
        for c in self.conflicts:
            _digest_update(h, c.as_json())
        _digest_update(h, {k: dict(v) for k, v in sorted(self.counts.items())})
        return h.hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "rows": self.rows,
            "communities": [{"id": c.pk, "name": str(c), "path": getattr(c, "path", "")} for c in self.touched],
            "counts": {
                k: {s: self.counts[k].get(s, 0) for s in ("created", "changed", "removed", "unchanged")}
                for k in sorted(self.counts)
            },
            "created": [e.as_json() for e in self.created],
            "changed": [e.as_json() for e in self.changed],
            "removed": [e.as_json() for e in self.removed],
            "more": dict(self.more),
            "conflicts": [c.as_json() for c in self.conflicts],
        }


def _ckey(comp: Compound) -> Any:
    """A key for a compound that may not exist yet."""
    return comp.pk if comp.pk is not None else ("new", comp.community_id, comp.code)


def _bkey(b: Building) -> Any:
    return b.pk if b.pk is not None else ("new", _ckey(b.compound), b.code)


def _person_label(p: Person) -> str:
    return f"{p.name} ({p.id_number_masked})" if p.id_number_masked else p.name


def _owners_text(links: Iterable[tuple[Person | dict[str, Any], Decimal]]) -> str:
    out = []
    for p, share in sorted(links, key=lambda x: (-x[1], str(x[0]))):
        if isinstance(p, dict):
            name, masked = p["name"], p["id_number_masked"]
        else:
            name, masked = p.name, p.id_number_masked
        text = f"{name} ({masked})" if masked else name
        if share != 1:
            text += f" ×{share.normalize()}"
        out.append(text)
    return "、".join(out)


def _birth_year(id_number: str) -> int | None:
    return int(id_number[6:10]) if len(id_number) == 18 and id_number[6:10].isdigit() else None


@dataclass(slots=True)
class _Guarded:
    """One planned dwelling, as the import guards will see it."""

    row: int
    label: str
    dwelling: Dwelling | None
    unit: Unit
    building: Building
    changes: set[str] = field(default_factory=set)
    column: str | None = None


class _Plan(_Base):
    """What a roster import would write. ``resolve()`` reads; ``write()`` writes, nothing else does."""

    def __init__(
        self,
        user: User,
        roster: importing.Roster,
        problems: Problems,
        only: Community | None,
        *,
        lock: bool = False,
    ):
        super().__init__()
        self.user = user
        self.roster = roster
        self.problems = problems
        self.only = only
        self.lock = lock
        self.now = clock.now()
        self.rows = len(roster.buildings) + len(roster.dwellings)
        self.b_label = roster.labels.get("buildings")
        self.d_label = roster.labels.get("dwellings")
        self.communities: dict[str, Community] = {}
        self.hashes = {
            r.owner_id_number: crypto.lookup_hash(r.owner_id_number) for r in roster.dwellings if r.owner_id_number
        }
        self.org_names = sorted(
            {r.owner_name for r in roster.dwellings if r.owner_kind == "organisation" and not r.owner_id_number}
        )
        # filled by resolve()
        self.new_compounds: dict[tuple[int, str], Compound] = {}
        self.changed_compounds: dict[int, Compound] = {}
        self.new_buildings: list[Building] = []
        self.changed_buildings: list[Building] = []
        self.new_units: dict[Any, Unit] = {}
        self.new_dwellings: list[Dwelling] = []
        self.changed_dwellings: list[Dwelling] = []
        self.dwellings: list[tuple[DwellingRow, Dwelling, bool]] = []
        self.new_people: list[Person] = []
        self.changed_people: dict[int, Person] = {}
        # Encrypted fields are sealed only when the plan is written: a preview that is only shown
        # needs the hash and the masked value, not 100,000 Fernet encryptions (person, field, clear).
        self.sealed: list[tuple[Person, str, str]] = []
        self.replace_owners: list[int] = []
        self.new_links: list[tuple[Dwelling, Person, Decimal]] = []
        self.owner_of: dict[int, Person] = {}  # id(dwelling) → owner
        self.vacate: list[int] = []
        self.new_households: list[Household] = []
        self.changed_households: list[Household] = []
        self.new_heads: list[tuple[Household, Person]] = []
        self.planned: dict[int, _Guarded] = {}  # row → what the guards get to see
        self._cols: dict[tuple[str, str], str] = {}

    # --- column labels ---------------------------------------------------------------------------

    def _col(self, sheet: str, key: str) -> str:
        cached = self._cols.get((sheet, key))
        if cached is not None:
            return cached
        self._cols[(sheet, key)] = label = self._col_label(sheet, key)
        return label

    def _col_label(self, sheet: str, key: str) -> str:
        spec = importing.BUILDINGS if sheet == "buildings" else importing.DWELLINGS
        header = next(c.header for c in spec.columns if c.key == key)
        label = self.b_label if sheet == "buildings" else self.d_label
        return f"{label} · {header}" if label and len(self.roster.labels) > 1 else header

    # --- resolution ----------------------------------------------------------------------------

    def resolve(self) -> None:
        uses: dict[str, tuple[int | None, str | None, int]] = {}
        rows: list[tuple[int, str, str]] = [(r.row, r.community_code, "buildings") for r in self.roster.buildings]
        rows += [(r.row, r.community_code, "dwellings") for r in self.roster.dwellings]
        rows += [(p.row, p.community_code, p.kind) for p in self.roster.partial]
        for row, code, sheet in sorted(rows):
            if code in uses:
                first = uses[code]
                uses[code] = (first[0], first[1], first[2] + 1)
            else:
                uses[code] = (row, self._col(sheet, "community_code"), 1)
        self.communities = resolve_communities(self.user, uses, self.problems, self.only)
        ids = sorted({c.pk for c in self.communities.values()})
        self.touched = [c for c in sorted({c.pk: c for c in self.communities.values()}.values(), key=lambda c: c.pk)]
        if self.lock and ids:
            # Confirming: one import per community at a time (PostgreSQL row locks; SQLite's
            # IMMEDIATE transaction already holds the write lock). The fingerprint below is read
            # after the lock, so a concurrent import that committed first is seen.
            list(Community.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
            for chunk in _chunks(sorted(set(self.hashes.values())), 900):
                list(
                    Person.objects.select_for_update().filter(id_number_hash__in=chunk).order_by("pk").values_list("pk")
                )
        self.fingerprint = fingerprint(ids, self.hashes.values(), self.org_names)
        self.compounds: dict[tuple[int, str], Compound] = {
            (c.community_id, c.code): c for c in Compound.objects.filter(community_id__in=ids)
        }
        self.buildings: dict[tuple[int, str], Building] = {
            (b.compound_id, b.code): b for b in Building.objects.filter(community_id__in=ids).select_related("compound")
        }
        self._plan_buildings()
        self._plan_dwellings()
        self._plan_owners()
        self._plan_households()
        self._check_guards()
        # What only the planning needed goes now: a 60,000-row file is big enough to matter.
        self.planned.clear()
        self.dwellings = []
        self.owner_of.clear()
        self.hashes = {}

    def _compound_clash(self, community: Community, code: str, name: str) -> Compound | None:
        for (cid, other_code), comp in self.compounds.items():
            if (
                cid == community.pk
                and other_code != code
                and (comp.name == name or _strip_zeros(other_code) == _strip_zeros(code))
            ):
                return comp
        return None

    def _plan_buildings(self) -> None:
        # file building key → Building (existing or new) for the dwellings to hang on
        self.file_buildings: dict[tuple[str, str, str], Building] = {}
        self.partial_storeys: dict[tuple[str, str, str], int | None] = {
            p.building_key: p.storeys for p in self.roster.partial_of("buildings")
        }
        by_compound: dict[int, list[Building]] = defaultdict(list)
        for b in self.buildings.values():
            by_compound[b.compound_id].append(b)
        compound_rows: dict[Any, int] = {}
        for r in self.roster.buildings:
            community = self.communities.get(r.community_code)
            if community is None:
                continue
            comp = self.compounds.get((community.pk, r.compound_code)) or self.new_compounds.get(
                (community.pk, r.compound_code)
            )
            if comp is None:
                clash = self._compound_clash(community, r.compound_code, r.compound_name)
                if clash is not None:
                    self.problems.add(
                        Problem(
                            "code_clash",
                            f"小区“{r.compound_name}”({r.compound_code})与已有小区“{clash.name}”"
                            f"(编码 {clash.code})名称或编码相近;Excel 是否去掉了前导 0?",
                            f"Compound {r.compound_name!r} ({r.compound_code}) clashes with the existing compound "
                            f"{clash.name!r} (code {clash.code}); did Excel drop a leading zero?",
                            row=r.row,
                            column=self._col("buildings", "compound_code"),
                        )
                    )
                    continue
                comp = Compound(
                    community=community,
                    code=r.compound_code,
                    name=r.compound_name,
                    build_year=r.compound_build_year,
                    path=child_path(community.path, r.compound_code),
                )
                self.new_compounds[(community.pk, r.compound_code)] = comp
                self.add(
                    "created",
                    Entry(
                        "compounds",
                        r.row,
                        f"{community.name} {r.compound_name}",
                        [("compound_code", None, r.compound_code), ("compound_name", None, r.compound_name)]
                        + ([("compound_build_year", None, r.compound_build_year)] if r.compound_build_year else []),
                    ),
                )
            elif comp.pk is not None and comp.pk not in compound_rows:
                compound_rows[comp.pk] = r.row
                diff: list[tuple[str, Any, Any]] = []
                if comp.name != r.compound_name:
                    diff.append(("compound_name", comp.name, r.compound_name))
                if r.compound_build_year is not None and comp.build_year != r.compound_build_year:
                    diff.append(("compound_build_year", comp.build_year, r.compound_build_year))
                if diff:
                    self.add("changed", Entry("compounds", r.row, f"{community.name} {comp.name}", diff))
                    comp.name = r.compound_name
                    if r.compound_build_year is not None:
                        comp.build_year = r.compound_build_year
                    comp.updated_at = self.now
                    self.changed_compounds[comp.pk] = comp
                else:
                    self.counts["compounds"]["unchanged"] += 1
            bld = self.buildings.get((comp.pk, r.building_code)) if comp.pk is not None else None
            if bld is None:
                siblings = by_compound.get(comp.pk, []) if comp.pk is not None else []
                clash_b = next(
                    (
                        s
                        for s in siblings
                        if s.name == r.building_name or _strip_zeros(s.code) == _strip_zeros(r.building_code)
                    ),
                    None,
                )
                if clash_b is not None:
                    self.problems.add(
                        Problem(
                            "code_clash",
                            f"楼栋“{r.building_name}”({r.building_code})与本小区已有楼栋“{clash_b.name}”"
                            f"(编码 {clash_b.code})冲突;Excel 是否去掉了前导 0?",
                            f"Building {r.building_name!r} ({r.building_code}) clashes with the existing building "
                            f"{clash_b.name!r} (code {clash_b.code}) of this compound; did Excel drop a leading zero?",
                            row=r.row,
                            column=self._col("buildings", "building_code"),
                        )
                    )
                    continue
                bld = Building(compound=comp, community_id=community.pk, code=r.building_code)
                created = self._set_building(bld, r)
                self.new_buildings.append(bld)
                self.add(
                    "created",
                    Entry(
                        "buildings",
                        r.row,
                        f"{comp.name} {r.building_name}",
                        [("building_code", None, r.building_code)] + [(k, None, new) for k, _, new in created],
                    ),
                )
            else:
                changes = self._set_building(bld, r)
                if changes:
                    bld.updated_at = self.now
                    self.changed_buildings.append(bld)
                    self.add("changed", Entry("buildings", r.row, f"{comp.name} {bld.name}", changes))
                    self._check_storeys(bld, r)
                else:
                    self.counts["buildings"]["unchanged"] += 1
            self.file_buildings[r.key] = bld

    _BUILDING_FIELDS = (
        ("building_name", "name"),
        ("storeys", "storeys"),
        ("building_kind", "building_kind"),
        ("has_lift", "has_lift"),
        ("build_year", "build_year"),
        ("lat", "lat"),
        ("lon", "lon"),
    )

    @classmethod
    def _set_building(cls, b: Building, r: BuildingRow) -> list[tuple[str, Any, Any]]:
        new = {"name": r.building_name, "storeys": r.storeys, "building_kind": r.building_kind, "has_lift": r.has_lift}
        if r.build_year is not None:
            new["build_year"] = r.build_year
        if r.lat is not None:
            new["lat"], new["lon"] = r.lat, r.lon
        changes: list[tuple[str, Any, Any]] = []
        for key, attr in cls._BUILDING_FIELDS:
            if attr in new and getattr(b, attr) != new[attr]:
                changes.append((key, getattr(b, attr), new[attr]))
                setattr(b, attr, new[attr])
        return changes

    def _check_storeys(self, b: Building, r: BuildingRow) -> None:
        """Fewer storeys than before: no dwelling already on record may be left above the top floor."""
        top = Dwelling.objects.filter(building_id=b.pk).aggregate(m=models.Max("floor"))["m"]
        if top is not None and top > b.storeys:
            self.problems.add(
                Problem(
                    "value",
                    f"层数改为 {b.storeys},但该楼已登记有 {top} 层的房屋。",
                    f"Storeys would become {b.storeys}, but the building already has dwellings on floor {top}.",
                    row=r.row,
                    column=self._col("buildings", "storeys"),
                )
            )

    def _building_for(self, key: tuple[str, str, str], community: Community) -> Building | None:
        b = self.file_buildings.get(key)
        if b is not None:
            return b
        comp = self.compounds.get((community.pk, key[1]))
        b = self.buildings.get((comp.pk, key[2])) if comp is not None else None
        if b is not None:
            self.file_buildings[key] = b
        return b

    def _plan_dwellings(self) -> None:
        good: list[tuple[DwellingRow, Building]] = []
        candidates: list[DwellingRow | PartialRow] = [*self.roster.dwellings, *self.roster.partial_of("dwellings")]
        for r in sorted(candidates, key=lambda x: x.row):
            community = self.communities.get(r.community_code)
            if community is None:
                continue
            b = self._building_for(r.building_key, community)
            storeys: int | None = b.storeys if b is not None else None
            if b is None and r.building_key in self.partial_storeys:
                storeys = self.partial_storeys[r.building_key]  # its row has a problem of its own
            elif b is None:
                self.problems.add(
                    Problem(
                        "unknown_building",
                        f"楼栋不存在:小区 {r.compound_code} 楼栋 {r.building_code} 既不在系统中,"
                        "也不在本文件的楼栋表中。",
                        f"Unknown building: compound {r.compound_code} building {r.building_code} is neither in the "
                        "system nor in this file's buildings sheet.",
                        row=r.row,
                        column=self._col("dwellings", "building_code"),
                    )
                )
                continue
            if r.floor is not None and storeys is not None and r.floor > storeys:
                self.problems.add(
                    Problem(
                        "value",
                        f"楼层 {r.floor} 高于楼栋层数 {storeys}。",
                        f"Floor {r.floor} is above the building's {storeys} storeys.",
                        row=r.row,
                        column=self._col("dwellings", "floor"),
                    )
                )
                continue
            if isinstance(r, DwellingRow) and b is not None:
                good.append((r, b))
        if not good:
            return
        building_ids = {b.pk for _, b in good if b.pk is not None}
        units: dict[Any, Unit] = {
            (u.building_id, u.number): u
            for u in _filter_in(Unit.objects.only("id", "building_id", "number"), "building_id", building_ids)
        }
        existing: dict[tuple[int, str], Dwelling] = {
            (d.unit_id, d.number): d
            for d in _filter_in(
                Dwelling.objects.only("id", "unit_id", "building_id", "number", "floor", "area", "area_source", "use"),
                "unit_id",
                {u.pk for u in units.values()},
            )
        }
        for r, b in good:
            label = f"{b.compound.name} {b.name} {r.unit}-{r.number}"
            key = (_bkey(b), r.unit)
            unit = units.get((b.pk, r.unit)) if b.pk is not None else None
            if unit is None:
                unit = self.new_units.get(key)
                if unit is None:
                    unit = Unit(building=b, number=r.unit)
                    self.new_units[key] = unit
                    self.add("created", Entry("units", r.row, f"{b.compound.name} {b.name} {r.unit}单元"))
            d = existing.get((unit.pk, r.number)) if unit.pk is not None else None
            guard = _Guarded(r.row, label, d, unit, b)
            if d is None:
                d = Dwelling(
                    unit=unit,
                    building=b,
                    number=r.number,
                    floor=r.floor,
                    area=r.area,
                    area_source=r.area_source,
                    use=r.use,
                )
                self.new_dwellings.append(d)
                self.dwellings.append((r, d, True))
                self.add(
                    "created",
                    Entry(
                        "dwellings",
                        r.row,
                        label,
                        [
                            ("floor", None, r.floor),
                            ("area", None, r.area),
                            ("area_source", None, r.area_source),
                            ("use", None, r.use),
                        ],
                    ),
                )
                guard.changes.add("new")
                guard.column = self._col("dwellings", "number")
            else:
                diff = [
                    (k, getattr(d, k), v)
                    for k, v in (("floor", r.floor), ("area", r.area), ("area_source", r.area_source), ("use", r.use))
                    if getattr(d, k) != v
                ]
                if diff:
                    for k, _, v in diff:
                        setattr(d, k, v)
                    self.changed_dwellings.append(d)
                    self.add("changed", Entry("dwellings", r.row, label, diff))
                    guard.changes.update(k for k, _, _ in diff)
                    guard.column = self._col("dwellings", diff[0][0])
                else:
                    self.counts["dwellings"]["unchanged"] += 1
                d.unit, d.building = unit, b  # the objects already loaded: no query per dwelling
                self.dwellings.append((r, d, False))
            self.planned[r.row] = guard

    def _plan_owners(self) -> None:
        with_owner = [(r, d, new) for r, d, new in self.dwellings if r.has_owner]
        if not with_owner:
            return
        old_ids = [d.pk for _, d, new in with_owner if not new]
        current: dict[int, set[tuple[int, Decimal]]] = defaultdict(set)
        for o in _filter_in(Ownership.objects.only("dwelling_id", "person_id", "share"), "dwelling_id", old_ids):
            current[o.dwelling_id].add((o.person_id, o.share))
        known: dict[int, Person] = {
            p.pk: p
            for p in _filter_in(
                Person.objects.only("id", "kind", "name", "id_number_hash", "id_number_masked", "phone_masked"),
                "id",
                {pid for links in current.values() for pid, _ in links},
            )
        }
        # People: by ID-number hash; organisations by name; one developer per compound; others by the
        # dwelling's current owner of the same name (a re-import without ID numbers must not duplicate).
        by_hash: dict[str, Person] = {
            p.id_number_hash: p for p in _filter_in(Person.objects.all(), "id_number_hash", set(self.hashes.values()))
        }
        orgs = {
            p.name: p
            for p in _filter_in(
                Person.objects.filter(kind=Person.Kind.ORGANISATION, id_number_hash=""), "name", self.org_names
            )
        }
        dev_compounds = {
            d.building.compound.pk
            for r, d, _ in with_owner
            if r.owner_kind == "developer" and d.building.compound.pk is not None
        }
        developers: dict[Any, Person] = {}
        dev_links = Ownership.objects.filter(person__kind=Person.Kind.DEVELOPER).select_related(
            "person", "dwelling__building"
        )
        for o in _filter_in(dev_links, "dwelling__building__compound_id", dev_compounds):
            developers.setdefault(o.dwelling.building.compound_id, o.person)
        named: dict[tuple[int, str], Person] = {}
        for dwelling_id, links in current.items():
            for pid, _ in links:
                p = known.get(pid)
                if p is not None and not p.id_number_hash:
                    named[(dwelling_id, p.name)] = p

        new_by_hash: dict[str, tuple[Person, DwellingRow]] = {}
        id_name: dict[tuple[int, str], list[int]] = defaultdict(list)
        for r, d, new in with_owner:
            person: Person | None = None
            if r.owner_kind == "developer":
                ckey = _ckey(d.building.compound)
                person = developers.get(ckey)
                if person is None:
                    person = Person(
                        kind=Person.Kind.DEVELOPER, name=r.owner_name or f"{d.building.compound.name} 开发商(未售)"
                    )
                    developers[ckey] = person
                    self._new_person(person, r)
            elif r.owner_id_number:
                h = self.hashes[r.owner_id_number]
                person = by_hash.get(h)
                if person is None:
                    person = Person(kind=r.owner_kind, name=r.owner_name)
                    self._set_id_number(person, r.owner_id_number)
                    by_hash[h] = person
                    new_by_hash[h] = (person, r)
                    self._new_person(person, r)
                elif person.pk is not None and person.name != r.owner_name:
                    id_name[(person.pk, r.owner_name)].append(r.row)  # never renamed silently
            elif r.owner_kind == "organisation":
                person = orgs.get(r.owner_name)
                if person is None:
                    person = Person(kind=r.owner_kind, name=r.owner_name)
                    orgs[r.owner_name] = person
                    self._new_person(person, r)
            else:
                person = None if new else named.get((d.pk, r.owner_name))
                if person is None:
                    person = Person(kind=r.owner_kind, name=r.owner_name)
                    self._new_person(person, r)
            if r.owner_phone and person.kind != Person.Kind.DEVELOPER:
                masked = mask_phone(r.owner_phone)
                if person.pk is None:
                    self._set_phone(person, r.owner_phone)
                elif person.phone_masked != masked and person.pk not in self.changed_people:
                    self.add(
                        "changed",
                        Entry("people", r.row, _person_label(person), [("owner_phone", person.phone_masked, masked)]),
                    )
                    self._set_phone(person, r.owner_phone)
                    self.changed_people[person.pk] = person
            self.owner_of[id(d)] = person
            want = (person, r.share)
            guard = self.planned[r.row]
            if new:
                self.new_links.append((d, person, r.share))
                self.add("created", Entry("ownerships", r.row, guard.label, [("owners", None, _owners_text([want]))]))
                continue
            had = current.get(d.pk)
            if person.pk is not None and had == {(person.pk, r.share)}:
                self.counts["ownerships"]["unchanged"] += 1
                continue
            old_text = _owners_text((known[pid], share) for pid, share in had) if had else ""
            new_text = _owners_text([want])
            label = guard.label
            if had:
                self.replace_owners.append(d.pk)
                self.add("changed", Entry("ownerships", r.row, label, [("owners", old_text, new_text)]))
            else:
                self.add("created", Entry("ownerships", r.row, label, [("owners", None, new_text)]))
            self.new_links.append((d, person, r.share))
            guard.changes.add("owners")
            guard.column = guard.column or self._col("dwellings", "owner_name")
        self._conflicts(id_name, new_by_hash, by_hash)

    def _set_id_number(self, person: Person, value: str) -> None:
        """``Person.set_id_number`` with the encryption left to ``write()`` (see ``sealed``)."""
        value = normalise_id_number(value)
        person.id_number_hash = crypto.lookup_hash(value)
        person.id_number_masked = mask_id_number(value) if value else ""
        self.sealed.append((person, "id_number_enc", value))

    def _set_phone(self, person: Person, value: str) -> None:
        """``Person.set_phone`` with the encryption left to ``write()``."""
        value = value.strip()
        person.phone_masked = mask_phone(value) if value else ""
        self.sealed.append((person, "phone_enc", value))

    def _seal(self) -> None:
        for person, name, clear in self.sealed:
            setattr(person, name, crypto.encrypt(clear))
        self.sealed = []

    def _new_person(self, person: Person, r: DwellingRow) -> None:
        self.new_people.append(person)
        fields: list[tuple[str, Any, Any]] = [("owner_name", None, person.name), ("owner_kind", None, person.kind)]
        if person.id_number_masked:
            fields.append(("owner_id_number", None, person.id_number_masked))
        if r.owner_phone and person.kind != Person.Kind.DEVELOPER:
            fields.append(("owner_phone", None, mask_phone(r.owner_phone)))
        self.add("created", Entry("people", r.row, _person_label(person), fields))

    def _conflicts(
        self,
        id_name: dict[tuple[int, str], list[int]],
        new_by_hash: dict[str, tuple[Person, DwellingRow]],
        by_hash: dict[str, Person],
    ) -> None:
        """People the file would rename or split: conflicts a worker must decide (never silent)."""
        column = self._col("dwellings", "owner_name")
        found: list[Conflict] = []
        persons = {p.pk: p for p in by_hash.values() if p.pk is not None}
        for (pid, name), rows in id_name.items():
            p = persons[pid]
            found.append(
                Conflict("", "id_name", rows, column, pid, p.name, p.id_number_masked, 0, name, p.id_number_masked)
            )
        # The same name (and birth year, when both are known) owning in the same communities under
        # another ID number: maybe the same person with a mistyped ID number, maybe a namesake.
        names = {p.name for p, _ in new_by_hash.values() if p.kind == Person.Kind.PERSON}
        community_ids = [c.pk for c in self.touched]
        same_name: dict[str, list[Person]] = defaultdict(list)
        if names and community_ids:
            owners = Person.objects.filter(
                kind=Person.Kind.PERSON, ownerships__dwelling__building__community_id__in=community_ids
            ).exclude(id_number_hash="")
            candidates = names & set(owners.values_list("name", flat=True).distinct())
            for q in _filter_in(owners.distinct().order_by("pk"), "name", candidates):
                same_name[q.name].append(q)
        rows_of: dict[str, list[int]] = defaultdict(list)
        for r, _, _ in self.dwellings:
            if r.owner_id_number and self.hashes.get(r.owner_id_number) in new_by_hash:
                rows_of[self.hashes[r.owner_id_number]].append(r.row)
        for h, (p, r) in new_by_hash.items():
            year = _birth_year(r.owner_id_number)
            matches = [
                q for q in same_name.get(p.name, []) if q.birth_year is None or year is None or q.birth_year == year
            ]
            if not matches:
                continue
            q = matches[0]
            found.append(
                Conflict(
                    "",
                    "name_id",
                    rows_of[h],
                    column,
                    q.pk,
                    q.name,
                    q.id_number_masked,
                    0,
                    p.name,
                    p.id_number_masked,
                    others=len(matches) - 1,
                )
            )
        if not found:
            return
        owned = dict(
            Ownership.objects.filter(person_id__in={c.person_id for c in found})
            .values_list("person_id")
            .annotate(n=models.Count("id"))
        )
        found.sort(key=lambda c: (c.rows[0], c.kind))
        for n, c in enumerate(found, start=1):
            c.id = f"c{n}"
            c.person_dwellings = owned.get(c.person_id, 0)
        self.conflicts = found

    def _plan_households(self) -> None:
        told = [(r, d, new) for r, d, new in self.dwellings if r.occupied is not None or r.owner_occupied is not None]
        if not told:
            return
        old_ids = [d.pk for _, d, new in told if not new]
        households: dict[int, list[Household]] = defaultdict(list)
        for h in _filter_in(Household.objects.only("id", "dwelling_id", "owner_occupied"), "dwelling_id", old_ids):
            households[h.dwelling_id].append(h)
        heads = set(
            _filter_in(Resident.objects.values_list("household_id", "person_id"), "household__dwelling_id", old_ids)
        )
        residents = dict(
            _filter_in(
                Resident.objects.values_list("household__dwelling_id").annotate(n=models.Count("id")),
                "household__dwelling_id",
                old_ids,
            )
        )
        for r, d, new in told:
            label = self.planned[r.row].label
            occupied = r.occupied if r.occupied is not None else True
            existing = households.get(d.pk, []) if not new else []
            if not occupied:
                if existing:
                    self.vacate.append(d.pk)
                    n_res = residents.get(d.pk, 0)
                    self.add(
                        "removed",
                        Entry("households", r.row, label, [("households", len(existing), 0), ("residents", n_res, 0)]),
                        n=len(existing),
                    )
                    self.counts["residents"]["removed"] += n_res
                continue
            person = self.owner_of.get(id(d)) if r.owner_occupied else None
            if not existing:
                h = Household(dwelling=d, owner_occupied=bool(r.owner_occupied))
                self.new_households.append(h)
                self.add(
                    "created", Entry("households", r.row, label, [("owner_occupied", None, bool(r.owner_occupied))])
                )
                if person is not None and person.kind == Person.Kind.PERSON:
                    self.new_heads.append((h, person))
                    self.add("created", Entry("residents", r.row, label, [("head", None, _person_label(person))]))
                continue
            h = existing[0]
            if r.owner_occupied is not None and h.owner_occupied != r.owner_occupied:
                self.add(
                    "changed",
                    Entry("households", r.row, label, [("owner_occupied", h.owner_occupied, r.owner_occupied)]),
                )
                h.owner_occupied = r.owner_occupied
                self.changed_households.append(h)
            else:
                self.counts["households"]["unchanged"] += 1
            if person is not None and person.kind == Person.Kind.PERSON and (h.pk, person.pk) not in heads:
                self.new_heads.append((h, person))
                self.add("created", Entry("residents", r.row, label, [("head", None, _person_label(person))]))

    def _check_guards(self) -> None:
        planned = [
            guards.PlannedDwelling(
                row=g.row,
                column=g.column,
                label=g.label,
                dwelling_id=g.dwelling.pk if g.dwelling is not None else None,
                unit_id=g.unit.pk,
                building_id=g.building.pk,
                compound_id=g.building.compound.pk,
                changes=frozenset(g.changes),
            )
            for g in self.planned.values()
            # in a compound the file creates nothing on record can concern a dwelling yet
            if g.changes and g.building.compound.pk is not None
        ]
        self.problems.extend(guards.check(guards.PlannedChanges(tuple(planned))))

    # --- writing -------------------------------------------------------------------------------

    def write(self, progress: Progress, renames: dict[int, str]) -> ImportResult:
        self._seal()
        res = ImportResult(rows=self.rows)
        for kind, c in self.counts.items():
            res.created[kind] += c.get("created", 0)
            res.updated[kind] += c.get("changed", 0)
            res.unchanged[kind] += c.get("unchanged", 0)
            res.removed[kind] += c.get("removed", 0)
        total = len(self.new_dwellings) + len(self.new_people) + len(self.new_links) + len(self.new_buildings) + 10
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            progress("write", min(done, total), total)

        Compound.objects.bulk_create(list(self.new_compounds.values()), batch_size=BATCH)
        if self.changed_compounds:
            Compound.objects.bulk_update(
                list(self.changed_compounds.values()), ["name", "build_year", "updated_at"], batch_size=BATCH
            )
        for b in self.new_buildings:
            b.compound_id = b.compound.pk
            b.path = child_path(b.compound.path, b.code)
        Building.objects.bulk_create(self.new_buildings, batch_size=BATCH)
        if self.changed_buildings:
            Building.objects.bulk_update(
                self.changed_buildings,
                ["name", "storeys", "building_kind", "has_lift", "build_year", "lat", "lon", "updated_at"],
                batch_size=BATCH,
            )
        if self.new_buildings or self.changed_buildings or self.new_compounds or self.changed_compounds:
            generations.bump(SPOTS)  # bulk writes send no signals (apps.py): snapping reloads
        step(len(self.new_buildings))
        for u in self.new_units.values():
            u.building_id = u.building.pk
        Unit.objects.bulk_create(list(self.new_units.values()), batch_size=BATCH)
        for d in self.new_dwellings:
            d.unit_id = d.unit.pk
            d.building_id = d.building.pk
        for chunk in _chunks(self.new_dwellings):
            Dwelling.objects.bulk_create(chunk, batch_size=BATCH)
            step(len(chunk))
        if self.changed_dwellings:
            Dwelling.objects.bulk_update(
                self.changed_dwellings, ["floor", "area", "area_source", "use"], batch_size=500
            )

        for chunk in _chunks(self.new_people):
            Person.objects.bulk_create(chunk, batch_size=BATCH)
            step(len(chunk))
        if self.changed_people:
            Person.objects.bulk_update(
                list(self.changed_people.values()), ["phone_enc", "phone_masked"], batch_size=500
            )
        for pid, name in renames.items():  # a worker decided: the same person, the file's name is right
            Person.objects.filter(pk=pid).update(name=name)
        res.updated["people"] += len(set(renames) - set(self.changed_people))

        for chunk in _chunks(self.replace_owners, 900):
            Ownership.objects.filter(dwelling_id__in=chunk).delete()
        links = [Ownership(dwelling_id=d.pk, person_id=p.pk, share=share) for d, p, share in self.new_links]
        Ownership.objects.bulk_create(links, batch_size=BATCH)
        step(len(links))

        for chunk in _chunks(self.vacate, 900):
            Household.objects.filter(dwelling_id__in=chunk).delete()
        for h in self.new_households:
            h.dwelling_id = h.dwelling.pk
        Household.objects.bulk_create(self.new_households, batch_size=BATCH)
        if self.changed_households:
            Household.objects.bulk_update(self.changed_households, ["owner_occupied"], batch_size=500)
        Resident.objects.bulk_create(
            [Resident(household_id=h.pk, person_id=p.pk, relation=Resident.Relation.HEAD) for h, p in self.new_heads],
            batch_size=BATCH,
        )
        progress("write", total, total)
        res.communities = [c.name for c in self.touched]
        return res


def fingerprint(community_ids: Iterable[int], hashes: Iterable[str] = (), org_names: Iterable[str] = ()) -> str:
    """sha256 over every database row a roster plan reads: the communities' compounds, buildings,
    units, dwellings, ownerships, households and residents, and the people who own or live there,
    are matched by the file's ID numbers, or are organisations the file names.

    Rows are hashed by id with every value a plan compares or shows (several of these tables have no
    "updated at" column, so markers would miss a change, and a deleted-and-recreated row gets a new
    id). Any write that could change what the plan would do changes the fingerprint."""
    ids = sorted(set(community_ids))
    h = hashlib.sha256()
    if not ids:
        return h.hexdigest()

    def feed(tag: str, rows: Iterable[tuple[Any, ...]]) -> None:
        h.update(tag.encode())
        for row in rows:
            h.update("|".join("" if v is None else str(v) for v in row).encode())
            h.update(b"\n")

    c = ids
    feed("community", Community.objects.filter(pk__in=c).order_by("pk").values_list("pk", "path", "name"))
    feed(
        "compound",
        Compound.objects.filter(community_id__in=c)
        .order_by("pk")
        .values_list("pk", "community_id", "code", "name", "build_year"),
    )
    feed(
        "building",
        Building.objects.filter(community_id__in=c)
        .order_by("pk")
        .values_list(
            "pk", "compound_id", "code", "name", "storeys", "building_kind", "has_lift", "build_year", "lat", "lon"
        ),
    )
    feed(
        "unit",
        Unit.objects.filter(building__community_id__in=c).order_by("pk").values_list("pk", "building_id", "number"),
    )
    feed(
        "dwelling",
        Dwelling.objects.filter(building__community_id__in=c)
        .order_by("pk")
        .values_list("pk", "unit_id", "building_id", "number", "floor", "area", "area_source", "use"),
    )
    feed(
        "ownership",
        Ownership.objects.filter(dwelling__building__community_id__in=c)
        .order_by("pk")
        .values_list("pk", "dwelling_id", "person_id", "share"),
    )
    feed(
        "household",
        Household.objects.filter(dwelling__building__community_id__in=c)
        .order_by("pk")
        .values_list("pk", "dwelling_id", "owner_occupied"),
    )
    feed(
        "resident",
        Resident.objects.filter(household__dwelling__building__community_id__in=c)
        .order_by("pk")
        .values_list("pk", "household_id", "person_id", "relation"),
    )
    fields = ("pk", "kind", "name", "id_number_hash", "birth_year", "phone_enc")
    people: dict[int, tuple[Any, ...]] = {}
    for row in Person.objects.filter(ownerships__dwelling__building__community_id__in=c).values_list(*fields):
        people[row[0]] = row
    for row in Person.objects.filter(residencies__household__dwelling__building__community_id__in=c).values_list(
        *fields
    ):
        people[row[0]] = row
    for row in _filter_in(Person.objects.values_list(*fields), "id_number_hash", sorted(set(hashes))):
        people[row[0]] = row
    orgs = Person.objects.filter(kind=Person.Kind.ORGANISATION, id_number_hash="").values_list(*fields)
    for row in _filter_in(orgs, "name", sorted(set(org_names))):
        people[row[0]] = row
    feed("person", (people[k] for k in sorted(people)))
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------
# Rosters: preview, then apply


def _read(
    fileobj: IO[bytes] | bytes, filename: str, encoding: str | None, report: Progress
) -> tuple[bytes, importing.Roster, Problems]:
    data = fileobj if isinstance(fileobj, bytes) else importing._read_bytes(fileobj)
    problems = Problems()
    roster = importing.read_roster(
        io.BytesIO(data), filename, encoding=encoding, progress=lambda n: report("read", n, None), problems=problems
    )
    return data, roster, problems


def _common_path(paths: Iterable[str]) -> str:
    """The deepest place path shared by ``paths`` (whole segments only)."""
    parts = [p.strip("/").split("/") for p in paths if p]
    if not parts:
        return ""
    common: list[str] = []
    for segs in zip(*parts, strict=False):
        if len(set(segs)) != 1:
            break
        common.append(segs[0])
    return "/".join(common) + "/" if common else ""


def _busy(exc: Exception) -> LinliError:
    return LinliError.one(
        "busy",
        "另一项导入正在进行,数据库繁忙;未写入任何数据,请稍后重试。",
        "Another import is running and the database is busy; nothing was written. Try again in a minute.",
        status=503,
    )


def _log_entry(user: User, action: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {
        "at": clock.now().isoformat(),
        "user_id": getattr(user, "pk", None),
        "user": getattr(user, "username", ""),
        "action": action,
        "zh": zh,
        "en": en,
    } | extra


def expires_after() -> timedelta:
    return timedelta(hours=float(getattr(settings, "LINLI_IMPORT_PREVIEW_HOURS", 24)))


def _store(
    user: User,
    kind: str,
    plan: _Base,
    data: bytes,
    filename: str,
    encoding: str | None,
    community: Community | None,
) -> ImportPreview:
    now = clock.now()
    path = community.path if community is not None else _common_path(getattr(c, "path", "") for c in plan.touched)
    plan_json = plan.as_json()
    counts = plan_json["counts"]
    n_created = sum(v["created"] for v in counts.values())
    n_changed = sum(v["changed"] for v in counts.values())
    n_removed = sum(v["removed"] for v in counts.values())
    assert user.pk is not None, "a signed-in account"
    preview = ImportPreview(
        kind=kind,
        community=community,
        path=path,
        filename=filename[:200],
        encoding=encoding or "",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=crypto.encrypt_bytes(data),
        fingerprint=plan.fingerprint,
        plan=plan_json,
        plan_digest=plan.digest(),
        status=ImportPreview.Status.PENDING,
        created_by_id=user.pk,
        expires_at=now + expires_after(),
        log=[
            _log_entry(
                user,
                "upload",
                f"上传 {filename}:新增 {n_created},修改 {n_changed},删除 {n_removed};冲突 {len(plan.conflicts)}",
                f"uploaded {filename}: {n_created} created, {n_changed} changed, {n_removed} removed; "
                f"{len(plan.conflicts)} conflicts",
            )
        ],
    )
    preview.save()
    return preview


def preview_roster(
    user: User,
    fileobj: IO[bytes] | bytes,
    filename: str,
    *,
    encoding: str | None = None,
    progress: Progress | None = None,
    community: Community | None = None,
) -> ImportPreview:
    """Read, check and plan a roster; store it as a pending preview. Writes nothing else.

    Any problem (of the file, of the database, of a frozen roll) raises :class:`ImportRefused` with
    all of them at once and the plan of the good rows; nothing at all is stored then.
    ``community``: on a community's import page, rows of any other community are refused."""
    report: Progress = progress or _noop
    if community is not None:
        authorize(user, Action.EDIT, community)
    data, roster, problems = _read(fileobj, filename, encoding, report)
    try:
        with transaction.atomic():
            plan = _Plan(user, roster, problems, community)
            if roster.buildings or roster.dwellings or roster.partial:
                plan.resolve()
            if problems:
                raise ImportRefused(_sorted_problems(problems), 400, plan.as_json())
            expire_previews()
            preview = _store(user, ImportPreview.Kind.ROSTER, plan, data, filename, encoding, community)
    except OperationalError as exc:  # the database stayed locked by another writer past its timeout
        raise _busy(exc) from exc
    return preview


def _load(user: User, preview: ImportPreview | int, *, lock: bool = False) -> ImportPreview:
    pk = preview.pk if isinstance(preview, ImportPreview) else preview
    qs = ImportPreview.objects.select_for_update() if lock else ImportPreview.objects.all()
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404("no such import preview")
    authorize(user, Action.EDIT, found)
    return found


def _not_pending(p: ImportPreview, now: Any) -> LinliError:
    who = getattr(p.decided_by, "username", "") if p.decided_by_id else ""
    when = clock_local(p.decided_at) if p.decided_at else ""
    if p.status == ImportPreview.Status.APPLIED:
        return LinliError.one(
            "already_applied",
            f"此预览已由 {who} 于 {when} 确认导入,不能再次确认;未写入任何数据。",
            f"This preview was already applied by {who} at {when}; nothing was written again.",
            status=409,
        )
    if p.status == ImportPreview.Status.CANCELLED:
        return LinliError.one(
            "cancelled",
            f"此预览已由 {who} 于 {when} 取消或停止,不能确认;请重新上传文件。",
            f"This preview was cancelled or stopped by {who} at {when}; upload the file again.",
            status=409,
        )
    return LinliError.one(
        "expired",
        f"此预览已于 {clock_local(p.expires_at)} 过期,不能确认;请重新上传文件以得到新的预览。",
        f"This preview expired at {clock_local(p.expires_at)}; upload the file again for a new preview.",
        status=409,
    )


def clock_local(at: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else ""


def _file_of(p: ImportPreview) -> bytes:
    """The stored file, after checking it is byte for byte the one the preview was made from."""
    changed = LinliError.one(
        "file_changed",
        "预览之后存储的文件已被改动,与预览时不一致;拒绝导入,未写入任何数据。请重新上传文件。",
        "The stored file changed after the preview was made; the import is refused and nothing was "
        "written. Upload the file again.",
        status=409,
    )
    try:
        data = crypto.decrypt_bytes(bytes(p.data))
    except InvalidToken:
        raise changed from None
    if hashlib.sha256(data).hexdigest() != p.sha256:
        raise changed
    return data


DB_CHANGED = (
    "db_changed",
    "预览之后,相关数据已被改动(例如另一份导入已确认);为免覆盖他人的修改,拒绝导入,未写入任何数据。"
    "请重新上传文件,查看新的预览。",
    "The data this preview was made from changed since (for example another import was applied); "
    "to overwrite no one's changes the import is refused and nothing was written. Upload the file "
    "again for a new preview.",
)


def _renames(p: ImportPreview) -> dict[int, str]:
    """The decided conflicts as renames; refuses if any conflict is still open."""
    conflicts = p.plan.get("conflicts", [])
    open_ = [c for c in conflicts if p.resolutions.get(c["id"]) not in c["choices"]]
    if open_:
        rows = "、".join(str(c["rows"][0]) for c in open_[:10])
        raise LinliError(
            [
                Problem(
                    "unresolved_conflicts",
                    f"还有 {len(open_)} 处人员冲突未确认(第 {rows} 行):请逐一选择“同一人”或“不是同一人”后再确认导入;"
                    "未写入任何数据。",
                    f"{len(open_)} conflict(s) about people are not decided yet (rows "
                    f"{rows.replace('、', ', ')}): decide each one, then confirm; nothing was written.",
                )
            ],
            409,
        )
    return {c["person_id"]: c["file_name"] for c in conflicts if p.resolutions.get(c["id"]) == "rename"}


def apply_preview(user: User, preview: ImportPreview | int, *, progress: Progress | None = None) -> ImportResult:
    """Confirm a pending preview: write its plan in one transaction, all or nothing.

    Refused (409, nothing written) when the preview is applied, cancelled or expired, when the
    stored file's digest changed, when the database rows it was computed from changed
    (fingerprint) or the plan would come out differently, when a conflict is undecided, or when a
    problem appeared since (a ballot opened on a dwelling the file changes). Of two people
    confirming the same preview at the same time exactly one applies it; the other gets 409."""
    report: Progress = progress or _noop
    try:
        with transaction.atomic():
            p = _load(user, preview)
            now = clock.now()
            # Claim the preview first: a second confirmation waits here for the first to commit
            # (row lock on PostgreSQL, the write lock on SQLite), then finds it applied.
            claimed = ImportPreview.objects.filter(
                pk=p.pk, status=ImportPreview.Status.PENDING, expires_at__gt=now
            ).update(status=ImportPreview.Status.APPLIED, decided_by=user, decided_at=now)
            if not claimed:
                p.refresh_from_db()
                raise _not_pending(p, now)
            renames = _renames(p)
            data = _file_of(p)
            if p.kind == ImportPreview.Kind.BOUNDARIES:
                result, summary = _apply_boundaries(user, p, data, report)
            else:
                result, summary = _apply_roster(user, p, data, report, renames)
            result.preview_id = p.pk
            _mark_applied(user, p, result, summary)
    except OperationalError as exc:
        raise _busy(exc) from exc
    except IntegrityError as exc:
        raise _integrity(exc) from exc
    return result


def _integrity(exc: Exception) -> LinliError:
    """A race with another import, or a rule the checks missed."""
    return LinliError.one(
        "conflict",
        "导入时与已有数据冲突,未写入任何数据;请重新上传文件。",
        f"The import conflicts with existing data; nothing was written ({type(exc).__name__}).",
        status=409,
    )


def _mark_applied(user: User, p: ImportPreview, result: ImportResult, summary: str) -> None:
    now = clock.now()
    p.status = ImportPreview.Status.APPLIED
    p.decided_by_id, p.decided_at = user.pk, now
    p.data = b""  # the file held ID numbers in clear: not kept once decided
    p.result = result.as_dict()
    p.log = [*p.log, _log_entry(user, "apply", f"确认导入:{summary}", f"applied: {summary}")]
    p.save(update_fields=["status", "decided_by", "decided_at", "data", "result", "log"])


def _log_import(user: User, plan: _Plan, p: ImportPreview, result: ImportResult, renames: dict[int, str]) -> str:
    renamed = f"; renamed {len(renames)}" if renames else ""
    for c in plan.touched:
        log_access(
            user, AccessLog.What.IMPORT, c, path=c.path, reason=f"{p.filename} #{p.pk}: {result.summary()}{renamed}"
        )
    return result.summary() + renamed


def _apply_roster(
    user: User,
    p: ImportPreview,
    data: bytes,
    report: Progress,
    renames: dict[int, str],
) -> tuple[ImportResult, str]:
    problems = Problems()
    roster = importing.read_roster(
        io.BytesIO(data),
        p.filename,
        encoding=p.encoding or None,
        progress=lambda n: report("read", n, None),
        problems=problems,
    )
    plan = _Plan(user, roster, problems, p.community, lock=True)
    if roster.buildings or roster.dwellings or roster.partial:
        plan.resolve()
    if problems:
        lead = Problem(
            "preview_outdated",
            "预览之后情况有变,现在这份文件有以下问题;未写入任何数据。",
            "Things changed since the preview: the file now has the problems below; nothing was written.",
        )
        raise LinliError([lead, *_sorted_problems(problems)], 409)
    if plan.fingerprint != p.fingerprint or plan.digest() != p.plan_digest:
        raise LinliError.one(*DB_CHANGED, status=409)
    result = plan.write(report, renames)
    return result, _log_import(user, plan, p, result, renames)


def cancel_preview(user: User, preview: ImportPreview | int) -> ImportPreview:
    """Cancel a pending preview: only its status (and the wiped file) is written."""
    with transaction.atomic():
        p = _load(user, preview, lock=True)
        if p.status != ImportPreview.Status.PENDING:
            raise _not_pending(p, clock.now())
        p.status = ImportPreview.Status.CANCELLED
        p.decided_by_id, p.decided_at = user.pk, clock.now()
        p.data = b""
        p.log = [*p.log, _log_entry(user, "cancel", "取消导入,未写入任何数据", "cancelled; nothing was written")]
        p.save(update_fields=["status", "decided_by", "decided_at", "data", "log"])
    return p


def resolve_conflicts(user: User, preview: ImportPreview | int, choices: dict[str, str]) -> ImportPreview:
    """Record a worker's decision on conflicts about people (logged on the preview).

    ``choices``: conflict id → "rename" (the same person: take the file's name), "separate"
    (different people: add a new owner) or "stop" (fix the file: the preview is cancelled)."""
    with transaction.atomic():
        p = _load(user, preview, lock=True)
        now = clock.now()
        if p.status != ImportPreview.Status.PENDING or p.expires_at <= now:
            raise _not_pending(p, now)
        conflicts = {c["id"]: c for c in p.plan.get("conflicts", [])}
        problems = []
        for cid, choice in choices.items():
            c = conflicts.get(cid)
            if c is None or choice not in c["choices"]:
                problems.append(
                    Problem(
                        "bad_choice",
                        f"冲突 {cid} 的选择“{choice}”无效。",
                        f"{choice!r} is not a valid decision for conflict {cid}.",
                    )
                )
        if not choices:
            problems.append(Problem("no_choice", "请为每处冲突选择一项。", "Choose a decision for each conflict."))
        if problems:
            raise LinliError(problems, 400)
        entries = []
        resolutions = dict(p.resolutions)
        for cid, choice in sorted(choices.items()):
            if resolutions.get(cid) == choice:
                continue
            resolutions[cid] = choice
            zh, en = _conflict_text(conflicts[cid], choice)
            entries.append(_log_entry(user, "resolve", zh, en, conflict=cid, choice=choice))
        p.resolutions = resolutions
        fields = ["resolutions", "log"]
        if "stop" in choices.values():
            p.status = ImportPreview.Status.CANCELLED
            p.decided_by_id, p.decided_at = user.pk, now
            p.data = b""
            entries.append(
                _log_entry(
                    user,
                    "stop",
                    "停止导入:请核实并改正文件后重新上传",
                    "stopped: check and fix the file, then upload it again",
                )
            )
            fields += ["status", "decided_by", "decided_at", "data"]
        p.log = [*p.log, *entries]
        p.save(update_fields=fields)
    return p


def expire_previews() -> int:
    """Mark pending previews past their time as expired and wipe their files (no user action)."""
    now = clock.now()
    return ImportPreview.objects.filter(status=ImportPreview.Status.PENDING, expires_at__lte=now).update(
        status=ImportPreview.Status.EXPIRED, data=b"", decided_at=now
    )


def import_roster(
    user: User,
    fileobj: IO[bytes] | bytes,
    filename: str,
    *,
    encoding: str | None = None,
    progress: Progress | None = None,
    community: Community | None = None,
) -> ImportResult:
    """Preview and apply in one call (command line, demo, benchmark): one transaction that locks
    the communities, plans once, stores the preview (applied) and writes it. Raises LinliError
    with every problem, writing nothing, if any. A file with a conflict about a person is not
    applied: it needs a worker's decision, so its preview is stored pending for the page and the
    call is refused (409)."""
    report: Progress = progress or _noop
    if community is not None:
        authorize(user, Action.EDIT, community)
    data, roster, problems = _read(fileobj, filename, encoding, report)
    pending: ImportPreview | None = None
    try:
        with transaction.atomic():
            plan = _Plan(user, roster, problems, community, lock=True)
            if roster.buildings or roster.dwellings or roster.partial:
                plan.resolve()
            del roster
            plan.roster = importing.Roster(labels=plan.roster.labels)
            if problems:
                raise ImportRefused(_sorted_problems(problems), 400, plan.as_json())
            expire_previews()
            preview = _store(user, ImportPreview.Kind.ROSTER, plan, data, filename, encoding, community)
            if plan.conflicts:
                pending = preview  # committed as a pending preview; nothing else is written
            else:
                result = plan.write(report, {})
                result.preview_id = preview.pk
                _log_import(user, plan, preview, result, {})
                _mark_applied(user, preview, result, result.summary())
    except OperationalError as exc:
        raise _busy(exc) from exc
    except IntegrityError as exc:
        raise _integrity(exc) from exc
    if pending is not None:
        conflicts = pending.plan["conflicts"]
        raise LinliError(
            [
                Problem(
                    "unresolved_conflicts",
                    f"文件中有 {len(conflicts)} 处人员冲突,须由工作人员在预览页逐一确认"
                    f"(预览 #{pending.pk});未写入任何数据。",
                    f"The file has {len(conflicts)} conflict(s) about people that a worker must decide on "
                    f"the preview page (preview #{pending.pk}); nothing was written.",
                ),
                *[Conflict(**{k: v for k, v in c.items() if k != "choices"}).problem() for c in conflicts],
            ],
            409,
        )
    return result


# --------------------------------------------------------------------------------------------------
# Boundaries

_DEPTH = {3: Community, 4: Compound, 5: Building}
_KIND_PLURAL = {"community": "communities", "compound": "compounds", "building": "buildings", "grid": "grids"}


def _shape(geometry: Any) -> str | None:
    """A short description of a geometry for the preview ("Polygon, 5 points")."""
    if not isinstance(geometry, dict):
        return None
    coords = geometry.get("coordinates") or []
    polys = [coords] if geometry.get("type") == "Polygon" else coords
    points = sum(len(ring) for poly in polys if isinstance(poly, list) for ring in poly if isinstance(ring, list))
    return f"{geometry.get('type')} · {points}"


class _BoundaryPlan(_Base):
    def __init__(self, user: User, data: bytes, problems: Problems, *, lock: bool = False) -> None:
        super().__init__()
        self.user = user
        self.problems = problems
        self.lock = lock
        features, parse_problems = importing.parse_boundaries(data)
        problems.extend(parse_problems)
        self.features = features
        self.rows = len(features)
        self.found: list[tuple[importing.BoundaryFeature, Any]] = []

    def resolve(self) -> None:
        features = self.features
        by_code: dict[str, Community] = {}
        if any(f.kind == "community" and f.code and not f.path for f in features):
            for c in Community.objects.only("id", "path", "code", "name"):
                for key in community_keys(c):
                    by_code.setdefault(key, c)
        grids = {
            g.code: g
            for g in Grid.objects.filter(code__in=[f.code for f in features if f.kind == "grid"]).select_related(
                "community"
            )
        }
        paths: dict[Any, list[str]] = defaultdict(list)
        for f in features:
            if f.path:
                depth_model = _DEPTH.get(len(f.path.split("/")))
                if depth_model is not None:
                    paths[depth_model].append(f.path + "/")
        places: dict[str, Any] = {}
        for place_model, wanted in paths.items():
            for place in _filter_in(place_model._default_manager.all(), "path", wanted):
                places[place.path] = place
        for f in features:
            obj: Any
            if f.kind == "grid":
                obj = grids.get(f.code)
                name = f.code
            elif f.path:
                obj = places.get(f.path + "/")
                name = f.path
                if obj is not None and f.kind and getattr(obj, "kind", "") != f.kind:
                    self.problems.add(
                        Problem(
                            "boundary",
                            f"第 {f.number} 个要素:路径 {f.path} 是{obj.kind},不是{f.kind}。",
                            f"Feature {f.number}: the path {f.path} is a {obj.kind}, not a {f.kind}.",
                        )
                    )
                    continue
            else:
                obj = by_code.get(f.code)
                name = f.code
            denied = False
            if obj is not None:
                try:
                    authorize(self.user, Action.EDIT, obj)
                except Http404:
                    obj = None
                except PermissionDenied:
                    denied = True
            if obj is None or denied:
                zh = "您无权修改该地点" if denied else "地点不存在,或不在您的管辖范围内"
                en = "you may not change this place" if denied else "no such place, or not within your scope"
                self.problems.add(
                    Problem(
                        "unknown_place", f"第 {f.number} 个要素:{name} {zh}。", f"Feature {f.number}: {name}: {en}."
                    )
                )
                continue
            self.found.append((f, obj))
        if self.lock:
            for model in {type(obj) for _, obj in self.found}:
                ids = sorted(obj.pk for _, obj in self.found if type(obj) is model)
                fresh = {o.pk: o for o in model._default_manager.select_for_update().filter(pk__in=ids).order_by("pk")}
                self.found = [(f, fresh.get(obj.pk, obj) if type(obj) is model else obj) for f, obj in self.found]
        self.fingerprint = self._fingerprint()
        self.touched = []
        for f, obj in self.found:
            changes: list[tuple[str, Any, Any]] = []
            if obj.boundary != f.geometry:
                changes.append(("boundary", _shape(obj.boundary), _shape(f.geometry)))
            if hasattr(obj, "lat") and obj.lat is None:
                changes += [("lat", None, round(f.centroid[0], 7)), ("lon", None, round(f.centroid[1], 7))]
            kind = _KIND_PLURAL.get(getattr(obj, "kind", ""), "places")
            label = f"{obj} ({getattr(obj, 'path', '') or getattr(obj, 'code', '')})"
            if changes:
                self.add("changed", Entry(kind, f.number, label, changes))
            else:
                self.counts[kind]["unchanged"] += 1
            self.touched.append(obj)

    def _fingerprint(self) -> str:
        h = hashlib.sha256()
        for f, obj in sorted(self.found, key=lambda x: (type(x[1]).__name__, x[1].pk)):
            row = [
                type(obj).__name__,
                obj.pk,
                json.dumps(obj.boundary, sort_keys=True),
                getattr(obj, "lat", ""),
                getattr(obj, "lon", ""),
                f.number,
            ]
            h.update("|".join(str(v) for v in row).encode() + b"\n")
        return h.hexdigest()

    def write(self, progress: Progress | None) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        now = clock.now()
        touched: dict[Any, list[Any]] = defaultdict(list)
        for n, (f, obj) in enumerate(self.found, start=1):
            obj.boundary = f.geometry
            if hasattr(obj, "lat") and obj.lat is None:
                obj.lat, obj.lon = f.centroid
            if hasattr(obj, "updated_at"):
                obj.updated_at = now
            touched[type(obj)].append(obj)
            counts[getattr(obj, "kind", type(obj).__name__.lower())] += 1
            if progress:
                progress("write", n, len(self.found))
        for touched_model, objs in touched.items():
            fields = ["boundary"] + (["lat", "lon", "updated_at"] if touched_model is not Grid else [])
            touched_model._default_manager.bulk_update(objs, fields, batch_size=500)
        if touched:
            generations.bump(SPOTS)  # positions may have moved (bulk: no signals)
        if self.found:
            first = self.found[0][1]
            path = first.community.path if isinstance(first, Grid) else first.path
            log_access(
                self.user,
                AccessLog.What.IMPORT,
                None,
                path=path,
                reason="boundaries: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
            )
        return dict(counts)


def _place_path(obj: Any) -> str:
    return obj.community.path if isinstance(obj, Grid) else str(obj.path)


def preview_upload(
    user: User, upload: Any, kind: str, *, community: Community, encoding: str | None = None
) -> ImportPreview:
    """An uploaded file of ``kind`` ("roster" or "boundaries") read into a pending preview: the one
    entry of the import page and of ``POST /api/v1/imports/`` (both check the size first)."""
    if kind == "boundaries":
        return preview_boundaries(user, upload.read(), upload.name or "boundaries.geojson", community=community)
    return preview_roster(user, upload, upload.name or "upload.xlsx", encoding=encoding or None, community=community)


def preview_boundaries(
    user: User,
    fileobj: IO[bytes] | bytes,
    filename: str = "boundaries.geojson",
    *,
    community: Community | None = None,
) -> ImportPreview:
    """Check and plan a GeoJSON FeatureCollection of outlines; store it as a pending preview."""
    data = fileobj if isinstance(fileobj, bytes) else importing._read_bytes(fileobj)
    if community is not None:
        authorize(user, Action.EDIT, community)
    problems = Problems()
    try:
        with transaction.atomic():
            plan = _BoundaryPlan(user, data, problems)
            plan.resolve()
            if problems:
                raise ImportRefused(_sorted_problems(problems), 400, plan.as_json())
            expire_previews()
            places = plan.touched
            plan.touched = []  # the plan's "communities" list is for rosters
            preview = _store(user, ImportPreview.Kind.BOUNDARIES, plan, data, filename, None, community)
            if community is None:
                preview.path = _common_path(_place_path(o) for o in places)
                preview.save(update_fields=["path"])
    except OperationalError as exc:
        raise _busy(exc) from exc
    return preview


def _apply_boundaries(user: User, p: ImportPreview, data: bytes, report: Progress) -> tuple[ImportResult, str]:
    problems = Problems()
    plan = _BoundaryPlan(user, data, problems, lock=True)
    plan.resolve()
    if problems:
        lead = Problem(
            "preview_outdated",
            "预览之后情况有变,现在这份文件有以下问题;未写入任何数据。",
            "Things changed since the preview: the file now has the problems below; nothing was written.",
        )
        raise LinliError([lead, *_sorted_problems(problems)], 409)
    plan.touched = []
    if plan.fingerprint != p.fingerprint or plan.digest() != p.plan_digest:
        raise LinliError.one(*DB_CHANGED, status=409)
    counts = plan.write(report)
    result = ImportResult(rows=plan.rows)
    for kind, n in counts.items():
        result.updated[_KIND_PLURAL.get(kind, kind)] += n
    summary = "boundaries: " + ", ".join(f"{k} {v}" for k, v in counts.items())
    return result, summary


def import_boundaries(
    user: User, fileobj: IO[bytes] | bytes, *, progress: Progress | None = None, filename: str = "boundaries.geojson"
) -> dict[str, int]:
    """Preview and apply outlines in one call (command line); all or nothing. Returns counts by kind."""
    preview = preview_boundaries(user, fileobj, filename)
    result = apply_preview(user, preview, progress=progress)
    singular = {v: k for k, v in _KIND_PLURAL.items()}
    return {singular.get(k, k): n for k, n in result.updated.items() if n}


# --- Grids written for governance's division ---
# Governance divides a community into grids (rules.md §4) and publishes the division; the grids and
# the buildings' grid are places' rows, so the publishing is done here.


@dataclass(frozen=True)
class GridPlan:
    """One grid of a division to publish: its sequence number in the community, its code
    (rules.md §4), its name, its outline (a GeoJSON polygon, or None) and its buildings' ids."""

    seq: int
    code: str
    name: str
    boundary: dict[str, Any] | None
    buildings: tuple[int, ...]


@dataclass
class GridsWritten:
    created: int
    updated: int
    deleted: int
    kept: list[str]  # names of grids left without buildings but kept (they have a team or roles)


def write_grids(user: User, community: Community, plans: Sequence[GridPlan]) -> GridsWritten:
    """Make ``plans`` the community's published grids, all or nothing: a grid whose sequence number
    exists is updated (code, name, outline, published again), the others created; every building
    of the community moves to the grid that lists it; a grid no plan names is removed, or — when it
    still has a grid team or role holders — kept unpublished.

    Refusals: 404/403 without EDIT at the community; 409 when a code is another grid's, or when the
    plans do not list exactly the community's buildings (its roster changed meanwhile)."""
    from linli.accounts.models import RoleGrant
    from linli.places.models import GridMember

    authorize(user, Action.EDIT, community)
    with transaction.atomic():
        existing = {g.seq: g for g in Grid.objects.filter(community=community)}
        codes = {p.code for p in plans}
        clash = Grid.objects.filter(code__in=codes).exclude(community=community)
        clash = clash | Grid.objects.filter(community=community, code__in=codes).exclude(seq__in=[p.seq for p in plans])
        if clash.exists():
            names = "、".join(g.name for g in clash[:5])
            raise LinliError.one(
                "code_clash",
                f"网格编码与已有网格冲突:{names}",
                f"The grid codes clash with existing grids: {names}",
                status=409,
            )
        buildings = list(Building.objects.filter(community=community))
        seq_of = {b: p.seq for p in plans for b in p.buildings}
        if sorted(seq_of) != sorted(b.pk for b in buildings) or sum(len(p.buildings) for p in plans) != len(seq_of):
            raise LinliError.one(
                "roster_changed",
                "社区的楼栋已发生变化,请重新划分网格。",
                "The community's buildings have changed since this division was made; run the division again.",
                status=409,
            )
        created = updated = 0
        target: dict[int, Grid] = {}
        for p in plans:
            grid = existing.get(p.seq)
            if grid is None:
                grid = Grid.objects.create(
                    community=community, seq=p.seq, code=p.code, name=p.name, boundary=p.boundary
                )
                created += 1
            else:
                grid.code, grid.name, grid.published, grid.boundary = p.code, p.name, True, p.boundary
                grid.save(update_fields=["code", "name", "published", "boundary"])
                updated += 1
            target[p.seq] = grid
        for b in buildings:
            b.grid = target[seq_of[b.pk]]
        Building.objects.bulk_update(buildings, ["grid"], batch_size=500)
        generations.bump(SPOTS)  # the buildings' grids, for snapping (bulk: no signals)
        deleted = 0
        kept: list[str] = []
        for seq, grid in existing.items():
            if seq in target:
                continue
            busy = (
                GridMember.objects.filter(grid=grid).exists()
                or RoleGrant.objects.filter(place_kind="grid", place_id=grid.pk, revoked_at__isnull=True).exists()
            )
            if busy:
                grid.published = False
                grid.save(update_fields=["published"])
                kept.append(grid.name)
            else:
                grid.delete()
                deleted += 1
    return GridsWritten(created, updated, deleted, kept)


# --------------------------------------------------------------------------------------------------
# Imports through background runs (linli/runs, docs/import.md "In the background"): the page's
# upload and confirm start a run; the reading/checking and the writing happen in a worker
# (places/tasks.py) with a progress bar. The writing stays one transaction, all or nothing.


def start_preview(
    user: User,
    upload: Any,
    kind: str,
    *,
    community: Community | None,
    encoding: str | None = None,
    target: models.Model | None = None,
) -> Run:
    """Keep the uploaded file (encrypted) for a worker and start reading it into a preview. From a
    community's page ``community`` is set (rows of other communities are refused); a file of many
    communities (``community=None``) needs EDIT on ``target``, a place above them all."""
    from linli.places import tasks

    where = community if community is not None else target
    if where is None:
        raise ValueError("start_preview needs a community or a target place")
    authorize(user, Action.EDIT, where)
    data = upload.read() if hasattr(upload, "read") else bytes(upload)
    filename = (getattr(upload, "name", "") or ("boundaries.geojson" if kind == "boundaries" else "upload.xlsx"))[:200]
    token = runs_services.stage(data)
    what_zh, what_en = ("边界", "boundaries") if kind == "boundaries" else ("名册", "roster")
    return runs_services.start(
        user,
        "places.import",
        tasks.read_upload,
        action=Action.EDIT,
        target=where,
        title_zh=f"读取{what_zh}文件 {filename}",
        title_en=f"Reading the {what_en} file {filename}",
        total=0,
        token=token,
        filename=filename,
        what=kind,
        encoding=encoding or "",
        community_id=community.pk if community is not None else None,
    )


def start_apply(user: User, preview: ImportPreview) -> Run:
    """Start confirming a preview in a worker (``apply_preview`` re-checks everything there). What
    can be refused at once is refused here, with nothing started: a preview that is no longer
    pending, or conflicts still undecided (409)."""
    from linli.places import tasks

    authorize(user, Action.EDIT, preview)
    now = clock.now()
    if preview.status != ImportPreview.Status.PENDING or preview.expires_at <= now:
        raise _not_pending(preview, now)
    _renames(preview)

    return runs_services.start(
        user,
        "places.import",
        tasks.apply_upload,
        action=Action.EDIT,
        target=preview,
        title_zh=f"导入 {preview.filename}",
        title_en=f"Importing {preview.filename}",
        preview_id=preview.pk,
    )
