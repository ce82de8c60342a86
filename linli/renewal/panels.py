"""What other apps show on a renovation project's pages, declared in one place (like a Decidim
component's declaration), so that renewal never imports the apps built on it.

An app registers, in its AppConfig.ready(), a function ``panel(project, user) -> Panel | None``;
``user`` is None on the public page, which must then carry no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Panel:
    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 50


PanelFn = Callable[[Any, Any], "Panel | None"]
_PANELS: list[PanelFn] = []


def register(fn: PanelFn) -> PanelFn:
    if fn not in _PANELS:
        _PANELS.append(fn)
    return fn


def panels_for(project: Any, user: object | None) -> list[Panel]:
    """The panels of ``project`` for ``user`` (the signed-in ``core.types.User``, opaque to this pure
    module; None on the public page), in their order."""
    out = [p for p in (fn(project, user) for fn in _PANELS) if p is not None]
    return sorted(out, key=lambda p: p.order)
