"""Jobs URLs: applications (apply, a seeker's own, a posting's applicants, one application, its steps)."""

from django.urls import URLPattern, path

from linli.jobs.views import applications as v

urlpatterns: list[URLPattern] = [
    path("postings/<linli_id:pk>/apply/", v.apply, name="apply"),
    path("postings/<linli_id:pk>/applicants/", v.applicants, name="posting_applicants"),
    path("applications/", v.mine, name="application_mine"),
    path("applications/<linli_id:pk>/", v.detail, name="application_detail"),
    path("applications/<linli_id:pk>/act/", v.act, name="application_act"),
]
