"""Reading ids and whole numbers from text a person or client sent (pure Python, no Django).

Every id and number parameter of a page, the API and Open311 goes through this module, so that no
input can reach the database as a number it cannot hold (SQLite raises OverflowError on those,
PostgreSQL a DataError — either would be a 500).

``as_id("12")`` → 12; anything else — empty, signs, decimals, text, or a number larger than a
database key can hold → None.  ``as_int(raw, lo=…, hi=…)`` is the same for any bounded whole number
(``-3`` allowed when ``lo`` is negative).
"""

from __future__ import annotations

MAX_ID = 2**63 - 1
# A 64-bit signed integer: what both databases can store and compare.
MIN_INT = -(2**63)
MAX_INT = 2**63 - 1


def as_id(raw: object) -> int | None:
    text = str(raw).strip() if raw is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def as_int(raw: object, *, lo: int = MIN_INT, hi: int = MAX_INT) -> int | None:
    """A whole number ``lo <= n <= hi`` written in ASCII digits with an optional leading ``-``;
    None for anything else (empty, ``+1``, ``1.5``, ``1e3``, full-width or other scripts' digits,
    more than 20 characters, or outside the bounds)."""
    if isinstance(raw, bool):
        return None
    text = str(raw).strip() if raw is not None else ""
    digits = text[1:] if text.startswith("-") else text
    if not digits or len(text) > 20 or not digits.isascii() or not digits.isdigit():
        return None
    value = int(text)
    return value if lo <= value <= hi else None


class IdConverter:
    """``<linli_id:pk>`` in a URL (registered in ``linli.core.apps``; every page and API path id):
    an id read with ``as_id``. Anything else (``null,null``, a sign, a number no database key can
    hold) does not match the URL, so it answers the same 404 as a missing id — never a 500."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        parsed = as_id(value)
        if parsed is None:
            raise ValueError(value)
        return parsed

    def to_url(self, value: object) -> str:
        parsed = as_id(value)
        if parsed is None:
            raise ValueError(value)
        return str(parsed)
