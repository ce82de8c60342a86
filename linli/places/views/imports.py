"""Pages for getting lists in: a community's roster or boundary import (upload → preview → confirm
or cancel, docs/import.md) and the roster template.

Import needs EDIT on the community (a preview: EDIT on its community, whoever uploaded it), through
``get_or_404``: outside the user's scope → 404, visible but not allowed → 403. The upload form is
checked by the API's own input serializer (``places.api.ImportUploadSerializer``).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import AccessLog
from linli.accounts.services import log_access
from linli.core import clock, lang
from linli.core.errors import LinliError, Problem
from linli.core.exports import XLSX
from linli.core.forms import check_form
from linli.core.middleware import error_response
from linli.core.net import client_ip
from linli.places import importing
from linli.places import models as m
from linli.places import services as svc
from linli.places.api import ImportUploadSerializer, upload_too_large
from linli.places.queries import imports as q
from linli.places.queries.exports import EXPORTS

#: The upload form's own messages (the API answers its field errors in its own words).
_UPLOAD_TEXTS = {"file": Problem("no_file", "请选择要上传的文件。", "Choose a file to upload.")}


def _see_other(url: str) -> HttpResponse:
    """303 See Other: after a POST the browser (and htmx) follows with a GET."""
    return HttpResponseRedirect(url, status=303)


def _crumbs(community: m.Community | None, last: str, import_url: bool = False) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("workbench:home")}]
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
    community = q.community_or_404(request.user, pk)
    ctx: dict[str, Any] = {
        "community": community,
        "problems": [],
        "plan": None,
        "previews": q.recent_previews(request.user, community),
        "max_mb": settings.LINLI_MAX_UPLOAD_BYTES // (1024 * 1024),
        "hours": settings.LINLI_IMPORT_PREVIEW_HOURS,
        "crumbs": _crumbs(community, _("Import")),
        "exports": [(what, reverse("places:io_export", args=["community", community.pk, what])) for what in EXPORTS],
    }
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        what = "boundaries" if request.POST.get("what") == "boundaries" else "roster"
        try:
            v = check_form(
                ImportUploadSerializer,
                {
                    "community": community.pk,
                    "file": upload,
                    "kind": what,
                    "encoding": request.POST.get("encoding") or "",
                },
                _UPLOAD_TEXTS,
            )
            upload = v["file"]
            if upload.size is not None and upload.size > settings.LINLI_MAX_UPLOAD_BYTES:
                return error_response(request, upload_too_large())
            # Reading and checking a whole street's file takes a while: a worker does it, the
            # browser follows its progress bar and lands on the preview (docs/import.md).
            run = svc.start_preview(request.user, upload, v["kind"], encoding=v.get("encoding"), community=community)
        except LinliError as exc:
            ctx["problems"] = exc.problems
            ctx["plan"] = q.plan_view(getattr(exc, "plan", None))
            ctx["filename"] = getattr(upload, "name", "")
            ctx["what"] = what
            status = exc.status
        else:
            return _see_other(reverse("runs:detail", args=[run.pk]))
    return render(request, "places/import.html", ctx, status=status)


def _preview_ctx(request: HttpRequest, preview: m.ImportPreview) -> dict[str, Any]:
    plan = q.plan_view(preview.plan)
    conflicts = q.conflict_rows(preview)
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
        "result": q.result_rows(preview.result),
        "log": q.log_rows(preview, lang.code()),
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
    return q.preview_or_404(request.user, pk)


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
    """Confirm: a worker writes the preview (one transaction, all or nothing) while the browser
    follows its progress bar, then comes back to the preview showing what was imported."""
    preview = _preview(request, pk)
    try:
        run = svc.start_apply(request.user, preview)
    except LinliError as exc:
        return _render_preview(request, preview, exc.problems, exc.status)
    return _see_other(reverse("runs:detail", args=[run.pk]))


@login_required
@never_cache
@require_POST
def preview_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    preview = _preview(request, pk)
    try:
        svc.cancel_preview(request.user, preview)
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
        svc.resolve_conflicts(request.user, preview, choices)
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
