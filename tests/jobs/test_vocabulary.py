"""linli/jobs/vocabulary.py and services.vocabulary (issue 14 §1): the seeded categories and skills,
their codes' shape, the icon of every category in the sprite, and a loader that only adds."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from linli.jobs import vocabulary
from linli.jobs.models import JobCategory, Skill
from linli.jobs.services.vocabulary import ensure

SPRITE = Path(__file__).resolve().parents[2] / "linli" / "jobs" / "static" / "jobs" / "icons.svg"
KEPT = (
    "6-18-01-01",
    "6-18-01-02",
    "6-18-01-08",
    "6-18-02-04",
    "4-03-02-01",
    "4-10-01-06",
    "4-09-08-01",
    "4-10-01-05",
    "4-02-07-08",
)


def test_the_data():
    cats = {c[0] for c in vocabulary.CATEGORIES}
    assert 10 <= len(vocabulary.CATEGORIES) <= 14
    assert 60 <= len(vocabulary.SKILLS) <= 90
    codes = [s[0] for s in vocabulary.SKILLS]
    assert len(codes) == len(set(codes)), "a code twice"
    assert len({s[1] for s in vocabulary.SKILLS}) == len(codes), "a name twice"
    assert all(re.fullmatch(r"[1-8]-\d{2}-\d{2}-\d{2}", c) for c in codes)
    assert set(KEPT) <= set(codes)
    assert {s[3] for s in vocabulary.SKILLS} == cats, "every category has skills, every skill a category"
    assert all(zh and en and not re.search(r"[A-Za-z]", zh) for _c, zh, en, _k in vocabulary.SKILLS)
    names = {
        "制造技工",
        "餐饮",
        "家政保洁",
        "养老护理",
        "物流配送",
        "零售收银",
        "保安物业",
        "建筑装修",
        "驾驶运输",
        "办公文员",
        "社区服务",
        "电商客服",
    }
    assert names <= {c[1] for c in vocabulary.CATEGORIES}


def test_every_category_has_its_icon_in_the_sprite():
    root = ET.parse(SPRITE).getroot()  # noqa: S314 - our own file
    ids = {el.get("id") for el in root.iter() if el.tag.endswith("symbol")}
    assert {f"icon-{c[3]}" for c in vocabulary.CATEGORIES} == ids
    for el in root.iter():
        if el.tag.endswith("symbol"):
            assert el.get("viewBox") == "0 0 24 24" and el.get("stroke") == "currentColor"


@pytest.mark.django_db
def test_the_loader_only_adds():
    ensure()
    assert JobCategory.objects.count() == len(vocabulary.CATEGORIES)
    assert Skill.objects.count() == len(vocabulary.SKILLS)
    JobCategory.objects.filter(code="catering").update(name="餐饮服务", active=False)
    Skill.objects.filter(code="6-18-01-01").update(name="车工(普通车床)")
    Skill.objects.filter(code="6-18-01-02").delete()
    assert ensure() == (0, 1)
    assert ensure() == (0, 0)
    assert JobCategory.objects.get(code="catering").name == "餐饮服务"
    assert not JobCategory.objects.get(code="catering").active
    assert Skill.objects.get(code="6-18-01-01").name == "车工(普通车床)"
    assert Skill.objects.get(code="6-18-01-02").category.code == "manufacturing"
