"""linli/core/ids.py: ids from text, never a number the database cannot hold."""

from __future__ import annotations

import pytest

from linli.core.ids import MAX_ID, as_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        (12, 12),
        ("0", 0),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("9" * 40, None),
        ("", None),
        (None, None),
        ("-1", None),
        ("+1", None),
        ("1.5", None),
        ("1e3", None),
        ("一", None),
        ("١٢", None),  # Arabic-Indic digits: isdigit() is true, but no id looks like this
        ("abc", None),
    ],
)
def test_as_id(raw: object, expected: int | None) -> None:
    assert as_id(raw) == expected
