"""/api/v1/ for needs surveys: surveys (visible with their project; opened with CONSULT), answers
(one per dwelling, replaced on re-answer; read where the caller may VISIT or see people) and
results by building and unit (counts of dwellings, no personal data)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts.audit import LoggedReads
from linli.consult.models import Survey, SurveyAnswer
from linli.consult.queries import surveys as q
from linli.consult.services import surveys as svc
from linli.core.api import IdField, int_param
from linli.core.schema import Input


class SurveySerializer(serializers.ModelSerializer[Survey]):
    class Meta:
        model = Survey
        fields: ClassVar = ["id", "project", "title", "opens_on", "closes_on", "created_at"]
        read_only_fields: ClassVar = ["created_at"]


class SurveyCreateSerializer(Input):
    project = IdField()
    title = serializers.CharField(max_length=200)
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()


class AnswerSerializer(serializers.ModelSerializer[SurveyAnswer]):
    wanted: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SurveyAnswer
        fields: ClassVar = ["id", "survey", "dwelling", "wanted", "comment", "updated_at"]


class AnswerInSerializer(Input):
    dwelling = IdField()
    wanted = serializers.ListField(child=IdField(), required=False, default=list)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("project", int, description="only surveys of this project")])
)
class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = SurveySerializer

    def get_queryset(self) -> QuerySet[Survey]:
        qs = q.visible_surveys(self.request.user).order_by("-opens_on", "-id")
        project = int_param(self.request, "project")
        if project is not None:
            qs = qs.filter(project_id=project)
        return qs

    @extend_schema(request=SurveyCreateSerializer, responses={201: SurveySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SurveyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        project = q.project_for(request.user, v["project"])
        survey = svc.create_survey(request.user, project, v["title"], v["opens_on"], v["closes_on"])
        return Response(SurveySerializer(survey).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AnswerInSerializer, responses={200: AnswerSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        """Answer (or re-answer, replacing) for one dwelling: VISIT there, or the resident's own."""
        survey = self.get_object()
        data = AnswerInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        dwelling = q.dwelling(v["dwelling"])
        answer = svc.answer_survey(request.user, survey, dwelling, v["wanted"], v["comment"])
        return Response(AnswerSerializer(answer).data)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        """Dwellings wanting each item, by building and unit, and their share of those answering."""
        return Response(q.survey_results(self.get_object()).as_dict())


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter(p, int, description=f"only answers of this {p}") for p in ("survey", "dwelling")]
    )
)
class SurveyAnswerViewSet(LoggedReads, viewsets.ReadOnlyModelViewSet):
    """Answers per dwelling, where the caller may VISIT or see people (a resident: their own)."""

    serializer_class = AnswerSerializer

    def get_queryset(self) -> QuerySet[SurveyAnswer]:
        qs = q.visible_answers(self.request.user).prefetch_related("wanted").order_by("survey_id", "dwelling_id")
        for param, field in (("survey", "survey_id"), ("dwelling", "dwelling_id")):
            value = int_param(self.request, param)
            if value is not None:
                qs = qs.filter(**{field: value})
        return qs


def register(router: DefaultRouter) -> None:
    router.register("surveys", SurveyViewSet, basename="survey")
    router.register("survey-answers", SurveyAnswerViewSet, basename="survey-answer")
