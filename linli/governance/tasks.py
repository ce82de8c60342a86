"""Background tasks of governance (docs/runs.md, docs/governance.md): the escalation sweep.

``escalate_sweep`` raises open, overdue events to the street command centre and later to the
district (``services.events.escalate_overdue``). It is system work — no person started it, so it
has no ``runs.Run`` and no progress page — and it is idempotent: a second sweep at the same moment
writes nothing, so two workers picking up two enqueued sweeps cannot escalate twice. Schedule it
with ``manage.py escalate_events --enqueue`` from cron or a systemd timer every few minutes (a
worker runs it), or run it in the command's own process (no flag).
"""

from __future__ import annotations

import logging

from django_tasks import task

from linli.core import clock
from linli.governance.services.events import escalate_overdue

log = logging.getLogger("linli.governance")


@task()
def escalate_sweep() -> int:
    """One sweep; returns how many events were escalated (kept as the task's result)."""
    count = escalate_overdue(clock.now())
    log.info("escalation sweep: %s event(s) escalated", count)
    return count
