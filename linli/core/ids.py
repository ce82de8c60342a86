"""Reading a database id from text a person or client sent (pure Python, no Django).

``"12"`` → 12; anything else — empty, signs, decimals, text, or a number larger than a database
key can hold (SQLite raises OverflowError on those, which would be a 500) → None.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


def as_id(raw: object) -> int | None:
    text = str(raw).strip() if raw is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None
