"""axe-core in the browser tests: its serious and critical findings on the page as it is now.

``make browser`` fetches a pinned version of axe-core from the npm registry, checked against its
sha256, into ``build/axe-core/``; ``findings(page)`` injects it with ``page.evaluate`` — through the
debugging protocol, outside the page's Content-Security-Policy (``tests/browser.py``) — and runs it
on the whole document. Each finding names its rule, its impact and the first elements it concerns.
The crawls of ``tests/core/test_axe_browser.py`` (desktop) and ``tests/core/test_phone_width_browser.py``
(390 px: one visit of each page measures its width and runs axe) use it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE_VERSION = re.search(r"^AXE_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
AXE = ROOT / "build" / "axe-core" / f"axe-{MAKEFILE_VERSION.group(1) if MAKEFILE_VERSION else '?'}.min.js"
NO_AXE = f"{AXE} is missing: run `make browser` (it fetches axe-core into build/axe-core/)"

RUN = """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => ['serious', 'critical'].includes(v.impact))
  .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""

_SOURCE: list[str] = []  # axe.min.js, read once


def findings(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        if not _SOURCE:
            _SOURCE.append(AXE.read_text(encoding="utf-8"))
        page.evaluate(_SOURCE[0])
    return page.evaluate(RUN)
