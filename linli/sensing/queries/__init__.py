"""Every read of the sensing app's pages and API."""

from linli.sensing.queries import alarms, devices, intake

__all__ = ["alarms", "devices", "intake"]
