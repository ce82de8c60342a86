"""Factories for the place tree and people (factory_boy). Shared by every app's tests."""

from __future__ import annotations

from decimal import Decimal

import factory

from linli.accounts.models import User
from linli.places import models as m


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.District
        django_get_or_create = ("code",)

    code = "500107"
    name = "九龙坡区"
    name_en = "Jiulongpo District"
    lat = 29.50
    lon = 106.50


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Street

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"{n + 1:03d}")
    name = factory.Sequence(lambda n: f"街道{n + 1}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Community

    street = factory.SubFactory(StreetFactory)
    code = factory.Sequence(lambda n: f"{n + 1:03d}")
    name = factory.Sequence(lambda n: f"社区{n + 1}")
    lat = 29.50
    lon = 106.50


class CompoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Compound

    community = factory.SubFactory(CommunityFactory)
    code = factory.Sequence(lambda n: f"{n + 1:04d}")
    name = factory.Sequence(lambda n: f"小区{n + 1}")
    build_year = 1988
    lat = 29.501
    lon = 106.501


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Grid

    community = factory.SubFactory(CommunityFactory)
    seq = factory.Sequence(lambda n: n % 999 + 1)
    code = factory.LazyAttribute(lambda o: f"{o.community.path.replace('/', '')[:12]:0<12}{o.seq:03d}")
    name = factory.LazyAttribute(lambda o: f"{o.community.name}第{o.seq}网格")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Building

    compound = factory.SubFactory(CompoundFactory)
    code = factory.Sequence(lambda n: f"{n + 1:02d}")
    name = factory.LazyAttribute(lambda o: f"{int(o.code)}栋")
    storeys = 6
    lat = 29.5012
    lon = 106.5012


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Unit

    building = factory.SubFactory(BuildingFactory)
    number = factory.Sequence(lambda n: str(n % 9 + 1))


class DwellingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Dwelling

    unit = factory.SubFactory(UnitFactory)
    floor = 1
    number = factory.Sequence(lambda n: f"{n + 1:04d}")
    area = Decimal("72.50")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Person

    name = factory.Sequence(lambda n: f"居民{n + 1}")
    birth_year = 1960


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("a-long-test-password")


def owner_account(user: User, person: m.Person, by: User | None = None) -> object:
    """Make ``user`` the verified voting account of ``person`` (as a worker's in-person check would,
    without going through it: for tests of what a verified owner may do). Issue 8: a ``resident``
    grant alone gives no vote."""
    from linli.accounts.models import OwnerAccount
    from linli.accounts.permissions import forget_grants
    from linli.core import clock

    row, _ = OwnerAccount.objects.get_or_create(
        user=user,
        person=person,
        revoked_at=None,
        defaults={
            "method": OwnerAccount.Method.IN_PERSON,
            "verified_at": clock.now(),
            "verified_by": by,
            "document_kind": OwnerAccount.Document.ID_CARD,
            "document_masked": person.id_number_masked,
        },
    )
    forget_grants(user)
    return row
