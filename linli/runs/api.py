"""/api/v1/runs/: background runs as JSON — the status an API client polls after a ``202 Accepted``
(status, rows done of total, the result, the row-level errors, the file's URL).

Scoped like the pages (``queries.run_or_404``): only the person who started a run, while they still
hold its action on its target; anyone else gets a 404. Read-only: runs are started by the
operations that need them (``POST /api/v1/imports/``, ``POST /api/v1/ballots/{id}/export/`` …),
which answer with :func:`run_accepted`."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from linli.core import clock
from linli.runs import queries as q
from linli.runs.models import Run


class RunAcceptedSerializer(serializers.Serializer[Any]):
    """A background run just started (202 Accepted): where to poll it and where its file will be."""

    run = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Run.Status.choices)
    api = serializers.URLField(help_text="The run as JSON (GET /api/v1/runs/{id}/), also in `Location`.")
    url = serializers.URLField(help_text="The run's page (progress bar, then the result).")
    file = serializers.URLField(help_text="The file, once the run is done and has one (410 after it expired).")


def run_accepted(request: Request, run: Run) -> Response:
    """**202 Accepted** with the run; ``Location`` is its JSON status (``GET /api/v1/runs/{id}/``)."""
    api = request.build_absolute_uri(reverse("run-detail", args=[run.pk]))
    body = {
        "run": run.pk,
        "status": run.status,
        "api": api,
        "url": request.build_absolute_uri(reverse("runs:detail", args=[run.pk])),
        "file": request.build_absolute_uri(reverse("runs:file", args=[run.pk])),
    }
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": api})


def accepted_schema(what: str, refusals: dict[int, Any] | None = None) -> dict[str, Any]:
    """``extend_schema`` arguments of an operation that answers 202 with a run (and ``refusals``:
    the statuses it answers at once, before starting anything)."""
    return {
        "responses": {
            **(refusals or {}),
            202: OpenApiResponse(
                RunAcceptedSerializer,
                description=f"{what} started in the background: poll `Location` (GET /api/v1/runs/{{id}}/) "
                "until `status` is done or failed.",
            ),
        },
        "parameters": [
            OpenApiParameter(
                "Location", str, OpenApiParameter.HEADER, description="The run's JSON status.", response=[202]
            )
        ],
    }


class RunErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(allow_null=True, required=False)
    column = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    zh = serializers.CharField()
    en = serializers.CharField()


class RunSerializer(serializers.ModelSerializer[Run]):
    """One run: ``done``/``total`` are live while it works; ``result`` and ``errors`` once finished
    (``errors``: row-level problems, both languages); ``file`` is set once a file can be downloaded."""

    status = serializers.CharField(help_text="queued, running, done, failed or expired")
    done = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    errors = RunErrorSerializer(many=True, read_only=True)  # type: ignore[assignment]  # a field, not .errors
    file = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = (
            "id",
            "kind",
            "title_zh",
            "title_en",
            "status",
            "done",
            "total",
            "note",
            "result",
            "errors",
            "message",
            "file",
            "filename",
            "expires_at",
            "page",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        )

    def _live(self, run: Run) -> q.Live:
        cached: dict[int, q.Live] = self.context.setdefault("live", {})
        if run.pk not in cached:
            cached[run.pk] = q.live(run)
        return cached[run.pk]

    def get_done(self, run: Run) -> int:
        return self._live(run).done

    def get_total(self, run: Run) -> int:
        return self._live(run).total

    def get_message(self, run: Run) -> dict[str, str] | None:
        return {"zh": run.message_zh, "en": run.message_en} if run.message_zh or run.message_en else None

    def get_file(self, run: Run) -> str | None:
        fresh = run.expires_at is None or run.expires_at > clock.now()
        if not (run.file and run.status == Run.Status.DONE and fresh):
            return None
        url = reverse("runs:file", args=[run.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_page(self, run: Run) -> str:
        url = reverse("runs:detail", args=[run.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class RunViewSet(viewsets.ReadOnlyModelViewSet):
    """My background runs (newest first), and one run's status to poll after a 202."""

    serializer_class = RunSerializer

    def get_queryset(self) -> Any:
        return q.recent(self.request.user, limit=1000)

    def get_object(self) -> Run:
        return q.run_or_404(self.request.user, self.kwargs["pk"])

    @extend_schema(responses={200: RunSerializer, 404: OpenApiResponse(description="not yours, or gone")})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from linli.runs.permissions import may_see

        runs = [r for r in self.get_queryset() if may_see(request.user, r)]
        page: list[Run] | None = self.paginate_queryset(runs)  # type: ignore[arg-type]
        data = self.get_serializer(page if page is not None else runs, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)


def register(router: DefaultRouter) -> None:
    router.register("runs", RunViewSet, basename="run")
