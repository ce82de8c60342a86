"""Accounts' services for other apps: departments (``ensure_department``, ``ensure_locality_office``,
called by governance's catalogue and routing) and the logged read of a reporter's contact
(``reveal_contact``, called by governance's event page)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.accounts import services as svc
from linli.accounts.models import AccessLog, Department
from linli.accounts.roles import Action
from linli.core import crypto

pytestmark = pytest.mark.django_db


def test_ensure_department_creates_once_and_never_overwrites(world: Any) -> None:
    district = world.street1.district
    dept, made = svc.ensure_department("T-CG", district, name="城管", name_en="Urban management", kind="functional")
    assert made and (dept.name, dept.name_en, dept.kind, dept.path) == (
        "城管",
        "Urban management",
        "functional",
        district.path,
    )
    Department.objects.filter(pk=dept.pk).update(name="城市管理局", phone="023-1234")
    again, made = svc.ensure_department("T-CG", district, name="城管", kind="functional")
    assert not made and again.pk == dept.pk and again.name == "城市管理局" and again.phone == "023-1234"


def test_a_street_has_one_locality_office(world: Any) -> None:
    Department.objects.filter(street=world.street1).delete()
    office, made = svc.ensure_locality_office(world.street1)
    assert made and office.kind == Department.Kind.LOCALITY and office.street == world.street1
    assert office.name == f"{world.street1.name}(属地)" and office.path == world.street1.path
    same, made = svc.ensure_locality_office(world.street1)
    assert not made and same.pk == office.pk
    assert Department.objects.filter(street=world.street1).count() == 1


def test_reveal_contact_is_for_whoever_may_act_and_logs_a_phone_read(world: Any) -> None:
    """The full phone and e-mail for a user who may take the action on the object, with an access-log
    entry giving the purpose; None for anyone else, and nothing logged then or without a phone."""
    place = world.building_a
    args = {
        "phone_enc": crypto.encrypt("13812345678"),
        "email_enc": crypto.encrypt("a@example.org"),
        "object_type": "event",
        "path": place.path,
    }
    worker = world.users["community_worker"]
    assert svc.reveal_contact(worker, Action.VIEW, place, **args) == {
        "phone": "13812345678",
        "email": "a@example.org",
    }
    log = AccessLog.objects.get()
    assert (log.user, log.what, log.object_type, log.object_id, log.path) == (
        worker,
        AccessLog.What.REVEAL_PHONE,
        "event",
        str(place.pk),
        place.path,
    )
    assert log.reason == svc.CONTACT_REASON
    assert svc.reveal_contact(world.outsider, Action.VIEW, place, **args) is None
    no_phone = {**args, "phone_enc": crypto.encrypt("")}
    assert svc.reveal_contact(worker, Action.VIEW, place, **no_phone) == {"phone": "", "email": "a@example.org"}
    assert AccessLog.objects.count() == 1
