"""Reads of notifications: only ever the asking person's own rows."""

from __future__ import annotations

from django.db.models import QuerySet

from linli.core.types import User
from linli.notify import rules
from linli.notify.models import Delivery, Notification, Preference


def inbox(user: User) -> QuerySet[Notification]:
    """My notifications, newest first (urgent ones unread on top)."""
    return Notification.objects.filter(user_id=user.pk or 0).order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user_id=user.pk or 0, read_at__isnull=True).count()


def preference(user: User) -> Preference | None:
    return Preference.objects.filter(user_id=user.pk or 0).first()


def channel_table(pref: Preference | None) -> dict[str, tuple[str, ...]]:
    """{kind: channels on} as the person sees it (their choice, else the default; forced ones on)."""
    return {kind: rules.channels_for(kind, pref.channels if pref else None) for kind in rules.KINDS}


def deliveries_of(notification: Notification) -> QuerySet[Delivery]:
    return Delivery.objects.filter(notification=notification).order_by("channel")


def told(kind: str, ref: str) -> bool:
    """Whether anyone was already told ``kind`` about ``ref`` (a periodic reminder skips it then)."""
    return Notification.objects.filter(ref=ref, kind=kind).exists()
