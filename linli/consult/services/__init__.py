"""Every write of the consult app, one module per topic (ballots, visits, surveys, notices).

A large app splits a room into a package by topic; callers import from the topic module."""
