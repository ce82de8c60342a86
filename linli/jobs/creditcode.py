"""The unified social credit code (统一社会信用代码) of GB 32100-2015 (pure Python, no Django).

Eighteen characters from a set of 31 — the digits and the capital letters without I, O, Z, S and V:

====  =====================================================================================
 1    registration department (登记管理部门代码: 1 机构编制, 5 民政, 9 市场监管 …)
 2    kind of organisation (机构类别代码: under 9, 1 企业, 2 个体工商户, 3 农民专业合作社 …)
 3–8  administrative division of the registering office (GB/T 2260, six digits)
 9–17 organisation code (主体标识码, the GB 11714 body with its own check character in 17)
 18   check character over the first 17
====  =====================================================================================

The check character: each character has its value in the set (0–9 → 0–9, A → 10 … Y → 30), the
weight of position i is 3^(i−1) mod 31, and C18 = 31 − (Σ value × weight mod 31), with 31 → 0.
GB 32100-2015's own worked example: for ``91350100M000100Y4`` the sum is 1640, 1640 mod 31 = 28,
so the check character is 31 − 28 = 3 (``91350100M000100Y4Z`` is therefore refused).

A code is *valid* here when it has 18 characters of the set, digits in positions 3–8 and the right
check character — what GB 32100 itself checks. The organisation code's own GB 11714 check (17th
character) is not enforced: the 18th character already covers all 17 before it, and a register
entry, not this module, is the authority on the rest. A few codes issued in early pilot areas
(Fujian, 2015, e.g. ``91350100M0001TGQXM``) fail even the GB 32100 check and are refused here (a known
limit, docs/jobs.md "Employers and postings").

``normalise`` accepts what people type or paste: full-width characters, lower case, spaces and
hyphens between groups. ``validate`` says what is wrong, in Chinese and English.
"""

from __future__ import annotations

import unicodedata

#: The 31 characters of the code, in the order of their values (value = index).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
#: Weight of position i (1-based) = 3^(i−1) mod 31, for i = 1 … 17.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18
#: Letters the standard leaves out (they read like 1, 0, 2, 5 and U).
NEVER_USED = "IOZSV"


class CreditCodeError(ValueError):
    """Why a text is not a valid credit code: ``code`` for programs, ``zh`` and ``en`` for people."""

    def __init__(self, code: str, zh: str, en: str, *, expected: str = "", position: int = 0) -> None:
        super().__init__(en)
        self.code = code
        self.zh = zh
        self.en = en
        self.expected = expected
        self.position = position


def normalise(text: str) -> str:
    """What a person typed, as the code would be printed: full-width forms to ASCII (NFKC), upper
    case, without surrounding or separating blanks and hyphens."""
    text = unicodedata.normalize("NFKC", text or "")
    for sep in (" ", "\t", "-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u00a0"):
        text = text.replace(sep, "")
    return text.strip().upper()


def check_char(first17: str) -> str:
    """The check character of the first 17 characters (already normalised). ``ValueError`` when
    there are not 17 characters of the set."""
    if len(first17) != LENGTH - 1:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    try:
        total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"not a credit-code character: {exc.args[0]!r}") from exc
    return ALPHABET[(31 - total % 31) % 31]


def validate(code: str) -> str:
    """The normalised code, or ``CreditCodeError`` (a ``ValueError``) with the first thing wrong:
    the length, a character outside the set and its position, a letter in the division code, or the
    wrong check character and the one expected."""
    value = normalise(code)
    if not value:
        raise CreditCodeError(
            "credit_code_missing",
            "请填写统一社会信用代码(18 位)。",
            "Enter the unified social credit code (18 characters).",
        )
    if len(value) != LENGTH:
        raise CreditCodeError(
            "credit_code_length",
            f"统一社会信用代码应为 18 位,这里是 {len(value)} 位。",
            f"A unified social credit code has 18 characters; this one has {len(value)}.",
        )
    for i, ch in enumerate(value, 1):
        if ch in VALUES:
            continue
        if ch in NEVER_USED:
            zh = f"第 {i} 位的「{ch}」不会出现在统一社会信用代码中(代码不使用 I、O、Z、S、V)。"
            en = f"Character {i}, “{ch}”, never occurs in a credit code (I, O, Z, S and V are not used)."
        else:
            zh = f"第 {i} 位的「{ch}」不是统一社会信用代码的字符(只有数字和大写字母)。"
            en = f"Character {i}, “{ch}”, is not allowed in a credit code (digits and capital letters only)."
        raise CreditCodeError("credit_code_character", zh, en, position=i)
    for i in range(3, 9):
        ch = value[i - 1]
        if not ch.isdigit():
            raise CreditCodeError(
                "credit_code_division",
                f"第 3–8 位是登记机关的行政区划代码,只能是数字;第 {i} 位是「{ch}」。",
                f"Characters 3–8 are the registering office's division code, digits only; character {i} is “{ch}”.",
                position=i,
            )
    expected = check_char(value[:17])
    if value[17] != expected:
        raise CreditCodeError(
            "credit_code_check",
            f"校验码不对:第 18 位应为「{expected}」,这里是「{value[17]}」。请核对营业执照上的代码。",
            f"The check character is wrong: character 18 should be “{expected}”, not “{value[17]}”. "
            "Check the code on the business licence.",
            expected=expected,
            position=18,
        )
    return value


def is_valid(code: str) -> bool:
    """Whether ``code`` (after ``normalise``) is a valid credit code."""
    try:
        validate(code)
    except ValueError:
        return False
    return True
