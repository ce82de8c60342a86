from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Filled in by the renewal pages work (issue 3)."""
