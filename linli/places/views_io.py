"""Pages for getting lists in and out: a community's roster import (upload → preview → confirm or
cancel), the template, .xlsx exports.

Import needs EDIT on the community (a preview: EDIT on its community, whoever uploaded it) and
export needs EXPORT on the place (both through ``get_or_404``: outside the user's scope → 404,
visible but not allowed → 403); the exported rows
are filtered again with ``scoped``. Exports carry personal data only masked, and exporting
residents is logged (AccessLog ``export``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import AccessLog
from linli.accounts.permissions import authorize, get_or_404, scoped
from linli.accounts.roles import Action
from linli.accounts.services import log_access, place_path
from linli.core import clock
from linli.core.errors import LinliError
from linli.core.exports import XLSX, xlsx_response
from linli.core.middleware import error_response
from linli.core.net import client_ip
from linli.places import importing, queries_import, services
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


def _see_other(url: str) -> HttpResponse:
    """303 See Other: after a POST the browser (and htmx) follows with a GET."""
    return HttpResponseRedirect(url, status=303)


def _crumbs(community: m.Community | None, last: str, import_url: bool = False) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("places:home")}]
    if community is not None:
        crumbs.append({"name": community.name, "url": reverse("places:community", args=[community.pk])})
        if import_url:
            crumbs.append({"name": _("Import"), "url": reverse("places:io_import", args=[community.pk])})
    crumbs.append({"name": last, "url": None})
    return crumbs


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a roster or boundary file: a clean file becomes a preview (nothing written yet) and
    the browser goes to it; a file with problems is shown here with every problem at once."""
    community = get_or_404(request.user, Action.EDIT, m.Community, pk=pk)
    ctx: dict[str, Any] = {
        "community": community,
        "problems": [],
        "plan": None,
        "previews": queries_import.recent_previews(request.user, community),
        "max_mb": settings.LINLI_MAX_UPLOAD_BYTES // (1024 * 1024),
        "hours": settings.LINLI_IMPORT_PREVIEW_HOURS,
        "crumbs": _crumbs(community, _("Import")),
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
                preview = services.preview_boundaries(
                    request.user, upload.read(), upload.name or "boundaries.geojson", community=community
                )
            else:
                preview = services.preview_roster(
                    request.user, upload, upload.name or "upload.xlsx", encoding=encoding, community=community
                )
        except LinliError as exc:
            ctx["problems"] = exc.problems
            ctx["plan"] = queries_import.plan_view(getattr(exc, "plan", None))
            ctx["filename"] = getattr(upload, "name", "")
            ctx["what"] = what
            status = exc.status
        else:
            return _see_other(reverse("places:io_preview", args=[preview.pk]))
    return render(request, "places/import.html", ctx, status=status)


def _preview_ctx(request: HttpRequest, preview: m.ImportPreview) -> dict[str, Any]:
    plan = queries_import.plan_view(preview.plan)
    conflicts = queries_import.conflict_rows(preview)
    now = clock.now()
    pending = preview.status == m.ImportPreview.Status.PENDING and preview.expires_at > now
    return {
        "preview": preview,
        "community": preview.community,
        "plan": plan,
        "conflicts": conflicts,
        "open_conflicts": [c for c in conflicts if c["decision"] not in c["choices"]],
        "pending": pending,
        "expired": preview.status == m.ImportPreview.Status.EXPIRED
        or (preview.status == m.ImportPreview.Status.PENDING and not pending),
        "result": queries_import.result_rows(preview.result),
        "log": queries_import.log_rows(preview, "en" if (get_language() or "").startswith("en") else "zh"),
        "errors": [],
        "crumbs": _crumbs(preview.community, _("Preview #%(id)s") % {"id": preview.pk}, import_url=True),
    }


def _render_preview(
    request: HttpRequest, preview: m.ImportPreview, errors: list[Any] | None = None, status: int = 200
) -> HttpResponse:
    ctx = _preview_ctx(request, preview)
    ctx["errors"] = errors or []
    if request.method == "GET" and ctx["plan"] is not None and ctx["plan"].shows_people:
        # the preview lists owners (names, masked ID numbers): a roster view, logged like one
        log_access(
            request.user,
            AccessLog.What.VIEW_PEOPLE,
            preview,
            path=preview.path,
            ip=client_ip(request),
        )
    response = render(request, "places/import_preview.html", ctx, status=status)
    if getattr(request, "htmx", False):
        response["HX-Push-Url"] = reverse("places:io_preview", args=[preview.pk])
    return response


def _preview(request: HttpRequest, pk: int) -> m.ImportPreview:
    return get_or_404(
        request.user,
        Action.EDIT,
        m.ImportPreview.objects.select_related("community", "created_by", "decided_by"),
        pk=pk,
    )


@login_required
@never_cache
@require_GET
def preview_page(request: HttpRequest, pk: int) -> HttpResponse:
    """What the file would create, change and remove; the conflicts to decide; confirm or cancel."""
    return _render_preview(request, _preview(request, pk))


@login_required
@never_cache
@require_POST
def preview_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    preview = _preview(request, pk)
    try:
        result = services.apply_preview(request.user, preview)
    except LinliError as exc:
        preview.refresh_from_db()
        return _render_preview(request, preview, exc.problems, exc.status)
    messages.success(request, _("Imported: %(summary)s") % {"summary": result.summary() or "—"})
    return _see_other(reverse("places:io_preview", args=[preview.pk]))


@login_required
@never_cache
@require_POST
def preview_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    preview = _preview(request, pk)
    try:
        services.cancel_preview(request.user, preview)
    except LinliError as exc:
        preview.refresh_from_db()
        return _render_preview(request, preview, exc.problems, exc.status)
    messages.info(request, _("The import was cancelled; nothing was written."))
    return _see_other(reverse("places:io_preview", args=[preview.pk]))


@login_required
@never_cache
@require_POST
def preview_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """A worker's decisions on the conflicts about people (radio buttons named by conflict id)."""
    preview = _preview(request, pk)
    ids = {c["id"] for c in preview.plan.get("conflicts", [])}
    choices = {cid: request.POST[cid] for cid in ids if request.POST.get(cid)}
    try:
        services.resolve_conflicts(request.user, preview, choices)
    except LinliError as exc:
        preview.refresh_from_db()
        return _render_preview(request, preview, exc.problems, exc.status)
    return _see_other(reverse("places:io_preview", args=[preview.pk]) + "#conflicts")


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
            ip=client_ip(request),
        )
    return response
