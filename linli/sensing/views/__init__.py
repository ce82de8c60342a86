"""Pages of the sensing app."""

from linli.sensing.views import alarms, devices, imports, intake

__all__ = ["alarms", "devices", "imports", "intake"]
