"""The one check of a reporter's input (``governance/inputs.py``, pure): the pages, the services and
Open311 refuse the same input with the same bilingual problem."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from linli.core.errors import LinliError
from linli.governance import inputs

DEFS = [
    {"code": "danger", "zh": "是否危险", "en": "Dangerous", "datatype": "singlevaluelist", "required": True,
     "values": [["yes", "是", "yes"], ["no", "否", "no"]]},
    {"code": "kinds", "zh": "类型", "en": "Kinds", "datatype": "multivaluelist", "required": False,
     "values": [["a", "甲", "A"], ["b", "乙", "B"]]},
    {"code": "depth", "zh": "深度", "en": "Depth", "datatype": "number", "required": False, "values": []},
]  # fmt: skip


def _code(call: object) -> tuple[int, list[str]]:
    with pytest.raises(LinliError) as exc:
        call()  # type: ignore[operator]
    return exc.value.status, [p.code for p in exc.value.problems]


def test_position() -> None:
    assert inputs.position("29.5", 106.5) == (29.5, 106.5)
    assert _code(lambda: inputs.position("north", "1")) == (400, ["bad_location"])
    assert _code(lambda: inputs.position(91, 0)) == (400, ["bad_location"])
    assert _code(lambda: inputs.position("nan", 0)) == (400, ["bad_location"])
    assert inputs.number("", 1.5) == 1.5 and inputs.number("2", 1.5) == 2.0
    assert _code(lambda: inputs.number("x", None)) == (400, ["bad_location"])


def test_texts_keys_phones_and_photos() -> None:
    assert inputs.description("  井盖缺失 ") == "井盖缺失" and inputs.note(None) == ""
    assert _code(lambda: inputs.description("x" * 4001)) == (400, ["too_long"])
    assert _code(lambda: inputs.note("x" * 4001)) == (400, ["too_long"])
    assert inputs.client_key(" k ") == "k"
    assert _code(lambda: inputs.client_key("k" * 65)) == (400, ["bad_client_key"])
    assert inputs.phone(" 13812345678 ") == "13812345678" and inputs.phone("") == ""
    assert _code(lambda: inputs.phone("12")) == (400, ["bad_phone"])
    inputs.photo_count([object()] * 6)
    assert _code(lambda: inputs.photo_count([object()] * 7)) == (400, ["too_many_photos"])


def test_attributes() -> None:
    assert inputs.attributes(DEFS, {"danger": "yes", "kinds": ["a", "b"], "depth": "3"}) == {
        "danger": "yes",
        "kinds": ["a", "b"],
        "depth": "3",
    }
    # each problem once: a wrong value is not also "required"
    assert _code(lambda: inputs.attributes(DEFS, {"danger": "maybe", "depth": "deep", "x": 1})) == (
        400,
        ["bad_attribute", "bad_attribute", "unknown_attribute"],
    )
    assert _code(lambda: inputs.attributes(DEFS, {})) == (400, ["attribute_required"])
    assert _code(lambda: inputs.attributes(DEFS, ["danger"])) == (400, ["bad_attributes"])


def test_the_report_form() -> None:
    post = QueryDict(mutable=True)
    post.update({"category": "C0101", "lat": "29.5", "client_key": "k" * 80, "attr-C0101-danger": "yes"})
    post.setlist("attr-C0101-kinds", ["a", " ", "b"])
    post.update({"attr-E0201-danger": "no"})
    form = inputs.report_form(post)
    assert form["category"] == "C0101" and form["lat"] == "29.5" and form["lon"] == ""
    assert len(form["client_key"]) == 64 and form["attrs"]["attr-C0101-kinds"] == ["a", " ", "b"]
    # only the chosen category's attributes, empty values left out
    assert inputs.form_attributes("C0101", DEFS, post) == {"danger": "yes", "kinds": ["a", "b"]}
