"""Every write of notifications (docs/notifications.md).

Other apps tell people about something with **one call**, made inside their own service after the
write it is about:

    from linli.notify import services as notify_services
    notify_services.notify(kind, recipient_ids, title_zh=…, title_en=…, body_zh=…, body_en=…, url=…, ref=…)

The caller computes the recipients (user ids; notify imports no app above accounts). Nothing is
written in the caller's transaction: after it commits (``transaction.on_commit``, robust) one task
is enqueued that writes every inbox row and every delivery in bulk (``fan_out``), then sends what is
due now in batches (``attempt``). A failing channel, a failing enqueue, even a failing fan-out never
undoes nor breaks the caller's write: it is logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Max, Model, Q
from django.utils import timezone

from linli.core import clock, crypto, sms
from linli.core.errors import LinliError
from linli.core.types import User
from linli.notify import rules, tasks, wechat
from linli.notify.models import Delivery, Kind, Notification, Preference
from linli.notify.permissions import may_read

log = logging.getLogger("linli.notify")

#: Deliveries per sending task (a ballot to 5,000 owners is a few tasks, never 5,000).
BATCH = 1000


def notify(
    kind: str,
    recipient_ids: Iterable[int],
    *,
    title_zh: str,
    title_en: str,
    body_zh: str = "",
    body_en: str = "",
    url: str = "",
    ref: str = "",
    urgent: bool = False,
    once: bool = False,
) -> None:
    """Tell ``recipient_ids`` about something, once the caller's transaction commits (see above).
    ``once``: skip the people already told this ``kind`` about this ``ref`` (reminders a periodic
    sweep sends, e.g. a ballot closing in 3 days)."""
    if kind not in rules.KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    ids = sorted({int(i) for i in recipient_ids if i})
    if not ids:
        return
    payload = {
        "title_zh": title_zh[:200],
        "title_en": title_en[:200],
        "body_zh": body_zh,
        "body_en": body_en,
        "url": url[:300],
        "ref": ref[:60],
        "urgent": urgent or kind == rules.URGENT,
        "once": once,
    }

    def enqueue() -> None:
        tasks.fan_out.enqueue(kind, ids, payload)

    transaction.on_commit(enqueue, robust=True)


def urgent_case(event_id: int, recipient_ids: list[int], title_zh: str, title_en: str, url: str) -> None:
    """Someone is in danger (issue 12 §7): the inbox and an SMS at once, quiet hours ignored."""
    notify(
        rules.URGENT,
        recipient_ids,
        title_zh=title_zh,
        title_en=title_en,
        url=url,
        ref=f"event:{event_id}",
        urgent=True,
    )


# --- the work the tasks do --------------------------------------------------------------------------


def fan_out(kind: str, recipient_ids: Sequence[int], payload: dict[str, Any]) -> list[int]:
    """Write the inbox rows and the deliveries of one notification to many people, set-based: one
    multi-row INSERT for the inbox, one for the deliveries (no ORM object per row: a ballot reaches
    thousands); returns the ids of the deliveries due now (the rest wait for quiet hours to end)."""
    now = clock.now()
    local = timezone.localtime(now)
    urgent = bool(payload.get("urgent"))
    ref = str(payload.get("ref", ""))
    at = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        rows = get_user_model().objects.filter(pk__in=list(recipient_ids), is_active=True)
        phones = dict(rows.values_list("pk", "phone_enc"))
        if payload.get("once") and ref:
            told = Notification.objects.filter(kind=kind, ref=ref, user_id__in=list(phones))
            for uid in told.values_list("user_id", flat=True):
                phones.pop(uid, None)
        if not phones:
            return []
        texts = [payload["title_zh"], payload["title_en"], payload.get("body_zh", ""), payload.get("body_en", "")]
        # Rows written before this insert are never ours, even with the same kind, ref and instant
        # (a frozen clock in tests and the demo).
        last = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        _insert(
            Notification,
            ["user_id", "kind", "urgent", "title_zh", "title_en", "body_zh", "body_en", "url", "ref", "created_at"],
            [(uid, kind, urgent, *texts, payload.get("url", ""), ref, at) for uid in phones],
        )
        mine = Notification.objects.filter(pk__gt=last, ref=ref, kind=kind, created_at=now, user_id__in=list(phones))
        notes = dict(mine.values_list("user_id", "pk"))
        prefs = {p.user_id: p for p in Preference.objects.filter(user_id__in=list(notes))}
        deliveries = []
        for uid, note_id in notes.items():
            pref = prefs.get(uid)
            release = None if urgent or pref is None else rules.release_at(local, pref.quiet_start, pref.quiet_end)
            due = connection.ops.adapt_datetimefield_value(release or now)
            for channel in rules.channels_for(kind, pref.channels if pref else None):
                reachable = bool(phones[uid]) if channel == rules.SMS else bool(pref and pref.wechat_openid)
                status = Delivery.Status.PENDING if reachable else Delivery.Status.SKIPPED
                deliveries.append((note_id, channel, str(status), due, 0, ""))
        _insert(Delivery, ["notification_id", "channel", "status", "due_at", "attempts", "last_error"], deliveries)
    return due_ids(now, Q(notification__in=mine))


def _insert(model: type[Model], columns: list[str], values: list[tuple[Any, ...]], chunk: int = 500) -> None:
    """Multi-row INSERTs of plain values (the fan-out's rows: thousands at a time)."""
    if not values:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(part))}",  # noqa: S608 (our names)
                [v for row in part for v in row],
            )


def due_ids(now: Any, where: Q | None = None) -> list[int]:
    """Pending deliveries whose time has come (quiet hours over, backoff waited)."""
    qs = Delivery.objects.filter(status=Delivery.Status.PENDING, due_at__lte=now)
    if where is not None:
        qs = qs.filter(where)
    return list(qs.order_by("due_at", "pk").values_list("pk", flat=True))


def batches(ids: Sequence[int]) -> list[list[int]]:
    return [list(ids[i : i + BATCH]) for i in range(0, len(ids), BATCH)]


#: How long a claimed delivery is held for the worker that claimed it: if that worker dies before
#: writing the outcome, the sweep tries it again after this (at least once, never lost).
LEASE = timedelta(minutes=5)


def attempt(delivery_ids: Sequence[int]) -> dict[str, int]:
    """Try each due pending delivery of ``delivery_ids`` once: sent, or retried later with backoff,
    or failed for good after ``rules.MAX_ATTEMPTS``.

    One transaction claims the batch (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; the claim counts the
    attempt and moves ``due_at`` a lease ahead, so no other worker or sweep takes them), the messages
    leave outside any transaction, one more writes the outcomes in bulk."""
    now = clock.now()
    with transaction.atomic():
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(delivery_ids), status=Delivery.Status.PENDING, due_at__lte=now)
            .select_related("notification")
            .order_by("pk")
        )
        for d in claimed:
            d.attempts += 1
        Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
            attempts=F("attempts") + 1, last_attempt_at=now, due_at=now + LEASE
        )
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not claimed:
        return counts
    user_ids = {d.notification.user_id for d in claimed}
    people = {
        pk: (lang or settings.LANGUAGE_CODE, enc)
        for pk, lang, enc in get_user_model()
        .objects.filter(pk__in=user_ids)
        .values_list("pk", "preferred_language", "phone_enc")
    }
    openids = dict(Preference.objects.filter(user_id__in=user_ids).values_list("user_id", "wechat_openid"))
    for d in claimed:
        lang, phone_enc = people.get(d.notification.user_id, (settings.LANGUAGE_CODE, ""))
        try:
            _send(d, lang, phone_enc, openids.get(d.notification.user_id, ""))
        except Exception as exc:  # any backend failure: logged on the row, never raised
            d.last_error = f"{type(exc).__name__}: {exc}"[:300]
            if d.attempts >= rules.MAX_ATTEMPTS:
                d.status = Delivery.Status.FAILED
                counts["failed"] += 1
                log.warning("delivery %s failed for good after %s attempts", d.pk, d.attempts)
            else:
                d.due_at = now + rules.backoff(d.attempts)
                counts["retry"] += 1
        else:
            d.status = Delivery.Status.SENT
            d.sent_at = now
            d.last_error = ""
            counts["sent"] += 1
    # One UPDATE per outcome (sent; each kind of failure), not one per row.
    outcomes: dict[tuple[str, Any, Any, str], list[int]] = defaultdict(list)
    for d in claimed:
        outcomes[(d.status, d.due_at if d.status == Delivery.Status.PENDING else now, d.sent_at, d.last_error)].append(
            d.pk
        )
    with transaction.atomic():
        for (status, due_at, sent_at, error), pks in outcomes.items():
            Delivery.objects.filter(pk__in=pks).update(status=status, due_at=due_at, sent_at=sent_at, last_error=error)
    return counts


def _send(d: Delivery, lang: str, phone_enc: str, openid: str) -> None:
    n = d.notification
    title, body = n.title(lang), n.body(lang)
    if d.channel == rules.SMS:
        text = f"【{settings.LINLI_SMS_SIGN}】{title}" + (f" {rules.clip(body, 60)}" if body else "")
        sms.send(crypto.decrypt(phone_enc), text)  # the gateway only: never shown, never logged
    else:
        page = settings.LINLI_WECHAT_PAGE + (f"?url={n.url}" if n.url else "")
        stamp = timezone.localtime(n.created_at).strftime("%Y-%m-%d %H:%M")
        data = {
            "thing1": {"value": rules.clip(title, 20)},
            "time2": {"value": stamp},
            "thing3": {"value": rules.clip(body or title, 20)},
        }
        wechat.send(openid, settings.LINLI_WECHAT_TEMPLATE_ID, page, data)


# --- what people do on their pages -------------------------------------------------------------------


def _not_found() -> LinliError:
    return LinliError.one("notification_not_found", "没有这条通知。", "No such notification.", 404)


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of *my* notifications read (anyone else's is a 404: its existence is not revealed)."""
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if n is None or not may_read(user, n):
            raise _not_found()
        if n.read_at is None:
            n.read_at = clock.now()
            n.save(update_fields=["read_at"])
        return n


def mark_all_read(user: User) -> int:
    with transaction.atomic():
        return Notification.objects.filter(user_id=user.pk or 0, read_at__isnull=True).update(read_at=clock.now())


def save_preferences(
    user: User,
    *,
    channels: dict[str, list[str]],
    quiet_start: time | None,
    quiet_end: time | None,
    wechat_openid: str | None = None,
) -> Preference:
    """Save my choices. ``wechat_openid`` None keeps what is stored, "" clears it. (The phone for text
    messages is the account's own, changed on the account page.)"""
    clean: dict[str, list[str]] = {}
    for kind, picked in channels.items():
        if kind not in Kind.values:
            raise LinliError.one("notify_kind", "没有这种通知。", "No such kind of notification.", 400)
        bad = [c for c in picked if c not in rules.CHANNELS]
        if bad:
            raise LinliError.one("notify_channel", "没有这种通知方式。", "No such channel.", 400)
        clean[kind] = [c for c in rules.CHANNELS if c in picked]
    if (quiet_start is None) != (quiet_end is None):
        raise LinliError.one(
            "notify_quiet_hours",
            "免打扰时段要同时填写开始和结束时间。",
            "Quiet hours need both a start and an end.",
            400,
        )
    with transaction.atomic():
        pref, _created = Preference.objects.select_for_update().get_or_create(user_id=user.pk or 0)
        pref.channels = clean
        pref.quiet_start, pref.quiet_end = quiet_start, quiet_end
        if wechat_openid is not None:
            pref.wechat_openid = wechat_openid.strip()[:64]
        pref.save()
        return pref
