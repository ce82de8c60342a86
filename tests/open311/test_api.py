"""Open311 GeoReport v2 endpoints: both formats, every filter, every refusal, no personal data."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from linli.governance.models import Event
from linli.governance.services import events as governance_events
from linli.open311 import params, queries
from linli.open311 import services as svc
from linli.open311.errors import Open311Error
from linli.open311.models import ApiKey
from linli.places import models as m

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"


def xml(r: Any) -> ET.Element:
    assert r["Content-Type"] == "text/xml; charset=utf-8"
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(r.content)  # noqa: S314 (our own output)


def js(r: Any) -> Any:
    assert r["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(r.content)


def post(client: Any, o311: Any, fmt: str = "json", **fields: Any) -> Any:
    lat, lon = o311.pos["a"]
    data = {
        "api_key": o311.raw,
        "service_code": "C0102",
        "lat": lat,
        "long": lon,
        "description": "路灯不亮",
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}requests.{fmt}", data)


def errors_of(r: Any, fmt: str) -> list[tuple[str, str]]:
    if fmt == "xml":
        root = xml(r)
        assert root.tag == "errors"
        return [(e.findtext("code") or "", e.findtext("description") or "") for e in root.findall("error")]
    return [(str(e["code"]), e["description"]) for e in js(r)]


# --- discovery, services, definitions ----------------------------------------------------------------


def test_discovery_both_formats(client: Any, o311: Any) -> None:
    root = xml(client.get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery"
    for tag in ("changeset", "contact", "key_service"):
        assert root.findtext(tag)
    ep = root.find("endpoints/endpoint")
    assert ep is not None and ep.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in ep.findall("formats/format")] == ["text/xml", "application/json"]
    data = js(client.get(f"{BASE}discovery.json"))
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert data["endpoints"][0]["url"].endswith("/open311/v2")


def test_services_list_chinese_and_english(client: Any, o311: Any) -> None:
    root = xml(client.get(f"{BASE}services.xml"))
    items = root.findall("service")
    assert items and all(i.findtext("type") == "realtime" for i in items)
    c0101 = next(i for i in items if i.findtext("service_code") == "C0101")
    assert c0101.findtext("service_name") == "井盖缺失或破损"
    assert c0101.findtext("metadata") == "true" and c0101.findtext("group") == "平安法治"
    assert c0101.findtext("keywords") == "井盖,窨井"
    c0102 = next(i for i in items if i.findtext("service_code") == "C0102")
    assert c0102.findtext("metadata") == "false"
    en = js(client.get(f"{BASE}services.json?locale=en"))
    first = next(s for s in en if s["service_code"] == "C0101")
    assert first["service_name"] == "Manhole cover missing or broken" and first["group"] == "Safety and rule of law"
    assert first["metadata"] is True
    by_header = js(client.get(f"{BASE}services.json", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9,zh;q=0.5"))
    assert by_header[0]["service_name"] == en[0]["service_name"]
    zh_first = js(client.get(f"{BASE}services.json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8"))
    assert zh_first[0]["service_name"] != en[0]["service_name"]


def test_inactive_category_is_not_a_service(client: Any, o311: Any) -> None:
    from linli.governance.models import Category

    Category.objects.filter(code="C0102").update(active=False)
    svc.clear_caches()
    codes = [s["service_code"] for s in js(client.get(f"{BASE}services.json"))]
    assert "C0102" not in codes and "C0101" in codes
    assert client.get(f"{BASE}services/C0102.json").status_code == 404


def test_service_definition(client: Any, o311: Any) -> None:
    root = xml(client.get(f"{BASE}services/C0101.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "C0101"
    attrs = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attrs] == ["danger_now", "cover"]
    a = attrs[1]
    assert a.findtext("variable") == "true" and a.findtext("required") == "true"
    assert a.findtext("datatype") == "singlevaluelist" and a.findtext("order") == "2"
    assert a.findtext("datatype_description") and a.findtext("description") == "井盖情况"
    values = [(v.findtext("key"), v.findtext("name")) for v in a.findall("values/value")]
    assert values == [("missing", "缺失"), ("broken", "破损"), ("loose", "松动")]
    data = js(client.get(f"{BASE}services/C0101.json?locale=en_US"))
    assert data["attributes"][1]["description"] == "State of the cover"
    assert data["attributes"][1]["values"][0] == {"key": "missing", "name": "missing"}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_service_definition_404(client: Any, o311: Any, fmt: str) -> None:
    r = client.get(f"{BASE}services/NOPE.{fmt}")
    assert r.status_code == 404
    [(code, text)] = errors_of(r, fmt)
    assert code == "404" and " / " in text and "NOPE" in text


def test_unknown_format_and_resource_404(client: Any, o311: Any) -> None:
    for url in ("services.html", "services.csv", "requests.yaml", "services/C0101.txt"):
        r = client.get(BASE + url)
        assert r.status_code == 404, url
        assert errors_of(r, "xml")[0][0] == "404"
    r = client.get(f"{BASE}nothing/here.json")
    assert r.status_code == 404 and errors_of(r, "json")[0][0] == "404"
    assert client.get(BASE).status_code == 404


def test_wrong_method_400(client: Any, o311: Any) -> None:
    r = client.post(f"{BASE}services.xml", {})
    assert r.status_code == 400 and errors_of(r, "xml")[0][0] == "400"


# --- POST requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_request_creates_an_event(client: Any, o311: Any, fmt: str) -> None:
    r = post(
        client,
        o311,
        fmt,
        service_code="C0101",
        **{"attribute[danger_now]": "yes", "attribute[cover]": "missing"},
        email="a@example.com",
        phone="13800138000",
        first_name="三",
        last_name="张",
        account_id="acc-1",
        device_id="dev-1",
        media_url="https://example.com/p.jpg",
    )
    assert r.status_code == 200, r.content
    if fmt == "xml":
        req = xml(r).find("request")
        assert req is not None
        rid = req.findtext("service_request_id")
        assert req.find("token") is None and req.findtext("account_id") == "acc-1"
        assert req.findtext("service_notice")
    else:
        [item] = js(r)
        rid = item["service_request_id"]
        assert "token" not in item and item["account_id"] == "acc-1" and item["service_notice"]
    event = Event.objects.get(pk=int(rid or 0))
    assert event.channel == "open311" and event.source == f"k:{o311.key.pk}" and event.step == "collected"
    assert event.building == o311.world.building_a and event.reporter_name == "张三"
    assert event.attributes == {"danger_now": "yes", "cover": "missing"}
    assert event.log.get().actor_label == "Open311: Test kiosk"
    assert ApiKey.objects.get(pk=o311.key.pk).last_used_at is not None


def test_post_multivalue_attribute_syntax(o311: Any) -> None:
    from django.http import QueryDict

    q = QueryDict("attribute[a]=1&attribute[b][]=x&attribute[b][]=y&attribute[c]=&other=1")
    assert params.attributes_of(q) == {"a": "1", "b": ["x", "y"]}


def test_idempotent_retries(client: Any, o311: Any) -> None:
    first = js(post(client, o311, idempotency_key="retry-1"))[0]["service_request_id"]
    again = js(post(client, o311, idempotency_key="retry-1", description="changed"))[0]["service_request_id"]
    header = client.post(
        f"{BASE}requests.json",
        {"api_key": o311.raw, "service_code": "C0102", "lat": o311.pos["a"][0], "long": o311.pos["a"][1]},
        HTTP_IDEMPOTENCY_KEY="retry-1",
    )
    assert first == again == js(header)[0]["service_request_id"]
    assert Event.objects.filter(client_key="retry-1").count() == 1
    other = js(post(client, o311, idempotency_key="retry-2"))[0]["service_request_id"]
    assert other != first
    # without a key every POST is a new request
    a = js(post(client, o311))[0]["service_request_id"]
    b = js(post(client, o311))[0]["service_request_id"]
    assert a != b


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_api_key_refusals_403(client: Any, o311: Any, fmt: str) -> None:
    for key in (None, "", "wrong-key"):
        r = post(client, o311, fmt, api_key=key)
        assert r.status_code == 403, key
        assert errors_of(r, fmt)[0][0] == "403"
    ApiKey.objects.filter(pk=o311.key.pk).update(active=False)
    svc.clear_caches()
    assert post(client, o311, fmt).status_code == 403
    assert Event.objects.count() == 0


def test_post_refusals(client: Any, o311: Any) -> None:
    n = Event.objects.count()
    cases = [
        ({"service_code": ""}, 400),
        ({"service_code": "NOPE"}, 404),
        ({"lat": None, "long": None}, 400),  # no location at all
        ({"lat": "", "long": ""}, 400),  # empty means absent
        ({"long": None}, 400),  # lat without long
        ({"lat": "abc"}, 400),
        ({"lat": 39.9, "long": 116.4}, 400),  # Beijing: outside the jurisdiction
        ({"description": "字" * 4001}, 400),
        ({"service_code": "C0101"}, 400),  # required attributes missing
        ({"service_code": "C0101", "attribute[danger_now]": "maybe", "attribute[cover]": "missing"}, 400),
        ({"email": "not-an-email"}, 400),
        ({"phone": "12345"}, 400),
        ({"media_url": "javascript:alert(1)"}, 400),
        ({"idempotency_key": "k" * 65}, 400),
        ({"jurisdiction_id": "999999"}, 404),
    ]
    for fields, status in cases:
        r = post(client, o311, "xml", **fields)
        assert r.status_code == status, (fields, r.content)
        [(code, text)] = errors_of(r, "xml")[:1]
        assert code == str(status) and " / " in text
    assert Event.objects.count() == n
    assert post(client, o311, jurisdiction_id=o311.world.district.code).status_code == 200


def test_post_key_of_another_district_403(client: Any, o311: Any) -> None:
    other = m.District.objects.create(code="500108", name="南岸区")
    _key, raw = svc.issue_key("other", other)
    r = post(client, o311, api_key=raw)
    assert r.status_code == 400  # its jurisdiction holds no building near the point
    r = post(client, o311, api_key=raw, jurisdiction_id=o311.world.district.code)
    assert r.status_code == 403


def test_post_by_address_id_and_address_string(client: Any, o311: Any) -> None:
    w = o311.world
    by_id = js(post(client, o311, lat=None, long=None, address_id=str(w.building_b.pk)))[0]
    assert Event.objects.get(pk=by_id["service_request_id"]).building == w.building_b
    by_path = js(post(client, o311, lat=None, long=None, address_id=w.building_c.path.rstrip("/")))[0]
    assert Event.objects.get(pk=by_path["service_request_id"]).building == w.building_c
    by_text = js(post(client, o311, lat=None, long=None, address_string="谢家湾 民主村小区 1栋 门口"))[0]
    event = Event.objects.get(pk=by_text["service_request_id"])
    assert event.building == w.building_b and event.address == "谢家湾 民主村小区 1栋 门口"
    short = js(post(client, o311, lat=None, long=None, address_string="劳动三村"))[0]
    assert Event.objects.get(pk=short["service_request_id"]).building == w.building_a
    for fields in ({"address_id": "999999"}, {"address_string": "天安门广场"}, {"address_id": "1/2/3"}):
        r = post(client, o311, "xml", lat=None, long=None, **fields)
        assert r.status_code == 400, fields
    other = m.District.objects.create(code="500108", name="南岸区")
    st = m.Street.objects.create(district=other, code="001", name="南坪街道")
    cm = m.Community.objects.create(street=st, code="001", name="外区社区")
    cp = m.Compound.objects.create(community=cm, code="0001", name="外区小区")
    b = m.Building.objects.create(compound=cp, code="01", name="1栋", storeys=6, lat=29.6, lon=106.6)
    assert post(client, o311, lat=None, long=None, address_id=str(b.pk)).status_code == 400
    assert post(client, o311, lat=None, long=None, address_string="外区小区 1栋").status_code == 400


def test_bad_bodies_are_400_not_500(client: Any, o311: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=1" for i in range(50))
    r = client.post(f"{BASE}requests.xml", body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and errors_of(r, "xml")[0][0] == "400"


def test_oversize_body_refused_by_middleware(client: Any, o311: Any, settings: Any) -> None:
    settings.LINLI_MAX_UPLOAD_BYTES = 1000
    r = client.post(
        f"{BASE}requests.json",
        {"api_key": o311.raw, "description": "x" * 5000},
        HTTP_ACCEPT="application/json",
    )
    assert r.status_code == 413
    [problem] = json.loads(r.content)["errors"]
    assert "too large" in problem["en"] and "过大" in problem["zh"]
    assert Event.objects.count() == 0


def test_csrf_is_not_required_for_api_clients(o311: Any) -> None:
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    assert post(c, o311).status_code == 200


# --- tokens --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_token_lookup(client: Any, o311: Any, fmt: str) -> None:
    rid = js(post(client, o311))[0]["service_request_id"]
    token = Event.objects.get(pk=rid).token
    r = client.get(f"{BASE}tokens/{token}.{fmt}")
    assert r.status_code == 200
    if fmt == "xml":
        req = xml(r).find("request")
        assert req is not None and req.findtext("service_request_id") == rid and req.findtext("token") == str(token)
    else:
        assert js(r) == [{"service_request_id": rid, "token": str(token)}]
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        assert client.get(f"{BASE}tokens/{bad}.{fmt}").status_code == 404


# --- GET requests --------------------------------------------------------------------------------------


def _event(o311: Any, code: str = "C0102", pos: str = "a", **kw: Any) -> Event:
    lat, lon = o311.pos[pos]
    attrs = {"danger_now": "no", "cover": "loose"} if code == "C0101" else {}
    e, _ = governance_events.report(
        o311.world.users["grid_fulltime"] if pos == "a" else o311.world.users["street_command"],
        governance_events.Report(
            code, lat, lon, attributes=attrs, reporter_name="王五", reporter_phone="13912345678", **kw
        ),
        channel="grid" if pos == "a" else "hotline",
    )
    return e


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_get_requests_fields_and_no_personal_data(client: Any, o311: Any, fmt: str) -> None:
    e = _event(o311, description="门口路灯坏了,联系 13912345678,身份证 110101199003070011")
    js(post(client, o311, email="secret@example.com", phone="13800138000", first_name="三", last_name="张"))
    r = client.get(f"{BASE}requests.{fmt}")
    assert r.status_code == 200
    text = r.content.decode()
    for secret in ("王五", "13912345678", "13800138000", "secret@example.com", "张三", "110101199003070011"):
        assert secret not in text, secret
    if fmt == "xml":
        items = xml(r).findall("request")
        mine = next(i for i in items if i.findtext("service_request_id") == str(e.pk))
        rec = {child.tag: child.text for child in mine}
    else:
        rec = next(i for i in js(r) if i["service_request_id"] == str(e.pk))
    assert len(rec and [1]) and rec["status"] == "open"
    assert rec["service_code"] == "C0102" and rec["service_name"] == "路灯不亮"
    assert "139****5678" in (rec["description"] or "")
    assert rec["status_notes"] == "信息收集 Collected"
    assert str(rec["requested_datetime"]).endswith("+08:00")
    assert "劳动三村小区 1栋" in str(rec["address"]) and str(rec["address_id"]) == str(o311.world.building_a.pk)
    for field in (
        "agency_responsible",
        "service_notice",
        "updated_datetime",
        "expected_datetime",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ):
        assert field in rec


def test_status_open_closed_through_the_loop(client: Any, o311: Any) -> None:
    w, gov = o311.world, o311.gov
    command, worker = w.users["street_command"], w.users["grid_fulltime"]
    e = _event(o311)
    done = _event(o311)
    for move, user in (("register", command), ("dispatch", command), ("accept", gov.cg_staff)):
        e = governance_events.act(user, e, move)
        done = governance_events.act(user, done, move)
    rec = js(client.get(f"{BASE}requests/{e.pk}.json"))[0]
    assert rec["status"] == "open" and rec["status_notes"] == "任务处理 Being handled"
    assert rec["agency_responsible"] == gov.cg.name and rec["expected_datetime"]  # a street light: its owner
    assert js(client.get(f"{BASE}requests/{e.pk}.json?locale=en"))[0]["agency_responsible"] == gov.cg.name_en
    done = governance_events.act(gov.cg_staff, done, "report", note="已修复路灯,联系 13912345678")
    done = governance_events.act(worker, done, "verify_pass")
    rec = js(client.get(f"{BASE}requests/{done.pk}.json?extensions=true"))[0]
    assert rec["status"] == "closed"
    assert rec["status_notes"] == "核查结案 Verified and closed: 已修复路灯,联系 139****5678"
    ext = rec["extended_attributes"]
    assert ext["step"] == "closed" and ext["step_name"] == "核查结案 Verified and closed"
    assert [s["code"] for s in ext["steps"]] == [
        "collected",
        "registered",
        "dispatched",
        "handling",
        "reported",
        "closed",
        "evaluated",
    ]
    assert all(s["datetime"] for s in ext["steps"][:6]) and ext["steps"][6]["datetime"] is None
    assert [n["type"] for n in rec["notes"]][-1] == "verify_pass"
    assert "extended_attributes" not in js(client.get(f"{BASE}requests/{done.pk}.json"))[0]
    assert rec["updated_datetime"] == queries.w3(Event.objects.get(pk=done.pk).closed_at)
    opened = {i["service_request_id"] for i in js(client.get(f"{BASE}requests.json?status=open"))}
    closed = {i["service_request_id"] for i in js(client.get(f"{BASE}requests.json?status=closed"))}
    both = {i["service_request_id"] for i in js(client.get(f"{BASE}requests.json?status=open,closed"))}
    assert str(e.pk) in opened and str(done.pk) in closed and opened.isdisjoint(closed)
    assert both == opened | closed
    root = xml(client.get(f"{BASE}requests/{done.pk}.xml?extensions=true"))
    steps = root.findall("request/extended_attributes/steps/step")
    assert len(steps) == 7 and steps[0].findtext("code") == "collected"
    # a return sends it back: the later steps of its path are cleared; the reason stays inside
    governance_events.act(command, e, "return", note="不归我们管")
    ext = js(client.get(f"{BASE}requests/{e.pk}.json?extensions=true"))[0]["extended_attributes"]
    assert ext["step"] == "registered" and ext["steps"][2]["datetime"] is None
    assert "不归我们管" not in client.get(f"{BASE}requests/{e.pk}.json?extensions=true").content.decode()


@pytest.mark.dates
def test_filters(client: Any, o311: Any) -> None:
    a = _event(o311, "C0102")
    b = _event(o311, "C0101")
    old = _event(o311, "C0102")
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=120))

    def ids(query: str) -> set[str]:
        r = client.get(f"{BASE}requests.json{query}")
        assert r.status_code == 200, r.content
        return {i["service_request_id"] for i in js(r)}

    assert ids("") == {str(a.pk), str(b.pk)}  # default: the last 90 days
    assert ids("?service_code=C0101") == {str(b.pk)}
    assert ids("?service_code=C0101,C0102") == {str(a.pk), str(b.pk)}
    assert ids("?service_code=C0101&service_code=C0102") == {str(a.pk), str(b.pk)}
    assert ids(f"?service_request_id={old.pk},{a.pk}&service_code=C0101") == {str(old.pk), str(a.pk)}
    start = (timezone.now() - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    assert ids(f"?start_date={start}&end_date={end}") == {str(old.pk)}
    assert ids(f"?start_date={start}") == {str(old.pk)}
    assert ids(f"?end_date={end}") == {str(old.pk)}
    assert ids("?start_date=&end_date=&status=&service_code=") == {str(a.pk), str(b.pk)}  # empty = absent
    assert ids("?page_size=1") | ids("?page_size=1&page=2") == {str(a.pk), str(b.pk)}


@pytest.mark.parametrize(
    "query",
    [
        "?start_date=yesterday",
        "?end_date=2025-13-40",
        "?start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z",  # > 90 days
        "?start_date=2025-03-01T00:00:00Z&end_date=2025-01-01T00:00:00Z",  # reversed
        "?status=pending",
        "?service_request_id=1,abc",
        "?page=0",
        "?page_size=5000",
    ],
)
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_get_requests_bad_parameters_400(client: Any, o311: Any, query: str, fmt: str) -> None:
    r = client.get(f"{BASE}requests.{fmt}{query}")
    assert r.status_code == 400
    [(code, text)] = errors_of(r, fmt)
    assert code == "400" and " / " in text


def test_single_request_404s(client: Any, o311: Any) -> None:
    for rid in ("999999", "abc", "-1"):
        r = client.get(f"{BASE}requests/{rid}.xml")
        assert r.status_code == 404 and errors_of(r, "xml")[0][0] == "404"


def test_private_categories_hidden(client: Any, o311: Any) -> None:
    e = _event(o311, "E0210", description="独居老人王大爷,3单元502")
    assert str(e.pk) not in {i["service_request_id"] for i in js(client.get(f"{BASE}requests.json"))}
    rec = js(client.get(f"{BASE}requests/{e.pk}.json?extensions=true"))[0]
    assert rec["status"] == "open" and rec["service_code"] == "E0210"
    assert rec["description"] is None and rec["address"] is None and rec["lat"] is None
    assert "502" not in json.dumps(rec, ensure_ascii=False)


def test_jurisdictions(client: Any, o311: Any) -> None:
    e = _event(o311)
    code = o311.world.district.code
    assert client.get(f"{BASE}requests.json?jurisdiction_id={code}").status_code == 200
    r = client.get(f"{BASE}requests.xml?jurisdiction_id=nowhere.gov")
    assert r.status_code == 404 and errors_of(r, "xml")[0][0] == "404"
    other = m.District.objects.create(code="500108", name="南岸区")
    svc.clear_caches()
    r = client.get(f"{BASE}requests.json")
    assert r.status_code == 400 and "jurisdiction_id" in errors_of(r, "json")[0][1]
    assert client.get(f"{BASE}services.json").status_code == 400
    assert client.get(f"{BASE}services.json?jurisdiction_id={code}").status_code == 200
    assert js(client.get(f"{BASE}requests.json?jurisdiction_id={other.code}")) == []
    assert client.get(f"{BASE}requests/{e.pk}.json?jurisdiction_id={other.code}").status_code == 404
    assert client.get(f"{BASE}tokens/{e.token}.json?jurisdiction_id={other.code}").status_code == 404
    got = js(client.get(f"{BASE}requests/{e.pk}.json?jurisdiction_id={code}"))
    assert got[0]["service_request_id"] == str(e.pk)


def test_xml_drops_control_characters(client: Any, o311: Any) -> None:
    js(post(client, o311, description="坏了\x01\x08 ok"))
    root = xml(client.get(f"{BASE}requests.xml"))
    assert root.findtext("request/description") == "坏了 ok"


def test_open311_key_command(o311: Any) -> None:
    out, err = StringIO(), StringIO()
    call_command("open311_key", "create", "FixMyStreet", "--district", o311.world.district.code, stdout=out, stderr=err)
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="FixMyStreet")
    assert key.key_hash == queries.hash_key(raw) and raw not in key.key_hash and key.prefix == raw[:8]
    assert queries.key_info(raw).pk == key.pk
    listing = StringIO()
    call_command("open311_key", "list", stdout=listing)
    assert "FixMyStreet" in listing.getvalue() and raw not in listing.getvalue()
    call_command("open311_key", "deactivate", key.prefix, stdout=StringIO())
    svc.clear_caches()
    with pytest.raises(Open311Error):
        queries.key_info(raw)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("open311_key", "create", "x", "--district", "000000", stdout=StringIO())


def test_admin_issues_a_key_once(client_for: Any, o311: Any) -> None:
    c = client_for(o311.world.admin)
    r = c.post(
        "/admin/open311/apikey/add/",
        {"name": "Kiosk 2", "district": o311.world.district.pk, "active": "on"},
        follow=True,
    )
    assert r.status_code == 200
    key = ApiKey.objects.get(name="Kiosk 2")
    shown = [str(msg) for msg in r.context["messages"]]
    assert any(key.prefix in s for s in shown)
    assert c.get("/admin/open311/apikey/").status_code == 200
