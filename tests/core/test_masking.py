from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from linli.core.masking import (
    id_checksum,
    is_valid_id_number,
    is_valid_phone,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
)


def test_known_id_numbers():
    assert is_valid_id_number("110101199003070011")
    assert is_valid_id_number("11010519491231002x")  # lower-case X is accepted
    assert not is_valid_id_number("110101199003070012")
    assert not is_valid_id_number("1101011990030700")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_checksum_makes_any_17_digits_valid(first17):
    full = first17 + id_checksum(first17)
    assert is_valid_id_number(full)
    assert mask_id_number(full) == full[:4] + "*" * 10 + full[-4:]
    # changing any one digit breaks the checksum
    i = int(first17[0]) % 17
    wrong = full[:i] + str((int(full[i]) + 1) % 10) + full[i + 1 :]
    assert not is_valid_id_number(wrong)


def test_masks():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_name("张三丰") == "张**"
    assert mask_id_number("123") == "***"
    assert is_valid_phone("13800138000") and not is_valid_phone("23800138000")


# --- mask_text: phone and ID numbers in free text (issue 9 item 4) ------------------------------------


SEPARATORS = " \u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2015\uff0d.\uff0e\u00b7\u30fb()\uff08\uff09"
FULL = {ord(c) + 0xFEE0: c for c in "0123456789X"} | {0xFF58: "X", ord("x"): "X"}


def normal(text: str) -> str:
    """Full-width → ASCII, x → X, separators removed: how a reader would read the digits."""
    return "".join(c for c in text.translate(FULL) if c not in SEPARATORS)


def n_digits(text: str) -> int:
    return sum(1 for c in normal(text) if c.isascii() and (c.isdigit() or c == "X"))


# separator strings people put between digits (at most three characters)
seps = st.sampled_from(["", "", "", "", " ", "-", ".", "\u3000", "\uff0d", " - ", "\u2014", "·", "\u00a0", "\uff0e"])
# what stands right before and after a number in running text: anything but a digit or a separator
edge = st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters=SEPARATORS + "*+\uff0bXx\uff38\uff58")
around = st.text(max_size=30)


@st.composite
def typed(draw: st.DrawFn, digits: str) -> str:
    """``digits`` as a person might type them: some full-width, separators between any two."""
    out = []
    for i, c in enumerate(digits):
        if i:
            out.append(draw(seps))
        wide = draw(st.booleans()) and c in "0123456789X"
        out.append(chr(ord(c) + 0xFEE0) if wide else c)
    return "".join(out)


mobiles = st.builds(lambda a, b: "1" + a + b, st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9))
prefixes = st.sampled_from(
    ["", "", "+86", "+86 ", "0086", "0086 ", "86", "86-", "(+86)", "(+86) ", "\uff0b\uff18\uff16"]
)
id18s = st.builds(
    lambda body, last: body + last, st.text("0123456789", min_size=17, max_size=17), st.sampled_from("0123456789Xx")
)
id15s = st.text("0123456789", min_size=15, max_size=15)
landlines = st.builds(
    lambda area, first, rest: area + first + rest,
    st.builds(lambda a, b: "0" + a + b, st.sampled_from("123456789"), st.text("0123456789", min_size=1, max_size=2)),
    st.sampled_from("23456789"),
    st.text("0123456789", min_size=6, max_size=7),
)


def _embedded(draw: st.DrawFn, shown: str) -> tuple[str, str]:
    before, after = draw(around) + draw(edge), draw(edge) + draw(around)
    return before + shown + after, before + after


@settings(max_examples=400)
@given(st.data(), mobiles, prefixes)
def test_mobile_numbers_in_any_format_are_masked(data: st.DataObject, number: str, prefix: str) -> None:
    shown = data.draw(typed(prefix)) + data.draw(seps) + data.draw(typed(number))
    text, rest = _embedded(data.draw, shown)
    out = mask_text(text)
    assert number not in normal(out)
    assert n_digits(out) <= n_digits(rest) + n_digits(prefix) + 7  # a country code left alone is no one's
    assert number[:3] + "****" + number[-4:] in out
    assert mask_text(out) == out


@settings(max_examples=400)
@given(st.data(), st.one_of(id18s, id15s))
def test_id_numbers_in_any_format_are_masked(data: st.DataObject, number: str) -> None:
    text, rest = _embedded(data.draw, data.draw(typed(number)))
    out = mask_text(text)
    assert number.upper() not in normal(out)
    assert n_digits(out) <= n_digits(rest) + 8
    assert mask_text(out) == out


@settings(max_examples=300)
@given(st.data(), landlines, st.booleans())
def test_landlines_with_area_code_are_masked(data: st.DataObject, number: str, parens: bool) -> None:
    cut = 3 if number[1] in "12" and len(number) == 10 else len(number) - 8 if len(number) > 10 else 3
    area, local = number[:cut], number[cut:]
    shown = "(" + data.draw(typed(area)) + ")" + data.draw(st.sampled_from(["", " ", "-"])) if parens else ""
    shown = shown or data.draw(typed(area)) + data.draw(seps)
    text, rest = _embedded(data.draw, shown + data.draw(typed(local)))
    out = mask_text(text)
    assert number not in normal(out)
    assert n_digits(out) <= n_digits(rest) + 7


@given(st.text(max_size=200))
def test_masking_is_idempotent(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


@settings(max_examples=300)
@given(st.data(), st.lists(st.one_of(st.text("0123456789", min_size=1, max_size=6), around), max_size=12))
def test_text_without_personal_numbers_is_unchanged(data: st.DataObject, pieces: list[str]) -> None:
    # short numbers (≤ 6 digits, e.g. 12345, 110, #3996, 2栋, 2026-11-30) joined by non-digits
    text = "".join(p + data.draw(edge) for p in pieces)
    assume(not re.search(r"\d{7}", normal(text)))
    assert mask_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-30 14:30 报修,工单 #3996,2栋3单元502",
        "合同金额 9451200.00 元,已付 1,250,000.50 元",
        "服务热线 12345、023-12345,报警 110,火警 119,供电 95598,400-820-8820",
        "20000000000000000000 个二十位数字,1234567890 十位",
        "Call 12345 or the office on 2026/11/30.",
        "坐标 29.5001, 106.5003",
        "",
    ],
)
def test_ordinary_numbers_survive(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("联系+8613912345678", "联系139****5678"),
        ("电话139-1234-5678。", "电话139****5678。"),
        ("电话 139 1234 5678 谢谢", "电话 139****5678 谢谢"),
        ("电话１３９１２３４５６７８", "电话139****5678"),
        ("身份证 500107 19560610 5992 在此", "身份证 5001**********5992 在此"),
        ("老身份证110101900307001", "老身份证1101*******7001"),
        ("ID 11010519491231002x", "ID 1101**********002X"),
        ("ID １１０１０５１９４９１２３１００２Ｘ", "ID 1101**********002X"),
        ("座机(023)68861234", "座机023****1234"),
        ("座机023-6886 1234", "座机023****1234"),
        ("+86 (139) 1234-5678", "139****5678"),
        ("0086 139.1234.5678", "139****5678"),
    ],
)
def test_the_formats_of_issue_9(text: str, masked: str) -> None:
    assert mask_text(text) == masked
