"""Which language a screen speaks: the one place that decides "is this English?".

Linli speaks Simplified Chinese (the default) and English. Pages, exports and errors pick their
text with ``is_english()`` or ``pick()``; nothing else compares language codes.
"""

from __future__ import annotations

from django.utils.translation import get_language


def english(language: str | None) -> bool:
    """True for an English language code (``en``, ``en-us``, ``en_GB`` …); pure, for any caller."""
    return (language or "").lower().startswith("en")


def is_english() -> bool:
    """True when the active language of this request (or task) is English."""
    return english(get_language())


def code() -> str:
    """``"en"`` or ``"zh"``: the short code that bilingual texts (``Problem.text``, vocabularies,
    import logs) take."""
    return "en" if is_english() else "zh"


def pick(zh: str, en: str, language: str | None = None) -> str:
    """The text for the active (or the given) language; the Chinese one when there is no English."""
    use_en = english(language) if language is not None else is_english()
    return en if use_en and en else zh
