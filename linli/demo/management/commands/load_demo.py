"""``manage.py load_demo [--seed N] [--scale F] [--if-empty]``: the demo district into the database.

The district comes from ``linli.demo.places.generate`` (pure, deterministic) and is written in one
transaction with ``bulk_create``, setting by hand what ``save()`` would set (materialised paths,
``Building.community``, ``Dwelling.building``) and encrypting every ID number and phone through
``Person.set_id_number`` / ``Person.set_phone`` (the expensive stage: two Fernet tokens per person).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.test.utils import override_settings
from tqdm import tqdm

from linli.demo import places as demo_places
from linli.places import models as m
from linli.places.codes import child_path

BATCH = 2000
M = TypeVar("M", bound=models.Model)

LABELS = {  # table → (中文, English) for the summary
    "districts": ("区", "districts"),
    "streets": ("街道", "streets"),
    "communities": ("社区", "communities"),
    "compounds": ("小区", "compounds"),
    "buildings": ("楼栋", "buildings"),
    "units": ("单元", "units"),
    "dwellings": ("房屋", "dwellings"),
    "people": ("人员", "people"),
    "ownerships": ("产权", "ownerships"),
    "households": ("住户", "households"),
    "residents": ("居住人员", "residents"),
    "grids": ("网格", "grids"),
    "grid_members": ("网格力量", "grid members"),
}


class _Stages:
    """One tqdm bar per stage, on stderr; silent when ``show`` is false (tests)."""

    def __init__(self, show: bool) -> None:
        self.show = show

    def bar(self, items: Sequence[Any], desc: str) -> Iterable[Any]:
        if not self.show:
            return items
        return tqdm(items, desc=desc, file=sys.stderr, unit="row", leave=True, mininterval=0.5, dynamic_ncols=True)


def _bulk(model: type[M], objs: list[M], stages: _Stages, desc: str) -> list[M]:
    """bulk_create in batches of BATCH with one progress bar advancing per batch."""
    bar = tqdm(
        total=len(objs),
        desc=desc,
        file=sys.stderr,
        unit="row",
        disable=not stages.show,
        mininterval=0.5,
        dynamic_ncols=True,
    )
    for i in range(0, len(objs), BATCH):
        chunk = objs[i : i + BATCH]
        model._default_manager.bulk_create(chunk, batch_size=BATCH)
        bar.update(len(chunk))
    bar.close()
    return objs


def load(d: demo_places.DemoDistrict, progress: bool = False) -> dict[str, int]:
    """Write ``d`` into the database (inside the caller's transaction); returns row counts."""
    st = _Stages(progress)
    district = m.District(
        code=d.code,
        name=d.name,
        name_en=d.name_en,
        lat=d.lat,
        lon=d.lon,
        boundary=d.boundary,
        path=child_path("", d.code),
    )
    district.save()

    streets = _bulk(
        m.Street,
        [
            m.Street(
                district=district,
                code=s.code,
                name=s.name,
                name_en=s.name_en,
                lat=s.lat,
                lon=s.lon,
                boundary=s.boundary,
                path=child_path(district.path, s.code),
            )
            for s in d.streets
        ],
        st,
        "街道 streets",
    )
    comm_pairs = [(c, street) for s, street in zip(d.streets, streets, strict=True) for c in s.communities]
    communities = _bulk(
        m.Community,
        [
            m.Community(
                street=street,
                code=c.code,
                name=c.name,
                name_en=c.name_en,
                lat=c.lat,
                lon=c.lon,
                boundary=c.boundary,
                path=child_path(street.path, c.code),
            )
            for c, street in comm_pairs
        ],
        st,
        "社区 communities",
    )

    grid_rows: list[m.Grid] = []
    member_rows: list[tuple[int, demo_places.DemoGridMember]] = []
    for (c, _), community in zip(comm_pairs, communities, strict=True):
        for g in c.grids:
            grid_rows.append(m.Grid(community=community, seq=g.seq, code=g.code, name=g.name, boundary=g.boundary))
            member_rows += [(len(grid_rows) - 1, mem) for mem in g.members]
    _bulk(m.Grid, grid_rows, st, "网格 grids")
    grid_of = {(g.community_id, g.seq): g.pk for g in grid_rows}

    cp_pairs = [
        (cp, community) for (c, _), community in zip(comm_pairs, communities, strict=True) for cp in c.compounds
    ]
    compounds = _bulk(
        m.Compound,
        [
            m.Compound(
                community=community,
                code=cp.code,
                name=cp.name,
                address=cp.address,
                build_year=cp.build_year,
                is_historic=cp.is_historic,
                lat=cp.lat,
                lon=cp.lon,
                boundary=cp.boundary,
                path=child_path(community.path, cp.code),
            )
            for cp, community in cp_pairs
        ],
        st,
        "小区 compounds",
    )

    b_pairs = [(b, compound) for (cp, _), compound in zip(cp_pairs, compounds, strict=True) for b in cp.buildings]
    buildings = _bulk(
        m.Building,
        [
            m.Building(
                compound=compound,
                community_id=compound.community_id,
                code=b.code,
                name=b.name,
                lat=b.lat,
                lon=b.lon,
                storeys=b.storeys,
                building_kind=b.building_kind,
                build_year=b.build_year,
                has_lift=b.has_lift,
                path=child_path(compound.path, b.code),
                grid_id=grid_of.get((compound.community_id, b.grid_seq)),
            )
            for b, compound in b_pairs
        ],
        st,
        "楼栋 buildings",
    )

    u_pairs = [(u, building) for (b, _), building in zip(b_pairs, buildings, strict=True) for u in b.units]
    units = _bulk(m.Unit, [m.Unit(building=building, number=u.number) for u, building in u_pairs], st, "单元 units")

    dw_pairs = [(dw, unit) for (u, _), unit in zip(u_pairs, units, strict=True) for dw in u.dwellings]
    dwellings = _bulk(
        m.Dwelling,
        [
            m.Dwelling(
                unit=unit,
                building_id=unit.building_id,
                number=dw.number,
                floor=dw.floor,
                area=dw.area,
                area_source=dw.area_source,
                use=dw.use,
            )
            for dw, unit in dw_pairs
        ],
        st,
        "房屋 dwellings",
    )

    people: list[m.Person] = []
    for p in st.bar(d.people, "加密证件号和电话 encrypting ID numbers and phones"):
        person = m.Person(kind=p.kind, name=p.name, birth_year=p.birth_year)
        if p.id_number:
            person.set_id_number(p.id_number)
        if p.phone:
            person.set_phone(p.phone)
        people.append(person)
    _bulk(m.Person, people, st, "人员 people")

    ownerships: list[m.Ownership] = []
    households: list[m.Household] = []
    hh_of: list[demo_places.DemoHousehold] = []
    for (dw, _), dwelling in zip(dw_pairs, dwellings, strict=True):
        for idx, share in dw.owners:
            ownerships.append(m.Ownership(dwelling=dwelling, person=people[idx], share=share))
        if dw.household is not None:
            households.append(
                m.Household(
                    dwelling=dwelling, owner_occupied=dw.household.owner_occupied, moved_in=dw.household.moved_in
                )
            )
            hh_of.append(dw.household)
    _bulk(m.Ownership, ownerships, st, "产权 ownerships")
    _bulk(m.Household, households, st, "住户 households")
    residents = [
        m.Resident(household=household, person=people[idx], relation=rel)
        for h, household in zip(hh_of, households, strict=True)
        for idx, rel in h.residents
    ]
    _bulk(m.Resident, residents, st, "居住人员 residents")

    members = [
        m.GridMember(grid=grid_rows[gi], role=mem.role, name=mem.name, affiliation=mem.affiliation, phone=mem.phone)
        for gi, mem in member_rows
    ]
    _bulk(m.GridMember, members, st, "网格力量 grid members")

    return {
        "districts": 1,
        "streets": len(streets),
        "communities": len(communities),
        "compounds": len(compounds),
        "buildings": len(buildings),
        "units": len(units),
        "dwellings": len(dwellings),
        "people": len(people),
        "ownerships": len(ownerships),
        "households": len(households),
        "residents": len(residents),
        "grids": len(grid_rows),
        "grid_members": len(members),
    }


class Command(BaseCommand):
    help = "载入演示区(九龙坡区,谢家湾街道与杨家坪街道)/ Load the demo district (Jiulongpo: Xiejiawan and Yangjiaping)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="随机种子 / random seed (same seed, same district)")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="住户规模倍数 / household scale (1.0 ≈ 68,000 households)"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="已有区时什么也不做 / do nothing when a district already exists"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if m.District.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("已有区数据,未载入演示数据。/ A district already exists; demo data not loaded.")
                return
            if m.District.objects.filter(code=demo_places.DISTRICT[0]).exists():
                raise CommandError(
                    "演示区已存在:先 `manage.py flush` 清空数据库再载入。/ The demo district already exists: "
                    "run `manage.py flush` first, then load_demo again."
                )
        if not 0 < opts["scale"] <= 10:
            raise CommandError("--scale 须在 0 与 10 之间 / --scale must be in (0, 10]")
        show = opts.get("verbosity", 1) >= 1
        t0 = time.perf_counter()
        d = demo_places.generate(seed=opts["seed"], scale=opts["scale"])
        t_gen = time.perf_counter() - t0
        if show:
            self.stderr.write(f"生成完成 / generated in {t_gen:.1f} s: {len(d.people):,} 人 people")
        # DEBUG would keep (and, on SQLite, re-quote) the SQL of every batch: not for a bulk load.
        with override_settings(DEBUG=False), transaction.atomic():
            counts = load(d, progress=show)
        t_all = time.perf_counter() - t0
        self.stdout.write(
            self.style.SUCCESS(
                f"演示区已载入 / demo district loaded: {d.name} {d.name_en} "
                f"(seed {opts['seed']}, scale {opts['scale']:g}) — {t_all:.1f} s"
            )
        )
        for key, (zh, en) in LABELS.items():
            pad = " " * (10 - 2 * len(zh))  # CJK characters take two columns in a terminal
            self.stdout.write(f"  {counts[key]:>9,}  {zh}{pad}{en}")
