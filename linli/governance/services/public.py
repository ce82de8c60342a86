"""Residents take part (issue 12 §9): "me too" (我也遇到, +1) on an open report instead of a duplicate,
and following a report (told when its status changes). docs/governance.md "Residents take part".

Who: anyone signed in, on a problem the public map shows; on any other case only those who see it
already (``permissions.may_take_part``); everyone else gets a 404 (the case does not exist for them).
Each call is one transaction. A second "me too" or follow by the same person is a no-op (the unique
(event, user) rows make two clicks at once one row, also on PostgreSQL under real concurrency), and
undoing what was never done is a no-op too, so a double submit or a retry changes nothing.

"Me too" follows the report as well (``Follow.by_support``); undoing the +1 undoes that follow, not
one the person chose by itself. Only open reports take a +1 or a new follower: a closed or voided
one is refused with a clear 409. The reporter is told of every step already (``report_status``) and
cannot +1 or follow their own report (400).

``followers_of`` is what ``services.events._tell`` tells about a step change (``followed_status``).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import Http404

from linli.core import clock
from linli.core.errors import LinliError
from linli.core.types import User
from linli.governance import permissions
from linli.governance.models import Event, Follow, Support


def _check(user: User, event: Event, *, joining: bool) -> tuple[Event, int]:
    """The event locked and the user's id, after the checks: signed in, may take part (else 404), not
    the reporter, and — when joining (a +1 or a new follow) — still open."""
    if not user.is_authenticated or user.pk is None:
        raise LinliError.one("not_signed_in", "请先登录。", "Sign in first.", 403)
    if not permissions.may_take_part(user, event):
        raise Http404("no such report")
    # lock the event row: a +1 racing the case's close is either counted before it or refused after
    locked = Event.objects.select_for_update(of=("self",)).select_related("category").get(pk=event.pk)
    if joining and permissions.is_reporter(user, locked):
        raise LinliError.one(
            "own_report",
            "这是您自己反映的问题,处理进展会直接通知您。",
            "You reported this problem yourself: you are told of every step already.",
        )
    if joining and not locked.is_open:
        raise LinliError.one(
            "report_closed",
            "该问题已办结或已作废,不能再附议或关注。",
            "This problem is closed or voided: it takes no more “me too” or followers.",
            409,
        )
    return locked, int(user.pk)


def _insert(model: type[Support] | type[Follow], **values: object) -> bool:
    """Insert one row of ``model`` unless (event, user) has one: True when it was written. The unique
    constraint decides under concurrency (the savepoint keeps the caller's transaction usable)."""
    try:
        with transaction.atomic():
            model.objects.create(**values)
    except IntegrityError:
        return False
    return True


def support(user: User, event: Event) -> bool:
    """Add ``user``'s "me too" to ``event`` (and follow it). True if it was added, False if it was
    there already (a second click). Refused on a closed or voided case and for the reporter."""
    with transaction.atomic():
        ev, uid = _check(user, event, joining=True)
        now = clock.now()
        added = _insert(Support, event=ev, user_id=uid, at=now)
        if added:
            _insert(Follow, event=ev, user_id=uid, at=now, by_support=True)
    return added


def unsupport(user: User, event: Event) -> bool:
    """Take back ``user``'s "me too" (and the follow it made). True if there was one."""
    with transaction.atomic():
        ev, uid = _check(user, event, joining=False)
        removed, _ = Support.objects.filter(event=ev, user_id=uid).delete()
        if removed:
            Follow.objects.filter(event=ev, user_id=uid, by_support=True).delete()
    return bool(removed)


def follow(user: User, event: Event) -> bool:
    """Follow ``event``: told when its status changes. True if it is new, False if already followed
    (then a follow made by "me too" becomes one chosen by itself, so undoing the +1 keeps it)."""
    with transaction.atomic():
        ev, uid = _check(user, event, joining=True)
        added = _insert(Follow, event=ev, user_id=uid, at=clock.now(), by_support=False)
        if not added:
            Follow.objects.filter(event=ev, user_id=uid, by_support=True).update(by_support=False)
    return added


def unfollow(user: User, event: Event) -> bool:
    """Stop following ``event`` (also a follow that came with "me too"; the +1 itself stays). True if
    there was a follow."""
    with transaction.atomic():
        ev, uid = _check(user, event, joining=False)
        removed, _ = Follow.objects.filter(event=ev, user_id=uid).delete()
    return bool(removed)


def followers_of(event: Event) -> list[int]:
    """The active users following ``event`` (its reporter excluded: told as the reporter)."""
    qs = Follow.objects.filter(event_id=event.pk, user__is_active=True)
    if event.reporter_id:
        qs = qs.exclude(user_id=event.reporter_id)
    return list(qs.order_by("user_id").values_list("user_id", flat=True))
