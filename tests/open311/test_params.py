"""Open311 bad inputs (issue 9 item 2): each gets its own GeoReport error — the right code and a
description naming the parameter and what is allowed — and none reaches the "general service
error" handler. Run on SQLite and PostgreSQL (NUL bytes only ever failed on PostgreSQL)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import pytest

from linli.governance.models import Event
from tests.open311.test_api import BASE, errors_of, js, post

pytestmark = pytest.mark.django_db

GENERAL = "General service error"


@pytest.fixture
def no_general_error(caplog: Any) -> Any:
    caplog.set_level(logging.INFO, logger="linli.open311.views")
    yield
    assert not [r for r in caplog.records if "general service error" in r.getMessage()]


def refused(r: Any, fmt: str, *words: str, code: int = 400) -> str:
    assert r.status_code == code, r.content
    [(got, text)] = errors_of(r, fmt)
    assert got == str(code) and " / " in text and GENERAL not in text
    for word in words:
        assert word in text, (word, text)
    return text


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("end_date=0001-01-01T00:00:00+08:00", "end_date"),
        ("start_date=0001-01-01T00:00:00+08:00", "start_date"),
        ("start_date=0001-01-01T00:00:00", "start_date"),  # naive: Asia/Shanghai, before year 1 in UTC
        ("start_date=9999-12-31T23:59:59-14:00", "start_date"),
        ("end_date=9999-12-31T23:59:59-14:00", "end_date"),
        ("start_date=9999-12-31T00:00:00+14:00", "start_date"),  # start + 90 days is past 9999
        ("start_date=9999-12-30T00:00:00%2B14:00&end_date=9999-12-31T23:59:59-14:00", "start_date"),
        ("start_date=1969-12-31T23:59:59Z", "start_date"),
    ],
)
def test_dates_outside_what_can_be_represented(
    client: Any, o311: Any, no_general_error: Any, query: str, name: str, fmt: str
) -> None:
    text = refused(client.get(f"{BASE}requests.{fmt}?{query}"), fmt, name, "1970-01-01", "2999-12-31")
    assert text.index(name) < text.index("1970")


def test_dates_at_the_edges_are_answered(client: Any, o311: Any, no_general_error: Any) -> None:
    for query in (
        "start_date=1970-01-01T00:00:00Z",
        "end_date=2999-12-31T23:59:59Z",
        "start_date=2999-12-01T00:00:00Z",
    ):
        r = client.get(f"{BASE}requests.json?{query}")
        assert r.status_code == 200 and js(r) == [], query


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("page=99999999999999999999", "page"),
        ("page=1000001", "page"),
        ("page=-1", "page"),
        ("page=1e3", "page"),
        ("page=%EF%BC%92", "page"),  # full-width ２
        ("page_size=99999999999999999999", "page_size"),
        ("service_request_id=99999999999999999999", "service_request_id"),
        ("service_request_id=%C2%B2", "service_request_id"),  # ² is a "digit" to str.isdigit
    ],
)
def test_numbers_go_through_the_bounded_parser(
    client: Any, o311: Any, no_general_error: Any, query: str, name: str, fmt: str
) -> None:
    refused(client.get(f"{BASE}requests.{fmt}?{query}"), fmt, name)


def test_a_huge_page_of_a_real_list_is_empty_not_an_error(client: Any, o311: Any, no_general_error: Any) -> None:
    js(post(client, o311))
    r = client.get(f"{BASE}requests.json?page=1000000")
    assert r.status_code == 200 and js(r) == []


@pytest.mark.parametrize("rid", ["%C2%B2", "99999999999999999999", "%00", "1%00"])
def test_odd_request_ids_are_404(client: Any, o311: Any, no_general_error: Any, rid: str) -> None:
    refused(client.get(f"{BASE}requests/{rid}.json"), "json", code=404)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_multipart_without_boundary(client: Any, o311: Any, no_general_error: Any, fmt: str) -> None:
    body = f'--x\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n{o311.raw}\r\n--x--\r\n'
    r = client.post(f"{BASE}requests.{fmt}", body, content_type="multipart/form-data")
    refused(r, fmt, "boundary")
    r = client.post(f"{BASE}requests.{fmt}", body, content_type="multipart/form-data; boundary=")
    refused(r, fmt, "boundary")
    assert Event.objects.count() == 0


def test_broken_multipart_body(client: Any, o311: Any, no_general_error: Any) -> None:
    r = client.post(f"{BASE}requests.json", "--x\r\nnonsense", content_type="multipart/form-data; boundary=x")
    assert r.status_code in (400, 403)  # Django may read it as empty: then the api_key is missing
    assert GENERAL not in errors_of(r, "json")[0][1]


@pytest.mark.parametrize(
    ("content_type", "words"),
    [
        ("application/json", ("application/json", "x-www-form-urlencoded")),
        ("text/plain", ("text/plain",)),
        ("application/x-www-form-urlencoded; charset=no-such-charset", ("charset", "UTF-8")),
        ("application/x-www-form-urlencoded; charset=gbk", ("charset", "UTF-8")),
        ("multipart/form-data; boundary=x; charset=no-such-charset", ("charset", "UTF-8")),
    ],
)
def test_wrong_content_types(client: Any, o311: Any, no_general_error: Any, content_type: str, words: Any) -> None:
    body = f"api_key={o311.raw}&service_code=C0102&lat=29.5&long=106.5&description=" + quote("路灯坏了", encoding="gbk")
    refused(client.generic("POST", f"{BASE}requests.json", body, content_type=content_type), "json", *words)
    assert Event.objects.count() == 0


# --- control characters: stripped from free text, refused elsewhere -------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_nul_in_free_text_is_removed(client: Any, o311: Any, no_general_error: Any, fmt: str) -> None:
    r = post(
        client,
        o311,
        fmt,
        description="井盖\x00缺失\x07\n第二行\t完",
        first_name="三\x00",
        last_name="张",
        device_id="dev\x00-1",
        account_id="acc\x00",
        address_string="劳动三村\x00 1栋",
    )
    assert r.status_code == 200, r.content
    event = Event.objects.get()
    assert event.description == "井盖缺失\n第二行\t完"
    assert event.reporter_name == "张三" and event.device_id == "dev-1" and event.account_id == "acc"
    assert "\x00" not in event.address


@pytest.mark.parametrize(
    "field",
    [
        "service_code",
        "api_key",
        "lat",
        "email",
        "media_url",
        "idempotency_key",
        "phone",
        "address_id",
        "jurisdiction_id",
    ],
)
def test_nul_in_other_parameters_is_refused(client: Any, o311: Any, no_general_error: Any, field: str) -> None:
    values = {
        "service_code": "C01\x0002",
        "api_key": o311.raw + "\x00",
        "lat": "29.5\x00",
        "email": "a\x00@example.com",
        "media_url": "https://example.com/\x00.jpg",
        "idempotency_key": "k\x00",
        "phone": "1380013\x008000",
        "address_id": "1\x00",
        "jurisdiction_id": "500107\x00",
    }
    extra: dict[str, Any] = {field: values[field]}
    if field == "address_id":
        extra.update(lat=None, long=None)
    refused(post(client, o311, **extra), "json", field, "NUL")
    assert Event.objects.count() == 0


def test_nul_in_the_idempotency_header_is_refused(client: Any, o311: Any, no_general_error: Any) -> None:
    lat, lon = o311.pos["a"]
    data = {"api_key": o311.raw, "service_code": "C0102", "lat": lat, "long": lon}
    r = client.post(f"{BASE}requests.json", data, HTTP_IDEMPOTENCY_KEY="k\x00")
    refused(r, "json", "Idempotency-Key")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("service_code=C01%0002", "service_code"),
        ("status=open%00", "status"),
        ("jurisdiction_id=500107%00", "jurisdiction_id"),
        ("start_date=2026-11-01%00", "start_date"),
        ("locale=en%00", "locale"),
    ],
)
def test_nul_in_query_parameters_is_refused(
    client: Any, o311: Any, no_general_error: Any, query: str, name: str
) -> None:
    refused(client.get(f"{BASE}requests.json?{query}"), "json", name)
    refused(client.get(f"{BASE}services.xml?{query}"), "xml", name)


def test_nul_in_a_parameter_name_is_refused(client: Any, o311: Any, no_general_error: Any) -> None:
    refused(client.get(f"{BASE}requests.json?a%00b=1"), "json", "a?b")


def test_nul_in_an_attribute_value_is_removed(client: Any, o311: Any, no_general_error: Any) -> None:
    r = post(client, o311, service_code="C0101", **{"attribute[danger_now]": "yes\x00", "attribute[cover]": "missing"})
    assert r.status_code == 200, r.content
    assert Event.objects.get().attributes["danger_now"] == "yes"


# --- the rest of the surface ---------------------------------------------------------------------------


def test_repeated_single_parameters_are_refused(client: Any, o311: Any, no_general_error: Any) -> None:
    lat, lon = o311.pos["a"]
    body = f"api_key={o311.raw}&service_code=C0102&service_code=C0101&lat={lat}&long={lon}"
    r = client.post(f"{BASE}requests.json", body, content_type="application/x-www-form-urlencoded")
    refused(r, "json", "service_code", "once")
    refused(client.get(f"{BASE}requests.json?page=1&page=2"), "json", "page", "once")
    # the same value twice is harmless; list parameters may repeat
    assert client.get(f"{BASE}requests.json?page=1&page=1").status_code == 200
    assert client.get(f"{BASE}requests.json?service_code=C0101&service_code=C0102&status=open").status_code == 200


@pytest.mark.parametrize(
    ("lat", "lon"),
    [("91", "106.5"), ("29.5", "-181"), ("nan", "106.5"), ("inf", "106.5"), ("1e400", "106.5"), ("1" * 5000, "1")],
)
def test_positions_out_of_range(client: Any, o311: Any, no_general_error: Any, lat: str, lon: str) -> None:
    refused(post(client, o311, lat=lat, long=lon), "json", "ongitude")


def test_huge_and_many_values(client: Any, o311: Any, no_general_error: Any) -> None:
    refused(post(client, o311, description="长" * 4001), "json", "description")
    refused(post(client, o311, service_code="C0101", **{"attribute[cover]": "x" * 4001}), "json", "attribute")
    refused(post(client, o311, address_id="9" * 40, lat=None, long=None), "json", "address_id")
    refused(client.get(f"{BASE}requests.json?jurisdiction_id={'9' * 5000}"), "json", "jurisdiction_id", code=404)
    codes = ",".join(f"C{i:04d}" for i in range(101))
    refused(client.get(f"{BASE}requests.json?service_code={codes}"), "json", "service code")
    unknown = ",".join(f"Z{i:04d}" for i in range(100))
    assert client.get(f"{BASE}requests.json?service_code={unknown}").status_code == 200
    ids = ",".join(str(i) for i in range(1, 3000))
    assert client.get(f"{BASE}requests.json?service_request_id={ids}").status_code == 200
