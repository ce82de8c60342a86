"""``{% load figures %}`` — figures written for people (issue 12): shares as percentages, counts
"of how many", areas in m², money with separators and 万元.

* ``{{ 0.7488|percent }}`` → ``74.9%``; ``{{ 0.5|percent }}`` → ``50%``; a share above 0 never reads
  ``0%`` (``<0.1%``), one below 1 never ``100%`` (``>99.9%``).
* ``{% part_of 7 14 _("households") %}`` → ``7 / 14 户 (50%)`` (``7 / 14 households (50%)``).
* ``{{ 1234.5|area }}`` → ``1,234.5 m²``.
* ``{{ 9451200|money }}`` → ``945.12 万元`` in Chinese, ``¥9.45 million`` in English;
  ``{{ 9451.2|money }}`` → ``9,451.20 元`` / ``¥9,451.20``; 亿元 from 100 million yuan.
* ``{{ 12345|number }}`` → ``12,345``; ``{{ 3.14159|number:2 }}`` → ``3.14``.

Chinese and English write digits the same way (``,`` every three digits, ``.`` for decimals); only
the units differ, picked through ``linli.core.lang``. A value that is not a number (``None``, ``""``)
comes back as it is, so ``|default:"—"`` still works after the filter.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django import template

from linli.core.lang import is_english

register = template.Library()

WAN = Decimal(10_000)
YI = Decimal(100_000_000)
MILLION = Decimal(1_000_000)


def _decimal(value: Any) -> Decimal | None:
    """The value as a Decimal, or None when it is no number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    try:
        out = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return out if out.is_finite() else None


def _digits(value: Decimal, places: int, keep_zeros: bool = False) -> str:
    """``value`` rounded to ``places`` decimals with a separator every three digits; trailing zeros
    of the decimals dropped unless ``keep_zeros``."""
    rounded = (
        value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if places
        else value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
    text = f"{rounded:,.{places}f}"
    if places and not keep_zeros:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@register.filter
def number(value: Any, places: Any = 0) -> Any:
    """A number with a separator every three digits and at most ``places`` decimals."""
    d = _decimal(value)
    if d is None:
        return value
    try:
        n = max(0, min(int(places), 6))
    except (TypeError, ValueError):
        n = 0
    return _digits(d, n)


@register.filter
def percent(value: Any) -> Any:
    """A share (0–1) as a percentage: whole when it is whole, else one decimal."""
    d = _decimal(value)
    if d is None:
        return value
    hundred = d * 100
    text = _digits(hundred, 1)
    if d > 0 and text == "0":
        return "<0.1%"
    if d < 1 and text == "100":
        return ">99.9%"
    return f"{text}%"


@register.simple_tag
def part_of(part: Any, whole: Any, unit: str = "") -> str:
    """``7 / 14 户 (50%)``: how many of how many, and the share (none when the whole is 0)."""
    p, w = _decimal(part), _decimal(whole)
    if p is None or w is None:
        return ""
    unit_text = f" {unit}" if unit else ""
    out = f"{_digits(p, 2)} / {_digits(w, 2)}{unit_text}"
    return f"{out} ({percent(p / w)})" if w else out


@register.filter
def area(value: Any) -> Any:
    """An area in square metres: ``1,234.5 m²`` (at most two decimals)."""
    d = _decimal(value)
    if d is None:
        return value
    return f"{_digits(d, 2)} m²"


@register.filter
def money(value: Any) -> Any:
    """An amount of yuan: ``945.12 万元`` / ``9,451.20 元`` (``¥9.45 million`` / ``¥9,451.20`` in English)."""
    d = _decimal(value)
    if d is None:
        return value
    if is_english():
        if abs(d) >= MILLION:
            return f"¥{_digits(d / MILLION, 2)} million"
        return f"¥{_digits(d, 2, keep_zeros=True)}"
    if abs(d) >= YI:
        return f"{_digits(d / YI, 2)} 亿元"
    if abs(d) >= WAN:
        return f"{_digits(d / WAN, 2)} 万元"
    return f"{_digits(d, 2, keep_zeros=True)} 元"
