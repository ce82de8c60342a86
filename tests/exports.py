"""Helpers for tests of exports made in the background (docs/runs.md): start the export as a page
does (POST), let the immediate task backend run it on commit, then fetch the run's file."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from django.test import TestCase
from django.urls import reverse

from linli.runs.models import Run


def start(client: Any, url: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    """POST ``url`` (the export's address, query string included) with on-commit callbacks run, as a
    real request's commit would (pytest-django wraps each test in a transaction); returns the
    response (a 303 to the run's page when started)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data or {}, **extra)


def started_run(response: Any) -> Run:
    assert response.status_code == 303, (response.status_code, response.content[:500])
    location = response["Location"]
    pk = int(location.rstrip("/").split("/")[-1])
    assert location == reverse("runs:detail", args=[pk])
    return Run.objects.get(pk=pk)


def export_file(client: Any, url: str, data: dict[str, Any] | None = None) -> tuple[Run, Any]:
    """Start the export at ``url``, check its run is done, and download the file."""
    run = started_run(start(client, url, data))
    run.refresh_from_db()
    assert run.status == Run.Status.DONE, (run.status, run.message_en, run.errors)
    page = client.get(reverse("runs:detail", args=[run.pk]))
    assert page.status_code == 200 and reverse("runs:file", args=[run.pk]).encode() in page.content
    response = client.get(reverse("runs:file", args=[run.pk]))
    assert response.status_code == 200
    return run, response


def content(response: Any) -> bytes:
    return b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content


def workbook(response: Any) -> Any:
    return openpyxl.load_workbook(io.BytesIO(content(response)), read_only=True)
