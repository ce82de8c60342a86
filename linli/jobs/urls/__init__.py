"""URLs of the jobs app: each topic module's patterns, concatenated under one namespace (``jobs``).

The kiosk has a root of its own, ``/kiosk/`` (``urls/kiosk.py``, namespace ``kiosk``).
"""

from linli.jobs.urls import applications, employers, enterprise, home, nearby, postings, seekers, talent, targets

app_name = "jobs"

urlpatterns = [
    *home.urlpatterns,
    *seekers.urlpatterns,
    *employers.urlpatterns,
    *postings.urlpatterns,
    *applications.urlpatterns,
    *nearby.urlpatterns,
    *talent.urlpatterns,
    *enterprise.urlpatterns,
    *targets.urlpatterns,
]
