"""Every write of the jobs app."""

from linli.jobs.services import applications, employers, enterprise, kiosk, postings, seekers, targets, vocabulary

__all__ = ["applications", "employers", "enterprise", "kiosk", "postings", "seekers", "targets", "vocabulary"]
