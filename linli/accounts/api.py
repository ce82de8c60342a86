"""/api/v1/me/, /api/v1/grants/ (roles held at places, scoped like everything), and owner verification:
/api/v1/owner-verification/{start,confirm}/ (self-service) and /api/v1/owner-accounts/ (in person,
revoke, unlock)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts import services, verification
from linli.accounts.audit import LoggedReads
from linli.accounts.models import OwnerAccount, RoleGrant, User
from linli.accounts.permissions import get_or_404, scoped
from linli.accounts.roles import ROLES, Action, Role
from linli.core.api import IdField
from linli.core.errors import LinliError
from linli.core.schema import Input
from linli.core.types import User as RequestUser
from linli.places.models import Dwelling, Person


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


class GrantCreateSerializer(Input):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[r.value for r in Role])
    place_kind = serializers.ChoiceField(choices=RoleGrant.PlaceKind.values)
    place_id = IdField()


@extend_schema_serializer(many=False)  # /me/ is a "list" route answering one object
class MeSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    display_name = serializers.CharField()
    is_superuser = serializers.BooleanField()
    grants = GrantSerializer(many=True)


class MeViewSet(viewsets.ViewSet):
    @extend_schema(responses=MeSerializer)
    def list(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User), "signed in"  # IsAuthenticated: accounts' own model
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
        try:
            place = services.resolve_place(v["place_kind"], v["place_id"])
        except LinliError as exc:
            if exc.status == 404:  # a missing place answers like one outside the caller's scope
                raise Http404("not found or not in scope") from exc
            raise
        grant = services.grant_role(request.user, user, v["role"], place)
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.revoke_role(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- owners' voting accounts (issue 8; linli/accounts/verification.py) -----------------------------


class OwnerAccountSerializer(serializers.ModelSerializer[OwnerAccount]):
    username = serializers.CharField(source="user.username", read_only=True)
    person_name = serializers.CharField(source="person.name", read_only=True)
    verified_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="username", read_only=True)
    revoked_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = OwnerAccount
        fields: ClassVar = [
            "id",
            "username",
            "person",
            "person_name",
            "method",
            "verified_at",
            "verified_by",
            "dwelling",
            "document_kind",
            "document_masked",
            "phone_masked",
            "note",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
        ]
        read_only_fields: ClassVar = fields


class InPersonSerializer(Input):
    username = serializers.CharField(max_length=150, help_text="the owner's account")
    person = IdField(help_text="the owner (places.Person id)")
    dwelling = IdField(help_text="a dwelling the person owns")
    document_kind = serializers.ChoiceField(choices=OwnerAccount.Document.choices)
    document_number = serializers.CharField(max_length=40, help_text="kept masked; an ID card must match")
    document_seen = serializers.BooleanField(help_text="the worker saw the original document (must be true)")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RevokeSerializer(Input):
    reason = serializers.CharField(max_length=300)


class UnlockSerializer(Input):
    person = IdField()
    dwelling = IdField()


class StartSmsSerializer(Input):
    dwelling = IdField(help_text="one of the caller's dwellings")
    id_number = serializers.CharField(max_length=40, help_text="the owner's ID number (compared, never stored)")


class ChallengeSerializer(serializers.Serializer[Any]):
    challenge = serializers.IntegerField(help_text="pass it to confirm")
    phone_masked = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ConfirmSmsSerializer(Input):
    challenge = IdField()
    code = serializers.CharField(max_length=6, min_length=6)


def _owned_dwelling(user: RequestUser, pk: int) -> Dwelling:
    return get_or_404(user, Action.VIEW, Dwelling, pk=pk)


def _dwelling_and_person(user: RequestUser, v: dict[str, Any]) -> tuple[Dwelling, Person]:
    """The dwelling (404 outside the user's sight) and the person a worker's request names."""
    dwelling = _owned_dwelling(user, v["dwelling"])
    person = Person.objects.filter(pk=v["person"]).first()
    if person is None:
        raise LinliError.one(
            "not_an_owner", "此人不是该房屋登记的业主。", "This person is not a registered owner of this dwelling."
        )
    return dwelling, person


class OwnerAccountViewSet(LoggedReads, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Owners' voting accounts: the caller's own, and those of owners at whose dwellings the caller
    may ``consult`` or ``visit``. POST verifies an owner in person (a worker who saw the document;
    never the worker's own account, never an account holding a staff role); ``revoke`` ends one
    with a reason; ``unlock`` lifts an owner's SMS lock. The API call is the confirmation."""

    serializer_class = OwnerAccountSerializer

    def get_queryset(self) -> QuerySet[OwnerAccount]:
        user = self.request.user
        base = OwnerAccount.objects.select_related("user", "person", "verified_by", "revoked_by")
        work = scoped(user, Action.CONSULT, OwnerAccount.objects.all()).values("pk")
        visit = scoped(user, Action.VISIT, OwnerAccount.objects.all()).values("pk")
        return base.filter(Q(user_id=getattr(user, "pk", None)) | Q(pk__in=work) | Q(pk__in=visit)).order_by(
            "-verified_at", "-id"
        )

    @extend_schema(request=InPersonSerializer, responses={201: OwnerAccountSerializer})
    def create(self, request: Request) -> Response:
        data = InPersonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        dwelling, person = _dwelling_and_person(request.user, v)
        account = get_user_model().objects.filter(username=v["username"]).first()
        if account is None:
            raise LinliError.one("unknown_account", "账号不存在或已停用。", "No such account, or it is disabled.")
        row = verification.verify_in_person(
            request.user,
            account,
            person,
            dwelling,
            document_kind=v["document_kind"],
            document_number=v["document_number"],
            seen=v["document_seen"],
            note=v.get("note", ""),
        )
        return Response(OwnerAccountSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevokeSerializer, responses=OwnerAccountSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = get_or_404(request.user, Action.VIEW, OwnerAccount, pk=pk)
        row = verification.revoke(request.user, row, data.validated_data["reason"])
        return Response(OwnerAccountSerializer(row).data)

    @extend_schema(
        request=UnlockSerializer, responses=inline_serializer("OwnerUnlock", {"cleared": serializers.IntegerField()})
    )
    @action(detail=False, methods=["post"])
    def unlock(self, request: Request) -> Response:
        data = UnlockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        dwelling, person = _dwelling_and_person(request.user, v)
        return Response({"cleared": verification.unlock_sms(request.user, person, dwelling)})


class OwnerVerificationViewSet(viewsets.ViewSet):
    """Self-service owner verification: ``start`` (a dwelling of the caller + the owner's ID number
    → a one-time code to the owner's phone on record), then ``confirm`` (the code → the caller's
    account becomes the owner's voting account). Refusals are bilingual 4xx."""

    @extend_schema(request=StartSmsSerializer, responses={201: ChallengeSerializer})
    @action(detail=False, methods=["post"])
    def start(self, request: Request) -> Response:
        data = StartSmsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        row = verification.start_sms(request.user, _owned_dwelling(request.user, v["dwelling"]), v["id_number"])
        return Response(
            {"challenge": row.pk, "phone_masked": row.phone_masked, "expires_at": row.expires_at},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=ConfirmSmsSerializer, responses={201: OwnerAccountSerializer})
    @action(detail=False, methods=["post"])
    def confirm(self, request: Request) -> Response:
        data = ConfirmSmsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        row = verification.confirm_sms(request.user, v["challenge"], v["code"])
        return Response(OwnerAccountSerializer(row).data, status=status.HTTP_201_CREATED)


def register(router: DefaultRouter) -> None:
    router.register("me", MeViewSet, basename="me")
    router.register("grants", GrantViewSet, basename="grant")
    router.register("owner-accounts", OwnerAccountViewSet, basename="owner-account")
    router.register("owner-verification", OwnerVerificationViewSet, basename="owner-verification")
