"""Every write of the governance app, one module per topic: ``division`` (grid division, rules.md
§4), ``events`` (grid events and their closed loop, open311.md) and ``public`` (residents take
part: "me too" and following a report).

A large app splits a room into a package by topic; callers import from the topic module."""
