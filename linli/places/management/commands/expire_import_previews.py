"""``manage.py expire_import_previews``: mark import previews past their time as expired (cron).

A pending preview older than ``LINLI_IMPORT_PREVIEW_HOURS`` can no longer be confirmed anyway; this
also wipes its stored file (which holds ID numbers in clear, encrypted at rest). Uploads do the same
in passing; run it hourly or daily where uploads are rare.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from linli.places.services import expire_previews


class Command(BaseCommand):
    help = "Expire import previews past LINLI_IMPORT_PREVIEW_HOURS / 将过期的导入预览标为过期并删除文件"

    def handle(self, *args: Any, **opts: Any) -> None:
        n = expire_previews()
        self.stdout.write(f"已过期 expired: {n}")
