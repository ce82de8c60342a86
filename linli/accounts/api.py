"""/api/v1/me/ and /api/v1/grants/: who am I, and roles held at places (scoped like everything)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts import services
from linli.accounts.models import RoleGrant
from linli.accounts.permissions import scoped
from linli.accounts.roles import ROLES, Action, Role
from linli.core.errors import LinliError


class GrantSerializer(serializers.ModelSerializer[RoleGrant]):
    username = serializers.CharField(source="user.username", read_only=True)
    role_zh = serializers.SerializerMethodField()
    role_en = serializers.SerializerMethodField()

    class Meta:
        model = RoleGrant
        fields: ClassVar = [
            "id",
            "username",
            "role",
            "role_zh",
            "role_en",
            "place_kind",
            "place_id",
            "path",
            "label",
            "granted_at",
            "revoked_at",
        ]
        read_only_fields: ClassVar = ["path", "label", "granted_at", "revoked_at"]

    def get_role_zh(self, obj: RoleGrant) -> str:
        return ROLES[Role(obj.role)].zh

    def get_role_en(self, obj: RoleGrant) -> str:
        return ROLES[Role(obj.role)].en


class GrantCreateSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[r.value for r in Role])
    place_kind = serializers.ChoiceField(choices=RoleGrant.PlaceKind.values)
    place_id = serializers.IntegerField(min_value=1)


class MeSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    display_name = serializers.CharField()
    is_superuser = serializers.BooleanField()
    grants = GrantSerializer(many=True)


class MeViewSet(viewsets.ViewSet):
    @extend_schema(responses=MeSerializer)
    def list(self, request: Request) -> Response:
        user: Any = request.user
        grants = RoleGrant.objects.filter(user=user, revoked_at__isnull=True).select_related("user")
        return Response(
            MeSerializer(
                {
                    "username": user.username,
                    "display_name": user.display_name,
                    "is_superuser": user.is_superuser,
                    "grants": grants,
                }
            ).data
        )


class GrantViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Grants below the places where the caller may manage roles. DELETE revokes (kept on record)."""

    serializer_class = GrantSerializer

    def get_queryset(self) -> QuerySet[RoleGrant]:
        qs = RoleGrant.objects.filter(revoked_at__isnull=True).select_related("user").order_by("path", "id")
        return scoped(self.request.user, Action.MANAGE_ROLES, qs)

    @extend_schema(request=GrantCreateSerializer, responses={201: GrantSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = GrantCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = get_user_model().objects.filter(username=v["username"], is_active=True).first()
        if user is None:
            raise LinliError.one("unknown_user", "用户不存在。", "No such user.", status=400)
        place = services.resolve_place(v["place_kind"], v["place_id"])
        grant = services.grant_role(request.user, user, v["role"], place)
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.revoke_role(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router: DefaultRouter) -> None:
    router.register("me", MeViewSet, basename="me")
    router.register("grants", GrantViewSet, basename="grant")
