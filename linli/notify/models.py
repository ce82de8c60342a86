"""Notifications (docs/notifications.md): the inbox row, its deliveries on outside channels (each
with its log of attempts) and each person's preferences (channels per kind, quiet hours, contacts)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.notify import rules


class Kind(models.TextChoices):
    DISPATCHED = rules.DISPATCHED, _("dispatched to me")
    OVERDUE = rules.OVERDUE, _("overdue")
    RETURNED = rules.RETURNED, _("returned to me")
    URGENT = rules.URGENT, _("urgent case")
    BALLOT_OPENED = rules.BALLOT_OPENED, _("ballot opened")
    BALLOT_CLOSING = rules.BALLOT_CLOSING, _("ballot closing in 3 days")
    BALLOT_RESULT = rules.BALLOT_RESULT, _("ballot result")
    NOTICE_PUBLISHED = rules.NOTICE_PUBLISHED, _("notice for my building")
    REPORT_STATUS = rules.REPORT_STATUS, _("my report's status")
    FOLLOWED_STATUS = rules.FOLLOWED_STATUS, _("a report I follow")
    JOB_INVITED = rules.JOB_INVITED, _("an employer invites me to apply")
    JOB_APPLIED = rules.JOB_APPLIED, _("a new applicant for our job")
    JOB_INTERVIEW = rules.JOB_INTERVIEW, _("a job interview arranged for me")
    JOB_STATUS = rules.JOB_STATUS, _("a job application's progress")
    JOB_MATCHES = rules.JOB_MATCHES, _("new jobs near me")
    EMPLOYER_STATUS = rules.EMPLOYER_STATUS, _("employer verification")
    SERVICE_REQUEST = rules.SERVICE_REQUEST, _("key-enterprise service requests")


class Channel(models.TextChoices):
    SMS = rules.SMS, _("text message (SMS)")
    WECHAT = rules.WECHAT, _("WeChat message")


class Notification(models.Model):
    """One message in one person's inbox. Only its recipient ever reads it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    urgent = models.BooleanField(_("urgent"), default=False)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    body_zh = models.TextField(blank=True)
    body_en = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    # What it is about, e.g. "event:42", "ballot:7" (one notification per person and ref and kind).
    ref = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(_("sent at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["user", "-created_at"], name="notify_inbox"),
            models.Index(fields=["user", "read_at"], name="notify_unread"),
            models.Index(fields=["ref", "kind"], name="notify_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title_zh}"

    def title(self, lang: str) -> str:
        return self.title_zh if lang.startswith("zh") else self.title_en

    def body(self, lang: str) -> str:
        return self.body_zh if lang.startswith("zh") else self.body_en


class Delivery(models.Model):
    """A notification on one outside channel: held until quiet hours end, tried, retried with backoff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("no address")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # Not before this instant: the end of quiet hours, or the backoff after a failed attempt.
    due_at = models.DateTimeField(_("due at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering: ClassVar = ["-id"]
        indexes: ClassVar = [models.Index(fields=["status", "due_at"], name="notify_due")]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.status}"


class Preference(models.Model):
    """One person's choices: outside channels per kind (``channels``: {kind: [channel, …]}; a missing
    kind takes ``rules.DEFAULTS``), quiet hours, and the WeChat openid. Text messages go to the phone on
    record of the account (``accounts.User.phone_enc``, the one used to sign in by SMS code)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preference")
    channels = models.JSONField(default=dict, blank=True)
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    wechat_openid = models.CharField(_("WeChat openid"), max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user_id)
