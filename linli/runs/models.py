"""后台任务 Background work: the record of one piece of work a task does for a person.

A ``Run`` is what a page shows while a task works (progress, then the result or the row-level
errors, and a file to download for a while). It also remembers the permission it was started under
(``action`` on the ``target`` object): the status page and the file are served only to the person
who started it, and only while ``authorize(user, action, target)`` still holds (docs/runs.md).
The task itself is a row of ``django_tasks_db`` (or a message of another backend); ``task_id``
links the two.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    FINISHED: ClassVar[tuple[str, ...]] = ("done", "failed", "expired")

    kind = models.CharField(_("kind"), max_length=40, db_index=True)  # "places.import", "dashboard.export" …
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs")
    language = models.CharField(max_length=10, default="zh-hans")  # the starter's, for texts the task writes
    # The permission to re-check on every view of the run and its file.
    action = models.CharField(max_length=20)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.PositiveBigIntegerField()

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    result = models.JSONField(default=dict, blank=True)  # a summary to show: {"zh": …, "en": …, …}
    errors = models.JSONField(default=list, blank=True)  # [{"row", "column", "zh", "en"}]
    message_zh = models.CharField(max_length=300, blank=True)  # why it failed
    message_en = models.CharField(max_length=300, blank=True)

    # The result file: a path relative to LINLI_RUN_DIR (never web-served directly).
    file = models.CharField(max_length=200, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("background run")
        verbose_name_plural = _("background runs")
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED
