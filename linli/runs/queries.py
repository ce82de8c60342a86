"""Reads of background runs: the run a user may see (its permission re-checked), their recent runs,
live progress (the progress cache while it works, the row once finished), errors a page at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.core.cache import caches
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext

from linli.core import lang
from linli.core.paging import Paged, paginate
from linli.core.types import User
from linli.runs.models import Run
from linli.runs.permissions import may_see

#: Errors shown per page on a run's page.
ERRORS_PER_PAGE = 100


def run_or_404(user: User, pk: int) -> Run:
    """The run, if ``user`` started it and still holds its permission on its target; else 404."""
    try:
        run = Run.objects.select_related("target_type").get(pk=pk)
    except (Run.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("no such run") from exc
    if not may_see(user, run):
        raise Http404("no such run")
    return run


def mine(user: User) -> QuerySet[Run]:
    """The user's own runs, newest first (the list pages them)."""
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        return Run.objects.none()
    return Run.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def recent(user: User, limit: int = 50) -> QuerySet[Run]:
    return mine(user)[:limit]


@dataclass
class Live:
    status: str
    done: int
    total: int
    note: str

    @property
    def finished(self) -> bool:
        return self.status in Run.FINISHED

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else (100 if self.finished else 0)


def live(run: Run) -> Live:
    """Progress as the worker last reported it (the cache), or the row's once finished."""
    if run.status in (Run.Status.QUEUED, Run.Status.RUNNING):
        cached = caches["progress"].get(f"run:{run.pk}")
        if cached:
            return Live(run.status, int(cached["done"]), int(cached["total"]), str(cached.get("note") or ""))
    return Live(run.status, run.done, run.total, run.note)


def title(run: Run) -> str:
    return lang.pick(run.title_zh, run.title_en)


def message(run: Run) -> str:
    return lang.pick(run.message_zh, run.message_en)


def error_rows(run: Run, params: Mapping[str, str]) -> Paged[dict[str, Any]]:
    """One page of the run's row-level errors (``?page=``) in the reader's language."""
    page = paginate(params, run.errors or [], ERRORS_PER_PAGE, label=gettext("Problems"))
    out = []
    for e in page.rows:
        out.append(
            {
                "row": e.get("row"),
                "column": e.get("column") or "",
                "message": lang.pick(str(e.get("zh") or e.get("message") or ""), str(e.get("en") or "")),
            }
        )
    return replace(page, rows=out)


def summary(run: Run) -> list[tuple[str, Any]]:
    """The result to show: ``result["lines"]`` = [{"zh", "en", "value"}] if the task gave them,
    else the result's simple values by key."""
    result = run.result or {}
    lines = result.get("lines")
    if isinstance(lines, list):
        return [(lang.pick(str(x.get("zh", "")), str(x.get("en", ""))), x.get("value", "")) for x in lines]
    text = lang.pick(str(result.get("zh", "")), str(result.get("en", ""))) if "zh" in result else ""
    out: list[tuple[str, Any]] = [("", text)] if text else []
    out += [(k, v) for k, v in result.items() if k not in ("zh", "en", "url") and isinstance(v, (int, float, str))]
    return out
