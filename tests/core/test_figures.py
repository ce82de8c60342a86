"""Figures written for people: ``linli/core/templatetags/figures.py``, in Chinese and in English."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from django.template import Context, Template
from django.utils import translation

from linli.core.templatetags.figures import area, money, number, part_of, percent


@pytest.mark.parametrize(
    ("share", "shown"),
    [
        (0.5, "50%"),
        (0.7488, "74.9%"),
        (Decimal("0.7453"), "74.5%"),
        (Fraction(1, 3), "33.3%"),
        (Fraction(2, 3), "66.7%"),
        (1, "100%"),
        (0, "0%"),
        (0.0004, "<0.1%"),  # someone voted: not "0%"
        (Fraction(9999, 10000), ">99.9%"),  # not everyone: not "100%"
        (0.125, "12.5%"),
        (0.0005, "0.1%"),  # half up
        ("", ""),
        (None, None),
        ("n/a", "n/a"),
    ],
)
def test_percent(share, shown):
    assert percent(share) == shown


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [(12345, 0, "12,345"), (1234567.891, 2, "1,234,567.89"), (3.10, 2, "3.1"), (0.4, 0, "0"), (-1234, 0, "-1,234")],
)
def test_number(value, places, shown):
    assert number(value, places) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1234.5, "1,234.5 m²"), (Decimal("87.60"), "87.6 m²"), (90, "90 m²"), (Decimal("12345.678"), "12,345.68 m²")],
)
def test_area(value, shown):
    assert area(value) == shown


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (Decimal("9451200.00"), "945.12 万元", "¥9.45 million"),
        (9451.2, "9,451.20 元", "¥9,451.20"),
        (10000, "1 万元", "¥10,000.00"),
        (Decimal("123456789012.5"), "1,234.57 亿元", "¥123,456.79 million"),
        (0, "0.00 元", "¥0.00"),
        (None, None, None),
    ],
)
def test_money_in_both_languages(value, zh, en):
    with translation.override("zh-hans"):
        assert money(value) == zh
    with translation.override("en"):
        assert money(value) == en


def test_part_of_counts_and_shares_in_both_languages():
    page = Template('{% load figures %}{% part_of voted roll _("households") %}|{% part_of 0 0 %}|{{ x|money }}')
    context = {"voted": 7, "roll": 14, "x": "9451200.00"}
    with translation.override("zh-hans"):
        assert page.render(Context(context)) == "7 / 14 户 (50%)|0 / 0|945.12 万元"
    with translation.override("en"):
        assert page.render(Context(context)) == "7 / 14 households (50%)|0 / 0|¥9.45 million"
    assert part_of(Decimal("1234.5"), Decimal("2469"), "m²") == "1,234.5 / 2,469 m² (50%)"
    assert part_of(None, 3) == ""
