"""/open311/v2/…: GeoReport v2 resources, each with a format suffix (.xml or .json)."""

from django.urls import re_path

from linli.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>[^./]+)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/(?P<code>[^/]+?)" + FMT, views.service_definition, name="service_definition"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]+?)" + FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FMT, views.token, name="token"),
    # anything else under /open311/v2/ is answered in the standard's error format, not as a page
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
