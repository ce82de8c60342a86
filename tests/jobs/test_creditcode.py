"""The unified social credit code (GB 32100-2015): public examples, the standard's worked example,
the errors people get, and properties (a computed check character is always valid; any change of
one character is detected)."""

from __future__ import annotations

import random

import pytest

from linli.jobs import creditcode

# Codes published as valid (python-stdnum's test data, from public registers; 9/5/1 departments,
# companies and individual businesses, old and MA-series organisation codes, check characters
# that are digits and letters).
PUBLIC = [
    "91110000600037341L",
    "121200004013590816",
    "91310115MA1K3BTP2B",
    "91152201078371135X",
    "9162010569564942X9",
    "91620105L015101280",
    "92340621MA2UK3PJXE",
    "91340600MA2PBM9HXD",
    "91440300568520498A",
    "913101127033980359",
]


def test_weights_are_powers_of_three_mod_31():
    assert creditcode.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(creditcode.ALPHABET) == 31 and not set(creditcode.ALPHABET) & set("IOZSV")


@pytest.mark.parametrize("code", PUBLIC)
def test_public_examples_are_valid(code):
    assert creditcode.is_valid(code)
    assert creditcode.validate(code) == code
    assert creditcode.check_char(code[:17]) == code[17]


def test_the_standards_worked_example():
    # GB 32100-2015's example: the sum for 91350100M000100Y4 is 1640, 1640 mod 31 = 28, C18 = 3.
    first = "91350100M000100Y4"
    assert sum(creditcode.VALUES[c] * w for c, w in zip(first, creditcode.WEIGHTS, strict=True)) == 1640
    assert creditcode.check_char(first) == "3"
    assert creditcode.is_valid(first + "3")
    assert not creditcode.is_valid(first + "Z")


def test_normalise_accepts_what_people_type():
    assert creditcode.normalise("  ９１１１００００６０００３７３４１ｌ ") == "91110000600037341L"
    assert creditcode.normalise("91 110000 600037341l") == "91110000600037341L"
    assert creditcode.normalise("9111-0000-6000-3734-1L") == "91110000600037341L"
    assert creditcode.validate("91 110000 600037341l") == "91110000600037341L"


def test_errors_say_what_is_wrong():
    with pytest.raises(ValueError) as e:
        creditcode.validate("")
    assert e.value.code == "credit_code_missing"
    with pytest.raises(creditcode.CreditCodeError) as e:
        creditcode.validate("9111000060003734")
    assert e.value.code == "credit_code_length" and "16" in e.value.en and "16" in e.value.zh
    with pytest.raises(creditcode.CreditCodeError) as e:
        creditcode.validate("91110000600O37341L")
    assert e.value.code == "credit_code_character" and e.value.position == 12
    assert "第 12 位" in e.value.zh and "O" in e.value.en and "never" in e.value.en
    with pytest.raises(creditcode.CreditCodeError) as e:
        creditcode.validate("91110000600#37341L")
    assert e.value.code == "credit_code_character" and "not allowed" in e.value.en
    with pytest.raises(creditcode.CreditCodeError) as e:
        creditcode.validate("911A0000600037341L")
    assert e.value.code == "credit_code_division" and e.value.position == 4
    with pytest.raises(creditcode.CreditCodeError) as e:
        creditcode.validate("91110000600037341N")
    assert e.value.code == "credit_code_check" and e.value.expected == "L"
    assert "“L”" in e.value.en and "「L」" in e.value.zh


def test_check_char_refuses_bad_input():
    with pytest.raises(ValueError):
        creditcode.check_char("123")
    with pytest.raises(ValueError):
        creditcode.check_char("9111000060003734I")


def _random_first17(r: random.Random) -> str:
    head = r.choice(creditcode.ALPHABET) + r.choice(creditcode.ALPHABET)
    division = "".join(r.choice("0123456789") for _ in range(6))
    body = "".join(r.choice(creditcode.ALPHABET) for _ in range(9))
    return head + division + body


def test_property_computed_check_char_is_always_valid():
    r = random.Random(32100)
    for _ in range(5000):
        first = _random_first17(r)
        assert creditcode.is_valid(first + creditcode.check_char(first))


def test_property_any_single_change_is_detected():
    """Weights 3^k mod 31 are all non-zero mod the prime 31, so changing one character (to another
    of the set) always changes the sum mod 31: every single substitution is caught."""
    r = random.Random(11714)
    for _ in range(400):
        first = _random_first17(r)
        code = first + creditcode.check_char(first)
        for pos in range(18):
            for ch in creditcode.ALPHABET:
                if ch == code[pos] or (2 <= pos <= 7 and not ch.isdigit()):
                    continue
                changed = code[:pos] + ch + code[pos + 1 :]
                assert not creditcode.is_valid(changed), (code, changed)


def test_property_naive_second_implementation_agrees():
    """A second, naive check (3 ** (i - 1) % 31 computed per position) agrees with check_char."""

    def naive(first17: str) -> str:
        total = 0
        for i, ch in enumerate(first17, 1):
            total += "0123456789ABCDEFGHJKLMNPQRTUWXY".index(ch) * (3 ** (i - 1) % 31)
        c18 = 31 - total % 31
        return "0123456789ABCDEFGHJKLMNPQRTUWXY"[0 if c18 == 31 else c18]

    r = random.Random(18)
    for _ in range(3000):
        first = _random_first17(r)
        assert creditcode.check_char(first) == naive(first)


def test_the_fixture_codes_of_the_jobs_tests():
    # tests/jobs/conftest.py used codes whose check characters were wrong; these are the corrected ones.
    for bad, good in [
        ("91500107MA5U4XKX2E", "91500107MA5U4XKX2P"),
        ("91500107MA60YJ2B6N", "91500107MA60YJ2B6B"),
        ("91500107MA5YQ0T41B", "91500107MA5YQ0T41K"),
    ]:
        assert not creditcode.is_valid(bad)
        assert creditcode.is_valid(good)
