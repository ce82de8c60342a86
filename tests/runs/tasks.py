"""Tasks the runs tests enqueue (importable by a db_worker subprocess: ``tests.runs.tasks``)."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django_tasks import task

from linli.accounts.roles import Action
from linli.core.errors import LinliError, Problem
from linli.places import models as m
from linli.runs import services as runs_services
from linli.runs.models import Run


@task()
def count_rows(run_id: int, rows: int, sleep: float = 0.0, fail: str = "") -> None:
    """Counts to ``rows``, saving a small file; writes one Street name change (all-or-nothing) so a
    test can count how many times the work was applied."""
    with runs_services.working(run_id) as work:
        if fail == "refuse":
            raise LinliError([Problem("bad", "第一行错", "row one is wrong", row=2, column="A")], 400)
        if fail == "crash":
            raise RuntimeError("boom")
        with transaction.atomic():
            street = m.Street.objects.order_by("pk").first()
            for i in range(1, rows + 1):
                if sleep:
                    time.sleep(sleep)
                work.progress(i, rows, note=f"row {i}")
            if street is not None:
                m.Street.objects.filter(pk=street.pk).update(name_en=(street.name_en or "") + "+")
            work.save_file(b"a,b\n1,2\n", "rows.csv", "text/csv")
            work.finish(result={"zh": f"数了 {rows} 行", "en": f"counted {rows} rows"})


def start_count(user: Any, community: Any, **kwargs: Any) -> Run:
    """Start ``count_rows`` as ``user`` with EDIT on ``community``, the run every runs test uses."""
    return runs_services.start(
        user,
        "tests.count",
        count_rows,
        action=Action.EDIT,
        target=community,
        title_zh="数行",
        title_en="Count rows",
        **kwargs,
    )
