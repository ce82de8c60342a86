"""Fixtures of the renewal tests: photos go to a temporary media root; helpers for phases."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def png(width: int = 8, height: int = 6, name: str = "p.png", fmt: str = "PNG") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, fmt)
    ctype = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[fmt]
    return SimpleUploadedFile(name, buf.getvalue(), content_type=ctype)


def at_phase(project: Any, phase: str) -> Any:
    from linli.renewal.models import Project

    Project.objects.filter(pk=project.pk).update(phase=phase)
    project.refresh_from_db()
    return project
