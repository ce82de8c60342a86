"""Project progress from weighted items (pure Python), like Decidim's accountability results.

Each item has a progress (0–100, its latest report) and a weight. An item without an explicit
weight weighs its share of the project's estimated cost, in percent (an item that costs a quarter
of the estimate weighs 25); an explicit weight is read on the same 0–100 scale. The project's
progress is the weighted mean of its items' progress, computed exactly (Fraction) and rounded to
one decimal at the end. When every weight is zero (no costs entered yet, or weights all set to 0)
every item counts equally, so a project never shows 0 % while its items advance. No items → 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Part:
    progress: int
    weight: Decimal | None = None  # explicit weight, or None = share of the estimate
    estimate: Decimal = Decimal(0)


def effective_weights(parts: Sequence[Part]) -> list[Fraction]:
    total_all = sum((Fraction(p.estimate) for p in parts), Fraction(0))
    weights: list[Fraction] = []
    for p in parts:
        if p.weight is not None:
            weights.append(max(Fraction(p.weight), Fraction(0)))
        elif total_all > 0:
            weights.append(Fraction(p.estimate) * 100 / total_all)
        else:
            weights.append(Fraction(0))
    if sum(weights, Fraction(0)) == 0:
        return [Fraction(1)] * len(parts)
    return weights


def project_progress(parts: Sequence[Part]) -> Fraction:
    if not parts:
        return Fraction(0)
    weights = effective_weights(parts)
    total = sum(weights, Fraction(0))
    clamped = [min(max(int(p.progress), 0), 100) for p in parts]
    return sum((w * g for w, g in zip(weights, clamped, strict=True)), Fraction(0)) / total


def as_percent(value: Fraction) -> Decimal:
    """One decimal, half up: 66.666… → 66.7."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def weight_shares(parts: Sequence[Part]) -> list[Decimal]:
    """Each item's share of the project's progress, in percent (for the items table)."""
    if not parts:
        return []
    weights = effective_weights(parts)
    total = sum(weights, Fraction(0))
    return [as_percent(w * 100 / total) for w in weights]
