from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "MAP_TILE_URL": settings.LINLI_MAP_TILE_URL,
        "MAP_TILE_ATTRIBUTION": settings.LINLI_MAP_TILE_ATTRIBUTION,
        "MAP_TILE_CRS": settings.LINLI_MAP_TILE_CRS,
    }
