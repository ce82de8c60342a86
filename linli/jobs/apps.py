from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "linli.jobs"
    verbose_name = _("Nearby employment (就近帮)")

    def ready(self) -> None:
        # The matching indexes of live postings and findable seekers are kept in process memory
        # (queries/matching.py): a change to a posting, a seeker or an employer tells every process to
        # rebuild (linli/core/generations.py). Bulk writes send no signal: their callers bump.
        from linli.core import generations
        from linli.jobs.models import Employer, Posting, Seeker

        generations.bump_on_change(Posting, "jobs-postings")
        generations.bump_on_change(Employer, "jobs-postings")
        generations.bump_on_change(Seeker, "jobs-seekers")
        # skills (M2M) and vocabulary edits reach the indexes too
        from linli.jobs.queries import matching

        matching.connect_signals()
