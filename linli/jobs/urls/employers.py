"""Jobs URLs: employers — registration, the staff queue, one employer and its actions."""

from django.urls import URLPattern, path

from linli.jobs.views import employers as v

urlpatterns: list[URLPattern] = [
    path("employers/", v.employer_list, name="employer_list"),
    path("employers/new/", v.register, name="employer_register"),
    path("employers/<linli_id:pk>/", v.employer_detail, name="employer_detail"),
    path("employers/<linli_id:pk>/act/", v.employer_act, name="employer_act"),
]
