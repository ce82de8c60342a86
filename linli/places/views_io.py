"""Pages for getting lists in and out: a community's roster import, the template, .xlsx exports.

Import needs EDIT on the community and export needs EXPORT on the place (both through
``get_or_404``: outside the user's scope → 404, visible but not allowed → 403); the exported rows
are filtered again with ``scoped``. Exports carry personal data only masked, and exporting
residents is logged (AccessLog ``export``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.models import AccessLog
from linli.accounts.permissions import authorize, get_or_404, scoped
from linli.accounts.roles import Action
from linli.accounts.services import log_access, place_path
from linli.core.errors import LinliError
from linli.core.exports import XLSX, xlsx_response
from linli.core.middleware import error_response
from linli.places import importing, services
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


def _too_large() -> LinliError:
    mb = settings.LINLI_MAX_UPLOAD_BYTES // (1024 * 1024)
    return LinliError.one(
        "too_large",
        f"上传内容过大(上限 {mb} MB),请拆分后再上传。",
        f"The upload is too large (limit {mb} MB); split it and try again.",
        status=413,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, pk: int) -> HttpResponse:
    community = get_or_404(request.user, Action.EDIT, m.Community, pk=pk)
    ctx: dict[str, Any] = {
        "community": community,
        "result": None,
        "problems": [],
        "boundaries": None,
        "max_mb": settings.LINLI_MAX_UPLOAD_BYTES // (1024 * 1024),
        "crumbs": [
            {"name": _("Home"), "url": reverse("places:home")},
            {"name": community.name, "url": reverse("places:community", args=[community.pk])},
            {"name": _("Import"), "url": None},
        ],
        "exports": [(what, reverse("places:io_export", args=["community", community.pk, what])) for what in EXPORTS],
    }
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        what = request.POST.get("what", "roster")
        encoding = request.POST.get("encoding") or None
        try:
            if upload is None:
                raise LinliError.one("no_file", "请选择要上传的文件。", "Choose a file to upload.")
            if upload.size is not None and upload.size > settings.LINLI_MAX_UPLOAD_BYTES:
                return error_response(request, _too_large())
            if what == "boundaries":
                ctx["boundaries"] = services.import_boundaries(request.user, upload.read())
            else:
                ctx["result"] = services.import_roster(
                    request.user, upload, upload.name or "upload.xlsx", encoding=encoding, community=community
                )
        except LinliError as exc:
            ctx["problems"] = exc.problems
            ctx["filename"] = getattr(upload, "name", "")
            status = exc.status
    return render(request, "places/import.html", ctx, status=status)


@login_required
@require_GET
def template_download(request: HttpRequest) -> HttpResponse:
    buf = io.BytesIO()
    importing.write_template(buf)
    response = HttpResponse(buf.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="linli-roster-template.xlsx"'
    return response


# --------------------------------------------------------------------------------------------------
# Exports


def _community_code(path: str) -> str:
    """The 12-digit code of the community a path lies in (the first three levels)."""
    return "".join(path.split("/")[:3])


def _under(obj: Model, qs: QuerySet[Any], building_lookup: str) -> QuerySet[Any]:
    if isinstance(obj, m.Grid):
        return qs.filter(**{f"{building_lookup}grid": obj})
    return qs.filter(**{f"{building_lookup}path__startswith": obj.path})  # type: ignore[attr-defined]


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _buildings(user: Any, obj: Model) -> tuple[list[tuple[str, Callable[[Any], Any]]], Iterable[Any]]:
    qs = (
        scoped(user, Action.EXPORT, _under(obj, m.Building.objects.all(), ""))
        .select_related("compound")
        .order_by("path")
    )
    cols: list[tuple[str, Callable[[Any], Any]]] = [
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
    return cols, qs.iterator(chunk_size=2000)


def _dwellings(user: Any, obj: Model) -> tuple[list[tuple[str, Callable[[Any], Any]]], Iterable[Any]]:
    qs = (
        scoped(user, Action.EXPORT, _under(obj, m.Dwelling.objects.all(), "building__"))
        .select_related("unit", "building__compound")
        .order_by("building__path", "unit__number", "floor", "number")
    )
    cols: list[tuple[str, Callable[[Any], Any]]] = [
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
    return cols, qs.iterator(chunk_size=2000)


def _people_rows(user: Any, obj: Model) -> Iterator[dict[str, Any]]:
    owners = (
        scoped(user, Action.EXPORT, _under(obj, m.Ownership.objects.all(), "dwelling__building__"))
        .select_related("person", "dwelling__unit", "dwelling__building__compound")
        .order_by("dwelling__building__path", "dwelling__unit__number", "dwelling__number")
    )
    for o in owners.iterator(chunk_size=2000):
        yield {"dwelling": o.dwelling, "person": o.person, "relation": "产权人 owner", "share": o.share}
    residents = (
        scoped(user, Action.EXPORT, _under(obj, m.Resident.objects.all(), "household__dwelling__building__"))
        .select_related("person", "household__dwelling__unit", "household__dwelling__building__compound")
        .order_by(
            "household__dwelling__building__path", "household__dwelling__unit__number", "household__dwelling__number"
        )
    )
    relations = dict(m.Resident.Relation.choices)
    for r in residents.iterator(chunk_size=2000):
        label = f"住户 resident · {relations.get(r.relation, r.relation)}"
        yield {"dwelling": r.household.dwelling, "person": r.person, "relation": label, "share": None}


def _residents(user: Any, obj: Model) -> tuple[list[tuple[str, Callable[[Any], Any]]], Iterable[Any]]:
    authorize(user, Action.VIEW_PEOPLE, obj)
    cols: list[tuple[str, Callable[[Any], Any]]] = [
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
    return cols, _people_rows(user, obj)


def _grids(user: Any, obj: Model) -> tuple[list[tuple[str, Callable[[Any], Any]]], Iterable[Any]]:
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
    cols: list[tuple[str, Callable[[Any], Any]]] = [
        ("网格编码 code", lambda g: g.code),
        ("网格名称 name", lambda g: g.name),
        ("社区 community", lambda g: g.community.name),
        ("楼栋数 buildings", lambda g: g.n_buildings),
        ("房屋数 dwellings", lambda g: g.n_dwellings),
        ("已公布 published", lambda g: _yes(g.published)),
    ]
    return cols, qs.iterator(chunk_size=2000)


def _compounds(user: Any, obj: Model) -> tuple[list[tuple[str, Callable[[Any], Any]]], Iterable[Any]]:
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
    cols: list[tuple[str, Callable[[Any], Any]]] = [
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
    return cols, qs.iterator(chunk_size=2000)


_EXPORTERS = {
    "compounds": _compounds,
    "buildings": _buildings,
    "dwellings": _dwellings,
    "residents": _residents,
    "grids": _grids,
}
_TITLES = {
    "compounds": "小区 compounds",
    "buildings": "楼栋 buildings",
    "dwellings": "房屋 dwellings",
    "residents": "人员 people",
    "grids": "网格 grids",
}


@login_required
@never_cache
@require_GET
def export(request: HttpRequest, kind: str, pk: int, what: str) -> HttpResponse:
    model = EXPORT_KINDS.get(kind)
    exporter = _EXPORTERS.get(what)
    if model is None or exporter is None:
        raise Http404("unknown export")
    obj = get_or_404(request.user, Action.EXPORT, model, pk=pk)
    columns, rows = exporter(request.user, obj)
    code = getattr(obj, "code", str(obj.pk))
    filename = f"{obj}-{_TITLES[what].split()[0]}-{code}.xlsx"
    response = xlsx_response(filename, _TITLES[what], columns, rows)
    if what == "residents":
        log_access(
            request.user,
            AccessLog.What.EXPORT,
            obj,
            path=place_path(obj),
            reason=f"{what}.xlsx",
            ip=request.META.get("REMOTE_ADDR") or None,
        )
    return response
