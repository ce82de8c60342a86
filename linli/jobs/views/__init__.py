"""Pages of the jobs app."""

from linli.jobs.views import (
    applications,
    employers,
    enterprise,
    home,
    kiosk,
    nearby,
    postings,
    seekers,
    talent,
    targets,
)

__all__ = [
    "applications",
    "employers",
    "enterprise",
    "home",
    "kiosk",
    "nearby",
    "postings",
    "seekers",
    "talent",
    "targets",
]
