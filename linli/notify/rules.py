"""The rules of notifications, without Django (docs/notifications.md): the kinds of event, the
channels, who gets what by default, quiet hours and the backoff between attempts.

Pure: tested without a database (tests/notify/test_rules.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta

#: The events people are told about.
DISPATCHED = "dispatched"  # an event was dispatched to me (my department)
OVERDUE = "overdue"  # an event I hold is overdue (escalation sweep)
RETURNED = "returned"  # an event came back to me
URGENT = "urgent"  # someone is in danger: the command centre on duty
BALLOT_OPENED = "ballot_opened"
BALLOT_CLOSING = "ballot_closing"  # closing in 3 days
BALLOT_RESULT = "ballot_result"
NOTICE_PUBLISHED = "notice_published"  # a notice covering my building
REPORT_STATUS = "report_status"  # my report's status changed
FOLLOWED_STATUS = "followed_status"  # the status of a report I follow ("me too" follows it) changed
# 就近帮 jobs (issue 14; who is told: docs/notifications.md "Kinds and who is told")
JOB_INVITED = "job_invited"  # seeker: an employer invites me to apply
JOB_APPLIED = "job_applied"  # employer members: a new application, or an invitation accepted
JOB_INTERVIEW = "job_interview"  # seeker: an interview arranged (or moved) — a time to keep
JOB_STATUS = "job_status"  # seeker: hired / declined; employer: the seeker withdrew or declined
JOB_MATCHES = "job_matches"  # seeker: new jobs near me (the nightly push)
EMPLOYER_STATUS = "employer_status"  # employer members: verified / rejected / suspended; staff: to verify
SERVICE_REQUEST = "service_request"  # key enterprise ↔ its officer: filed, accepted, progress, closed, rated

KINDS = (
    DISPATCHED,
    OVERDUE,
    RETURNED,
    URGENT,
    BALLOT_OPENED,
    BALLOT_CLOSING,
    BALLOT_RESULT,
    NOTICE_PUBLISHED,
    REPORT_STATUS,
    FOLLOWED_STATUS,
    JOB_INVITED,
    JOB_APPLIED,
    JOB_INTERVIEW,
    JOB_STATUS,
    JOB_MATCHES,
    EMPLOYER_STATUS,
    SERVICE_REQUEST,
)

#: The kinds by topic, in the order the preferences page shows them (every kind in exactly one).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cases", (DISPATCHED, OVERDUE, RETURNED, URGENT, REPORT_STATUS, FOLLOWED_STATUS)),
    ("consult", (BALLOT_OPENED, BALLOT_CLOSING, BALLOT_RESULT, NOTICE_PUBLISHED)),
    ("jobs", (JOB_INVITED, JOB_APPLIED, JOB_INTERVIEW, JOB_STATUS, JOB_MATCHES, EMPLOYER_STATUS, SERVICE_REQUEST)),
)

INBOX = "inbox"
SMS = "sms"
WECHAT = "wechat"
#: Channels beyond the inbox, which always gets every notification at once.
CHANNELS = (SMS, WECHAT)

#: Which outside channels a kind goes to when the person chose nothing. SMS costs money and wakes
#: people: by default only what cannot wait; WeChat subscription messages for everything. Of the
#: jobs kinds only an interview goes by SMS: it is an appointment at a set time, and a missed one
#: loses the job; an invitation, an application, a decision, the nightly matches, a verification and
#: a key enterprise's request (its deadline is days away; ``overdue`` reminds the officer) can wait.
DEFAULTS: dict[str, tuple[str, ...]] = {
    DISPATCHED: (SMS, WECHAT),
    OVERDUE: (SMS, WECHAT),
    RETURNED: (WECHAT,),
    URGENT: (SMS, WECHAT),
    BALLOT_OPENED: (WECHAT,),
    BALLOT_CLOSING: (SMS, WECHAT),
    BALLOT_RESULT: (WECHAT,),
    NOTICE_PUBLISHED: (WECHAT,),
    REPORT_STATUS: (WECHAT,),
    FOLLOWED_STATUS: (WECHAT,),
    JOB_INVITED: (WECHAT,),
    JOB_APPLIED: (WECHAT,),
    JOB_INTERVIEW: (SMS, WECHAT),
    JOB_STATUS: (WECHAT,),
    JOB_MATCHES: (WECHAT,),
    EMPLOYER_STATUS: (WECHAT,),
    SERVICE_REQUEST: (WECHAT,),
}

#: Urgent cases always go by SMS, whatever the person chose (issue 12 §7).
FORCED: dict[str, tuple[str, ...]] = {URGENT: (SMS,)}

#: Attempts per delivery before it is given up, and the wait after the n-th failure.
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 6 * 3600


def channels_for(kind: str, chosen: Mapping[str, Iterable[str]] | None) -> tuple[str, ...]:
    """The outside channels ``kind`` goes to for a person whose choices are ``chosen``
    (``{kind: [channel, …]}``; a kind missing from it takes the default), plus the forced ones."""
    picked = set(chosen[kind]) if chosen is not None and kind in chosen else set(DEFAULTS.get(kind, ()))
    picked |= set(FORCED.get(kind, ()))
    return tuple(c for c in CHANNELS if c in picked)


def in_quiet_hours(local: datetime, start: time | None, end: time | None) -> bool:
    """Whether the local wall-clock time falls in the quiet hours [start, end) (may span midnight)."""
    if start is None or end is None or start == end:
        return False
    t = local.time().replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end


def release_at(local: datetime, start: time | None, end: time | None) -> datetime | None:
    """When a message held at ``local`` (an aware local datetime) may leave: the next ``end`` if
    ``local`` is in the quiet hours, else None (send now)."""
    if not in_quiet_hours(local, start, end):
        return None
    assert end is not None
    at = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return at


def backoff(attempts: int) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones: 1, 2, 4, 8 … minutes, capped."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, BACKOFF_CAP_SECONDS))


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (WeChat ``thing`` fields hold 20)."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
