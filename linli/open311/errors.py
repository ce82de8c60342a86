"""The refusal of an Open311 request, as GeoReport v2 answers it (pure: no Django).

The standard answers every refusal with a list of errors and one HTTP status: 404 for an unknown
resource (a format, a service code, a request id, a jurisdiction), 403 for a missing or bad
``api_key``, 400 for anything else. Each error carries a Chinese and an English description,
rendered ``"<zh> / <en>"`` (``render.errors``).
"""

from __future__ import annotations

from linli.core.errors import LinliError


class Open311Error(Exception):
    """A refused request: HTTP ``status`` (404 unknown resource, 403 api key, 400 anything else)
    and one or more (Chinese, English) descriptions."""

    def __init__(self, status: int, *texts: tuple[str, str]) -> None:
        super().__init__(texts[0][1] if texts else str(status))
        self.status = status
        self.texts = list(texts)

    @classmethod
    def of(cls, error: LinliError) -> Open311Error:
        """A product refusal (e.g. ``governance.services.events.report``'s) in the standard's terms:
        its 403 and 404 kept, every other status a 400."""
        status = error.status if error.status in (403, 404) else 400
        return cls(status, *[(p.zh, p.en) for p in error.problems])

    def items(self) -> list[tuple[int, str]]:
        """(status, "zh / en") per description, for ``render.errors``."""
        return [(self.status, f"{zh} / {en}") for zh, en in self.texts]
