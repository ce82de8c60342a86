"""The sensing API: the batch intake of readings (per device or gateway token) and reads."""

from linli.core.api import Router


def register(router: Router) -> None:
    """Add the sensing viewsets to the one router of /api/v1/."""
