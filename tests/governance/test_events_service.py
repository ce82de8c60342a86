"""The grid-event services (services/events.py): intake from every channel, routing, every move of
the loop with its refusals, department requests and their approval, duplicates, the reporter's
contact and the escalation of overdue cases. Every refusal checks that nothing was written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from linli.accounts.models import AccessLog, Department
from linli.accounts.permissions import forget_grants
from linli.accounts.services import grant_role
from linli.core.errors import LinliError
from linli.governance import loop
from linli.governance.loop import Move, Step
from linli.governance.models import Category, Event, EventLog, EventPhoto, EventRequest, RoutingRule
from linli.governance.services import events as svc
from linli.places import models as m
from tests import factories as f
from tests.governance.conftest import POS
from tests.renewal.conftest import png

pytestmark = pytest.mark.django_db

MANHOLE = {"danger_now": "no", "cover": "broken"}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


# --- helpers ----------------------------------------------------------------------------------------


def refused(call: Callable[[], Any], status: int, *codes: str) -> LinliError:
    with pytest.raises(LinliError) as exc:
        call()
    assert exc.value.status == status, exc.value
    if codes:
        assert {p.code for p in exc.value.problems} == set(codes), exc.value
    for p in exc.value.problems:
        assert p.zh and p.en and p.zh != p.en
    return exc.value


def counts() -> tuple[int, int, int, int]:
    return (Event.objects.count(), EventLog.objects.count(), EventPhoto.objects.count(), EventRequest.objects.count())


def row(event: Event) -> dict[str, Any]:
    return Event.objects.filter(pk=event.pk).values().get()


def resident_report(world: Any, category: str = "C0102", pos: str = "a", **kw: Any) -> Event:
    kw.setdefault("lat", POS[pos][0])
    kw.setdefault("lon", POS[pos][1])
    event, created = svc.report(world.users["resident"], svc.Report(category, **kw), channel="resident")
    assert created
    return event


def at_step(world: Any, gov: Any, step: Step, category: str = "C0102") -> Event:
    """A street-light case (component, owner 城管 gov.cg) at building A, moved to ``step`` by the
    people whose move it is."""
    command, worker = world.users["street_command"], world.users["grid_fulltime"]
    event = resident_report(world, category)
    if step == Step.COLLECTED:
        return event
    event = svc.act(command, event, "register")
    if step == Step.VOIDED:
        return svc.act(command, event, "void", note="不是问题")
    for move, who, kw in (
        ("dispatch", command, {}),
        ("accept", gov.cg_staff, {}),
        ("report", gov.cg_staff, {"note": "已修复"}),
        ("verify_pass", worker, {}),
        ("evaluate", command, {"score": 4}),
    ):
        if event.step == step:
            return event
        event = svc.act(who, event, move, **kw)
    assert event.step == step
    return event


# --- intake -----------------------------------------------------------------------------------------


def test_grid_worker_reports_in_own_grid(world: Any, gov: Any) -> None:
    lat, lon = POS["a"]
    event, created = svc.report(
        world.users["grid_fulltime"], svc.Report("C0102", lat, lon, description="路灯不亮"), channel="grid"
    )
    assert created and event.step == Step.COLLECTED and event.channel == "grid"
    assert (event.building, event.grid, event.community, event.street) == (
        world.building_a,
        world.grid_a,
        world.comm_a,
        world.street1,
    )
    assert event.path == world.building_a.path and event.kind == "component" and event.sector == "livelihood"
    assert event.step_due_at is not None and event.step_due_at > event.created_at
    assert list(event.log.values_list("move", flat=True)) == ["create"]


def test_grid_channel_needs_report_at_the_place(world: Any, gov: Any) -> None:
    before = counts()
    # a grid worker outside their grid: the place is not theirs → 404
    lat, lon = POS["b"]
    with pytest.raises(Http404):
        svc.report(world.users["grid_fulltime"], svc.Report("C0102", lat, lon), channel="grid")
    # someone who sees the place but may not report as a grid worker → 403
    lat, lon = POS["a"]
    with pytest.raises(PermissionDenied):
        svc.report(world.users["operator"], svc.Report("C0102", lat, lon), channel="grid")
    with pytest.raises(PermissionDenied):
        svc.report(world.users["department_staff"], svc.Report("C0102", lat, lon), channel="grid")
    # a resident does not even see the building as a place of work → refused as not found
    with pytest.raises(Http404):
        svc.report(world.users["resident"], svc.Report("C0102", lat, lon), channel="grid")
    assert counts() == before


@pytest.mark.parametrize("channel", ["hotline", "task"])
def test_hotline_and_task_need_command_and_are_registered_at_once(world: Any, gov: Any, channel: str) -> None:
    lat, lon = POS["b"]
    event, _ = svc.report(world.users["street_command"], svc.Report("E0201", lat, lon), channel=channel)
    assert event.step == Step.REGISTERED
    assert event.step_due_at == event.step_started_at + timedelta(hours=loop.DEFAULT_LIMITS["dispatch"])
    assert list(event.log.values_list("move", "step_from", "step_to")) == [
        ("create", "", "collected"),
        ("register", "collected", "registered"),
    ]
    before = counts()
    with pytest.raises(PermissionDenied):  # a grid worker sees the place but is not the centre
        svc.report(world.users["grid_fulltime"], svc.Report("E0201", *POS["a"]), channel=channel)
    with pytest.raises(Http404):  # the street-1 command centre knows nothing of street 2
        svc.report(world.users["street_command"], svc.Report("E0201", *POS["c"]), channel=channel)
    assert counts() == before


def test_resident_channel_for_any_signed_in_user(world: Any, gov: Any) -> None:
    nobody = f.UserFactory(username="no_roles")
    for user in (nobody, world.users["resident"], world.outsider, world.users["grid_fulltime"]):
        event, created = svc.report(user, svc.Report("E0201", *POS["c"]), channel="resident")
        assert created and event.step == Step.COLLECTED and event.reporter == user
        assert event.source == f"u:{user.pk}"
    # the command centre reporting through any channel registers at once
    event, _ = svc.report(world.users["street_command"], svc.Report("E0201", *POS["a"]), channel="resident")
    assert event.step == Step.REGISTERED


def test_unauthenticated_refused(world: Any, gov: Any) -> None:
    for actor in (None, AnonymousUser()):
        refused(lambda a=actor: svc.report(a, svc.Report("E0201", *POS["a"]), channel="resident"), 403, "not_signed_in")
    assert counts() == (0, 0, 0, 0)


def test_open311_client_reports_with_its_source(world: Any, gov: Any) -> None:
    event, created = svc.report(
        None, svc.Report("E0201", *POS["a"]), channel="open311", source="k:7", actor_label="Open311: app"
    )
    assert created and event.reporter is None and event.source == "k:7" and event.step == Step.COLLECTED
    assert event.log.get().actor_label == "Open311: app"


def test_bad_channel_and_category(world: Any, gov: Any) -> None:
    user = world.users["resident"]
    refused(lambda: svc.report(user, svc.Report("E0201", *POS["a"]), channel="fax"), 400, "bad_channel")
    refused(lambda: svc.report(user, svc.Report("X9999", *POS["a"]), channel="resident"), 400, "unknown_category")
    Category.objects.filter(code="E0201").update(active=False)
    refused(lambda: svc.report(user, svc.Report("E0201", *POS["a"]), channel="resident"), 400, "unknown_category")
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (0.0, 0.0, "outside_jurisdiction"),
        (29.53, 106.53, "outside_jurisdiction"),  # 1.4 km from building C, nothing nearer
        ("abc", 106.5, "bad_location"),
        ("nan", 106.5, "bad_location"),
        ("inf", 106.5, "bad_location"),
        (91, 106.5, "bad_location"),
        (29.5, -181, "bad_location"),
        ([1], 106.5, "bad_location"),
        (None, 106.5, "location_required"),
        ("", "", "location_required"),
    ],
)
def test_bad_or_outside_location(world: Any, gov: Any, lat: Any, lon: Any, code: str) -> None:
    refused(lambda: svc.report(world.users["resident"], svc.Report("E0201", lat, lon), channel="resident"), 400, code)
    assert counts() == (0, 0, 0, 0)


def test_location_outside_the_given_jurisdiction(world: Any, gov: Any) -> None:
    # building C exists, but not under street 1
    call = lambda: svc.report(  # noqa: E731
        world.users["resident"], svc.Report("E0201", *POS["c"]), channel="resident", jurisdiction=world.street1.path
    )
    refused(call, 400, "outside_jurisdiction")
    assert counts() == (0, 0, 0, 0)


def test_position_snaps_to_the_nearest_building(world: Any, gov: Any) -> None:
    lat, lon = POS["b"]
    event = resident_report(world, "E0201", lat=lat - 0.0005, lon=lon)  # ~55 m south of building B
    assert event.building == world.building_b and event.grid == world.grid_b
    assert (event.lat, event.lon) == (lat - 0.0005, lon)  # the reported position is kept


def test_building_picked_instead_of_a_position(world: Any, gov: Any) -> None:
    user = world.users["resident"]
    event, _ = svc.report(user, svc.Report("E0201", building=world.building_b.pk), channel="resident")
    assert event.building == world.building_b and (event.lat, event.lon) == POS["b"]
    assert event.community == world.comm_b and event.address
    # a picked building outside the jurisdiction, or not existing, or without coordinates
    refused(
        lambda: svc.report(
            user, svc.Report("E0201", building=world.building_c.pk), channel="resident", jurisdiction=world.street1.path
        ),
        400,
        "unknown_building",
    )
    refused(
        lambda: svc.report(user, svc.Report("E0201", building=999_999), channel="resident"), 400, "unknown_building"
    )
    m.Building.objects.filter(pk=world.building_c.pk).update(lat=None, lon=None)
    refused(
        lambda: svc.report(user, svc.Report("E0201", building=world.building_c.pk), channel="resident"),
        400,
        "bad_location",
    )
    assert Event.objects.count() == 1


def test_attributes_validated(world: Any, gov: Any) -> None:
    user = world.users["resident"]

    def rep(attrs: dict[str, Any]) -> Any:
        return lambda: svc.report(user, svc.Report("C0101", *POS["a"], attributes=attrs), channel="resident")

    refused(rep({}), 400, "attribute_required")
    assert len(refused(rep({}), 400).problems) == 2  # both required attributes named
    refused(rep({**MANHOLE, "colour": "red"}), 400, "unknown_attribute")
    refused(rep({"danger_now": "maybe", "cover": "broken"}), 400, "bad_attribute")
    refused(rep({"danger_now": "no", "cover": ["broken", "nonsense"]}), 400, "bad_attribute")
    refused(rep({"danger_now": " ", "cover": "broken"}), 400, "attribute_required")  # blank is not given
    refused(rep(["danger_now"]), 400, "bad_attributes")  # type: ignore[arg-type]
    assert counts() == (0, 0, 0, 0)
    event, _ = svc.report(
        user, svc.Report("C0101", *POS["a"], attributes={**MANHOLE, "cover": " loose "}), channel="resident"
    )
    assert event.attributes == {"danger_now": "no", "cover": "loose"}


def test_number_and_multivalue_attributes(world: Any, gov: Any) -> None:
    Category.objects.create(
        code="T0001",
        name="测试",
        kind="incident",
        sector="livelihood",
        attributes=[
            {"code": "people", "zh": "人数", "en": "People", "datatype": "number", "required": False, "values": []},
            {
                "code": "what",
                "zh": "什么",
                "en": "What",
                "datatype": "multivaluelist",
                "required": False,
                "values": [["a", "甲", "A"], ["b", "乙", "B"]],
            },
        ],
    )
    user = world.users["resident"]
    refused(
        lambda: svc.report(user, svc.Report("T0001", *POS["a"], attributes={"people": "many"}), channel="resident"),
        400,
        "bad_attribute",
    )
    event, _ = svc.report(
        user, svc.Report("T0001", *POS["a"], attributes={"people": "3", "what": ["a", "b"]}), channel="resident"
    )
    assert event.attributes == {"people": "3", "what": ["a", "b"]}


def test_photos_checked_and_kept(world: Any, gov: Any) -> None:
    user = world.users["resident"]
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (8 * 1024 * 1024), content_type="image/png")
    refused(lambda: svc.report(user, svc.Report("E0201", *POS["a"], photos=[png(), big]), channel="resident"), 413)
    fake = SimpleUploadedFile("x.png", b"not an image at all", content_type="image/png")
    refused(
        lambda: svc.report(user, svc.Report("E0201", *POS["a"], photos=[fake]), channel="resident"), 400, "not_an_image"
    )
    too_many = [png() for _ in range(svc.MAX_PHOTOS + 1)]
    refused(
        lambda: svc.report(user, svc.Report("E0201", *POS["a"], photos=too_many), channel="resident"),
        400,
        "too_many_photos",
    )
    assert counts() == (0, 0, 0, 0)
    event, _ = svc.report(user, svc.Report("E0201", *POS["a"], photos=[png(), png(fmt="JPEG")]), channel="resident")
    photos = list(event.photos.all())
    assert [(p.stage, p.width, p.height) for p in photos] == [("report", 8, 6), ("report", 8, 6)]
    assert all(p.image.name.startswith(f"events/{event.pk}/") for p in photos)


def test_other_bad_input(world: Any, gov: Any) -> None:
    user = world.users["resident"]
    for report, code in (
        (svc.Report("E0201", *POS["a"], description="长" * 4001), "too_long"),
        (svc.Report("E0201", *POS["a"], reporter_phone="12345"), "bad_phone"),
        (svc.Report("E0201", *POS["a"], client_key="k" * 65), "bad_client_key"),
    ):
        refused(lambda r=report: svc.report(user, r, channel="resident"), 400, code)
    assert counts() == (0, 0, 0, 0)


def test_idempotent_per_source_and_client_key(world: Any, gov: Any) -> None:
    user = world.users["resident"]
    first, created = svc.report(
        user, svc.Report("E0201", *POS["a"], client_key="phone-1", photos=[png()]), channel="resident"
    )
    assert created
    before = counts()
    again, created = svc.report(
        user, svc.Report("E0201", *POS["a"], client_key="phone-1", photos=[png()], description="x"), channel="resident"
    )
    assert (again.pk, created) == (first.pk, False)
    assert counts() == before  # nothing more written: no event, log row or photo
    stored = Event.objects.get(pk=first.pk)  # the answer is the stored event, every field of it
    assert {f.attname: getattr(again, f.attname) for f in Event._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in Event._meta.concrete_fields
    }
    # a retry with photos is recognised before its photos are read again: even a photo that would
    # now be refused answers the first event (the phone resends what it sent)
    broken = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    again, created = svc.report(
        user, svc.Report("E0201", *POS["a"], client_key="phone-1", photos=[broken]), channel="resident"
    )
    assert (again.pk, created) == (first.pk, False)
    assert counts() == before
    # the same key from another source is another report
    other, created = svc.report(
        world.outsider, svc.Report("E0201", *POS["a"], client_key="phone-1"), channel="resident"
    )
    assert created and other.pk != first.pk
    client, created = svc.report(
        None, svc.Report("E0201", *POS["a"], client_key="phone-1"), channel="open311", source="k:1"
    )
    assert created and client.pk not in (first.pk, other.pk)
    assert svc.report(None, svc.Report("E0201", *POS["a"], client_key="phone-1"), channel="open311", source="k:1") == (
        client,
        False,
    )
    # without a key every report is new
    a = resident_report(world, "E0201")
    b = resident_report(world, "E0201")
    assert a.pk != b.pk


# --- routing ----------------------------------------------------------------------------------------


def test_route_component_to_owner_incident_to_locality(world: Any, gov: Any) -> None:
    path = world.building_a.path
    light = Category.objects.get(code="C0102")
    rubbish = Category.objects.get(code="E0201")
    dispute = Category.objects.get(code="E0206")  # no owner: the locality only
    assert svc.route(light, path, world.street1) == [gov.cg, gov.locality]
    assert svc.route(rubbish, path, world.street1) == [gov.locality, gov.cg]
    assert svc.route(dispute, path, world.street1) == [gov.locality]
    # street 2 has its own locality office (created by ensure_catalogue)
    loc2 = svc.locality_for(world.street2)[0]
    assert loc2 != gov.locality and loc2.kind == Department.Kind.LOCALITY and loc2.path == world.street2.path
    assert svc.route(rubbish, world.building_c.path, world.street2) == [loc2, gov.cg]


def test_route_rules_most_specific_first_inactive_skipped(world: Any, gov: Any) -> None:
    rubbish = Category.objects.get(code="E0201")
    RoutingRule.objects.create(category=rubbish, path=world.district.path, department=gov.gs)
    RoutingRule.objects.create(category=rubbish, path=world.comm_a.path, department=gov.cg)
    yj = Department.objects.get(code=f"{world.district.code}-YJ")
    RoutingRule.objects.create(category=rubbish, path=world.compound_b.path, department=yj)
    assert svc.route(rubbish, world.building_a.path, world.street1) == [gov.cg, gov.gs, gov.locality]
    assert svc.route(rubbish, world.building_b.path, world.street1) == [yj, gov.gs, gov.locality, gov.cg]
    # an inactive department is skipped, wherever it comes from; the locality stays
    Department.objects.filter(pk__in=[gov.cg.pk, gov.gs.pk]).update(active=False)
    rubbish = Category.objects.get(code="E0201")
    assert svc.route(rubbish, world.building_a.path, world.street1) == [gov.locality]
    light = Category.objects.get(code="C0102")
    assert svc.route(light, world.building_a.path, world.street1) == [gov.locality]


def test_locality_always_present(world: Any, gov: Any) -> None:
    """属地兜底: every category at every building has the street's locality office in its chain,
    even on a street that had none yet."""
    street3 = f.StreetFactory(district=world.district, code="003", name="石坪桥街道")
    assert not Department.objects.filter(street=street3).exists()
    loc2 = svc.locality_for(world.street2)[0]
    Department.objects.exclude(kind=Department.Kind.LOCALITY).update(active=False)  # even with no one else
    for cat in Category.objects.all():
        for building, street, office in (
            (world.building_a, world.street1, gov.locality),
            (world.building_c, world.street2, loc2),
        ):
            assert office in svc.route(cat, building.path, street)
        chain = svc.route(cat, street3.path + "x/", street3)
        assert chain == [Department.objects.get(street=street3)]


def test_dispatch_follows_the_route_or_the_centre_choice(world: Any, gov: Any) -> None:
    command = world.users["street_command"]
    light = svc.act(command, resident_report(world, "C0102"), "register")
    assert svc.act(command, light, "dispatch").department == gov.cg
    rubbish = svc.act(command, resident_report(world, "E0201"), "register")
    event = svc.act(command, rubbish, "dispatch")
    assert event.department == gov.locality
    assert event.dispatched_at is not None and event.due_at == loop.handle_deadline(event.dispatched_at, {"handle": 24})
    log = event.log.get(move="dispatch")
    assert log.data["routed"] == [gov.locality.pk, gov.cg.pk] and log.department == gov.locality
    # the centre may send it elsewhere, but not to an inactive department or one of another street
    other = svc.act(command, resident_report(world, "E0201"), "register")
    assert svc.act(command, other, "dispatch", department=gov.gs).department == gov.gs
    loc2 = svc.locality_for(world.street2)[0]
    third = svc.act(command, resident_report(world, "E0201"), "register")
    before = (row(third), counts())
    refused(lambda: svc.act(command, third, "dispatch", department=loc2), 400, "department_out_of_area")
    Department.objects.filter(pk=gov.gs.pk).update(active=False)
    gov.gs.refresh_from_db()
    refused(lambda: svc.act(command, third, "dispatch", department=gov.gs), 400, "inactive_department")
    assert (row(third), counts()) == before


# --- the loop ---------------------------------------------------------------------------------------


NEEDS_REQUEST = {Move.BACKLOG, Move.EXTEND, Move.DEFER}


@pytest.mark.parametrize("step", list(Step))
def test_every_skipped_step_is_409_and_changes_nothing(world: Any, gov: Any, step: Step) -> None:
    """From each step, every move the loop does not allow is refused with 409 — even for a
    superuser, who passes every role check — and leaves the event and its history as they were."""
    event = at_step(world, gov, step)
    root = world.admin
    tried = 0
    for move in Move:
        if move in NEEDS_REQUEST or step in loop.RULES[move].from_steps:
            continue
        before = (row(event), counts())
        err = refused(
            lambda mv=move: svc.act(root, event, mv, note="x", score=3, department=gov.cg, photos=[png()]),
            409,
            "wrong_step",
        )
        assert loop.STEP_NAMES[step][0] in err.problems[0].zh
        assert (row(event), counts()) == before, move
        tried += 1
    assert tried >= 6


@pytest.mark.parametrize("step", [Step.CLOSED, Step.EVALUATED, Step.VOIDED])
def test_closed_case_cannot_be_changed(world: Any, gov: Any, step: Step) -> None:
    """Nothing but the evaluation of a closed case (and a note) is possible once it is closed or
    voided — not even for a superuser, who passes every role check."""
    event = at_step(world, gov, step)
    root = world.admin
    for move in Move:
        if move in (Move.NOTE, Move.EVALUATE) or move in NEEDS_REQUEST:
            continue
        before = (row(event), counts())
        refused(lambda mv=move: svc.act(root, event, mv, note="x", score=3), 409, "wrong_step")
        assert (row(event), counts()) == before
    for kind in EventRequest.Kind.values:
        refused(lambda k=kind: svc.ask(world.admin, event, k, "理由", hours=5, until=_later(2)), 409, "wrong_step")
    assert EventRequest.objects.count() == 0


def test_moves_that_need_a_request_are_refused_directly(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.HANDLING)
    before = (row(event), counts())
    for move in NEEDS_REQUEST:
        refused(lambda mv=move: svc.act(world.users["street_command"], event, mv, note="x"), 400, "needs_request")
    refused(lambda: svc.act(world.users["street_command"], event, "fly", note="x"), 400, "unknown_move")
    assert (row(event), counts()) == before


def test_wrong_role(world: Any, gov: Any) -> None:
    command, worker = world.users["street_command"], world.users["grid_fulltime"]
    event = at_step(world, gov, Step.REGISTERED)
    before = (row(event), counts())
    with pytest.raises(PermissionDenied):  # a grid worker sees the case but does not dispatch
        svc.act(worker, event, "dispatch")
    with pytest.raises(PermissionDenied):
        svc.act(worker, event, "void", note="x")
    with pytest.raises(Http404):  # a community worker of B does not see a case of A
        svc.act(world.outsider, event, "register")
    with pytest.raises(Http404):  # a department sees nothing before the case is dispatched to it
        svc.act(gov.cg_staff, event, "note", note="x")
    assert (row(event), counts()) == before
    event = svc.act(command, event, "dispatch")
    before = (row(event), counts())
    with pytest.raises(Http404):  # staff of another department
        svc.act(gov.gs_staff, event, "accept")
    with pytest.raises(PermissionDenied):  # the centre does not accept for the department
        svc.act(command, event, "accept")
    with pytest.raises(PermissionDenied):  # and a department does not dispatch or void
        svc.act(gov.cg_staff, event, "return", note="x")
    with pytest.raises(Http404):
        svc.act(world.users["resident"], event, "accept")
    assert (row(event), counts()) == before
    event = svc.act(gov.cg_staff2, event, "accept")  # any staff of the department
    assert event.handler == gov.cg_staff2


def test_expected_step_mismatch(world: Any, gov: Any) -> None:
    """Two people on one page: the second's click (made when the case was at "dispatched") is 409."""
    event = at_step(world, gov, Step.DISPATCHED)
    svc.act(gov.cg_staff, event, "accept", expected_step="dispatched")
    before = (row(event), counts())
    err = refused(lambda: svc.act(gov.cg_staff2, event, "accept", expected_step="dispatched"), 409, "step_changed")
    assert "任务处理" in err.problems[0].zh and "Being handled" in err.problems[0].en
    # without expected_step the taken move is a wrong step
    refused(lambda: svc.act(gov.cg_staff2, event, "accept"), 409, "wrong_step")
    assert (row(event), counts()) == before


def test_report_back_needs_a_note_or_photo(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.HANDLING)
    before = (row(event), counts())
    refused(lambda: svc.act(gov.cg_staff, event, "report", note="  "), 400, "report_needs_detail")
    assert (row(event), counts()) == before
    event = svc.act(gov.cg_staff2, event, "report", photos=[png()])
    assert event.step == Step.REPORTED and event.photos.get().stage == "handle"


def test_verifier_must_not_be_handler(world: Any, gov: Any) -> None:
    command = world.users["street_command"]
    grant_role(world.admin, command, "department_staff", gov.cg)  # the centre's man also works for 城管
    forget_grants(command)
    event = at_step(world, gov, Step.DISPATCHED)
    event = svc.act(command, event, "accept")
    event = svc.act(gov.cg_staff, event, "report", note="已修复")
    before = (row(event), counts())
    for move in ("verify_pass", "verify_fail"):
        refused(lambda mv=move: svc.act(command, event, mv, note="x"), 403, "verifier_is_handler")
    # nor whoever reported back (a department without a field role cannot verify anyway)
    with pytest.raises(PermissionDenied):
        svc.act(gov.cg_staff, event, "verify_pass")
    assert (row(event), counts()) == before
    event = svc.act(world.users["grid_fulltime"], event, "verify_pass")
    assert event.step == Step.CLOSED


def test_verify_fail_sends_back_for_rework(world: Any, gov: Any) -> None:
    worker = world.users["grid_fulltime"]
    event = at_step(world, gov, Step.REPORTED)
    before = (row(event), counts())
    refused(lambda: svc.act(worker, event, "verify_fail"), 400, "reason_required")
    assert (row(event), counts()) == before
    event = svc.act(worker, event, "verify_fail", note="灯仍不亮", photos=[png()])
    assert event.step == Step.HANDLING and event.rework_count == 1 and event.closed_at is None
    assert event.step_due_at is not None and event.due_at is not None and event.step_due_at <= event.due_at
    assert event.photos.filter(stage="verify").count() == 1
    event = svc.act(gov.cg_staff, event, "report", note="换了灯泡")
    event = svc.act(worker, event, "verify_fail", note="还是不亮")
    assert event.rework_count == 2
    log = event.log.filter(move="verify_fail").last()
    assert log is not None and (log.step_from, log.step_to, log.note) == ("reported", "handling", "还是不亮")


@pytest.mark.parametrize("score", [0, 6, -1, "x", None, "", 2.5j])
def test_evaluate_score_bounds(world: Any, gov: Any, score: Any) -> None:
    event = at_step(world, gov, Step.CLOSED)
    before = (row(event), counts())
    refused(lambda: svc.act(world.users["street_command"], event, "evaluate", score=score), 400, "bad_score")
    assert (row(event), counts()) == before


@pytest.mark.parametrize("score", [1, 5, "3"])
def test_evaluate_by_centre_or_reporter(world: Any, gov: Any, score: Any) -> None:
    event = at_step(world, gov, Step.CLOSED)
    with pytest.raises(PermissionDenied):  # the grid worker who verified is not the evaluator
        svc.act(world.users["grid_fulltime"], event, "evaluate", score=score)
    event = svc.act(world.users["resident"], event, "evaluate", score=score)  # the resident reported it
    assert event.step == Step.EVALUATED and event.score == int(score)
    assert event.log.get(move="evaluate").data == {"score": int(score)}


def test_void_needs_reason_and_marks_duplicate(world: Any, gov: Any) -> None:
    command = world.users["street_command"]
    first = at_step(world, gov, Step.REGISTERED)
    second = at_step(world, gov, Step.COLLECTED)
    before = (row(second), counts())
    refused(lambda: svc.act(command, second, "void"), 400, "reason_required")
    refused(lambda: svc.act(command, second, "void", note="重复", duplicate_of=second), 400, "bad_duplicate")
    assert (row(second), counts()) == before
    second = svc.act(command, second, "void", note="与前一件重复", duplicate_of=first)
    assert second.step == Step.VOIDED and second.duplicate_of == first and second.closed_at is not None
    assert second.log.get(move="void").data == {"duplicate_of": first.pk}
    assert not second.is_open
    assert second.step_due_at is None


def test_direct_return_by_the_centre(world: Any, gov: Any) -> None:
    command = world.users["street_command"]
    event = at_step(world, gov, Step.HANDLING)
    refused(lambda: svc.act(command, event, "return"), 400, "reason_required")
    event = svc.act(command, event, "return", note="派错了")
    assert event.step == Step.REGISTERED and event.department is None and event.handler is None
    assert event.return_count == 1
    assert event.log.get(move="return").data == {"from_department": gov.cg.name}


def test_whistle_and_note(world: Any, gov: Any) -> None:
    worker = world.users["grid_fulltime"]
    event = at_step(world, gov, Step.HANDLING)
    event = svc.act(worker, event, "whistle", note="拖了三天")
    assert event.escalation == loop.STREET and event.step == Step.HANDLING
    event = svc.act(world.users["street_command"], event, "note", note="已催办")
    assert event.log.filter(move="note").count() == 1 and event.step == Step.HANDLING
    # the department the case is with adds progress notes too; another department does not see it
    event = svc.act(gov.cg_staff, event, "note", note="材料在路上")
    assert event.log.filter(move="note").count() == 2
    with pytest.raises(Http404):
        svc.act(gov.gs_staff, event, "note", note="x")
    with pytest.raises(PermissionDenied):  # a volunteer reports problems but does not annotate cases
        svc.act(world.users["grid_force"], event, "note", note="x")
    event = svc.act(world.users["grid_fulltime"], at_step(world, gov, Step.CLOSED), "note", note="回访满意")
    assert event.step == Step.CLOSED


def test_eventlog_is_append_only(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.REGISTERED)
    entry = event.log.first()
    assert entry is not None
    entry.note = "改写"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    assert EventLog.objects.get(pk=entry.pk).note == ""


# --- requests that need approval --------------------------------------------------------------------


def _later(days: float) -> Any:
    return timezone.now() + timedelta(days=days)


def test_return_request_approved(world: Any, gov: Any) -> None:
    command = world.users["street_command"]
    event = at_step(world, gov, Step.HANDLING)
    req = svc.ask(gov.cg_staff, event, "return", "不属于本部门")
    assert req.department == gov.cg and req.decision == "pending"
    assert row(event)["step"] == "handling"  # asking changes nothing yet
    req = svc.decide(command, req, True, note="同意")
    event.refresh_from_db()
    assert req.decision == "approved" and req.decided_by == command and req.decided_at is not None
    assert event.step == Step.REGISTERED and event.department is None and event.handler is None
    assert event.return_count == 1
    log = event.log.get(move="return")
    assert log.note == "不属于本部门 / 同意" and log.data["request"] == req.pk
    # the department no longer sees the case, and it can be dispatched again
    with pytest.raises(Http404):
        svc.act(gov.cg_staff, event, "note", note="x")
    event = svc.act(command, event, "dispatch", department=gov.gs)
    assert event.department == gov.gs


def test_extension_moves_both_deadlines(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.HANDLING)
    due, step_due = event.due_at, event.step_due_at
    req = svc.ask(gov.cg_staff, event, "extend", "等配件", hours=48)
    svc.decide(world.users["street_command"], req, True)
    event.refresh_from_db()
    assert event.due_at == due + timedelta(hours=48) and event.step_due_at == step_due + timedelta(hours=48)
    assert event.extension_count == 1 and event.step == Step.HANDLING
    assert event.log.get(move="extend").data["hours"] == 48


@pytest.mark.dates
def test_defer_and_backlog(world: Any, gov: Any) -> None:
    command = world.users["street_command"]
    a = at_step(world, gov, Step.DISPATCHED)
    until = _later(3)
    svc.decide(command, svc.ask(gov.cg_staff, a, "defer", "等雨停", until=until), True)
    a.refresh_from_db()
    assert a.deferred_until == until and a.step == Step.DISPATCHED
    assert not svc.is_overdue(a, now=_later(1)) and svc.is_overdue(a, now=_later(4))
    b = at_step(world, gov, Step.HANDLING)
    svc.decide(command, svc.ask(gov.cg_staff, b, "backlog", "需纳入改造项目"), True)
    b.refresh_from_db()
    assert b.backlog and b.step == Step.HANDLING and b.is_open
    assert not svc.is_overdue(b, now=_later(100))
    b = svc.act(command, b, "unbacklog", note="资金到位")
    assert not b.backlog and svc.is_overdue(b, now=_later(100))


def test_void_request(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.DISPATCHED)
    svc.decide(world.users["street_command"], svc.ask(gov.cg_staff, event, "void", "已有人修好"), True)
    event.refresh_from_db()
    assert event.step == Step.VOIDED and event.closed_at is not None


def test_only_one_pending_request(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.HANDLING)
    req = svc.ask(gov.cg_staff, event, "extend", "等配件", hours=24)
    refused(lambda: svc.ask(gov.cg_staff2, event, "return", "不归我们"), 409, "request_pending")
    assert EventRequest.objects.count() == 1
    svc.decide(world.users["street_command"], req, False, note="不同意")
    assert svc.ask(gov.cg_staff2, event, "return", "不归我们").decision == "pending"


def test_refusal_changes_nothing_on_the_event(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.HANDLING)
    for kind, kw in (
        ("return", {}),
        ("void", {}),
        ("extend", {"hours": 10}),
        ("defer", {"until": _later(2)}),
        ("backlog", {}),
    ):
        req = svc.ask(gov.cg_staff, event, kind, "理由", **kw)
        before_row, logs = row(event), EventLog.objects.count()
        req = svc.decide(world.users["street_command"], req, False, note="不同意")
        assert req.decision == "refused" and req.decision_note == "不同意"
        assert row(event) == before_row and EventLog.objects.count() == logs
        # a decided request is not decided again
        refused(lambda r=req: svc.decide(world.users["street_command"], r, True), 409, "already_decided")
        assert row(event) == before_row


def test_who_may_ask_and_decide(world: Any, gov: Any) -> None:
    registered = at_step(world, gov, Step.REGISTERED)
    with pytest.raises(Http404):  # not dispatched to the department
        svc.ask(gov.cg_staff, registered, "return", "x")
    event = at_step(world, gov, Step.HANDLING)
    with pytest.raises(Http404):  # dispatched to another department
        svc.ask(gov.gs_staff, event, "return", "x")
    with pytest.raises(PermissionDenied):  # a grid worker sees the case but does not handle it
        svc.ask(world.users["grid_fulltime"], event, "extend", "x", hours=2)
    assert EventRequest.objects.count() == 0
    req = svc.ask(gov.cg_staff, event, "extend", "等配件", hours=24)
    before = (row(event), counts())
    with pytest.raises(PermissionDenied):  # a department does not approve its own request
        svc.decide(gov.cg_staff2, req, True)
    with pytest.raises(PermissionDenied):
        svc.decide(world.users["grid_fulltime"], req, True)
    with pytest.raises(Http404):
        svc.decide(world.outsider, req, True)
    assert (row(event), counts()) == before
    assert EventRequest.objects.get(pk=req.pk).decision == "pending"


def test_bad_requests(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.HANDLING)
    staff = gov.cg_staff
    refused(lambda: svc.ask(staff, event, "holiday", "x"), 400, "unknown_request")
    refused(lambda: svc.ask(staff, event, "return", "   "), 400, "reason_required")
    refused(lambda: svc.ask(staff, event, "return", "长" * 1001), 400, "too_long")
    for hours in (None, "x", 0, 721, -5):
        refused(lambda h=hours: svc.ask(staff, event, "extend", "x", hours=h), 400, "bad_hours")
    for until in (None, timezone.now() - timedelta(hours=1), _later(400)):
        refused(lambda u=until: svc.ask(staff, event, "defer", "x", until=u), 400, "bad_until")
    assert EventRequest.objects.count() == 0


def test_request_when_the_case_moved_on_is_409(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.HANDLING)
    req = svc.ask(gov.cg_staff, event, "extend", "等配件", hours=24)
    # meanwhile the centre voids the case directly
    svc.act(world.users["street_command"], event, "void", note="误报")
    before = (row(event), counts())
    refused(lambda: svc.decide(world.users["street_command"], req, True), 409, "wrong_step")
    assert (row(event), counts()) == before
    assert EventRequest.objects.get(pk=req.pk).decision == "pending"
    # refusing it is still possible, so it does not block the list of pending requests; a refusal
    # always says why
    refused(lambda: svc.decide(world.users["street_command"], req, False), 400, "reason_required")
    refused(lambda: svc.decide(world.users["street_command"], req, False, "x" * 501), 400, "too_long")
    assert svc.decide(world.users["street_command"], req, False, "案件已作废").decision == "refused"


# --- duplicates, contact, escalation ----------------------------------------------------------------


def test_nearby_open(world: Any, gov: Any, settings: Any) -> None:
    settings.LINLI_EVENT_DUPLICATE_METRES = 100
    lat, lon = POS["a"]
    near = resident_report(world, "E0201", lat=lat + 0.0004, lon=lon)  # ~44 m
    nearer = resident_report(world, "E0201", lat=lat + 0.0001, lon=lon)  # ~11 m
    far = resident_report(world, "E0201", lat=lat + 0.0015, lon=lon)  # ~167 m
    other_cat = resident_report(world, "C0102", lat=lat, lon=lon)
    closed = svc.act(world.users["street_command"], resident_report(world, "E0201"), "void", note="重复")
    rubbish = Category.objects.get(code="E0201")
    found = svc.nearby_open(rubbish, lat, lon)
    assert [e.pk for e in found] == [nearer.pk, near.pk]
    assert [e.distance_m for e in found] == [11, 44]  # type: ignore[attr-defined]
    assert far.pk not in {e.pk for e in found} and other_cat.pk not in {e.pk for e in found}
    assert closed.pk not in {e.pk for e in found}
    assert [e.pk for e in svc.nearby_open(rubbish, lat, lon, exclude=nearer.pk)] == [near.pk]
    assert len(svc.nearby_open(rubbish, lat, lon, limit=1)) == 1
    settings.LINLI_EVENT_DUPLICATE_METRES = 200
    assert far.pk in {e.pk for e in svc.nearby_open(rubbish, lat, lon)}


def test_reporter_contact(world: Any, gov: Any) -> None:
    event = resident_report(world, "C0102", reporter_name="王小明", reporter_phone="13812345678")
    assert event.reporter_phone_enc and "13812345678" not in event.reporter_phone_enc
    assert event.reporter_phone_masked == "138****5678"
    command = world.users["street_command"]
    full = svc.reporter_contact(command, event)
    assert full["phone"] == "13812345678" and full["name"] == "王小明"
    logged = AccessLog.objects.get()
    assert (logged.user, logged.object_type, logged.object_id, logged.path) == (
        command,
        "event",
        str(event.pk),
        event.path,
    )
    assert logged.what == AccessLog.What.REVEAL_PHONE
    # people outside the handling chain get the masked phone, and nothing is logged
    for user in (world.outsider, gov.cg_staff, world.users["operator"]):
        masked = svc.reporter_contact(user, event)
        assert masked == {"name": "王**", "phone": "138****5678", "email": ""}
    assert AccessLog.objects.count() == 1
    # once dispatched to it, the department is in the chain
    event = svc.act(command, svc.act(command, event, "register"), "dispatch")
    assert svc.reporter_contact(gov.cg_staff, event)["phone"] == "13812345678"
    assert AccessLog.objects.filter(user=gov.cg_staff).count() == 1
    # no phone: nothing personal to read, nothing logged
    quiet = resident_report(world, "C0102")
    assert svc.reporter_contact(command, quiet)["phone"] == ""
    assert AccessLog.objects.count() == 2


def _escalations(event: Event) -> list[int]:
    return [e.data["level"] for e in event.log.filter(move="escalate")]


def test_escalate_overdue_street_then_district(world: Any, gov: Any) -> None:
    event, _ = svc.report(world.users["street_command"], svc.Report("E0201", *POS["a"]), channel="hotline")
    due = event.step_due_at
    assert due is not None
    assert svc.escalate_overdue(due - timedelta(minutes=1)) == 0
    assert svc.escalate_overdue(due) == 0  # on the deadline: not yet late
    assert svc.escalate_overdue(due + timedelta(minutes=5)) == 1
    event.refresh_from_db()
    assert event.escalation == loop.STREET and _escalations(event) == [1]
    log = event.log.get(move="escalate")
    assert log.actor is None and log.actor_label == "system" and log.step_from == log.step_to == "registered"
    # run again (the next minute of the timer): nothing new
    assert svc.escalate_overdue(due + timedelta(minutes=6)) == 0
    assert _escalations(event) == [1]
    # overdue by 24 h (the step limit is 1 h): the district
    assert svc.escalate_overdue(due + timedelta(hours=24, minutes=1)) == 1
    assert svc.escalate_overdue(due + timedelta(hours=48)) == 0
    event.refresh_from_db()
    assert event.escalation == loop.DISTRICT and _escalations(event) == [1, 2]
    # straight to the district when first seen very late
    other, _ = svc.report(world.users["street_command"], svc.Report("E0201", *POS["b"]), channel="hotline")
    assert svc.escalate_overdue(other.step_due_at + timedelta(days=3)) == 1
    assert _escalations(other) == [2]


def test_escalation_resets_on_the_next_step(world: Any, gov: Any) -> None:
    event, _ = svc.report(world.users["street_command"], svc.Report("E0201", *POS["a"]), channel="hotline")
    assert event.step_due_at is not None
    svc.escalate_overdue(event.step_due_at + timedelta(minutes=5))
    event = svc.act(world.users["street_command"], event, "dispatch")
    assert event.escalation == 0 and event.step_due_at is not None and event.step_due_at > timezone.now()


@pytest.mark.dates
def test_escalate_skips_backlog_deferred_and_closed(world: Any, gov: Any) -> None:
    command = world.users["street_command"]
    backlog = at_step(world, gov, Step.HANDLING)
    svc.decide(command, svc.ask(gov.cg_staff, backlog, "backlog", "纳入改造"), True)
    deferred = at_step(world, gov, Step.HANDLING)
    svc.decide(command, svc.ask(gov.cg_staff, deferred, "defer", "雨季后", until=_later(10)), True)
    closed = at_step(world, gov, Step.CLOSED)
    voided = at_step(world, gov, Step.VOIDED)
    assert svc.escalate_overdue(_later(9)) == 0
    for e in (backlog, deferred, closed, voided):
        e.refresh_from_db()
        assert e.escalation == 0 and _escalations(e) == []
    # once the deferral is over it counts again (from its old deadline: straight to the district)
    assert svc.escalate_overdue(_later(11)) == 1
    deferred.refresh_from_db()
    assert deferred.escalation == loop.DISTRICT
    # the closed case waits for its evaluation without being escalated as overdue work
    closed.refresh_from_db()
    assert closed.escalation == 0


def test_is_overdue(world: Any, gov: Any) -> None:
    event = at_step(world, gov, Step.DISPATCHED)
    assert event.step_due_at is not None
    assert not svc.is_overdue(event, now=event.step_due_at)
    assert svc.is_overdue(event, now=event.step_due_at + timedelta(seconds=1))
    closed = at_step(world, gov, Step.CLOSED)
    assert not svc.is_overdue(closed, now=_later(30))


def test_ensure_catalogue_is_idempotent_and_keeps_changes(world: Any, gov: Any) -> None:
    Category.objects.filter(code="E0201").update(name="垃圾满溢", limits={"handle": 12})
    before = (Category.objects.count(), Department.objects.count())
    assert svc.ensure_catalogue(world.district) == 0
    assert (Category.objects.count(), Department.objects.count()) == before
    cat = Category.objects.get(code="E0201")
    assert (cat.name, cat.limits) == ("垃圾满溢", {"handle": 12})
    for c in Category.objects.all():
        assert loop.check_limits(c.limits) == [], c.code
