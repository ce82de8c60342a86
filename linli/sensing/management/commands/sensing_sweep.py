"""Mark devices offline that have been silent for longer than their profile allows, and raise their
"device offline" alarm (docs/sensing.md "Offline"). Run it every minute from the systemd timer
``linli-sensing-sweep.timer`` (or cron):

    manage.py sensing_sweep
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from linli.sensing.services import intake as svc


class Command(BaseCommand):
    help = "Mark silent devices offline and raise their offline alarms (run every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        gone = svc.sweep()
        self.stdout.write(f"{gone} device(s) went offline ({(time.perf_counter() - started) * 1000:.0f} ms)")
