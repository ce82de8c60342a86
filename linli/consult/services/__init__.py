"""Every write of the consult app, one module per topic: ``ballots``, ``notices``, ``surveys``,
``visits``. Each write runs in a transaction and asks the one permission check once.

A large app splits a room into a package by topic; callers import the topic they write through:
``from linli.consult.services import ballots as svc``.
"""

from __future__ import annotations

from linli.consult.services import ballots, notices, surveys, visits

TOPICS = (ballots, visits, surveys, notices)

__all__ = ["TOPICS", "ballots", "notices", "surveys", "visits"]
