"""``{% load language %}`` — one language per screen (issue 12).

Errors (``core.errors.Problem``), loop steps, moves, categories and vocabularies carry a Chinese and
an English text (``zh``/``en``, as attributes or dict keys). A page shows only the one of the
active language: ``{{ problem|pick }}`` (``linli.core.lang.pick``: the Chinese when there is no
English). APIs keep both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from linli.core import lang

register = template.Library()


def _part(value: Any, name: str) -> str:
    found = value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)
    return "" if found is None else str(found)


@register.filter
def pick(value: Any) -> str:
    """The text of ``value`` (anything with ``zh`` and ``en``) in the active language."""
    if value is None or value == "":
        return ""
    return lang.pick(_part(value, "zh"), _part(value, "en"))
