"""Every read of the governance app, one module per topic: ``division`` (the community's buildings
and the proposed grids), ``events`` (lists, the report page, the detail page) and ``queues`` (a
department's queue and the command centre's) and ``public`` (the public map, "me too",
following). Nothing here writes; callers import the topic module
(``from linli.governance.queries import events as q``)."""

from linli.governance.queries import division, events, public, queues

__all__ = ["division", "events", "public", "queues"]
