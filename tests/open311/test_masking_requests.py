"""The public Open311 list and single request never show a phone or ID number typed into a
description, a public note, an attribute or a media URL, in any of the formats of issue 9 item 4,
in XML or JSON."""

from __future__ import annotations

from typing import Any

import pytest

from linli.governance.services import events as governance_events
from tests.open311.test_api import BASE, js, post

pytestmark = pytest.mark.django_db

TYPED = [
    ("+8613912345678", "13912345678"),
    ("139-1234-5678", "13912345678"),
    ("139 1234 5678", "13912345678"),
    ("１３９１２３４５６７８", "13912345678"),
    ("500107 19560610 5992", "500107195606105992"),
    ("110101900307001", "110101900307001"),
    ("(023)6886 1234", "02368861234"),
]
SEPARATORS = " -()（）"
FULL = {ord(c) + 0xFEE0: c for c in "0123456789"}


def digits(text: str) -> str:
    return "".join(c for c in text.translate(FULL) if c not in SEPARATORS)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_every_format_is_masked_in_list_and_single_request(client: Any, o311: Any, fmt: str) -> None:
    description = "井盖缺失;" + ";".join(f"联系{typed}" for typed, _ in TYPED)
    r = post(client, o311, description=description, media_url="https://img.example.cn/13912345678.jpg")
    rid = js(r)[0]["service_request_id"]
    event = governance_events.Event.objects.get(pk=rid)
    command = o311.world.users["street_command"]
    event = governance_events.act(command, event, "register")
    event = governance_events.act(command, event, "void", note="重复上报,已电话联系 139 1234 5678 说明")
    for url in (f"{BASE}requests.{fmt}", f"{BASE}requests/{rid}.{fmt}?extensions=true"):
        body = client.get(url).content.decode()
        assert "139****5678" in body and "5001**********5992" in body and "023****1234" in body, url
        for typed, number in TYPED:
            assert typed not in body and number not in digits(body), (url, typed)
