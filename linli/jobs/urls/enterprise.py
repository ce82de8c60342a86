"""Jobs URLs: key-enterprise services (issue 14 §6): the queue and an enterprise's requests, filing,
one request with the staff's steps and the enterprise's rating, the key enterprises and their officers."""

from django.urls import URLPattern, path

from linli.jobs.views import enterprise as v

urlpatterns: list[URLPattern] = [
    path("services/", v.service_list, name="service_list"),
    path("services/<linli_id:pk>/", v.service_detail, name="service_detail"),
    path("services/<linli_id:pk>/act/", v.service_act, name="service_act"),
    path("services/<linli_id:pk>/rate/", v.service_rate, name="service_rate"),
    path("employers/<linli_id:pk>/services/new/", v.service_new, name="service_new"),
    path("enterprises/", v.enterprise_list, name="enterprise_list"),
    path("enterprises/<linli_id:pk>/set/", v.enterprise_set, name="enterprise_set"),
]
