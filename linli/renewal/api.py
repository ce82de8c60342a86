"""/api/v1/ for renovation projects: projects (scoped), their items, phase changes, progress
reports, the effective catalogue and supervision reports (multipart, with photos).

Reads pass through ``queries`` (``scoped``/``get_or_404``); writes call ``services`` (one permission
check each) and refusals come back as ``{"errors": [{"code", "zh", "en"}]}`` with the right status.

The input serializers here also read the pages' forms (``form``): a project, an item, a phase
change, progress, a supervision report and its answer are parsed by the same code from a page
as from the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts.roles import Action
from linli.core.api import IdField, int_param
from linli.core.errors import LinliError
from linli.core.masking import mask_text
from linli.core.schema import Input
from linli.renewal import queries as q
from linli.renewal import services as svc
from linli.renewal.models import CatalogueItem, Phase, Project, ProjectItem, SupervisionReport
from linli.renewal.permissions import sees_people

# --- serializers ----------------------------------------------------------------------------------


class CatalogueItemSerializer(serializers.ModelSerializer[CatalogueItem]):
    class Meta:
        model = CatalogueItem
        fields: ClassVar = ["id", "district", "code", "item_class", "name", "name_en", "unit", "unit_cost", "active"]


class ProjectItemSerializer(serializers.ModelSerializer[ProjectItem]):
    estimate = serializers.DecimalField(max_digits=26, decimal_places=2, read_only=True)
    catalogue_code = serializers.CharField(source="catalogue_item.code", read_only=True, default=None)

    class Meta:
        model = ProjectItem
        fields: ClassVar = [
            "id",
            "project",
            "catalogue_code",
            "item_class",
            "name",
            "quantity",
            "unit",
            "unit_cost",
            "weight",
            "estimate",
            "progress",
        ]


class ProjectSerializer(serializers.ModelSerializer[Project]):
    progress = serializers.SerializerMethodField()
    estimate_total = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields: ClassVar = [
            "id",
            "compound",
            "buildings",
            "kind",
            "name",
            "summary",
            "phase",
            "eligibility_override",
            "eligibility_reason",
            "is_public",
            "created_at",
            "progress",
            "estimate_total",
        ]

    def get_progress(self, obj: Project) -> str:
        return str(q.overall_progress(q.items_of(obj)))

    def get_estimate_total(self, obj: Project) -> str:
        return str(sum((i.estimate for i in q.items_of(obj)), start=0))


class ProjectCreateSerializer(Input):
    compound = IdField()
    name = serializers.CharField(max_length=200)
    buildings = serializers.ListField(child=IdField(), required=False, default=list)
    kind = serializers.ChoiceField(choices=Project.Kind.choices, default=Project.Kind.RENOVATION)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    eligibility_override = serializers.BooleanField(required=False, default=False)
    eligibility_reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    is_public = serializers.BooleanField(required=False, default=True)


class ItemCreateSerializer(Input):
    code = serializers.CharField(required=False, allow_blank=True, default="")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    item_class = serializers.CharField(required=False, allow_blank=True, default="")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, default=Decimal(1))
    unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    unit_cost = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, default=None)
    weight = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, default=None)


class PhaseSerializer(Input):
    to_phase = serializers.ChoiceField(choices=Phase.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ItemUpdateSerializer(serializers.Serializer[Any]):
    """For the schema only: values are checked by ``services.update_item`` (bilingual errors)."""

    quantity = serializers.CharField(required=False, help_text="≥ 0, at most 2 decimals")
    unit_cost = serializers.CharField(required=False, help_text="yuan, ≥ 0, at most 2 decimals")
    weight = serializers.CharField(required=False, allow_null=True, help_text="null or empty = the cost share")


class ProgressSerializer(Input):
    progress = serializers.IntegerField(min_value=0, max_value=100)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ReportSerializer(serializers.ModelSerializer[SupervisionReport]):
    photos = serializers.SerializerMethodField()

    class Meta:
        model = SupervisionReport
        fields: ClassVar = ["id", "project", "item", "text", "status", "answer", "created_at", "client_key", "photos"]

    def to_representation(self, instance: SupervisionReport) -> dict[str, Any]:
        """The report's free text with phone and ID numbers masked unless the reader may see people's
        data at its project (department staff, operators may not)."""
        data: dict[str, Any] = super().to_representation(instance)
        if not sees_people(self.context, instance.project_id):
            for name in ("text", "answer"):
                data[name] = mask_text(data[name] or "")
        return data

    def get_photos(self, obj: SupervisionReport) -> list[dict[str, Any]]:
        from django.urls import reverse

        return [
            {"id": p.pk, "url": reverse("renewal:photo", args=[p.pk]), "width": p.width, "height": p.height}
            for p in obj.photos.all()
        ]


class ReportCreateSerializer(Input):
    project = IdField()
    text = serializers.CharField(max_length=4000)
    item = IdField(required=False, allow_null=True, default=None)
    client_key = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class AnswerSerializer(Input):
    answer = serializers.CharField(max_length=4000)
    resolve = serializers.BooleanField(required=False, default=False)


# --- page forms ---------------------------------------------------------------------------------


# --- viewsets -------------------------------------------------------------------------------------


class ProjectViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ProjectSerializer

    def get_queryset(self) -> QuerySet[Project]:
        qs = q.projects_for(self.request.user).prefetch_related("buildings", "items")
        compound = int_param(self.request, "compound")
        if compound is not None:
            qs = qs.filter(compound_id=compound)
        return qs

    @extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        compound = q.compound_to_run(request.user, v["compound"])
        buildings = q.chosen_buildings(compound, v["buildings"])
        project = svc.create_project(
            request.user,
            compound,
            v["name"],
            buildings=buildings,
            kind=v["kind"],
            summary=v["summary"],
            eligibility_override=v["eligibility_override"],
            eligibility_reason=v["eligibility_reason"],
            is_public=v["is_public"],
        )
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=ProjectItemSerializer(many=True))
    @extend_schema(methods=["POST"], request=ItemCreateSerializer, responses={201: ProjectItemSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # a plain list, not paginated
    def items(self, request: Request, pk: str | None = None) -> Response:
        """The project's items (GET), or add one from the catalogue or free (POST, CONSULT)."""
        project = self.get_object()
        if request.method == "GET":
            return Response(ProjectItemSerializer(q.items_of(project), many=True).data)
        data = ItemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = svc.add_item(request.user, project, **data.validated_data)
        return Response(ProjectItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PhaseSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def phase(self, request: Request, pk: str | None = None) -> Response:
        """Move the project one phase forward, or back with a note (CONSULT)."""
        project = self.get_object()
        data = PhaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        svc.change_phase(request.user, project, data.validated_data["to_phase"], data.validated_data["note"])
        project.refresh_from_db()
        return Response(ProjectSerializer(project).data)


class ProjectItemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProjectItemSerializer

    def get_queryset(self) -> QuerySet[ProjectItem]:
        return q.items_for(self.request.user)

    @extend_schema(request=ItemUpdateSerializer, responses=ProjectItemSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change quantity, unit cost or weight (CONSULT; refused with 409 from acceptance on).
        A key left out is kept; ``weight: null`` (or "") goes back to the cost share."""
        item = self.get_object()
        data = request.data
        kwargs: dict[str, Any] = {}
        for key in ("quantity", "unit_cost"):
            if key in data:
                kwargs[key] = "" if data[key] is None or isinstance(data[key], bool) else data[key]
        if "weight" in data:
            w = data["weight"]
            kwargs["weight"] = None if w is None or w == "" else ("x" if isinstance(w, bool) else w)
        svc.update_item(request.user, item, **kwargs)
        return Response(ProjectItemSerializer(item).data)

    @extend_schema(request=ProgressSerializer, responses={201: ProjectItemSerializer})
    @action(detail=True, methods=["post"])
    def progress(self, request: Request, pk: str | None = None) -> Response:
        """Append a progress report (CONSULT, once works have started)."""
        item = self.get_object()
        data = ProgressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        svc.report_progress(request.user, item, data.validated_data["progress"], data.validated_data["note"])
        return Response(ProjectItemSerializer(item).data, status=status.HTTP_201_CREATED)


class CatalogueViewSet(viewsets.ViewSet):
    """The effective catalogue of a district (?district=<id>, default: the user's first)."""

    @extend_schema(responses=CatalogueItemSerializer(many=True))
    def list(self, request: Request) -> Response:
        districts = q.catalogue_districts(request.user)
        wanted = request.query_params.get("district", "")
        district = next((d for d in districts if str(d.pk) == wanted), None if wanted else next(iter(districts), None))
        if district is None and wanted:
            raise LinliError.one("not_found", "未找到该区。", "No such district within your scope.", 404)
        return Response(CatalogueItemSerializer(svc.effective_catalogue(district), many=True).data)


class SupervisionReportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ReportSerializer
    parser_classes = (MultiPartParser, FormParser, JSONParser)

    def get_queryset(self) -> QuerySet[SupervisionReport]:
        return q.reports_for(self.request.user, int_param(self.request, "project"))

    @extend_schema(request={"multipart/form-data": ReportCreateSerializer}, responses={201: ReportSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A resident supervisor's report with photos (multipart ``photos``); a repeated
        ``client_key`` returns the first report with 200 instead of creating another."""
        data = ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        project = q.project(request.user, Action.VIEW, v["project"])
        item = None
        if v["item"] is not None:
            item = q.item_of(project, v["item"])
            if item is None:
                raise LinliError.one(
                    "item_not_in_project", "所选改造项不属于本项目。", "The chosen item is not part of this project."
                )
        photos = request.FILES.getlist("photos") if hasattr(request, "FILES") else []
        report, created = svc.submit_report(
            request.user, project, v["text"], photos=photos, item=item, client_key=v["client_key"]
        )
        return Response(
            ReportSerializer(report, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=AnswerSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        """Staff answer (CONSULT); ``resolve`` closes the report."""
        report = self.get_object()
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = svc.answer_report(
            request.user, report, data.validated_data["answer"], resolve=data.validated_data["resolve"]
        )
        return Response(ReportSerializer(report).data)


def register(router: DefaultRouter) -> None:
    router.register("projects", ProjectViewSet, basename="project")
    router.register("project-items", ProjectItemViewSet, basename="project-item")
    router.register("catalogue", CatalogueViewSet, basename="catalogue")
    router.register("supervision-reports", SupervisionReportViewSet, basename="supervision-report")
