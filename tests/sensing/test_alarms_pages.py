"""The alarm pages (issue 13 §5): the board (scoped, filters, trapped band, counts, htmx refresh,
paging, a fixed number of queries), one alarm's page with the acknowledge / clear forms, the map
layer's points, and the permission matrix of all four routes for every role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linli.sensing.models import Alarm, AlarmLog
from linli.sensing.services import alarms as svc
from linli.sensing.services import devices as sensing_devices
from linli.sensing.transitions import Transition

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)


def raise_(device: Any, alarm_type: str = "battery_low", severity: str = "warning", s: int = 0) -> Alarm:
    svc.apply([Transition(device.pk, None, alarm_type, severity, T0 + timedelta(seconds=s), "raise", 1.0)])
    return Alarm.objects.get(device=device, alarm_type=alarm_type, cleared=False)


@pytest.fixture
def alarms(world: Any, sensors: Any) -> dict[str, Alarm]:
    """One open alarm in each of communities A, B, C (grid A holds building A) and trapped passengers
    in A's lift. Severity "major": no grid event (the events have their own tests)."""
    return {
        "a": raise_(sensors.smoke_a, "battery_low", "major", 1),
        "b": raise_(sensors.smoke_b, "battery_low", "major", 2),
        "c": raise_(sensors.smoke_c, "battery_low", "major", 3),
        "trapped": raise_(sensors.lift, "trapped", "major", 4),
    }


# --- the permission matrix (tests/accounts/test_permission_matrix.py points here) --------------------

# In plain terms, where the world puts each role: which communities' alarms it sees with EVENTS,
# which it sees only as places (VIEW: a 403 instead of a 404), and where it may acknowledge (COMMAND).
EVENTS_AT = {
    "district_admin": "abc",
    "street_command": "ab",
    "community_worker": "a",
    "grid_leader": "a",
    "grid_fulltime": "a",
    "grid_parttime": "a",
    "grid_instructor": "a",
    "outsider": "b",
}
VIEW_ONLY_AT = {"grid_force": "a", "department_staff": "ab", "operator": "a"}
COMMAND_AT = {"district_admin": "abc", "street_command": "ab"}


def _users(world: Any) -> dict[str, Any]:
    return {**world.users, "outsider": world.outsider}


def test_alarm_pages_matrix(world: Any, alarms: dict[str, Alarm], client_for: Any) -> None:
    failures: list[str] = []
    for role, user in _users(world).items():
        c = client_for(user)
        sees = EVENTS_AT.get(role, "")
        board = c.get(reverse("sensing:alarm_board"))
        want = 200 if sees else 403
        if board.status_code != want:
            failures.append(f"{role} board → {board.status_code}, expected {want}")
        elif sees:
            shown = {k for k in "abc" if f'data-pk="{alarms[k].pk}"' in board.content.decode()}
            if shown != set(sees):
                failures.append(f"{role} board shows {sorted(shown)}, expected {sorted(sees)}")
        pts = c.get(reverse("sensing:alarm_map"))
        if pts.status_code != want:
            failures.append(f"{role} map → {pts.status_code}, expected {want}")
        elif sees:
            ids = {row[0] for row in pts.json()["alarms"]}
            expected = {alarms[k].pk for k in sees} | ({alarms["trapped"].pk} if "a" in sees else set())
            if ids != expected:
                failures.append(f"{role} map shows {sorted(ids)}, expected {sorted(expected)}")
        for k in "abc":
            a = alarms[k]
            want = 200 if k in sees else 403 if k in VIEW_ONLY_AT.get(role, "") else 404
            r = c.get(reverse("sensing:alarm_detail", args=[a.pk]))
            if r.status_code != want:
                failures.append(f"{role} detail {k} → {r.status_code}, expected {want}")
            act_want = 302 if k in COMMAND_AT.get(role, "") else 403 if want in (200, 403) else 404
            r = c.post(reverse("sensing:alarm_act", args=[a.pk]), {"do": "ack", "note": "matrix"})
            if r.status_code != act_want:
                failures.append(f"{role} ack {k} → {r.status_code}, expected {act_want}")
            Alarm.objects.filter(pk=a.pk).update(acknowledged=False)
    anonymous = Client()
    for name, args in (("alarm_board", []), ("alarm_map", []), ("alarm_detail", [alarms["a"].pk])):
        r = anonymous.get(reverse(f"sensing:{name}", args=args))
        if r.status_code != 302:
            failures.append(f"anonymous {name} → {r.status_code}, expected a redirect to sign in")
    assert not failures, "\n".join(failures)


# --- the board --------------------------------------------------------------------------------------


def test_board_trapped_band_counts_and_order(world: Any, alarms: dict[str, Alarm], client_for: Any) -> None:
    r = client_for(world.users["street_command"]).get(reverse("sensing:alarm_board"))
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="trapped-band"' in html and f"#{alarms['trapped'].pk}" in html
    assert 'data-testid="count-open">3<' in html  # A, B and A's trapped lift (C is street 2)
    assert 'data-testid="count-major"><a href="?severity=major#board-h">3<' in html
    # trapped passengers first in the list too
    assert html.index(f'data-pk="{alarms["trapped"].pk}"') < html.index(f'data-pk="{alarms["a"].pk}"')
    assert 'hx-trigger="every 10s"' in html and 'class="as-cards' in html


def test_board_filters_and_the_htmx_refresh_keeps_them(world: Any, alarms: dict[str, Alarm], client_for: Any) -> None:
    c = client_for(world.users["district_admin"])
    svc.acknowledge(world.users["district_admin"], alarms["b"])
    svc.clear(world.users["district_admin"], alarms["c"], "误报")
    cases = {
        "": {"a", "b", "trapped"},
        "?type=trapped": {"trapped"},
        f"?community={world.comm_b.pk}": {"b"},
        "?unack=1": {"a", "trapped"},
        "?status=active_ack": {"b"},
        "?status=cleared_unack": {"c"},  # clearing by hand does not acknowledge (ThingsBoard)
        "?status=cleared_ack": set(),
        "?status=all": {"a", "b", "c", "trapped"},
        "?severity=critical": set(),
        # unknown values are ignored, never a 500
        "?severity=boom&type=%00&community=abc&status=x&page=-1": {"a", "b", "trapped"},
    }
    for query, want in cases.items():
        r = c.get(reverse("sensing:alarm_board") + query)
        assert r.status_code == 200, query
        shown = {k for k, a in alarms.items() if f'data-pk="{a.pk}"' in r.content.decode()}
        assert shown == want, (query, shown)
    # the htmx refresh answers the live part alone, for the same filters
    r = c.get(reverse("sensing:alarm_board") + "?type=trapped", HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert html.startswith('<div id="board-live"') and "<html" not in html
    assert 'hx-get="/sensing/alarms/?type=trapped"' in html
    assert f'data-pk="{alarms["trapped"].pk}"' in html and f'data-pk="{alarms["a"].pk}"' not in html


def _board_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("sensing:alarm_board")).status_code == 200
    return len(ctx.captured_queries)


def test_board_queries_do_not_grow_with_the_alarms(world: Any, sensors: Any, client_for: Any) -> None:
    c = client_for(world.users["street_command"])
    raise_(sensors.smoke_a)
    few = _board_queries(c)
    for i in range(30):
        d = sensing_devices.create_device(None, code=f"SMOKE-X{i}", profile="smoke", building=world.building_b)
        raise_(d, "battery_low", "warning" if i % 2 else "minor", i)
        raise_(d, "offline", "minor", i)
    many = _board_queries(c)
    assert many == few, (few, many)
    r = c.get(reverse("sensing:alarm_board"))
    assert 'data-testid="pager"' in r.content.decode()  # 61 alarms: paged by 20


def test_map_layer_points_trapped_first(world: Any, alarms: dict[str, Alarm], client_for: Any) -> None:
    data = client_for(world.users["street_command"]).get(reverse("sensing:alarm_map")).json()
    first = data["alarms"][0]
    assert first[0] == alarms["trapped"].pk and first[3] == "trapped" and first[5] == 1
    assert (data["total_open"], data["drawn"], data["not_drawn"]) == (3, 3, 0)
    assert data["url"].replace("/0/", f"/{first[0]}/") == reverse("sensing:alarm_detail", args=[first[0]])
    assert data["types"]["trapped"] and data["severities"]["major"]


# --- one alarm --------------------------------------------------------------------------------------


def test_alarm_page_and_its_forms(world: Any, alarms: dict[str, Alarm], client_for: Any) -> None:
    c = client_for(world.users["street_command"])
    a = alarms["trapped"]
    url = reverse("sensing:alarm_detail", args=[a.pk])
    html = c.get(url).content.decode()
    assert 'data-testid="trapped"' in html and "LIFT-A1" in html
    # one form at a time: none shown until chosen (?do=… without JavaScript), then only that one
    assert 'data-testid="form-ack" hidden>' in html and 'data-testid="form-clear" hidden>' in html
    chosen = c.get(url + "?do=clear").content.decode()
    assert 'data-testid="form-ack" hidden>' in chosen and 'data-testid="form-clear">' in chosen
    # clearing needs a reason: a 400 with the message, nothing written
    r = c.post(reverse("sensing:alarm_act", args=[a.pk]), {"do": "clear", "note": " "})
    assert r.status_code == 400 and 'data-testid="errors"' in r.content.decode()
    assert not Alarm.objects.get(pk=a.pk).cleared
    # an unknown action is a 400
    assert c.post(reverse("sensing:alarm_act", args=[a.pk]), {"do": "boom"}).status_code == 400
    # acknowledge twice: one history entry, the second says it was done already
    for _ in range(2):
        r = c.post(reverse("sensing:alarm_act", args=[a.pk]), {"do": "ack", "note": "维保已出发"}, follow=True)
        assert r.status_code == 200
    assert AlarmLog.objects.filter(alarm=a, kind="acked").count() == 1
    r = c.post(reverse("sensing:alarm_act", args=[a.pk]), {"do": "clear", "note": "已救出,电梯停用检修"}, follow=True)
    html = r.content.decode()
    assert Alarm.objects.get(pk=a.pk).status == "cleared_ack"
    assert "已救出,电梯停用检修" in html and 'data-testid="move-list"' not in html  # nothing left to do
    assert c.get(reverse("sensing:alarm_detail", args=[999_999_999])).status_code == 404


def test_pages_speak_one_language(world: Any, alarms: dict[str, Alarm], client_for: Any) -> None:
    c = client_for(world.users["street_command"])
    zh = c.get(reverse("sensing:alarm_board")).content.decode()
    assert "报警" in zh
    c.cookies["django_language"] = "en"
    en = c.get(reverse("sensing:alarm_detail", args=[alarms["a"].pk])).content.decode()
    assert "History" in en and "What you can do now" in en


def test_workbench_card_of_the_command_centre(world: Any, alarms: dict[str, Alarm], client_for: Any) -> None:
    svc.acknowledge(world.users["street_command"], alarms["b"])
    html = client_for(world.users["street_command"]).get(reverse("workbench:home")).content.decode()
    assert 'data-testid="wb-list-alarms"' in html
    assert 'data-testid="wb-count-alarms">2<' in html  # A and A's trapped lift; B acknowledged, C street 2
    assert html.index(f"#{alarms['trapped'].pk} ") < html.index(f"#{alarms['a'].pk} ")
    assert reverse("sensing:alarm_board") + "?unack=1" in html
    # a community worker sees alarms (EVENTS) but handles none: no card
    worker = client_for(world.users["community_worker"]).get(reverse("workbench:home")).content.decode()
    assert 'data-testid="wb-list-alarms"' not in worker
