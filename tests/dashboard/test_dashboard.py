"""The command centre: figures over a small set of events, scoping per role, the export, bad
input, the map JSON (linli/dashboard/)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from openpyxl import load_workbook

from linli.accounts.models import AccessLog
from linli.accounts.services import grant_role
from linli.governance.models import Event
from linli.governance.services import events as governance_events
from tests import exports as bg
from tests import factories as f
from tests.dashboard.conftest import POS, put_event

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MARCH = {"start": "2024-03-01", "end": "2024-03-31"}


def t(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, 0, tzinfo=SH)


@pytest.fixture
def march(world: Any, gov: Any) -> dict[str, Event]:
    """Events due in March 2024 (and two that are not): see each line."""
    a, b, c = world.building_a, world.building_b, world.building_c
    e = {}
    # closed exactly at the deadline: on time (the boundary counts as on time)
    e["e1"] = put_event(world, building=a, department=gov.cg, created_at=t(8), due_at=t(10), closed_at=t(10))
    # closed late, after one failed check (rework)
    e["e2"] = put_event(
        world, building=a, department=gov.cg, created_at=t(8), due_at=t(10), closed_at=t(12), rework_count=1
    )
    # still open
    e["e3"] = put_event(world, building=b, department=gov.gs, step="handling", created_at=t(9), due_at=t(15))
    # voided: never due
    e["e4"] = put_event(
        world, building=b, department=gov.gs, step="voided", created_at=t(9), due_at=t(15), closed_at=t(9)
    )
    # deferred beyond the period: not due
    e["e5"] = put_event(
        world,
        building=a,
        department=gov.cg,
        step="handling",
        created_at=t(9),
        due_at=t(20),
        deferred_until=datetime(2099, 1, 1, tzinfo=SH),
    )
    # due at local midnight after the period: outside
    e["e6"] = put_event(world, building=a, department=gov.cg, step="handling", created_at=t(9), due_at=t(1, 0, month=4))
    # street 2 (building_c has no grid), closed on time
    e["e7"] = put_event(world, building=c, department=gov.cg, created_at=t(3), due_at=t(5), closed_at=t(4))
    # due at the first local midnight of the period: inside; open
    e["e8"] = put_event(
        world, building=b, department=gov.gs, step="dispatched", created_at=t(1, 0) - timedelta(days=2), due_at=t(1, 0)
    )
    return e


def _figures(resp: Any) -> tuple[int, int, int, int]:
    tot = resp.context["rates"].total
    return tot.due, tot.closed, tot.on_time, tot.reworked


def test_rates_over_a_period_district(world: Any, march: Any, client_for: Any) -> None:
    r = client_for(world.users["district_admin"]).get(reverse("dashboard:index"), MARCH)
    assert r.status_code == 200
    assert _figures(r) == (5, 3, 2, 1)  # e1 e2 e3 e7 e8 due; e1 e2 e7 closed; e1 e7 on time; e2 reworked
    tot = r.context["rates"].total
    assert (str(tot.closure_rate), str(tot.on_time_rate), str(tot.rework_rate)) == ("60.0", "40.0", "33.3")
    html = r.content.decode()
    assert "60.0%" in html and "40.0%" in html and "33.3%" in html
    by_dept = {row.label: row.counts for row in r.context["rates"].by_department}
    assert (by_dept["区城市管理局"].due, by_dept["区城市管理局"].on_time) == (3, 2)
    assert (by_dept["自来水公司"].due, by_dept["自来水公司"].closed) == (2, 0)
    assert by_dept["自来水公司"].rework_rate is None  # nothing closed: no rate, not 0


def test_rates_street_grid_department_scopes(world: Any, gov: Any, march: Any, client_for: Any) -> None:
    url = reverse("dashboard:index")
    assert _figures(client_for(world.users["street_command"]).get(url, MARCH)) == (4, 2, 1, 1)  # no e7
    assert _figures(client_for(world.users["grid_fulltime"]).get(url, MARCH)) == (2, 2, 1, 1)  # e1 e2
    assert _figures(client_for(gov.cg_staff).get(url, MARCH)) == (3, 3, 2, 1)  # e1 e2 e7
    assert _figures(client_for(gov.gs_staff).get(url, MARCH)) == (2, 0, 0, 0)  # e3 e8
    street2 = f.UserFactory(username="street2_command")
    grant_role(world.admin, street2, "street_command", world.street2)
    assert _figures(client_for(street2).get(url, MARCH)) == (1, 1, 1, 0)  # e7 only


def test_trend_counts_reported_and_closed_per_local_day(world: Any, march: Any, client_for: Any) -> None:
    r = client_for(world.users["district_admin"]).get(reverse("dashboard:index"), MARCH)
    rows = {row.first.day: (row.reported, row.closed) for row in r.context["trend"]}
    assert len(rows) == 31
    assert rows[8] == (2, 0) and rows[9] == (4, 0)  # e4 voided on the 9th is not "closed"
    assert rows[10] == (0, 1) and rows[12] == (0, 1) and rows[3] == (1, 0) and rows[4] == (0, 1)
    assert sum(v[0] for v in rows.values()) == 7  # e8 was reported in February
    assert "trend-data" in r.content.decode()  # the chart's data and its table


def test_trend_weekly_over_a_year(world: Any, march: Any, client_for: Any) -> None:
    r = client_for(world.users["district_admin"]).get(
        reverse("dashboard:index"), {"start": "2024-01-01", "end": "2024-12-30"}
    )
    rows = r.context["trend"]
    assert rows[0].first.isoformat() == "2024-01-01" and rows[0].last.isoformat() == "2024-01-07"
    assert sum(x.reported for x in rows) == 8 and sum(x.closed for x in rows) == 3


@pytest.mark.dates
@pytest.mark.parametrize("preset", ["week", "month", "30d", "year"])
def test_presets_end_today_and_count_what_was_reported_today(
    world: Any, gov: Any, client_for: Any, preset: str
) -> None:
    """Each preset ends on today's local date (the run's day: a Monday, 1 January, 29 February …),
    starts where its name says, and today's report is in its last chart bucket and in the export."""
    from linli.core import clock

    today = clock.today()
    late_evening = datetime.combine(today, datetime.min.time(), tzinfo=SH) + timedelta(hours=23, minutes=30)
    early = datetime.combine(today, datetime.min.time(), tzinfo=SH) + timedelta(minutes=30)
    put_event(world, step="handling", created_at=early, due_at=late_evening)  # due today (local)
    put_event(world, step="handling", created_at=early - timedelta(hours=1))  # reported yesterday (local)
    r = client_for(world.users["district_admin"]).get(reverse("dashboard:index"), {"preset": preset})
    assert r.status_code == 200
    period = r.context["period"]
    first = {
        "week": today - timedelta(days=today.weekday()),
        "month": today.replace(day=1),
        "30d": today - timedelta(days=29),
        "year": today.replace(month=1, day=1),
    }[preset]
    assert (period.first, period.last) == (first, today)
    assert r.context["rates"].total.due == 1
    trend = r.context["trend"]
    assert trend[-1].last == today and trend[-1].reported >= 1
    assert sum(x.reported for x in trend) == (2 if period.days > 1 else 1)
    export = client_for(world.users["district_admin"]).get(reverse("dashboard:export"), {"preset": preset})
    assert export.status_code == 200


@pytest.mark.dates
def test_open_counts_and_overdue_through_the_services(world: Any, gov: Any, client_for: Any) -> None:
    worker, command = world.users["grid_fulltime"], world.users["street_command"]
    lat, lon = POS["a"]
    report = governance_events.Report("C0101", lat, lon, attributes={"danger_now": "yes", "cover": "missing"})
    late, _ = governance_events.report(worker, report, channel="grid")
    late = governance_events.act(command, late, "register")
    late = governance_events.act(command, late, "dispatch")
    fresh, _ = governance_events.report(
        worker,
        governance_events.Report("C0101", lat, lon, attributes={"danger_now": "no", "cover": "missing"}),
        channel="grid",
    )
    parked, _ = governance_events.report(
        worker,
        governance_events.Report("C0101", lat, lon, attributes={"danger_now": "no", "cover": "broken"}),
        channel="grid",
    )
    deferred, _ = governance_events.report(
        worker,
        governance_events.Report("C0101", lat, lon, attributes={"danger_now": "no", "cover": "broken"}),
        channel="grid",
    )
    done, _ = governance_events.report(
        worker,
        governance_events.Report("C0101", lat, lon, attributes={"danger_now": "no", "cover": "broken"}),
        channel="grid",
    )
    for x in (late, done):
        x = governance_events.act(command, Event.objects.get(pk=x.pk), "register") if x.step == "collected" else x
    done = governance_events.act(command, Event.objects.get(pk=done.pk), "dispatch")
    done = governance_events.act(gov.cg_staff, done, "accept")
    done = governance_events.act(gov.cg_staff, done, "report", note="修好")
    done = governance_events.act(worker, done, "verify_pass")
    past = timezone.now() - timedelta(hours=5)
    Event.objects.filter(pk__in=[late.pk, parked.pk, deferred.pk]).update(step_due_at=past)
    Event.objects.filter(pk=late.pk).update(escalation=1)
    Event.objects.filter(pk=parked.pk).update(backlog=True)
    Event.objects.filter(pk=deferred.pk).update(deferred_until=timezone.now() + timedelta(days=3))
    for e in (late, parked, deferred, fresh):
        assert governance_events.is_overdue(Event.objects.get(pk=e.pk)) == (e.pk == late.pk)
    r = client_for(command).get(reverse("dashboard:index"))
    assert r.status_code == 200
    s = r.context["summary"]
    assert (s.total, s.overdue) == (4, 1)
    assert [e.pk for e in r.context["overdue"]] == [late.pk]
    assert {row.label: (row.open, row.overdue) for row in s.by_department} == {"区城市管理局": (1, 1), "—": (3, 0)}
    assert [(row.open, row.overdue) for row in s.by_sector] == [(4, 1)]
    assert "街道" in r.content.decode()  # escalation level shown
    # the table per grid is a part loaded when opened (htmx), or a page of its own without JavaScript
    url = r.context["parts"]["grids_open"]
    assert 'hx-get="' + url.replace("&", "&amp;") + '"' in r.content.decode()
    part = client_for(command).get(url, headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.content.decode()
    assert [(row.label, row.open, row.overdue) for row in part.context["rows"]] == [
        (f"{world.grid_a.name} ({world.grid_a.code})", 4, 1)
    ]
    page = client_for(command).get(url)
    assert page.status_code == 200 and "<html" in page.content.decode() and world.grid_a.code in page.content.decode()
    overdue = client_for(command).get(r.context["parts"]["overdue"], headers={"HX-Request": "true"})
    assert [e.pk for e in overdue.context["overdue"]] == [late.pk]


def test_map_json_has_points_and_no_personal_data(world: Any, gov: Any, client_for: Any) -> None:
    worker = world.users["grid_fulltime"]
    lat, lon = POS["a"]
    e, _ = governance_events.report(
        worker,
        governance_events.Report(
            "C0101",
            lat,
            lon,
            description="井盖丢了,联系王小明",
            address="劳动三村 1 栋门口",
            reporter_name="王小明",
            reporter_phone="13912345678",
            attributes={"danger_now": "no", "cover": "missing"},
        ),
        channel="grid",
    )
    put_event(world, building=world.building_a, step="closed", created_at=t(1), closed_at=t(2))
    r = client_for(world.users["street_command"]).get(reverse("dashboard:map"))
    assert r.status_code == 200
    data = r.json()
    assert data["total_open"] == 1 and data["drawn"] == 1 and data["not_drawn"] == 0
    feat = data["features"][0]
    assert feat["properties"]["id"] == e.pk and feat["geometry"]["coordinates"] == [lon, lat]
    body = r.content.decode()
    for secret in ("王小明", "13912345678", "5678", "井盖丢了", "门口", "reporter", "phone", "description", "address"):
        assert secret not in body


@pytest.mark.dates
def test_map_json_caps_points_and_says_how_many_are_left(
    world: Any, gov: Any, client_for: Any, monkeypatch: Any
) -> None:
    from linli.dashboard import queries

    now = timezone.now()
    for i in range(5):
        put_event(world, step="handling", created_at=now - timedelta(hours=i), step_due_at=now + timedelta(hours=1))
    late = put_event(world, step="handling", created_at=now - timedelta(days=9), step_due_at=now - timedelta(hours=1))
    monkeypatch.setattr(queries, "MAP_CAP", 3)
    monkeypatch.setattr(queries.map_points, "__defaults__", (3,))
    data = client_for(world.users["district_admin"]).get(reverse("dashboard:map")).json()
    assert (data["total_open"], data["drawn"], data["not_drawn"]) == (6, 3, 3)
    assert data["features"][0]["properties"]["id"] == late.pk and data["features"][0]["properties"]["overdue"]


def test_export_opens_and_matches_the_page(world: Any, gov: Any, march: Any, client_for: Any) -> None:
    march["e1"].reporter_name = "王小明"
    march["e1"].save()
    c = client_for(world.users["street_command"])
    page = c.get(reverse("dashboard:index"), MARCH)
    before = AccessLog.objects.filter(what=AccessLog.What.EXPORT).count()
    assert c.get(reverse("dashboard:export"), MARCH).status_code == 200  # the button; nothing written
    assert AccessLog.objects.filter(what=AccessLog.What.EXPORT).count() == before
    run, r = bg.export_file(c, reverse("dashboard:export") + "?" + urlencode(MARCH))
    assert r["Content-Type"].startswith("application/vnd.openxmlformats") and run.kind == "dashboard.export"
    assert run.total == run.done > 0
    assert AccessLog.objects.filter(what=AccessLog.What.EXPORT).count() == before + 1
    log = AccessLog.objects.filter(what=AccessLog.What.EXPORT).latest("pk")
    assert log.user == world.users["street_command"] and log.path == world.street1.path
    wb = load_workbook(io.BytesIO(bg.content(r)), read_only=True)
    assert wb.sheetnames == ["说明 about", "部门 departments", "网格 grids", "类别 categories", "事件 events"]
    dept = {row[0]: row[1:] for row in wb["部门 departments"].iter_rows(min_row=2, values_only=True)}
    for row in page.context["rates"].by_department:
        cnt = row.counts
        got = (*dept[row.label], *([None] * 7))[:7]
        assert got[:4] == (cnt.due, cnt.closed, cnt.on_time, cnt.reworked)
        assert [None if v is None else float(v) for v in got[4:]] == [
            None if v is None else float(v) for v in (cnt.closure_rate, cnt.on_time_rate, cnt.rework_rate)
        ]
    grids = {row[0]: row[1] for row in wb["网格 grids"].iter_rows(min_row=2, values_only=True)}
    by_grid = c.get(page.context["parts"]["grids_rates"], headers={"HX-Request": "true"}).context["rows"]
    assert by_grid and grids == {row.label: row.counts.due for row in by_grid}
    cats = list(wb["类别 categories"].iter_rows(min_row=2, values_only=True))
    assert sum(r[1] for r in cats) == page.context["rates"].total.due == 4
    events = list(wb["事件 events"].iter_rows(values_only=True))
    ids = {row[0] for row in events[1:]}
    # reported or due in March, street 1 only: e1 e2 e3 e4 e5 (reported) e8 (due) — not e6? e6 was reported in March
    assert ids == {march[k].pk for k in ("e1", "e2", "e3", "e4", "e5", "e6", "e8")}
    flat = " ".join(str(v) for row in events for v in row)
    assert "王小明" not in flat and "reporter" not in flat.lower()


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
@pytest.mark.parametrize(
    ("params", "zh", "en"),
    [
        ({"start": "2024-02-30", "end": "2024-03-31"}, "日期格式不正确", "date must be YYYY-MM-DD"),
        ({"start": "2024-03-31", "end": "2024-03-01"}, "结束日期早于开始日期", "The end date is before the start date"),
        ({"start": "2021-01-01", "end": "2024-03-01"}, "时间段最长", "A period is at most"),
        ({"start": "2024-03-01"}, "请同时填写开始和结束日期", "Give both a start and an end date"),
        ({"preset": "forever"}, "未知的时间段", "Unknown period"),
        ({"start": "x" * 5000, "end": "2024-03-01"}, "日期格式不正确", "date must be YYYY-MM-DD"),
    ],
)
def test_bad_period_is_a_400_in_the_page_language(
    world: Any, client_for: Any, params: dict[str, str], zh: str, en: str, english: bool
) -> None:
    """A bad period is a 400 that says what is wrong in the page's language only (issue 12: pages
    speak one language; the API keeps both)."""
    c = client_for(world.users["street_command"])
    if english:
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    said, unsaid = (en, zh) if english else (zh, en)
    for name in ("dashboard:index", "dashboard:export", "dashboard:export POST", "dashboard:part"):
        url = reverse(name.split()[0], args=["grids-rates"] if name == "dashboard:part" else [])
        r = bg.start(c, url + "?" + urlencode(params)) if name.endswith("POST") else c.get(url, params)
        assert r.status_code == 400, (name, params)
        body = r.content.decode()
        assert said in body and unsaid not in body, (name, body[:500])
    assert AccessLog.objects.filter(what=AccessLog.What.EXPORT).count() == 0


DASHBOARD_URLS = ("dashboard:index", "dashboard:map", "dashboard:export")


def test_dashboard_matrix(world: Any, gov: Any, client_for: Any) -> None:
    """Every role on every command-centre URL: those with EVENTS somewhere get their scoped figures
    (200); the others a 403 (there is no object to hide); anonymous users go to sign in."""
    allowed = {
        "district_admin",
        "street_command",
        "community_worker",
        "grid_leader",
        "grid_fulltime",
        "grid_parttime",
        "grid_instructor",
        "outsider",
        "cg_staff",
    }
    people = {**world.users, "outsider": world.outsider, "cg_staff": gov.cg_staff}
    assert {"grid_force", "resident", "operator", "department_staff"} <= set(people)
    for role, user in people.items():
        c = client_for(user)
        for url in _urls():
            r = c.get(url)
            expected = 200 if role in allowed else 403
            assert r.status_code == expected, (role, url, r.status_code)
    from django.test import Client

    for url in _urls():
        r = Client().get(url)
        assert r.status_code == 302 and "login" in r["Location"]


def _urls() -> list[str]:
    parts = [reverse("dashboard:part", args=[p]) for p in ("grids-open", "grids-rates", "overdue")]
    return [reverse(name) for name in DASHBOARD_URLS] + parts


def test_unknown_part_is_a_bilingual_404(world: Any, client_for: Any) -> None:
    r = client_for(world.users["street_command"]).get(reverse("dashboard:part", args=["nope"]))
    assert r.status_code == 404 and "没有这一部分" in r.content.decode()
