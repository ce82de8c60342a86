"""Jobs URLs: employment targets (issue 14 §7): the page, its forms and the .xlsx export."""

from django.urls import URLPattern, path

from linli.jobs.views import targets as v

urlpatterns: list[URLPattern] = [
    path("targets/", v.targets, name="targets"),
    path("targets/set/", v.set_target, name="targets_set"),
    path("targets/entries/", v.add_entry, name="targets_entry_add"),
    path("targets/entries/<linli_id:pk>/withdraw/", v.withdraw_entry, name="targets_entry_withdraw"),
    path("targets/export/", v.export, name="targets_export"),
]
