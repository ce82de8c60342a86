"""Residents take part (issue 12 §9): "me too" (+1) once per person, undo, refused on a closed or voided
case and for the reporter; following; the followers (and the "me too" people) told of each step
change like the reporter (``followed_status``), never the mover; and who may take part at all."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from linli.core.errors import LinliError
from linli.governance.models import Event, Follow, Support
from linli.governance.services import events as svc
from linli.governance.services import public
from linli.notify.models import Notification
from tests import factories as f
from tests.governance.conftest import POS

pytestmark = pytest.mark.django_db


def person(username: str | None = None) -> Any:
    """A signed-in person with no role anywhere (a resident of somewhere else, say)."""
    return f.UserFactory(username=username) if username else f.UserFactory()


def reported(world: Any, code: str = "C0102", who: str = "resident") -> Event:
    event, _ = svc.report(world.users[who], svc.Report(code, *POS["a"], description="路灯不亮"), channel="resident")
    return event


def test_me_too_once_per_person_and_undo(world: Any, gov: Any) -> None:
    event = reported(world)
    neighbour, other = person("neighbour"), person("other")
    assert public.support(neighbour, event) is True
    assert public.support(neighbour, event) is False  # a second click is a no-op
    assert public.support(other, event) is True
    assert Support.objects.filter(event=event).count() == 2
    # "me too" follows the report too
    assert set(Follow.objects.filter(event=event).values_list("user__username", "by_support")) == {
        ("neighbour", True),
        ("other", True),
    }
    assert public.unsupport(neighbour, event) is True
    assert public.unsupport(neighbour, event) is False  # undoing twice changes nothing
    assert Support.objects.filter(event=event).count() == 1
    # the follow made by the +1 goes with it
    assert not Follow.objects.filter(event=event, user=neighbour).exists()


def test_a_follow_chosen_by_itself_survives_undoing_me_too(world: Any, gov: Any) -> None:
    event = reported(world)
    neighbour = person("neighbour")
    public.support(neighbour, event)
    assert public.follow(neighbour, event) is False  # already following (by the +1) …
    assert Follow.objects.get(event=event, user=neighbour).by_support is False  # … now by choice
    public.unsupport(neighbour, event)
    assert Follow.objects.filter(event=event, user=neighbour).exists()
    assert public.unfollow(neighbour, event) is True
    assert public.unfollow(neighbour, event) is False
    assert not Follow.objects.filter(event=event).exists()


def test_closed_or_voided_cases_are_refused_and_nothing_is_written(world: Any, gov: Any) -> None:
    command, worker = world.users["street_command"], world.users["grid_fulltime"]
    neighbour = person("neighbour")
    event = reported(world)
    event = svc.act(command, event, "register")
    event = svc.act(command, event, "dispatch", department=gov.cg)
    event = svc.act(gov.cg_staff, event, "accept")
    event = svc.act(gov.cg_staff, event, "report", note="已修复")
    event = svc.act(worker, event, "verify_pass")
    for call in (public.support, public.follow):
        with pytest.raises(LinliError) as exc:
            call(neighbour, event)
        assert exc.value.status == 409 and exc.value.problems[0].code == "report_closed"
        assert "已办结" in exc.value.problems[0].zh
    assert not Support.objects.exists() and not Follow.objects.exists()
    voided = svc.act(command, reported(world), "void", note="重复")
    # a voided case is on no public page: for a resident it does not exist
    with pytest.raises(Http404):
        public.support(neighbour, voided)
    # the command centre (who sees it) is told it is closed
    with pytest.raises(LinliError) as exc:
        public.follow(command, voided)
    assert exc.value.status == 409
    assert not Support.objects.exists() and not Follow.objects.exists()


def test_the_reporter_cannot_me_too_their_own_report(world: Any, gov: Any) -> None:
    event = reported(world)
    with pytest.raises(LinliError) as exc:
        public.support(world.users["resident"], event)
    assert exc.value.status == 400 and exc.value.problems[0].code == "own_report"
    with pytest.raises(LinliError):
        public.follow(world.users["resident"], event)
    assert not Support.objects.exists() and not Follow.objects.exists()


def test_hidden_categories_are_only_for_those_who_see_the_case(world: Any, gov: Any) -> None:
    # a dispute between neighbours (E0206) is about people: not on the public map
    event = reported(world, "E0206")
    with pytest.raises(Http404):
        public.support(person("stranger"), event)
    # the handling chain sees it and may follow it
    assert public.follow(world.users["street_command"], event) is True
    with pytest.raises(Http404):
        public.follow(world.outsider, event)  # community B's worker does not see community A's case


def test_signed_out_is_refused(world: Any, gov: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    event = reported(world)
    with pytest.raises(LinliError) as exc:
        public.support(AnonymousUser(), event)
    assert exc.value.status == 403


def test_followers_are_told_of_each_step_like_the_reporter(
    world: Any, gov: Any, django_capture_on_commit_callbacks: Any
) -> None:
    command = world.users["street_command"]
    event = reported(world)
    fan, follower, quiet = (person(n) for n in ("fan", "follower", "quiet"))
    public.support(fan, event)
    public.follow(follower, event)
    public.follow(command, event)  # the mover is never told of their own move
    with django_capture_on_commit_callbacks(execute=True):
        event = svc.act(command, event, "register")
    told = set(Notification.objects.filter(kind="followed_status").values_list("user__username", flat=True))
    assert told == {"fan", "follower"}
    n = Notification.objects.get(kind="followed_status", user=fan)
    assert n.title_zh == f"你关注的问题 #{event.pk}:案卷建立" and "A report you follow" in n.title_en
    assert n.url == f"/governance/public/{event.pk}/"  # the page a resident can open
    # the reporter keeps their own kind, once
    assert Notification.objects.filter(kind="report_status", user=world.users["resident"]).count() == 1
    assert not Notification.objects.filter(kind="followed_status", user=world.users["resident"]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        event = svc.act(command, event, "dispatch", department=gov.cg)
        svc.act(command, event, "note", note="已联系")  # not a step change: nobody is told
    assert Notification.objects.filter(kind="followed_status", user=fan).count() == 2
    assert not Notification.objects.filter(user=quiet).exists()
    # unfollowed: no longer told
    public.unfollow(follower, event)
    with django_capture_on_commit_callbacks(execute=True):
        svc.act(gov.cg_staff, event, "accept")
    assert Notification.objects.filter(kind="followed_status", user=follower).count() == 2
    # the centre followed too: told of the accept only, not of its own register and dispatch
    assert Notification.objects.filter(kind="followed_status", user=command).count() == 1


def test_followers_of_a_hidden_case_get_the_case_page(
    world: Any, gov: Any, django_capture_on_commit_callbacks: Any
) -> None:
    worker, command = world.users["grid_fulltime"], world.users["street_command"]
    event = reported(world, "E0206")
    public.follow(worker, event)
    with django_capture_on_commit_callbacks(execute=True):
        svc.act(command, event, "register")
    n = Notification.objects.get(kind="followed_status", user=worker)
    assert n.url == f"/governance/events/{event.pk}/"
