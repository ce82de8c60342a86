"""Background tasks of consult (docs/runs_services.md): the survey and ballot .xlsx exports, and the
PDF of each published notice version (``render_notice_pdf``, which has no run: the PDF is public).

Each export task takes the id of its ``runs_services.Run``; the person and the permission come from the run, and
every check the page made is made again here with the same queries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django_tasks import task

from linli.accounts.models import AccessLog
from linli.accounts.permissions import authorize
from linli.accounts.roles import Action
from linli.accounts.services import log_access
from linli.consult.queries import ballots as consult_ballots
from linli.consult.queries import surveys as consult_surveys
from linli.consult.services import notices as consult_notices
from linli.core.exports import XLSX, Column, rechecked, temporary_file, write_xlsx
from linli.runs import services as runs_services

LEVELS = {"building": "楼栋 building", "unit": "单元 unit", "total": "合计 total"}


def survey_columns(items: list[dict[str, Any]]) -> list[Column]:
    """The survey export's columns: the level, its dwellings and answers, and per item a count and a %."""
    columns: list[Column] = [
        ("层级 level", lambda r: LEVELS[r["row"].level]),
        ("楼栋/单元 building/unit", lambda r: r["row"].label),
        ("房屋数 dwellings", lambda r: r["row"].dwellings),
        ("已答 answered", lambda r: r["row"].answered),
        ("答复率% answered %", lambda r: r["row"].answered_pct),
    ]
    for n, item in enumerate(items):
        columns.append((f"{item['name']} 户数 dwellings", _cell(n, "count")))
        columns.append((f"{item['name']} %", _cell(n, "pct")))
    return columns


def _cell(n: int, key: str) -> Callable[[Any], Any]:
    return lambda r: r["cells"][n][key]


@task()
def export_survey(run_id: int, survey_id: int) -> None:
    """A survey's results by building and unit as .xlsx (EXPORT on its project)."""
    with runs_services.working(run_id) as work:
        user = work.run.user
        with rechecked():
            survey = consult_surveys.survey_for(user, survey_id)
            authorize(user, Action.EXPORT, survey.project)
        results = consult_surveys.survey_results(survey)
        rows = list(results.table())
        work.progress(0, len(rows))
        with temporary_file() as path:
            n = write_xlsx(
                path,
                "需求调查 survey",
                survey_columns(results.items),
                rows,
                progress=lambda done: work.progress(done, len(rows)),
            )
            work.save_file(path, f"需求调查-{survey.pk}.xlsx", XLSX)
        work.finish(result={"rows": n, "zh": f"共导出 {n} 行。", "en": f"{n} rows exported."})


@task()
def export_ballot(run_id: int, ballot_id: int, ip: str | None = None) -> None:
    """A ballot's roll, votes, history and tally as .xlsx (CONSULT; the access-log entry is written
    with "done")."""
    with runs_services.working(run_id) as work:
        user = work.run.user
        with rechecked():
            ballot = consult_ballots.get_ballot(user, Action.CONSULT, ballot_id)
        with temporary_file() as path:
            n = consult_ballots.export_workbook(user, ballot, path, progress=work.progress)
            work.save_file(path, f"表决-{ballot.pk}.xlsx", XLSX)
        with transaction.atomic():
            log_access(user, AccessLog.What.EXPORT, ballot, ballot.path, ip=ip)
            work.progress(n, n)
            work.finish(result={"rows": n, "zh": f"共导出 {n} 行。", "en": f"{n} rows exported."})


@task()
def render_notice_pdf(notice_id: int) -> None:
    """Render a notice's PDF once for its version as it is now (queued when it is published and when
    a correction is added) and keep it for every reader (``services.notices.stored_pdf``). Nobody's
    download: no run, no permission (the page checks the reader's). Running it twice is harmless:
    a version already kept is left as it is."""
    consult_notices.keep_pdf(notice_id)
