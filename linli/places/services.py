"""Every write of the places app that comes from a file: rosters and boundaries.

Both imports are all or nothing. The file is read and checked (``importing``), every row is
resolved against the database and the user's permissions, and only when not a single problem is
left is anything written, in one transaction, with bulk inserts and updates. Any problem raises
:class:`~linli.core.errors.LinliError` listing them all by row; the database is untouched.

Permission: every community the file touches must pass ``authorize(user, EDIT, community)``. A
community outside the user's scope is reported exactly like a code that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, OperationalError, models, transaction
from django.http import Http404

from linli.accounts.models import AccessLog
from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.accounts.services import log_access
from linli.core import clock, crypto
from linli.core.errors import LinliError, Problem
from linli.places import importing
from linli.places.codes import child_path
from linli.places.importing import BuildingRow, DwellingRow, Problems
from linli.places.models import (
    Building,
    Community,
    Compound,
    Dwelling,
    Grid,
    Household,
    Ownership,
    Person,
    Resident,
    Unit,
)

Progress = Callable[[str, int, int | None], None]
BATCH = 2000


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    communities: list[str] = field(default_factory=list)

    KINDS = ("compounds", "buildings", "units", "dwellings", "people", "ownerships", "households")

    def table(self) -> list[tuple[str, int, int, int]]:
        return [
            (k, self.created.get(k, 0), self.updated.get(k, 0), self.unchanged.get(k, 0))
            for k in self.KINDS
            if self.created.get(k, 0) or self.updated.get(k, 0) or self.unchanged.get(k, 0)
        ]

    def summary(self) -> str:
        return "; ".join(f"{k} +{c} ~{u}" for k, c, u, _ in self.table())


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
    user: Any, uses: dict[str, tuple[int | None, str | None, int]], problems: Problems, only: Community | None = None
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


class _Plan:
    """What an import will write, worked out before anything is written."""

    def __init__(self, user: Any, roster: importing.Roster, problems: Problems, only: Community | None):
        self.user = user
        self.roster = roster
        self.problems = problems
        self.only = only
        self.now = clock.now()
        self.result = ImportResult(rows=len(roster.buildings) + len(roster.dwellings))
        self.b_label = roster.labels.get("buildings")
        self.d_label = roster.labels.get("dwellings")

    # --- resolution ----------------------------------------------------------------------------

    def resolve(self) -> None:
        uses: dict[str, tuple[int | None, str | None, int]] = {}
        for rows, label in ((self.roster.buildings, self.b_label), (self.roster.dwellings, self.d_label)):
            col = (
                f"{label} · 社区编码 community_code"
                if label and len(self.roster.labels) > 1
                else "社区编码 community_code"
            )
            for r in rows:
                if r.community_code in uses:
                    first = uses[r.community_code]
                    uses[r.community_code] = (first[0], first[1], first[2] + 1)
                else:
                    uses[r.community_code] = (r.row, col, 1)
        self.communities = resolve_communities(self.user, uses, self.problems, self.only)
        ids = [c.pk for c in self.communities.values()]
        self.compounds: dict[tuple[int, str], Compound] = {
            (c.community_id, c.code): c for c in Compound.objects.filter(community_id__in=ids)
        }
        self.buildings: dict[tuple[int, str], Building] = {
            (b.compound_id, b.code): b for b in Building.objects.filter(community_id__in=ids)
        }
        self._resolve_buildings()
        self._resolve_dwellings()

    def _compound_clash(self, community: Community, code: str, name: str) -> Compound | None:
        for (cid, other_code), comp in self.compounds.items():
            if (
                cid == community.pk
                and other_code != code
                and (comp.name == name or _strip_zeros(other_code) == _strip_zeros(code))
            ):
                return comp
        return None

    def _resolve_buildings(self) -> None:
        self.new_compounds: dict[tuple[int, str], Compound] = {}
        self.changed_compounds: dict[int, Compound] = {}
        self.new_buildings: list[Building] = []
        self.changed_buildings: list[Building] = []
        # file building key → Building (existing or new) for the dwellings to hang on
        self.file_buildings: dict[tuple[str, str, str], Building] = {}
        by_compound: dict[int, list[Building]] = defaultdict(list)
        for b in self.buildings.values():
            by_compound[b.compound_id].append(b)
        col = f"{self.b_label} · " if len(self.roster.labels) > 1 else ""
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
                            column=col + "小区编码 compound_code",
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
            elif comp.pk is not None and (
                comp.name != r.compound_name
                or (r.compound_build_year is not None and comp.build_year != r.compound_build_year)
            ):
                comp.name = r.compound_name
                if r.compound_build_year is not None:
                    comp.build_year = r.compound_build_year
                comp.updated_at = self.now
                self.changed_compounds[comp.pk] = comp
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
                            column=col + "楼栋编码 building_code",
                        )
                    )
                    continue
                bld = Building(compound=comp, community_id=community.pk, code=r.building_code)
                self._set_building(bld, r)
                self.new_buildings.append(bld)
            else:
                if self._set_building(bld, r):
                    bld.updated_at = self.now
                    self.changed_buildings.append(bld)
                else:
                    self.result.unchanged["buildings"] += 1
            self.file_buildings[r.key] = bld

    @staticmethod
    def _set_building(b: Building, r: BuildingRow) -> bool:
        new = {"name": r.building_name, "storeys": r.storeys, "building_kind": r.building_kind, "has_lift": r.has_lift}
        if r.build_year is not None:
            new["build_year"] = r.build_year
        if r.lat is not None:
            new["lat"], new["lon"] = r.lat, r.lon
        changed = False
        for k, v in new.items():
            if getattr(b, k) != v:
                setattr(b, k, v)
                changed = True
        return changed

    def _building_for(self, r: DwellingRow) -> Building | None:
        b = self.file_buildings.get(r.building_key)
        if b is not None:
            return b
        community = self.communities.get(r.community_code)
        if community is None:
            return None
        comp = self.compounds.get((community.pk, r.compound_code))
        b = self.buildings.get((comp.pk, r.building_code)) if comp is not None else None
        if b is not None:
            self.file_buildings[r.building_key] = b
        return b

    def _resolve_dwellings(self) -> None:
        col = f"{self.d_label} · " if len(self.roster.labels) > 1 else ""
        self.dwelling_rows: list[tuple[DwellingRow, Building]] = []
        missing: set[tuple[str, str, str]] = set()
        for r in self.roster.dwellings:
            if r.community_code not in self.communities:
                continue
            b = self._building_for(r)
            if b is None:
                missing.add(r.building_key)
                self.problems.add(
                    Problem(
                        "unknown_building",
                        f"楼栋不存在:小区 {r.compound_code} 楼栋 {r.building_code} 既不在系统中,"
                        "也不在本文件的楼栋表中。",
                        f"Unknown building: compound {r.compound_code} building {r.building_code} is neither in the "
                        "system nor in this file's buildings sheet.",
                        row=r.row,
                        column=col + "楼栋编码 building_code",
                    )
                )
                continue
            if r.floor > b.storeys:
                self.problems.add(
                    Problem(
                        "value",
                        f"楼层 {r.floor} 高于楼栋层数 {b.storeys}。",
                        f"Floor {r.floor} is above the building's {b.storeys} storeys.",
                        row=r.row,
                        column=col + "楼层 floor",
                    )
                )
                continue
            self.dwelling_rows.append((r, b))

    # --- writing -------------------------------------------------------------------------------

    def write(self, progress: Progress) -> ImportResult:
        res = self.result
        total = len(self.dwelling_rows) * 3 + len(self.new_buildings) + 10
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            progress("write", done, total)

        Compound.objects.bulk_create(list(self.new_compounds.values()), batch_size=BATCH)
        res.created["compounds"] += len(self.new_compounds)
        if self.changed_compounds:
            Compound.objects.bulk_update(
                list(self.changed_compounds.values()), ["name", "build_year", "updated_at"], batch_size=BATCH
            )
        res.updated["compounds"] += len(self.changed_compounds)
        for b in self.new_buildings:
            b.compound_id = b.compound.pk
            b.path = child_path(b.compound.path, b.code)
        Building.objects.bulk_create(self.new_buildings, batch_size=BATCH)
        res.created["buildings"] += len(self.new_buildings)
        if self.changed_buildings:
            Building.objects.bulk_update(
                self.changed_buildings,
                ["name", "storeys", "building_kind", "has_lift", "build_year", "lat", "lon", "updated_at"],
                batch_size=BATCH,
            )
        res.updated["buildings"] += len(self.changed_buildings)
        step(len(self.new_buildings))

        dwellings = self._write_units_and_dwellings(step)
        self._write_owners(dwellings, step)
        self._write_households(dwellings, step)
        progress("write", total, total)
        return res

    def _write_units_and_dwellings(self, step: Callable[[int], None]) -> list[tuple[DwellingRow, Dwelling, bool]]:
        res = self.result
        building_ids = {b.pk for _, b in self.dwelling_rows}
        units: dict[tuple[int, str], int] = {
            (u.building_id, u.number): u.pk
            for u in _filter_in(Unit.objects.only("id", "building_id", "number"), "building_id", building_ids)
        }
        new_units: dict[tuple[int, str], Unit] = {}
        for r, b in self.dwelling_rows:
            key = (b.pk, r.unit)
            if key not in units and key not in new_units:
                new_units[key] = Unit(building_id=b.pk, number=r.unit)
        Unit.objects.bulk_create(list(new_units.values()), batch_size=BATCH)
        res.created["units"] += len(new_units)
        for key, u in new_units.items():
            units[key] = u.pk
        unit_ids = set(units.values())
        existing: dict[tuple[int, str], Dwelling] = {
            (d.unit_id, d.number): d
            for d in _filter_in(
                Dwelling.objects.only("id", "unit_id", "building_id", "number", "floor", "area", "area_source", "use"),
                "unit_id",
                unit_ids,
            )
        }
        out: list[tuple[DwellingRow, Dwelling, bool]] = []
        new: list[Dwelling] = []
        changed: list[Dwelling] = []
        for r, b in self.dwelling_rows:
            unit_id = units[(b.pk, r.unit)]
            d = existing.get((unit_id, r.number))
            if d is None:
                d = Dwelling(
                    unit_id=unit_id,
                    building_id=b.pk,
                    number=r.number,
                    floor=r.floor,
                    area=r.area,
                    area_source=r.area_source,
                    use=r.use,
                )
                new.append(d)
                out.append((r, d, True))
            else:
                if (d.floor, d.area, d.area_source, d.use) != (r.floor, r.area, r.area_source, r.use):
                    d.floor, d.area, d.area_source, d.use = r.floor, r.area, r.area_source, r.use
                    changed.append(d)
                else:
                    res.unchanged["dwellings"] += 1
                out.append((r, d, False))
        for chunk in _chunks(new):
            Dwelling.objects.bulk_create(chunk, batch_size=BATCH)
            step(len(chunk))
        if changed:
            Dwelling.objects.bulk_update(changed, ["floor", "area", "area_source", "use"], batch_size=500)
        res.created["dwellings"] += len(new)
        res.updated["dwellings"] += len(changed)
        step(len(changed) + res.unchanged["dwellings"])
        return out

    def _write_owners(self, dwellings: list[tuple[DwellingRow, Dwelling, bool]], step: Callable[[int], None]) -> None:
        res = self.result
        with_owner = [(r, d, new) for r, d, new in dwellings if r.has_owner]
        old_ids = [d.pk for _, d, new in with_owner if not new]
        current: dict[int, set[tuple[int, Decimal]]] = defaultdict(set)
        current_people: dict[int, list[int]] = defaultdict(list)
        for o in _filter_in(Ownership.objects.only("dwelling_id", "person_id", "share"), "dwelling_id", old_ids):
            current[o.dwelling_id].add((o.person_id, o.share))
            current_people[o.dwelling_id].append(o.person_id)
        # People: by ID-number hash; organisations by name; one developer per compound; others by the
        # dwelling's current owner of the same name (a re-import without ID numbers must not duplicate).
        hashes = {
            r.owner_id_number: crypto.lookup_hash(r.owner_id_number) for r, _, _ in with_owner if r.owner_id_number
        }
        by_hash = {
            p.id_number_hash: p for p in _filter_in(Person.objects.all(), "id_number_hash", set(hashes.values()))
        }
        org_names = {r.owner_name for r, _, _ in with_owner if r.owner_kind == "organisation" and not r.owner_id_number}
        orgs = {
            p.name: p
            for p in _filter_in(
                Person.objects.filter(kind=Person.Kind.ORGANISATION, id_number_hash=""), "name", org_names
            )
        }
        compound_of = {b.pk: b.compound.pk for _, b in self.dwelling_rows}
        dev_compounds = {compound_of[d.building_id] for r, d, _ in with_owner if r.owner_kind == "developer"}
        developers: dict[int, Person] = {}
        dev_links = Ownership.objects.filter(person__kind=Person.Kind.DEVELOPER).select_related(
            "person", "dwelling__building"
        )
        for o in _filter_in(dev_links, "dwelling__building__compound_id", dev_compounds):
            developers.setdefault(o.dwelling.building.compound_id, o.person)
        named: dict[tuple[int, str], Person] = {}
        people_ids = {pid for ids in current_people.values() for pid in ids}
        unnumbered = {p.pk: p for p in _filter_in(Person.objects.filter(id_number_hash=""), "id", people_ids)}
        for dwelling_id, ids in current_people.items():
            for pid in ids:
                if pid in unnumbered:
                    named[(dwelling_id, unnumbered[pid].name)] = unnumbered[pid]
        compounds = {b.compound.pk: b.compound for _, b in self.dwelling_rows}

        new_people: list[Person] = []
        changed_people: dict[int, Person] = {}
        owner_of: list[Person] = []
        for r, d, new in with_owner:
            person: Person | None = None
            if r.owner_kind == "developer":
                cid = compound_of[d.building_id]
                person = developers.get(cid)
                if person is None:
                    person = Person(
                        kind=Person.Kind.DEVELOPER, name=r.owner_name or f"{compounds[cid].name} 开发商(未售)"
                    )
                    developers[cid] = person
                    new_people.append(person)
            elif r.owner_id_number:
                h = hashes[r.owner_id_number]
                person = by_hash.get(h)
                if person is None:
                    person = Person(kind=r.owner_kind, name=r.owner_name)
                    person.set_id_number(r.owner_id_number)
                    by_hash[h] = person
                    new_people.append(person)
                elif person.pk is not None and (person.name != r.owner_name or r.owner_phone):
                    changed_people[person.pk] = person
                    person.name = r.owner_name
            elif r.owner_kind == "organisation":
                person = orgs.get(r.owner_name)
                if person is None:
                    person = Person(kind=r.owner_kind, name=r.owner_name)
                    orgs[r.owner_name] = person
                    new_people.append(person)
            else:
                person = None if new else named.get((d.pk, r.owner_name))
                if person is None:
                    person = Person(kind=r.owner_kind, name=r.owner_name)
                    new_people.append(person)
            if r.owner_phone and person.kind != Person.Kind.DEVELOPER:
                person.set_phone(r.owner_phone)
            owner_of.append(person)
        for chunk in _chunks(new_people):
            Person.objects.bulk_create(chunk, batch_size=BATCH)
        if changed_people:
            Person.objects.bulk_update(
                list(changed_people.values()), ["name", "phone_enc", "phone_masked"], batch_size=500
            )
        res.created["people"] += len(new_people)
        res.updated["people"] += len(changed_people)
        step(len(with_owner))

        replace: list[int] = []
        new_links: list[Ownership] = []
        for (r, d, new), person in zip(with_owner, owner_of, strict=True):
            want = {(person.pk, r.share)}
            if not new:
                if current.get(d.pk) == want:
                    res.unchanged["ownerships"] += 1
                    continue
                if d.pk in current:
                    replace.append(d.pk)
                    res.updated["ownerships"] += 1
                else:
                    res.created["ownerships"] += 1
            else:
                res.created["ownerships"] += 1
            new_links.append(Ownership(dwelling_id=d.pk, person_id=person.pk, share=r.share))
        for chunk in _chunks(replace, 900):
            Ownership.objects.filter(dwelling_id__in=chunk).delete()
        Ownership.objects.bulk_create(new_links, batch_size=BATCH)
        self.owner_of = {d.pk: p for (_, d, _), p in zip(with_owner, owner_of, strict=True)}

    def _write_households(
        self, dwellings: list[tuple[DwellingRow, Dwelling, bool]], step: Callable[[int], None]
    ) -> None:
        res = self.result
        told = [(r, d, new) for r, d, new in dwellings if r.occupied is not None or r.owner_occupied is not None]
        old_ids = [d.pk for _, d, new in told if not new]
        households: dict[int, list[Household]] = defaultdict(list)
        for h in _filter_in(Household.objects.only("id", "dwelling_id", "owner_occupied"), "dwelling_id", old_ids):
            households[h.dwelling_id].append(h)
        heads = set(
            _filter_in(Resident.objects.values_list("household_id", "person_id"), "household__dwelling_id", old_ids)
        )
        vacate: list[int] = []
        new_hh: list[tuple[Household, Person | None]] = []
        changed: list[Household] = []
        for r, d, _ in told:
            occupied = r.occupied if r.occupied is not None else True
            existing = households.get(d.pk, [])
            if not occupied:
                if existing:
                    vacate.append(d.pk)
                    res.updated["households"] += len(existing)
                continue
            person = self.owner_of.get(d.pk) if r.owner_occupied else None
            if not existing:
                new_hh.append((Household(dwelling_id=d.pk, owner_occupied=bool(r.owner_occupied)), person))
                continue
            h = existing[0]
            if r.owner_occupied is not None and h.owner_occupied != r.owner_occupied:
                h.owner_occupied = r.owner_occupied
                changed.append(h)
            if person is not None and (h.pk, person.pk) not in heads:
                new_hh.append((h, person))
        for chunk in _chunks(vacate, 900):
            Household.objects.filter(dwelling_id__in=chunk).delete()
        created = [h for h, _ in new_hh if h.pk is None]
        Household.objects.bulk_create(created, batch_size=BATCH)
        if changed:
            Household.objects.bulk_update(changed, ["owner_occupied"], batch_size=500)
        Resident.objects.bulk_create(
            [
                Resident(household_id=h.pk, person_id=p.pk, relation=Resident.Relation.HEAD)
                for h, p in new_hh
                if p is not None and p.kind == Person.Kind.PERSON
            ],
            batch_size=BATCH,
        )
        res.created["households"] += len(created)
        res.updated["households"] += len(changed)
        step(len(told))


def import_roster(
    user: Any,
    fileobj: IO[bytes],
    filename: str,
    *,
    encoding: str | None = None,
    progress: Progress | None = None,
    community: Community | None = None,
) -> ImportResult:
    """Import a roster file; raises LinliError with every problem, writing nothing, if any.

    ``community``: when given (the community's import page), rows of any other community are
    refused. ``progress(stage, done, total)`` is called while reading ("read") and writing ("write").
    """
    report: Progress = progress or (lambda stage, done, total: None)
    problems = Problems()
    roster = importing.read_roster(
        fileobj, filename, encoding=encoding, progress=lambda n: report("read", n, None), problems=problems
    )
    try:
        result = _write_roster(user, roster, problems, community, filename, report)
    except OperationalError as exc:  # the database stayed locked by another writer past its timeout
        raise LinliError.one(
            "busy",
            "另一项导入正在进行,数据库繁忙;未写入任何数据,请稍后重试。",
            "Another import is running and the database is busy; nothing was written. Try again in a minute.",
            status=503,
        ) from exc
    return result


def _write_roster(
    user: Any,
    roster: importing.Roster,
    problems: Problems,
    community: Community | None,
    filename: str,
    report: Progress,
) -> ImportResult:
    with transaction.atomic():
        plan = _Plan(user, roster, problems, community)
        if roster.buildings or roster.dwellings:
            plan.resolve()
        if problems:
            raise LinliError(problems.final())
        try:
            result = plan.write(report)
        except IntegrityError as exc:  # a race with another import, or a rule the checks missed
            raise LinliError.one(
                "conflict",
                "导入时与已有数据冲突,未写入任何数据;请重试。",
                f"The import conflicts with existing data; nothing was written ({exc}).",
                status=409,
            ) from exc
        touched: dict[int, Community] = {c.pk: c for c in plan.communities.values()}
        for c in touched.values():
            log_access(user, AccessLog.What.IMPORT, c, path=c.path, reason=f"{filename}: {result.summary()}")
        result.communities = [c.name for c in touched.values()]
    return result


# --------------------------------------------------------------------------------------------------
# Boundaries

_DEPTH = {3: Community, 4: Compound, 5: Building}


def import_boundaries(user: Any, fileobj: IO[bytes] | bytes, *, progress: Progress | None = None) -> dict[str, int]:
    """Set boundaries (and missing lat/lon) from a GeoJSON FeatureCollection; all or nothing."""
    data = fileobj if isinstance(fileobj, bytes) else fileobj.read()
    features, parse_problems = importing.parse_boundaries(data)
    problems = Problems()
    problems.extend(parse_problems)
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        found: list[tuple[importing.BoundaryFeature, Any]] = []
        by_code: dict[str, Community] = {}
        if any(f.kind == "community" and f.code and not f.path for f in features):
            for c in Community.objects.only("id", "path", "code", "name"):
                for key in community_keys(c):
                    by_code.setdefault(key, c)
        grids = {g.code: g for g in Grid.objects.filter(code__in=[f.code for f in features if f.kind == "grid"])}
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
                    problems.add(
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
                    authorize(user, Action.EDIT, obj)
                except Http404:
                    obj = None
                except PermissionDenied:
                    denied = True
            if obj is None or denied:
                zh = "您无权修改该地点" if denied else "地点不存在,或不在您的管辖范围内"
                en = "you may not change this place" if denied else "no such place, or not within your scope"
                problems.add(
                    Problem(
                        "unknown_place", f"第 {f.number} 个要素:{name} {zh}。", f"Feature {f.number}: {name}: {en}."
                    )
                )
                continue
            found.append((f, obj))
        if problems:
            raise LinliError(problems.final())
        now = clock.now()
        touched: dict[Any, list[Any]] = defaultdict(list)
        for n, (f, obj) in enumerate(found, start=1):
            obj.boundary = f.geometry
            if hasattr(obj, "lat") and obj.lat is None:
                obj.lat, obj.lon = f.centroid
            if hasattr(obj, "updated_at"):
                obj.updated_at = now
            touched[type(obj)].append(obj)
            counts[getattr(obj, "kind", type(obj).__name__.lower())] += 1
            if progress:
                progress("write", n, len(found))
        for touched_model, objs in touched.items():
            fields = ["boundary"] + (["lat", "lon", "updated_at"] if touched_model is not Grid else [])
            touched_model._default_manager.bulk_update(objs, fields, batch_size=500)
        if found:
            first = found[0][1]
            path = first.community.path if isinstance(first, Grid) else first.path
            log_access(
                user,
                AccessLog.What.IMPORT,
                None,
                path=path,
                reason="boundaries: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
            )
    return dict(counts)
