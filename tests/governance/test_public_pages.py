"""The public map of reported problems, its GeoJSON feed, the public page of one problem, "me too" and
follow through the pages, 我关注的问题, and the matrix of every role (and nobody signed in) on them.

What must never show: the reporter's name, phone, e-mail, own position or words, staff names, ID
numbers; voided cases; categories about a person. What must show: category, status, dates, compound
and building, the "me too" count."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from linli.governance.models import Event, Follow, Support
from linli.governance.services import events as svc
from linli.governance.services import public
from tests import factories as f
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"
NAME = "欧阳翠花"
WORDS = f"302室的{NAME}说电话{PHONE},身份证{ID_NUMBER},井盖在楼道口"
# the reporter stands ~40 m from building A: the public sees the building's position, never this one
AT = (POS["a"][0] + 0.00037, POS["a"][1] + 0.00021)
SECRETS = (PHONE, "1381", "5678", ID_NUMBER, "110105", NAME, "欧阳", "302室", "井盖在楼道口", "reporter@example.com")


def person(username: str | None = None) -> Any:
    """A signed-in person with no role anywhere (a resident of somewhere else, say)."""
    return f.UserFactory(username=username) if username else f.UserFactory()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def url(name: str, *args: Any) -> str:
    return reverse(f"governance:{name}", args=args)


def hotline(world: Any, code: str = "C0102", at: tuple[float, float] = AT, who: str = "street_command") -> Event:
    data = svc.Report(
        code,
        *at,
        description=WORDS,
        address=f"{NAME}家门口",
        reporter_name=NAME,
        reporter_phone=PHONE,
        reporter_email="reporter@example.com",
    )
    user = world.admin if who == "admin" else world.users[who]
    event, _ = svc.report(user, data, channel="hotline")
    return event


def handled(world: Any, gov: Any) -> Event:
    """A case that went the whole way: registered, dispatched, accepted, reported back with a note,
    closed — so the staff's names and notes are in its history."""
    command, worker = world.users["street_command"], world.users["grid_fulltime"]
    event = hotline(world)
    event = svc.act(command, event, "dispatch", department=gov.cg)
    event = svc.act(gov.cg_staff, event, "accept")
    event = svc.act(gov.cg_staff, event, "report", note=f"已联系{NAME},电话{PHONE}")
    return svc.act(worker, event, "verify_pass", note="复查时住户很满意")


def no_secrets(text: str, world: Any, gov: Any) -> None:
    for s in (*SECRETS, f"{AT[0]:.5f}", f"{AT[1]:.5f}", "street_command", "grid_fulltime", gov.cg_staff.username):
        assert s not in text, s


def test_the_map_page_lists_public_problems_with_no_personal_data(
    world: Any, gov: Any, client: Any, django_assert_max_num_queries: Any
) -> None:
    closed = handled(world, gov)
    waiting = hotline(world)
    dispute = hotline(world, "E0206")  # about people: never public
    voided = svc.act(world.users["street_command"], hotline(world), "void", note="重复")
    with django_assert_max_num_queries(12):
        r = client.get(url("public_map"))
    assert r.status_code == 200
    text = r.content.decode()
    no_secrets(text, world, gov)
    rows = {x["pk"] for x in r.context["rows"]}
    assert rows == {closed.pk, waiting.pk}
    assert dispute.pk not in rows and voided.pk not in rows
    assert "已办结" in text and "待处理" in text  # status in words, not colour only
    assert 'class="as-cards"' in text and 'data-label="' in text
    assert f"{world.compound_a.name} {world.building_a.name}" in text
    # filters: status, category, community; unknown values ignored
    assert [x["pk"] for x in client.get(url("public_map"), {"status": "closed"}).context["rows"]] == [closed.pk]
    assert [x["pk"] for x in client.get(url("public_map"), {"status": "waiting"}).context["rows"]] == [waiting.pk]
    assert client.get(url("public_map"), {"category": "E0206"}).context["filters"].category == ""
    assert len(client.get(url("public_map"), {"community": world.comm_b.pk}).context["rows"]) == 0
    assert (
        len(client.get(url("public_map"), {"community": "x'--", "status": "nope", "page": "-3"}).context["rows"]) == 2
    )
    # hidden categories are not offered as filters
    assert "E0206" not in {c.code for c in r.context["categories"]}


def test_the_list_is_paged(world: Any, gov: Any, client: Any, settings: Any) -> None:
    settings.LINLI_PUBLIC_MAP_LIMIT = 22
    for _ in range(23):
        hotline(world)
    r = client.get(url("public_map"))
    assert len(r.context["rows"]) == 20 and r.context["page"].pages == 2
    assert "地图显示最新的 22 个问题" in r.content.decode()  # the map has fewer than the list
    assert len(client.get(url("public_map"), {"page": "2"}).context["rows"]) == 3


def test_geojson_is_bounded_puts_problems_at_their_building_and_is_cached(
    world: Any, gov: Any, client: Any, settings: Any
) -> None:
    settings.LINLI_PUBLIC_MAP_CACHE_SECONDS = 60
    a = hotline(world)
    b = hotline(world, at=POS["b"])
    hotline(world, "E0209")  # hardship: never public
    r = client.get(url("public_geojson"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/geo+json")
    assert "max-age=60" in r["Cache-Control"]
    data = r.json()
    no_secrets(r.content.decode(), world, gov)
    by_id = {x["properties"]["id"]: x for x in data["features"]}
    assert set(by_id) == {a.pk, b.pk}
    # at the building, not where the reporter stood
    assert by_id[a.pk]["geometry"]["coordinates"] == [round(world.building_a.lon, 6), round(world.building_a.lat, 6)]
    assert by_id[a.pk]["properties"]["status"] == "waiting" and by_id[a.pk]["properties"]["color"]
    assert by_id[a.pk]["properties"]["url"] == url("public_event", a.pk)
    assert (
        by_id[a.pk]["properties"]["name"]
        == f"#{a.pk} 路灯不亮 · {world.compound_a.name} {world.building_a.name} · 待处理"
    )
    assert set(by_id[a.pk]["properties"]) == {
        "id",
        "kind",
        "name",
        "category",
        "status",
        "color",
        "supports",
        "reported",
        "url",
    }
    # bbox (west,south,east,north) around building A only; limit
    lat, lon = POS["a"]
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    assert [x["properties"]["id"] for x in client.get(url("public_geojson"), {"bbox": box}).json()["features"]] == [
        a.pk
    ]
    one = client.get(url("public_geojson"), {"limit": "1"}).json()
    assert len(one["features"]) == 1 and one["truncated"] is True
    # bad input: a clear 400 in both languages
    for params in ({"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "10,5,0,6"}, {"limit": "0"}, {"limit": "9999"}):
        bad = client.get(url("public_geojson"), params)
        assert bad.status_code == 400, params
        assert bad.json()["errors"][0]["zh"] and bad.json()["errors"][0]["en"]
    # cached briefly: a new problem shows after the cache's seconds (here: after clearing it)
    c = hotline(world)
    assert c.pk not in {x["properties"]["id"] for x in client.get(url("public_geojson")).json()["features"]}
    cache.clear()
    assert c.pk in {x["properties"]["id"] for x in client.get(url("public_geojson")).json()["features"]}
    settings.LINLI_PUBLIC_MAP_CACHE_SECONDS = 0
    d = hotline(world)
    assert d.pk in {x["properties"]["id"] for x in client.get(url("public_geojson")).json()["features"]}


def test_a_case_without_a_building_position_is_rounded(world: Any, gov: Any, client: Any, settings: Any) -> None:
    settings.LINLI_PUBLIC_MAP_CACHE_SECONDS = 0
    event = hotline(world)
    world.building_a.__class__.objects.filter(pk=world.building_a.pk).update(lat=None, lon=None)
    feature = client.get(url("public_geojson")).json()["features"][0]
    assert feature["properties"]["id"] == event.pk
    assert feature["geometry"]["coordinates"] == [round(AT[1], 3), round(AT[0], 3)]


def test_the_public_page_of_a_problem(world: Any, gov: Any, client: Any) -> None:
    event = handled(world, gov)
    Support.objects.create(event=event, user=person(), at=event.created_at)
    r = client.get(url("public_event", event.pk))
    assert r.status_code == 200
    text = r.content.decode()
    no_secrets(text, world, gov)
    assert "已联系" not in text and "复查时住户很满意" not in text  # staff notes are not shown (free text)
    assert f"{world.compound_a.name} {world.building_a.name}" in text
    assert "已办结" in text and gov.cg.name in text
    assert event.created_at and event.dispatched_at and event.closed_at
    steps = [s["to"] for s in r.context["steps"]]
    assert steps[:1] == [""] and "任务派遣" in steps and "核查结案" in steps
    assert 'data-testid="support-count"' in text and "1 人" in text
    assert r.context["part"].supports == 1
    # closed: no button to sign in for a +1
    assert 'data-testid="support-login"' not in text and 'data-testid="closed-note"' in text


def test_voided_and_private_problems_have_no_public_page(world: Any, gov: Any, client: Any) -> None:
    voided = svc.act(world.users["street_command"], hotline(world), "void", note="重复")
    assert client.get(url("public_event", voided.pk)).status_code == 404
    assert client.get(url("public_event", hotline(world, "E0210").pk)).status_code == 404
    assert client.get(url("public_event", 987654)).status_code == 404
    assert client.get("/governance/public/99999999999999999999/").status_code in (400, 404)


def test_me_too_through_the_page(world: Any, gov: Any, client: Any, client_for: Any) -> None:
    event = hotline(world)
    page = url("public_event", event.pk)
    # not signed in: the button leads to sign-in and back
    text = client.get(page).content.decode()
    assert f'href="/accounts/login/?next=%2Fgovernance%2Fpublic%2F{event.pk}%2F"' in text
    r = client.post(url("public_support", event.pk), {"do": "add"})
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/") and "public" in r["Location"]
    assert not Support.objects.exists()
    neighbour = person("neighbour")
    c = client_for(neighbour)
    assert 'data-testid="support"' in c.get(page).content.decode()
    r = c.post(url("public_support", event.pk), {"do": "add", "next": page})
    assert r.status_code == 302 and r["Location"] == page
    r = c.post(url("public_support", event.pk), {"do": "add", "next": page})  # the double submit
    assert r.status_code == 302
    assert Support.objects.filter(event=event).count() == 1
    text = c.get(page).content.decode()
    assert 'data-testid="unsupport"' in text and 'data-testid="unfollow"' in text
    # an outside "next" is not followed
    r = c.post(url("public_follow", event.pk), {"do": "add", "next": "https://evil.example/"})
    assert r["Location"] == page
    # bad input: a clear 400, nothing written
    r = c.post(url("public_support", event.pk), {"do": "both"})
    assert r.status_code == 400 and "未知的操作" in r.content.decode()
    assert c.get(url("public_support", event.pk)).status_code == 405
    # the reporter (signed in) is told why not
    svc.act(world.users["street_command"], event, "void", note="重复")
    r = c.post(url("public_support", event.pk), {"do": "add"})
    assert r.status_code == 404  # voided: gone from the public


def test_me_too_on_a_closed_problem_is_refused_with_a_message(world: Any, gov: Any, client_for: Any) -> None:
    event = handled(world, gov)
    c = client_for(person("late"))
    r = c.post(url("public_support", event.pk), {"do": "add"})
    assert r.status_code == 409
    assert "已办结或已作废" in r.content.decode()
    assert not Support.objects.exists() and not Follow.objects.exists()


def test_problems_i_follow(world: Any, gov: Any, client: Any, client_for: Any) -> None:
    a, b = hotline(world), hotline(world, at=POS["b"])
    me = person("me")
    public.support(me, a)
    public.follow(me, b)
    c = client_for(me)
    r = c.get(url("public_following"))
    assert r.status_code == 200
    assert [x["pk"] for x in r.context["rows"]] == [b.pk, a.pk]
    assert [x["by_support"] for x in r.context["rows"]] == [False, True]
    assert f'href="/governance/public/{a.pk}/"' in r.content.decode()
    # the workbench links to it
    assert url("public_following") in c.get(reverse("workbench:home")).content.decode()
    r = client.get(url("public_following"))
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_the_case_page_shows_the_count_to_staff(world: Any, gov: Any, client_for: Any) -> None:
    event = hotline(world)
    for _ in range(3):
        public.support(person(), event)
    r = client_for(world.users["street_command"]).get(url("event_detail", event.pk))
    assert r.status_code == 200 and r.context["part"].supports == 3
    text = r.content.decode()
    assert 'data-testid="support-count"' in text and "3 人" in text
    assert f'href="/governance/public/{event.pk}/"' in text


def test_the_report_page_offers_me_too_on_a_public_duplicate(world: Any, gov: Any, client_for: Any) -> None:
    event = hotline(world)
    lat, lon = POS["a"]
    resident = client_for(world.users["resident"])
    r = resident.get(url("event_nearby"), {"category": "C0102", "lat": lat, "lon": lon})
    text = r.content.decode()
    assert 'data-testid="nearby-public"' in text
    assert f"/governance/public/{event.pk}/?support=1#take-part" in text
    no_secrets(text, world, gov)
    # another category: nothing offered; a private category: never offered
    private = hotline(world, "E0206")
    r = resident.get(url("event_nearby"), {"category": "E0206", "lat": lat, "lon": lon})
    assert f"/governance/public/{private.pk}/" not in r.content.decode()


def test_public_pages_matrix(world: Any, gov: Any, client: Any, client_for: Any) -> None:
    """Every role, and nobody signed in, on every public page: the map, its feed and a public problem
    200 for all; a problem of a private category 404 for all on the public page; "me too" and follow
    for anyone signed in (302 back), to sign in for nobody; 我关注的问题 for anyone signed in."""
    open_a = hotline(world, who="admin")
    private = hotline(world, "E0206", who="admin")
    users: dict[str, Any] = {**world.users, "outsider": world.outsider, "cg_staff": gov.cg_staff, "anonymous": None}
    failures = []
    for role, user in users.items():
        c = client_for(user) if user is not None else client
        for name, args, want in (
            ("public_map", (), 200),
            ("public_geojson", (), 200),
            ("public_event", (open_a.pk,), 200),
            ("public_event", (private.pk,), 404),
            ("public_following", (), 302 if user is None else 200),
        ):
            got = c.get(url(name, *args)).status_code
            if got != want:
                failures.append(f"{role} {name} {args} → {got}, expected {want}")
        for name in ("public_support", "public_follow"):
            r = c.post(url(name, open_a.pk), {"do": "add"})
            ok = r.status_code == 302 and (
                r["Location"].startswith("/accounts/login/")
                if user is None
                else r["Location"] == url("public_event", open_a.pk)
            )
            if not ok:
                failures.append(f"{role} {name} → {r.status_code}")
            # a private case exists only for those who see it (the handling chain in community A)
            got = c.post(url(name, private.pk), {"do": "add"}).status_code
            sees = role in {"district_admin", "street_command", "community_worker"} or (
                role.startswith("grid_") and role != "grid_force"
            )
            want = 302 if user is None or sees else 404
            if got != want:
                failures.append(f"{role} {name} private → {got}, expected {want}")
    assert not failures, "\n".join(failures)
    signed_in = len(users) - 1  # everyone but nobody
    assert Support.objects.filter(event=open_a).count() == signed_in


@pytest.mark.parametrize("english", [False, True], ids=["chinese", "english"])
def test_the_public_pages_speak_one_language(world: Any, gov: Any, client: Any, english: bool) -> None:
    """Every public page (and the "me too" part of the staff case page) in Chinese has no English word, and
    in English no Chinese one, outside data and codes (the check of tests/core/test_one_language.py)."""
    from tests.core.test_one_language import stored_texts, strays

    event = handled(world, gov)
    waiting = hotline(world)
    me = person("me")
    public.support(me, waiting)
    if english:
        client.cookies["django_language"] = "en"
    data = stored_texts(english)
    cache_: dict[str, bool] = {}
    found = []
    pages = [url("public_map"), url("public_event", event.pk), url("public_event", waiting.pk)]
    for path in pages:
        found += [f"{path}: {s}" for s in strays(client.get(path).content.decode(), english, data, cache_)]
    client.force_login(me)
    for path in (url("public_following"), url("public_event", waiting.pk)):
        found += [f"{path}: {s}" for s in strays(client.get(path).content.decode(), english, data, cache_)]
    client.force_login(world.users["street_command"])
    path = url("event_detail", waiting.pk)
    html = client.get(path).content.decode()
    part = html[html.index('id="part-h"') - 4 : html.index("</div>", html.index('data-testid="take-part"')) + 6]
    found += [f"{path}: {s}" for s in strays(f"<main>{part}</main>", english, data, cache_)]
    assert not found, "\n".join(found)


def test_the_queues_show_the_count(world: Any, gov: Any, client_for: Any) -> None:
    counted, plain = hotline(world), hotline(world)
    svc.act(world.users["street_command"], counted, "dispatch", department=gov.cg)
    svc.act(world.users["street_command"], plain, "dispatch", department=gov.cg)
    for _ in range(2):
        public.support(person(), counted)
    html = client_for(gov.cg_staff).get(reverse("governance:queue_department")).content.decode()
    assert f'data-testid="supports-{counted.pk}">2 人<' in html
    assert f'data-testid="supports-{plain.pk}"' not in html
