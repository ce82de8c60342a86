"""Reads for the .xlsx exports of a place: which rows, which columns.

An export needs EXPORT on the place (``export_target``: outside the user's scope → 404, visible
but not allowed → 403); its rows are filtered again with ``scoped`` (EXPORT). People are exported
only masked, and only by users who may also see people's data there (``authorize`` VIEW_PEOPLE).
Each exporter returns the columns (bilingual header, value of a row), the rows (streamed) and their
number (for the run's progress bar). The export itself runs in a background task
(``linli.places.tasks.export_places``), with the user who started it: every check here runs again
there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import Count, Model, QuerySet
from django.http import Http404

from linli.accounts.permissions import authorize, get_or_404, scoped
from linli.accounts.roles import Action
from linli.core.types import User
from linli.places import models as m

EXPORT_KINDS: dict[str, type[Model]] = {
    "district": m.District,
    "street": m.Street,
    "community": m.Community,
    "compound": m.Compound,
    "building": m.Building,
    "grid": m.Grid,
}
EXPORTS = ("compounds", "buildings", "dwellings", "residents", "grids")

Columns = list[tuple[str, Callable[[Any], Any]]]
Export = tuple[Columns, Iterable[Any], int]  # columns, rows, how many rows


def _community_code(path: str) -> str:
    """The 12-digit code of the community a path lies in (the first three levels)."""
    return "".join(path.split("/")[:3])


def _under(obj: Model, qs: QuerySet[Any], building_lookup: str) -> QuerySet[Any]:
    if isinstance(obj, m.Grid):
        return qs.filter(**{f"{building_lookup}grid": obj})
    return qs.filter(**{f"{building_lookup}path__startswith": obj.path})  # type: ignore[attr-defined]


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _buildings(user: User, obj: Model) -> Export:
    qs = (
        scoped(user, Action.EXPORT, _under(obj, m.Building.objects.all(), ""))
        .select_related("compound")
        .order_by("path")
    )
    cols: Columns = [
        ("社区编码 community_code", lambda b: _community_code(b.path)),
        ("小区编码 compound_code", lambda b: b.compound.code),
        ("小区名称 compound_name", lambda b: b.compound.name),
        ("小区建成年份 compound_build_year", lambda b: b.compound.build_year),
        ("楼栋编码 building_code", lambda b: b.code),
        ("楼栋名称 building_name", lambda b: b.name),
        ("层数 storeys", lambda b: b.storeys),
        ("楼栋类型 building_kind", lambda b: b.building_kind),
        ("有无电梯 has_lift", lambda b: _yes(b.has_lift)),
        ("楼栋建成年份 build_year", lambda b: b.build_year),
        ("纬度 lat", lambda b: b.lat),
        ("经度 lon", lambda b: b.lon),
    ]
    return cols, qs.iterator(chunk_size=2000), qs.count()


def _dwellings(user: User, obj: Model) -> Export:
    qs = (
        scoped(user, Action.EXPORT, _under(obj, m.Dwelling.objects.all(), "building__"))
        .select_related("unit", "building__compound")
        .order_by("building__path", "unit__number", "floor", "number")
    )
    cols: Columns = [
        ("社区编码 community_code", lambda d: _community_code(d.building.path)),
        ("小区编码 compound_code", lambda d: d.building.compound.code),
        ("楼栋编码 building_code", lambda d: d.building.code),
        ("单元 unit", lambda d: d.unit.number),
        ("房号 number", lambda d: d.number),
        ("楼层 floor", lambda d: d.floor),
        ("面积 area", lambda d: d.area),
        ("面积来源 area_source", lambda d: d.area_source),
        ("用途 use", lambda d: d.use),
    ]
    return cols, qs.iterator(chunk_size=2000), qs.count()


def _owners_and_residents(user: User, obj: Model) -> tuple[QuerySet[Any], QuerySet[Any]]:
    owners = (
        scoped(user, Action.EXPORT, _under(obj, m.Ownership.objects.all(), "dwelling__building__"))
        .select_related("person", "dwelling__unit", "dwelling__building__compound")
        .order_by("dwelling__building__path", "dwelling__unit__number", "dwelling__number")
    )
    residents = (
        scoped(user, Action.EXPORT, _under(obj, m.Resident.objects.all(), "household__dwelling__building__"))
        .select_related("person", "household__dwelling__unit", "household__dwelling__building__compound")
        .order_by(
            "household__dwelling__building__path", "household__dwelling__unit__number", "household__dwelling__number"
        )
    )
    return owners, residents


def _people_rows(owners: QuerySet[Any], residents: QuerySet[Any]) -> Iterator[dict[str, Any]]:
    for o in owners.iterator(chunk_size=2000):
        yield {"dwelling": o.dwelling, "person": o.person, "relation": "产权人 owner", "share": o.share}
    relations = dict(m.Resident.Relation.choices)
    for r in residents.iterator(chunk_size=2000):
        label = f"住户 resident · {relations.get(r.relation, r.relation)}"
        yield {"dwelling": r.household.dwelling, "person": r.person, "relation": label, "share": None}


def _residents(user: User, obj: Model) -> Export:
    authorize(user, Action.VIEW_PEOPLE, obj)
    cols: Columns = [
        ("小区 compound", lambda x: x["dwelling"].building.compound.name),
        ("楼栋 building", lambda x: x["dwelling"].building.name),
        ("单元 unit", lambda x: x["dwelling"].unit.number),
        ("房号 number", lambda x: x["dwelling"].number),
        ("关系 relation", lambda x: x["relation"]),
        ("姓名 name", lambda x: x["person"].name),
        ("类型 kind", lambda x: x["person"].kind),
        ("证件号(打码) ID number (masked)", lambda x: x["person"].id_number_masked),
        ("电话(打码) phone (masked)", lambda x: x["person"].phone_masked),
        ("出生年份 birth year", lambda x: x["person"].birth_year),
        ("产权份额 share", lambda x: x["share"]),
    ]
    owners, residents = _owners_and_residents(user, obj)
    return cols, _people_rows(owners, residents), owners.count() + residents.count()


def _grids(user: User, obj: Model) -> Export:
    qs = m.Grid.objects.all()
    if isinstance(obj, m.Grid):
        qs = qs.filter(pk=obj.pk)
    elif isinstance(obj, m.District | m.Street | m.Community):
        qs = qs.filter(community__path__startswith=obj.path)
    else:
        qs = qs.filter(
            pk__in=m.Building.objects.filter(
                path__startswith=obj.path,  # type: ignore[attr-defined]
                grid__isnull=False,
            ).values("grid_id")
        )
    qs = (
        scoped(user, Action.EXPORT, qs)
        .select_related("community")
        .annotate(
            n_buildings=Count("buildings", distinct=True),
            n_dwellings=Count("buildings__dwellings", distinct=True),
        )
        .order_by("code")
    )
    cols: Columns = [
        ("网格编码 code", lambda g: g.code),
        ("网格名称 name", lambda g: g.name),
        ("社区 community", lambda g: g.community.name),
        ("楼栋数 buildings", lambda g: g.n_buildings),
        ("房屋数 dwellings", lambda g: g.n_dwellings),
        ("已公布 published", lambda g: _yes(g.published)),
    ]
    return cols, qs.iterator(chunk_size=2000), qs.count()


def _compounds(user: User, obj: Model) -> Export:
    qs = m.Compound.objects.all()
    if isinstance(obj, m.Grid):
        qs = qs.filter(pk__in=m.Building.objects.filter(grid=obj).values("compound_id"))
    elif isinstance(obj, m.Building):
        qs = qs.filter(pk=obj.compound_id)
    else:
        qs = qs.filter(path__startswith=obj.path)  # type: ignore[attr-defined]
    qs = (
        scoped(user, Action.EXPORT, qs)
        .select_related("community")
        .annotate(
            n_buildings=Count("buildings", distinct=True),
            n_dwellings=Count("buildings__dwellings", distinct=True),
            n_households=Count("buildings__dwellings__households", distinct=True),
        )
        .order_by("path")
    )
    cols: Columns = [
        ("社区编码 community_code", lambda c: _community_code(c.path)),
        ("社区 community", lambda c: c.community.name),
        ("小区编码 compound_code", lambda c: c.code),
        ("小区名称 compound_name", lambda c: c.name),
        ("地址 address", lambda c: c.address),
        ("建成年份 build_year", lambda c: c.build_year),
        ("历史建筑 historic", lambda c: _yes(c.is_historic)),
        ("按年代可改造 eligible by age", lambda c: {True: "是", False: "否", None: ""}[c.renovation_eligible_by_age()]),
        ("楼栋数 buildings", lambda c: c.n_buildings),
        ("房屋数 dwellings", lambda c: c.n_dwellings),
        ("住户数 households", lambda c: c.n_households),
    ]
    return cols, qs.iterator(chunk_size=2000), qs.count()


EXPORTERS: dict[str, Callable[[User, Any], Export]] = {
    "compounds": _compounds,
    "buildings": _buildings,
    "dwellings": _dwellings,
    "residents": _residents,
    "grids": _grids,
}
# what each export is called on the run's page: (Chinese, English)
NAMES = {
    "compounds": ("小区", "compounds"),
    "buildings": ("楼栋", "buildings"),
    "dwellings": ("房屋", "dwellings"),
    "residents": ("人员", "people"),
    "grids": ("网格", "grids"),
}
TITLES = {
    "compounds": "小区 compounds",
    "buildings": "楼栋 buildings",
    "dwellings": "房屋 dwellings",
    "residents": "人员 people",
    "grids": "网格 grids",
}


def export_target(user: User, kind: str, pk: int, what: str) -> Model:
    """The place an export of ``what`` is taken from: 404 for an unknown kind or export, or a place
    outside the user's scope; 403 without EXPORT there (and, for people, without VIEW_PEOPLE)."""
    model = EXPORT_KINDS.get(kind)
    if model is None or what not in EXPORTERS:
        raise Http404("unknown export")
    obj = get_or_404(user, Action.EXPORT, model, pk=pk)
    if what == "residents":
        authorize(user, Action.VIEW_PEOPLE, obj)
    return obj


def filename(obj: Model, what: str) -> str:
    """The file's name, as it always was: ``<place>-<小区|楼栋|…>-<code>.xlsx``."""
    code = getattr(obj, "code", str(obj.pk))
    return f"{obj}-{TITLES[what].split()[0]}-{code}.xlsx"
