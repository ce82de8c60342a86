"""Background tasks of sensing (docs/runs.md, docs/sensing.md). Each part in its own section; append.

--- storage (the "storage" helper's part) ---

``storage_sweep`` makes the coming partitions, rolls up the closed hours and drops what is past its
retention (``services/storage.py``). System work like the escalation sweep: no ``runs.Run``, no
progress page, idempotent (two sweeps at once only do some work twice). Scheduled hourly by
``deploy/systemd/linli-sensing-storage.timer`` (``manage.py sensing_storage`` runs it in its own
process; ``--enqueue`` hands it to a worker instead).
"""

from __future__ import annotations

import logging
from typing import Any

from django_tasks import task

from linli.sensing.services import storage

log = logging.getLogger("linli.sensing")

# --- storage ----------------------------------------------------------------------------------------


@task()
def storage_sweep(ensure: bool = True, rollup: bool = True, retention: bool = True) -> dict[str, Any]:
    """Partitions ahead, then roll-ups, then retention (which never drops what is not rolled up);
    returns what each did (kept as the task's result)."""
    result: dict[str, Any] = {}
    if ensure:
        result["partitions"] = storage.ensure_partitions().as_json()
    if rollup:
        result["rollup"] = storage.rollup().as_json()
    if retention:
        result["retention"] = storage.retention().as_json()
    log.info("sensing storage sweep: %s", result)
    return result


# --- device import (the "devices" helper's part) ----------------------------------------------------
# ``read_devices`` reads and checks an uploaded device file into a preview (kept in the run's result:
# counts, the first rows, the staged file's token, sha256 and the plan's digest); ``apply_devices``
# writes a previewed file, all or nothing (``services/imports.py``). Started by
# ``imports.start_preview`` / ``imports.start_apply`` with a ``runs.Run`` and its progress page.


def _import_place(kind: str, pk: int) -> Any:
    from linli.places.models import Community, District, Street

    if kind == "district":
        return District.objects.get(pk=pk)
    if kind == "street":
        return Street.objects.get(pk=pk)
    return Community.objects.get(pk=pk)


@task()
def read_devices(run_id: int, token: str, filename: str, encoding: str, place_kind: str, place_id: int) -> None:
    """A preview of the file (nothing written), or the run fails with every problem by row and column."""
    from django.urls import reverse

    from linli.core.errors import LinliError
    from linli.runs import services as runs_services
    from linli.sensing.services import imports

    with runs_services.working(run_id) as work:
        place = _import_place(place_kind, place_id)
        back = reverse("sensing:device_import", args=[place_kind, place_id])
        try:
            planned = imports.plan(work.user, place, runs_services.staged(token), filename, encoding or None)
        except LinliError as exc:
            runs_services.unstage(token)
            work.finish(result={"url": back}, errors=exc.problems, failed=True)
            return
        work.progress(len(planned.entries), len(planned.entries))
        entries = [
            {
                "row": e["row"],
                "code": e["code"],
                "profile": e["profile"],
                "action": e["action"],
                "lift": e.get("lift", ""),
            }
            for e in planned.entries[: imports.PREVIEW_ROWS]
        ]
        work.finish(
            result={
                "url": reverse("sensing:device_import_preview", args=[place_kind, place_id, run_id]),
                "go": True,
                "lines": [
                    {
                        "zh": "预览已生成,请核对后确认。",
                        "en": "The preview is ready: check it, then confirm.",
                        "value": "",
                    },
                    *imports.counts_lines(planned.counts()),
                ],
                "preview": {
                    "token": token,
                    "filename": filename,
                    "sha256": imports.file_sha256(token),
                    "digest": planned.digest(),
                    "encoding": encoding,
                    "counts": planned.counts(),
                    "rows": len(planned.entries),
                    "entries": entries,
                },
            }
        )


@task()
def apply_devices(
    run_id: int,
    token: str,
    filename: str,
    sha256: str,
    digest: str,
    encoding: str,
    place_kind: str,
    place_id: int,
) -> None:
    """Write a previewed file in one transaction (``imports.confirm``), or fail with the reason."""
    from django.urls import reverse

    from linli.core.errors import LinliError
    from linli.runs import services as runs_services
    from linli.sensing.services import imports

    with runs_services.working(run_id) as work:
        place = _import_place(place_kind, place_id)
        back = reverse("sensing:device_import", args=[place_kind, place_id])
        try:
            done = imports.confirm(work.user, place, token, filename, sha256, digest, encoding or None)
        except LinliError as exc:
            work.finish(result={"url": back}, errors=exc.problems, failed=True)
            return
        url = (
            reverse("sensing:place_devices", args=["community", place_id])
            if place_kind == "community"
            else reverse("sensing:device_list")
        )
        work.finish(result={"url": url, "lines": imports.counts_lines(done.counts())})
