"""Every read of the jobs app that pages and tasks share."""

from linli.jobs.queries import applications, employers, enterprise, kiosk, matching, postings, seekers, targets

__all__ = ["applications", "employers", "enterprise", "kiosk", "matching", "postings", "seekers", "targets"]
