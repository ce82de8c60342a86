"""Masking and checking of personal identifiers (pure Python).

Resident ID numbers follow GB 11643-1999 (18 characters, the last a checksum over the first 17);
rules.md §6 asks that they be shown masked, e.g. ``5001**********1234``.
"""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1\d{10}$")


def normalise_id_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def id_checksum(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_valid_id_number(value: str) -> bool:
    value = normalise_id_number(value)
    return bool(_ID_RE.match(value)) and id_checksum(value[:17]) == value[17]


def mask_id_number(value: str) -> str:
    value = normalise_id_number(value)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def is_valid_phone(value: str) -> bool:
    return bool(_PHONE_RE.match(value.strip()))


def mask_phone(value: str) -> str:
    value = value.strip()
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张三丰 → 张**; keeps the family name so a worker can still address the person."""
    value = value.strip()
    if len(value) <= 1:
        return value
    return value[0] + "*" * (len(value) - 1)


# --- free text ------------------------------------------------------------------------------------
#
# mask_text() finds the phone and ID numbers people type into free text (a description, a note, a
# comment) in any of the ways they type them, and masks each like mask_phone / mask_id_number.
# The rule (docs/rules.md §6, "Masking free text"):
#
# * a *digit* is 0-9 or a full-width ０-９; between any two digits of a number there may be up to
#   three *separators*: spaces (also no-break and ideographic), hyphens and dashes (- ‐ ‑ ‒ – — ― －),
#   dots (. ． · ・) and parentheses (( ) （ ）);
# * a number never starts right after a digit or a ``*`` and never ends right before one (so a
#   number inside a longer run of digits is not one, and masked output is never masked again);
# * in this order, at each place in the text:
#   1. 18 characters, 17 digits and a last digit or X (x, Ｘ, ｘ): an ID number → ``5001**********5992``;
#   2. a mainland mobile number (1, 3-9, nine more digits) after +86, 0086 or 86 → ``139****5678``;
#   3. 15 digits: an old ID number → ``1101*******0011``;
#   4. a mainland mobile number without a prefix → ``139****5678``;
#   5. a landline with its area code: 0, 1-9, one or two more digits (the area code, optionally in
#      parentheses), then a local number of 7 or 8 digits starting 2-9 → ``023****1234``.
#   Short service numbers (110, 12345, 023-12345, 96128) and numbers without an area code stay
#   readable; so do dates, amounts, case and building numbers, and runs of digits of any other length.

_FW = 0xFEE0  # full-width forms: chr(ord(ascii) + _FW)


def _d(chars: str) -> str:
    return "[" + "".join(c + chr(ord(c) + _FW) for c in chars) + "]"


_DIGIT = _d("0123456789")
_SEP = "[ \u00a0\u3000\\-\u2010\u2011\u2012\u2013\u2014\u2015\uff0d.\uff0e\u00b7\u30fb()\uff08\uff09]{0,3}"
_X = "[0-9\uff10-\uff19Xx\uff38\uff58]"


def _digits(n: int, first: str = _DIGIT) -> str:
    """``n`` digits (the first from ``first``) with separators between them."""
    return first + f"(?:{_SEP}{_DIGIT})" + "{" + str(n - 1) + "}"


_MOBILE = _d("1") + _SEP + _d("3456789") + f"(?:{_SEP}{_DIGIT}){{9}}"
_PREFIX = f"(?:(?:[+\uff0b]|{_d('0')}{_SEP}{_d('0')}){_SEP})?{_d('8')}{_SEP}{_d('6')}{_SEP}"
_LANDLINE = (
    f"[(\uff08]?{_d('0')}{_SEP}{_d('123456789')}(?:{_SEP}{_DIGIT}){{1,2}}{_SEP}"
    f"{_d('23456789')}(?:{_SEP}{_DIGIT}){{6,7}}"
)
_FREE_TEXT = re.compile(
    r"(?<![0-9\uff10-\uff19*])(?:"
    + f"(?P<id18>{_digits(17)}{_SEP}{_X})"
    + f"|(?:[(\uff08]?{_PREFIX}(?P<prefixed>{_MOBILE}))"
    + f"|(?P<id15>{_digits(15)})"
    + f"|(?P<mobile>{_MOBILE})"
    + f"|(?P<landline>{_LANDLINE})"
    + r")(?![0-9\uff10-\uff19*])"
)
_TO_ASCII = {ord(c) + _FW: c for c in "0123456789X"} | {0xFF58: "X", ord("x"): "X"}


def _only_digits(text: str) -> str:
    return "".join(c for c in text.translate(_TO_ASCII) if c.isascii() and (c.isdigit() or c == "X"))


def _mask_match(m: re.Match[str]) -> str:
    kind = m.lastgroup or ""
    digits = _only_digits(m.group(kind))
    if kind in ("id18", "id15"):
        return mask_id_number(digits)
    return mask_phone(digits)


def mask_text(text: str) -> str:
    """``text`` with every phone and ID number in it masked (the rule above); text without them
    comes back unchanged, and masking twice gives the same as masking once."""
    if not text:
        return text
    return _FREE_TEXT.sub(_mask_match, text)
