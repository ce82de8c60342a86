"""Background tasks of notify (docs/notifications.md, docs/runs.md).

``fan_out`` is the one task a ``services.notify`` call enqueues after the caller's commit: it writes
every inbox row and delivery in bulk, then sends what is due now in batches of ``services.BATCH``.
``send`` sends one batch. ``sweep`` (``manage.py notify_sweep --enqueue`` from cron every minute or
two) sends what quiet hours held and what waits for a retry. System work: no ``runs.Run``.
"""

from __future__ import annotations

import logging

from django_tasks import task

from linli.core import clock
from linli.notify import services as svc

log = logging.getLogger("linli.notify")


@task()
def fan_out(kind: str, recipient_ids: list[int], payload: dict[str, object]) -> int:
    """Inbox rows + deliveries for ``recipient_ids``; sends the due ones. Returns the deliveries due now."""
    due = svc.fan_out(kind, recipient_ids, payload)
    for batch in svc.batches(due):
        send.enqueue(batch)
    return len(due)


@task()
def send(delivery_ids: list[int]) -> dict[str, int]:
    return svc.attempt(delivery_ids)


@task()
def sweep() -> int:
    """Enqueue a ``send`` per batch of deliveries whose time has come; returns how many."""
    due = svc.due_ids(clock.now())
    for batch in svc.batches(due):
        send.enqueue(batch)
    log.info("notify sweep: %s delivery(ies) due", len(due))
    return len(due)
