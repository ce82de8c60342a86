from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import transaction


class DashboardConfig(AppConfig):
    """The command centre (指挥中心): figures of grid events from a roll-up (issue 4 part 4, issue 11 §2)."""

    name = "linli.dashboard"
    label = "dashboard"
    verbose_name = "指挥中心 Command centre"

    def ready(self) -> None:
        # The roll-up follows governance's events without governance knowing: each update or delete
        # of an Event queues it (in the same transaction, so a rolled-back change queues nothing)
        # and, on commit, asks for one refresh task (debounced: one pending at a time, and a process
        # asks at most once per refresh). New events, by the ORM or in bulk, are found by the
        # refresh's id watermark (docs/dashboard.md "The roll-up").
        from django.db.models.signals import post_delete, post_save, pre_save

        from linli.governance.models import Event

        pre_save.connect(_before_save, sender=Event, dispatch_uid="dashboard-rollup-pre")
        post_save.connect(_after_save, sender=Event, dispatch_uid="dashboard-rollup-post")
        post_delete.connect(_after_delete, sender=Event, dispatch_uid="dashboard-rollup-delete")


def _before_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata
        return
    from linli.dashboard import services as svc

    svc.remember_days(instance)


def _after_save(sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    from linli.dashboard import tasks

    # a new event needs no queue row: the refresh finds it above its id watermark (and watches the
    # ids a still open transaction may commit below it, services._note_gaps)
    transaction.on_commit(tasks.schedule_refresh)


def _after_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    from linli.dashboard import services as svc
    from linli.dashboard import tasks

    svc.forget_event(instance)
    transaction.on_commit(tasks.schedule_refresh)
