"""What the intake pipeline hands the alarm service (pure Python, no Django).

The pipeline (``services/intake.py``) runs each channel's rules (``rules.py``) and maps lift fault
codes (``faults.py``); every resulting raise or clear becomes one ``Transition``. The alarm service
(``services/alarms.apply``) takes them in batches, in time order per (device, alarm type).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Kind = Literal["raise", "clear"]


@dataclass(frozen=True, slots=True)
class Transition:
    device_id: int
    channel_id: int | None  # None for a device-wide alarm (offline)
    alarm_type: str  # an ``AlarmType`` value (models.py)
    severity: str  # a ``Severity`` value (models.py)
    at: datetime  # aware, UTC: the reading's time (or the tick's, for offline)
    kind: Kind
    value: float | None = None  # the reading that caused it, shown in the alarm's history
