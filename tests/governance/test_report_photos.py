"""Photos and bad signal, the server's side (issue 12 §8; docs/governance.md "Photos and bad signal").

The report page sends one ``photo_stamp`` per photo (the phone's time and position); the server
keeps it with the photo beside its own received time and shows it on the case page. Bad stamps
are a clear 400 and write nothing. The page's script asks for JSON: a report gets its case
number and link, a refusal its messages in the page's language and its status, and a retry with
the same client key the same case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from linli.core import clock
from linli.governance import inputs
from linli.governance.models import Event, EventLog, EventPhoto
from linli.governance.services import events as svc
from tests.governance.test_events_pages import jpeg, report_form

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 6, 5, tzinfo=UTC)
# The stamps are checked against the server's clock (a day ahead at most) and sign-in sessions expire:
# every test runs with the clock stopped at NOW, whatever today is (the dates lane runs them at 8 days).
pytestmark = pytest.mark.dates


@pytest.fixture(autouse=True)
def at_now() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


JSON = {"HTTP_ACCEPT": "application/json"}


def url(name: str, *args: Any) -> str:
    return reverse(f"governance:{name}", args=args)


def stamp(**over: Any) -> str:
    data: dict[str, Any] = {"taken_at": "2026-11-30T14:05:09+08:00", "lat": 29.50012, "lon": 106.5, "accuracy": 12}
    data.update(over)
    return json.dumps({k: v for k, v in data.items() if v is not None})


# --- inputs.photo_stamps (pure) ----------------------------------------------------------------------


def test_stamps_are_read_one_per_photo() -> None:
    got = inputs.photo_stamps([stamp(), ""], 3, NOW)
    assert len(got) == 3
    assert got[0].taken_at == datetime(2026, 11, 30, 6, 5, 9, tzinfo=UTC)
    assert (got[0].lat, got[0].lon, got[0].accuracy) == (29.50012, 106.5, 12.0)
    assert got[1] == got[2] == inputs.PhotoStamp()
    # time only, or position only
    only_time = inputs.photo_stamps([stamp(lat=None, lon=None, accuracy=None)], 1, NOW)[0]
    assert only_time.taken_at is not None and only_time.lat is None and only_time.accuracy is None
    assert inputs.photo_stamps([stamp(taken_at=None)], 1, NOW)[0].taken_at is None
    # a draft kept offline for days is fine: only the future is refused
    assert inputs.photo_stamps([stamp(taken_at="2026-11-20T09:00:00+08:00")], 1, NOW)[0].taken_at is not None


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("not json", "无法识别"),
        ("[1, 2]", "无法识别"),
        (stamp(taken_at="30/11/2026"), "时间无法识别"),
        (stamp(taken_at="2026-11-30T14:05:09"), "缺少时区"),
        (stamp(taken_at="2026-12-02T14:05:09+08:00"), "检查手机的日期和时间"),
        (stamp(taken_at="1999-12-31T23:00:00+08:00"), "检查手机的日期和时间"),
        (stamp(lon=None), "同时有纬度和经度"),
        (stamp(lat=91), "位置无效"),
        (stamp(lat="north"), "位置无效"),
        (stamp(lat=True), "位置无法识别"),
        (stamp(accuracy=-1), "精度无效"),
        (stamp(accuracy="NaN"), "精度无效"),
        (stamp(accuracy="abc"), "精度无法识别"),
        (json.dumps({"taken_at": "x" * 500}), "过长"),
    ],
)
def test_bad_stamps_are_one_clear_400(raw: str, text: str) -> None:
    with pytest.raises(inputs.LinliError) as exc:
        inputs.photo_stamps([raw], 1, NOW)
    assert exc.value.status == 400
    assert exc.value.problems[0].code == "bad_photo_stamp"
    assert text in exc.value.problems[0].zh and "第 1 张照片" in exc.value.problems[0].zh


def test_more_stamps_than_photos_is_refused() -> None:
    with pytest.raises(inputs.LinliError) as exc:
        inputs.photo_stamps([stamp(), stamp()], 1, NOW)
    assert exc.value.problems[0].code == "bad_photo_stamp"


# --- through the page ----------------------------------------------------------------------------------


def test_the_stamp_is_kept_with_the_photo_and_shown_on_the_case(world: Any, gov: Any, client_for: Any) -> None:
    with clock.frozen(NOW):
        c = client_for(world.users["grid_fulltime"])
        r = c.post(url("event_new"), {**report_form(), "photos": [jpeg(), jpeg()], "photo_stamp": [stamp(), ""]})
    assert r.status_code == 302 and "/governance/events/" in r["Location"], r.get("Location")
    first, second = EventPhoto.objects.order_by("pk")
    assert first.taken_at == datetime(2026, 11, 30, 6, 5, 9, tzinfo=UTC)
    assert (first.taken_lat, first.taken_lon, first.taken_accuracy) == (29.50012, 106.5, 12.0)
    assert first.uploaded_at is not None  # the server's own received time, beside the phone's
    assert (second.taken_at, second.taken_lat, second.taken_accuracy) == (None, None, None)
    with clock.frozen(NOW):
        page = c.get(r["Location"]).content.decode()
    assert page.count('data-testid="photo-stamp"') == 1
    assert "2026-11-30 14:05" in page and "29.50012, 106.50000" in page and "(±12 m)" in page


def test_a_bad_stamp_refuses_the_report_and_writes_nothing(world: Any, gov: Any, client_for: Any) -> None:
    c = client_for(world.users["grid_fulltime"])
    r = c.post(url("event_new"), {**report_form(), "photos": [jpeg()], "photo_stamp": [stamp(lat=200)]})
    assert r.status_code == 400 and "第 1 张照片的标记中的位置无效" in r.content.decode()
    # a stamp without its photo
    r = c.post(url("event_new"), {**report_form(), "photo_stamp": [stamp()]})
    assert r.status_code == 400 and "标记多于照片" in r.content.decode()
    assert Event.objects.count() == 0 and EventLog.objects.count() == 0 and EventPhoto.objects.count() == 0


def test_the_page_limit_is_the_servers(world: Any, gov: Any, client_for: Any) -> None:
    from linli.core.photos import MAX_PHOTO_BYTES

    html = client_for(world.users["grid_fulltime"]).get(url("event_new")).content.decode()
    assert f'data-max-bytes="{MAX_PHOTO_BYTES}"' in html
    assert 'data-drafts="1"' in html  # the report page keeps drafts; the hotline desk does not
    desk = client_for(world.users["street_command"]).get(url("event_hotline")).content.decode()
    assert 'data-drafts="1"' not in desk and f'data-max-bytes="{MAX_PHOTO_BYTES}"' in desk


# --- the script's JSON answers ---------------------------------------------------------------------------


def test_json_answer_and_a_retry_with_the_same_key_is_the_same_case(world: Any, gov: Any, client_for: Any) -> None:
    c = client_for(world.users["grid_fulltime"])
    form = report_form()
    with clock.frozen(NOW):
        r = c.post(url("event_new"), {**form, "photos": [jpeg()], "photo_stamp": [stamp()]}, **JSON)
    assert r.status_code == 200
    event = Event.objects.get()
    assert r.json() == {
        "ok": True,
        "pk": event.pk,
        "url": url("event_detail", event.pk) + "?reported=1",
        "created": True,
    }
    # the draft sent again (the first answer was lost on a bad signal): the same case
    with clock.frozen(NOW):
        r = c.post(url("event_new"), {**form, "photos": [jpeg()], "photo_stamp": [stamp()]}, **JSON)
    assert r.json()["pk"] == event.pk and r.json()["created"] is False
    assert Event.objects.count() == 1 and EventPhoto.objects.count() == 1 and EventLog.objects.count() == 1
    # the flash message waits for the case page the script opens
    assert f"#{event.pk}" in c.get(r.json()["url"]).content.decode()


def test_json_refusal_in_the_pages_language(world: Any, gov: Any, client_for: Any) -> None:
    c = client_for(world.users["grid_fulltime"])
    r = c.post(url("event_new"), report_form(category="nope"), **JSON)
    assert r.status_code == 400
    assert r.json() == {"ok": False, "errors": ["未知的事件类别:nope"]}
    r = c.post(url("event_new"), {**report_form(), "photos": [jpeg()], "photo_stamp": ["{"]}, **JSON)
    assert r.status_code == 400 and "第 1 张照片的标记无法识别" in r.json()["errors"][0]
    assert Event.objects.count() == 0


def test_a_stamp_from_a_phone_a_day_ahead_is_refused_with_the_server_clock(
    world: Any, gov: Any, client_for: Any
) -> None:
    c = client_for(world.users["grid_fulltime"])
    ahead = (NOW + timedelta(days=1, hours=1)).isoformat()
    with clock.frozen(NOW):
        r = c.post(url("event_new"), {**report_form(), "photos": [jpeg()], "photo_stamp": [stamp(taken_at=ahead)]})
    assert r.status_code == 400 and "检查手机的日期和时间" in r.content.decode()
    assert Event.objects.count() == 0


def test_the_service_without_stamps_is_unchanged(world: Any, gov: Any) -> None:
    # Open311 and the services pass no stamps: the photo has none
    event, created = svc.report(world.admin, svc.Report("E0201", 29.5001, 106.5, photos=[jpeg()]), channel="hotline")
    assert created and EventPhoto.objects.get(event=event).taken_at is None
