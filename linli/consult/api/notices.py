"""/api/v1/notices/ and /api/v1/objections/: public notices and the objections raised against them.

Notices: list/detail for anyone who may view the project, create and ``correct`` for CONSULT.
A notice is never changed once published (no PUT, PATCH or DELETE): ``snapshot`` is what was
published, ``corrections`` the dated corrections appended since. On the API the call is the
confirmation (the pages ask first). Objections: only staff with CONSULT see them (masked
contact), and move them forward. Residents raise objections through the public page's form (no
sign-in)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts.audit import LoggedReads
from linli.consult.models import Notice, NoticeCorrection, Objection
from linli.consult.queries import notices as q
from linli.consult.services import notices as svc
from linli.core.api import IdField, int_param
from linli.core.errors import LinliError
from linli.core.masking import mask_text
from linli.core.schema import Input, checked_text
from linli.renewal.api import sees_people


class CorrectionSerializer(serializers.ModelSerializer[NoticeCorrection]):
    class Meta:
        model = NoticeCorrection
        fields: ClassVar = ["id", "text", "reason", "by_name", "at"]


class CorrectInSerializer(Input):
    text = checked_text(1, svc.MAX_CORRECTION)
    reason = checked_text(svc.MIN_CORRECTION_REASON, svc.MAX_CORRECTION)


def _masked(value: Any) -> Any:
    """Every string in a JSON value through ``mask_text``."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


class NoticeSerializer(serializers.ModelSerializer[Notice]):
    ends_on = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    corrections = CorrectionSerializer(many=True, read_only=True)

    class Meta:
        model = Notice
        fields: ClassVar = [
            "id",
            "project",
            "ballot",
            "kind",
            "title",
            "body",
            "starts_on",
            "days",
            "ends_on",
            "state",
            "published_at",
            "snapshot",
            "snapshot_sha256",
            "corrections",
        ]
        read_only_fields: ClassVar = fields

    def get_ends_on(self, obj: Notice) -> str:
        return q.ends_on(obj).isoformat()

    def to_representation(self, instance: Notice) -> dict[str, Any]:
        """The notice's free text (body, snapshot, corrections) with phone and ID numbers masked
        unless the reader may see people's data at its project, as on the public page. The stored
        notice is unchanged; ``snapshot_sha256`` is the digest of the stored snapshot."""
        data: dict[str, Any] = super().to_representation(instance)
        if not sees_people(self.context, instance.project_id):
            data["body"] = mask_text(data["body"] or "")
            data["snapshot"] = _masked(data["snapshot"])
            for correction in data["corrections"]:
                correction["text"] = mask_text(correction["text"] or "")
                correction["reason"] = mask_text(correction["reason"] or "")
        return data

    def get_state(self, obj: Notice) -> str:
        return q.state(obj)


class NoticeCreateSerializer(Input):
    project = IdField()
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in svc.STAFF_KINDS])
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=svc.MAX_BODY)
    starts_on = serializers.DateField(required=False, allow_null=True, default=None)
    days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=svc.MAX_DAYS)
    ballot = IdField(required=False, allow_null=True, default=None)


class ObjectionSerializer(serializers.ModelSerializer[Objection]):
    class Meta:
        model = Objection
        fields: ClassVar = [
            "id",
            "notice",
            "name",
            "contact_masked",
            "dwelling_text",
            "text",
            "status",
            "response",
            "created_at",
        ]


class MoveSerializer(Input):
    status = serializers.ChoiceField(choices=Objection.Status.choices)
    response = serializers.CharField(required=False, allow_blank=True, default="", max_length=svc.MAX_RESPONSE)


class NoticeViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = NoticeSerializer

    def get_queryset(self) -> QuerySet[Notice]:
        qs = q.visible_notices(self.request.user)
        project = int_param(self.request, "project")
        if project is not None:
            qs = qs.filter(project_id=project)
        return qs

    @extend_schema(request=NoticeCreateSerializer, responses={201: NoticeSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = NoticeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        project = q.project_to_run(request.user, v["project"])
        ballot = None
        if v["ballot"] is not None:
            ballot = q.project_ballot(project, v["ballot"])
            if ballot is None:
                raise LinliError.one(
                    "ballot_not_in_project", "所选表决不属于本项目。", "The ballot is not of this project."
                )
        notice = svc.publish_notice(
            request.user,
            project,
            kind=v["kind"],
            title=v["title"],
            body=v["body"],
            starts_on=v["starts_on"],
            days=v["days"],
            ballot=ballot,
        )
        return Response(NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CorrectInSerializer, responses={201: CorrectionSerializer})
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        """Append a dated correction (CONSULT on the project; ``reason`` required). The notice and
        its snapshot stay as published. This call is the confirmation."""
        notice = self.get_object()
        data = CorrectInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        correction = svc.correct_notice(request.user, notice, text=v["text"], reason=v["reason"])
        return Response(CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)


class ObjectionViewSet(LoggedReads, viewsets.ReadOnlyModelViewSet):
    serializer_class = ObjectionSerializer

    def get_queryset(self) -> QuerySet[Objection]:
        qs = q.objections_to_run(self.request.user)
        notice = int_param(self.request, "notice")
        if notice is not None:
            qs = qs.filter(notice_id=notice)
        return qs

    @extend_schema(request=MoveSerializer, responses=ObjectionSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Forward only: received → negotiating → mediation → closed (closing needs a response)."""
        objection = self.get_object()
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = svc.move_objection(
            request.user, objection, data.validated_data["status"], data.validated_data["response"]
        )
        return Response(ObjectionSerializer(moved).data)


def register(router: DefaultRouter) -> None:
    router.register("notices", NoticeViewSet, basename="notice")
    router.register("objections", ObjectionViewSet, basename="objection")
