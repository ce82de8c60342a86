"""Every read of the consult app, one module per topic: ``ballots``, ``notices``, ``surveys``,
``visits`` (the same topics as ``services``, ``views``, ``api``, ``urls`` and ``panels``).

Callers import the topic they read: ``from linli.consult.queries import ballots as q``. The
pure computations the reads hand their rows to live beside them, free of Django
(``linli.consult.rules``, ``linli.consult.consensus``).
"""

from __future__ import annotations

from linli.consult.queries import ballots, notices, surveys, visits

TOPICS = (ballots, visits, surveys, notices)

__all__ = ["TOPICS", "ballots", "notices", "surveys", "visits"]
