"""/api/v1/ for home visits: the visits (list scoped by VISIT or VIEW_PEOPLE; create with an
idempotency ``client_key``: a repeat returns the first visit with 200 instead of 201) and the
consensus of a project (per building, aggregates) and of one building (per dwelling: VISIT only)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts.audit import LoggedReads
from linli.accounts.roles import Action
from linli.consult import consensus, permissions, vocab
from linli.consult.models import Attitude, Visit
from linli.consult.queries import visits as q
from linli.consult.services import visits as svc
from linli.core.api import IdField, choice_param, int_param
from linli.core.schema import Input


class VisitSerializer(serializers.ModelSerializer[Visit]):
    building = serializers.IntegerField(source="dwelling.building_id", read_only=True)
    visitor = serializers.CharField(source="visitor.__str__", read_only=True)
    reason_labels = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields: ClassVar = [
            "id",
            "project",
            "dwelling",
            "building",
            "visitor",
            "visited_at",
            "attitude",
            "reasons",
            "reason_labels",
            "note",
            "next_step",
            "next_visit_on",
            "client_key",
            "created_at",
        ]

    def get_reason_labels(self, obj: Visit) -> list[dict[str, str]]:
        return [{"code": c, "zh": vocab.label(c), "en": vocab.label(c, "en")} for c in obj.reasons or []]


class VisitCreateSerializer(Input):
    project = IdField()
    dwelling = IdField()
    attitude = serializers.ChoiceField(choices=Attitude.choices)
    reasons = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    next_step = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    next_visit_on = serializers.DateField(required=False, allow_null=True, default=None)
    visited_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    client_key = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(p, int, description=f"only visits of this {p}")
            for p in ("project", "building", "dwelling")
        ]
        + [OpenApiParameter("attitude", str, enum=Attitude.values)]
    )
)
class VisitViewSet(
    LoggedReads, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Home visits 入户走访 (append-only: no update, no delete; a correction is a new visit)."""

    serializer_class = VisitSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        qs = q.visible_visits(self.request.user).select_related("visitor", "dwelling").order_by("-visited_at", "-id")
        for param, field in (
            ("project", "project_id"),
            ("building", "dwelling__building_id"),
            ("dwelling", "dwelling_id"),
        ):
            value = int_param(self.request, param)
            if value is not None:
                qs = qs.filter(**{field: value})
        attitude = choice_param(self.request, "attitude", Attitude.values)
        if attitude is not None:
            qs = qs.filter(attitude=attitude)
        return qs

    @extend_schema(request=VisitCreateSerializer, responses={201: VisitSerializer, 200: VisitSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = VisitCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        project = q.project_for(request.user, v["project"])
        dwelling = q.dwelling(v["dwelling"])
        visit = svc.log_visit(
            request.user,
            project,
            dwelling,
            attitude=v["attitude"],
            reasons=v["reasons"],
            note=v["note"],
            next_step=v["next_step"],
            next_visit_on=v["next_visit_on"],
            visited_at=v["visited_at"],
            client_key=v["client_key"],
        )
        code = status.HTTP_200_OK if svc.was_replayed(visit) else status.HTTP_201_CREATED
        return Response(VisitSerializer(visit).data, status=code)


def _state(s: consensus.DwellingState) -> dict[str, Any]:
    return {
        "dwelling": s.id,
        "unit": s.unit,
        "number": s.number,
        "floor": s.floor,
        "attitude": s.attitude,
        "last_visit": s.last_visit.isoformat() if s.last_visit else None,
        "visits": s.visits,
        "reasons": s.reasons,
        "next_visit_on": s.next_visit_on.isoformat() if s.next_visit_on else None,
    }


class ConsensusViewSet(LoggedReads, viewsets.ViewSet):
    """Consensus of a renovation project: support rate per building (aggregates, VIEW on the
    project) and, per building, each dwelling's current attitude (VISIT on the building; logged)."""

    logged_actions = frozenset({"building"})
    logged_scope_action = Action.VISIT

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        project = q.project_for(request.user, pk)
        data = q.project_consensus(project)
        return Response(
            {
                "project": project.pk,
                **data.total.as_dict(),
                "buildings": [
                    {"id": b["id"], "name": b["name"], "code": b["code"], **b["consensus"].as_dict()}
                    for b in data.buildings
                ],
                "series": consensus.series_rows(data.total.series),
            }
        )

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("building_pk", int, OpenApiParameter.PATH),
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": q.MAX_STALE_DAYS},
                description=f"not visited for this many days (default {q.DEFAULT_STALE_DAYS})",
            ),
        ],
    )
    @action(detail=True, methods=["get"], url_path="buildings/<linli_id:building_pk>", url_name="building")
    def building(self, request: Request, pk: int | None = None, building_pk: int | None = None) -> Response:
        project = q.project_for(request.user, pk)
        obj = q.project_building(project, building_pk)
        if not permissions.may_visit(request.user, obj):
            raise PermissionDenied("VISIT needed on this building")
        data = q.building_consensus(project, obj)
        days = int_param(request, "days", lo=1, hi=q.MAX_STALE_DAYS)  # out of bounds: 400, as documented
        if days is None:
            days = q.DEFAULT_STALE_DAYS
        return Response(
            {
                "project": project.pk,
                "building": obj.pk,
                **data.consensus.as_dict(),
                "series": consensus.series_rows(data.consensus.series),
                "dwellings": [_state(s) for s in data.states],
                "not_visited_days": days,
                "not_visited_for_days": [s.id for s in data.stale(days)],
            }
        )


def register(router: DefaultRouter) -> None:
    router.register("visits", VisitViewSet, basename="visit")
    router.register("consensus", ConsensusViewSet, basename="visit-consensus")
