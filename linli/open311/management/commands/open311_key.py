"""manage.py open311_key create NAME --district CODE | list | deactivate PREFIX"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core.errors import LinliError
from linli.open311 import services as svc
from linli.open311.models import ApiKey
from linli.places.models import District


class Command(BaseCommand):
    help = "Issue, list or deactivate Open311 api keys. 签发、列出或停用 Open311 api_key。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a key (printed once)")
        create.add_argument("name", help="the client's name, e.g. 'FixMyStreet kiosk'")
        create.add_argument("--district", required=True, help="the jurisdiction's district code, e.g. 500107")
        sub.add_parser("list", help="list keys (prefixes only)")
        off = sub.add_parser("deactivate", help="deactivate a key by its prefix")
        off.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            district = District.objects.filter(code=options["district"]).first()
            if district is None:
                raise CommandError(f"未知的区代码 / unknown district code: {options['district']}")
            try:
                key, raw = svc.issue_key(options["name"], district)
            except LinliError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(raw)
            self.stderr.write(
                f"已签发 {key.name}({district.name}),请妥善保存,此后无法再次查看。"
                f" / Issued for {key.name} ({district.code}); store it now, it cannot be shown again."
            )
        elif action == "list":
            for key in ApiKey.objects.select_related("district").order_by("pk"):
                state = "active" if key.active else "inactive"
                used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "-"
                self.stdout.write(f"{key.prefix}…\t{key.name}\t{key.district.code}\t{state}\tlast used {used}")
        else:
            n = svc.deactivate_key(options["prefix"])
            if n != 1:
                raise CommandError(f"找到 {n} 个匹配的有效密钥 / {n} active keys match that prefix")
            self.stdout.write("deactivated (takes effect within LINLI_OPEN311_CACHE_SECONDS)")
