"""Ballot pages (namespace ``consult``; names prefixed ``ballot_``)."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import ballots as v

urlpatterns = [
    path("ballots/", v.ballot_mine, name="ballot_mine"),
    path("ballots/compound/<linli_id:pk>/", v.ballot_list, name="ballot_list"),
    path("ballots/compound/<linli_id:pk>/new/", v.ballot_new, name="ballot_new"),
    path("ballots/<linli_id:pk>/", v.ballot_detail, name="ballot_detail"),
    path("ballots/<linli_id:pk>/vote/", v.ballot_vote, name="ballot_vote"),
    path("ballots/<linli_id:pk>/enter/", v.ballot_enter, name="ballot_enter"),
    path("ballots/<linli_id:pk>/open/", v.ballot_open, name="ballot_open"),
    path("ballots/<linli_id:pk>/close/", v.ballot_close, name="ballot_close"),
    path("ballots/<linli_id:pk>/withdraw/", v.ballot_withdraw, name="ballot_withdraw"),
    path("ballots/<linli_id:pk>/lift/", v.ballot_lift, name="ballot_lift"),
    path("ballots/<linli_id:pk>/export.xlsx", v.ballot_export, name="ballot_export"),
]
