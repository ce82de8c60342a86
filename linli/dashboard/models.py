"""The command centre's roll-up of grid events (issue 11 §2, docs/dashboard.md "The roll-up").

``Rollup`` holds counts of ``governance.Event`` for three kinds of fact:

- ``due`` (应结): events whose ``due_at`` falls on the day, not voided; ``n`` of them, and how many are
  ``closed``, ``on_time``, ``reworked``. ``deferred_until`` stays exact (docs/rules.md §7: "not deferred
  at the end of the period, or now") without multiplying the keys: events that have one are kept
  apart, per day with their ``deferred_until`` (grain ``x``); every other row has it empty;
- ``reported``: events whose ``created_at`` falls on the day (the trend);
- ``closed``: closed or evaluated events whose ``closed_at`` falls on the day (the trend).

Each **level** is a narrow aggregate for one question, keyed only on what that question and the
scopes that read it need (every path is the event's **community** path — a grid lies in one
community — so a prefix match by a district, street or community grant is exact):

=====  =======================================  =====================================================
level  key (besides kind and day)               answers
=====  =======================================  =====================================================
``F``  community, grid, department, category     the finest day grain (grain ``c``) the others are summed
                                                from; per-category counts
``A``  community, grid, department               rates and trend for grid, department and mixed scopes
``D``  community, department                     rates per department for place scopes (district …
                                                community) and superusers
``G``  community, grid                           rates per grid for place scopes
``P``  community                                 the trend for place scopes
``T``  department                                the trend for department scopes
=====  =======================================  =====================================================

Grains: ``c`` (level F only) a day with the category; ``d`` a day, ``w`` a Monday-based week, ``m`` a
calendar month, ``x`` a day of deferred events (levels A, D, G, kind due). ``due`` facts are kept at
levels F, A, D, G (grains d, w, m, x); ``reported``/``closed`` at F, A, P, T (grains d, w). Any period is
read as whole months + whole weeks + single days (``metrics.cover``). Users holding a grant at a
compound (rare) are counted from the raw events (``permissions.rollup_levels``).

The scope columns are those of ``Event.scope`` (path, grid, department), so
``permissions.scoped(user, Action.EVENTS, Rollup.objects.all())`` filters the roll-up as it filters
the raw events; a level without a column keeps it empty (no department grant matches a level-P row).

``RollupPending`` is the queue of changed or deleted events (one row per update or delete, with the
days the event counted under *before*; new events are found by the id watermark) and
``RollupState`` the watermark of the last refresh (``services.py``).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from linli.core.scope import Scope


class Rollup(models.Model):
    class Level(models.TextChoices):
        FINE = "F", "community × grid × department × category"
        ALL = "A", "community × grid × department"
        DEPARTMENT = "D", "community × department"
        GRID = "G", "community × grid"
        PLACE = "P", "community"
        TEAM = "T", "department"

    class Grain(models.TextChoices):
        CATEGORY_DAY = "c", "day × category"
        DAY = "d", "day"
        WEEK = "w", "week (Monday)"
        MONTH = "m", "month"
        DEFERRED = "x", "day, deferred events"

    class Kind(models.TextChoices):
        DUE = "u", "due 应结"
        REPORTED = "r", "reported 上报"
        CLOSED = "c", "closed 结案"

    level = models.CharField(max_length=1, choices=Level.choices)
    grain = models.CharField(max_length=1, choices=Grain.choices)
    kind = models.CharField(max_length=1, choices=Kind.choices)
    day = models.DateField()  # the day, the Monday of the week, the first of the month (local)
    department_id = models.IntegerField(null=True)
    grid_id = models.IntegerField(null=True)
    category_id = models.IntegerField(null=True)  # only in grain "c"
    path = models.CharField(max_length=120)  # the community's path ("" at level T)
    deferred_until = models.DateTimeField(null=True)  # grains "c" and "x" of kind "due" only
    n = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)

    scope: ClassVar[Scope] = Scope.of(path="path", grid="grid_id", department="department_id")

    class Meta:
        verbose_name = "roll-up row"
        verbose_name_plural = "roll-up"
        indexes: ClassVar = [
            models.Index(fields=["level", "kind", "grain", "day"], name="rollup_read"),
            # department scopes read level A months and weeks of their department only
            models.Index(fields=["department_id", "level", "kind", "grain", "day"], name="rollup_dept"),
        ]

    def __str__(self) -> str:
        return f"{self.level}{self.grain}{self.kind} {self.day} n={self.n}"


class RollupPending(models.Model):
    """An event changed or deleted since the last refresh, with the local days it counted under
    before (a new event needs no row: the refresh finds it above the id watermark); or, with
    ``gap_xid``, an id below the watermark no event had yet at the last refresh (PostgreSQL: a
    transaction still open may commit it), watched until every transaction older than ``gap_xid``
    has ended."""

    event_id = models.BigIntegerField()
    old_created = models.DateField(null=True)
    old_due = models.DateField(null=True)
    old_closed = models.DateField(null=True)
    gap_xid = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"event {self.event_id}"


class RollupState(models.Model):
    """One row: the highest event id rolled up (bulk inserts bypass the save hook) and when."""

    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)
    full_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"rolled up to event {self.last_event_id}"
