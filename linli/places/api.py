"""/api/v1/ for the place tree and rosters. Read-only here, except imports (``/imports/``: upload →
preview → confirm or cancel, through ``linli.places.services``); every queryset passes through the
one permission check."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts.audit import LoggedReads
from linli.accounts.permissions import scoped
from linli.accounts.roles import Action
from linli.accounts.services import reveal
from linli.core import clock
from linli.core.api import IdField, int_param
from linli.core.errors import LinliError
from linli.core.net import client_ip
from linli.core.schema import Input, checked_text
from linli.places import models as m
from linli.places import services as svc
from linli.places.queries import imports as q
from linli.runs.api import accepted_schema, run_accepted

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


class RevealSerializer(Input):
    field = serializers.ChoiceField(choices=["id_number", "phone"])
    reason = checked_text(2, 200)  # accounts.services.reveal needs 2 characters


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
        term = (self.request.query_params.get("q") or "").strip()
        if term and self.search_fields:
            cond = Q()
            for f in self.search_fields:
                cond |= Q(**{f"{f}__icontains": term})
            qs = qs.filter(cond)
        return qs


_SEARCH = OpenApiParameter("q", str, description="name or code contains")


def _documented_filters(cls: Any) -> Any:
    """The list's schema names exactly the filters the viewset reads (``parent_filters``, ``q``):
    a parameter the schema names must do something."""
    params = [OpenApiParameter(p, int, description=f"only rows of this {p}") for p in cls.parent_filters]
    if cls.search_fields:
        params.append(_SEARCH)
    return extend_schema_view(list=extend_schema(parameters=params))(cls)


@_documented_filters
class DistrictViewSet(ScopedViewSet):
    base_queryset = m.District.objects.order_by("path")
    serializer_class = DistrictSerializer
    search_fields = ("name", "code")


@_documented_filters
class StreetViewSet(ScopedViewSet):
    base_queryset = m.Street.objects.order_by("path")
    serializer_class = StreetSerializer
    parent_filters: ClassVar = {"district": "district_id"}
    search_fields = ("name", "code")


@_documented_filters
class CommunityViewSet(ScopedViewSet):
    base_queryset = m.Community.objects.annotate(households=Count("buildings__dwellings__households")).order_by("path")
    serializer_class = CommunitySerializer
    parent_filters: ClassVar = {"street": "street_id"}
    search_fields = ("name", "code")


@_documented_filters
class CompoundViewSet(ScopedViewSet):
    base_queryset = m.Compound.objects.order_by("path")
    serializer_class = CompoundSerializer
    parent_filters: ClassVar = {"community": "community_id"}
    search_fields = ("name", "code", "address")


@_documented_filters
class BuildingViewSet(ScopedViewSet):
    base_queryset = m.Building.objects.order_by("path")
    serializer_class = BuildingSerializer
    parent_filters: ClassVar = {"compound": "compound_id", "community": "community_id", "grid": "grid_id"}
    search_fields = ("name", "code")


@_documented_filters
class UnitViewSet(ScopedViewSet):
    base_queryset = m.Unit.objects.order_by("building_id", "number")
    serializer_class = UnitSerializer
    parent_filters: ClassVar = {"building": "building_id"}


@_documented_filters
class DwellingViewSet(ScopedViewSet):
    base_queryset = m.Dwelling.objects.order_by("building_id", "unit_id", "floor", "number")
    serializer_class = DwellingSerializer
    parent_filters: ClassVar = {"building": "building_id", "unit": "unit_id", "grid": "building__grid_id"}


@_documented_filters
class GridViewSet(ScopedViewSet):
    base_queryset = m.Grid.objects.annotate(households=Count("buildings__dwellings__households")).order_by("code")
    serializer_class = GridSerializer
    parent_filters: ClassVar = {"community": "community_id"}
    search_fields = ("name", "code")


@_documented_filters
class GridMemberViewSet(LoggedReads, ScopedViewSet):
    base_queryset = m.GridMember.objects.order_by("grid_id", "role", "name")
    serializer_class = GridMemberSerializer
    parent_filters: ClassVar = {"grid": "grid_id"}


@_documented_filters
class OwnershipViewSet(LoggedReads, ScopedViewSet):
    action_required = Action.VIEW_PEOPLE
    base_queryset = m.Ownership.objects.select_related("person").order_by("dwelling_id", "id")
    serializer_class = OwnershipSerializer
    parent_filters: ClassVar = {"dwelling": "dwelling_id", "building": "dwelling__building_id"}


@_documented_filters
class ResidentViewSet(LoggedReads, ScopedViewSet):
    action_required = Action.VIEW_PEOPLE
    base_queryset = m.Resident.objects.select_related("person", "household").order_by("household_id", "id")
    serializer_class = ResidentSerializer
    parent_filters: ClassVar = {"dwelling": "household__dwelling_id", "building": "household__dwelling__building_id"}


@_documented_filters
class PersonViewSet(LoggedReads, ScopedViewSet):
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
            ip=client_ip(request),
        )
        return Response({"field": data.validated_data["field"], "value": value})


# --- imports: upload → preview → confirm or cancel --------------------------------------------------


class ImportPreviewSerializer(serializers.ModelSerializer[m.ImportPreview]):
    """A stored preview: the plan lists what would be created, changed (old → new) and removed,
    with personal data masked; ``conflicts`` are the doubts about people a worker must decide."""

    created_by = serializers.CharField(source="created_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)
    status = serializers.SerializerMethodField()

    class Meta:
        model = m.ImportPreview
        fields: ClassVar = [
            "id",
            "kind",
            "community",
            "filename",
            "size",
            "sha256",
            "status",
            "created_by",
            "created_at",
            "expires_at",
            "decided_by",
            "decided_at",
            "plan",
            "resolutions",
            "log",
            "result",
        ]

    def get_status(self, obj: m.ImportPreview) -> str:
        """pending, applied, cancelled or expired (a pending preview past ``expires_at`` is expired)."""
        if obj.status == m.ImportPreview.Status.PENDING and obj.expires_at <= clock.now():
            return str(m.ImportPreview.Status.EXPIRED)
        return str(obj.status)


def upload_too_large() -> LinliError:
    """An upload above ``LINLI_MAX_UPLOAD_BYTES`` (413): the API and the import page say the same."""
    mb = settings.LINLI_MAX_UPLOAD_BYTES // (1024 * 1024)
    return LinliError.one(
        "too_large",
        f"上传内容过大(上限 {mb} MB),请拆分后再上传。",
        f"The upload is too large (limit {mb} MB); split it and try again.",
        status=413,
    )


class ImportUploadSerializer(Input):
    """An import upload; the import page checks its form with this serializer too."""

    community = IdField(help_text="the community whose rows the file holds (EDIT needed)")
    kind = serializers.ChoiceField(choices=["roster", "boundaries"], default="roster")
    file = serializers.FileField(help_text=".xlsx or .csv roster, or a .geojson FeatureCollection")
    encoding = serializers.ChoiceField(choices=["", "utf-8", "gb18030"], default="", required=False)


class ImportResolveSerializer(Input):
    decisions = serializers.DictField(
        child=serializers.ChoiceField(choices=["rename", "separate", "stop"]),
        help_text='conflict id → decision, e.g. {"c1": "rename"}; "stop" cancels the preview',
    )


_ERRORS = inline_serializer("ImportErrors", {"errors": serializers.ListField(child=serializers.DictField())})


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("community", int, description="only previews of this community")])
)
class ImportPreviewViewSet(LoggedReads, viewsets.ReadOnlyModelViewSet):
    """Roster and boundary imports in two steps: ``POST /imports/`` uploads a file and answers the
    full preview (nothing else is written); ``POST /imports/{id}/confirm/`` applies it, all or
    nothing; ``POST /imports/{id}/cancel/`` drops it. Visible to users who may EDIT the community."""

    serializer_class = ImportPreviewSerializer
    parser_classes = (MultiPartParser, FormParser, JSONParser)

    def get_queryset(self) -> QuerySet[m.ImportPreview]:
        qs = scoped(self.request.user, Action.EDIT, m.ImportPreview.objects.all())
        community = int_param(self.request, "community")
        if community is not None:
            qs = qs.filter(community_id=community)
        return qs.select_related("created_by", "decided_by").order_by("-created_at")

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        **accepted_schema("Reading and checking the file was", {400: _ERRORS, 413: _ERRORS}),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload: **202 Accepted**; a worker reads and checks the whole file and stores its preview
        (nothing else is written). Poll `Location` (`GET /api/v1/runs/{id}/`): when done,
        `result.preview` is the preview's id (`GET /api/v1/imports/{id}/`); a file with problems
        ends `failed` with every problem in `errors` (row, column, zh, en) and nothing stored."""
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        upload = v["file"]
        if upload.size is not None and upload.size > settings.LINLI_MAX_UPLOAD_BYTES:
            raise upload_too_large()
        community = q.community_or_404(request.user, v["community"])
        run = svc.start_preview(request.user, upload, v["kind"], encoding=v.get("encoding"), community=community)
        return run_accepted(request, run)

    @extend_schema(
        request=ImportResolveSerializer, responses={200: ImportPreviewSerializer, 400: _ERRORS, 409: _ERRORS}
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Decide conflicts about people: "rename" (the same person: take the file's name),
        "separate" (different people: add a new owner) or "stop" (cancel: fix the file)."""
        preview = self.get_object()
        data = ImportResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        svc.resolve_conflicts(request.user, preview, dict(data.validated_data["decisions"]))
        return Response(ImportPreviewSerializer(self.get_queryset().get(pk=preview.pk)).data)

    @extend_schema(request=None, **accepted_schema("Applying the preview was", {409: _ERRORS}))
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Apply the preview in one transaction, in a worker: **202 Accepted** (poll `Location`).
        Refused at once with 409 (nothing started) if it was applied, cancelled or expired, or a
        conflict is undecided; the worker refuses (run `failed`, nothing written) if the file or the
        data it was made from changed since; of two simultaneous confirmations exactly one applies."""
        preview = self.get_object()
        run = svc.start_apply(request.user, preview)
        return run_accepted(request, run)

    @extend_schema(request=None, responses={200: ImportPreviewSerializer, 409: _ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Drop the preview: only its status changes."""
        preview = self.get_object()
        svc.cancel_preview(request.user, preview)
        return Response(ImportPreviewSerializer(self.get_queryset().get(pk=preview.pk)).data)


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
    router.register("imports", ImportPreviewViewSet, basename="import")
