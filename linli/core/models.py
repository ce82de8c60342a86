"""Core's one table: the rate-limit counters when no Redis is configured (linli/core/ratelimit.py)."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """One fixed window of one limit for one client: ``key`` is ``scope:digest(client):window``.

    Incremented with ``UPDATE … SET count = count + 1`` inside a transaction, so concurrent writers
    in any process never lose a hit. Rows whose window has passed are deleted as new ones are made.
    """

    key = models.CharField(max_length=120, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "rate-limit counter"

    def __str__(self) -> str:
        return f"{self.key} = {self.count}"
