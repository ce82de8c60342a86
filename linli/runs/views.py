"""Pages of background runs: one run (progress bar polled with htmx, then the result or the
row-level errors and the file), its progress partial, its file, and my recent runs.

Every page re-checks the run's permission (``queries.run_or_404``: its starter, still allowed the
run's action on its target; anyone else gets a 404). No writes here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from linli.core import clock
from linli.core.errors import LinliError
from linli.core.middleware import error_response
from linli.core.paging import paginate
from linli.runs import queries as q
from linli.runs.models import Run
from linli.runs.services import run_dir


def _ctx(request: HttpRequest, run: Run) -> dict[str, Any]:
    errors = q.error_rows(run, request.GET)
    now = clock.now()
    has_file = bool(run.file) and run.status == Run.Status.DONE and (run.expires_at is None or run.expires_at > now)
    return {
        "run": run,
        "title": q.title(run),
        "live": q.live(run),
        "message": q.message(run),
        "summary": q.summary(run),
        "errors": errors,
        "error_count": len(run.errors or []),
        "has_file": has_file,
        "file_gone": bool(run.filename) and not has_file,
        "next_url": (run.result or {}).get("url") or "",
        "crumbs": [
            {"name": _("Home"), "url": reverse("workbench:home")},
            {"name": _("Background work"), "url": reverse("runs:list")},
            {"name": q.title(run), "url": None},
        ],
    }


@login_required
@never_cache
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = q.run_or_404(request.user, pk)
    return render(request, "runs/detail.html", _ctx(request, run))


@login_required
@never_cache
@require_GET
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the page htmx polls every second; once the run is finished the whole result is
    returned without the trigger, so polling stops."""
    run = q.run_or_404(request.user, pk)
    response = render(request, "runs/_progress.html", _ctx(request, run))
    result = run.result or {}
    if run.status == Run.Status.DONE and result.get("go") and str(result.get("url", "")).startswith("/"):
        response["HX-Redirect"] = str(result["url"])  # e.g. an import's preview, once it is ready
    return response


@login_required
@never_cache
@require_GET
def file(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    run = q.run_or_404(request.user, pk)
    if not run.filename:
        return error_response(
            request, LinliError.one("no_file", "这项后台任务没有文件。", "This work has no file.", 404)
        )
    path = run_dir() / run.file if run.file else None
    if (
        run.status == Run.Status.EXPIRED
        or path is None
        or (run.expires_at is not None and run.expires_at <= clock.now())
        or not path.is_file()
    ):
        hours = settings.LINLI_RUN_FILE_HOURS
        return error_response(
            request,
            LinliError.one(
                "file_expired",
                f"文件只保留 {hours:g} 小时,已经删除。请重新生成。",
                f"Files are kept for {hours:g} hours; this one was deleted. Start the work again.",
                410,
            ),
        )
    response = FileResponse(path.open("rb"), as_attachment=True, filename=run.filename, content_type=run.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@never_cache
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request.GET, q.mine(request.user), label=_("Background work"))
    runs = [(run, q.title(run), q.live(run)) for run in page.rows]
    return render(
        request,
        "runs/list.html",
        {
            "runs": runs,
            "page": page,
            "crumbs": [
                {"name": _("Home"), "url": reverse("workbench:home")},
                {"name": _("Background work"), "url": None},
            ],
        },
    )
