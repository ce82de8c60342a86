"""Every write of the sensing app: intake (readings → rules → transitions), alarms, devices, storage."""

from linli.sensing.services import alarms, devices, imports, intake, storage

__all__ = ["alarms", "devices", "imports", "intake", "storage"]
