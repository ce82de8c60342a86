"""Jobs URLs: postings — new (under its employer), one posting, edit, publish / close / reopen."""

from django.urls import URLPattern, path

from linli.jobs.views import postings as v

urlpatterns: list[URLPattern] = [
    path("employers/<linli_id:pk>/postings/new/", v.posting_new, name="posting_new"),
    path("postings/<linli_id:pk>/", v.posting_detail, name="posting_detail"),
    path("postings/<linli_id:pk>/edit/", v.posting_edit, name="posting_edit"),
    path("postings/<linli_id:pk>/act/", v.posting_act, name="posting_act"),
]
