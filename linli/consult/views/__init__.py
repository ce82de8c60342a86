"""Pages of the consult app, one module per topic: ``ballots``, ``notices``, ``surveys``,
``visits`` (their routes are in ``linli.consult.urls``). Views stay thin: they parse the request,
call a query or a service, and render."""

from __future__ import annotations

from linli.consult.views import ballots, notices, surveys, visits

__all__ = ["ballots", "notices", "surveys", "visits"]
