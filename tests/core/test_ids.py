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


@pytest.mark.parametrize(
    ("raw", "lo", "hi", "expected"),
    [
        ("12", 0, 100, 12),
        ("-3", -10, 10, -3),
        ("-3", 0, 10, None),
        ("101", 0, 100, None),
        ("99999999999999999999", 0, 2**63 - 1, None),
        ("-99999999999999999999", -(2**63), 0, None),
        ("+1", 0, 10, None),
        ("1.0", 0, 10, None),
        ("１２", 0, 100, None),  # full-width digits
        ("-", -10, 10, None),
        ("", 0, 10, None),
        (None, 0, 10, None),
        (True, 0, 10, None),
        (7, 0, 10, 7),
    ],
)
def test_as_int_bounded(raw: object, lo: int, hi: int, expected: int | None) -> None:
    from linli.core.ids import as_int

    assert as_int(raw, lo=lo, hi=hi) == expected


@pytest.mark.parametrize("raw", ["null,null", "-1", "9223372036854775808", "9" * 19, "１", "1.5", ""])
def test_the_path_converter_refuses_what_as_id_refuses(raw: str) -> None:
    """``<linli_id:pk>``: a ValueError makes Django treat the URL as not matching (a 404)."""
    from linli.core.ids import IdConverter

    with pytest.raises(ValueError):
        IdConverter().to_python(raw)


def test_the_path_converter_reads_and_writes_ids() -> None:
    from linli.core.ids import IdConverter

    assert IdConverter().to_python("0012") == 12
    assert IdConverter().to_url(12) == "12"
    assert IdConverter().to_python(str(MAX_ID)) == MAX_ID
