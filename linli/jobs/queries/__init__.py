"""Every read of the jobs app that pages and tasks share."""

from linli.jobs.queries import applications, employers, enterprise, matching, postings, seekers, targets

__all__ = ["applications", "employers", "enterprise", "matching", "postings", "seekers", "targets"]
