"""/api/v1/ballots/: list and detail (scoped; drafts only to staff who run them), create, and the
actions open, close, withdraw, vote, lift, export, votes (who voted how: CONSULT only). Writes go
through ``linli.consult.services.ballots``; refusals answer ``{"errors": [{code, zh, en}]}`` with a
4xx.

The pages ask before an irreversible action (open, close, withdraw); the API does not: **the API
call is the confirmation**. The service rules are the same: ``close`` is refused (409
``too_early``) before the announced closing time unless every owner has voted, ``withdraw`` needs
a written ``reason``."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.accounts.audit import LoggedReads
from linli.accounts.roles import Action
from linli.consult import permissions, tasks
from linli.consult.models import Ballot, Channel, Choice, Vote
from linli.consult.queries import ballots as q
from linli.consult.services import ballots as svc
from linli.core.api import IdField, choice_param, int_param
from linli.core.errors import LinliError
from linli.core.net import client_ip
from linli.core.schema import Input, checked_text
from linli.runs import services as runs_services
from linli.runs.models import Run


class RunStartedSerializer(serializers.Serializer[Any]):
    """A background run just started (202 Accepted): where to watch it and where its file will be."""

    run = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Run.Status.choices)
    url = serializers.URLField(help_text="The run's page (progress, then the download).")
    file = serializers.URLField(help_text="The file, once the run is done (410 after it expired).")


def run_accepted(request: Request, run: Run) -> Response:
    """202 Accepted with the run, its page in ``Location``."""
    url = request.build_absolute_uri(reverse("runs:detail", args=[run.pk]))
    body = {
        "run": run.pk,
        "status": run.status,
        "url": url,
        "file": request.build_absolute_uri(reverse("runs:file", args=[run.pk])),
    }
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class BallotSerializer(serializers.ModelSerializer[Ballot]):
    result = serializers.SerializerMethodField()
    withdrawal = serializers.SerializerMethodField()
    published = serializers.SerializerMethodField()

    class Meta:
        model = Ballot
        fields: ClassVar = [
            "id",
            "project",
            "title",
            "question",
            "matter",
            "scope_kind",
            "scope_id",
            "status",
            "opens_at",
            "closes_at",
            "closed_at",
            "hide_results",
            "roll_digest",
            "result",
            "withdrawal",
            "published",
        ]
        read_only_fields: ClassVar = fields

    def get_result(self, obj: Ballot) -> dict[str, Any] | None:
        """The stored result after close, the live tally while open; null when hidden from the caller
        and for a withdrawn ballot (it decides nothing)."""
        user = self.context["request"].user
        return q.result_of(obj) if permissions.results_visible(user, obj) else None

    def get_withdrawal(self, obj: Ballot) -> dict[str, Any] | None:
        """A withdrawn ballot's published record: reason, by, at, votes cast then."""
        record = q.withdrawal_of(obj)
        if record is None:
            return None
        return {k: v for k, v in record.items() if k not in ("snapshot", "at_dt")}

    def get_published(self, obj: Ballot) -> dict[str, Any] | None:
        """The snapshot kept when the ballot was counted or withdrawn (names as they were)."""
        return q.published_of(obj)


class BallotCreateSerializer(Input):
    project = IdField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200)
    question = serializers.CharField()
    matter = serializers.ChoiceField(choices=Ballot.Matter.choices)
    scope_kind = serializers.ChoiceField(choices=Ballot.ScopeKind.choices)
    scope_id = IdField()
    closes_at = serializers.DateTimeField(required=False, allow_null=True)
    hide_results = serializers.BooleanField(required=False, default=False)


class VoteInSerializer(Input):
    choice = serializers.ChoiceField(choices=Choice.choices)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.ONLINE)
    owner_key = serializers.CharField(max_length=40, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    client_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class VoteSerializer(serializers.ModelSerializer[Vote]):
    class Meta:
        model = Vote
        fields: ClassVar = ["owner_key", "choice", "channel", "reason", "cast_at"]


class WithdrawSerializer(Input):
    reason = checked_text(svc.MIN_WITHDRAW_REASON, svc.MAX_WITHDRAW_REASON)


class LiftSerializer(Input):
    occupied = serializers.ListField(child=IdField(), required=False)
    dwelling = IdField(required=False)
    consents = serializers.BooleanField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class MineEntrySerializer(serializers.Serializer[Any]):
    dwelling = serializers.IntegerField()
    owner_key = serializers.CharField()
    area = serializers.CharField()


class ReplacedSerializer(serializers.Serializer[Any]):
    owner_key = serializers.CharField()
    online_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    entered_by = serializers.CharField()
    at = serializers.DateTimeField()
    reason = serializers.CharField()


class MineSerializer(serializers.Serializer[Any]):
    can_vote = serializers.BooleanField()
    entries = MineEntrySerializer(many=True)
    votes = VoteSerializer(many=True)
    replaced = ReplacedSerializer(many=True)
    unverified_dwellings = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="own dwellings on the roll whose owner has not verified this account",
    )


class BallotViewSet(LoggedReads, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = BallotSerializer
    # who voted how is people's data (the ballot itself is not): that read is logged
    logged_actions = frozenset({"votes"})
    logged_scope_action = Action.CONSULT

    def get_queryset(self) -> QuerySet[Ballot]:
        qs = q.visible_ballots(self.request.user).select_related("project").order_by("-created_at")
        project = int_param(self.request, "project")
        if project is not None:
            qs = qs.filter(project_id=project)
        for param, choices in (("status", Ballot.Status.values), ("scope_kind", Ballot.ScopeKind.values)):
            value = choice_param(self.request, param, choices)
            if value is not None:
                qs = qs.filter(**{param: value})
        return qs

    def _ballot(self, action_required: str) -> Ballot:
        return q.get_ballot(self.request.user, action_required, self.kwargs["pk"])

    @extend_schema(
        parameters=[
            OpenApiParameter("project", int, description="only ballots of this project"),
            OpenApiParameter("status", str, enum=Ballot.Status.values),
            OpenApiParameter("scope_kind", str, enum=Ballot.ScopeKind.values),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=BallotCreateSerializer, responses={201: BallotSerializer})
    def create(self, request: Request) -> Response:
        data = BallotCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        project = None
        if v.get("project"):
            # out of scope answers exactly like missing (404)
            project = q.project_to_view(request.user, v["project"])
        ballot = svc.create_ballot(
            request.user,
            project=project,
            title=v["title"],
            question=v["question"],
            matter=v["matter"],
            scope_kind=v["scope_kind"],
            scope_id=v["scope_id"],
            closes_at=v.get("closes_at"),
            hide_results=v.get("hide_results", False),
        )
        return Response(self.get_serializer(ballot).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=BallotSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request: Request, pk: str | None = None) -> Response:
        """Freeze the roll from the registry and open the ballot (CONSULT)."""
        ballot = svc.open_ballot(request.user, self._ballot(Action.CONSULT))
        return Response(self.get_serializer(ballot).data)

    @extend_schema(request=None, responses=BallotSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close, count and keep the immutable result with its snapshot (CONSULT). This call is the
        confirmation. Refused (409 ``too_early``) before the announced closing time unless every
        owner on the roll has voted; 409 ``ballot_withdrawn`` for a withdrawn ballot."""
        ballot = svc.close_ballot(request.user, self._ballot(Action.CONSULT))
        return Response(self.get_serializer(ballot).data)

    @extend_schema(request=WithdrawSerializer, responses=BallotSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw a draft or open ballot early (CONSULT) with a written ``reason`` (at least
        ``MIN_WITHDRAW_REASON`` characters; published). It then decides nothing and takes no votes.
        This call is the confirmation."""
        ballot = self._ballot(Action.CONSULT)  # 404/403 before the body is looked at
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ballot = svc.withdraw_ballot(request.user, ballot, data.validated_data["reason"])
        return Response(self.get_serializer(ballot).data)

    @extend_schema(request=VoteInSerializer, responses=VoteSerializer)
    @action(detail=True, methods=["post"])
    def vote(self, request: Request, pk: str | None = None) -> Response:
        """Cast or change a vote: ``online`` by the owner through their verified voting account
        (``/api/v1/owner-verification/``; a ``resident`` grant alone is refused with 403
        ``not_owner``), ``paper`` or ``proxy`` by staff (CONSULT; proxy needs ``reason``, and so does
        any vote replacing the owner's own online vote). Same ``client_key`` twice = once."""
        data = VoteInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        needed = Action.VOTE if v["channel"] == Channel.ONLINE else Action.CONSULT
        ballot = self._ballot(needed)
        vote = svc.cast_vote(
            request.user,
            ballot,
            choice=v["choice"],
            owner_key=v.get("owner_key") or None,
            channel=v["channel"],
            reason=v.get("reason", ""),
            client_key=v.get("client_key", ""),
        )
        return Response(VoteSerializer(vote).data)

    @extend_schema(request=LiftSerializer, responses=BallotSerializer)
    @action(detail=True, methods=["post"])
    def lift(self, request: Request, pk: str | None = None) -> Response:
        """A lift ballot: ``occupied`` (dwelling ids, before opening) or one owner's consent
        (``dwelling``, ``consents``, ``note``)."""
        data = LiftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        ballot = self._ballot(Action.CONSULT)
        if "dwelling" in v:
            dwelling = q.visible_dwelling(request.user, v["dwelling"])
            if dwelling is None or "consents" not in v:
                raise LinliError.one(
                    "bad_consent", "请给出房屋和是否同意。", "Give the dwelling and whether its owner consents."
                )
            svc.record_lift_consent(request.user, ballot, dwelling, v["consents"], v.get("note", ""))
        else:
            svc.set_lift_occupied(request.user, ballot, v.get("occupied", []))
        ballot.refresh_from_db()
        return Response(self.get_serializer(ballot).data)

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(
                RunStartedSerializer,
                description="The export was started in the background: follow `Location` (the run's page); "
                "the file is at `file` when the run is done (same permission check; 410 after it expired).",
            )
        },
        parameters=[
            OpenApiParameter("Location", str, OpenApiParameter.HEADER, description="The run's page.", response=[202])
        ],
    )
    @action(detail=True, methods=["post"])
    def export(self, request: Request, pk: str | None = None) -> Response:
        """Roll, votes, history and a tally sheet as .xlsx (CONSULT; logged), made in the background:
        **202 Accepted** with the run and its URLs (docs/api.md "Background work")."""
        ballot = self._ballot(Action.CONSULT)
        run = runs_services.start(
            request.user,
            "consult.ballot_export",
            tasks.export_ballot,
            action=Action.CONSULT,
            target=ballot,
            title_zh=f"导出表决名册和票:{ballot.title}",
            title_en=f"Export the roll and votes: {ballot.title}",
            ballot_id=ballot.pk,
            ip=client_ip(request),
        )
        return run_accepted(request, run)

    @extend_schema(
        responses=inline_serializer(
            "BallotVotes", {"votes": VoteSerializer(many=True), "count": serializers.IntegerField()}
        )
    )
    @action(detail=True, methods=["get"])
    def votes(self, request: Request, pk: str | None = None) -> Response:
        """Who voted how (CONSULT only: community staff of the place)."""
        ballot = self._ballot(Action.CONSULT)
        votes = q.votes_of(ballot)
        return Response({"count": votes.count(), "votes": VoteSerializer(votes, many=True).data})

    @extend_schema(responses=MineSerializer)
    @action(detail=True, methods=["get"])
    def mine(self, request: Request, pk: str | None = None) -> Response:
        """The caller's own part as an owner: the roll entries their verified voting account votes
        for, their current votes, and every paper or proxy vote that replaced their online vote
        (who, when, why). Empty lists for anyone else who sees the ballot."""
        ballot = self._ballot(Action.VIEW)
        entries = q.my_entries(request.user, ballot)
        keys = sorted({e.owner_key for e in entries})
        votes = q.my_votes(request.user, ballot)
        return Response(
            {
                "can_vote": bool(entries) and ballot.status == Ballot.Status.OPEN,
                "entries": [
                    {"dwelling": e.dwelling_id, "owner_key": e.owner_key, "area": str(e.area)} for e in entries
                ],
                "votes": VoteSerializer(list(votes.values()), many=True).data,
                "replaced": [
                    {
                        "owner_key": r["owner_key"],
                        "online_at": r["online_at"],
                        "channel": r["channel"],
                        "entered_by": r["by"],
                        "at": r["at"],
                        "reason": r["reason"],
                    }
                    for r in q.replacements(keys, ballot)
                ]
                if keys
                else [],
                "unverified_dwellings": sorted({e.dwelling_id for e in q.unverified_entries(request.user, ballot)}),
            }
        )


def register(router: DefaultRouter) -> None:
    router.register("ballots", BallotViewSet, basename="ballot")
