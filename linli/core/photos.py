"""Uploaded photos (supervision reports, grid events): checked with Pillow and re-encoded.

Images only (JPEG, PNG, WebP), at most 8 MB and 40 megapixels (decompression bombs refused).
Re-encoding drops EXIF — the GPS position of the resident's phone — and anything hidden after the
image data (rules.md §6: keep no more personal data than the purpose needs).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from django.http import FileResponse, Http404
from PIL import Image, ImageOps, UnidentifiedImageError

from linli.core.errors import LinliError, Problem

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000  # 40 megapixels: any phone photo; larger is a decompression bomb
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


@dataclass
class CheckedPhoto:
    content: bytes
    ext: str
    width: int
    height: int


def check_photo(upload: Any, index: int = 1) -> CheckedPhoto:
    """Read an uploaded photo with Pillow: images only (JPEG, PNG, WebP), at most 8 MB and 40
    megapixels (decompression bombs refused). Re-encoded, which drops EXIF (GPS position of the
    resident's phone) and anything hidden after the image data."""
    size = getattr(upload, "size", None)
    if size is None or size > MAX_PHOTO_BYTES:
        raise LinliError(
            [Problem("photo_too_big", f"第 {index} 张照片超过 8 MB。", f"Photo {index} is larger than 8 MB.")], 413
        )
    raw = upload.read(MAX_PHOTO_BYTES + 1)
    if len(raw) > MAX_PHOTO_BYTES:
        raise LinliError(
            [Problem("photo_too_big", f"第 {index} 张照片超过 8 MB。", f"Photo {index} is larger than 8 MB.")], 413
        )
    not_image = LinliError.one(
        "not_an_image",
        f"第 {index} 个文件不是可识别的图片(支持 JPEG、PNG、WebP)。",
        f"File {index} is not a readable image (JPEG, PNG or WebP).",
    )
    bomb = LinliError.one(
        "photo_too_many_pixels",
        f"第 {index} 张照片像素过多(上限 4000 万像素)。",
        f"Photo {index} has too many pixels (limit 40 megapixels).",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                fmt = probe.format or ""
                width, height = probe.size
                if fmt not in PHOTO_FORMATS:
                    raise not_image
                if width * height > MAX_PHOTO_PIXELS:
                    raise bomb
                probe.verify()
            with Image.open(io.BytesIO(raw)) as opened:
                opened.load()
                img: Image.Image = ImageOps.exif_transpose(opened) or opened
                out = io.BytesIO()
                if fmt == "JPEG":
                    img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                elif fmt == "PNG":
                    img.save(out, "PNG", optimize=True)
                else:
                    img.save(out, "WEBP", quality=85)
                width, height = img.size
    except LinliError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise bomb from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise not_image from exc
    return CheckedPhoto(out.getvalue(), PHOTO_FORMATS[fmt], width, height)


def serve(image: Any) -> FileResponse:
    """An uploaded photo as a response, after the caller's permission check: private caching, no
    content sniffing; a file gone from storage is a 404, not a 500."""
    try:
        handle = image.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("photo file missing") from exc
    response = FileResponse(handle)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
