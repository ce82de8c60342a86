"""Who may post to Open311 and who sees what of a request (docs/open311.md).

Open311 has no signed-in users: a client **posts** with an ``api_key`` (an ``ApiKey`` row, checked
by ``queries.key_info``: missing, unknown or inactive is a 403), and only into the key's own
jurisdiction (``may_report_in``). **Reading** is public: every request of a jurisdiction is shown
without personal data (``queries.records``), except the events of private categories
(``LINLI_OPEN311_PRIVATE_CATEGORIES``: a household in hardship, an elderly person living alone …),
which are shown only to whoever asks for them by id, and then without place, description,
attributes or media (``is_private``; docs/rules.md §6).
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings


class _Key(Protocol):
    @property
    def district_code(self) -> str: ...


def may_report_in(key: _Key, jurisdiction_id: str) -> bool:
    """Whether a client holding ``key`` may report into ``jurisdiction_id`` (empty: the key's own)."""
    return not jurisdiction_id or jurisdiction_id == key.district_code


def private_codes() -> frozenset[str]:
    """The category codes whose requests are listed to nobody and shown by id without any place."""
    return frozenset(getattr(settings, "LINLI_OPEN311_PRIVATE_CATEGORIES", ()))


def is_private(category_code: str, private: frozenset[str] | None = None) -> bool:
    """Whether a request of ``category_code`` is shown without place, description, attributes and
    media (``private``: ``private_codes()`` read once by a caller walking many requests)."""
    return category_code in (private_codes() if private is None else private)
