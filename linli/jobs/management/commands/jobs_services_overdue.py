"""``manage.py jobs_services_overdue``: remind the officers of overdue key-enterprise requests.

Each open request past its deadline is told to its officer (or, without one, to the street's
employment service) once, as an ``overdue`` notification (SMS and WeChat by default, docs/
notifications.md); running it again tells nobody twice. Schedule it like the other sweeps, e.g.
every hour from a systemd timer or cron line (docs/jobs.md "Key-enterprise services").
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from linli.jobs.services import enterprise as svc


class Command(BaseCommand):
    help = "Remind officers of overdue key-enterprise requests (once each). 提醒服务专员处理超时的重点企业服务单。"

    def handle(self, *args: Any, **options: Any) -> None:
        n = svc.remind_overdue()
        self.stdout.write(f"{n} overdue request(s) / {n} 件超时服务单")
