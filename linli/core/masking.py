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
