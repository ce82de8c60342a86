"""Device import pages (issue 13 §1): upload → preview → confirm, and the template.

The import page of a district, street or community needs EDIT there (``get_or_404``: outside the
scope 404, seeing but not editing 403); each row must lie in a community below it where the user
may EDIT devices. The upload is checked whole and shown as a preview (nothing written); confirming
writes it all in one transaction or nothing (``services/imports.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.permissions import get_or_404
from linli.core import lang
from linli.core.errors import LinliError
from linli.core.exports import XLSX
from linli.core.middleware import error_response
from linli.places.api import upload_too_large
from linli.places.models import Community, District, Street
from linli.runs import queries as runs_queries
from linli.sensing.permissions import EDIT_DEVICES
from linli.sensing.services import imports as svc

PLACES: dict[str, type[District | Street | Community]] = {
    "district": District,
    "street": Street,
    "community": Community,
}
ENCODINGS = ("utf-8", "gb18030")


def _place(request: HttpRequest, kind: str, pk: int) -> Any:
    model = PLACES.get(kind)
    if model is None:
        raise Http404
    return get_or_404(request.user, EDIT_DEVICES, model, pk=pk)


def _ctx(kind: str, place: Any) -> dict[str, Any]:
    return {
        "place": place,
        "kind": kind,
        "problems": [],
        "preview": None,
        "max_mb": settings.LINLI_MAX_UPLOAD_BYTES // (1024 * 1024),
        "max_rows": svc.MAX_ROWS,
        "columns": [
            {"header": c.header, "required": c.required, "note": lang.pick(c.note_zh, c.note_en or c.note_zh)}
            for c in svc.COLUMNS
        ],
        "crumbs": [
            {"name": _("Home"), "url": reverse("workbench:home")},
            {"name": _("Devices"), "url": reverse("sensing:device_list")},
            {"name": place.name, "url": None},
            {"name": _("Import devices"), "url": None},
        ],
    }


def _encoding(request: HttpRequest) -> str | None:
    enc = str(request.POST.get("encoding", "") or "").lower()
    return enc if enc in ENCODINGS else None


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Choose a file: a worker reads and checks it (the browser follows its progress bar) and the
    preview follows; a file with problems ends on the run's page with every problem, by row."""
    place = _place(request, kind, pk)
    ctx = _ctx(kind, place)
    if request.method == "GET":
        return render(request, "sensing/imports/import.html", ctx)
    upload = request.FILES.get("file")
    if upload is None:
        ctx["problems"] = LinliError.one("no_file", "请选择要上传的文件。", "Choose a file to upload.").problems
        return render(request, "sensing/imports/import.html", ctx, status=400)
    if upload.size is not None and upload.size > settings.LINLI_MAX_UPLOAD_BYTES:
        return error_response(request, upload_too_large())
    name = (upload.name or "devices.xlsx")[:200]
    run = svc.start_preview(request.user, kind, place, upload.read(), name, _encoding(request))
    return HttpResponseRedirect(reverse("runs:detail", args=[run.pk]), status=303)


@login_required
@never_cache
@require_GET
def import_preview(request: HttpRequest, kind: str, pk: int, run: int) -> HttpResponse:
    """The preview a worker made (only for the person who uploaded it, while they may still EDIT)."""
    place = _place(request, kind, pk)
    found = runs_queries.run_or_404(request.user, run)
    preview = (found.result or {}).get("preview")
    if found.kind != "sensing.import" or found.target_id != place.pk or not isinstance(preview, dict):
        raise Http404
    ctx = _ctx(kind, place)
    ctx["preview"] = preview
    ctx["run"] = found
    return render(request, "sensing/imports/import.html", ctx)


@login_required
@never_cache
@require_POST
def import_confirm(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A worker writes the previewed file, all of it or nothing; a file already imported (a double
    submit) or not the one previewed is refused here with 409, nothing started."""
    place = _place(request, kind, pk)
    fields = {k: str(request.POST.get(k, ""))[:300] for k in ("token", "filename", "sha256", "digest")}
    try:
        run = svc.start_apply(
            request.user,
            kind,
            place,
            fields["token"],
            fields["filename"] or "devices.xlsx",
            fields["sha256"],
            fields["digest"],
            _encoding(request),
        )
    except LinliError as exc:
        ctx = _ctx(kind, place)
        ctx["problems"] = exc.problems
        return render(request, "sensing/imports/import.html", ctx, status=exc.status)
    return HttpResponseRedirect(reverse("runs:detail", args=[run.pk]), status=303)


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """The .xlsx template (no data: any signed-in user)."""
    response = HttpResponse(svc.template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="devices-template.xlsx"'
    return response
