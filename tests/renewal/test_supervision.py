"""Supervision reports with photos: images only, size and pixel limits, idempotent retries, scope."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from PIL import Image

from linli.core.errors import LinliError
from linli.renewal import services as svc
from linli.renewal.models import Phase, ReportPhoto, SupervisionReport
from tests.renewal.conftest import at_phase, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def works(project):
    return at_phase(project, Phase.WORKS)


def test_resident_and_grid_worker_report_with_photos(world, works):
    r, created = svc.submit_report(
        world.users["resident"], works, "外墙脚手架松动", photos=[png(), png(fmt="JPEG", name="a.jpg")]
    )
    assert created and r.photos.count() == 2
    ph = r.photos.order_by("id").first()
    assert (ph.width, ph.height) == (8, 6)
    r2, _ = svc.submit_report(world.users["grid_parttime"], works, "夜间施工噪音")
    assert r2.reporter == world.users["grid_parttime"]


def test_photos_lose_exif(world, works):
    buf = io.BytesIO()
    img = Image.new("RGB", (10, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    img.save(buf, "JPEG", exif=exif)
    up = SimpleUploadedFile("e.jpg", buf.getvalue(), content_type="image/jpeg")
    r, _ = svc.submit_report(world.users["resident"], works, "x", photos=[up])
    with r.photos.get().image.open("rb") as fh, Image.open(fh) as out:
        assert not out.getexif()


def test_not_an_image_refused_nothing_written(world, works):
    fake = SimpleUploadedFile("x.jpg", b"<?php echo 1; ?>" * 10, content_type="image/jpeg")
    with pytest.raises(LinliError) as e:
        svc.submit_report(world.users["resident"], works, "x", photos=[png(), fake])
    assert e.value.problems[0].code == "not_an_image" and "2" in e.value.problems[0].en
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(LinliError):
        svc.submit_report(world.users["resident"], works, "x", photos=[SimpleUploadedFile("g.gif", gif.getvalue())])
    assert not SupervisionReport.objects.exists() and not ReportPhoto.objects.exists()


def test_oversize_refused(world, works):
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (8 * 1024 * 1024), content_type="image/png")
    with pytest.raises(LinliError) as e:
        svc.submit_report(world.users["resident"], works, "x", photos=[big])
    assert e.value.status == 413 and e.value.problems[0].code == "photo_too_big"
    assert not SupervisionReport.objects.exists()


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge size (the decompression-bomb shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_refused(world, works):
    for w, h in ((20000, 20000), (100000, 100000)):
        bomb = SimpleUploadedFile("b.png", _bomb_png(w, h), content_type="image/png")
        with pytest.raises(LinliError) as e:
            svc.submit_report(world.users["resident"], works, "x", photos=[bomb])
        assert e.value.problems[0].code == "photo_too_many_pixels"
    assert not SupervisionReport.objects.exists()


def test_too_many_photos_and_empty_text(world, works):
    with pytest.raises(LinliError):
        svc.submit_report(world.users["resident"], works, "x", photos=[png() for _ in range(svc.MAX_PHOTOS + 1)])
    with pytest.raises(LinliError):
        svc.submit_report(world.users["resident"], works, "   ")
    assert not SupervisionReport.objects.exists()


def test_client_key_makes_retries_idempotent(world, works):
    u = world.users["resident"]
    a, c1 = svc.submit_report(u, works, "同一条", photos=[png()], client_key="phone-1")
    b, c2 = svc.submit_report(u, works, "同一条", photos=[png()], client_key="phone-1")
    assert c1 and not c2 and a.pk == b.pk
    assert SupervisionReport.objects.count() == 1 and ReportPhoto.objects.count() == 1
    # another user may use the same key
    _, c3 = svc.submit_report(world.users["grid_leader"], works, "同一条", client_key="phone-1")
    assert c3


def test_scope_and_phase(world, project):
    with pytest.raises(LinliError) as e:
        svc.submit_report(world.users["resident"], project, "还没开工")
    assert e.value.problems[0].code == "not_in_works"
    at_phase(project, Phase.WORKS)
    with pytest.raises(Http404):
        svc.submit_report(world.outsider, project, "x", photos=[png()])
    assert not SupervisionReport.objects.exists()


def test_staff_answer_and_resolve(world, works):
    r, _ = svc.submit_report(world.users["resident"], works, "渗水")
    with pytest.raises(PermissionDenied):
        svc.answer_report(world.users["grid_fulltime"], r, "已处理")
    with pytest.raises(LinliError):
        svc.answer_report(world.users["community_worker"], r, " ")
    svc.answer_report(world.users["community_worker"], r, "已通知施工方")
    r.refresh_from_db()
    assert r.status == SupervisionReport.Status.ANSWERED
    svc.answer_report(world.users["community_worker"], r, "已修复", resolve=True)
    with pytest.raises(LinliError):
        svc.answer_report(world.users["community_worker"], r, "again")
    r.refresh_from_db()
    assert r.status == SupervisionReport.Status.RESOLVED and r.answer == "已修复"
