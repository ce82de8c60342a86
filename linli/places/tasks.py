"""Background tasks of places: read an uploaded roster or boundary file into a preview, and apply a
confirmed preview (docs/import.md "In the background"). Started by ``services.start_preview`` and
``services.start_apply``; each runs inside ``runs.services.working`` with a progress bar."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django_tasks import task

from linli.core import lang
from linli.core.errors import LinliError
from linli.places import importing
from linli.places import services as svc
from linli.places.models import Community, ImportPreview
from linli.runs import services as runs_services

#: Stages of the importer's progress callback, as the progress bar names them.
_STAGES = {
    "read": ("读取文件", "reading the file"),
    "write": ("写入数据库", "writing"),
}


def _reporter(work: runs_services.Work) -> Any:
    def report(stage: str, done: int, total: int | None) -> None:
        zh, en = _STAGES.get(stage, (stage, stage))
        work.progress(done, total if total is not None else max(done, work.run.total), note=lang.pick(zh, en))

    return report


@task()
def read_upload(run_id: int, token: str, filename: str, what: str, encoding: str, community_id: int | None) -> None:
    """Read and check the whole file and plan it: a pending preview (nothing else written), or the
    run fails with every problem at once, by row and column."""
    with runs_services.working(run_id) as work:
        community = Community.objects.get(pk=community_id) if community_id else None
        back = reverse("places:io_import", args=[community_id]) if community_id else reverse("places:home")
        try:
            data = runs_services.staged(token)
            work.progress(0, importing.count_rows(data, filename))  # the sheets' declared sizes: no parsing
            with transaction.atomic():
                if what == "boundaries":
                    preview = svc.preview_boundaries(work.user, data, filename, community=community)
                else:
                    preview = svc.preview_roster(
                        work.user,
                        data,
                        filename,
                        encoding=encoding or None,
                        progress=_reporter(work),
                        community=community,
                    )
                counts = preview.plan.get("counts", {})
                lines = [
                    {"zh": f"{k}:新增", "en": f"{k}: created", "value": v.get("created", 0)} for k, v in counts.items()
                ]
                work.finish(
                    result={
                        "zh": "预览已生成,请核对后确认。",
                        "en": "The preview is ready: check it, then confirm.",
                        "url": reverse("places:io_preview", args=[preview.pk]),
                        "go": True,
                        "preview": preview.pk,
                        "lines": [
                            {
                                "zh": "预览已生成,请核对后确认。",
                                "en": "The preview is ready: check it, then confirm.",
                                "value": "",
                            },
                            *lines,
                        ],
                    }
                )
        except svc.ImportRefused as exc:  # every problem, and what the good rows would do (nothing stored)
            counts = (exc.plan or {}).get("counts", {})
            work.finish(result={"url": back, "counts": counts}, errors=exc.problems, failed=True)
        runs_services.unstage(token)


@task()
def apply_upload(run_id: int, preview_id: int) -> None:
    """Write a confirmed preview: one transaction with the run's "done", so a worker killed before
    the commit leaves nothing (the run is retried) and after it a run that is done (never twice)."""
    with runs_services.working(run_id) as work:
        url = reverse("places:io_preview", args=[preview_id])
        preview = ImportPreview.objects.get(pk=preview_id)
        work.progress(0, int(preview.plan.get("rows") or 0))
        try:
            with transaction.atomic():
                result = svc.apply_preview(work.user, preview, progress=_reporter(work))
                work.finish(
                    result={
                        "url": url,
                        "go": True,
                        "zh": f"已导入:{result.summary() or '—'}",
                        "en": f"Imported: {result.summary() or '—'}",
                    }
                )
        except LinliError as exc:  # refused (changed since the preview, undecided conflicts …): nothing written
            work.finish(result={"url": url}, errors=exc.problems, failed=True)


# --- exports (helper "exports"): a place's .xlsx export ------------------------------------------


@task()
def export_places(run_id: int, place_kind: str, pk: int, what: str, ip: str | None = None) -> None:
    """A place's .xlsx export of ``what`` (compounds, buildings, dwellings, residents, grids): the
    export's checks made again with the run's user, rows streamed into the file with progress;
    exporting people writes an ``export`` access-log entry in the transaction that marks it done."""
    from linli.accounts.models import AccessLog
    from linli.accounts.services import log_access, place_path
    from linli.core.exports import XLSX, rechecked, temporary_file, write_xlsx
    from linli.places.queries import exports as places_exports

    with runs_services.working(run_id) as work:
        user = work.run.user
        with rechecked():
            obj = places_exports.export_target(user, place_kind, pk, what)
            columns, rows, total = places_exports.EXPORTERS[what](user, obj)
        work.progress(0, total)
        with temporary_file() as path:
            n = write_xlsx(path, places_exports.TITLES[what], columns, rows, lambda done: work.progress(done, total))
            work.save_file(path, places_exports.filename(obj, what), XLSX)
        with transaction.atomic():
            if what == "residents":
                log_access(user, AccessLog.What.EXPORT, obj, path=place_path(obj), reason=f"{what}.xlsx", ip=ip)
            work.progress(n, n)
            work.finish(result={"rows": n, "zh": f"共导出 {n} 行。", "en": f"{n} rows exported."})
