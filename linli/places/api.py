"""/api/v1/ for the place tree and rosters. Read-only here (writes come through imports, the
admin and later issues' services); every queryset passes through the one permission check."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.accounts.services import reveal
from linli.core.api import int_param
from linli.places import models as m

# --- serializers ----------------------------------------------------------------------------------


class DistrictSerializer(serializers.ModelSerializer[m.District]):
    class Meta:
        model = m.District
        fields: ClassVar = ["id", "code", "name", "name_en", "path", "lat", "lon"]


class StreetSerializer(serializers.ModelSerializer[m.Street]):
    class Meta:
        model = m.Street
        fields: ClassVar = ["id", "district", "code", "name", "name_en", "path", "lat", "lon"]


class CommunitySerializer(serializers.ModelSerializer[m.Community]):
    households = serializers.IntegerField(read_only=True)

    class Meta:
        model = m.Community
        fields: ClassVar = ["id", "street", "code", "name", "name_en", "path", "lat", "lon", "households"]


class CompoundSerializer(serializers.ModelSerializer[m.Compound]):
    renovation_eligible_by_age = serializers.SerializerMethodField()

    class Meta:
        model = m.Compound
        fields: ClassVar = [
            "id",
            "community",
            "code",
            "name",
            "address",
            "build_year",
            "is_historic",
            "path",
            "lat",
            "lon",
            "renovation_eligible_by_age",
        ]

    def get_renovation_eligible_by_age(self, obj: m.Compound) -> bool | None:
        return obj.renovation_eligible_by_age()


class BuildingSerializer(serializers.ModelSerializer[m.Building]):
    class Meta:
        model = m.Building
        fields: ClassVar = [
            "id",
            "compound",
            "community",
            "grid",
            "code",
            "name",
            "storeys",
            "building_kind",
            "build_year",
            "has_lift",
            "path",
            "lat",
            "lon",
        ]


class UnitSerializer(serializers.ModelSerializer[m.Unit]):
    class Meta:
        model = m.Unit
        fields: ClassVar = ["id", "building", "number"]


class DwellingSerializer(serializers.ModelSerializer[m.Dwelling]):
    class Meta:
        model = m.Dwelling
        fields: ClassVar = ["id", "unit", "building", "number", "floor", "area", "area_source", "use"]


class GridSerializer(serializers.ModelSerializer[m.Grid]):
    households = serializers.IntegerField(read_only=True)

    class Meta:
        model = m.Grid
        fields: ClassVar = ["id", "community", "seq", "code", "name", "published", "households"]


class GridMemberSerializer(serializers.ModelSerializer[m.GridMember]):
    class Meta:
        model = m.GridMember
        fields: ClassVar = ["id", "grid", "role", "name", "affiliation", "phone"]


class PersonSerializer(serializers.ModelSerializer[m.Person]):
    """Masked: full values only through POST …/reveal/, which is logged."""

    class Meta:
        model = m.Person
        fields: ClassVar = ["id", "kind", "name", "id_number_masked", "phone_masked", "birth_year"]


class OwnershipSerializer(serializers.ModelSerializer[m.Ownership]):
    person = PersonSerializer(read_only=True)

    class Meta:
        model = m.Ownership
        fields: ClassVar = ["id", "dwelling", "person", "share"]


class ResidentSerializer(serializers.ModelSerializer[m.Resident]):
    person = PersonSerializer(read_only=True)
    dwelling = serializers.IntegerField(source="household.dwelling_id", read_only=True)

    class Meta:
        model = m.Resident
        fields: ClassVar = ["id", "household", "dwelling", "person", "relation"]


class RevealSerializer(serializers.Serializer[Any]):
    field = serializers.ChoiceField(choices=["id_number", "phone"])
    reason = serializers.CharField(max_length=200)


# --- viewsets -------------------------------------------------------------------------------------


class ScopedViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only viewset whose rows are those the caller may ``action`` (the one check)."""

    action_required: ClassVar[str] = Action.VIEW
    base_queryset: ClassVar[QuerySet[Any]]
    # query parameter → ORM field for simple parent filters (?community=3)
    parent_filters: ClassVar[dict[str, str]] = {}
    search_fields: ClassVar[tuple[str, ...]] = ()

    def get_queryset(self) -> QuerySet[Any]:
        qs = scoped(self.request.user, self.action_required, self.base_queryset.all())
        for param, field in self.parent_filters.items():
            value = int_param(self.request, param)
            if value is not None:
                qs = qs.filter(**{field: value})
        q = (self.request.query_params.get("q") or "").strip()
        if q and self.search_fields:
            cond = Q()
            for f in self.search_fields:
                cond |= Q(**{f"{f}__icontains": q})
            qs = qs.filter(cond)
        return qs


_PARENT_PARAMS = [
    OpenApiParameter(p, int, description=f"only rows of this {p}")
    for p in ("district", "street", "community", "compound", "building", "unit", "grid", "dwelling")
]
_SEARCH = OpenApiParameter("q", str, description="name or code contains")


@extend_schema(parameters=[*_PARENT_PARAMS, _SEARCH])
class DistrictViewSet(ScopedViewSet):
    base_queryset = m.District.objects.order_by("path")
    serializer_class = DistrictSerializer
    search_fields = ("name", "code")


@extend_schema(parameters=[*_PARENT_PARAMS, _SEARCH])
class StreetViewSet(ScopedViewSet):
    base_queryset = m.Street.objects.order_by("path")
    serializer_class = StreetSerializer
    parent_filters: ClassVar = {"district": "district_id"}
    search_fields = ("name", "code")


@extend_schema(parameters=[*_PARENT_PARAMS, _SEARCH])
class CommunityViewSet(ScopedViewSet):
    base_queryset = m.Community.objects.annotate(households=Count("buildings__dwellings__households")).order_by("path")
    serializer_class = CommunitySerializer
    parent_filters: ClassVar = {"street": "street_id"}
    search_fields = ("name", "code")


@extend_schema(parameters=[*_PARENT_PARAMS, _SEARCH])
class CompoundViewSet(ScopedViewSet):
    base_queryset = m.Compound.objects.order_by("path")
    serializer_class = CompoundSerializer
    parent_filters: ClassVar = {"community": "community_id"}
    search_fields = ("name", "code", "address")


@extend_schema(parameters=[*_PARENT_PARAMS, _SEARCH])
class BuildingViewSet(ScopedViewSet):
    base_queryset = m.Building.objects.order_by("path")
    serializer_class = BuildingSerializer
    parent_filters: ClassVar = {"compound": "compound_id", "community": "community_id", "grid": "grid_id"}
    search_fields = ("name", "code")


@extend_schema(parameters=_PARENT_PARAMS)
class UnitViewSet(ScopedViewSet):
    base_queryset = m.Unit.objects.order_by("building_id", "number")
    serializer_class = UnitSerializer
    parent_filters: ClassVar = {"building": "building_id"}


@extend_schema(parameters=_PARENT_PARAMS)
class DwellingViewSet(ScopedViewSet):
    base_queryset = m.Dwelling.objects.order_by("building_id", "unit_id", "floor", "number")
    serializer_class = DwellingSerializer
    parent_filters: ClassVar = {"building": "building_id", "unit": "unit_id", "grid": "building__grid_id"}


@extend_schema(parameters=[*_PARENT_PARAMS, _SEARCH])
class GridViewSet(ScopedViewSet):
    base_queryset = m.Grid.objects.annotate(households=Count("buildings__dwellings__households")).order_by("code")
    serializer_class = GridSerializer
    parent_filters: ClassVar = {"community": "community_id"}
    search_fields = ("name", "code")


@extend_schema(parameters=_PARENT_PARAMS)
class GridMemberViewSet(ScopedViewSet):
    base_queryset = m.GridMember.objects.order_by("grid_id", "role", "name")
    serializer_class = GridMemberSerializer
    parent_filters: ClassVar = {"grid": "grid_id"}


@extend_schema(parameters=_PARENT_PARAMS)
class OwnershipViewSet(ScopedViewSet):
    action_required = Action.VIEW_PEOPLE
    base_queryset = m.Ownership.objects.select_related("person").order_by("dwelling_id", "id")
    serializer_class = OwnershipSerializer
    parent_filters: ClassVar = {"dwelling": "dwelling_id", "building": "dwelling__building_id"}


@extend_schema(parameters=_PARENT_PARAMS)
class ResidentViewSet(ScopedViewSet):
    action_required = Action.VIEW_PEOPLE
    base_queryset = m.Resident.objects.select_related("person", "household").order_by("household_id", "id")
    serializer_class = ResidentSerializer
    parent_filters: ClassVar = {"dwelling": "household__dwelling_id", "building": "household__dwelling__building_id"}


@extend_schema(parameters=[_SEARCH])
class PersonViewSet(ScopedViewSet):
    action_required = Action.VIEW_PEOPLE
    base_queryset = m.Person.objects.order_by("id")
    serializer_class = PersonSerializer
    search_fields = ("name",)

    @extend_schema(
        request=RevealSerializer,
        responses=inline_serializer("Revealed", {"field": serializers.CharField(), "value": serializers.CharField()}),
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """The full ID number or phone of one person, with a reason; the read is logged."""
        data = RevealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Object lookup by the VIEW scope so an out-of-scope id is a 404, then the service checks REVEAL.
        person = self.get_object()
        value = reveal(
            request.user,
            person,
            data.validated_data["field"],
            data.validated_data["reason"],
            ip=request.META.get("REMOTE_ADDR"),
        )
        return Response({"field": data.validated_data["field"], "value": value})


def register(router: DefaultRouter) -> None:
    router.register("districts", DistrictViewSet, basename="district")
    router.register("streets", StreetViewSet, basename="street")
    router.register("communities", CommunityViewSet, basename="community")
    router.register("compounds", CompoundViewSet, basename="compound")
    router.register("buildings", BuildingViewSet, basename="building")
    router.register("units", UnitViewSet, basename="unit")
    router.register("dwellings", DwellingViewSet, basename="dwelling")
    router.register("grids", GridViewSet, basename="grid")
    router.register("grid-members", GridMemberViewSet, basename="gridmember")
    router.register("ownerships", OwnershipViewSet, basename="ownership")
    router.register("residents", ResidentViewSet, basename="resident")
    router.register("people", PersonViewSet, basename="person")
