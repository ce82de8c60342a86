"""The sections consult adds to a renovation project's pages (``linli.renewal.panels``), one
module per topic, each with its ``panel(project, user)``: needs surveys, consent from home
visits, ballots and public notices. ``ConsultConfig.ready()`` registers ``PANELS``; ``user`` is
None on the public page, where a panel shows no personal data.
"""

from __future__ import annotations

from linli.consult.panels import ballots, notices, surveys, visits

PANELS = (surveys.panel, visits.panel, ballots.panel, notices.panel)

__all__ = ["PANELS", "ballots", "notices", "surveys", "visits"]
