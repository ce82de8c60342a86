"""Shared fixtures of the jobs tests (issue 14): the vocabulary, a verified and a pending employer
with their members, a findable and a hidden seeker with accounts, and a live posting — all in
street 1 of the ``world`` (谢家湾街道), around 29.53 N 106.51 E; one employer in street 2.

Rows are made directly (the services are under test elsewhere); the street's employment officer
is ``world.users["employment_officer"]``.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.jobs.models import Employer, EmployerMember, Posting, Seeker, Skill
from linli.jobs.services import vocabulary
from tests import factories as f

LAT, LON = 29.53, 106.51


def make_employer(street: Any, name: str, code: str, *, status: str = "verified", user: Any = None) -> Employer:
    employer = Employer.objects.create(
        name=name,
        credit_code=code,
        address=f"{street.name}1号",
        lat=LAT + 0.004,
        lon=LON + 0.004,
        street=street,
        path=street.path,
        status=status,
        verified_at=clock.now() if status == "verified" else None,
    )
    if user is not None:
        EmployerMember.objects.create(employer=employer, user=user, role=EmployerMember.Role.OWNER)
    return employer


def make_seeker(
    street: Any, name: str, skills: list[str], *, user: Any = None, discoverable: bool = True, **kw: Any
) -> Seeker:
    id_number = kw.pop("id_number", "")
    seeker = Seeker(
        user=user,
        name=name,
        lat=kw.pop("lat", LAT),
        lon=kw.pop("lon", LON),
        street=street,
        path=street.path,
        wage_min=kw.pop("wage_min", 4000),
        wage_max=kw.pop("wage_max", 6000),
        hours=kw.pop("hours", 40),
        travel_m=kw.pop("travel_m", 10_000),
        discoverable=discoverable,
        **kw,
    )
    seeker.set_id_number(id_number)
    seeker.set_phone("13700137000")
    seeker.save()
    seeker.skills.set(Skill.objects.filter(code__in=skills))
    return seeker


def make_posting(employer: Employer, title: str, skills: list[str], **kw: Any) -> Posting:
    skill_rows = list(Skill.objects.filter(code__in=skills))
    posting = Posting.objects.create(
        employer=employer,
        title=title,
        category=skill_rows[0].category,
        headcount=kw.pop("headcount", 5),
        wage_min=kw.pop("wage_min", 5000),
        wage_max=kw.pop("wage_max", 7000),
        hours=kw.pop("hours", 40),
        address=employer.address,
        lat=kw.pop("lat", employer.lat),
        lon=kw.pop("lon", employer.lon),
        street=employer.street,
        path=employer.street.path,
        closes_on=kw.pop("closes_on", clock.today() + timedelta(days=30)),
        status=kw.pop("status", Posting.Status.OPEN),
        published_at=clock.now(),
        **kw,
    )
    posting.skills.set(skill_rows)
    return posting


@pytest.fixture
def jobs(world: Any) -> SimpleNamespace:
    vocabulary.ensure()  # a transactional test before this one may have flushed migration 0002's rows
    # The street's employment officer: made here, not in ``world``, so the other apps' matrices keep
    # their oracles; ``world.users["employment_officer"]`` for tests that walk the users.
    officer = f.UserFactory(username="employment_officer")
    grant_role(world.admin, officer, Role.EMPLOYMENT_OFFICER.value, world.street1)
    world.users["employment_officer"] = officer
    employer_user = f.UserFactory(username="employer1")
    pending_user = f.UserFactory(username="employer2")
    seeker_user = f.UserFactory(username="seeker1")
    hidden_user = f.UserFactory(username="seeker2")
    employer = make_employer(world.street1, "重庆精工机床有限公司", "91500107MA5U4XKX2P", user=employer_user)
    pending = make_employer(
        world.street1, "待审核商贸有限公司", "91500107MA60YJ2B6B", status="pending", user=pending_user
    )
    other_street = make_employer(world.street2, "杨家坪物流有限公司", "91500107MA5YQ0T41K")
    seeker = make_seeker(world.street1, "王师傅", ["6-18-01-01"], user=seeker_user, id_number="110101199003070011")
    hidden = make_seeker(world.street1, "赵女士", ["6-18-01-01"], user=hidden_user, discoverable=False)
    posting = make_posting(employer, "数控车工", ["6-18-01-01"])
    return SimpleNamespace(
        officer=officer,
        employer=employer,
        employer_user=employer_user,
        pending=pending,
        pending_user=pending_user,
        other_street=other_street,
        seeker=seeker,
        seeker_user=seeker_user,
        hidden=hidden,
        hidden_user=hidden_user,
        posting=posting,
    )
