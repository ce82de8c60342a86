"""A notice's PDF is rendered once per published version by a background task and kept; the page
serves the kept file, and renders (and keeps) it itself when the file is not there yet or was lost
(issue 11 §1, docs/consult.md "The notice PDF").

In tests the task backend is immediate: the task runs when the publishing transaction's on-commit
callbacks run (``django_capture_on_commit_callbacks(execute=True)``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.consult import pdf
from linli.consult import tasks as consult_tasks
from linli.consult.models import Notice
from linli.consult.services import notices as svc

pytestmark = pytest.mark.django_db

SITE = "https://linli.example.cn"


@pytest.fixture(autouse=True)
def pdf_dir(settings: Any, tmp_path: Path) -> Path:
    settings.LINLI_NOTICE_PDF_DIR = tmp_path / "notice-pdfs"
    settings.CSRF_TRUSTED_ORIGINS = [SITE]
    return settings.LINLI_NOTICE_PDF_DIR


@pytest.fixture
def renders(monkeypatch: Any) -> list[str]:
    """Counts the renderings (the titles rendered)."""
    seen: list[str] = []
    real = pdf.notice_pdf

    def counting(**kwargs: Any) -> bytes:
        seen.append(kwargs["title"])
        return real(**kwargs)

    monkeypatch.setattr(pdf, "notice_pdf", counting)
    return seen


def publish(world: Any, project: Any, capture: Any, **fields: Any) -> Notice:
    with capture(execute=True):
        return svc.publish_notice(
            world.users["community_worker"],
            project,
            kind="plan",
            title=fields.get("title", "劳动三村小区改造方案公示"),
            body=fields.get("body", "一、外墙整治。\n二、加装电梯。"),
        )


def correct(world: Any, notice: Notice, capture: Any, text: str) -> None:
    with capture(execute=True):
        svc.correct_notice(world.users["community_worker"], notice, text=text, reason="施工时间写错了")


def files(folder: Path, notice: Notice) -> list[Path]:
    return sorted((folder / str(notice.pk)).glob("*.pdf"))


def get_pdf(notice: Notice, client: Client | None = None) -> Any:
    return (client or Client()).get(reverse("consult:notice_pdf", args=[notice.pk]))


def pdf_text(data: bytes, tmp_path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed: text extraction not checked")
    path = tmp_path / "n.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return "".join(out.stdout.decode().split())


def test_publishing_renders_once_and_the_page_serves_that_file(
    world, project, pdf_dir, renders, django_capture_on_commit_callbacks, tmp_path
):
    notice = publish(world, project, django_capture_on_commit_callbacks)
    assert renders == ["劳动三村小区改造方案公示"]  # the task, at publication
    [kept] = files(pdf_dir, notice)
    assert kept.stat().st_mode & 0o077 == 0 and (pdf_dir / str(notice.pk)).stat().st_mode & 0o077 == 0
    for _ in range(3):
        r = get_pdf(notice)
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
        assert r.content == kept.read_bytes()
    assert len(renders) == 1  # readers never rendered it again
    text = pdf_text(r.content, tmp_path)
    assert "劳动三村小区改造方案公示" in text and "加装电梯" in text and notice.snapshot_sha256 in text
    assert SITE in text and "testserver" not in text  # the configured address, not the reader's host
    assert not list(pdf_dir.rglob("*.tmp"))  # no temporary file left behind


def test_nothing_is_rendered_before_the_notice_is_committed(
    world, project, pdf_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice = svc.publish_notice(world.users["community_worker"], project, kind="plan", title="t", body="b")
    assert callbacks and not files(pdf_dir, notice)  # the PDF's (and the notifications') wait
    for callback in callbacks:
        callback()
    assert len(files(pdf_dir, notice)) == 1


def test_a_correction_is_a_new_file_and_the_old_one_stays(
    world, project, pdf_dir, renders, django_capture_on_commit_callbacks, tmp_path
):
    notice = publish(world, project, django_capture_on_commit_callbacks)
    [first] = files(pdf_dir, notice)
    before, stat = first.read_bytes(), first.stat()
    correct(world, notice, django_capture_on_commit_callbacks, "施工时间改为七月一日。")
    assert len(renders) == 2
    kept = files(pdf_dir, notice)
    assert len(kept) == 2 and first in kept
    assert first.read_bytes() == before and first.stat().st_mtime_ns == stat.st_mtime_ns  # untouched
    [second] = [p for p in kept if p != first]
    r = get_pdf(notice)
    assert r.content == second.read_bytes() and len(renders) == 2
    text = pdf_text(r.content, tmp_path)
    assert "施工时间改为七月一日" in text and "更正" in text
    assert "施工时间改为七月一日" not in pdf_text(before, tmp_path)


def test_a_missing_file_is_rendered_on_demand_and_kept(
    world, project, pdf_dir, renders, django_capture_on_commit_callbacks
):
    notice = publish(world, project, django_capture_on_commit_callbacks)
    shutil.rmtree(pdf_dir)  # lost (or the task has not run yet)
    r = get_pdf(notice)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-") and len(renders) == 2
    [kept] = files(pdf_dir, notice)
    assert kept.read_bytes() == r.content
    assert get_pdf(notice).content == r.content and len(renders) == 2


def test_without_the_task_the_first_reader_renders_it(world, project, pdf_dir, renders):
    # no on-commit callbacks run here: as if no worker had picked the task up yet
    notice = svc.publish_notice(world.users["community_worker"], project, kind="plan", title="t", body="b")
    assert not files(pdf_dir, notice) and renders == []
    first = get_pdf(notice).content
    assert get_pdf(notice).content == first and renders == ["t"]


def test_a_damaged_file_is_replaced(world, project, pdf_dir, django_capture_on_commit_callbacks):
    notice = publish(world, project, django_capture_on_commit_callbacks)
    [kept] = files(pdf_dir, notice)
    kept.write_bytes(kept.read_bytes()[:100])  # a half-written disk block
    r = get_pdf(notice)
    assert r.content.startswith(b"%PDF-") and r.content.rstrip().endswith(b"%%EOF")
    assert kept.read_bytes() == r.content


def test_the_task_keeps_a_version_once(world, project, pdf_dir, renders, django_capture_on_commit_callbacks):
    notice = publish(world, project, django_capture_on_commit_callbacks)
    [kept] = files(pdf_dir, notice)
    before = kept.read_bytes()
    consult_tasks.render_notice_pdf.call(notice.pk)  # a second run of the same task
    assert kept.read_bytes() == before and len(renders) == 1 and files(pdf_dir, notice) == [kept]
    consult_tasks.render_notice_pdf.call(10**9)  # a notice that is gone: nothing, no error
    assert svc.keep_pdf(10**9) is False


def test_permission_is_unchanged_for_a_private_project(
    world, project, pdf_dir, renders, django_capture_on_commit_callbacks, client_for
):
    project.is_public = False
    project.save(update_fields=["is_public"])
    notice = publish(world, project, django_capture_on_commit_callbacks)
    [kept] = files(pdf_dir, notice)  # rendered by the task all the same (no address printed)
    assert get_pdf(notice).status_code == 404  # not signed in
    assert get_pdf(notice, client_for(world.outsider)).status_code == 404  # a stranger (community B)
    r = get_pdf(notice, client_for(world.users["community_worker"]))
    assert r.status_code == 200 and r.content == kept.read_bytes()
    assert Client().get(reverse("consult:notice_pdf", args=[10**9])).status_code == 404
    assert len(renders) == 1


def test_a_public_notice_waits_for_an_address(
    world, project, pdf_dir, settings, renders, django_capture_on_commit_callbacks, tmp_path
):
    settings.CSRF_TRUSTED_ORIGINS = []
    notice = publish(world, project, django_capture_on_commit_callbacks)
    assert renders == [] and not files(pdf_dir, notice)  # the task does not guess the address
    r = get_pdf(notice)
    assert "http://testserver/" in pdf_text(r.content, tmp_path)  # the reader's, as before
    settings.CSRF_TRUSTED_ORIGINS = ["https://linli.district.example"]
    assert svc.site_origin() == "https://linli.district.example"
    assert svc.keep_pdf(notice.pk) is True and len(files(pdf_dir, notice)) == 2  # another address, another file


def test_a_queue_that_is_down_does_not_stop_publishing(
    world, project, pdf_dir, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    class Down:
        def enqueue(self, *args: Any, **kwargs: Any) -> None:
            raise ConnectionError("queue down")

    monkeypatch.setattr(consult_tasks, "render_notice_pdf", Down())
    notice = publish(world, project, django_capture_on_commit_callbacks)
    assert Notice.objects.filter(pk=notice.pk).exists() and "could not be queued" in caplog.text
    assert get_pdf(notice).status_code == 200 and len(files(pdf_dir, notice)) == 1


def test_a_disk_that_cannot_be_written_still_serves_the_pdf(world, project, settings, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.LINLI_NOTICE_PDF_DIR = blocker / "notice-pdfs"
    notice = svc.publish_notice(world.users["community_worker"], project, kind="plan", title="t", body="b")
    r = get_pdf(notice)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-") and "could not be kept" in caplog.text


# --- the QR code and the seal area (issue 12 §11) ------------------------------------------------------


def pdf_images(data: bytes, tmp_path: Path) -> list[Path]:
    """The images embedded in the PDF, as their own pixels (``pdfimages -png``)."""
    if not shutil.which("pdfimages"):
        pytest.skip("pdfimages (poppler-utils) is not installed: images not checked")
    path = tmp_path / "q.pdf"
    path.write_bytes(data)
    out = tmp_path / "img"
    out.mkdir(exist_ok=True)
    subprocess.run(["pdfimages", "-png", str(path), str(out / "i")], capture_output=True, check=True)
    return sorted(out.glob("i-*.png"))


def qr_modules(png: Path) -> list[list[bool]]:
    """The dark modules of a QR image of one pixel per module, its 4-module quiet zone cut off."""
    from PIL import Image as PILImage

    img = PILImage.open(png).convert("L")
    w, h = img.size
    px = img.load()
    return [[px[x, y] < 128 for x in range(4, w - 4)] for y in range(4, h - 4)]


def test_the_printed_notice_carries_a_qr_code_of_its_public_page(
    world, project, pdf_dir, django_capture_on_commit_callbacks, tmp_path
):
    import segno

    notice = publish(world, project, django_capture_on_commit_callbacks)
    data = get_pdf(notice).content
    url = f"{SITE}/consult/notices/{notice.pk}/public/"
    assert url == SITE + reverse("consult:notice_public", args=[notice.pk])
    text = pdf_text(data, tmp_path)
    assert url in text and "扫码查看公示全文" in text
    [png] = pdf_images(data, tmp_path)
    # the image's modules are exactly those of the page's address (decoding by re-encoding)
    expected = [[bool(v) for v in row] for row in segno.make(url, error="m", micro=False).matrix]
    assert qr_modules(png) == expected
    other = [[bool(v) for v in row] for row in segno.make(url + "x", error="m", micro=False).matrix]
    assert qr_modules(png) != other
    # and the address leads to the notice
    page = Client().get(reverse("consult:notice_public", args=[notice.pk]))
    assert page.status_code == 200 and notice.title in page.content.decode()


def test_the_printed_notice_has_a_seal_area_with_the_issuer_and_date(
    world, project, pdf_dir, django_capture_on_commit_callbacks, tmp_path
):
    notice = publish(world, project, django_capture_on_commit_callbacks)
    text = pdf_text(get_pdf(notice).content, tmp_path)
    snap = svc.shown(notice)
    d = snap["starts_on_date"]
    assert "盖章处" in text
    tail = text[text.index("盖章处") :]
    assert "".join(snap["issuer"].split()) in tail and f"{d.year}年{d.month}月{d.day}日" in tail


def test_a_private_projects_notice_has_the_seal_area_but_no_qr_code(
    world, project, pdf_dir, django_capture_on_commit_callbacks, client_for, tmp_path
):
    project.is_public = False
    project.save(update_fields=["is_public"])
    notice = publish(world, project, django_capture_on_commit_callbacks)
    data = get_pdf(notice, client_for(world.users["community_worker"])).content
    assert "盖章处" in pdf_text(data, tmp_path) and "扫码" not in pdf_text(data, tmp_path)
    assert pdf_images(data, tmp_path) == []


def test_the_qr_code_is_drawn_at_its_printed_size():
    image = pdf.qr_image("https://linli.example.cn/consult/notices/1/public/")
    assert image.drawWidth == image.drawHeight == pdf.QR_SIZE
